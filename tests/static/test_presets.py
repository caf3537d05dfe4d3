"""Presets, config files, saved model folders and ``:Class`` selection resolve offline to the right config and class."""

from __future__ import annotations

import pytest
import transformers

from data2vec_contracts.contracts import num_frames, receptive_field
from data2vec_contracts.static import PRESETS
from data2vec_contracts.static._presets import load_config, resolve_target
from tests._models import tiny_config, tiny_model

LARGE = {"hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16, "intermediate_size": 4096}


def test_the_six_presets() -> None:
    assert sorted(PRESETS) == ["audio-base", "audio-large", "text-base", "text-large", "vision-base", "vision-large"]


@pytest.mark.parametrize("modality", ["text", "audio", "vision"])
def test_base_is_the_config_defaults_and_large_changes_only_the_transformer(modality: str) -> None:
    defaults = getattr(transformers, f"Data2Vec{modality.capitalize()}Config")().to_dict()
    base, _ = load_config(f"{modality}-base")
    large, source = load_config(f"{modality}-large")
    assert base.to_dict() == defaults
    changed = {k for k, v in large.to_dict().items() if defaults.get(k) != v}
    # output_hidden_size follows hidden_size when not set (the adapter's output width)
    expected = set(LARGE) | ({"conv_bias", "output_hidden_size"} if modality == "audio" else set())
    assert changed == expected
    assert {k: getattr(large, k) for k in LARGE} == LARGE
    assert source.startswith(f"preset {modality}-large (")


def test_audio_large_keeps_the_base_conv_stack() -> None:
    base, _ = load_config("audio-base")
    large, _ = load_config("audio-large")
    assert receptive_field(large) == receptive_field(base) == (400, 320)
    assert [num_frames(large, s) for s in (400, 16000, 48000)] == [1, 49, 149]
    assert large.conv_bias is True


def test_class_selection() -> None:
    target = resolve_target("audio-base:ForCTC")
    assert target.cls is transformers.Data2VecAudioForCTC
    assert target.modality == "audio"
    assert resolve_target("vision-large").cls is transformers.Data2VecVisionModel
    assert resolve_target("text-base:Data2VecTextForMaskedLM").cls is transformers.Data2VecTextForMaskedLM


def test_config_json_path_and_saved_model_folder(tmp_path) -> None:  # type: ignore[no-untyped-def]
    tiny_config("audio", num_labels=5).save_pretrained(tmp_path / "cfg")
    target = resolve_target(f"{tmp_path / 'cfg' / 'config.json'}:ForSequenceClassification")
    assert target.cls is transformers.Data2VecAudioForSequenceClassification
    assert (target.config.num_labels, target.config.hidden_size) == (5, 32)
    assert target.source == str(tmp_path / "cfg" / "config.json")
    tiny_model("text", "ForTokenClassification").save_pretrained(tmp_path / "model")
    saved = resolve_target(tmp_path / "model")
    assert saved.cls is transformers.Data2VecTextForTokenClassification  # from config.architectures
    assert resolve_target(f"{tmp_path / 'model'}:Model").cls is transformers.Data2VecTextModel


def test_errors_name_the_choices(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(
        ValueError,
        match=r"^unknown audio class 'ForMaskedLM'; choose one of Model, ForCTC, "
        r"ForSequenceClassification, ForAudioFrameClassification, ForXVector$",
    ):
        resolve_target("audio-base:ForMaskedLM")
    with pytest.raises(
        ValueError,
        match=r"^'text-huge' is neither a preset \(text-base, text-large, audio-base, "
        r"audio-large, vision-base, vision-large\) nor a config.json file or a saved model folder$",
    ):
        resolve_target("text-huge")
    (tmp_path / "config.json").write_text('{"model_type": "bert"}')
    with pytest.raises(ValueError, match=r"has model_type 'bert', not a Data2Vec model type$"):
        resolve_target(tmp_path)
