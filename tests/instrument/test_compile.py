"""``torch.compile`` and ``torch.export``: the contract is checked while the graph is traced.

A contracted function or a checked model compiles to the same graphs as the unchecked one: no graph break, no extra
recompile (fullgraph and dynamic shapes included), and no per-call cost, because the check runs on the (symbolic)
sizes while dynamo traces and each comparison becomes one of the graph's guards. A violation found while tracing is
raised as :class:`CompiledShapeContractError`, a ``ShapeContractError`` with the eager message. A call whose shapes
were already traced runs the compiled graph without any check, which is sound: its guards are the ones the check
established. The tests use the ``aot_eager`` backend (dynamo and AOTAutograd, no code generation) to stay fast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import torch
from beartype import beartype
from jaxtyping import Float, TypeCheckError, jaxtyped
from torch import Tensor

from data2vec_contracts import (
    CompiledShapeContractError,
    ShapeContractError,
    checked,
    contract,
    disabled,
    masked_mean_pool,
)
from data2vec_contracts.instrument import CheckEvent, add_observer, remove_observer
from tests._models import TRANSFORMERS_5, tiny_inputs, tiny_model
from tests._pipelines import LENGTHS, compile_counts, pipeline, reset_compiler, waves

BACKEND = "aot_eager"
MODES: list[dict[str, bool]] = [{}, {"fullgraph": True}, {"dynamic": True}, {"dynamic": True, "fullgraph": True}]
MODE_IDS = ["default", "fullgraph", "dynamic", "dynamic-fullgraph"]


@pytest.fixture
def events() -> Iterator[list[CheckEvent]]:
    seen: list[CheckEvent] = []
    add_observer(seen.append)
    yield seen
    remove_observer(seen.append)


def run_compiled(
    fn: Callable[..., Any], calls: list[tuple[Any, ...]], **mode: bool
) -> tuple[list[Any], tuple[int, ...]]:
    reset_compiler()
    compiled = torch.compile(fn, backend=BACKEND, **mode)
    with torch.no_grad():
        outs = [compiled(*args) for args in calls]
    return outs, compile_counts()


@contract(dims={"D": "cfg.size"})
def row_sums(cfg: Any, x: Float[Tensor, "B D"], bias: Float[Tensor, " B"]) -> Float[Tensor, " B"]:
    return x.sum(-1) + bias


def test_contract_function_compiled(events: list[CheckEvent]) -> None:
    reset_compiler()
    compiled = torch.compile(row_sums, backend=BACKEND)
    cfg, x, bias = SimpleNamespace(size=3), torch.randn(2, 3), torch.randn(2)
    unchecked_fn = row_sums.__wrapped__  # type: ignore[attr-defined]
    for _ in range(3):
        assert torch.equal(compiled(cfg, x, bias), unchecked_fn(cfg, x, bias))
    assert events == []  # checked once while tracing, not per call: no event of an eager check
    with pytest.raises(ShapeContractError) as info:
        compiled(cfg, x, bias[:1])  # (1,) broadcasts against (2,): only the contract objects
    assert isinstance(info.value, CompiledShapeContractError)
    assert (info.value.field, info.value.dimension) == ("argument bias", "B")
    cfg.size = 4  # the trace read cfg.size, so dynamo guards it: the new value retraces and the check sees it
    with pytest.raises(ShapeContractError) as info:
        compiled(cfg, x, bias)
    assert info.value.violation is not None
    assert info.value.violation.bound_by == "cfg.size"


def test_a_compiled_violation_has_the_eager_message() -> None:
    cfg, x, bias = SimpleNamespace(size=3), torch.randn(2, 3), torch.randn(1)
    with pytest.raises(ShapeContractError) as eager:
        row_sums(cfg, x, bias)
    for mode in MODES:
        reset_compiler()
        with pytest.raises(CompiledShapeContractError) as traced:
            torch.compile(row_sums, backend=BACKEND, **mode)(cfg, x, bias)
        assert str(traced.value) == str(eager.value)
        assert traced.value.violation == eager.value.violation


def test_contracted_helper_inside_a_compiled_pipeline() -> None:
    def pipeline(hidden: Tensor, mask: Tensor) -> Tensor:
        return masked_mean_pool(hidden * 2, mask) + 1

    reset_compiler()
    compiled = torch.compile(pipeline, backend=BACKEND, fullgraph=True)
    hidden, mask = torch.randn(2, 5, 4), torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    torch.testing.assert_close(compiled(hidden, mask), pipeline(hidden, mask))
    with pytest.raises(ShapeContractError) as info:
        compiled(hidden, mask[:1])  # one mask row for two sequences: broadcasts, so the math runs
    assert (info.value.field, info.value.dimension) == ("argument attention_mask", "B")


def test_a_compiled_pipeline_of_contracts_compiles_like_the_unchecked_one() -> None:
    """Over six lengths, each mode gives the graphs, graph breaks and recompiles of the same pipeline unchecked."""
    calls = [waves(s) for s in LENGTHS]
    for mode in MODES:
        outs, stats = run_compiled(pipeline, calls, **mode)
        with disabled():
            plain_outs, plain_stats = run_compiled(pipeline, calls, **mode)
        assert stats == plain_stats, mode
        assert stats[1] == 0
        for out, plain in zip(outs, plain_outs, strict=True):
            torch.testing.assert_close(out, plain)


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_a_compiled_pipeline_still_rejects_a_bad_call(mode: dict[str, bool]) -> None:
    wave, mask = waves(16000)
    reset_compiler()
    compiled = torch.compile(pipeline, backend=BACKEND, **mode)
    compiled(wave, mask)
    with pytest.raises(CompiledShapeContractError) as info:
        compiled(wave, mask[:, :-1])  # one frame short: the mask of encode() no longer matches T
    assert (info.value.field, info.value.dimension) == ("argument mask", "T")


def text_calls() -> list[tuple[Tensor, Tensor]]:
    g = torch.Generator().manual_seed(0)
    return [(torch.randint(3, 99, (2, n), generator=g), torch.ones(2, n, dtype=torch.long)) for n in (5, 6, 7, 9, 12)]


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_checked_model_compiles_like_the_plain_one(mode: dict[str, bool], events: list[CheckEvent]) -> None:
    model = tiny_model("text")
    calls = text_calls()

    def embed(ids: Tensor, mask: Tensor) -> Tensor:
        return model(input_ids=ids, attention_mask=mask).last_hidden_state

    plain_outs, plain_stats = run_compiled(embed, calls, **mode)
    checked(model)
    outs, stats = run_compiled(embed, calls, **mode)
    assert stats == plain_stats
    assert stats[1] == 0
    for out, plain in zip(outs, plain_outs, strict=True):
        torch.testing.assert_close(out, plain)
    assert events == []
    ids, mask = calls[0]
    compiled = torch.compile(embed, backend=BACKEND, **mode)
    with pytest.raises(CompiledShapeContractError) as info:
        compiled(ids, mask[:1])  # one mask row for two sequences
    assert (info.value.field, info.value.dimension) == ("argument attention_mask", "B")
    long_ids = torch.randint(3, 99, (2, 70))
    with pytest.raises(CompiledShapeContractError) as info:
        compiled(long_ids, torch.ones(2, 70, dtype=torch.long))  # beyond the position table
    assert info.value.violation is not None
    assert info.value.violation.problem == "constraint"


@pytest.mark.parametrize("mode", MODES[:3], ids=MODE_IDS[:3])
def test_checked_model_with_hidden_states_compiled(mode: dict[str, bool]) -> None:
    """Tuple outputs checked while tracing, over lengths that recompile (once an InternalTorchDynamoError: the plan's
    tuple of container types could not be guarded). transformers 5.x itself breaks the graph to capture hidden states,
    so fullgraph fails plain and checked alike there."""
    model = tiny_model("text")
    calls = text_calls()

    def states(ids: Tensor, mask: Tensor) -> Tensor:
        return torch.stack(model(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states)

    if mode.get("fullgraph") and TRANSFORMERS_5:
        for prepare in (lambda: None, lambda: checked(model)):
            prepare()
            with pytest.raises(torch._dynamo.exc.Unsupported):
                run_compiled(states, calls, **mode)
        return
    plain_outs, _ = run_compiled(states, calls, **mode)
    checked(model)
    outs, _ = run_compiled(states, calls, **mode)
    for out, plain in zip(outs, plain_outs, strict=True):
        torch.testing.assert_close(out, plain)


def test_checked_model_compiled(events: list[CheckEvent]) -> None:
    model = tiny_model("vision", num_hidden_layers=1)
    pixels = tiny_inputs(model, batch=2)["pixel_values"]
    with torch.no_grad():
        expected = model(pixel_values=pixels).last_hidden_state  # no checks
        checked(model)
        reset_compiler()
        compiled = torch.compile(model, backend=BACKEND)
        for _ in range(2):
            out = compiled(pixel_values=pixels)
            torch.testing.assert_close(out.last_hidden_state, expected)
            assert out.last_hidden_state.shape == (2, 17, 32)
        with pytest.raises(ShapeContractError) as info:
            compiled(pixel_values=pixels.long())  # the contract says Float, and our error comes before the conv's
    assert info.value.violation is not None
    assert (info.value.field, info.value.violation.problem) == ("argument pixel_values", "dtype")
    assert events == []


def test_checked_of_a_compiled_model() -> None:
    """``checked(torch.compile(model))`` checks the model inside the OptimizedModule."""
    model = tiny_model("vision", num_hidden_layers=1)
    pixels = tiny_inputs(model, batch=2)["pixel_values"]
    reset_compiler()
    compiled = checked(torch.compile(model, backend=BACKEND))
    with torch.no_grad():
        assert compiled(pixel_values=pixels).last_hidden_state.shape == (2, 17, 32)
        with pytest.raises(ShapeContractError) as info:
            compiled(pixel_values=pixels.long())
    assert info.value.field == "argument pixel_values"


@pytest.mark.filterwarnings("ignore:While compiling, we found certain side effects")  # transformers' own, unchecked too
@pytest.mark.parametrize("strict", [True, False], ids=["strict", "non-strict"])
def test_export_of_a_checked_model(strict: bool) -> None:
    model = checked(tiny_model("text"))
    ids = torch.randint(3, 99, (2, 7), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = model(input_ids=ids).last_hidden_state
        exported = torch.export.export(model, (), {"input_ids": ids}, strict=strict)
        torch.testing.assert_close(exported.module()(input_ids=ids).last_hidden_state, expected)
        with pytest.raises(ShapeContractError) as info:
            torch.export.export(
                model, (), {"input_ids": ids, "attention_mask": torch.ones(1, 7, dtype=torch.long)}, strict=strict
            )
    assert (info.value.field, info.value.dimension) == ("argument attention_mask", "B")


def test_export_with_a_dynamic_length_gets_the_contracts_range() -> None:
    """A dynamic N: unchecked, export accepts N up to 200 (5.x) or 64 (4.x, the buffered token_type_ids) although the
    position table (64 rows, 2 of them before the first position) holds 62 tokens; checked, the contract's bound is
    one of the trace's guards, so export refuses the range and suggests the one the model can run."""
    model = tiny_model("text")
    assert model.config.max_position_embeddings == 64
    ids = torch.randint(3, 99, (2, 7), generator=torch.Generator().manual_seed(1))
    wide, fits = torch.export.Dim("N", min=2, max=200), torch.export.Dim("N", min=2, max=62)
    with torch.no_grad():
        if TRANSFORMERS_5:
            plain = torch.export.export(model, (), {"input_ids": ids}, dynamic_shapes={"input_ids": {1: wide}})
            assert [(int(r.lower), int(r.upper)) for r in plain.range_constraints.values()] == [(2, 200)]
        else:
            with pytest.raises(torch._dynamo.exc.UserError, match=r"N = Dim\('N', max=64\)"):
                torch.export.export(model, (), {"input_ids": ids}, dynamic_shapes={"input_ids": {1: wide}})
        checked(model)
        with pytest.raises(torch._dynamo.exc.UserError, match=r"Suggested fixes:\n  N = Dim\('N', max=62\)"):
            torch.export.export(model, (), {"input_ids": ids}, dynamic_shapes={"input_ids": {1: wide}})
        exported = torch.export.export(model, (), {"input_ids": ids}, dynamic_shapes={"input_ids": {1: fits}})
    assert [(int(r.lower), int(r.upper)) for r in exported.range_constraints.values()] == [(2, 62)]


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
    reset_compiler()
    with pytest.raises(TypeCheckError) as info:
        torch.compile(plain_jaxtyped, backend=BACKEND)(x, y)
    assert "parameter 'x'" in str(info.value)
    assert not isinstance(info.value, ShapeContractError)
    assert torch.equal(torch.compile(same_with_contract, backend=BACKEND, fullgraph=True)(x, y), x * y)
