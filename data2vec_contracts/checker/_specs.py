"""Turn jaxtyping annotations into the specs the checker runs on, once per annotation.

The dimension grammar is jaxtyping's own (we read the dims jaxtyping already parsed), so a contract means exactly what
it means to jaxtyping: ``B`` named, ``768`` fixed, ``1+h*w`` an expression, ``_`` anonymous, ``*batch`` / ``...``
variadic, ``#B`` broadcastable. Containers of arrays (tuples, lists, dicts, unions, optionals) become container specs
whose every element is checked in the call's one dimension scope; any other hint is left to beartype.
"""

from __future__ import annotations

import collections.abc
import re
import types
import typing
from dataclasses import dataclass, field
from enum import IntEnum
from functools import lru_cache
from typing import Any, ClassVar, Union

from jaxtyping import AbstractArray

from ._errors import ContractDefinitionError
from ._expr import Expr, parse_expr

__all__ = [
    "Dim",
    "DimKind",
    "MappingSpec",
    "OtherSpec",
    "SeqSpec",
    "Spec",
    "TensorSpec",
    "TupleSpec",
    "UnionSpec",
    "argument_symbol",
    "contains_array",
    "parse_hint",
    "tensor_spec",
]


class DimKind(IntEnum):
    NAMED = 0
    FIXED = 1
    EXPR = 2
    ANON = 3
    VARIADIC = 4
    ANON_VARIADIC = 5


@dataclass(frozen=True, slots=True)
class Dim:
    kind: DimKind
    name: str = ""  # NAMED / VARIADIC: the name; EXPR: the expression as written
    size: int = -1
    broadcast: bool = False
    expr: Expr | None = None
    #: ``kind`` as a plain int, which the checks compare: traced code cannot guard an enum reached from a plan
    code: int = field(init=False, default=-1)

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", int(self.kind))

    @property
    def names(self) -> tuple[str, ...]:
        return self.expr.names if self.expr is not None else ()

    def text(self) -> str:
        prefix = "#" if self.broadcast else ""
        if self.kind is DimKind.FIXED:
            return f"{prefix}{self.size}"
        if self.kind is DimKind.ANON:
            return "_"
        if self.kind is DimKind.ANON_VARIADIC:
            return "..."
        if self.kind is DimKind.VARIADIC:
            return f"*{prefix}{self.name}"
        return f"{prefix}{self.name}"


@dataclass(frozen=True, slots=True)
class TensorSpec:
    """One tensor: its dims, the dtypes it may have (``None``: any), and how to show it.

    ``checks`` is the per-axis work, prebuilt: ``(axis, dim)`` for every non-anonymous dim of a spec without a
    variadic dim (axes counted from the end after a variadic one are negative).
    """

    form: ClassVar[str] = "tensor"  # what kind of spec, as plain text (see Dim.code)

    dims: tuple[Dim, ...]
    dtypes: tuple[str, ...] | None  # sorted names; a tuple, which traced code can search (not a frozenset)
    label: str
    array_type: Any  # a class, a union of classes, or Any (anything with .shape and .dtype)
    variadic: int  # index of the variadic dim, or -1
    optional: bool = False
    checks: tuple[tuple[int, Dim], ...] = field(default=(), compare=False)
    patterns: tuple[re.Pattern[str], ...] = ()  # dtypes given as regular expressions (jaxtyping matches them)
    arguments: tuple[str, ...] = ()  # arguments read by ``{name}`` in an expression dimension
    #: ``array_type`` is exactly ``torch.Tensor`` (what traced code checks: it cannot compare a type from a plan)
    tensor_type: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        import torch

        object.__setattr__(self, "tensor_type", self.array_type is torch.Tensor)


@dataclass(frozen=True, slots=True)
class TupleSpec:
    """A fixed-length tuple such as ``tuple[Float[Tensor, "B N D"], Bool[Tensor, "B N"]]``."""

    form: ClassVar[str] = "tuple"  # what kind of spec, as plain text (see Dim.code)

    items: tuple[Spec, ...]
    label: str
    optional: bool = False


@dataclass(frozen=True, slots=True)
class SeqSpec:
    """A homogeneous sequence, ``list[X]`` / ``tuple[X, ...]``: every element is checked, none sampled."""

    form: ClassVar[str] = "sequence"  # what kind of spec, as plain text (see Dim.code)

    item: Spec
    container: type
    label: str
    optional: bool = False


@dataclass(frozen=True, slots=True)
class MappingSpec:
    """``dict[K, X]`` / ``Mapping[K, X]``: every value is checked in the call's scope, keys by beartype."""

    form: ClassVar[str] = "mapping"  # what kind of spec, as plain text (see Dim.code)

    key: Any  # the key hint (``Any``: unchecked)
    value: Spec
    container: type
    label: str
    optional: bool = False


@dataclass(frozen=True, slots=True)
class UnionSpec:
    """``X | Y``: the first option the value matches wins; the bindings of options that failed are rolled back."""

    form: ClassVar[str] = "union"  # what kind of spec, as plain text (see Dim.code)

    options: tuple[Spec, ...]
    label: str
    optional: bool = False


@dataclass(frozen=True, slots=True)
class OtherSpec:
    """Any other hint: beartype checks it."""

    form: ClassVar[str] = "other"  # what kind of spec, as plain text (see Dim.code)

    hint: Any
    label: str
    optional: bool = False


Spec = TensorSpec | TupleSpec | SeqSpec | MappingSpec | UnionSpec | OtherSpec


def _sentinels() -> tuple[object, object]:
    """jaxtyping's markers of ``_`` and ``...`` (bare ``object()`` sentinels before 0.3), found by identity."""
    from jaxtyping import Shaped

    return Shaped[Any, "_"].dims[0], Shaped[Any, "..."].dims[0]  # type: ignore[attr-defined]


_ANONYMOUS, _ANONYMOUS_VARIADIC = _sentinels()
_ARGUMENT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def argument_symbol(name: str) -> str:
    """The symbol that stands for argument ``name`` in an expression dimension written ``{name}``."""
    return f"__argument_{name}"


def _dim_from_jaxtyping(d: object) -> Dim:
    if d is _ANONYMOUS:
        return Dim(DimKind.ANON)
    if d is _ANONYMOUS_VARIADIC:
        return Dim(DimKind.ANON_VARIADIC)
    kind = type(d).__name__
    broadcast = bool(getattr(d, "broadcastable", False))
    if kind == "_NamedDim":
        return Dim(DimKind.NAMED, name=d.name, broadcast=broadcast)  # type: ignore[attr-defined]
    if kind == "_FixedDim":
        return Dim(DimKind.FIXED, size=int(d.size), broadcast=broadcast)  # type: ignore[attr-defined]
    if kind == "_SymbolicDim":
        text = str(d.elem)  # type: ignore[attr-defined]
        # jaxtyping formats ``{n}`` with the argument n first (an f-string): it becomes a symbol bound per call
        expr = parse_expr(_ARGUMENT.sub(lambda m: argument_symbol(m.group(1)), text)).prepare()
        expr.source = text
        return Dim(DimKind.EXPR, name=text, broadcast=broadcast, expr=expr)
    if kind == "_AnonymousDim":
        return Dim(DimKind.ANON)
    if kind == "_NamedVariadicDim":
        return Dim(DimKind.VARIADIC, name=d.name, broadcast=broadcast)  # type: ignore[attr-defined]
    if kind == "_AnonymousVariadicDim":
        return Dim(DimKind.ANON_VARIADIC)
    raise ContractDefinitionError(f"unsupported jaxtyping dimension {d!r}")


@lru_cache(maxsize=4096)
def tensor_spec(hint: type, optional: bool = False) -> TensorSpec:
    """The spec of a jaxtyping array type such as ``Float[Tensor, "B N D"]``.

    Cached per annotation object; jaxtyping makes a new class for every subscription (``Float[Tensor, "B"]`` twice
    gives two classes), so contracts build their annotations once, at import.
    """
    dims = tuple(_dim_from_jaxtyping(d) for d in hint.dims)  # type: ignore[attr-defined]
    raw = hint.dtypes  # type: ignore[attr-defined]
    dtypes: tuple[str, ...] | None = None
    patterns: tuple[re.Pattern[str], ...] = ()
    if isinstance(raw, (tuple, list, frozenset, set)):
        dtypes = tuple(sorted({d for d in raw if isinstance(d, str)}))
        patterns = tuple(d for d in raw if isinstance(d, re.Pattern))
    variadic = next((i for i, d in enumerate(dims) if d.kind in (DimKind.VARIADIC, DimKind.ANON_VARIADIC)), -1)
    label = hint.__name__.replace("'", '"')
    if optional:
        label += " | None"
    if variadic < 0:
        checks = tuple((axis, d) for axis, d in enumerate(dims) if d.kind is not DimKind.ANON)
    else:
        after = len(dims) - 1 - variadic
        checks = tuple(
            (axis if axis < variadic else axis - variadic - 1 - after, d)
            for axis, d in enumerate(dims)
            if axis != variadic and d.kind is not DimKind.ANON
        )
    arguments = tuple(
        dict.fromkeys(n[len("__argument_") :] for d in dims for n in d.names if n.startswith("__argument_"))
    )
    return TensorSpec(
        dims, dtypes, label, hint.array_type, variadic, optional, checks, patterns, arguments  # type: ignore[attr-defined]
    )


def _is_array(hint: object) -> bool:
    return isinstance(hint, type) and issubclass(hint, AbstractArray)


def _label(hint: object) -> str:
    text: str
    if isinstance(hint, type):  # a jaxtyping array type or a plain class such as int
        text = hint.__name__ if _is_array(hint) else hint.__qualname__
    else:  # "jaxtyping." goes first, or stripping "typing." would leave "jax"
        text = repr(hint).replace("jaxtyping.", "").replace("typing.", "")
    return text.replace("'", '"').replace("torch.Tensor", "Tensor").replace("collections.abc.", "")


def contains_array(hint: object) -> bool:
    if _is_array(hint):
        return True
    return any(contains_array(a) for a in typing.get_args(hint))


_SEQUENCES = (list, collections.abc.Sequence, collections.abc.MutableSequence)
_MAPPINGS = (dict, collections.abc.Mapping, collections.abc.MutableMapping)


def parse_hint(hint: object) -> Spec | None:
    """The spec of an annotation, or ``None`` when it constrains nothing (no annotation, ``Any``)."""
    if hint is None or hint is Any or hint is typing.Any:
        return None
    optional = False
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:
        hint = typing.get_args(hint)[0]
        origin = typing.get_origin(hint)
    if origin is Union or origin is types.UnionType:
        args = typing.get_args(hint)
        rest = tuple(a for a in args if a is not type(None))
        optional = len(rest) < len(args)
        if len(rest) == 1:
            hint = rest[0]
            origin = typing.get_origin(hint)
        elif contains_array(hint):
            label = " | ".join(_label(a) for a in rest) + (" | None" if optional else "")
            options = tuple(parse_hint(a) or OtherSpec(object, "object") for a in rest)
            return UnionSpec(options, label, optional)
    if _is_array(hint):
        return tensor_spec(hint, optional)
    args = typing.get_args(hint)
    label = _label(hint) + (" | None" if optional else "")
    if contains_array(hint):
        if origin is tuple and args:
            if len(args) == 2 and args[1] is Ellipsis:
                item = parse_hint(args[0])
                if item is not None:
                    return SeqSpec(item, tuple, label, optional)
            elif Ellipsis not in args:
                items = tuple(parse_hint(a) or OtherSpec(object, "object") for a in args)
                return TupleSpec(items, label, optional)
        if origin in _SEQUENCES and len(args) == 1:
            item = parse_hint(args[0])
            if item is not None:
                return SeqSpec(item, list if origin is list else object, label, optional)
        if origin in _MAPPINGS and len(args) == 2:
            value = parse_hint(args[1])
            if value is not None:
                return MappingSpec(args[0], value, dict if origin is dict else collections.abc.Mapping, label, optional)
    # anything else (plain classes, Literal, Callable, PyTree, arrays nested where no container spec fits): beartype
    return OtherSpec(hint if not optional else typing.Optional[hint], label, optional)  # noqa: UP045 - any hint
