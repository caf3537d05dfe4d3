"""``torch.compile``: contracted functions and checked models give the same results compiled, raise
nothing on valid input and still raise ``ShapeContractError`` on invalid input, on every call.

Under compilation the checks run after the call (outside the graph, ``torch.compiler.disable``),
so an input that makes the computation itself fail raises the computation's error first; the
invalid inputs below are ones the computation accepts (broadcasting, casting). The tests use the
``aot_eager`` backend (Dynamo and AOTAutograd, no code generation) to stay fast; the inductor
backend behaves the same but takes ~20 s to compile even a tiny function on this machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import torch
from beartype import beartype
from jaxtyping import Float, TypeCheckError, jaxtyped
from torch import Tensor

from data2vec_contracts import ShapeContractError, checked, contract, masked_mean_pool
from data2vec_contracts.instrument import CheckEvent, add_observer, remove_observer
from tests._models import TRANSFORMERS_5, tiny_inputs, tiny_model

BACKEND = "aot_eager"


@pytest.fixture
def events() -> Iterator[list[CheckEvent]]:
    seen: list[CheckEvent] = []
    add_observer(seen.append)
    yield seen
    remove_observer(seen.append)


@contract(dims={"D": "cfg.size"})
def row_sums(cfg: Any, x: Float[Tensor, "B D"], bias: Float[Tensor, " B"]) -> Float[Tensor, " B"]:
    return x.sum(-1) + bias


def test_contract_function_compiled(events: list[CheckEvent]) -> None:
    torch._dynamo.reset()
    compiled = torch.compile(row_sums, backend=BACKEND)
    cfg, x, bias = SimpleNamespace(size=3), torch.randn(2, 3), torch.randn(2)
    unchecked_fn = row_sums.__wrapped__  # type: ignore[attr-defined]
    for _ in range(3):
        assert torch.equal(compiled(cfg, x, bias), unchecked_fn(cfg, x, bias))
    assert [e.dims for e in events] == [{"D": 3, "B": 2}] * 3  # the check ran on every compiled call
    with pytest.raises(ShapeContractError) as info:
        compiled(cfg, x, bias[:1])  # (1,) broadcasts against (2,): only the contract objects
    assert (info.value.field, info.value.dimension) == ("argument bias", "B")
    cfg.size = 4  # not part of any guard: the check still sees the new value
    with pytest.raises(ShapeContractError) as info:
        compiled(cfg, x, bias)
    assert info.value.violation is not None
    assert info.value.violation.bound_by == "cfg.size"


def test_contracted_helper_inside_a_compiled_pipeline() -> None:
    def pipeline(hidden: Tensor, mask: Tensor) -> Tensor:
        return masked_mean_pool(hidden * 2, mask) + 1

    torch._dynamo.reset()
    compiled = torch.compile(pipeline, backend=BACKEND)
    hidden, mask = torch.randn(2, 5, 4), torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    torch.testing.assert_close(compiled(hidden, mask), pipeline(hidden, mask))
    with pytest.raises(ShapeContractError) as info:
        compiled(hidden, mask[:1])  # one mask row for two sequences: broadcasts, so the math runs
    assert (info.value.field, info.value.dimension) == ("argument attention_mask", "B")


def test_checked_model_compiled(events: list[CheckEvent]) -> None:
    model = tiny_model("vision", num_hidden_layers=1)
    pixels = tiny_inputs(model, batch=2)["pixel_values"]
    with torch.no_grad():
        expected = model(pixel_values=pixels).last_hidden_state  # no checks
        checked(model)
        torch._dynamo.reset()
        compiled = torch.compile(model, backend=BACKEND)
        for _ in range(2):
            out = compiled(pixel_values=pixels)
            torch.testing.assert_close(out.last_hidden_state, expected)
            assert out.last_hidden_state.shape == (2, 17, 32)
        assert [e.contract for e in events] == ["Data2VecVisionModel"] * 2
        if not TRANSFORMERS_5:
            # 4.x does not cast int pixels: dynamo fails tracing the conv before the check can speak
            with pytest.raises(torch._dynamo.exc.TorchRuntimeError, match=r"Input type \(long int\)"):
                compiled(pixel_values=pixels.long())
            return
        with pytest.raises(ShapeContractError) as info:
            compiled(pixel_values=pixels.long())  # the model casts int pixels; the contract says Float
    assert info.value.violation is not None
    assert (info.value.field, info.value.violation.problem) == ("argument pixel_values", "dtype")


@jaxtyped(typechecker=beartype)
def plain_jaxtyped(x: Float[Tensor, "B N"], y: Float[Tensor, " N"]) -> Float[Tensor, "B N"]:
    return x * y


@contract
def same_with_contract(x: Float[Tensor, "B N"], y: Float[Tensor, " N"]) -> Float[Tensor, "B N"]:
    return x * y


def test_plain_jaxtyped_raises_a_false_error_under_compile_and_contract_does_not() -> None:
    """Observed with torch 2.13, jaxtyping 0.3.11, beartype 0.23: valid input, compiled, and plain
    ``jaxtyped(typechecker=beartype)`` rejects parameter x, a correct (2, 3) float tensor."""
    x, y = torch.ones(2, 3), torch.ones(3)
    assert plain_jaxtyped(x, y).shape == (2, 3)  # eager: fine
    torch._dynamo.reset()
    with pytest.raises(TypeCheckError) as info:
        torch.compile(plain_jaxtyped, backend=BACKEND)(x, y)
    assert "parameter 'x'" in str(info.value)
    assert not isinstance(info.value, ShapeContractError)
    assert torch.equal(torch.compile(same_with_contract, backend=BACKEND)(x, y), x * y)
