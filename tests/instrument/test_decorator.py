"""``@contract`` on user functions: one dimension scope per call, every jaxtyping dimension kind,
``where=`` / ``dims=``, methods and keyword-only arguments, beartype for the other hints, and the
malformed contracts that must fail at decoration time."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import torch
from jaxtyping import AnnotationError, Bool, Float, Int, Shaped, TypeCheckError
from torch import Tensor

from data2vec_contracts import ContractDefinitionError, ShapeContractError, contract
from data2vec_contracts.instrument import contract_of


def z(*shape: int, dtype: torch.dtype = torch.float32) -> Tensor:
    return torch.zeros(shape, dtype=dtype)


def violation(call: Any) -> ShapeContractError:
    with pytest.raises(ShapeContractError) as info:
        call()
    return info.value


# -- one scope per call -------------------------------------------------------------------------
@contract
def scale(x: Float[Tensor, "B N"], weight: Float[Tensor, " B"]) -> Float[Tensor, " B"]:
    return (x * weight[:, None]).sum(-1)


def test_one_scope_across_arguments() -> None:
    assert scale(z(2, 3), z(2)).shape == (2,)
    err = violation(lambda: scale(z(2, 3), z(1)))
    assert (err.field, err.dimension) == ("argument weight", "B")
    assert err.violation is not None
    assert (err.violation.expected, err.violation.actual) == ("2", "1")
    assert err.violation.bound_by == "argument x, axis 0"


@contract
def shrink(x: Float[Tensor, "B N"]) -> Float[Tensor, " B"]:
    return x[:1, 0]  # B of 2 in, 1 out


def test_return_shares_the_scope_of_the_arguments() -> None:
    err = violation(lambda: shrink(z(2, 3)))
    assert (err.field, err.dimension) == ("return value", "B")
    # and B=1 in, 1 out is fine: every call has a fresh scope
    assert shrink(z(1, 3)).shape == (1,)


def test_each_call_has_a_fresh_scope() -> None:
    for b in (1, 2, 5, 3):
        assert scale(z(b, 4), z(b)).shape == (b,)


# -- tuple and list returns ------------------------------------------------------------------------
@contract
def split(x: Float[Tensor, "B N"], bad: int = -1) -> tuple[Float[Tensor, " B"], Float[Tensor, " N"]]:
    first, row = x[:, 0], x[0]
    if bad == 0:
        first = x[:1, 0]
    if bad == 1:
        row = x[0, :1]
    return first, row


def test_tuple_return_checks_each_element() -> None:
    assert [t.shape for t in split(z(2, 3))] == [(2,), (3,)]
    assert violation(lambda: split(z(2, 3), 0)).field == "return value[0]"
    err = violation(lambda: split(z(2, 3), 1))
    assert (err.field, err.dimension) == ("return value[1]", "N")


@contract
def columns(x: Float[Tensor, "B N"], bad: int = -1) -> list[Float[Tensor, " B"]]:
    cols = [x[:, i] for i in range(x.shape[1])]
    if bad >= 0:
        cols[bad] = cols[bad][:1]
    return cols


@pytest.mark.parametrize("bad", [0, 3, 7])
def test_list_return_checks_every_element_not_a_sample(bad: int) -> None:
    assert len(columns(z(2, 8))) == 8
    err = violation(lambda: columns(z(2, 8), bad))
    assert err.field == f"return value[{bad}]"


@contract
def wrong_container(x: Float[Tensor, "B N"]) -> tuple[Float[Tensor, " B"], Float[Tensor, " N"]]:
    return [x[:, 0], x[0]]  # type: ignore[return-value]


def test_tuple_return_of_wrong_container_or_length() -> None:
    err = violation(lambda: wrong_container(z(2, 3)))
    assert err.violation is not None
    assert (err.violation.problem, err.violation.expected) == ("type", "a tuple of 2")


# -- Optional, fixed, broadcast, variadic, ellipsis, expressions -------------------------------------
@contract
def pool(x: Float[Tensor, "B N D"], mask: Bool[Tensor, "B N"] | None = None) -> Float[Tensor, "B D"]:
    return x.mean(1) if mask is None else (x * mask[..., None]).sum(1)


def test_optional_argument_none_or_missing_or_checked() -> None:
    assert pool(z(2, 3, 4)).shape == (2, 4)
    assert pool(z(2, 3, 4), None).shape == (2, 4)
    assert pool(z(2, 3, 4), z(2, 3, dtype=torch.bool)).shape == (2, 4)
    err = violation(lambda: pool(z(2, 3, 4), z(2, 5, dtype=torch.bool)))
    assert (err.field, err.dimension) == ("argument mask", "N")
    err = violation(lambda: pool(z(2, 3, 4), z(2, 3)))
    assert err.violation is not None
    assert err.violation.problem == "dtype"


@contract
def rgb(x: Float[Tensor, "B 3 H W"]) -> Float[Tensor, "B H W"]:
    return x.mean(1)


def test_fixed_dimension() -> None:
    assert rgb(z(2, 3, 4, 5)).shape == (2, 4, 5)
    err = violation(lambda: rgb(z(2, 4, 4, 5)))
    assert err.violation is not None
    assert (err.dimension, err.violation.expected, err.violation.actual) == ("axis 1", "3", "4")


@contract
def add_bias(x: Float[Tensor, "B N"], bias: Float[Tensor, "#B N"]) -> Float[Tensor, "B N"]:
    return x + bias


def test_broadcast_dimension_accepts_one_and_the_bound_size_only() -> None:
    assert add_bias(z(4, 3), z(1, 3)).shape == (4, 3)
    assert add_bias(z(4, 3), z(4, 3)).shape == (4, 3)
    err = violation(lambda: add_bias(z(4, 3), z(2, 3)))
    assert (err.field, err.dimension) == ("argument bias", "B")


@contract
def reduce_last(x: Float[Tensor, "*batch D"], offset: Float[Tensor, "*batch"]) -> Float[Tensor, "*batch"]:
    return x.sum(-1) + offset


def test_named_variadic_dimension() -> None:
    assert reduce_last(z(2, 3, 4), z(2, 3)).shape == (2, 3)
    assert reduce_last(z(4), z()).shape == ()
    assert reduce_last(z(5, 1, 2, 4), z(5, 1, 2)).shape == (5, 1, 2)
    err = violation(lambda: reduce_last(z(2, 3, 4), z(3, 2)))
    assert err.violation is not None
    assert (err.dimension, err.violation.expected, err.violation.actual) == ("*batch", "(2, 3)", "(3, 2)")
    err = violation(lambda: reduce_last(z(2, 3, 4), z(2)))
    assert err.dimension == "*batch"


@contract
def shift(x: Float[Tensor, "... D"], by: Float[Tensor, " D"]) -> Float[Tensor, "... D"]:
    return x + by


def test_anonymous_variadic_dimension() -> None:
    for shape in [(4,), (2, 4), (2, 3, 4), (1, 1, 1, 4)]:
        assert shift(z(*shape), z(4)).shape == shape
    err = violation(lambda: shift(z(2, 3, 4), z(5)))
    assert (err.field, err.dimension) == ("argument by", "D")
    assert err.violation is not None
    assert err.violation.hint is None
    err = violation(lambda: shift(z(), z(4)))
    assert err.violation is not None
    assert err.violation.problem == "rank"


@contract
def with_cls(x: Float[Tensor, "B 1+N D"], ids: Int[Tensor, "B N"]) -> Float[Tensor, "B N D"]:
    return x[:, 1:]


def test_expression_dimension_bound_by_a_later_argument() -> None:
    ids = z(2, 4, dtype=torch.long)
    assert with_cls(z(2, 5, 3), ids).shape == (2, 4, 3)
    err = violation(lambda: with_cls(z(2, 6, 3), ids))
    assert err.violation is not None
    assert (err.field, err.dimension, err.violation.expected) == ("argument x", "1+N", "5 (= 1+N with N=4)")


# -- where= ------------------------------------------------------------------------------------------
@contract(where={"N": "1 + G*G"})
def grid_from_arg(x: Float[Tensor, "B N D"], grid: Float[Tensor, "G G"]) -> Float[Tensor, "B D"]:
    return x[:, 0]


@pytest.mark.parametrize(("n", "g", "ok"), [(5, 2, True), (10, 3, True), (1, 0, True), (6, 2, False), (5, 3, False)])
def test_where_with_g_bound_by_a_later_argument(n: int, g: int, ok: bool) -> None:
    if ok:
        assert grid_from_arg(z(2, n, 3), z(g, g)).shape == (2, 3)
        return
    err = violation(lambda: grid_from_arg(z(2, n, 3), z(g, g)))
    assert err.violation is not None
    assert err.dimension == "N"
    assert err.violation.expected == f"{1 + g * g} (from N = 1 + G*G with G={g}; where= of the contract)"
    assert err.violation.actual == str(n)


@contract(where={"N": "1 + G*G"})
def grid_from_return(x: Float[Tensor, "B N D"], g: int) -> Float[Tensor, "B G G D"]:
    return torch.zeros(x.shape[0], g, g, x.shape[2])  # G is first bound here, by the return value


def test_where_with_g_bound_by_the_return_value() -> None:
    assert grid_from_return(z(2, 5, 3), 2).shape == (2, 2, 2, 3)
    assert grid_from_return(z(1, 17, 3), 4).shape == (1, 4, 4, 3)
    err = violation(lambda: grid_from_return(z(2, 5, 3), 3))
    assert err.violation is not None
    assert err.dimension == "N"
    assert err.violation.bindings["G"] == (3, "return value, axis 1")
    assert err.violation.expected == "10 (from N = 1 + G*G with G=3; where= of the contract)"
    assert err.violation.actual == "5"


@contract(where={"N": "1 + G*G"})
def grid_never_bound(x: Float[Tensor, "B N D"]) -> Float[Tensor, "B D"]:
    return x[:, 0]


def test_where_with_g_never_bound_constrains_nothing() -> None:
    assert grid_never_bound(z(2, 6, 3)).shape == (2, 3)


@contract(where={"T": "(S - 29)//16 + 1"})
def frames(wave: Float[Tensor, "B S"], feats: Float[Tensor, "B T F"]) -> Float[Tensor, "B T"]:
    return feats.mean(-1)


def test_where_derives_a_dimension_before_it_is_seen() -> None:
    assert frames(z(2, 1000), z(2, 61, 4)).shape == (2, 61)
    err = violation(lambda: frames(z(2, 1000), z(2, 62, 4)))
    assert err.violation is not None
    assert (err.field, err.dimension) == ("argument feats", "T")
    assert err.violation.bound_by == "T = (S - 29)//16 + 1 with S=1000; where= of the contract"


# -- dims= ----------------------------------------------------------------------------------------
@contract(dims={"D": 768})
def project(x: Float[Tensor, "B D"]) -> Float[Tensor, "B D"]:
    return x


def test_dims_int() -> None:
    assert project(z(2, 768)).shape == (2, 768)
    err = violation(lambda: project(z(2, 32)))
    assert err.violation is not None
    assert err.violation.bound_by == "dims= of the contract (D=768)"


@contract(dims={"D": "model.config.hidden_size"})
def head(model: Any, pooled: Float[Tensor, "B D"]) -> Float[Tensor, " B"]:
    return pooled.sum(-1)


def test_dims_from_a_config_field_reports_the_field() -> None:
    model = SimpleNamespace(config=SimpleNamespace(hidden_size=32))
    assert head(model, z(3, 32)).shape == (3,)
    err = violation(lambda: head(model, z(3, 16)))
    assert err.violation is not None
    assert err.violation.bound_by == "model.config.hidden_size"
    assert err.violation.bindings["D"] == (32, "model.config.hidden_size")


@contract(dims={"D": "cfg.hidden_size"})
def head_from_mapping(cfg: Any, x: Float[Tensor, " D"]) -> Float[Tensor, " D"]:
    return x


def test_dims_path_through_a_mapping() -> None:
    assert head_from_mapping({"hidden_size": 4}, z(4)).shape == (4,)
    assert violation(lambda: head_from_mapping({"hidden_size": 4}, z(5))).dimension == "D"


def _twice_n(arguments: Any) -> int:
    return 2 * int(arguments["x"].shape[0])


@contract(dims={"M": _twice_n})
def doubled(x: Float[Tensor, " N"], y: Float[Tensor, " M"]) -> Float[Tensor, " M"]:
    return y


def test_dims_callable_reads_the_arguments() -> None:
    assert doubled(z(3), z(6)).shape == (6,)
    err = violation(lambda: doubled(z(3), z(5)))
    assert err.violation is not None
    assert err.violation.bound_by == "dims= of the contract (_twice_n)"


@contract(dims={"D": "model.config.hidden_size"})
def head_default(x: Float[Tensor, "B D"], model: Any = SimpleNamespace(config=SimpleNamespace(hidden_size=8))) -> Any:  # noqa: B008
    return x


def test_dims_path_into_a_default_that_was_not_given() -> None:
    assert head_default(z(2, 8)).shape == (2, 8)
    assert violation(lambda: head_default(z(2, 9))).dimension == "D"


def test_dims_source_that_cannot_be_read_is_a_violation_not_a_crash() -> None:
    err = violation(lambda: head(SimpleNamespace(), z(3, 32)))  # no .config
    assert err.violation is not None
    assert err.violation.field == "dims['D'] = model.config.hidden_size"
    assert err.violation.actual == "AttributeError: 'types.SimpleNamespace' object has no attribute 'config'"
    bad = SimpleNamespace(config=SimpleNamespace(hidden_size="32"))  # a str, not an int
    assert violation(lambda: head(bad, z(3, 32))).field == "dims['D'] = model.config.hidden_size"


# -- methods, keyword-only, defaults ------------------------------------------------------------------
class Pooler:
    def __init__(self, dim: int) -> None:
        self.dim = dim

    @contract(dims={"D": "self.dim"})
    def __call__(
        self, x: Float[Tensor, "B N D"], *, mask: Shaped[Tensor, "B N"], scale: Float[Tensor, " B"] | None = None
    ) -> Float[Tensor, "B D"]:
        out = (x * mask[..., None]).sum(1)
        return out if scale is None else out * scale[:, None]


def test_method_with_keyword_only_arguments_and_defaults() -> None:
    pooler = Pooler(4)
    assert pooler(z(2, 3, 4), mask=z(2, 3)).shape == (2, 4)
    assert pooler(z(2, 3, 4), mask=z(2, 3), scale=z(2)).shape == (2, 4)
    assert violation(lambda: pooler(z(2, 3, 4), mask=z(2, 5))).field == "argument mask"
    assert violation(lambda: pooler(z(2, 3, 4), mask=z(2, 3), scale=z(3))).field == "argument scale"
    assert violation(lambda: Pooler(5)(z(2, 3, 4), mask=z(2, 3))).violation.bound_by == "self.dim"  # type: ignore[union-attr]
    plan = contract_of(Pooler.__call__)
    assert plan is not None
    assert [(p.name, p.position) for p in plan.plan.params] == [("x", 1), ("mask", -1), ("scale", -1)]


def test_arguments_passed_by_keyword_are_checked_too() -> None:
    assert violation(lambda: scale(weight=z(1), x=z(2, 3))).field == "argument weight"


# -- non-tensor hints: beartype ---------------------------------------------------------------------
@contract
def repeat(x: Float[Tensor, " N"], times: int, mode: str = "tile", limit: int | None = None) -> Float[Tensor, " M"]:
    return x.repeat(times)


def test_non_tensor_hints_are_checked_by_beartype() -> None:
    assert repeat(z(2), 3).shape == (6,)
    assert repeat(z(2), 3, "tile", None).shape == (6,)
    assert repeat(z(2), 3, "tile", 4).shape == (6,)
    for call, field, expected in [
        (lambda: repeat(z(2), "3"), "argument times", "int"),
        (lambda: repeat(z(2), 3, 7), "argument mode", "str"),
        (lambda: repeat(z(2), 3, "tile", "4"), "argument limit", "int | None"),
    ]:
        err = violation(call)
        assert err.violation is not None
        assert (err.field, err.violation.problem, err.violation.expected) == (field, "type", expected)


# -- the two error classes --------------------------------------------------------------------------
def test_shape_contract_error_is_a_jaxtyping_type_check_error_and_a_type_error() -> None:
    assert issubclass(ShapeContractError, TypeCheckError)
    assert issubclass(ShapeContractError, TypeError)
    with pytest.raises(TypeCheckError):
        scale(z(2, 3), z(1))
    with pytest.raises(TypeError):
        scale(z(2, 3), z(1))


def test_contract_definition_error_is_jaxtyping_annotation_error_not_a_type_error() -> None:
    assert issubclass(ContractDefinitionError, AnnotationError)
    assert not issubclass(ContractDefinitionError, TypeError)


# -- malformed contracts fail at decoration -----------------------------------------------------------
def _plain(x: Float[Tensor, " N"], model: Any = None) -> Float[Tensor, " N"]:
    return x


_PLAIN = "tests.instrument.test_decorator._plain: "


def _nested(x: dict[str, Float[Tensor, " N"]], y: Float[Tensor, " N"]) -> None:
    return None


def _union_of_tuple(x: tuple[Float[Tensor, " N"], ...] | Float[Tensor, "N N"], y: Float[Tensor, " N"]) -> None:
    return None


def test_dicts_and_unions_of_arrays_are_checked_in_the_call_scope() -> None:
    """Every value of a dict and the matching option of a union bind dimensions shared with the other arguments."""
    nested = contract(_nested)
    nested({"a": z(3), "b": z(3)}, z(3))
    assert violation(lambda: nested({"a": z(3), "b": z(4)}, z(3))).field == "argument x['b']"
    assert violation(lambda: nested({"a": z(3)}, z(4))).field == "argument y"
    union = contract(_union_of_tuple)
    union((z(3), z(3)), z(3))
    union(z(3, 3), z(3))
    assert violation(lambda: union(z(3, 3), z(4))).field == "argument y"
    assert violation(lambda: union(z(3, 4), z(3))).field == "argument x"
    wrong = violation(lambda: union((z(3), z(4)), z(3)))  # the tuple option binds N=3, then breaks on item 1
    assert wrong.field == "argument x[1]"


@pytest.mark.parametrize(
    ("kwargs", "fn", "message"),
    [
        ({"where": {"N": "1 + G**"}}, _plain, "dimension expression '1 + G**' is not valid: invalid syntax"),
        (
            {"where": {"N": "__import__('os')"}},
            _plain,
            "dimension expression \"__import__('os')\" may only use names, integers, + - * / // %, min(), max() and "
            "parentheses",
        ),
        ({"where": {"N": "N + 1"}}, _plain, _PLAIN + "where['N'] = 'N + 1' refers to itself"),
        ({"where": {"1N": "G"}}, _plain, _PLAIN + "where= keys must be dimension names, got '1N'"),
        ({"where": {"N": 3}}, _plain, _PLAIN + "where['N'] must be an expression string"),
        ({"dims": {"D-1": 3}}, _plain, _PLAIN + "dims= keys must be dimension names, got 'D-1'"),
        (
            {"dims": {"D": "cfg.hidden_size"}},
            _plain,
            _PLAIN + "dims['D'] = 'cfg.hidden_size' names no argument of _plain "
            "(arguments: x, model)",
        ),
        (
            {"dims": {"D": 2.5}},
            _plain,
            _PLAIN + "dims['D'] must be an int, an argument path such as "
            "'model.config.hidden_size', or a callable; got 2.5",
        ),
        (
            {"dims": {"D": True}},
            _plain,
            _PLAIN + "dims['D'] must be an int, an argument path such as "
            "'model.config.hidden_size', or a callable; got True",
        ),
        (
            {"where": {"A": "B + 1", "B": "A - 1"}},
            _plain,
            _PLAIN + "the relations define A through itself (A -> B -> A); state each dimension "
            "from others that do not depend on it",
        ),
    ],
    ids=[
        "where-syntax", "where-unsafe", "where-self", "where-key", "where-not-str", "dims-key", "dims-no-argument",
        "dims-float", "dims-bool", "where-cycle",
    ],
)
def test_malformed_contracts_raise_at_decoration(kwargs: dict[str, Any], fn: Any, message: str) -> None:
    with pytest.raises(ContractDefinitionError) as info:
        contract(**kwargs)(fn)
    assert str(info.value) == message


def test_decorating_keeps_the_function_metadata_and_attaches_the_plan() -> None:
    assert scale.__name__ == "scale"
    assert scale.__wrapped__.__name__ == "scale"  # type: ignore[attr-defined]
    plan = contract_of(scale)
    assert plan is not None
    assert plan.name == "tests.instrument.test_decorator.scale"
    assert contract_of(_plain) is None
    named = contract(name="my.pool")(_plain)
    assert contract_of(named).name == "my.pool"  # type: ignore[union-attr]
