"""The contract side of a proof: every dimension, output axis and constraint at a point, its symbolic form, and the
ranges where the constraints hold. The plan (a model's, or the pipeline's ``@contract``) is the only source: its
config bindings and its rules, each one size expression evaluated, printed and turned into sympy.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sympy  # type: ignore[import-untyped]

from ..checker import Constraint, Dim, DimKind, Scope
from ._report import Finding, FindingKind
from ._targets import Subject

__all__ = ["BUDGET", "ContractSide", "Narrowing", "narrow"]

BUDGET = 200_000


@dataclass(frozen=True)
class Narrowing:
    """A constraint that narrowed the range of one input dimension to ``lo..hi``."""

    name: str
    lo: int
    hi: int
    constraint: Constraint

    @property
    def reason(self) -> str:
        c = self.constraint
        return c.expected + (f": {c.hint}" if c.hint else ".")


class ContractSide:
    """Evaluates the contract at a point: every dimension, every output axis, every constraint."""

    def __init__(self, subject: Subject, model: Any, ranges: Mapping[str, tuple[int, int]]) -> None:
        self.subject = subject
        self.model = model
        self.ranges = dict(ranges)
        self.base = subject.scope({}, model)
        self.rules = dict(self.base.rules or {})

    def scope(self, point: Mapping[str, int]) -> Scope:
        base = self.base
        scope = Scope(base.function, base.declared, base.rules, base.context, base.hints, base.values, base.sources)
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
        if dim.kind is DimKind.FIXED:
            return dim.size
        if dim.kind is DimKind.NAMED:
            value = scope.values.get(dim.name)
            if value is None:
                value = scope.derive(dim.name)
            return None if value is None else int(value)
        if dim.kind is DimKind.EXPR:
            assert dim.expr is not None
            for n in dim.names:
                if n not in scope.values and scope.derive(n) is None:
                    return None
            return int(dim.expr.evaluate(scope.values))
        return None

    def dim_inputs(self, dim: Dim) -> set[str]:
        names = (dim.name,) if dim.kind is DimKind.NAMED else dim.names if dim.kind is DimKind.EXPR else ()
        found: set[str] = set()
        for n in names:
            found |= self.inputs_of(n)
        return found

    def free(self, dim: Dim) -> bool:
        """A dimension the contract does not determine from the inputs and the config."""
        if dim.kind is DimKind.NAMED:
            return dim.name not in self.base.values and dim.name not in self.ranges and not self._derivable(dim.name)
        if dim.kind is DimKind.EXPR:
            return any(n not in self.base.values and n not in self.ranges and not self._derivable(n) for n in dim.names)
        return dim.kind is not DimKind.FIXED

    def _derivable(self, name: str, seen: frozenset[str] = frozenset()) -> bool:
        rule = self.rules.get(name)
        if rule is None or name in seen:
            return False
        return all(d in self.ranges or d in self.base.values or self._derivable(d, seen | {name}) for d in rule.deps)

    def sympy_of(self, name: str, seen: frozenset[str] = frozenset()) -> sympy.Expr | None:
        """A dimension as sympy in the input sizes: a symbol, a config constant, or its rule's expression."""
        if name in self.ranges:
            return sympy.Symbol(name, integer=True)
        if name in self.base.values:
            return sympy.Integer(int(self.base.values[name]))
        rule = self.rules.get(name)
        if rule is None or name in seen:
            return None
        env = self._env(rule.deps, seen | {name})
        return None if env is None else rule.expr.sympy(env)

    def _env(self, names: tuple[str, ...], seen: frozenset[str] = frozenset()) -> dict[str, Any] | None:
        env = {}
        for n in names:
            sub = self.sympy_of(n, seen)
            if sub is None:
                return None
            env[n] = sub
        return env

    def dim_sympy(self, dim: Dim) -> sympy.Expr | None:
        if dim.kind is DimKind.FIXED:
            return sympy.Integer(dim.size)
        if dim.kind is DimKind.NAMED:
            return self.sympy_of(dim.name)
        if dim.kind is DimKind.EXPR:
            assert dim.expr is not None
            env = self._env(dim.names)
            return None if env is None else dim.expr.sympy(env)
        return None

    def describe(self, dim: Dim) -> str:
        if dim.kind is DimKind.FIXED:
            return str(dim.size)
        if dim.kind is DimKind.NAMED and dim.name in self.base.values:
            return f"{dim.name} = {self.base.values[dim.name]} ({self.base.source_text(dim.name)})"
        if dim.kind is DimKind.NAMED and dim.name in self.rules and dim.name not in self.ranges:
            return f"{dim.name} = {self.rules[dim.name].formula}"
        return dim.text()

    def holds(self, constraint: Constraint, point: Mapping[str, int]) -> bool:
        scope = self.scope(point)
        for dep in constraint.deps:
            if dep not in scope.values and scope.derive(dep) is None:
                return True
        return constraint.holds(scope.values)


def narrow(
    contract: ContractSide, constraints: list[Constraint], ranges: dict[str, tuple[int, int]], findings: list[Finding]
) -> tuple[dict[str, tuple[int, int]], set[str], dict[str, Narrowing]]:
    """Ranges where the contract's constraints hold; dimensions pinned to one value are specialised.

    Returns the valid ranges, the dimensions pinned to one value, and per input dimension the constraint that last
    narrowed its range (the guards and limits of the proof say so).
    """
    valid = dict(ranges)
    pinned: set[str] = set()
    narrowed: dict[str, Narrowing] = {}
    for c in constraints:
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
                text = f"no {n} in {lo}..{hi} satisfies the contract: {c.expected}"
                findings.append(Finding(FindingKind.ERROR, text))
                valid[n] = (lo, lo - 1)
                continue
            last = next(v for v in range(hi, first - 1, -1) if contract.holds(c, {n: v}))
            if (first, last) != (lo, hi):
                valid[n] = (first, last)
                narrowed[n] = Narrowing(n, first, last, c)
            continue
        if box > BUDGET:
            text = f"the constraint {c.expected} spans {box} sizes; not narrowed"
            findings.append(Finding(FindingKind.UNCOVERED, text))
            continue
        points = [
            dict(zip(inputs, vals, strict=False))
            for vals in itertools.product(*[range(valid[n][0], valid[n][1] + 1) for n in inputs])
        ]
        good = [p for p in points if contract.holds(c, p)]
        if not good:
            findings.append(Finding(FindingKind.ERROR, f"no sizes in the range satisfy the contract: {c.expected}"))
            for n in inputs:
                valid[n] = (valid[n][0], valid[n][0] - 1)
            continue
        for n in inputs:
            lo, hi = min(p[n] for p in good), max(p[n] for p in good)
            if (lo, hi) != valid[n]:
                valid[n] = (lo, hi)
                narrowed[n] = Narrowing(n, lo, hi, c)
                if lo == hi:
                    pinned.add(n)
        if len(good) == 1:
            findings.append(Finding(FindingKind.SPECIALISATION, c.expected + (f": {c.hint}" if c.hint else "")))
        elif len(good) != len(points):
            findings.append(Finding(FindingKind.LIMIT, f"{c.expected} (the proof covers only sizes that satisfy it)"))
    return valid, pinned, narrowed
