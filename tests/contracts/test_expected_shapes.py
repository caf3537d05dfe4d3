"""``expected_shapes`` against the real outputs of tiny Data2Vec models, class by class and flag by flag."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from data2vec_contracts import ExpectedField, expected_shapes
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

# expected_shapes takes no use_cache / logits_to_keep, and cannot know which layers layerdrop skips
_EXACT = [
    s for s in scenarios() if not s.train and not ({"use_cache", "logits_to_keep"} & set(s.call_flags))
]
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
    )


@pytest.mark.parametrize("scenario", _EXACT, ids=lambda s: s.id)
def test_expected_shapes_equal_the_real_output(scenario: Scenario) -> None:
    model = scenario.build()
    out = scenario.run(model)
    expected = _expected(scenario, model)
    assert isinstance(out, tuple) == scenario.returns_tuple
    if scenario.returns_tuple:
        names = list(expected)
        text_model = (scenario.modality, scenario.head) == ("text", "Model")
        if not TRANSFORMERS_5 and text_model:
            # 4.x: the output class lists hidden_states before the cache, the tuple after it
            names.sort(key=lambda n: n != "last_hidden_state" and n != "pooler_output" and n != CACHE_FIELD)
        want: list[Any] = [expected[n].shape for n in names]
        if not TRANSFORMERS_5 and text_model and "pooler_output" not in expected:
            want.insert(1, None)  # 4.x keeps the pooler's place in the tuple
        if not TRANSFORMERS_5 and scenario.head == "ForAudioFrameClassification" and "loss" in expected:
            want.pop(0)  # 4.x leaves the loss out of the tuple of this head
        assert tuple(output_shapes(dict(enumerate(out))).values()) == tuple(want)
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
