"""``expected_shapes`` against the real outputs of tiny Data2Vec models, class by class and flag by flag."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from data2vec_contracts import ExpectedField, checked, expected_shapes
from data2vec_contracts.contracts import _compat as C
from tests._models import (
    CACHE_FIELD,
    CLASSES,
    TRANSFORMERS_5,
    Scenario,
    only_transformers_5,
    output_shapes,
    scenarios,
    tiny_config,
    tiny_inputs,
    tiny_model,
)

# expected_shapes cannot know which layers layerdrop skips: training mode is answered with ranges, tested below
_EXACT = [s for s in scenarios() if not s.train]
_TRAINING = [s for s in scenarios() if s.train and s.config_dict.get("add_adapter") is not True]


def _expected(scenario: Scenario, model: Any) -> dict[str, ExpectedField]:
    sizes = scenario.size_kwargs
    flags = scenario.call_flags
    return expected_shapes(
        model,
        batch=sizes.pop("batch", 2),
        **sizes,
        output_hidden_states=flags.get("output_hidden_states"),
        output_attentions=flags.get("output_attentions"),
        labels=scenario.labels is not None,
        use_cache=flags.get("use_cache"),
        logits_to_keep=flags.get("logits_to_keep"),
        return_dict=False if scenario.returns_tuple else None,
    )


@pytest.mark.parametrize("scenario", _EXACT, ids=lambda s: s.id)
def test_expected_shapes_equal_the_real_output(scenario: Scenario) -> None:
    model = scenario.build()
    out = scenario.run(model)
    expected = _expected(scenario, model)
    assert isinstance(out, tuple) == scenario.returns_tuple
    if scenario.returns_tuple:
        # return_dict=False: the answer lists the tuple's items in order (4.x keeps a None slot for the pooler)
        got = [None if v is None else output_shapes({0: v}).get(0) for v in out]
        assert got == [f.shape for f in expected.values()]
    else:
        # the same fields, in the order of the output class, with the same shapes
        assert list(output_shapes(out).items()) == [(name, f.shape) for name, f in expected.items()]


@pytest.mark.parametrize("scenario", _TRAINING, ids=lambda s: s.id)
def test_training_mode_layerdrop_gives_a_prefix_of_the_expected_states(scenario: Scenario) -> None:
    model = scenario.build()
    out = scenario.run(model)
    expected = _expected(scenario, model)
    layers = model.config.num_hidden_layers
    assert len(expected["hidden_states"].shape) == layers + 1  # the most layerdrop can leave
    for name in ("hidden_states", "attentions"):
        if name not in expected:
            continue
        real = output_shapes(out)[name]
        assert len(real) <= len(expected[name].shape)
        # with an index selection the unselected slots are None
        assert all(shape in (expected[name].shape[0], None) for shape in real)
    for name, field in expected.items():
        if name not in ("hidden_states", "attentions"):
            assert output_shapes(out)[name] == field.shape


def test_layerdrop_really_varies_the_number_of_hidden_states() -> None:
    """Guards the test above: the seeds used there give different lengths (5.x); 4.x keeps every
    slot: L+1 states, and None among the attentions for a layer layerdrop skipped."""
    runs = [s.run(s.build()) for s in _TRAINING]
    states = [out.hidden_states for out in runs]
    if TRANSFORMERS_5:
        assert len({len(s) for s in states}) >= 2
        assert any(None in s for s in states)  # an index selection leaves None slots
        assert any(None not in s for s in states)
    else:
        assert {len(s) for s in states} == {4}  # num_hidden_layers=3
        assert all(None not in s for s in states)
        maps = [out.attentions for out in runs if out.attentions is not None]
        assert any(None in a for a in maps)
        assert any(None not in a for a in maps)


def test_adapter_frames_in_training_mode_are_not_predicted() -> None:
    model = tiny_model("audio", "ForCTC", add_adapter=True, layerdrop=0.5).train()
    with pytest.raises(ValueError, match="dimension Ta of"):
        expected_shapes(model, batch=2, samples=1000)


@pytest.mark.parametrize(("modality", "head"), CLASSES, ids=lambda x: x)
def test_from_a_config_alone_equals_from_the_model(modality: str, head: str) -> None:
    config = tiny_config(modality, attn_implementation="eager")
    model = tiny_model(modality, head, attn_implementation="eager")
    sizes: dict[str, Any] = {"text": {"seq_len": 5, "num_choices": 3}, "audio": {"samples": 700}}.get(modality, {})
    flags = {"output_hidden_states": True, "output_attentions": True}
    from_config = expected_shapes(config, head, batch=3, **sizes, **flags)
    assert from_config == expected_shapes(config, f"Data2Vec{modality.capitalize()}{head}", batch=3, **sizes, **flags)
    assert from_config == expected_shapes(model, batch=3, **sizes, **flags)
    out = model(**tiny_inputs(model, batch=3, **sizes), **flags)
    assert output_shapes(out) == {name: f.shape for name, f in from_config.items()}


def test_ctc_from_a_config_alone() -> None:
    config = tiny_config("audio")
    assert expected_shapes(config, "ForCTC", batch=2, samples=1000) == {
        "logits": ExpectedField((2, 61, 20), ("B", "T", "V")),
    }
    config = tiny_config("audio", add_adapter=True)  # three adapter layers: 61 -> 31 -> 16 -> 8
    assert expected_shapes(config, "ForCTC", batch=2, samples=1000, labels=True) == {
        "loss": ExpectedField((), ()),
        "logits": ExpectedField((2, 8, 20), ("B", "Ta", "V")),
    }


def test_the_pooler_flag_of_a_config_alone() -> None:
    text, vision = tiny_config("text"), tiny_config("vision")
    assert list(expected_shapes(text, batch=1, seq_len=4)) == ["last_hidden_state", "pooler_output"]
    assert list(expected_shapes(text, batch=1, seq_len=4, add_pooling_layer=False)) == ["last_hidden_state"]
    assert list(expected_shapes(vision, batch=1)) == ["last_hidden_state"]
    assert expected_shapes(vision, batch=1, add_pooling_layer=True)["pooler_output"] == ((1, 32), ("B", "D"))


def test_symbolic_forms() -> None:
    flags = {"output_hidden_states": [1, -1], "output_attentions": True}
    text = expected_shapes(tiny_config("text", attn_implementation="eager"), "ForMultipleChoice", batch=2,
                           seq_len=5, num_choices=3, **flags)
    state = ("B*C", "N", "D")
    assert text == {
        "logits": ExpectedField((2, 3), ("B", "C")),
        # transformers 4.x has no index selection: a list returns every state
        "hidden_states": ExpectedField((None, (6, 5, 32), (6, 5, 32)), (None, state, state))
        if TRANSFORMERS_5
        else ExpectedField(((6, 5, 32),) * 3, (state,) * 3),
        "attentions": ExpectedField(((6, 4, 5, 5),) * 2, (("B*C", "heads", "N", "N"),) * 2),
    }
    audio = expected_shapes(tiny_config("audio", add_adapter=True, output_hidden_size=24), batch=1, samples=29)
    assert audio == {
        "last_hidden_state": ExpectedField((1, 1, 24), ("B", "Ta", "Dp")),
        "extract_features": ExpectedField((1, 1, 16), ("B", "T", "F")),
    }
    xvector = expected_shapes(tiny_config("audio"), "ForXVector", batch=2, samples=269)
    assert xvector == {"logits": ExpectedField((2, 12), ("B", "X")), "embeddings": ExpectedField((2, 12), ("B", "X"))}
    vision = expected_shapes(tiny_config("vision"), "ForSemanticSegmentation", batch=2, **flags)
    assert vision == {
        "logits": ExpectedField((2, 2, 16, 16), ("B", "K", "Hs", "Hs")),
        "hidden_states": ExpectedField(((2, 17, 32),) * 3, (("B", "Nv", "D"),) * 3),  # vision ignores a selection
        # sdpa: L Nones in 5.x; 4.x falls back to eager attention and returns the maps
        "attentions": ExpectedField((None, None), (None, None))
        if TRANSFORMERS_5
        else ExpectedField(((2, 4, 17, 17),) * 2, (("B", "heads", "Nv", "Nv"),) * 2),
    }
    cls0 = expected_shapes(tiny_config("vision", num_labels=0), "ForImageClassification", batch=2, height=40, width=24)
    assert cls0 == {"logits": ExpectedField((2, 32), ("B", "D"))}
    causal = expected_shapes(tiny_config("text", is_decoder=True), "ForCausalLM", batch=2, seq_len=5)
    assert causal == {"logits": ExpectedField((2, 5, 99), ("B", "N", "V")), CACHE_FIELD: ExpectedField(None, None)}


@only_transformers_5("logits_to_keep (4.x returns all N logits)")
@pytest.mark.parametrize(
    ("keep", "shape"),
    [
        (2, (2, 2, 99)),
        (9, (2, 7, 99)),  # more than N keeps all N
        (torch.tensor([0, 3, 6]), (2, 3, 99)),
        (torch.tensor([[0, 1], [5, 6]]), (2, 2, 99)),
        (torch.tensor([[True] * 3 + [False] * 4, [False] * 6 + [True]]), (4, 99)),  # 2-D bool: (num_true, V)
    ],
    ids=["int", "int-over-N", "index-1d", "index-2d", "bool-2d"],
)
def test_causal_lm_logits_to_keep(keep: Any, shape: tuple[int, ...]) -> None:
    """expected_shapes has no logits_to_keep argument: these are the real shapes the contract accepts."""
    model = tiny_model("text", "ForCausalLM", is_decoder=True)
    out = model(**tiny_inputs(model, batch=2, seq_len=7), logits_to_keep=keep)
    assert tuple(out.logits.shape) == shape
    assert out.cache is not None


def test_wrong_arguments() -> None:
    config = tiny_config("text")
    with pytest.raises(ValueError, match="unknown head 'ForCTC' for a Data2VecTextConfig; choose one of Model, "):
        expected_shapes(config, "ForCTC", batch=1, seq_len=3)
    with pytest.raises(ValueError, match=r"expected_shapes\(\): seq_len must be a positive int, got None"):
        expected_shapes(config, batch=1)
    with pytest.raises(TypeError, match="takes a Data2Vec model or a Data2VecTextConfig"):
        expected_shapes(torch.nn.Linear(2, 2).state_dict(), batch=1)


# -- everything that changes an output (issue 9) --------------------------------------------------------------
def _real_shapes(out: Any) -> dict[Any, Any]:
    items = out.items() if hasattr(out, "items") else enumerate(out)
    found: dict[Any, Any] = {}
    for key, value in items:
        if value is None:
            continue
        if isinstance(value, torch.Tensor):
            found[key] = tuple(value.shape)
        elif isinstance(value, (tuple, list)):
            found[key] = tuple(None if v is None else tuple(v.shape) for v in value)
        else:
            found[key] = None  # a cache object
    return found


def _answers(model: Any, **kwargs: Any) -> dict[str, Any]:
    return {name: field.shape for name, field in expected_shapes(model, **kwargs).items()}


def test_logits_to_keep_past_len_and_cache_steps_equal_real_outputs() -> None:
    model = checked(tiny_model("text", "ForCausalLM", is_decoder=True, attn_implementation="eager"))
    ids = torch.randint(2, 99, (2, 5))
    first = model(input_ids=ids, output_attentions=True)
    assert _real_shapes(first) == _answers(model, batch=2, seq_len=5, output_attentions=True)
    cache = getattr(first, CACHE_FIELD)
    step = model(input_ids=ids[:, :1], attention_mask=torch.ones(2, 6, dtype=torch.long), output_attentions=True,
                 **{CACHE_FIELD: cache})
    assert _real_shapes(step) == _answers(model, batch=2, seq_len=1, past_len=5, output_attentions=True)
    assert _real_shapes(step)["attentions"] == ((2, 4, 1, 6), (2, 4, 1, 6))  # (B, heads, N, P + N)
    if TRANSFORMERS_5:
        kept = model(input_ids=ids, logits_to_keep=2)
        assert _real_shapes(kept) == _answers(model, batch=2, seq_len=5, logits_to_keep=2)


def test_cross_attentions_and_the_return_dict_false_tuple_equal_real_outputs() -> None:
    model = checked(tiny_model("text", is_decoder=True, add_cross_attention=True, attn_implementation="eager"))
    ids = torch.randint(2, 99, (2, 5))
    out = model(input_ids=ids, encoder_hidden_states=torch.randn(2, 7, 32), output_attentions=True)
    assert _real_shapes(out) == _answers(model, batch=2, seq_len=5, encoder_seq_len=7, output_attentions=True)
    as_tuple = model(input_ids=ids, return_dict=False, output_hidden_states=True)
    answer = expected_shapes(model, batch=2, seq_len=5, return_dict=False, output_hidden_states=True)
    assert len(answer) == len(as_tuple)
    assert list(_real_shapes(as_tuple).values()) == [field.shape for field in answer.values()]


def test_labels_by_name_and_training_mode_lengths() -> None:
    qa = checked(tiny_model("text", "ForQuestionAnswering"))
    starts = torch.zeros(2, dtype=torch.long)
    ids = torch.randint(2, 99, (2, 5))
    assert "loss" not in _real_shapes(qa(input_ids=ids, start_positions=starts))
    assert "loss" not in _answers(qa, batch=2, seq_len=5, labels="start_positions")
    assert "loss" in _answers(qa, batch=2, seq_len=5, labels=["start_positions", "end_positions"])
    with pytest.raises(ValueError, match="takes no label argument 'labels'; its label arguments are start_positions"):
        expected_shapes(qa, batch=2, seq_len=5, labels="labels")
    audio = checked(tiny_model("audio", layerdrop=0.5)).train()
    answer = expected_shapes(audio, batch=2, samples=1000, output_hidden_states=True)["hidden_states"]
    # 4.x keeps a slot per layer (None when skipped): a fixed length; 5.x leaves skipped layers out: a range
    assert answer.length == (None if C.LAYERDROP_KEEPS_SLOTS else (0, 3))
    for seed in range(4):
        torch.manual_seed(seed)
        states = audio(**tiny_inputs(audio, batch=2, samples=1000), output_hidden_states=True).hidden_states
        if answer.length is None:
            assert len(states) == len(answer.shape)
        else:
            assert answer.length[0] <= len(states) <= answer.length[1]
            assert "layerdrop" in answer.why
        assert all(s is None or tuple(s.shape) == answer.shape[0] for s in states)


def test_tuple_patch_and_image_sizes() -> None:
    model = checked(tiny_model("vision", patch_size=(8, 4), image_size=(32, 48)))
    out = model(pixel_values=torch.randn(2, 3, 32, 48), output_hidden_states=True)
    assert _real_shapes(out) == _answers(model, batch=2, output_hidden_states=True)
    assert _real_shapes(out)["last_hidden_state"] == (2, 1 + 4 * 12, 32)


def test_models_without_layers() -> None:
    for modality in ("text", "audio", "vision"):
        model = checked(tiny_model(modality, num_hidden_layers=0))
        inputs = tiny_inputs(model)
        out = model(**inputs, output_hidden_states=True)
        sizes = {k: v.shape[-1] for k, v in inputs.items() if k in ("input_ids", "input_values")}
        if modality == "text":
            answer = _answers(model, batch=inputs["input_ids"].shape[0], seq_len=sizes["input_ids"],
                              output_hidden_states=True)
        elif modality == "audio":
            answer = _answers(model, batch=inputs["input_values"].shape[0], samples=sizes["input_values"],
                              output_hidden_states=True)
        else:
            answer = _answers(model, batch=inputs["pixel_values"].shape[0], output_hidden_states=True)
        assert _real_shapes(out) == answer
