"""The contract side of a proof: every dimension, output axis and constraint at a point, and the ranges
where the constraints hold. The :class:`~data2vec_contracts.contracts.ModelContract` (or the pipeline's
``@contract``) is the only source: its rules and config bindings, evaluated through a ``Scope``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import sympy  # type: ignore[import-untyped]

from .._checking import Constraint, Scope
from .._errors import ShapeContractError
from .._spec import EXPR, FIXED, NAMED, Dim, eval_dim
from ._report import Finding
from ._symbolic import parse_formula
from ._targets import Subject

__all__ = ["BUDGET", "ContractSide", "narrow"]

BUDGET = 200_000


class ContractSide:
    """Evaluates the contract at a point: every dimension, every output axis, every constraint."""

    def __init__(self, subject: Subject, model: Any, ranges: Mapping[str, tuple[int, int]]) -> None:
        self.subject = subject
        self.model = model
        self.ranges = dict(ranges)
        self.base = subject.scope({}, model)
        self.rules = dict(self.base.rules or {})

    def scope(self, point: Mapping[str, int]) -> Scope:
        scope = Scope(self.base.function, self.base.declared, self.base.rules, self.base.context)
        scope.values.update(self.base.values)
        scope.sources.update(self.base.sources)
        for k, v in point.items():
            scope.bind(k, v, "the proof")
        return scope

    def inputs_of(self, name: str, seen: frozenset[str] = frozenset()) -> set[str]:
        if name in self.ranges:
            return {name}
        if name in self.base.values or name in seen:
            return set()
        rule = self.rules.get(name)
        if rule is None:
            return set()
        found: set[str] = set()
        for dep in rule.deps:
            found |= self.inputs_of(dep, seen | {name})
        return found

    def dim_value(self, dim: Dim, point: Mapping[str, int]) -> int | None:
        scope = self.scope(point)
        if dim.kind == FIXED:
            return dim.size
        if dim.kind == NAMED:
            value = scope.values.get(dim.name)
            return int(value) if value is not None else (None if (v := scope.derive(dim.name)) is None else int(v))
        if dim.kind == EXPR:
            for n in dim.names:
                if n not in scope.values and scope.derive(n) is None:
                    return None
            assert dim.code is not None
            return eval_dim(dim.code, scope.values)
        return None

    def dim_inputs(self, dim: Dim) -> set[str]:
        names = (dim.name,) if dim.kind == NAMED else dim.names if dim.kind == EXPR else ()
        found: set[str] = set()
        for n in names:
            found |= self.inputs_of(n)
        return found

    def free(self, dim: Dim) -> bool:
        """A dimension the contract does not determine from the inputs and the config."""
        if dim.kind == NAMED:
            return dim.name not in self.base.values and dim.name not in self.ranges and not self._derivable(dim.name)
        if dim.kind == EXPR:
            return any(n not in self.base.values and n not in self.ranges and not self._derivable(n) for n in dim.names)
        return dim.kind != FIXED

    def _derivable(self, name: str, seen: frozenset[str] = frozenset()) -> bool:
        rule = self.rules.get(name)
        if rule is None or name in seen:
            return False
        return all(d in self.ranges or d in self.base.values or self._derivable(d, seen | {name}) for d in rule.deps)

    def sympy_of(self, name: str, seen: frozenset[str] = frozenset()) -> sympy.Expr | None:
        if name in self.ranges:
            return sympy.Symbol(name, integer=True)
        if name in self.base.values:
            return sympy.Integer(int(self.base.values[name]))
        rule = self.rules.get(name)
        if rule is None or name in seen:
            return None
        env = {}
        for dep in rule.deps:
            sub = self.sympy_of(dep, seen | {name})
            if sub is None:
                return None
            env[dep] = sub
        return parse_formula(rule.formula, env)

    def dim_sympy(self, dim: Dim) -> sympy.Expr | None:
        if dim.kind == FIXED:
            return sympy.Integer(dim.size)
        if dim.kind == NAMED:
            return self.sympy_of(dim.name)
        if dim.kind == EXPR:
            env = {}
            for n in dim.names:
                sub = self.sympy_of(n)
                if sub is None:
                    return None
                env[n] = sub
            return parse_formula(dim.name, env)
        return None

    def describe(self, dim: Dim) -> str:
        if dim.kind == FIXED:
            return str(dim.size)
        if dim.kind == NAMED and dim.name in self.base.values:
            return f"{dim.name} = {self.base.values[dim.name]} ({self.base.source_text(dim.name)})"
        if dim.kind == NAMED and dim.name in self.rules and dim.name not in self.ranges:
            return f"{dim.name} = {self.rules[dim.name].formula}"
        return dim.text()

    def holds(self, constraint: Constraint, point: Mapping[str, int]) -> bool:
        scope = self.scope(point)
        for dep in constraint.deps:
            if dep not in scope.values and scope.derive(dep) is None:
                return True
        return bool(constraint.holds(scope.values))


def narrow(
    contract: ContractSide, constraints: list[Constraint], ranges: dict[str, tuple[int, int]], findings: list[Finding]
) -> tuple[dict[str, tuple[int, int]], set[str]]:
    """Ranges where the contract's constraints hold; dimensions pinned to one value are specialised."""
    valid = dict(ranges)
    pinned: set[str] = set()
    for c in constraints:
        if c.error is not ShapeContractError or "dtype" in c.expected:
            continue
        inputs = sorted(set().union(*(contract.inputs_of(d) for d in c.deps)) if c.deps else set())
        if not inputs:
            continue
        box = 1
        for n in inputs:
            box *= valid[n][1] - valid[n][0] + 1
        if len(inputs) == 1:
            (n,) = inputs
            lo, hi = valid[n]
            first = next((v for v in range(lo, hi + 1) if contract.holds(c, {n: v})), None)
            if first is None:
                findings.append(Finding("error", f"no {n} in {lo}..{hi} satisfies the contract: {c.expected}"))
                valid[n] = (lo, lo - 1)
                continue
            last = next(v for v in range(hi, first - 1, -1) if contract.holds(c, {n: v}))
            if (first, last) != (lo, hi):
                valid[n] = (first, last)
                text = c.expected + (f": {c.hint}" if c.hint else ".")
                findings.append(Finding("contract", f"{n} in {first}..{last}: {text}"))
            continue
        if box > BUDGET:
            findings.append(Finding("uncovered", f"the constraint {c.expected} spans {box} sizes; not narrowed"))
            continue
        points = [
            dict(zip(inputs, vals, strict=False))
            for vals in itertools.product(*[range(valid[n][0], valid[n][1] + 1) for n in inputs])
        ]
        good = [p for p in points if contract.holds(c, p)]
        if not good:
            findings.append(Finding("error", f"no sizes in the range satisfy the contract: {c.expected}"))
            for n in inputs:
                valid[n] = (valid[n][0], valid[n][0] - 1)
            continue
        for n in inputs:
            lo, hi = min(p[n] for p in good), max(p[n] for p in good)
            if (lo, hi) != valid[n]:
                valid[n] = (lo, hi)
                if lo == hi:
                    pinned.add(n)
        if len(good) == 1:
            findings.append(Finding("specialisation", c.expected + (f": {c.hint}" if c.hint else "")))
        elif len(good) != len(points):
            findings.append(Finding("limit", f"{c.expected} (the proof covers only sizes that satisfy it)"))
    return valid, pinned
