"""The fixtures: ``data2vec_model`` / ``data2vec_config`` factories and ``shape_contract_recorder``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from jaxtyping import Float
from torch import Tensor

import data2vec_contracts as dc
from data2vec_contracts.contracts import CLASS_NAMES as CONTRACT_CLASS_NAMES
from data2vec_contracts.plugin import ShapeContractRecorder
from data2vec_contracts.plugin._classes import CLASS_NAMES, HEADS


def test_the_plugin_names_the_same_15_classes_as_the_contracts() -> None:
    assert len(CLASS_NAMES) == 15
    assert sorted(CLASS_NAMES) == sorted(CONTRACT_CLASS_NAMES)


@pytest.mark.parametrize(("modality", "head"), [(m, h) for m, heads in HEADS.items() for h in heads])
def test_data2vec_model_builds_every_class_tiny_checked_and_in_eval_mode(
    data2vec_model: Callable[..., Any], modality: str, head: str
) -> None:
    model = data2vec_model(modality, head)
    assert type(model).__name__ == f"Data2Vec{modality.capitalize()}{head}"
    assert not model.training
    assert dc.is_checked(model)
    assert model.config.hidden_size == 32
    assert model.config.num_hidden_layers == 2


def test_data2vec_model_runs_and_checks(data2vec_model: Callable[..., Any]) -> None:
    model = data2vec_model("audio", "ForCTC", num_hidden_layers=1)
    assert len(model.data2vec_audio.encoder.layers) == 1
    assert model(input_values=torch.zeros(2, 1000)).logits.shape == (2, 61, 20)
    with pytest.raises(dc.ShapeContractError, match="rank of argument input_values"):
        model(input_values=torch.zeros(2, 1, 1000))


def test_data2vec_model_weights_are_seeded_and_leave_the_global_rng_alone(data2vec_model: Callable[..., Any]) -> None:
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    first = data2vec_model("vision")
    assert torch.equal(torch.rand(3), expected_next)
    second = data2vec_model("vision")
    for (name, a), (_, b) in zip(first.state_dict().items(), second.state_dict().items(), strict=True):
        assert torch.equal(a, b), name


def test_constructor_keywords_go_to_the_constructor_and_the_rest_to_the_config(
    data2vec_model: Callable[..., Any],
) -> None:
    model = data2vec_model("text", "Model", add_pooling_layer=False, attn_implementation="eager", num_labels=5)
    assert model.pooler is None
    assert model.config._attn_implementation == "eager"
    assert model.config.num_labels == 5


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        (
            ("speech",),
            {},
            ValueError,
            "data2vec_model: unknown modality 'speech'; choose one of 'text', 'audio', 'vision'",
        ),
        (
            ("Text",),
            {},
            ValueError,
            "data2vec_model: unknown modality 'Text' (did you mean 'text'?); choose one of 'text', 'audio', 'vision'",
        ),
        (
            ("audio", "ForCtc"),
            {},
            ValueError,
            "data2vec_model: audio has no head 'ForCtc' (did you mean 'ForCTC'?); the audio heads are Model, ForCTC, "
            "ForSequenceClassification, ForAudioFrameClassification, ForXVector",
        ),
        (
            ("vision", "ForMaskedLM"),
            {},
            ValueError,
            "data2vec_model: vision has no head 'ForMaskedLM'; the vision heads are Model, ForImageClassification, "
            "ForSemanticSegmentation",
        ),
        (
            ("text", "Model"),
            {"num_hidden_layer": 1},
            TypeError,
            "data2vec_config('text'): Data2VecTextConfig has no field 'num_hidden_layer' "
            "(did you mean 'num_hidden_layers'?)",
        ),
    ],
    ids=["modality", "modality-case", "head", "head-of-other-modality", "config-field"],
)
def test_data2vec_model_rejects_bad_names_precisely(
    data2vec_model: Callable[..., Any], args: tuple[str, ...], kwargs: dict[str, Any], error: type, message: str
) -> None:
    with pytest.raises(error) as info:
        data2vec_model(*args, **kwargs)
    assert str(info.value) == message


def test_data2vec_config(data2vec_config: Callable[..., Any]) -> None:
    config = data2vec_config("audio", num_hidden_layers=1, conv_stride=(5, 2, 2))
    assert type(config).__name__ == "Data2VecAudioConfig"
    assert (config.hidden_size, config.num_hidden_layers, tuple(config.conv_stride)) == (32, 1, (5, 2, 2))
    with pytest.raises(TypeError) as info:
        data2vec_config("vision", patch=4)
    assert str(info.value) == "data2vec_config('vision'): Data2VecVisionConfig has no field 'patch'"
    with pytest.raises(ValueError, match="data2vec_config: unknown modality 'image'"):
        data2vec_config("image")


@dc.contract
def first_token(x: Float[Tensor, "B N D"]) -> Float[Tensor, "B D"]:
    return x[:, 0]


@pytest.mark.usefixtures("unenforced")
def test_the_recorder_sees_models_and_functions(
    data2vec_model: Callable[..., Any], shape_contract_recorder: ShapeContractRecorder
) -> None:
    model = data2vec_model("text", "ForTokenClassification")
    out = model(input_ids=torch.randint(2, 99, (2, 7)))
    model(input_ids=torch.randint(2, 99, (3, 5)))
    first_token(out.logits)
    recorder = shape_contract_recorder
    assert recorder.contracts() == ["Data2VecTextForTokenClassification", f"{__name__}.first_token"]
    assert len(recorder.calls("Data2VecTextForTokenClassification")) == 2
    assert len(recorder.calls("first_token")) == 1  # a function by its last dotted name
    assert recorder.dims("B") == {2, 3}
    assert recorder.dims("N", "first_token") == {7}
    assert recorder.dims("D", "first_token") == {2}  # the logits' last axis is K=2
    assert all(e.kind == "model" for e in recorder.calls("Data2VecTextForTokenClassification"))
    assert repr(recorder) == "<ShapeContractRecorder 3 checks of 2 contracts>"
    recorder.clear()
    assert recorder.calls() == []


def test_the_recorder_records_only_during_its_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from data2vec_contracts.instrument import observers
        from data2vec_contracts.plugin import ShapeContractRecorder


        def test_records(shape_contract_recorder):
            assert shape_contract_recorder in observers()


        def test_removed_afterwards():
            assert not any(isinstance(o, ShapeContractRecorder) for o in observers())
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2)
