"""Turn jaxtyping annotations into the specs the checker runs on.

The dimension grammar is jaxtyping's own (we read the dims jaxtyping already parsed), so a contract
means exactly what it means to jaxtyping: ``B`` named, ``768`` fixed, ``1+h*w`` an expression,
``_`` anonymous, ``*batch`` / ``...`` variadic, ``#B`` broadcastable.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Union

from jaxtyping import AbstractArray

from ._errors import ContractDefinitionError

__all__ = [
    "ANON",
    "ANON_VARIADIC",
    "EXPR",
    "FIXED",
    "NAMED",
    "VARIADIC",
    "Dim",
    "OtherSpec",
    "SeqSpec",
    "Spec",
    "TensorSpec",
    "TupleSpec",
    "compile_expr",
    "eval_dim",
    "parse_hint",
    "tensor_spec",
]

NAMED, FIXED, EXPR, ANON, VARIADIC, ANON_VARIADIC = range(6)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SAFE_EXPR = re.compile(r"^[A-Za-z0-9_+\-*/%() ]+$")


@dataclass(frozen=True, slots=True)
class Dim:
    kind: int
    name: str = ""
    size: int = -1
    broadcast: bool = False
    code: types.CodeType | None = None
    names: tuple[str, ...] = ()

    def text(self) -> str:
        prefix = "#" if self.broadcast else ""
        if self.kind == FIXED:
            return f"{prefix}{self.size}"
        if self.kind == ANON:
            return "_"
        if self.kind == ANON_VARIADIC:
            return "..."
        if self.kind == VARIADIC:
            return f"*{prefix}{self.name}"
        return f"{prefix}{self.name}"


@lru_cache(maxsize=512)
def compile_expr(expr: str) -> tuple[types.CodeType, tuple[str, ...]]:
    """Compile a dimension expression such as ``1+h*w`` or ``(S-400)//320+1``."""
    if not _SAFE_EXPR.match(expr):
        raise ContractDefinitionError(
            f"dimension expression {expr!r} may only use names, integers, + - * / // % and parentheses"
        )
    try:
        code = compile(expr, f"<dimension {expr}>", "eval")
    except SyntaxError as exc:
        raise ContractDefinitionError(f"dimension expression {expr!r} is not valid: {exc.msg}") from None
    names = tuple(dict.fromkeys(n for n in _IDENT.findall(expr) if not n[0].isdigit()))
    return code, names


def eval_dim(code: types.CodeType, values: Mapping[str, Any]) -> int:
    """The value of a compiled dimension expression under the bound dimensions (no builtins)."""
    return int(eval(code, {"__builtins__": {}}, dict(values)))


@dataclass(frozen=True, slots=True)
class TensorSpec:
    """One tensor: its dims, the dtypes it may have (``None``: any), and how to show it."""

    dims: tuple[Dim, ...]
    dtypes: frozenset[str] | None
    label: str
    array_type: type
    variadic: int  # index of the variadic dim, or -1
    optional: bool = False


@dataclass(frozen=True, slots=True)
class TupleSpec:
    """A fixed-length tuple such as ``tuple[Float[Tensor, "B N D"], Bool[Tensor, "B N"]]``."""

    items: tuple[Spec, ...]
    label: str
    optional: bool = False


@dataclass(frozen=True, slots=True)
class SeqSpec:
    """A homogeneous sequence, ``list[X]`` / ``tuple[X, ...]``: every element is checked, none sampled."""

    item: Spec
    container: type
    label: str
    optional: bool = False


@dataclass(frozen=True, slots=True)
class OtherSpec:
    """Any other hint: beartype checks it."""

    hint: Any
    label: str
    optional: bool = False


Spec = TensorSpec | TupleSpec | SeqSpec | OtherSpec


def _dim_from_jaxtyping(d: object) -> Dim:
    kind = type(d).__name__
    broadcast = bool(getattr(d, "broadcastable", False))
    if kind == "_NamedDim":
        return Dim(NAMED, name=d.name, broadcast=broadcast)  # type: ignore[attr-defined]
    if kind == "_FixedDim":
        return Dim(FIXED, size=int(d.size), broadcast=broadcast)  # type: ignore[attr-defined]
    if kind == "_SymbolicDim":
        expr = str(d.elem)  # type: ignore[attr-defined]
        code, names = compile_expr(expr)
        return Dim(EXPR, name=expr, broadcast=broadcast, code=code, names=names)
    if kind == "_AnonymousDim":
        return Dim(ANON)
    if kind == "_NamedVariadicDim":
        return Dim(VARIADIC, name=d.name, broadcast=broadcast)  # type: ignore[attr-defined]
    if kind == "_AnonymousVariadicDim":
        return Dim(ANON_VARIADIC)
    raise ContractDefinitionError(f"unsupported jaxtyping dimension {d!r}")


@lru_cache(maxsize=1024)
def tensor_spec(hint: type, optional: bool = False) -> TensorSpec:
    """The spec of a jaxtyping array type such as ``Float[Tensor, "B N D"]``."""
    dims = tuple(_dim_from_jaxtyping(d) for d in hint.dims)  # type: ignore[attr-defined]
    raw = hint.dtypes  # type: ignore[attr-defined]
    dtypes = frozenset(raw) if isinstance(raw, (tuple, list, frozenset, set)) else None
    variadic = next((i for i, d in enumerate(dims) if d.kind in (VARIADIC, ANON_VARIADIC)), -1)
    label = hint.__name__.replace("'", '"')
    if optional:
        label += " | None"
    return TensorSpec(dims, dtypes, label, hint.array_type, variadic, optional)  # type: ignore[attr-defined]


def _is_array(hint: object) -> bool:
    return isinstance(hint, type) and issubclass(hint, AbstractArray)


def _label(hint: object) -> str:
    text: str
    if isinstance(hint, type):  # a jaxtyping array type or a plain class such as int
        text = hint.__name__ if _is_array(hint) else hint.__qualname__
    else:  # "jaxtyping." goes first, or stripping "typing." would leave "jax"
        text = repr(hint).replace("jaxtyping.", "").replace("typing.", "")
    return text.replace("'", '"').replace("torch.Tensor", "Tensor")


def contains_array(hint: object) -> bool:
    if _is_array(hint):
        return True
    return any(contains_array(a) for a in typing.get_args(hint))


def parse_hint(hint: object) -> Spec | None:
    """The spec of an annotation, or ``None`` when it constrains nothing (no annotation, ``Any``)."""
    if hint is None or hint is Any or hint is typing.Any:
        return None
    optional = False
    origin = typing.get_origin(hint)
    if origin is Union or origin is types.UnionType:
        args = typing.get_args(hint)
        rest = tuple(a for a in args if a is not type(None))
        if len(rest) == 1 and len(rest) < len(args):
            optional = True
            hint = rest[0]
            origin = typing.get_origin(hint)
    if _is_array(hint):
        return tensor_spec(hint, optional)
    args = typing.get_args(hint)
    label = _label(hint) + (" | None" if optional else "")
    if origin is tuple and args and contains_array(hint):
        if len(args) == 2 and args[1] is Ellipsis:
            item = parse_hint(args[0])
            if item is not None:
                return SeqSpec(item, tuple, label, optional)
        elif Ellipsis not in args:
            items = tuple(parse_hint(a) or OtherSpec(object, "object") for a in args)
            return TupleSpec(items, label, optional)
    sequence = origin in (list, typing.Sequence) or str(origin) == "<class 'collections.abc.Sequence'>"
    if sequence and len(args) == 1 and contains_array(args[0]):
        item = parse_hint(args[0])
        if item is not None:
            return SeqSpec(item, list if origin is list else object, label, optional)
    if contains_array(hint):
        raise ContractDefinitionError(
            f"annotation {label} nests jaxtyping arrays in a way data2vec_contracts cannot check in one "
            "dimension scope; use a tensor, Optional[tensor], tuple[...] or list[...] of tensors"
        )
    return OtherSpec(hint if not optional else typing.Optional[hint], label, optional)  # noqa: UP045 - any hint
