"""Check values against specs in one scope, exhaustively: every tensor, every element of every container."""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any

import torch

from ._messages import Problem, describe_value
from ._scope import Pending, Scope
from ._specs import (
    Dim,
    DimKind,
    MappingSpec,
    OtherSpec,
    SeqSpec,
    Spec,
    TensorSpec,
    TupleSpec,
    UnionSpec,
)

__all__ = ["check_tensor", "check_value", "dtype_name"]

_NAMED, _FIXED, _EXPR, _VARIADIC = DimKind.NAMED, DimKind.FIXED, DimKind.EXPR, DimKind.VARIADIC
_DTYPE_NAMES: dict[torch.dtype, str] = {}


def dtype_name(dtype: Any) -> str:
    """``float32`` for ``torch.float32``; for other array libraries the name jaxtyping gives (numpy: the scalar
    type's name)."""
    name = _DTYPE_NAMES.get(dtype) if isinstance(dtype, torch.dtype) else None
    if name is None:
        if isinstance(dtype, torch.dtype):
            name = _DTYPE_NAMES[dtype] = str(dtype).rsplit(".", 1)[-1]
        elif hasattr(dtype, "type") and hasattr(dtype.type, "__name__"):  # numpy, JAX
            name = str(dtype) if getattr(dtype, "names", None) else str(dtype.type.__name__)
        elif hasattr(dtype, "as_numpy_dtype"):  # TensorFlow
            name = str(dtype.as_numpy_dtype.__name__)
        else:
            name = dtype if isinstance(dtype, str) else repr(dtype).rsplit(".", 1)[-1]
    return name


def _dtype_ok(spec: TensorSpec, name: str) -> bool:
    dtypes = spec.dtypes
    if dtypes is not None and name in dtypes:
        return True
    return any(p.match(name) for p in spec.patterns)


def _check_dim(scope: Scope, d: Dim, size: int, field: str, axis: int, spec: TensorSpec, value: object) -> None:
    __tracebackhide__ = True
    kind = d.kind
    if kind is _NAMED:
        values = scope.values
        name = d.name
        bound = values.get(name)
        if bound is None:
            bound = scope.derive(name)
            if bound is None:
                if not (d.broadcast and size == 1):
                    values[name] = size
                    scope.sources[name] = (field, axis)
                return
        if bound != size and not (d.broadcast and size == 1):
            scope.fail_dimension(field, name, str(bound), size, scope.source_text(name), spec.label, value)
    elif kind is _FIXED:
        if size != d.size and not (d.broadcast and size == 1):
            scope.fail_dimension(
                field, f"axis {axis}", str(d.size), size, "the contract (a fixed size)", spec.label, value
            )
    elif kind is _EXPR:
        scope.check_expr(Pending(d, size, field, value, spec.label), final=False)


def _check_variadic(scope: Scope, d: Dim, sizes: tuple[int, ...], field: str, spec: TensorSpec, value: object) -> None:
    """A named group of axes, as jaxtyping binds it: equal to its first binding, or, where either is marked ``#``
    broadcastable, broadcast with it (``np.broadcast_shapes``); a broadcastable binding grows to the broadcast."""
    __tracebackhide__ = True
    if d.kind is not _VARIADIC:
        return
    name = d.name
    bound = scope.values.get(name)
    if bound is None:
        scope.values[name] = sizes
        scope.sources[name] = (field, "group")
        if d.broadcast:
            scope.broadcast_groups.add(name)
        return
    was_broadcast = name in scope.broadcast_groups
    if not (was_broadcast or d.broadcast):
        if tuple(bound) == sizes:
            return
        expected = str(tuple(bound))
    else:
        try:
            shape = tuple(torch.broadcast_shapes(tuple(sizes), tuple(bound)))  # type: ignore[no-untyped-call]
        except RuntimeError:
            shape = None
        if shape is not None and (was_broadcast or shape == tuple(bound)) and (d.broadcast or shape == sizes):
            if was_broadcast:
                scope.values[name] = shape
            return
        expected = f"a shape that broadcasts with {tuple(bound)}"
    scope.fail_dimension(field, f"*{name}", expected, sizes, scope.source_text(name), spec.label, value)  # type: ignore[arg-type]


def check_tensor(scope: Scope, spec: TensorSpec, value: Any, field: str) -> None:
    """Check one tensor against its spec, binding its named dimensions in ``scope``."""
    __tracebackhide__ = True
    array_type = spec.array_type
    if not (isinstance(value, array_type) if array_type is not Any else _array_like(value)):
        if value is None and spec.optional:
            return
        scope.fail(field, Problem.TYPE, f"a {_type_name(array_type)}", describe_value(value), contract=spec.label)
    value = typing.cast(torch.Tensor, value)
    if (spec.dtypes is not None or spec.patterns) and not _dtype_ok(spec, dtype_name(value.dtype)):
        scope.fail(
            field, Problem.DTYPE, _dtype_family(spec), dtype_name(value.dtype), contract=spec.label, value=value,
            has_value=True,
        )
    shape = value.shape
    dims = spec.dims
    rank = len(shape)
    var = spec.variadic
    if var < 0:
        if rank != len(dims):
            scope.fail(
                field, Problem.RANK, f"{len(dims)} dims ({' '.join(d.text() for d in dims) or 'a scalar'})",
                f"{rank} dims {tuple(shape)}", contract=spec.label, value=value, has_value=True,
            )
        values = scope.values
        rules = scope.rules
        for axis, d in spec.checks:
            size = shape[axis]
            if d.kind is _NAMED and not d.broadcast:  # the common case, inline: bind, or compare with the binding
                name = d.name
                bound = values.get(name)
                if bound is None and (rules is None or name not in rules):
                    values[name] = size
                    scope.sources[name] = (field, axis)
                    continue
                if bound == size:
                    continue
            _check_dim(scope, d, size, field, axis, spec, value)
        return
    fixed = len(dims) - 1
    if rank < fixed:
        scope.fail(
            field, Problem.RANK, f"at least {fixed} dims ({' '.join(d.text() for d in dims)})",
            f"{rank} dims {tuple(shape)}", contract=spec.label, value=value, has_value=True,
        )
    for axis, d in spec.checks:
        if axis >= 0:
            _check_dim(scope, d, shape[axis], field, axis, spec, value)
    after = fixed - var
    _check_variadic(scope, dims[var], tuple(shape[var : rank - after]), field, spec, value)
    for axis, d in spec.checks:
        if axis < 0:
            _check_dim(scope, d, shape[rank + axis], field, rank + axis, spec, value)


def _array_like(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype")


def _type_name(array_type: Any) -> str:
    if array_type is Any:
        return "array (anything with .shape and .dtype)"
    if isinstance(array_type, type):
        return array_type.__name__
    return " or ".join(a.__name__ for a in typing.get_args(array_type)) or repr(array_type)


def _dtype_family(spec: TensorSpec) -> str:
    head = spec.label.split("[", 1)[0]
    names = [*sorted(spec.dtypes or ()), *(p.pattern for p in spec.patterns)]
    return f"{head} ({', '.join(names)})" if names and len(names) <= 3 else head


def _is_bearable(value: Any, hint: Any) -> bool:
    from beartype.door import is_bearable

    return bool(is_bearable(value, hint))


def check_value(scope: Scope, spec: Spec, value: Any, field: str) -> None:
    """Check any spec; containers are checked element by element, every element."""
    __tracebackhide__ = True
    kind = type(spec)
    if kind is TensorSpec:
        check_tensor(scope, spec, value, field)  # type: ignore[arg-type]
        return
    if value is None and spec.optional:
        return
    if kind is TupleSpec:
        assert isinstance(spec, TupleSpec)
        if not isinstance(value, tuple) or len(value) != len(spec.items):
            scope.fail(field, Problem.TYPE, f"a tuple of {len(spec.items)}", describe_value(value), contract=spec.label)
        for i, (item_spec, item) in enumerate(zip(spec.items, value)):
            check_value(scope, item_spec, item, f"{field}[{i}]")
        return
    if kind is SeqSpec:
        assert isinstance(spec, SeqSpec)
        ok = isinstance(value, spec.container) if spec.container is not object else isinstance(value, (list, tuple))
        if not ok:
            scope.fail(field, Problem.TYPE, f"a {spec.label}", describe_value(value), contract=spec.label)
        for i, item in enumerate(value):
            check_value(scope, spec.item, item, f"{field}[{i}]")
        return
    if kind is MappingSpec:
        assert isinstance(spec, MappingSpec)
        if not isinstance(value, spec.container):
            scope.fail(field, Problem.TYPE, f"a {spec.label}", describe_value(value), contract=spec.label)
        value = typing.cast(Mapping[Any, Any], value)
        check_keys = spec.key is not Any and spec.key is not typing.Any
        for key, item in value.items():
            if check_keys and not _is_bearable(key, spec.key):
                scope.fail(f"{field} key {key!r}", Problem.TYPE, str(spec.key.__name__ if isinstance(spec.key, type)
                           else spec.key), describe_value(key), contract=spec.label)
            check_value(scope, spec.value, item, f"{field}[{key!r}]")
        return
    if kind is UnionSpec:
        assert isinstance(spec, UnionSpec)
        _check_union(scope, spec, value, field)
        return
    assert isinstance(spec, OtherSpec)
    if not _is_bearable(value, spec.hint):
        scope.fail(field, Problem.TYPE, spec.label, describe_value(value), contract=spec.label)


def _check_union(scope: Scope, spec: UnionSpec, value: Any, field: str) -> None:
    """The first option that matches wins, with its bindings; the bindings of options that failed are rolled back.

    When no option matches, the error of the option the value came closest to is the message (its type, then its dtype,
    then its rank matched: it says which dimension broke); when options tie with different problems, the type error
    lists the options.
    """
    __tracebackhide__ = True
    from ._errors import ShapeContractError

    errors: list[tuple[int, ShapeContractError]] = []
    for option in spec.options:
        state = scope.snapshot()
        try:
            check_value(scope, option, value, field)
            return
        except ShapeContractError as error:
            scope.restore(state)
            v = error.violation
            stage = 3 if v is None or v.field != field else _STAGE.get(v.problem, 3)
            errors.append((stage, error))
    best = max(stage for stage, _ in errors)
    closest = [e for stage, e in errors if stage == best]
    if len({getattr(e.violation, "problem", None) for e in closest}) == 1:
        raise closest[0]
    scope.fail(field, Problem.TYPE, spec.label, describe_value(value), contract=spec.label)


#: how far a tensor's check got before it failed: its type, its dtype, its rank, then its dimensions
_STAGE = {Problem.TYPE: 0, Problem.DTYPE: 1, Problem.RANK: 2}
