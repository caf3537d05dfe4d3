"""Check values against specs in one scope, exhaustively: every tensor, every element of every container."""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any

import torch

from ._messages import Problem, describe_value, show
from ._scope import Mismatch, Pending, Scope
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
from ._trace import tracing

__all__ = ["check_tensor", "check_value", "dtype_name"]

# the kinds as the plain ints of Dim.code: traced code compares ints, never enum members reached from a plan
_NAMED, _FIXED, _EXPR, _VARIADIC = int(DimKind.NAMED), int(DimKind.FIXED), int(DimKind.EXPR), int(DimKind.VARIADIC)
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
    kind = d.code
    if kind == _NAMED:
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
            scope.fail_dimension(field, name, show(bound), size, scope.source_text(name), spec.label, value)
    elif kind == _FIXED:
        if size != d.size and not (d.broadcast and size == 1):
            scope.fail_dimension(
                field, f"axis {axis}", show(d.size), size, "the contract (a fixed size)", spec.label, value
            )
    elif kind == _EXPR:
        scope.check_expr(Pending(d, size, field, value, spec.label), final=False)


def _check_variadic(scope: Scope, d: Dim, sizes: tuple[int, ...], field: str, spec: TensorSpec, value: object) -> None:
    """A named group of axes, as jaxtyping binds it: equal to its first binding, or, where either is marked ``#``
    broadcastable, broadcast with it (``np.broadcast_shapes``); a broadcastable binding grows to the broadcast."""
    __tracebackhide__ = True
    if d.code != _VARIADIC:
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
        expected = show(tuple(bound))
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
    if not (isinstance(value, torch.Tensor) if spec.tensor_type else _is_array(value, spec.array_type)):
        if value is None and spec.optional:
            return
        scope.fail(field, Problem.TYPE, f"a {_type_name(spec.array_type)}", describe_value(value), contract=spec.label)
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
                f"{rank} dims {show(tuple(shape))}", contract=spec.label, value=value, has_value=True,
            )
        values = scope.values
        rules = scope.rules
        for axis, d in spec.checks:
            size = shape[axis]
            if d.code == _NAMED and not d.broadcast:  # the common case, inline: bind, or compare with the binding
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
            f"{rank} dims {show(tuple(shape))}", contract=spec.label, value=value, has_value=True,
        )
    for axis, d in spec.checks:
        if axis >= 0:
            _check_dim(scope, d, shape[axis], field, axis, spec, value)
    after = fixed - var
    _check_variadic(scope, dims[var], tuple(shape[var : rank - after]), field, spec, value)
    for axis, d in spec.checks:
        if axis < 0:
            _check_dim(scope, d, shape[rank + axis], field, rank + axis, spec, value)


def _is_array(value: Any, array_type: Any) -> bool:
    if array_type is Any:  # jaxtyping's Float[Any, ...]: anything with a shape and a dtype
        return hasattr(value, "shape") and hasattr(value, "dtype")
    return isinstance(value, array_type)


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
    kind = spec.form
    if kind == "tensor":
        check_tensor(scope, spec, value, field)  # type: ignore[arg-type]
        return
    if value is None and spec.optional:
        return
    if kind == "tuple":
        assert isinstance(spec, TupleSpec)
        if not isinstance(value, tuple) or len(value) != len(spec.items):
            scope.fail(field, Problem.TYPE, f"a tuple of {len(spec.items)}", describe_value(value), contract=spec.label)
        for i, (item_spec, item) in enumerate(zip(spec.items, value)):
            check_value(scope, item_spec, item, f"{field}[{i}]")
        return
    if kind == "sequence":
        assert isinstance(spec, SeqSpec)
        ok = isinstance(value, spec.container) if spec.container is not object else isinstance(value, (list, tuple))
        if not ok:
            scope.fail(field, Problem.TYPE, f"a {spec.label}", describe_value(value), contract=spec.label)
        for i, item in enumerate(value):
            check_value(scope, spec.item, item, f"{field}[{i}]")
        return
    if kind == "mapping":
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
    if kind == "union":
        assert isinstance(spec, UnionSpec)
        _check_union(scope, spec, value, field)
        return
    assert isinstance(spec, OtherSpec)
    if tracing():  # beartype cannot be traced; what is not an array is checked in eager calls only
        return
    if not _is_bearable(value, spec.hint):
        scope.fail(field, Problem.TYPE, spec.label, describe_value(value), contract=spec.label)


def _check_union(scope: Scope, spec: UnionSpec, value: Any, field: str) -> None:
    """The first option that matches wins, with its bindings; the bindings of options that failed are rolled back.

    Options are tried without building messages. When none matches, the option the value came closest to (its type,
    then its dtype, then its rank matched) is checked once more for its real message (it says which dimension
    broke); when options tie with different problems, the type error lists the options.
    """
    __tracebackhide__ = True
    tried: list[tuple[int, Problem, Spec]] = []
    for option in spec.options:
        state = scope.snapshot()
        scope.trial += 1
        try:
            check_value(scope, option, value, field)
            return
        except Mismatch as miss:
            problem, where = miss.args
            tried.append((3 if where != field else _STAGE.get(problem, 3), problem, option))
        finally:
            scope.trial -= 1
        scope.restore(state)
    best = max(stage for stage, _, _ in tried)
    closest = [(problem, option) for stage, problem, option in tried if stage == best]
    if len({problem for problem, _ in closest}) == 1:
        check_value(scope, closest[0][1], value, field)  # raises, with the message of that option
    scope.fail(field, Problem.TYPE, spec.label, describe_value(value), contract=spec.label)


#: how far a tensor's check got before it failed: its type, its dtype, its rank, then its dimensions
_STAGE = {Problem.TYPE: 0, Problem.DTYPE: 1, Problem.RANK: 2}
