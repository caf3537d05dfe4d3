"""Bind dimensions and check values against specs, in one scope per call, exhaustively (no sampling)."""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import torch

from ._errors import ShapeContractError
from ._hints import hint_for
from ._messages import Violation, describe_value, render
from ._spec import (
    ANON,
    ANON_VARIADIC,
    EXPR,
    FIXED,
    NAMED,
    Dim,
    OtherSpec,
    SeqSpec,
    Spec,
    TensorSpec,
    TupleSpec,
    eval_dim,
)

__all__ = ["Constraint", "Rule", "Scope", "check_value", "dtype_name"]

_DTYPE_NAMES: dict[torch.dtype, str] = {}


def dtype_name(dtype: torch.dtype) -> str:
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = str(dtype).rsplit(".", 1)[-1]
    return name


@dataclass(frozen=True)
class Rule:
    """A dimension that follows from others: ``target = compute(values)``.

    ``formula`` is shown to people (``(S - 400)//320 + 1``) and ``basis`` names the config fields
    behind it. When the target is bound by a tensor before its inputs are known, the rule is
    checked once they are.
    """

    target: str
    deps: tuple[str, ...]
    compute: Callable[[Mapping[str, Any]], int]
    formula: str
    basis: str = ""

    def source(self, values: Mapping[str, Any]) -> str:
        deps = ", ".join(f"{d}={values[d]}" for d in self.deps)
        basis = f"; {self.basis}" if self.basis else ""
        return f"{self.target} = {self.formula} with {deps}{basis}"


@dataclass(frozen=True)
class Constraint:
    """A condition on bound dimensions that a shape alone does not express (``N <= 510``)."""

    deps: tuple[str, ...]
    holds: Callable[[Mapping[str, Any]], bool]
    expected: str
    field: str
    hint: str | None = None
    error: type[Exception] = ShapeContractError
    problem: str = "constraint"
    actual: str | None = None


def _axis_source(src: object) -> str:
    if isinstance(src, tuple):
        field, axis = src
        return f"{field}, axis {axis}"
    return str(src)


class Scope:
    """The dimension bindings of one call, with where each came from."""

    __slots__ = ("context", "declared", "function", "pending", "rules", "sources", "values")

    def __init__(
        self,
        function: str,
        declared: str | None = None,
        rules: Mapping[str, Rule] | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        self.values: dict[str, Any] = {}
        self.sources: dict[str, object] = {}
        self.rules = rules
        self.pending: list[tuple[Dim, int, str, int, object, str | None]] | None = None
        self.function = function
        self.declared = declared
        self.context = context

    # -- binding -----------------------------------------------------------------------------
    def bind(self, name: str, value: Any, source: object) -> None:
        self.values[name] = value
        self.sources[name] = source

    def source_text(self, name: str) -> str:
        return _axis_source(self.sources.get(name, "?"))

    def bindings(self) -> dict[str, tuple[Any, str]]:
        return {k: (v, self.source_text(k)) for k, v in self.values.items()}

    def derive(self, name: str) -> int | None:
        """Bind ``name`` from its rule if every input of the rule is bound."""
        rules = self.rules
        if rules is None:
            return None
        rule = rules.get(name)
        if rule is None:
            return None
        for dep in rule.deps:
            if dep not in self.values and (dep == name or self.derive(dep) is None):
                return None
        value = int(rule.compute(self.values))
        self.bind(name, value, rule.source(self.values))
        return value

    # -- failing -----------------------------------------------------------------------------
    def fail(
        self,
        field: str,
        problem: str,
        expected: str,
        actual: str,
        *,
        contract: str | None = None,
        value: object = None,
        has_value: bool = False,
        dimension: str | None = None,
        bound_by: str | None = None,
        hint: str | None = None,
        error: type[Exception] = ShapeContractError,
    ) -> NoReturn:
        __tracebackhide__ = True
        violation = Violation(
            function=self.function,
            field=field,
            problem=problem,
            expected=expected,
            actual=actual,
            contract=contract,
            value=describe_value(value) if has_value else None,
            dimension=dimension,
            bound_by=bound_by,
            declared=self.declared,
            bindings=self.bindings(),
            hint=hint,
        )
        if violation.hint is None:
            found = hint_for(violation, self.values, self.context)
            if found is not None:
                violation = Violation(**{**violation.__dict__, "hint": found})
        if error is ShapeContractError:
            raise ShapeContractError(render(violation), violation)
        raise error(render(violation))

    # -- the end of a phase ------------------------------------------------------------------
    def settle(self, final: bool = True) -> None:
        """Check deferred expressions and every rule whose inputs are now all bound.

        With ``final=False`` (between the arguments and the return value) expressions whose names
        are still unbound stay deferred.
        """
        __tracebackhide__ = True
        pending, self.pending = self.pending, None
        if pending:
            for dim, size, field, axis, value, label in pending:
                _check_expr(self, dim, size, field, axis, value, final=final, contract=label)
        if self.rules:
            for rule in self.rules.values():
                values = self.values
                if rule.target in values and all(d in values for d in rule.deps):
                    expected = int(rule.compute(values))
                    actual = values[rule.target]
                    if expected != actual:
                        src = self.sources.get(rule.target)
                        self.fail(
                            src[0] if isinstance(src, tuple) else self.source_text(rule.target),
                            "dimension",
                            f"{expected} (from {rule.source(values)})",
                            str(actual),
                            dimension=rule.target,
                            bound_by=self.source_text(rule.target),
                        )

    def check_constraints(self, constraints: Sequence[Constraint]) -> None:
        __tracebackhide__ = True
        for c in constraints:
            # a derived dimension (audio Tx from S) is bound from its rule first, else it is never checked
            if all(d in self.values or self.derive(d) is not None for d in c.deps) and not c.holds(self.values):
                actual = c.actual or ", ".join(f"{d}={self.values[d]}" for d in c.deps)
                if len(c.deps) == 1:
                    bound_by: str | None = self.source_text(c.deps[0])
                else:
                    bound_by = "; ".join(f"{d}: {self.source_text(d)}" for d in c.deps) or None
                self.fail(
                    c.field,
                    c.problem,
                    c.expected,
                    actual,
                    dimension=", ".join(c.deps) or None,
                    bound_by=bound_by,
                    hint=c.hint,
                    error=c.error,
                )


def _check_expr(
    scope: Scope, dim: Dim, size: int, field: str, axis: int, value: object, final: bool = False,
    contract: str | None = None,
) -> None:
    __tracebackhide__ = True
    values = scope.values
    missing = [n for n in dim.names if n not in values and scope.derive(n) is None]
    if missing:
        if final:
            return  # never bound anywhere: nothing can contradict it
        if scope.pending is None:
            scope.pending = []
        scope.pending.append((dim, size, field, axis, value, contract))
        return
    assert dim.code is not None
    expected = eval_dim(dim.code, values)
    if size != expected and not (dim.broadcast and size == 1):
        used = ", ".join(f"{n}={values[n]}" for n in dim.names)
        scope.fail(
            field,
            "dimension",
            f"{expected} (= {dim.name} with {used})",
            str(size),
            contract=contract,
            value=value,
            has_value=True,
            dimension=dim.name,
            bound_by="; ".join(f"{n}: {scope.source_text(n)}" for n in dim.names),
        )


def _check_dim(scope: Scope, dim: Dim, size: int, field: str, axis: int, spec: TensorSpec, value: object) -> None:
    __tracebackhide__ = True
    kind = dim.kind
    if kind == NAMED:
        bound = scope.values.get(dim.name)
        if bound is None:
            bound = scope.derive(dim.name)
            if bound is None:
                if not (dim.broadcast and size == 1):
                    scope.values[dim.name] = size
                    scope.sources[dim.name] = (field, axis)
                return
        if bound != size and not (dim.broadcast and size == 1):
            scope.fail(
                field,
                "dimension",
                str(bound),
                str(size),
                contract=spec.label,
                value=value,
                has_value=True,
                dimension=dim.name,
                bound_by=scope.source_text(dim.name),
            )
    elif kind == FIXED:
        if size != dim.size and not (dim.broadcast and size == 1):
            scope.fail(
                field,
                "dimension",
                str(dim.size),
                str(size),
                contract=spec.label,
                value=value,
                has_value=True,
                dimension=f"axis {axis}",
                bound_by="the contract (a fixed size)",
            )
    elif kind == EXPR:
        _check_expr(scope, dim, size, field, axis, value, contract=spec.label)


def _check_variadic(
    scope: Scope, dim: Dim, sizes: tuple[int, ...], field: str, spec: TensorSpec, value: object
) -> None:
    __tracebackhide__ = True
    if dim.kind == ANON_VARIADIC:
        return
    bound = scope.values.get(dim.name)
    if bound is None:
        scope.values[dim.name] = sizes
        scope.sources[dim.name] = (field, "group")
        return
    ok = len(bound) == len(sizes) and all(
        b == s or (dim.broadcast and (s == 1 or b == 1)) for b, s in zip(bound, sizes)
    )
    if not ok:
        scope.fail(
            field,
            "dimension",
            str(bound),
            str(sizes),
            contract=spec.label,
            value=value,
            has_value=True,
            dimension=f"*{dim.name}",
            bound_by=scope.source_text(dim.name),
        )


def check_tensor(scope: Scope, spec: TensorSpec, value: Any, field: str) -> None:
    """Check one tensor against its spec, binding its named dimensions in ``scope``."""
    __tracebackhide__ = True
    if not isinstance(value, spec.array_type):
        if value is None and spec.optional:
            return
        scope.fail(
            field,
            "type",
            f"a {spec.array_type.__name__}",
            describe_value(value),
            contract=spec.label,
        )
    value = typing.cast(torch.Tensor, value)
    dtypes = spec.dtypes
    if dtypes is not None and dtype_name(value.dtype) not in dtypes:
        scope.fail(
            field,
            "dtype",
            _dtype_family(spec),
            dtype_name(value.dtype),
            contract=spec.label,
            value=value,
            has_value=True,
        )
    shape = value.shape
    dims = spec.dims
    rank = len(shape)
    var = spec.variadic
    if var < 0:
        if rank != len(dims):
            scope.fail(
                field,
                "rank",
                f"{len(dims)} dims ({' '.join(d.text() for d in dims) or 'a scalar'})",
                f"{rank} dims {tuple(shape)}",
                contract=spec.label,
                value=value,
                has_value=True,
            )
        for axis in range(rank):
            d = dims[axis]
            if d.kind != ANON:
                _check_dim(scope, d, shape[axis], field, axis, spec, value)
        return
    fixed = len(dims) - 1
    if rank < fixed:
        scope.fail(
            field,
            "rank",
            f"at least {fixed} dims ({' '.join(d.text() for d in dims)})",
            f"{rank} dims {tuple(shape)}",
            contract=spec.label,
            value=value,
            has_value=True,
        )
    after = fixed - var
    for axis in range(var):
        d = dims[axis]
        if d.kind != ANON:
            _check_dim(scope, d, shape[axis], field, axis, spec, value)
    _check_variadic(scope, dims[var], tuple(shape[var : rank - after]), field, spec, value)
    for k in range(after):
        d = dims[var + 1 + k]
        axis = rank - after + k
        if d.kind != ANON:
            _check_dim(scope, d, shape[axis], field, axis, spec, value)


def _dtype_family(spec: TensorSpec) -> str:
    head = spec.label.split("[", 1)[0]
    return f"{head} ({', '.join(sorted(spec.dtypes or ()))})" if len(spec.dtypes or ()) <= 4 else head


def check_value(scope: Scope, spec: Spec, value: Any, field: str) -> None:
    """Check any spec; sequences are checked element by element, every element."""
    __tracebackhide__ = True
    if type(spec) is TensorSpec:
        check_tensor(scope, spec, value, field)
        return
    if value is None and spec.optional:
        return
    if type(spec) is TupleSpec:
        if not isinstance(value, tuple) or len(value) != len(spec.items):
            scope.fail(field, "type", f"a tuple of {len(spec.items)}", describe_value(value), contract=spec.label)
        for i, (item_spec, item) in enumerate(zip(spec.items, value)):
            check_value(scope, item_spec, item, f"{field}[{i}]")
        return
    if type(spec) is SeqSpec:
        ok = isinstance(value, spec.container) if spec.container is not object else isinstance(value, (list, tuple))
        if not ok:
            scope.fail(field, "type", f"a {spec.label}", describe_value(value), contract=spec.label)
        for i, item in enumerate(value):
            check_value(scope, spec.item, item, f"{field}[{i}]")
        return
    assert type(spec) is OtherSpec
    from beartype.door import is_bearable

    if not is_bearable(value, spec.hint):
        scope.fail(field, "type", spec.label, describe_value(value), contract=spec.label)
