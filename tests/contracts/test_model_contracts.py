"""``checked(model)`` accepts every valid call of the 15 classes and changes nothing about the result."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import torch

from data2vec_contracts import checked, is_checked, unchecked
from data2vec_contracts.instrument import CheckEvent, add_observer, remove_observer
from tests._models import CACHE_FIELD, Scenario, scenarios, session_enforced, tiny_inputs, tiny_model


def assert_same(a: Any, b: Any, where: str = "output") -> None:
    """Exact equality of two forward results: tensors by ``torch.equal``, recursively through
    outputs, tuples, lists and caches."""
    assert type(a) is type(b), where
    if isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype, where
        assert torch.equal(a, b) or (a.isnan().any() and torch.equal(a.nan_to_num(), b.nan_to_num())), where
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    elif hasattr(a, "keys") and hasattr(a, "items"):
        assert list(a.keys()) == list(b.keys()), where
        for key in a.keys():  # noqa: SIM118 - a ModelOutput
            assert_same(a[key], b[key], f"{where}.{key}")
    elif hasattr(a, "cross_attention_cache"):  # an EncoderDecoderCache
        assert_same(a.self_attention_cache, b.self_attention_cache, f"{where}.self_attention_cache")
        assert_same(a.cross_attention_cache, b.cross_attention_cache, f"{where}.cross_attention_cache")
    elif hasattr(a, "layers"):  # a transformers Cache
        assert len(a.layers) == len(b.layers), where
        for i, (x, y) in enumerate(zip(a.layers, b.layers, strict=True)):
            assert_same(x.keys, y.keys, f"{where}.layers[{i}].keys")
            assert_same(x.values, y.values, f"{where}.layers[{i}].values")
    else:
        assert a == b, where


@pytest.fixture
def events() -> Iterator[list[CheckEvent]]:
    """Every completed model check during the test."""
    seen: list[CheckEvent] = []
    add_observer(seen.append)
    yield seen
    remove_observer(seen.append)


@pytest.mark.parametrize("scenario", scenarios(), ids=lambda s: s.id)
def test_checked_accepts_the_call_and_returns_the_same_output(scenario: Scenario, events: list[CheckEvent]) -> None:
    model = scenario.build()
    plain = scenario.run(model)
    events.clear()  # (not empty when the session enforces contracts)
    assert checked(model) is model
    assert is_checked(model)
    assert_same(plain, scenario.run(model))
    name = type(model).__name__
    checks = [(e.contract, e.kind, e.passed) for e in events]
    if session_enforced():  # then the session checks the inner models of a head too
        checks = [c for c in checks if c[0] == name]
    assert checks == [(name, "model", True)]  # checked() checks the instance once, not its inner model
    outer = next(e for e in events if e.contract == name)
    assert outer.dims["B"] == scenario.size_kwargs["batch"]
    assert outer.dims["D"] == 32
    unchecked(model)
    assert is_checked(model) is session_enforced()


def _with_mask(text: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    ids = text["input_ids"]
    mask = torch.ones_like(ids)
    mask[..., -2:] = 0
    return {**text, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)}


def _text_calls() -> dict[str, tuple[str, dict[str, Any], Callable[[Any], dict[str, Any]]]]:
    return {
        "mask-and-token-types": ("Model", {}, lambda m: _with_mask(tiny_inputs(m, batch=2, seq_len=6))),
        "bool-mask": ("ForMaskedLM", {}, lambda m: {
            **tiny_inputs(m, batch=2, seq_len=6), "attention_mask": torch.ones(2, 6, dtype=torch.bool)}),
        "broadcast-position-ids": ("ForTokenClassification", {}, lambda m: {
            **tiny_inputs(m, batch=3, seq_len=6), "position_ids": torch.arange(2, 8).unsqueeze(0)}),
        "inputs-embeds": ("ForSequenceClassification", {}, lambda m: {"inputs_embeds": torch.randn(2, 5, 32)}),
        "int32-ids": ("ForQuestionAnswering", {}, lambda m: {
            "input_ids": tiny_inputs(m, batch=2, seq_len=6)["input_ids"].int()}),
        "qa-positions-column": ("ForQuestionAnswering", {}, lambda m: {  # (B, 1) positions are squeezed
            **tiny_inputs(m, batch=2, seq_len=6), "start_positions": torch.tensor([[1], [2]]),
            "end_positions": torch.tensor([[3], [4]])}),
        "choices-mask": ("ForMultipleChoice", {}, lambda m: _with_mask(tiny_inputs(m, batch=2, num_choices=3))),
        "choices-embeds": ("ForMultipleChoice", {}, lambda m: {"inputs_embeds": torch.randn(2, 3, 4, 32)}),
        "cross-attention": ("Model", {"is_decoder": True, "add_cross_attention": True,
                                      "attn_implementation": "eager"}, lambda m: {
            **tiny_inputs(m, batch=2, seq_len=5), "encoder_hidden_states": torch.randn(2, 9, 32),
            "encoder_attention_mask": torch.ones(2, 9, dtype=torch.long), "output_attentions": True}),
        "audio-padded-mask": ("ForSequenceClassification", {}, lambda m: {
            **tiny_inputs(m, batch=2, samples=800),
            "attention_mask": torch.tensor([[1] * 800, [1] * 500 + [0] * 300])}),
        "audio-mask-time-indices": ("Model", {}, lambda m: {
            **tiny_inputs(m, batch=2, samples=1000),
            "mask_time_indices": torch.zeros(2, 61, dtype=torch.bool).index_fill_(1, torch.tensor([3, 4]), True)}),
        "vision-masked-patches": ("Model", {"use_mask_token": True}, lambda m: {
            **tiny_inputs(m, batch=2, height=40, width=24),
            "bool_masked_pos": torch.zeros(2, 15, dtype=torch.bool).index_fill_(1, torch.tensor([0, 7]), True)}),
    }


_CALLS = _text_calls()


@pytest.mark.parametrize("case", list(_CALLS))
def test_checked_accepts_the_optional_inputs(case: str) -> None:
    head, config, make = _CALLS[case]
    modality = "audio" if case.startswith("audio") else "vision" if case.startswith("vision") else "text"
    model = tiny_model(modality, head, **config)
    kwargs = make(model)
    plain = model(**kwargs)
    assert_same(plain, checked(model)(**kwargs))


def test_a_decoding_step_with_the_cache_is_accepted() -> None:
    model = checked(tiny_model("text", "ForCausalLM", is_decoder=True))
    first = model(**tiny_inputs(model, batch=2, seq_len=60))
    # 62: the whole position table
    step = model(input_ids=torch.tensor([[5, 7], [6, 8]]), **{CACHE_FIELD: getattr(first, CACHE_FIELD)})
    assert tuple(step.logits.shape) == (2, 2, 99)
    cache = getattr(step, CACHE_FIELD)
    cache = getattr(cache, "self_attention_cache", cache)  # 4.x: an EncoderDecoderCache
    assert tuple(cache.layers[0].keys.shape) == (2, 4, 62, 8)


def test_checked_subclass_of_a_head_uses_the_nearest_contract(events: list[CheckEvent]) -> None:
    from transformers import Data2VecAudioForCTC

    class MyCTC(Data2VecAudioForCTC):
        pass

    model = checked(tiny_model("audio", cls=MyCTC))
    model(**tiny_inputs(model, batch=1, samples=400))
    assert events[-1].contract == "Data2VecAudioForCTC"
    assert events[-1].dims["T"] == 24
