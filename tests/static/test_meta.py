"""``static.check``: every class and preset on the meta device, masks, pipelines, and agreement with real runs."""

from __future__ import annotations

import os
from typing import Any

import pytest
import torch

from data2vec_contracts import ShapeContractError, expected_shapes
from data2vec_contracts.static import check
from data2vec_contracts.static._presets import load_config
from tests._models import CLASSES, HEADS, TRANSFORMERS_5, output_shapes, tiny_config, tiny_inputs, tiny_model
from tests.static import pipelines

SIZES = {"text": {"batch": 2, "seq_len": 128}, "audio": {"batch": 2, "samples": 16000}, "vision": {"batch": 2}}


def _sizes(modality: str, head: str) -> dict[str, int]:
    extra = {"num_choices": 3} if head == "ForMultipleChoice" else {}
    return {**SIZES[modality], **extra}


def _expected(config: Any, head: str, sizes: dict[str, int]) -> dict[str, Any]:
    return {k: v.shape for k, v in expected_shapes(config, head, **sizes).items()}


def _result_shapes(result: Any) -> dict[str, Any]:
    shapes = {}
    for f in result.fields:
        if f.role == "output":
            shapes[f.name] = f.shape if f.count is None else tuple(f.shape for _ in range(f.count))
    return shapes


@pytest.mark.parametrize(("modality", "head"), CLASSES, ids=lambda v: str(v))
def test_every_class_at_base_size_on_meta(modality: str, head: str) -> None:
    sizes = _sizes(modality, head)
    result = check(f"{modality}-base:{head}", **sizes)
    config, _ = load_config(f"{modality}-base")
    assert result.shapes == _expected(config, head, sizes)
    assert result.checked == (f"Data2Vec{modality.capitalize()}{head}",)
    assert result.mode == "meta device"
    # transformers builds audio's masked_spec_embed with torch.Tensor(...), which ignores the default device
    assert all(name.endswith("masked_spec_embed") for name in result.off_meta)
    assert result.off_meta_bytes <= 4 * config.hidden_size
    assert result.parameters > 10_000_000


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.parametrize("modality", ["text", "audio", "vision"])
def test_large_model_on_meta_allocates_no_weights(modality: str) -> None:
    before = _rss()
    result = check(f"{modality}-large", **SIZES[modality])
    grown = _rss() - before
    config, _ = load_config(f"{modality}-large")
    assert result.shapes == _expected(config, "Model", SIZES[modality])
    assert result.parameters > 300_000_000  # 1.2 GB of float32 weights if they were real
    assert grown < result.parameters * 4 // 10, f"RSS grew by {grown / 1e6:.0f} MB"
    assert result.field("last_hidden_state").shape[-1] == 1024


def test_text_mask_runs_under_fake_tensors() -> None:
    result = check("text-large", batch=2, seq_len=64, mask=True)
    assert result.mode == "meta device under FakeTensorMode (attention_mask values symbolic)"
    assert [(f.role, f.name, f.shape, f.dtype) for f in result.fields] == [
        ("input", "input_ids", (2, 64), "int64"),
        ("input", "attention_mask", (2, 64), "int64"),
        ("output", "last_hidden_state", (2, 64, 1024), "float32"),
        ("output", "pooler_output", (2, 1024), "float32"),
    ]
    assert result.parameters_on_meta


# where torch stops on the audio mask path: transformers 4.x guards on a value, 5.x reads one as an int
_DATA_DEPENDENT = (
    "Could not extract specialized integer from data-dependent expression u0"
    if TRANSFORMERS_5
    else "Could not guard on data-dependent expression Eq(u0, 1)"
)


def test_audio_masked_mean_runs_under_fake_tensors() -> None:
    result = check("audio-base:ForSequenceClassification", samples=16000, mask=True)
    assert result.mode == (
        "meta device under FakeTensorMode (attention_mask values symbolic)"
        if TRANSFORMERS_5
        # 4.x guards on a mask value in the feature encoder: the tiny CPU fallback runs
        else "meta device without attention_mask, plus a tiny-width CPU run with it"
    )
    assert result.shapes == {"logits": (2, 2)}


def test_xvector_mask_falls_back_to_a_tiny_cpu_run_and_says_so() -> None:
    result = check("audio-base:ForXVector", samples=16000, mask=True)
    assert result.mode == "meta device without attention_mask, plus a tiny-width CPU run with it"
    assert result.shapes == {"logits": (2, 512), "embeddings": (2, 512)}
    assert result.checked == ("Data2VecAudioForXVector", "Data2VecAudioForXVector")
    assert result.notes == (
        f"the attention_mask path reads tensor values ({_DATA_DEPENDENT}); it ran for real on CPU with the same sizes "
        "at hidden_size=32 (every length-deciding config field kept), contracts checked: Data2VecAudioForXVector; "
        "shapes there: logits (2, 512), embeddings (2, 512)",
    )


def test_a_pipeline_reading_mask_values_runs_at_a_tiny_width_and_says_so() -> None:
    result = check(pipelines.audio_pooled, "audio-large", B=3, S=32000)
    assert result.mode == "CPU at a tiny width (the pipeline reads mask values)"
    assert result.shapes == {"return value": (3, 32)}
    assert result.dimensions["D"] == (32, "model.config.hidden_size")
    assert result.checked == (
        "Data2VecAudioModel",
        "data2vec_contracts.frame_mask",
        "data2vec_contracts.masked_mean_pool",
        "tests.static.pipelines.audio_pooled",
    )
    assert result.notes == (
        f"the attention_mask path reads tensor values ({_DATA_DEPENDENT}); the pipeline ran for real on CPU with "
        "the same sizes at hidden_size=32 (every length-deciding config field kept), so the shapes above are at "
        "that width",
    )


@pytest.mark.parametrize("modality", ["text", "audio", "vision"])
def test_meta_shapes_agree_with_real_runs_at_many_sizes(modality: str) -> None:
    sizes = {
        "text": [{"seq_len": n, "batch": b} for n, b in ((2, 1), (7, 3), (33, 2), (62, 1))],
        "audio": [{"samples": s, "batch": b} for s, b in ((29, 1), (45, 2), (1000, 3), (4321, 1))],
        "vision": [
            {"height": h, "width": w, "batch": b} for h, w, b in ((8, 8, 1), (32, 32, 2), (40, 24, 1), (56, 72, 2))
        ],
    }[modality]
    compared = 0
    for head in HEADS[modality]:
        config = tiny_config(modality, num_labels=2)
        model = tiny_model(modality, head, num_labels=2)
        for size in sizes:
            if head == "ForSemanticSegmentation" and (size["height"], size["width"]) != (32, 32):
                continue  # the head only takes image_size inputs
            if head == "ForXVector" and size["samples"] < 269:
                continue  # fewer than 2 frames after the TDNN
            kw = {"num_choices": 3, **size} if head == "ForMultipleChoice" else size
            meta = check(f"Data2Vec{modality.capitalize()}{head}", config, **kw)
            with torch.no_grad():
                real = output_shapes(model(**tiny_inputs(model, **kw)))
            assert _result_shapes(meta) == real, (head, kw)
            compared += 1
    assert compared >= 3 * len(HEADS[modality])


def test_pipeline_with_a_mask_on_text_large() -> None:
    result = check(pipelines.text_embed, "text-large", B=4, N=256)
    assert result.kind == "pipeline"
    assert result.checked == (
        "Data2VecTextModel",
        "data2vec_contracts.masked_mean_pool",
        "tests.static.pipelines.text_embed",
    )
    assert result.shapes == {"return value": (4, 1024)}
    assert result.dimensions["D"] == (1024, "model.config.hidden_size")
    assert result.parameters_on_meta


def test_pipeline_that_builds_its_model_and_a_vision_grid() -> None:
    built = check(pipelines.build_and_embed, "text-base", N=20)
    assert built.shapes == {"return value": (2, 20, 768)}
    assert built.checked == ("Data2VecTextModel", "tests.static.pipelines.build_and_embed")
    grid = check("tests.static.pipelines:vision_grid", "vision-large", H=384, W=224)
    assert grid.shapes == {"return value": (2, 24, 14, 1024)}
    assert grid.dimensions["h"] == (24, "h = H//p with H=384, p=16; where= of the contract")


def test_a_pipeline_bug_is_a_violation_on_meta() -> None:
    LINE = pipelines.bug_drop_token.__wrapped__.__code__.co_firstlineno
    with pytest.raises(ShapeContractError) as info:
        check(pipelines.bug_drop_token, "text-large", B=2, N=9)
    assert str(info.value) == (
        "Shape contract violated: dimension N of return value.\n"
        "  Function: tests.static.pipelines.bug_drop_token\n"
        f"    Declared: {os.path.relpath(pipelines.__file__)}:{LINE}\n"
        "    Return value\n"
        '      Contract: Float[Tensor, "B N D"]\n'
        "      Actual value: Tensor(float32, shape=(2, 8, 1024), device=meta)\n"
        "      Dimension N: expected 9, actual 8\n"
        "      N was bound by: argument input_ids, axis 1\n"
        "    Other bindings:\n"
        "      D = 1024  (model.config.hidden_size)\n"
        "      B = 2     (argument input_ids, axis 0)"
    )


def test_usage_errors() -> None:
    with pytest.raises(
        ValueError, match=r"^Data2VecTextModel has no input dimension S; its input dimensions are B, N$"
    ):
        check("text-base", samples=100)
    with pytest.raises(TypeError, match=r"has no contract: decorate it with @data2vec_contracts.contract"):
        check(pipelines.no_contract, "text-base")
    with pytest.raises(ValueError, match=r"^give a config for the pipeline tests.static.pipelines.text_embed"):
        check(pipelines.text_embed)


def test_a_class_object_a_class_name_and_a_preset_spec_are_the_same_target() -> None:
    import transformers

    by_class = check(transformers.Data2VecAudioForCTC, "audio-base", samples=48000)
    by_name = check("ForCTC", "audio-base", samples=48000)
    by_spec = check("audio-base:ForCTC", samples=48000)
    assert by_class.shapes == by_name.shapes == by_spec.shapes == {"logits": (2, 149, 32)}
    assert by_class.model_class == by_name.model_class == by_spec.model_class == "Data2VecAudioForCTC"
