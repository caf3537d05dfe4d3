"""``@contract`` as a drop-in for ``@jaxtyped(typechecker=beartype)``: one table of annotation kinds x values.

Every row is one function; every call of a row runs through both decorators. The expected outcome (accept /
reject) is what jaxtyping + beartype do with that call, computed live in the test, never written down. Where
jaxtyping + beartype are lenient by design (beartype type-checks one element of a list, the first item of a
dict; jaxtyping reads annotations it cannot resolve at decoration time as ``Any``), the call says why, and
``@contract`` must reject it.

``python -m tests.checker.test_jaxtyping_parity`` prints the table with both outcomes.
"""

import importlib.util
import re
import sys
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, Optional, no_type_check

import jaxtyping
import numpy as np
import pytest
import torch
from beartype import beartype
from beartype.roar import BeartypeCallHintViolation
from jaxtyping import AbstractDtype, AnnotationError, Bool, Float, Float32, Int, Shaped, TypeCheckError, jaxtyped
from torch import Tensor

from data2vec_contracts import ContractDefinitionError, ShapeContractError, contract
from data2vec_contracts.checker import UnresolvedAnnotationWarning
from tests.checker import _future_annotated

Decorator = Callable[[Any], Any]
REFERENCE: Decorator = jaxtyped(typechecker=beartype)
ACCEPT, REJECT = "accept", "reject"
HAS_JAX = importlib.util.find_spec("jax") is not None
JAXTYPING = jaxtyping.__version__


def t(*shape: int, dtype: torch.dtype = torch.float32) -> Tensor:
    return torch.zeros(shape, dtype=dtype)


def ti(*shape: int) -> Tensor:
    return torch.zeros(shape, dtype=torch.long)


def tb(*shape: int) -> Tensor:
    return torch.zeros(shape, dtype=torch.bool)


# -- the model of a row ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Call:
    """One call of a row's function. ``stricter``: why jaxtyping + beartype accept it by design, and so why
    ``@contract`` must reject it. ``gap``: why ``@contract`` gets it wrong today (a strict xfail)."""

    name: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    stricter: str | None = None
    gap: str | None = None


@dataclass(frozen=True)
class Row:
    """One annotation kind: ``build(decorator)`` returns the callable to call (the decorated function, a
    bound method, a class). ``reference`` builds the twin jaxtyping can check, where it cannot check the
    row's own function (the calls pass keyword arguments then). ``gap`` applies to every call."""

    kind: str
    build: Callable[[Decorator], Callable[..., Any]]
    calls: tuple[Call, ...]
    gap: str | None = None
    reference: Callable[[Decorator], Callable[..., Any]] | None = None
    needs_jax: bool = False


def plain(fn: Callable[..., Any]) -> Callable[[Decorator], Callable[..., Any]]:
    def build(decorate: Decorator) -> Callable[..., Any]:
        return decorate(fn)

    return build


ROWS: list[Row] = []


def row(kind: str, *calls: Call, gap: str | None = None, **options: Any) -> Callable[[Any], Any]:
    """Registers the decorated function (or builder, with ``build=True``) as a row of the table."""

    def register(target: Any) -> Any:
        build = target if options.pop("build", False) else plain(target)
        ROWS.append(Row(kind, build, calls, gap=gap, **options))
        return target

    return register


BEARTYPE_DICT = "beartype type-checks only the first item of a dict / Mapping (O(1)): the other values go unchecked"
BEARTYPE_LIST = "beartype type-checks one random element of a list / tuple[X, ...] (O(1)); @contract checks all"
PYTREE = (
    "a PyTree annotation is an OtherSpec handed to beartype.is_bearable outside any jaxtyping memo: each leaf's "
    "isinstance gets a fresh memo (_storage.get_shape_memo without a stack), so leaves and structures are never "
    "compared with each other or with the other arguments"
)


# -- plain arrays: named, fixed, symbolic, anonymous, variadic, ..., broadcast, scalar -------------------
@row(
    "named dims",
    Call("match", (t(2, 3), t(2))),
    Call("wrong size", (t(2, 3), t(3))),
    Call("wrong rank", (t(2, 3, 1), t(2))),
    Call("wrong dtype", (t(2, 3), ti(2))),
    Call("wrong container: a list of lists", ([[0.0] * 3] * 2, t(2))),
)
def named(x: Float[Tensor, "B N"], y: Float[Tensor, " B"]) -> Float[Tensor, " B"]:
    return y


@row(
    "fixed dims (3 and c=4)",
    Call("match", (t(2, 3), t(2, 4))),
    Call("wrong size", (t(2, 5), t(2, 4))),
    Call("wrong size of c=4", (t(2, 3), t(2, 3))),
    Call("wrong rank", (t(3), t(2, 4))),
)
def fixed(x: Float[Tensor, "B 3"], y: Float[Tensor, "B c=4"]) -> None:
    pass


@row(
    "symbolic expression 1+h*w",
    Call("match", (t(2, 2, 3), t(2, 7, 4))),
    Call("wrong size", (t(2, 2, 3), t(2, 6, 4))),
    Call("wrong rank", (t(2, 2, 3), t(2, 7))),
)
def symbolic(grid: Float[Tensor, "B h w"], tokens: Float[Tensor, "B 1+h*w D"]) -> None:
    pass


def _symbolic_first(tokens: Float[Tensor, "B 1+h*w"], grid: Float[Tensor, "B h w"]) -> None:
    pass


def _symbolic_first_twin(grid: Float[Tensor, "B h w"], tokens: Float[Tensor, "B 1+h*w"]) -> None:
    pass


ROWS.append(
    Row(
        "symbolic expression before its names are bound",
        plain(_symbolic_first),
        (
            Call("match", kwargs={"tokens": t(2, 7), "grid": t(2, 2, 3)}),
            Call("wrong size", kwargs={"tokens": t(2, 6), "grid": t(2, 2, 3)}),
        ),
        # jaxtyping raises AnnotationError here (_array_types.py _check_dims: NameError on h, w); the expected
        # outcome is jaxtyping's on the same contract with the parameters in binding order
        reference=plain(_symbolic_first_twin),
    )
)


@row(
    "symbolic expression with a builtin: min(a,b)",
    Call("match", (t(2, 3), t(2))),
    Call("wrong size", (t(2, 3), t(3))),
)
def symbolic_builtin(x: Float[Tensor, "a b"], y: Float[Tensor, "min(a,b)"]) -> None:  # noqa: F821
    pass


@row(
    "symbolic expression reading an argument: {n}",
    Call("match", (t(2, 3), 3)),
    Call("wrong size", (t(2, 3), 4)),
)
def symbolic_argument(x: Float[Tensor, "B {n}"], n: int) -> None:
    pass


@row(
    "anonymous _ and _name",
    Call("match", (t(2, 3), t(5, 3, 7))),
    Call("wrong size", (t(2, 3), t(5, 4, 7))),
    Call("wrong rank", (t(2, 3), t(5, 3))),
)
def anonymous(x: Float[Tensor, "_ D"], y: Float[Tensor, "_b D _c"]) -> None:
    pass


@row(
    "variadic *batch",
    Call("match", (t(2, 3, 4), t(2, 3))),
    Call("match, empty batch", (t(4), t())),
    Call("wrong size", (t(2, 3, 4), t(3, 2))),
    Call("wrong rank", (t(2, 3, 4), t(2))),
    Call("rank below the minimum", (t(), t())),
)
def variadic(x: Float[Tensor, "*batch D"], y: Float[Tensor, "*batch"]) -> None:
    pass


@row(
    "anonymous variadic ...",
    Call("match", (t(5, 6, 4), t(4))),
    Call("match, nothing before D", (t(4), t(4))),
    Call("wrong size", (t(5, 4), t(3))),
    Call("rank below the minimum", (t(), t(3))),
)
def ellipsis(x: Float[Tensor, "... D"], y: Float[Tensor, " D"]) -> None:
    pass


@row(
    "broadcast #B",
    Call("match, size 1", (t(1, 3), t(4, 3))),
    Call("match, equal", (t(4, 3), t(4, 3))),
    Call("wrong size", (t(2, 3), t(4, 3))),
)
def broadcast(x: Float[Tensor, "#B D"], y: Float[Tensor, "B D"]) -> None:
    pass


@row(
    "broadcast variadic *#batch",
    Call("match, size 1", (t(2, 3), t(1, 3))),
    Call(
        "match, fewer axes",
        (t(2, 3), t(3)),
    ),
    Call("wrong size", (t(2, 3), t(4))),
)
def broadcast_variadic(x: Float[Tensor, "*#batch"], y: Float[Tensor, "*#batch"]) -> None:
    pass


@row(
    'scalar ""',
    Call("match", (torch.tensor(1.0),)),
    Call("wrong rank", (t(1),)),
    Call("wrong dtype", (torch.tensor(1),)),
    Call("a Python float", (1.0,)),
)
def scalar(x: Float[Tensor, ""]) -> None:
    pass


# -- dtype families -------------------------------------------------------------------------------
@row(
    "dtype Float / Float32",
    Call("float16", (t(2, dtype=torch.float16), t(2))),
    Call("bfloat16", (t(2, dtype=torch.bfloat16), t(2))),
    Call("float64", (t(2, dtype=torch.float64), t(2))),
    Call("int64", (ti(2), t(2))),
    Call("bool", (tb(2), t(2))),
    Call("Float32 given float64", (t(2), t(2, dtype=torch.float64))),
)
def float_family(x: Float[Tensor, " N"], y: Float32[Tensor, " N"]) -> None:
    pass


@row(
    "dtype Int",
    Call("int8", (t(2, dtype=torch.int8),)),
    Call("int32", (t(2, dtype=torch.int32),)),
    Call("uint8", (t(2, dtype=torch.uint8),)),
    Call("float32", (t(2),)),
)
def int_family(x: Int[Tensor, " N"]) -> None:
    pass


@row(
    "dtype Bool",
    Call("bool", (tb(2),)),
    Call("uint8", (t(2, dtype=torch.uint8),)),
)
def bool_family(x: Bool[Tensor, " N"]) -> None:
    pass


@row(
    "dtype Shaped",
    Call("complex64", (t(2, dtype=torch.complex64),)),
    Call("bool", (tb(2),)),
    Call("wrong rank", (t(2, 2),)),
)
def shaped_family(x: Shaped[Tensor, " N"]) -> None:
    pass


class HalfPrecision(AbstractDtype):
    dtypes = ["float16", "bfloat16"]  # noqa: RUF012 - jaxtyping's protocol for custom dtypes


class FloatPattern(AbstractDtype):
    dtypes = re.compile(r"float\d+")


@row(
    "custom AbstractDtype (a list of names)",
    Call("float16", (t(2, dtype=torch.float16),)),
    Call("float32", (t(2),)),
)
def custom_dtype(x: HalfPrecision[Tensor, " N"]) -> None:  # type: ignore[type-arg,name-defined]
    pass


@row(
    "custom AbstractDtype (a regex)",
    Call("float32", (t(2),)),
    Call("int64", (ti(2),)),
)
def regex_dtype(x: FloatPattern[Tensor, " N"]) -> None:  # type: ignore[type-arg,name-defined]
    pass


@row(
    "array type Any: Float[Any, ...]",
    Call("a tensor", (t(2),)),
    Call("a numpy array", (np.zeros(2, dtype=np.float32),)),
    Call("wrong dtype", (ti(2),)),
    Call("no shape", (3,)),
)
def any_array(x: Float[Any, " N"]) -> None:
    pass


# -- Optional and unions --------------------------------------------------------------------------
@row(
    "Optional[...]",
    Call("None", (t(2),)),
    Call("match", (t(2), tb(2))),
    Call("wrong size", (t(2), tb(3))),
    Call("wrong dtype", (t(2), t(2))),
)
def optional(x: Float[Tensor, " B"], mask: Optional[Bool[Tensor, " B"]] = None) -> None:  # noqa: UP045 - the kind under test
    pass


@row(
    "X | None",
    Call("None", (t(2), None)),
    Call("match", (t(2), tb(2))),
    Call("wrong size", (t(2), tb(3))),
)
def or_none(x: Float[Tensor, " B"], mask: Bool[Tensor, " B"] | None) -> None:
    pass


@row(
    "Union of two arrays of different ranks",
    Call("rank 2", (t(2, 3), t(2))),
    Call("rank 3", (t(2, 5, 3), t(2))),
    Call("rank 1", (t(2), t(2))),
    Call("rank 3, B differs", (t(2, 5, 3), t(4))),
)
def union_ranks(x: Float[Tensor, "B D"] | Float[Tensor, "B N D"], y: Float[Tensor, " B"]) -> None:
    pass


@row(
    "Union: a failed branch's bindings are rolled back",
    Call("second branch, B unbound", (t(2, 4), t(5))),
    Call("first branch binds B", (t(2, 3), t(5))),
    Call("no branch", (t(2, 5), t(2))),
)
def union_rollback(x: Float[Tensor, "B 3"] | Float[Tensor, "N 4"], y: Float[Tensor, " B"]) -> None:
    pass


@row(
    "Union: the matching branch binds",
    Call("second branch", (ti(3), t(3))),
    Call("second branch, B differs", (ti(3), t(2))),
)
def union_binds(x: Float[Tensor, "B D"] | Int[Tensor, " B"], y: Float[Tensor, " B"]) -> None:
    pass


@row(
    "Union inside the array type: Float[Tensor | np.ndarray, ...]",
    Call("a tensor", (t(2), t(2))),
    Call("a numpy array", (np.zeros(2, dtype=np.float32), t(2))),
    Call("numpy, wrong size", (np.zeros(3, dtype=np.float32), t(2))),
    Call("numpy, wrong dtype", (np.zeros(2, dtype=np.int64), t(2))),
)
def array_type_union(x: Float[Tensor | np.ndarray, " B"], y: Float[Tensor, " B"]) -> None:
    pass


@row(
    "Union of an array and an int",
    Call("a tensor", (t(2), t(2))),
    Call("an int", (3, t(2))),
    Call("a str", ("3", t(2))),
    Call("wrong dtype", (ti(2), t(2))),
    Call("wrong size", (t(3), t(2))),
)
def union_int(x: Float[Tensor, " B"] | int, y: Float[Tensor, " B"]) -> None:
    pass


# -- containers -----------------------------------------------------------------------------------
@row(
    'dict[str, Int[Tensor, "B N"]]',
    Call("match", ({"a": ti(2, 3), "b": ti(2, 3)}, t(2, 3, 5))),
    Call("wrong size", ({"a": ti(2, 4), "b": ti(2, 4)}, t(2, 3, 5))),
    Call("wrong rank", ({"a": ti(2), "b": ti(2)}, t(2, 3, 5))),
    Call("wrong dtype", ({"a": t(2, 3), "b": t(2, 3)}, t(2, 3, 5))),
    Call("wrong key type", ({1: ti(2, 3)}, t(2, 3, 5))),
    Call("wrong container: a list", ([ti(2, 3)], t(2, 3, 5))),
    Call(
        "the same name, conflicting sizes across values",
        ({"a": ti(2, 3), "b": ti(2, 4)}, t(2, 3, 5)),
        stricter=BEARTYPE_DICT,
    ),
    Call("wrong dtype in the second value", ({"a": ti(2, 3), "b": t(2, 3)}, t(2, 3, 5)), stricter=BEARTYPE_DICT),
)
def dict_values(x: dict[str, Int[Tensor, "B N"]], y: Float[Tensor, "B N D"]) -> None:
    pass


@row(
    'Mapping[str, Float[Tensor, "B"]]',
    Call("match", ({"a": t(2)}, t(2))),
    Call("wrong size", ({"a": t(3)}, t(2))),
    Call("conflicting sizes across values", ({"a": t(2), "b": t(3)}, t(2)), stricter=BEARTYPE_DICT),
)
def mapping(x: Mapping[str, Float[Tensor, " B"]], y: Float[Tensor, " B"]) -> None:
    pass


@row(
    "list[...]",
    Call("match", ([t(2, 3), t(2, 3)], t(2))),
    Call("empty", ([], t(2))),
    Call("wrong size everywhere", ([t(3, 3), t(3, 3)], t(2))),
    Call("wrong dtype everywhere", ([ti(2, 3), ti(2, 3)], t(2))),
    Call("wrong container: a tuple", ((t(2, 3),), t(2))),
    Call("one element conflicts", ([t(2, 3), t(2, 4)], t(2)), stricter=BEARTYPE_LIST),
)
def list_of(xs: list[Float[Tensor, "B D"]], y: Float[Tensor, " B"]) -> None:
    pass


@row(
    "tuple[X, ...]",
    Call("match", ((t(2), t(2)), t(2))),
    Call("wrong size everywhere", ((t(3), t(3)), t(2))),
    Call("wrong container: a list", ([t(2)], t(2))),
    Call("one element conflicts", ((t(2), t(3)), t(2)), stricter=BEARTYPE_LIST),
)
def tuple_of(xs: tuple[Float[Tensor, " B"], ...], y: Float[Tensor, " B"]) -> None:
    pass


@row(
    "fixed tuple[X, Y]",
    Call("match", ((t(2, 3), ti(2)),)),
    Call("second element conflicts", ((t(2, 3), ti(3)),)),
    Call("wrong length", ((t(2, 3),),)),
    Call("wrong order", ((ti(2), t(2, 3)),)),
)
def fixed_tuple(pair: tuple[Float[Tensor, "B D"], Int[Tensor, " B"]]) -> None:
    pass


@row(
    "nested list[tuple[Float, Int]]",
    Call("match", ([(t(2, 3), ti(2)), (t(2, 3), ti(2))],)),
    Call("first element conflicts inside", ([(t(2, 3), ti(3))],)),
    Call("second element conflicts", ([(t(2, 3), ti(2)), (t(4, 3), ti(4))],), stricter=BEARTYPE_LIST),
)
def nested(pairs: list[tuple[Float[Tensor, "B D"], Int[Tensor, " B"]]]) -> None:
    pass


class Pair(NamedTuple):
    hidden: Float[Tensor, "B D"]
    mask: Int[Tensor, " B"]


@row(
    "NamedTuple argument with annotated fields",
    Call("match", (Pair(t(2, 3), ti(2)),)),
    # neither looks inside: beartype checks isinstance(p, Pair), jaxtyping adds nothing for NamedTuple fields
    Call("fields disagree", (Pair(t(2, 3), ti(3)),)),
    Call("a plain tuple", ((t(2, 3), ti(2)),)),
)
def named_tuple(p: Pair) -> None:
    pass


@dataclass
class Batch:
    hidden: Float[Tensor, "B D"]
    mask: Int[Tensor, " B"]


@row(
    "dataclass argument with annotated fields",
    Call("match", (Batch(t(2, 3), ti(2)),)),
    # the fields of a dataclass argument are not looked at: only @jaxtyped on the dataclass itself checks them
    Call("fields disagree", (Batch(t(2, 3), ti(3)),)),
    Call("not a Batch", (Pair(t(2, 3), ti(2)),)),
)
def dataclass_arg(b: Batch) -> None:
    pass


@row(
    "the dataclass itself decorated (its __init__ checked)",
    Call("match", (t(2, 3), ti(2))),
    Call("fields disagree", (t(2, 3), ti(3))),
    Call("wrong dtype", (t(2, 3), t(2))),
    build=True,
)
def decorated_dataclass(decorate: Decorator) -> Callable[..., Any]:
    # a new class per build: jaxtyped replaces the class's __init__ in place
    @dataclass
    class Fresh:
        hidden: Float[Tensor, "B D"]
        mask: Int[Tensor, " B"]

    return decorate(Fresh)  # type: ignore[no-any-return]


def _pytree(leaf: Callable[[Any], Any]) -> Callable[[Decorator], Callable[..., Any]]:
    def build(decorate: Decorator) -> Callable[..., Any]:
        if not HAS_JAX:
            pytest.skip("jaxtyping.PyTree imports jax (_pytree_type.py: import jax.tree_util), not installed here")
        from jaxtyping import PyTree

        return decorate(leaf(PyTree))

    return build


def _pytree_leaves(tree: Any) -> Callable[..., Any]:
    def fn(x: tree[Float[Tensor, " B"]], y: Float[Tensor, " B"]) -> None:
        pass

    return fn


def _pytree_structures(tree: Any) -> Callable[..., Any]:
    def fn(x: tree[Float[Tensor, " B"], "S"], y: tree[Int[Tensor, " B"], "S"]) -> None:  # type: ignore[name-defined]  # noqa: F821
        pass

    return fn


ROWS.append(
    Row(
        'PyTree[Float[Tensor, "B"]]',
        _pytree(_pytree_leaves),
        (
            Call("match", ({"a": t(2), "b": [t(2), t(2)]}, t(2))),
            Call("leaves conflict", ({"a": t(2), "b": [t(3)]}, t(2)), gap=PYTREE),
            Call("leaves disagree with another argument", ({"a": t(3)}, t(2)), gap=PYTREE),
            Call("a leaf of the wrong dtype", ({"a": t(2), "b": ti(2)}, t(2))),
        ),
        needs_jax=True,
    )
)
ROWS.append(
    Row(
        'PyTree[..., "S"] structure names',
        _pytree(_pytree_structures),
        (
            Call("same structure", ({"a": t(2), "b": t(2)}, {"a": ti(2), "b": ti(2)})),
            Call("different structures", ({"a": t(2), "b": t(2)}, {"a": ti(2)}), gap=PYTREE),
        ),
        needs_jax=True,
    )
)


# -- other hints: beartype's part -----------------------------------------------------------------
@row(
    "typing.Any",
    Call("a tensor", (t(2, 3), t(2))),
    Call("a string", ("x", t(2))),
    Call("the array argument wrong", ("x", ti(2))),
)
def any_hint(x: Any, y: Float[Tensor, " B"]) -> None:
    pass


@row(
    "plain int / str arguments",
    Call("match", (3, "a", t(2))),
    Call("a str for the int", ("3", "a", t(2))),
    Call("an int for the str", (3, 4, t(2))),
)
def plain_hints(n: int, s: str, x: Float[Tensor, " B"]) -> None:
    pass


@row(
    "Literal",
    Call("match", ("mean", t(2))),
    Call("another string", ("sum", t(2))),
)
def literal(mode: Literal["mean", "max"], x: Float[Tensor, " B"]) -> None:
    pass


@row(
    "Callable",
    Call("a function", (torch.relu, t(2))),
    Call("not callable", (3, t(2))),
)
def callable_hint(fn: Callable[[Tensor], Tensor], x: Float[Tensor, " B"]) -> None:
    pass


@row(
    "default values",
    Call("default used", (t(2),)),
    Call("match", (t(2), t(2))),
    Call("wrong size", (t(2), t(3))),
)
def defaults(x: Float[Tensor, " B"], y: Float[Tensor, " B"] = t(3)) -> None:  # noqa: B008 - a default under test
    pass


@row(
    "keyword-only and positional-only parameters",
    Call("match", (t(2), t(2)), {"z": t(2)}),
    Call("keyword-only wrong", (t(2), t(2)), {"z": t(3)}),
    Call("positional-only wrong", (t(3),), {"y": t(2), "z": t(2)}),
)
def parameter_kinds(x: Float[Tensor, " B"], /, y: Float[Tensor, " B"], *, z: Float[Tensor, " B"]) -> None:
    pass


@row(
    "*args: Float[...]",
    Call("match", (t(2), t(2), t(2))),
    Call("no extra arguments", (t(2),)),
    Call("an extra argument conflicts", (t(2), t(2), t(3))),
    Call("an extra argument of the wrong dtype", (t(2), ti(2))),
)
def var_positional(x: Float[Tensor, " B"], *rest: Float[Tensor, " B"]) -> None:
    pass


@row(
    "**kwargs: Float[...]",
    Call("match", (t(2),), {"a": t(2), "b": t(2)}),
    Call("a keyword argument conflicts", (t(2),), {"a": t(2), "b": t(3)}),
    Call("a keyword argument of the wrong dtype", (t(2),), {"a": ti(2)}),
)
def var_keyword(x: Float[Tensor, " B"], **rest: Float[Tensor, " B"]) -> None:
    pass


@row(
    "typing.no_type_check",
    Call("match", (t(2),)),
    Call("wrong dtype", (ti(2),)),  # both honour __no_type_check__: nothing is checked
)
@no_type_check
def no_check(x: Float[Tensor, " B"]) -> None:
    pass


# -- methods --------------------------------------------------------------------------------------
METHOD_CALLS = (Call("match", (t(2, 3, 4),)), Call("wrong rank", (t(2, 3),)), Call("wrong dtype", (ti(2, 3, 4),)))


def _pool(self: Any, x: Float[Tensor, "B N D"]) -> Float[Tensor, "B D"]:
    return x[:, 0]


def _first(x: Float[Tensor, "B N D"]) -> Float[Tensor, "B D"]:
    return x[:, 0]


def _last(cls: type, x: Float[Tensor, "B N D"]) -> Float[Tensor, "B D"]:
    return x[:, -1]


@row("method", *METHOD_CALLS, build=True)
def method(decorate: Decorator) -> Callable[..., Any]:
    return type("Pool", (), {"pool": decorate(_pool)})().pool  # type: ignore[no-any-return]


@row("staticmethod(decorated)", *METHOD_CALLS, build=True)
def static_inside(decorate: Decorator) -> Callable[..., Any]:
    return type("Pool", (), {"first": staticmethod(decorate(_first))})().first  # type: ignore[no-any-return]


@row(
    "decorator over @staticmethod",
    *METHOD_CALLS,
    build=True,
)
def static_outside(decorate: Decorator) -> Callable[..., Any]:
    return type("Pool", (), {"first": decorate(staticmethod(_first))})().first  # type: ignore[no-any-return]


@row("classmethod(decorated)", *METHOD_CALLS, build=True)
def class_inside(decorate: Decorator) -> Callable[..., Any]:
    return type("Pool", (), {"last": classmethod(decorate(_last))})().last  # type: ignore[no-any-return]


@row(
    "decorator over @classmethod",
    *METHOD_CALLS,
    build=True,
)
def class_outside(decorate: Decorator) -> Callable[..., Any]:
    return type("Pool", (), {"last": decorate(classmethod(_last))})().last  # type: ignore[no-any-return]


# -- return annotations ---------------------------------------------------------------------------
@row(
    "return: a tensor, dims bound by the arguments",
    Call("match", (t(2, 4), t(4, 5), t(2, 5))),
    Call("wrong size (B)", (t(2, 4), t(4, 5), t(3, 5))),
    Call("wrong size (D)", (t(2, 4), t(4, 5), t(2, 4))),
    Call("wrong rank", (t(2, 4), t(4, 5), t(2))),
    Call("wrong dtype", (t(2, 4), t(4, 5), ti(2, 5))),
    Call("not a tensor", (t(2, 4), t(4, 5), None)),
)
def return_tensor(x: Float[Tensor, "B N"], w: Float[Tensor, "N D"], out: Any) -> Float[Tensor, "B D"]:
    return out


@row(
    "return: a tuple",
    Call("match", (t(2, 3), (t(2, 3), ti(2)))),
    Call("second element conflicts", (t(2, 3), (t(2, 3), ti(3)))),
    Call("a list", (t(2, 3), [t(2, 3), ti(2)])),
)
def return_tuple(x: Float[Tensor, "B D"], out: Any) -> tuple[Float[Tensor, "B D"], Int[Tensor, " B"]]:
    return out  # type: ignore[no-any-return]


@row(
    "return: a dict",
    Call("match", (t(2, 3), {"h": t(2, 3)})),
    Call("wrong size", (t(2, 3), {"h": t(3, 3)})),
    Call("a list", (t(2, 3), [t(2, 3)])),
)
def return_dict(x: Float[Tensor, "B D"], out: Any) -> dict[str, Float[Tensor, "B D"]]:
    return out  # type: ignore[no-any-return]


# -- string annotations and forward references ----------------------------------------------------
STRING_CALLS = (
    Call("match", (t(2, 3), ti(2))),
    Call("wrong size", (t(2, 3), ti(3))),
    Call("wrong dtype", (t(2, 3), t(2))),
)


@row("string annotations", *STRING_CALLS)
def stringified(x: "Float[Tensor, 'B N']", y: "Int[Tensor, ' B']") -> "Float[Tensor, ' B']":
    return x.sum(1)


row("from __future__ import annotations", *STRING_CALLS)(_future_annotated.future_named)
row(
    "from __future__ import annotations, containers",
    Call("match", ([t(2, 3)], t(2))),
    Call("wrong size", ([t(2, 3)], t(3))),
)(_future_annotated.future_container)

LATE = (
    "jaxtyped resolves string annotations once, when it decorates (0.3.11 _destring_annotation, 0.2.36 "
    "get_type_hints) and reads what it cannot resolve then as Any, so it never checks this argument; @contract "
    "resolves a forward reference at the first call"
)


@row(
    "forward reference resolved at the first call",
    Call("match", (t(2), t(2))),
    Call("wrong size", (t(3), t(2)), stricter=LATE),
    Call("wrong dtype", (ti(2), t(2)), stricter=LATE),
    build=True,
)
def forward_reference(decorate: Decorator) -> Callable[..., Any]:
    namespace: dict[str, Any] = {"Tensor": Tensor, "Float": Float}
    exec("def late(x: 'Later', y: Float[Tensor, ' B']) -> None:\n    pass\n", namespace)
    decorated = decorate(namespace["late"])
    namespace["Later"] = Float[Tensor, " B"]  # defined after the decorator ran
    return decorated  # type: ignore[no-any-return]


@row(
    "string annotation naming a local alias (never resolvable)",
    Call("match", (t(2), t(2))),
    Call("wrong size", (t(3), t(2))),
    build=True,
)
def local_alias(decorate: Decorator) -> Callable[..., Any]:
    Local = Float[Tensor, " B"]

    def fn(x: "Local", y: Float[Tensor, " B"]) -> None:
        pass

    return decorate(fn)  # type: ignore[no-any-return]


# -- running a call through both ------------------------------------------------------------------
def reference_outcome(row: Row, call: Call) -> tuple[str, str]:
    """What jaxtyped(typechecker=beartype) does with the call: accept, reject, or an AnnotationError."""
    target = (row.reference or row.build)(REFERENCE)
    try:
        target(*call.args, **call.kwargs)
    except (TypeCheckError, BeartypeCallHintViolation) as error:
        return REJECT, str(error).splitlines()[0]
    except AnnotationError as error:
        return "annotation error", str(error).splitlines()[0]
    return ACCEPT, ""


def our_outcome(row: Row, call: Call) -> tuple[str, str]:
    """What ``@contract`` does with the call: accept, reject (ShapeContractError), or something else."""
    try:
        target = row.build(contract)
    except ContractDefinitionError as error:
        return "definition error", str(error).splitlines()[0]
    except Exception as error:
        return "crash at decoration", f"{type(error).__name__}: {error}"
    try:
        with warnings.catch_warnings():  # an annotation that never resolves is left unchecked, with a warning
            warnings.simplefilter("ignore", UnresolvedAnnotationWarning)
            target(*call.args, **call.kwargs)
    except ShapeContractError as error:
        return REJECT, str(error).splitlines()[0]
    except Exception as error:
        return "crash", f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    return ACCEPT, ""


def _params() -> list[Any]:
    params = []
    for r in ROWS:
        for c in r.calls:
            gap = c.gap or r.gap
            marks = [pytest.mark.xfail(strict=True, reason=gap)] if gap else []
            params.append(pytest.param(r, c, id=f"{r.kind} | {c.name}", marks=marks))
    return params


@pytest.mark.parametrize(("row", "call"), _params())
def test_contract_accepts_and_rejects_what_jaxtyped_beartype_does(row: Row, call: Call) -> None:
    """``@contract`` gives jaxtyping + beartype's outcome, or rejects where they are lenient by design."""
    expected, because = reference_outcome(row, call)
    actual, detail = our_outcome(row, call)
    if call.stricter:
        assert actual == REJECT, f"@contract: {actual} ({detail}); jaxtyped+beartype: {expected} ({call.stricter})"
        return
    assert expected in (ACCEPT, REJECT), f"jaxtyping cannot check this row: {because}"
    assert actual == expected, f"@contract: {actual} ({detail}); jaxtyped+beartype: {expected} ({because})"


# rows whose every call jaxtyped + beartype accept by design (nothing to reject), with the reason
ONE_SIDED = {
    "typing.no_type_check": "both decorators honour __no_type_check__",
    "string annotation naming a local alias (never resolvable)": "jaxtyped reads the annotation as Any",
}


@pytest.mark.parametrize("row", [pytest.param(r, id=r.kind) for r in ROWS])
def test_each_row_has_a_matching_and_a_mismatching_call(row: Row) -> None:
    """The table is not vacuous: every row has a call jaxtyped+beartype accept and one they (or we) reject."""
    outcomes = {c.name: reference_outcome(row, c)[0] for c in row.calls}
    assert ACCEPT in outcomes.values(), outcomes
    if row.kind not in ONE_SIDED:
        assert any(o == REJECT or c.stricter for c, o in zip(row.calls, outcomes.values())), outcomes


def _table() -> str:
    """The table of the module docstring, as markdown: each call under both decorators today."""
    lines = [
        f"jaxtyping {JAXTYPING}, beartype {sys.modules['beartype'].__version__}, torch {torch.__version__}",
        "",
        "| kind | call | jaxtyped+beartype | @contract | note |",
        "|---|---|---|---|---|",
    ]
    for r in ROWS:
        for c in r.calls:
            try:
                expected = reference_outcome(r, c)[0]
                actual, detail = our_outcome(r, c)
            except BaseException as error:  # pytest.skip of the PyTree rows without jax
                lines.append(f"| {r.kind} | {c.name} | skipped | skipped | {error} |")
                continue
            if c.stricter:
                note = "may be stricter: " + c.stricter
                ok = actual == REJECT
            else:
                note = ""
                ok = actual == expected
            flag = "" if ok else "**GAP** "
            if not ok and detail:
                note = f"{note} ours: {detail[:90]}".strip()
            lines.append(f"| {r.kind} | {c.name} | {expected} | {flag}{actual} | {note} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(_table())


def test_an_annotation_that_never_resolves_is_unchecked_with_one_warning() -> None:
    """jaxtyped reads a string annotation naming a local alias as Any; @contract leaves it unchecked too, and says so
    once (at the first call), instead of failing every call with NameError."""
    fn = local_alias(contract)
    with pytest.warns(UnresolvedAnnotationWarning, match=r"the annotation of x \('Local'\) cannot be resolved"):
        fn(t(3), t(2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fn(t(3), t(2))  # the plan is compiled once: no second warning
