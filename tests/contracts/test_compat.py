"""Each fact of ``contracts/_compat.py`` measured on the installed transformers (4.x or 5.x)."""

from __future__ import annotations

import pytest
import torch
import transformers

from data2vec_contracts.contracts import _compat as C
from tests._models import TRANSFORMERS_5, tiny_config, tiny_inputs, tiny_model


def test_the_major_version_is_the_installed_one() -> None:
    assert int(transformers.__version__.split(".")[0]) == C.TRANSFORMERS_MAJOR
    assert (C.TRANSFORMERS_MAJOR >= 5) == TRANSFORMERS_5


def test_hidden_states_selection() -> None:
    model = tiny_model("text")
    states = model(**tiny_inputs(model), output_hidden_states=[1]).hidden_states
    if C.HIDDEN_STATES_SELECTABLE:
        assert [s is None for s in states] == [True, False, True]
    else:
        assert [s is None for s in states] == [False, False, False]
    assert model(**tiny_inputs(model), output_hidden_states=0).hidden_states is None


def test_cache_field_and_order() -> None:
    model = tiny_model("text", is_decoder=True)
    out = model(**tiny_inputs(model), output_hidden_states=True)
    assert getattr(out, C.CACHE_FIELD) is not None
    keys = list(out.keys())
    assert keys == (
        ["last_hidden_state", "pooler_output", "hidden_states", C.CACHE_FIELD]
        if C.MODEL_FIELDS_HIDDEN_FIRST
        else ["last_hidden_state", "pooler_output", C.CACHE_FIELD, "hidden_states"]
    )
    tuple_out = model(**tiny_inputs(model), output_hidden_states=True, return_dict=False)
    assert not isinstance(tuple_out[2], tuple)  # the cache comes before hidden_states in both versions
    assert isinstance(tuple_out[3], tuple)


def test_default_attention_and_what_sdpa_returns() -> None:
    for modality in ("text", "audio", "vision"):
        model = tiny_model(modality)
        assert model.config._attn_implementation == C.DEFAULT_ATTN[modality]
        assert C.default_attn(tiny_config(modality)) == C.DEFAULT_ATTN[modality]
        attentions = model(**tiny_inputs(model), output_attentions=True).attentions
        if model.config._attn_implementation == "eager":
            assert len(attentions) == 2
            continue
        kind = C.SDPA_ATTENTIONS[modality]
        if kind == "empty":
            assert attentions == ()
        elif kind == "nones":
            assert attentions == (None, None)
        else:
            assert [tuple(a.shape) for a in attentions] == [(2, 4, 17, 17)] * 2


def test_cross_attentions_of_an_encoder() -> None:
    model = tiny_model("text", attn_implementation="eager")
    out = model(**tiny_inputs(model), output_attentions=True)
    assert out.cross_attentions == (() if C.CROSS_ATTENTIONS_EMPTY else None)


def test_return_tuple_of_the_text_model_without_pooler() -> None:
    model = tiny_model("text", add_pooling_layer=False)
    out = model(**tiny_inputs(model), return_dict=False)
    assert len(out) == (2 if C.RETURN_TUPLE_KEEPS_NONE else 1)


def test_frame_classification_tuple_and_loss() -> None:
    model = tiny_model("audio", "ForAudioFrameClassification")
    inputs = tiny_inputs(model, samples=1000)
    labels = torch.zeros(2, 61, 2)
    out = model(**inputs, labels=labels, return_dict=False)
    assert len(out) == (2 if C.FRAME_TUPLE_HAS_LOSS else 1)


def test_weighted_layer_sum_returns_the_states() -> None:
    model = tiny_model("audio", "ForSequenceClassification", use_weighted_layer_sum=True)
    states = model(**tiny_inputs(model)).hidden_states
    assert (states is not None) == C.WEIGHTED_SUM_RETURNS_STATES


def test_logits_to_keep() -> None:
    model = tiny_model("text", "ForCausalLM", is_decoder=True)
    logits = model(**tiny_inputs(model, seq_len=7), logits_to_keep=2).logits
    assert tuple(logits.shape) == ((2, 2, 99) if C.LOGITS_TO_KEEP else (2, 7, 99))


def test_layerdrop_slots() -> None:
    lengths = set()
    for seed in range(6):
        torch.manual_seed(seed)
        model = tiny_model("audio", layerdrop=0.5, num_hidden_layers=3, attn_implementation="eager").train()
        out = model(**tiny_inputs(model), output_hidden_states=True, output_attentions=True)
        lengths.add((len(out.hidden_states), len(out.attentions), None in out.attentions))
    if C.LAYERDROP_KEEPS_SLOTS:
        assert {(h, a) for h, a, _ in lengths} == {(4, 3)}
        assert any(none for *_, none in lengths)
    else:
        assert len({h for h, _, _ in lengths}) >= 2
        assert not any(none for *_, none in lengths)


def test_text_on_meta_and_vision_pixel_casting() -> None:
    with torch.device("meta"):
        text = tiny_model("text")
    ids = torch.ones(1, 4, dtype=torch.long, device="meta")
    vision = tiny_model("vision")
    pixels = tiny_inputs(vision)["pixel_values"].double()
    if C.TEXT_RUNS_ON_META:
        assert text(input_ids=ids).last_hidden_state.shape == (1, 4, 32)
    else:
        with pytest.raises(RuntimeError, match=r"Tensor.item\(\) cannot be called on meta tensors"):
            text(input_ids=ids)
    if C.VISION_CASTS_PIXELS:
        assert vision(pixel_values=pixels).last_hidden_state.dtype == torch.float32
    else:
        with pytest.raises(RuntimeError, match="Input type"):
            vision(pixel_values=pixels)


@pytest.mark.parametrize("modality", ["text", "audio", "vision"])
def test_hidden_states_of_a_model_without_layers(modality: str) -> None:
    model = tiny_model(modality, num_hidden_layers=0)
    out = model(**tiny_inputs(model), output_hidden_states=True, output_attentions=True)
    assert len(out.hidden_states) == (0 if C.HIDDEN_STATES_NEED_A_LAYER[modality] else 1)
    assert len(out.attentions) == 0
