"""Random valid configs and inputs for all 15 classes: ``expected_shapes`` equals the real shapes,
and ``checked`` models raise nothing.

The suite runs a bounded number of examples. The long run draws more examples per modality::

    D2V_ROBUSTNESS_EXAMPLES=500 python -m pytest tests/contracts/test_robustness.py -p no:cacheprovider

(500 examples per modality, spread over its classes; set ``D2V_ROBUSTNESS_SEED`` to replay a run.)
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch
import transformers
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from data2vec_contracts import ShapeContractError, checked, expected_shapes
from data2vec_contracts.contracts import num_frames, receptive_field
from tests._models import TRANSFORMERS_5

ENV = "D2V_ROBUSTNESS_EXAMPLES"
PER_MODALITY = int(os.environ.get(ENV, "50"))

TEXT_HEADS = ("Model", "ForCausalLM", "ForMaskedLM", "ForSequenceClassification", "ForTokenClassification",
              "ForQuestionAnswering", "ForMultipleChoice")
AUDIO_HEADS = ("Model", "ForCTC", "ForSequenceClassification", "ForAudioFrameClassification", "ForXVector")
VISION_HEADS = ("Model", "ForImageClassification", "ForSemanticSegmentation")


@dataclass
class Case:
    """One drawn example: a model class, its config, the forward call, and the sizes for expected_shapes."""

    cls: str
    config: dict[str, Any]
    inputs: dict[str, Any]
    sizes: dict[str, Any]
    build: dict[str, Any] = field(default_factory=dict)
    flags: dict[str, Any] = field(default_factory=dict)
    training: bool = False

    def __repr__(self) -> str:
        shapes = {k: tuple(v.shape) if isinstance(v, torch.Tensor) else v for k, v in self.inputs.items()}
        return (f"Case({self.cls}, config={self.config}, build={self.build}, flags={self.flags}, inputs={shapes}, "
                f"training={self.training})")


def shape_of(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return tuple(value.shape)
    if isinstance(value, (tuple, list)):
        return tuple(None if v is None else tuple(v.shape) for v in value)
    return None


def run_case(case: Case) -> None:
    """Build the model, call it checked, and compare every output field with ``expected_shapes``."""
    modality = next(m for m in ("Text", "Audio", "Vision") if case.cls.startswith(f"Data2Vec{m}"))
    config = getattr(transformers, f"Data2Vec{modality}Config")(**case.config)
    torch.manual_seed(0)
    model = checked(getattr(transformers, case.cls)(config, **case.build).train(case.training))
    with torch.no_grad():
        out = model(**case.inputs, **case.flags)
    expected = expected_shapes(
        model,
        batch=case.sizes["batch"],
        **{k: v for k, v in case.sizes.items() if k != "batch"},
        output_hidden_states=case.flags.get("output_hidden_states", case.config.get("output_hidden_states")),
        output_attentions=case.flags.get("output_attentions", case.config.get("output_attentions")),
        labels=[k for k in _LABELS if k in case.inputs],
        encoder_seq_len=enc.shape[1] if (enc := case.inputs.get("encoder_hidden_states")) is not None else None,
        logits_to_keep=case.inputs.get("logits_to_keep"),
        return_dict=case.flags.get("return_dict", case.config.get("return_dict")),
    )
    want = [(name, f.shape) for name, f in expected.items()]
    if case.flags.get("return_dict", case.config.get("return_dict")) is False:
        assert isinstance(out, tuple)
        assert [shape_of(v) for v in out] == [shape for _, shape in want], case
    else:
        got_fields = [(name, shape_of(value)) for name, value in out.items()]
        assert got_fields == want, case


_LABELS = ("labels", "start_positions", "end_positions")


# -- shared pieces ----------------------------------------------------------------------------------
@st.composite
def transformer_dims(
    draw: st.DrawFn, min_layers: int = 1, tuple_output: bool = True, attns: tuple[str, ...] = ("eager", "sdpa")
) -> dict[str, Any]:
    heads = draw(st.integers(1, 4))
    head_dim = draw(st.sampled_from((2, 4, 8)))
    attn = draw(st.sampled_from(attns))
    return {
        "hidden_size": heads * head_dim,
        "num_attention_heads": heads,
        "num_hidden_layers": draw(st.integers(min_layers, 3)),
        "intermediate_size": draw(st.integers(4, 40)),
        "attn_implementation": attn,
        **draw(config_flags(attn, tuple_output)),
    }


@st.composite
def config_flags(draw: st.DrawFn, attn: str, tuple_output: bool) -> dict[str, Any]:
    """Flags set in the config instead of the call (the call's own flags override them).

    transformers refuses a config with output_attentions=True and sdpa attention, and the audio heads
    crash with config.return_dict=False (they read ``.last_hidden_state`` of a tuple; reported).
    """
    names = ["output_hidden_states"]
    if attn == "eager":
        names.append("output_attentions")
    flags = {name: draw(st.booleans()) for name in names}
    if tuple_output:
        flags["return_dict"] = draw(st.booleans())
    return {k: v for k, v in flags.items() if draw(st.booleans())}


@st.composite
def output_flags(draw: st.DrawFn, layers: int, selectable: bool = True) -> dict[str, Any]:
    n = layers + 1
    choices: list[st.SearchStrategy[Any]] = [st.none(), st.booleans()]
    if selectable:
        choices += [st.integers(-n, n - 1), st.lists(st.integers(-n, n - 1), min_size=1, max_size=3, unique=True)]
    else:
        choices += [st.lists(st.integers(-n, n - 1), min_size=1, max_size=2, unique=True)]
    flags: dict[str, Any] = {
        "output_hidden_states": draw(st.one_of(*choices)),
        "output_attentions": draw(st.sampled_from((None, False, True))),
    }
    if draw(st.booleans()):
        flags["return_dict"] = draw(st.booleans())
    return {k: v for k, v in flags.items() if v is not None}


# -- text ---------------------------------------------------------------------------------------------
@st.composite
def text_cases(draw: st.DrawFn, head: str) -> Case:
    dims = draw(transformer_dims(attns=("eager", "sdpa") if TRANSFORMERS_5 else ("eager",)))  # 4.x text: eager only
    pad = draw(st.sampled_from((0, 1)))
    config: dict[str, Any] = {
        **dims,
        "vocab_size": draw(st.integers(8, 60)),
        "max_position_embeddings": draw(st.integers(pad + 4, 40)),
        "type_vocab_size": draw(st.integers(1, 3)),
        "pad_token_id": pad,
        "bos_token_id": 0,
        "eos_token_id": 2,
        "num_labels": 2 if head == "ForQuestionAnswering" else draw(st.integers(1, 4)),
    }
    build: dict[str, Any] = {}
    if head == "Model":
        build["add_pooling_layer"] = draw(st.booleans())
    if head in ("Model", "ForCausalLM"):
        config["is_decoder"] = draw(st.booleans())
        config["add_cross_attention"] = config["is_decoder"] and draw(st.booleans())
    limit = config["max_position_embeddings"] - pad - 1
    b = draw(st.integers(1, 3))
    n = draw(st.integers(1, limit))
    lead: tuple[int, ...] = (b,)
    sizes: dict[str, Any] = {"batch": b, "seq_len": n}
    if head == "ForMultipleChoice":
        c = draw(st.integers(1, 3))
        lead = (b, c)
        sizes["num_choices"] = c
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    inputs: dict[str, Any] = {}
    if draw(st.booleans()):
        inputs["inputs_embeds"] = torch.randn(*lead, n, config["hidden_size"], generator=gen)
    else:
        inputs["input_ids"] = torch.randint(3, config["vocab_size"], (*lead, n), generator=gen)
    if draw(st.booleans()):
        mask = torch.ones(*lead, n, dtype=torch.long)
        mask[..., max(1, n // 2):] = draw(st.integers(0, 1))
        inputs["attention_mask"] = mask
    if draw(st.booleans()):
        inputs["token_type_ids"] = torch.randint(0, config["type_vocab_size"], (*lead, n), generator=gen)
    if draw(st.booleans()):
        positions = torch.arange(pad + 1, pad + 1 + n).expand(*lead, n)
        inputs["position_ids"] = positions[:1] if head != "ForMultipleChoice" and draw(st.booleans()) else positions
    # transformers 4.x raises IndexError for cross-attention inputs to an encoder (add_cross_attention without
    # is_decoder) asked for attentions: an invalid call, so the fuzz draws it only for decoders
    if config.get("add_cross_attention") and (TRANSFORMERS_5 or config.get("is_decoder")) and draw(st.booleans()):
        ne = draw(st.integers(1, 6))
        inputs["encoder_hidden_states"] = torch.randn(b, ne, config["hidden_size"], generator=gen)
        if draw(st.booleans()):
            inputs["encoder_attention_mask"] = torch.ones(b, ne, dtype=torch.long)
    if head == "ForCausalLM" and draw(st.booleans()):
        inputs["logits_to_keep"] = draw(st.one_of(
            st.integers(0, n + 2),
            st.lists(st.integers(0, n - 1), min_size=1, max_size=n).map(torch.tensor),
        ))
    if draw(st.booleans()) and "logits_to_keep" not in inputs:  # kept logits do not match (B, N) labels
        inputs.update(text_labels(head, config, b, n, lead, gen))
    flags = draw(output_flags(config["num_hidden_layers"]))
    return Case(f"Data2VecText{head}", config, inputs, sizes, build, flags)


def text_labels(head: str, config: dict[str, Any], b: int, n: int, lead: tuple[int, ...],
                gen: torch.Generator) -> dict[str, Any]:
    k, v = config["num_labels"], config["vocab_size"]
    if head in ("ForMaskedLM", "ForCausalLM"):
        return {"labels": torch.randint(0, v, (b, n), generator=gen)}
    if head == "ForTokenClassification":
        return {"labels": torch.randint(0, k, (b, n), generator=gen)}
    if head == "ForSequenceClassification":
        return {"labels": torch.randn(b, generator=gen) if k == 1 else torch.randint(0, k, (b,), generator=gen)}
    if head == "ForMultipleChoice":
        return {"labels": torch.randint(0, lead[1], (b,), generator=gen)}
    if head == "ForQuestionAnswering":
        return {"start_positions": torch.randint(0, n, (b,), generator=gen),
                "end_positions": torch.randint(0, n, (b,), generator=gen)}
    return {}


# -- audio --------------------------------------------------------------------------------------------
@st.composite
def audio_cases(draw: st.DrawFn, head: str) -> Case:
    dims = draw(transformer_dims(tuple_output=head == "Model"))
    hidden = dims["hidden_size"]
    layers = draw(st.integers(1, 4))
    conv_dim = tuple(draw(st.sampled_from((4, 8, 12))) for _ in range(layers))
    conv_kernel = tuple(draw(st.integers(2, 6)) for _ in range(layers))
    conv_stride = tuple(draw(st.integers(1, 4)) for _ in range(layers))
    groups = draw(st.sampled_from([g for g in (1, 2, 4) if hidden % g == 0]))
    tdnn = draw(st.integers(1, 3))
    config: dict[str, Any] = {
        **dims,
        "conv_dim": conv_dim,
        "conv_kernel": conv_kernel,
        "conv_stride": conv_stride,
        "conv_bias": draw(st.booleans()),
        "num_conv_pos_embeddings": draw(st.integers(1, 4)),
        "num_conv_pos_embedding_groups": groups,
        "vocab_size": draw(st.integers(4, 30)),
        "num_labels": draw(st.integers(1, 4)),
        "classifier_proj_size": draw(st.integers(2, 10)),
        "tdnn_dim": tuple(draw(st.sampled_from((4, 8))) for _ in range(tdnn)),
        "tdnn_kernel": tuple(draw(st.integers(1, 3)) for _ in range(tdnn)),
        "tdnn_dilation": tuple(draw(st.integers(1, 2)) for _ in range(tdnn)),
        "xvector_output_dim": draw(st.integers(2, 12)),
        "use_weighted_layer_sum": draw(st.booleans()),
        "mask_time_prob": draw(st.sampled_from((0.0, 0.05))),
    }
    # SequenceClassification and AudioFrameClassification refuse an adapter; XVector needs its size == D
    if head in ("Model", "ForCTC", "ForXVector") and draw(st.booleans()):
        config.update(
            add_adapter=True,
            adapter_kernel_size=draw(st.integers(1, 5)),
            adapter_stride=draw(st.integers(1, 3)),
            num_adapter_layers=draw(st.integers(1, 3)),
            output_hidden_size=hidden if head == "ForXVector" else draw(st.sampled_from((hidden, 2 * hidden, 6))),
        )
    probe = transformers.Data2VecAudioConfig(**{k: v for k, v in config.items() if k != "attn_implementation"})
    r, p = receptive_field(probe)
    least = smallest_valid_samples(probe, head, r)
    b = draw(st.integers(1, 3))
    s = draw(st.integers(least, least + 3 * p + 7))
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    inputs: dict[str, Any] = {"input_values": torch.randn(b, s, generator=gen)}
    if draw(st.booleans()):
        lengths = [s] + [draw(st.integers(least, s)) for _ in range(b - 1)]
        mask = torch.zeros(b, s, dtype=draw(st.sampled_from((torch.long, torch.bool))))
        for row, length in enumerate(lengths):
            mask[row, :length] = 1
        inputs["attention_mask"] = mask
    t = num_frames(probe, s)
    if head == "Model" and config["mask_time_prob"] > 0 and draw(st.booleans()):
        inputs["mask_time_indices"] = torch.rand(b, t, generator=gen) < 0.3
    if draw(st.booleans()):
        inputs.update(audio_labels(head, config, b, t, gen))
    flags = draw(output_flags(config["num_hidden_layers"]))
    # training without layerdrop: dropout and SpecAugment change values, never shapes
    training = draw(st.booleans()) and t >= 10
    if training:
        config.update(layerdrop=0.0, mask_time_length=draw(st.integers(1, 10)))
    return Case(f"Data2VecAudio{head}", config, inputs, {"batch": b, "samples": s}, {}, flags, training)


def smallest_valid_samples(config: Any, head: str, r: int) -> int:
    """The fewest samples a (masked) row may have: one frame, a non-empty adapter output, two XVector frames."""
    s = r
    while True:
        t = frames = num_frames(config, s)
        ok = t >= 1
        if ok and getattr(config, "add_adapter", False):
            for _ in range(config.num_adapter_layers):
                ok = ok and t + 2 - config.adapter_kernel_size >= 0
                t = (t + 2 - config.adapter_kernel_size) // config.adapter_stride + 1
        if ok and head == "ForXVector":  # the TDNN runs after the adapter, unless on the weighted layer sum
            tdnn_in = frames if config.use_weighted_layer_sum else t
            dropped = sum(d * (k - 1) for k, d in zip(config.tdnn_kernel, config.tdnn_dilation, strict=True))
            undilated = sum(k - 1 for k in config.tdnn_kernel)
            ok = tdnn_in - max(dropped, undilated) >= 2
        if ok:
            return s
        s += 1


def audio_labels(head: str, config: dict[str, Any], b: int, t: int, gen: torch.Generator) -> dict[str, Any]:
    k = config["num_labels"]
    if head == "ForCTC":
        if config.get("add_adapter") and config["adapter_kernel_size"] != 3:
            return {}  # the CTC loss takes lengths as if the kernel were 3: the contract refuses such labels
        return {"labels": torch.randint(1, config["vocab_size"], (b, max(1, t // 2)), generator=gen)}
    if head in ("ForSequenceClassification", "ForXVector"):
        return {"labels": torch.randint(0, k, (b,), generator=gen)}
    if head == "ForAudioFrameClassification":
        return {"labels": torch.randint(0, 2, (b, t, k), generator=gen)}
    return {}


# -- vision -------------------------------------------------------------------------------------------
@st.composite
def vision_cases(draw: st.DrawFn, head: str) -> Case:
    segmentation = head == "ForSemanticSegmentation"
    dims = draw(transformer_dims(min_layers=2 if segmentation else 1))  # the FPN needs 3 distinct layers
    layers = dims["num_hidden_layers"]
    patch = draw(st.integers(2, 6))
    grid = draw(st.integers(2 if segmentation else 1, 4))
    config: dict[str, Any] = {
        **dims,
        "patch_size": patch,
        "image_size": patch * grid + draw(st.integers(0, patch - 1)),
        "num_channels": draw(st.integers(1, 4)),
        "use_absolute_position_embeddings": draw(st.booleans()),
        "use_relative_position_bias": draw(st.booleans()),
        "use_shared_relative_position_bias": draw(st.booleans()),
        "use_mean_pooling": draw(st.booleans()),
        "use_mask_token": draw(st.booleans()),
        "out_indices": draw(out_indices(layers, segmentation)),
        "auxiliary_channels": 8,
        "num_labels": draw(st.integers(2 if segmentation else 0, 4)),
    }
    build: dict[str, Any] = {}
    if head == "Model":
        build["add_pooling_layer"] = draw(st.booleans())
    b = draw(st.integers(1, 3))
    if segmentation:
        height = width = config["image_size"]
    else:
        height = draw(st.integers(patch, 3 * config["image_size"]))
        width = draw(st.integers(patch, 3 * config["image_size"]))
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    inputs: dict[str, Any] = {"pixel_values": torch.randn(b, config["num_channels"], height, width, generator=gen)}
    if head == "Model" and config["use_mask_token"] and draw(st.booleans()):
        inputs["bool_masked_pos"] = torch.rand(b, (height // patch) * (width // patch), generator=gen) < 0.4
    if draw(st.booleans()) and config["num_labels"] > 0:
        if head == "ForImageClassification":
            k = config["num_labels"]
            inputs["labels"] = torch.randn(b, generator=gen) if k == 1 else torch.randint(0, k, (b,), generator=gen)
        elif head == "ForSemanticSegmentation":
            side = draw(st.integers(1, 2 * height))
            inputs["labels"] = torch.randint(0, config["num_labels"], (b, side, side + 1), generator=gen)
    flags = draw(output_flags(layers, selectable=False))
    return Case(f"Data2VecVision{head}", config, inputs, {"batch": b, "height": height, "width": width}, build, flags)


@st.composite
def out_indices(draw: st.DrawFn, layers: int, segmentation: bool) -> tuple[int, ...]:
    """Four indices; the segmentation FPN runs only when at least 3 distinct ones are in 1..L+1 (reported)."""
    if not segmentation:
        return tuple(draw(st.integers(1, layers + 2)) for _ in range(4))
    distinct = draw(st.lists(st.integers(1, layers + 1), min_size=3, max_size=3, unique=True))
    return (*distinct, draw(st.integers(1, layers + 2)))


# -- the tests ----------------------------------------------------------------------------------------
def examples_for(heads: tuple[str, ...]) -> int:
    return max(1, math.ceil(PER_MODALITY / len(heads)))


def fuzz(strategy: Callable[[str], st.SearchStrategy[Case]], heads: tuple[str, ...]) -> Callable[[str], None]:
    options = settings(
        max_examples=examples_for(heads),
        deadline=None,
        database=None,
        derandomize=ENV not in os.environ and "D2V_ROBUSTNESS_SEED" not in os.environ,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=True,
    )

    @pytest.mark.parametrize("head", heads)
    @options
    @given(data=st.data())
    def test(head: str, data: st.DataObject) -> None:
        run_case(data.draw(strategy(head), label="case"))

    if "D2V_ROBUSTNESS_SEED" in os.environ:
        test = seed(int(os.environ["D2V_ROBUSTNESS_SEED"]))(test)
    return test


test_text = fuzz(text_cases, TEXT_HEADS)
test_audio = fuzz(audio_cases, AUDIO_HEADS)
test_vision = fuzz(vision_cases, VISION_HEADS)


# -- regressions the fuzz found -------------------------------------------------------------------------
XVECTOR_WEIGHTED_ADAPTER = {
    "hidden_size": 2, "num_attention_heads": 1, "num_hidden_layers": 1, "intermediate_size": 4,
    "conv_dim": (4,), "conv_kernel": (2,), "conv_stride": (2,), "num_conv_pos_embeddings": 1,
    "num_conv_pos_embedding_groups": 1, "tdnn_dim": (4,), "tdnn_kernel": (2,), "tdnn_dilation": (2,),
    "xvector_output_dim": 2, "use_weighted_layer_sum": True, "mask_time_prob": 0.0, "add_adapter": True,
    "adapter_kernel_size": 1, "adapter_stride": 1, "num_adapter_layers": 1, "output_hidden_size": 2,
}


def test_xvector_on_the_weighted_layer_sum_pools_the_frames_before_the_adapter() -> None:
    """With use_weighted_layer_sum the TDNN reads the hidden states (T frames), not the adapter's output."""
    run_case(Case("Data2VecAudioForXVector", XVECTOR_WEIGHTED_ADAPTER, {"input_values": torch.randn(1, 8)},
                  {"batch": 1, "samples": 8}))
    model = checked(transformers.Data2VecAudioForXVector(
        transformers.Data2VecAudioConfig(**XVECTOR_WEIGHTED_ADAPTER)).eval())
    with pytest.raises(ShapeContractError) as info:
        model(torch.randn(1, 6))  # T = 3 frames, Tx = 1: the embeddings would be NaN
    assert info.value.violation is not None
    assert (info.value.violation.dimension, info.value.violation.actual) == ("Tx", "Tx=1")
