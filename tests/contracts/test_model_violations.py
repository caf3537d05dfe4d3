"""Real violations of every contract field, and of the inputs, with the facts and whole messages they give.

An output violation comes from a subclass of the Data2Vec class whose ``forward`` calls the real one
and then tampers with one field (slices the batch, drops a layer, transposes); ``checked`` applies the
contract of the nearest Data2Vec base class to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch

from data2vec_contracts import ShapeContractError, checked, unchecked
from data2vec_contracts.contracts import HINTS
from tests._models import CACHE_FIELD, CLASSES, TRANSFORMERS_5, model_class, tiny_inputs, tiny_labels, tiny_model

Tamper = Callable[[Any], Any]


def tampered(modality: str, head: str, change: Tamper, **config: Any) -> Any:
    """A checked tiny model of a subclass whose forward returns ``change(real output)``."""
    base = model_class(modality, head)

    def forward(self: Any, *args: Any, **kwargs: Any) -> Any:
        return change(base.forward(self, *args, **kwargs))

    subclass = type(f"Tampered{base.__name__}", (base,), {"forward": forward})
    return checked(tiny_model(modality, head, cls=subclass, **config))


def setf(name: str, make: Callable[[Any], Any]) -> Tamper:
    """Replace output field ``name`` by ``make(its value)``."""

    def change(out: Any) -> Any:
        value = make(getattr(out, name))
        if value is None:
            setattr(out, name, None)  # ModelOutput forbids del; the attribute now reads None
        else:
            out[name] = value
        return out

    return change


def item(name: str, index: int, make: Callable[[torch.Tensor], Any]) -> Tamper:
    """Replace element ``index`` of the tuple field ``name``."""
    return setf(name, lambda seq: type(seq)(make(x) if i == index else x for i, x in enumerate(seq)))


def drop_last(seq: Any) -> Any:
    return seq[:-1]


_EAGER = {"attn_implementation": "eager"}
_ALL = {"output_hidden_states": True, "output_attentions": True}


@dataclass(frozen=True)
class Case:
    """A tampered output: the model, the call, the change, and the facts the violation must have."""

    modality: str
    head: str
    change: Tamper
    facts: dict[str, Any]
    config: dict[str, Any] = field(default_factory=dict)
    call: dict[str, Any] = field(default_factory=dict)
    sizes: dict[str, Any] = field(default_factory=lambda: {"batch": 2})

    def violation(self) -> Any:
        model = tampered(self.modality, self.head, self.change, **self.config)
        kwargs = {**tiny_inputs(model, **self.sizes), **self.call}
        if callable(kwargs.get("labels")):
            kwargs["labels"] = kwargs["labels"](kwargs)
        with pytest.raises(ShapeContractError) as info:
            model(**kwargs)
        return info.value


# vision under sdpa: L Nones in 5.x; 4.x falls back to eager attention and returns the maps
_VISION_SDPA = (
    "attn_implementation='sdpa' returns no attention weights" if TRANSFORMERS_5 else "L with config.num_hidden_layers=2"
)


def _t(head: str, change: Tamper, facts: dict[str, Any], **kw: Any) -> Case:
    return Case("text", head, change, facts, **kw)


def _a(head: str, change: Tamper, facts: dict[str, Any], **kw: Any) -> Case:
    return Case("audio", head, change, facts, **kw)


def _v(head: str, change: Tamper, facts: dict[str, Any], **kw: Any) -> Case:
    return Case("vision", head, change, facts, **kw)


def _dim(field: str, dimension: str, expected: str, actual: str, bound_by: str | None) -> dict[str, Any]:
    return {"field": field, "problem": "dimension", "dimension": dimension, "expected": expected, "actual": actual,
            "bound_by": bound_by}


_IDS_B = "argument input_ids, axis 0"
_IDS_N = "argument input_ids, axis 1"
_T_RULE = "T = (S - 29)//16 + 1 with S=1000; conv stack config.conv_kernel=(5, 3, 3), config.conv_stride=(4, 2, 2)"
_NV_RULE = "Nv = 1 + h*w with h=4, w=4; one CLS token plus one per patch"

CASES: dict[str, Case] = {
    # ---- text ----------------------------------------------------------------------------------
    "text-Model-last_hidden_state-batch": _t(
        "Model", setf("last_hidden_state", lambda x: x[:1]),
        _dim("output field last_hidden_state", "B", "2", "1", _IDS_B)),
    "text-Model-last_hidden_state-transposed": _t(
        "Model", setf("last_hidden_state", lambda x: x.transpose(1, 2)),
        _dim("output field last_hidden_state", "N", "7", "32", _IDS_N)),
    "text-Model-pooler_output-D": _t(
        "Model", setf("pooler_output", lambda x: x[:, :16]),
        _dim("output field pooler_output", "D", "32", "16", "config.hidden_size")),
    "text-Model-pooler_output-not-built": _t(
        "Model", setf("pooler_output", lambda x: torch.zeros(2, 32)),
        {"field": "output field pooler_output", "problem": "type", "expected": "None (add_pooling_layer=False)",
         "actual": "Tensor(float32, shape=(2, 32))"}, config={"add_pooling_layer": False}),
    "text-Model-hidden_states-length": _t(
        "Model", setf("hidden_states", drop_last),
        {"field": "output field hidden_states", "problem": "length",
         "expected": "3 (L+1 with config.num_hidden_layers=2)", "actual": "2"}, call={"output_hidden_states": True}),
    "text-Model-hidden_states-element": _t(
        "Model", item("hidden_states", 1, lambda x: x[:, :-1]),
        _dim("output field hidden_states[1]", "N", "7", "6", _IDS_N), call={"output_hidden_states": True}),
    "text-Model-hidden_states-unselected": _t(
        "Model", item("hidden_states", 0, lambda x: torch.zeros(2, 7, 32)),
        {"field": "output field hidden_states[0]", "problem": "type",
         "expected": "None (not selected by output_hidden_states)"}, call={"output_hidden_states": [1, -1]}),
    "text-Model-attentions-heads": _t(
        "Model", item("attentions", 0, lambda x: x[:, :3]),
        _dim("output field attentions[0]", "heads", "4", "3", "config.num_attention_heads"),
        config=_EAGER, call={"output_attentions": True}),
    "text-Model-attentions-sdpa-filled": _t(
        "Model", setf("attentions", lambda x: (torch.zeros(2, 4, 7, 7),) * 2),
        {"field": "output field attentions", "problem": "type",
         "expected": "() (attn_implementation='sdpa' returns no attention weights)"},
        call={"output_attentions": True}),
    "text-Model-attentions-eager-empty": _t(
        "Model", setf("attentions", lambda x: ()),
        {"field": "output field attentions", "problem": "length", "expected": "2 (L with config.num_hidden_layers=2)",
         "actual": "0", "hint": HINTS["sdpa"]},
        config=_EAGER, call={"output_attentions": True}),
    "text-Model-cache-missing": _t(
        "Model", setf(CACHE_FIELD, lambda x: None),
        {"field": f"output field {CACHE_FIELD}", "problem": "type", "expected": "an object (is_decoder with use_cache)",
         "actual": "None"}, config={"is_decoder": True}),
    "text-Model-cross_attentions-unexpected": _t(
        "Model", setf("cross_attentions", lambda x: (torch.zeros(2, 4, 7, 7),)),
        {"field": "output field cross_attentions", "problem": "type", "expected": "None (not requested)"}),
    "text-ForCausalLM-logits-V": _t(
        "ForCausalLM", setf("logits", lambda x: x[..., :50]),
        _dim("output field logits", "V", "99", "50", "config.vocab_size"), config={"is_decoder": True}),
    "text-ForCausalLM-loss-rank": _t(
        "ForCausalLM", setf("loss", lambda x: x.reshape(1)),
        {"field": "output field loss", "problem": "rank", "expected": "0 dims (a scalar)", "actual": "1 dims (1,)"},
        config={"is_decoder": True}, call={"labels": lambda kw: kw["input_ids"]}),
    "text-ForCausalLM-logits_to_keep": _t(
        "ForCausalLM", setf("logits", lambda x: torch.zeros(2, 7, 99)),
        _dim("output field logits", "keep", "2", "7",
             "keep = min(2, N) with N=7; argument logits_to_keep"),
        config={"is_decoder": True}, call={"logits_to_keep": 2}),
    "text-ForCausalLM-cache-missing": _t(
        "ForCausalLM", setf(CACHE_FIELD, lambda x: None),
        {"field": f"output field {CACHE_FIELD}", "problem": "type", "expected": "an object (is_decoder with use_cache)",
         "actual": "None"}, config={"is_decoder": True}),
    "text-ForCausalLM-cache-with-labels": _t(
        "ForCausalLM", setf(CACHE_FIELD, lambda x: object()),
        {"field": f"output field {CACHE_FIELD}", "problem": "type",
         "expected": "None (labels were given, which switches use_cache off)"},
        config={"is_decoder": True}, call={"labels": lambda kw: kw["input_ids"]}),
    "text-ForMaskedLM-logits-N": _t(
        "ForMaskedLM", setf("logits", lambda x: x[:, 1:]),
        _dim("output field logits", "N", "7", "6", _IDS_N)),
    "text-ForMaskedLM-loss-missing": _t(
        "ForMaskedLM", setf("loss", lambda x: None),
        {"field": "output field loss", "problem": "type", "expected": "a Tensor", "actual": "None"},
        call={"labels": lambda kw: kw["input_ids"]}),
    "text-ForSequenceClassification-logits-K": _t(
        "ForSequenceClassification", setf("logits", lambda x: torch.zeros(2, 3)),
        _dim("output field logits", "K", "2", "3", "config.num_labels")),
    "text-ForSequenceClassification-logits-int": _t(
        "ForSequenceClassification", setf("logits", lambda x: x.argmax(-1, keepdim=True).expand(2, 2)),
        {"field": "output field logits", "problem": "dtype", "actual": "int64"}),
    "text-ForMultipleChoice-logits-flattened": _t(
        "ForMultipleChoice", setf("logits", lambda x: x.reshape(-1, 1)),
        {**_dim("output field logits", "B", "2", "6", _IDS_B), "hint": HINTS["flattened"]}),
    "text-ForMultipleChoice-hidden_states-batch": _t(
        "ForMultipleChoice", item("hidden_states", 2, lambda x: x.reshape(2, 9, 32)),
        _dim("output field hidden_states[2]", "B*C", "6 (= B*C with B=2, C=3)", "2",
             "B: argument input_ids, axis 0; C: argument input_ids, axis 1"),
        call={"output_hidden_states": True}, sizes={"batch": 2, "num_choices": 3, "seq_len": 3}),
    "text-ForTokenClassification-logits-transposed": _t(
        "ForTokenClassification", setf("logits", lambda x: x.transpose(1, 2)),
        _dim("output field logits", "N", "7", "2", _IDS_N)),
    "text-ForQuestionAnswering-start_logits": _t(
        "ForQuestionAnswering", setf("start_logits", lambda x: x[:1]),
        _dim("output field start_logits", "B", "2", "1", _IDS_B)),
    "text-ForQuestionAnswering-end_logits": _t(
        "ForQuestionAnswering", setf("end_logits", lambda x: x[:, None]),
        {"field": "output field end_logits", "problem": "rank", "expected": "2 dims (B N)",
         "actual": "3 dims (2, 1, 7)"}),
    "text-ForQuestionAnswering-return-tuple": _t(
        "ForQuestionAnswering", drop_last,
        {"field": "the return_dict=False tuple", "problem": "length",
         "expected": "2 items (start_logits, end_logits)"}, call={"return_dict": False}),
    # ---- audio (S=1000 -> T=61) -------------------------------------------------------------------
    "audio-Model-last_hidden_state-T": _a(
        "Model", setf("last_hidden_state", lambda x: x[:, :-1]),
        _dim("output field last_hidden_state", "T", "61", "60", _T_RULE)),
    "audio-Model-last_hidden_state-adapter": _a(
        "Model", setf("last_hidden_state", lambda x: torch.zeros(2, 61, 32)),
        _dim("output field last_hidden_state", "Ta", "8", "61",
             "Ta = (T - 1)//8 + 1 with T=61; adapter config.adapter_kernel_size=3, "
             "config.adapter_stride=2, config.num_adapter_layers=3"),
        config={"add_adapter": True}),
    "audio-Model-extract_features-F": _a(
        "Model", setf("extract_features", lambda x: x[..., :8]),
        _dim("output field extract_features", "F", "16", "8", "config.conv_dim[-1]")),
    "audio-Model-hidden_states-list": _a(
        "Model", setf("hidden_states", list),
        {"field": "output field hidden_states", "problem": "type"}, call={"output_hidden_states": True}),
    "audio-Model-attentions-T": _a(
        "Model", item("attentions", 1, lambda x: x[..., :-1]),
        _dim("output field attentions[1]", "T", "61", "60", _T_RULE),
        config=_EAGER, call={"output_attentions": True}),
    "audio-ForCTC-logits-V": _a(
        "ForCTC", setf("logits", lambda x: x[..., :-1]),
        _dim("output field logits", "V", "20", "19", "config.vocab_size")),
    "audio-ForCTC-loss-missing": _a(
        "ForCTC", setf("loss", lambda x: None),
        {"field": "output field loss", "problem": "type", "actual": "None"},
        call={"labels": lambda kw: torch.ones(2, 3, dtype=torch.long)}),
    "audio-ForSequenceClassification-logits-K": _a(
        "ForSequenceClassification", setf("logits", lambda x: x[:, :1]),
        _dim("output field logits", "K", "2", "1", "config.num_labels")),
    "audio-ForSequenceClassification-hidden_states-tuple": _a(
        "ForSequenceClassification", setf("hidden_states", tuple),
        {"field": "output field hidden_states", "problem": "type"}, call={"output_hidden_states": [1, -1]}),
    "audio-ForAudioFrameClassification-logits-T": _a(
        "ForAudioFrameClassification", setf("logits", lambda x: x[:, :-1]),
        _dim("output field logits", "T", "61", "60", _T_RULE)),
    "audio-ForXVector-logits-X": _a(
        "ForXVector", setf("logits", lambda x: x[:, :2]),
        _dim("output field logits", "X", "12", "2", "config.xvector_output_dim")),
    "audio-ForXVector-embeddings-batch": _a(
        "ForXVector", setf("embeddings", lambda x: x[:1]),
        _dim("output field embeddings", "B", "2", "1", "argument input_values, axis 0")),
    # ---- vision (32x32 -> Nv=17) ----------------------------------------------------------------
    "vision-Model-last_hidden_state-cls-dropped": _v(
        "Model", setf("last_hidden_state", lambda x: x[:, 1:]),
        _dim("output field last_hidden_state", "Nv", "17", "16", _NV_RULE)),
    "vision-Model-pooler_output-batch": _v(
        "Model", setf("pooler_output", lambda x: x[:1]),
        _dim("output field pooler_output", "B", "2", "1", "argument pixel_values, axis 0"),
        config={"add_pooling_layer": True}),
    "vision-Model-hidden_states-length": _v(
        "Model", setf("hidden_states", lambda x: (*x, x[-1])),
        {"field": "output field hidden_states", "problem": "length",
         "expected": "3 (L+1 with config.num_hidden_layers=2)", "actual": "4"}, call={"output_hidden_states": 1}),
    "vision-Model-attentions-sdpa-empty": _v(
        "Model", setf("attentions", lambda x: ()),
        {"field": "output field attentions", "problem": "length",
         "expected": f"2 ({_VISION_SDPA})", "actual": "0"},
        call={"output_attentions": True}),
    "vision-ForImageClassification-logits-K": _v(
        "ForImageClassification", setf("logits", lambda x: torch.zeros(2, 1000)),
        _dim("output field logits", "K", "2", "1000", "config.num_labels")),
    "vision-ForImageClassification-hidden_states-element": _v(
        "ForImageClassification", item("hidden_states", 0, lambda x: x[..., :-1]),
        _dim("output field hidden_states[0]", "D", "32", "31", "config.hidden_size"),
        call={"output_hidden_states": True}),
    "vision-ForSemanticSegmentation-logits-upsampled": _v(
        "ForSemanticSegmentation",
        setf("logits", lambda x: torch.nn.functional.interpolate(x, size=(32, 32), mode="bilinear")),
        _dim("output field logits", "Hs", "16", "32", "4*(config.image_size=32 // config.patch_size)")),
    "vision-ForSemanticSegmentation-loss-shape": _v(
        "ForSemanticSegmentation", setf("loss", lambda x: x.expand(2)),
        {"field": "output field loss", "problem": "rank"},
        call={"labels": lambda kw: torch.zeros(2, 32, 32, dtype=torch.long)}),
}


# cases of features transformers 4.x does not have
_ONLY_5 = {
    "text-Model-hidden_states-unselected": "index selection of hidden_states",
    "audio-ForSequenceClassification-hidden_states-tuple": "index selection of hidden_states",
    "text-Model-attentions-sdpa-filled": "sdpa attention for text",
    "text-ForCausalLM-logits_to_keep": "logits_to_keep",
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_tampered_output_field_is_caught(case: str) -> None:
    if case in _ONLY_5 and not TRANSFORMERS_5:
        pytest.skip(f"transformers 4.x has no {_ONLY_5[case]}")
    violation = CASES[case].violation().violation
    assert violation is not None
    assert {name: getattr(violation, name) for name in CASES[case].facts} == CASES[case].facts
    assert violation.function == f"{model_class(CASES[case].modality, CASES[case].head).__name__}.forward"


# ---- inputs --------------------------------------------------------------------------------------
def _ids(*shape: int) -> torch.Tensor:
    return torch.randint(2, 99, shape, generator=torch.Generator().manual_seed(0))


@dataclass(frozen=True)
class BadCall:
    """A checked tiny model called with invalid inputs: the facts of the violation."""

    modality: str
    head: str
    kwargs: Callable[[], dict[str, Any]]
    facts: dict[str, Any]
    config: dict[str, Any] = field(default_factory=dict)

    def violation(self) -> Any:
        model = checked(tiny_model(self.modality, self.head, **self.config))
        with pytest.raises(ShapeContractError) as info:
            model(**self.kwargs())
        return info.value


def _constraint(field: str, dimension: str, expected: str, actual: str, bound_by: str) -> dict[str, Any]:
    return {"field": field, "problem": "constraint", "dimension": dimension, "expected": expected, "actual": actual,
            "bound_by": bound_by}


_SEG_HINT = (
    "the segmentation head reshapes tokens to the 4x4 patch grid of config.image_size, so only images with that grid "
    "(32x32 pixels, or sizes that floor to it) are valid; other sizes fail or, when the patch count matches, give a "
    "scrambled layout. Resize the image to config.image_size."
)

BAD_CALLS: dict[str, BadCall] = {
    "text-input_ids-1d": BadCall("text", "Model", lambda: {"input_ids": _ids(7)}, {
        "field": "argument input_ids", "problem": "rank", "expected": "2 dims (B N)", "actual": "1 dims (7,)"}),
    "text-input_ids-float": BadCall("text", "ForMaskedLM", lambda: {"input_ids": _ids(2, 7).float()}, {
        "field": "argument input_ids", "problem": "dtype", "actual": "float32"}),
    "text-longer-than-position-table": BadCall("text", "ForTokenClassification", lambda: {"input_ids": _ids(2, 63)},
        _constraint("argument input_ids", "N",
                    "N <= 62 (config.max_position_embeddings=64 - config.pad_token_id=1 - 1)", "N=63",
                    _IDS_N)),
    "text-inputs_embeds-longer-than-position-table": BadCall(
        "text", "Model", lambda: {"inputs_embeds": torch.randn(1, 63, 32)},
        _constraint("argument inputs_embeds", "N",
                    "N <= 62 (config.max_position_embeddings=64 - config.pad_token_id=1 - 1)", "N=63",
                    "argument inputs_embeds, axis 1")),
    "text-inputs_embeds-D": BadCall("text", "Model", lambda: {"inputs_embeds": torch.randn(2, 5, 768)},
        _dim("argument inputs_embeds", "D", "32", "768", "config.hidden_size")),
    "text-mask-batch": BadCall("text", "ForSequenceClassification", lambda: {
        "input_ids": _ids(2, 7), "attention_mask": torch.ones(3, 7, dtype=torch.long)},
        _dim("argument attention_mask", "B", "2", "3", _IDS_B)),
    "text-mask-length": BadCall("text", "ForCausalLM", lambda: {
        "input_ids": _ids(2, 7), "attention_mask": torch.ones(2, 8, dtype=torch.long)},
        _dim("argument attention_mask", "N", "7", "8", _IDS_N), config={"is_decoder": True}),
    "text-multiple-choice-rank": BadCall("text", "ForMultipleChoice", lambda: {"input_ids": _ids(2, 7)}, {
        "field": "argument input_ids", "problem": "rank", "expected": "3 dims (B C N)", "actual": "2 dims (2, 7)"}),
    "text-qa-num-labels-3": BadCall("text", "ForQuestionAnswering", lambda: {"input_ids": _ids(2, 7)},
        {**_constraint("config.num_labels", "K", "K == 2 (start and end logits)", "K=3", "config.num_labels"),
         "hint": "Data2VecTextForQuestionAnswering needs num_labels=2 (start and end); build it with num_labels=2."},
        config={"num_labels": 3}),
    "text-labels-length": BadCall("text", "ForTokenClassification", lambda: {
        "input_ids": _ids(2, 7), "labels": torch.zeros(2, 8, dtype=torch.long)},
        _dim("argument labels", "N", "7", "8", _IDS_N)),
    "audio-B1S": BadCall("audio", "Model", lambda: {"input_values": torch.randn(2, 1, 1000)}, {
        "field": "argument input_values", "problem": "rank", "expected": "2 dims (B S)",
        "actual": "3 dims (2, 1, 1000)"}),
    "audio-shorter-than-receptive-field": BadCall("audio", "ForCTC", lambda: {"input_values": torch.randn(2, 28)},
        {**_constraint("argument input_values", "S", "S >= 29 (the receptive field of the conv stack)", "S=28",
                       "argument input_values, axis 1"),
         "hint": "audio shorter than the receptive field makes no frame: pad every waveform to at least 29 samples."}),
    "audio-fp64-into-fp32": BadCall("audio", "Model", lambda: {"input_values": torch.randn(2, 1000).double()}, {
        "field": "argument input_values"}),
    "audio-xvector-too-short": BadCall("audio", "ForXVector", lambda: {"input_values": torch.randn(2, 268)},
        _constraint("argument input_values", "Tx", "Tx >= 2 frames after the TDNN (std of one frame is NaN)", "Tx=1",
                    "Tx = T - 14 with T=15; config.tdnn_kernel=(5, 3, 3, 1, 1), config.tdnn_dilation=(1, 2, 3, 1, 1)")),
    "audio-xvector-adapter-too-short": BadCall(
        "audio", "ForXVector", lambda: {"input_values": torch.randn(2, 1000)},
        _constraint("argument input_values", "Tx", "Tx >= 2 frames after the TDNN (std of one frame is NaN)", "Tx=-6",
                    "Tx = Ta - 14 with Ta=8; config.tdnn_kernel=(5, 3, 3, 1, 1), config.tdnn_dilation=(1, 2, 3, 1, 1)"),
        config={"add_adapter": True}),  # the TDNN runs on the adapter's 8 frames, not T=61
    "audio-xvector-adapter-output-size": BadCall(
        "audio", "ForXVector", lambda: {"input_values": torch.randn(2, 3000)},
        _constraint("config.output_hidden_size", "Dp, D", "Dp == D (the TDNN reads config.hidden_size features)",
                    "Dp=24, D=32", "Dp: config.output_hidden_size; D: config.hidden_size"),
        config={"add_adapter": True, "output_hidden_size": 24}),
    "audio-ctc-adapter-k5-labels": BadCall(
        "audio", "ForCTC", lambda: {"input_values": torch.randn(2, 1000), "labels": torch.ones(2, 3, dtype=torch.long)},
        _constraint("argument labels", "Ta, T", "Ta == (T - 1)//8 + 1 (the frames the CTC loss assumes)",
                    "Ta=6, T=61",
                    "Ta: Ta = (T - 15)//8 + 1 with T=61; adapter config.adapter_kernel_size=5, "
                    "config.adapter_stride=2, config.num_adapter_layers=3; T: T = (S - 29)//16 + 1 with S=1000; "
                    "conv stack config.conv_kernel=(5, 3, 3), config.conv_stride=(4, 2, 2)"),
        config={"add_adapter": True, "adapter_kernel_size": 5}),
    "audio-frame-labels-K": BadCall("audio", "ForAudioFrameClassification", lambda: {
        "input_values": torch.randn(2, 1000), "labels": torch.zeros(2, 61, 3)},
        _dim("argument labels", "K", "2", "3", "config.num_labels")),
    "audio-xvector-float-labels": BadCall("audio", "ForXVector", lambda: {
        "input_values": torch.randn(2, 1000), "labels": torch.zeros(2)},
        {"field": "argument labels", "problem": "dtype", "actual": "float32"}),
    "audio-mask-length": BadCall("audio", "ForSequenceClassification", lambda: {
        "input_values": torch.randn(2, 1000), "attention_mask": torch.ones(2, 999, dtype=torch.long)},
        _dim("argument attention_mask", "S", "1000", "999", "argument input_values, axis 1")),
    "audio-frame-labels-rank": BadCall("audio", "ForAudioFrameClassification", lambda: {
        "input_values": torch.randn(2, 1000), "labels": torch.zeros(2, 61, dtype=torch.long)}, {
        "field": "argument labels", "problem": "rank", "expected": "3 dims (B T K)", "actual": "2 dims (2, 61)"}),
    "audio-frame-labels-T": BadCall("audio", "ForAudioFrameClassification", lambda: {
        "input_values": torch.randn(2, 1000), "labels": torch.zeros(2, 60, 2)},
        _dim("argument labels", "T", "61", "60", _T_RULE)),
    "audio-mask_time_indices-samples": BadCall("audio", "Model", lambda: {
        "input_values": torch.randn(2, 1000), "mask_time_indices": torch.zeros(2, 1000, dtype=torch.bool)},
        {**_dim("argument mask_time_indices", "T", "61", "1000", _T_RULE), "hint": HINTS["sample_mask"]}),
    "vision-channels": BadCall("vision", "Model", lambda: {"pixel_values": torch.randn(2, 1, 32, 32)},
        _dim("argument pixel_values", "Cin", "3", "1", "config.num_channels")),
    "vision-smaller-than-a-patch": BadCall("vision", "ForImageClassification", lambda: {
        "pixel_values": torch.randn(1, 3, 7, 32)},
        _constraint("argument pixel_values", "H, W", "H >= 8 and W >= 8 (config.patch_size)", "H=7, W=32",
                    "H: argument pixel_values, axis 2; W: argument pixel_values, axis 3")),
    "vision-segmentation-size": BadCall("vision", "ForSemanticSegmentation", lambda: {
        "pixel_values": torch.randn(1, 3, 40, 24)},
        {**_constraint("argument pixel_values", "H, W", "H//8 == 4 and W//8 == 4 (the patch grid of "
                       "config.image_size=32)", "H=40, W=24",
                       "H: argument pixel_values, axis 2; W: argument pixel_values, axis 3"), "hint": _SEG_HINT}),
    "vision-segmentation-scrambled": BadCall("vision", "ForSemanticSegmentation", lambda: {
        "pixel_values": torch.randn(1, 3, 16, 64)},  # same patch count: runs silently with a scrambled layout
        {"problem": "constraint", "actual": "H=16, W=64", "hint": _SEG_HINT}),
    "vision-segmentation-one-label": BadCall("vision", "ForSemanticSegmentation", lambda: {
        "pixel_values": torch.randn(2, 3, 32, 32), "labels": torch.zeros(2, 32, 32, dtype=torch.long)},
        _constraint("config.num_labels", "K", "K > 1 to compute a loss", "K=1", "config.num_labels"),
        config={"num_labels": 1}),
    "vision-bool_masked_pos-length": BadCall("vision", "Model", lambda: {
        "pixel_values": torch.randn(2, 3, 32, 32), "bool_masked_pos": torch.zeros(2, 17, dtype=torch.bool)},
        _dim("argument bool_masked_pos", "h*w", "16 (= h*w with h=4, w=4)", "17",
             "h: h = H//8 with H=32; config.patch_size; w: w = W//8 with W=32; config.patch_size"),
        config={"use_mask_token": True}),
    "vision-bool_masked_pos-grid": BadCall("vision", "Model", lambda: {
        "pixel_values": torch.randn(2, 3, 32, 32), "bool_masked_pos": torch.zeros(2, 4, 4, dtype=torch.bool)}, {
        "field": "argument bool_masked_pos", "problem": "rank", "expected": "2 dims (B h*w)",
        "actual": "3 dims (2, 4, 4)"}, config={"use_mask_token": True}),
}


@pytest.mark.parametrize("case", list(BAD_CALLS))
def test_an_invalid_input_is_caught_before_the_model_runs(case: str) -> None:
    violation = BAD_CALLS[case].violation().violation
    assert violation is not None
    assert {name: getattr(violation, name) for name in BAD_CALLS[case].facts} == BAD_CALLS[case].facts


@pytest.mark.usefixtures("unpatched_classes")
def test_the_model_itself_fails_on_these_inputs() -> None:
    """Guards the input cases above: unchecked, the same calls break (or silently mislead) in the model."""
    for case in ("text-longer-than-position-table", "audio-B1S", "audio-shorter-than-receptive-field",
                 "audio-fp64-into-fp32", "audio-xvector-adapter-too-short", "audio-xvector-adapter-output-size",
                 "vision-channels", "vision-segmentation-size", "text-qa-num-labels-3",
                 "audio-ctc-adapter-k5-labels", "audio-frame-labels-K", "audio-xvector-float-labels",
                 "vision-segmentation-one-label"):
        bad = BAD_CALLS[case]
        model = tiny_model(bad.modality, bad.head, **bad.config)
        with pytest.raises((RuntimeError, ValueError, IndexError)):
            model(**bad.kwargs())
    bad = BAD_CALLS["audio-xvector-too-short"]
    assert tiny_model("audio", "ForXVector")(**bad.kwargs()).embeddings.isnan().all()


@pytest.mark.usefixtures("unpatched_classes")
def test_cached_tokens_count_against_the_position_table() -> None:
    model = checked(tiny_model("text", "ForCausalLM", is_decoder=True))
    first = model(input_ids=_ids(2, 61))
    with pytest.raises(ShapeContractError) as info:
        model(input_ids=_ids(2, 2), **{CACHE_FIELD: getattr(first, CACHE_FIELD)})
    violation = info.value.violation
    assert violation is not None
    assert (violation.problem, violation.expected, violation.actual) == (
        "constraint",
        "N + P <= 62 (config.max_position_embeddings=64 - config.pad_token_id=1 - 1)",
        "N=2, P=61",
    )
    assert violation.hint is not None
    assert "at most 62 tokens fit, cached ones included" in violation.hint
    assert violation.bindings["P"][1] == f"argument {CACHE_FIELD} (the tokens it holds)"
    # what the model says without the contract
    error, says = (RuntimeError, "out of bounds") if TRANSFORMERS_5 else (IndexError, "index out of range in self")
    with pytest.raises(error, match=says):
        unchecked(model)(input_ids=_ids(2, 2), **{CACHE_FIELD: getattr(model(input_ids=_ids(2, 61)), CACHE_FIELD)})


# ---- whole messages ------------------------------------------------------------------------------
_TEXT_DIMS = """\
      D     = 32  (config.hidden_size)
      V     = 99  (config.vocab_size)
      K     = 2   (config.num_labels)
      heads = 4   (config.num_attention_heads)"""
_AUDIO_DIMS = """\
      D     = 32    (config.hidden_size)
      F     = 16    (config.conv_dim[-1])
      V     = 20    (config.vocab_size)
      K     = 2     (config.num_labels)
      X     = 12    (config.xvector_output_dim)
      heads = 4     (config.num_attention_heads)
      Dp    = 32    (config.hidden_size)
      B     = 2     (argument input_values, axis 0)"""

GOLDEN: dict[str, str] = {
    # a batch mismatch across an output field
    "text-ForQuestionAnswering-start_logits": f"""\
Shape contract violated: dimension B of output field start_logits.
  Function: Data2VecTextForQuestionAnswering.forward
    Declared: contract of Data2VecTextForQuestionAnswering (data2vec_contracts/contracts/text.py)
    Output field start_logits
      Contract: Float[Tensor, "B N"]
      Actual value: Tensor(float32, shape=(1, 7))
      Dimension B: expected 2, actual 1
      B was bound by: argument input_ids, axis 0
    Other bindings:
{_TEXT_DIMS}
      N     = 7   (argument input_ids, axis 1)""",
    # a dimension bound by the config
    "text-Model-pooler_output-D": """\
Shape contract violated: dimension D of output field pooler_output.
  Function: Data2VecTextModel.forward
    Declared: contract of Data2VecTextModel (data2vec_contracts/contracts/text.py)
    Output field pooler_output
      Contract: Float[Tensor, "B D"]
      Actual value: Tensor(float32, shape=(2, 16))
      Dimension D: expected 32, actual 16
      D was bound by: config.hidden_size
    Other bindings:
      V     = 99  (config.vocab_size)
      K     = 2   (config.num_labels)
      heads = 4   (config.num_attention_heads)
      B     = 2   (argument input_ids, axis 0)
      N     = 7   (argument input_ids, axis 1)""",
    # an audio frame count derived from the samples by the conv formula
    "audio-Model-last_hidden_state-T": f"""\
Shape contract violated: dimension T of output field last_hidden_state.
  Function: Data2VecAudioModel.forward
    Declared: contract of Data2VecAudioModel (data2vec_contracts/contracts/audio.py)
    Output field last_hidden_state
      Contract: Float[Tensor, "B T Dp"]
      Actual value: Tensor(float32, shape=(2, 60, 32))
      Dimension T: expected 61, actual 60
      T was bound by: {_T_RULE}
    Other bindings:
{_AUDIO_DIMS}
      S     = 1000  (argument input_values, axis 1)""",
    # a constraint with a hint: the position table
    "text-longer-than-position-table": f"""\
Shape contract violated: argument input_ids breaks a constraint on N.
  Function: Data2VecTextForTokenClassification.forward
    Declared: contract of Data2VecTextForTokenClassification (data2vec_contracts/contracts/text.py)
    Argument input_ids
      Constraint: expected N <= 62 (config.max_position_embeddings=64 - config.pad_token_id=1 - 1), actual N=63
      N was bound by: argument input_ids, axis 1
    Other bindings:
{_TEXT_DIMS}
      B     = 2   (argument input_ids, axis 0)
  Hint: the sequence is longer than the position table: positions start at pad_token_id + 1, so at most 62 tokens \
fit; truncate (tokenizer(..., truncation=True, max_length=62)).""",
    # the number of hidden states
    "text-Model-hidden_states-length": f"""\
Shape contract violated: length of output field hidden_states.
  Function: Data2VecTextModel.forward
    Declared: contract of Data2VecTextModel (data2vec_contracts/contracts/text.py)
    Output field hidden_states
      Actual value: (Tensor(float32, shape=(2, 7, 32)), Tensor(float32, shape=(2, 7, 32)))
      Length: expected 3 (L+1 with config.num_hidden_layers=2), actual 2
    Other bindings:
{_TEXT_DIMS}
      B     = 2   (argument input_ids, axis 0)
      N     = 7   (argument input_ids, axis 1)""",
    # sdpa gives no attention weights (vision: one None per layer)
    "vision-Model-attentions-sdpa-empty": f"""\
Shape contract violated: length of output field attentions.
  Function: Data2VecVisionModel.forward
    Declared: contract of Data2VecVisionModel (data2vec_contracts/contracts/vision.py)
    Output field attentions
      Actual value: ()
      Length: expected 2 ({_VISION_SDPA}), actual 0
    Other bindings:
      D     = 32  (config.hidden_size)
      K     = 2   (config.num_labels)
      heads = 4   (config.num_attention_heads)
      Cin   = 3   (config.num_channels)
      p     = 8   (config.patch_size)
      Hs    = 16  (4*(config.image_size=32 // config.patch_size))
      B     = 2   (argument pixel_values, axis 0)
      H     = 32  (argument pixel_values, axis 2)
      W     = 32  (argument pixel_values, axis 3)
      h     = 4   (h = H//8 with H=32; config.patch_size)
      w     = 4   (w = W//8 with W=32; config.patch_size)
      Nv    = 17  (Nv = 1 + h*w with h=4, w=4; one CLS token plus one per patch)
  Hint: with attn_implementation='sdpa' output_attentions=True returns no attention weights (an empty tuple, or \
None for every layer); build the model with attn_implementation='eager' to get them.""",
    # a constraint on a derived length (frames left after the XVector TDNN)
    "audio-xvector-too-short": """\
Shape contract violated: argument input_values breaks a constraint on Tx.
  Function: Data2VecAudioForXVector.forward
    Declared: contract of Data2VecAudioForXVector (data2vec_contracts/contracts/audio.py)
    Argument input_values
      Constraint: expected Tx >= 2 frames after the TDNN (std of one frame is NaN), actual Tx=1
      Tx was bound by: Tx = T - 14 with T=15; config.tdnn_kernel=(5, 3, 3, 1, 1), config.tdnn_dilation=(1, 2, 3, 1, 1)
    Other bindings:
      D     = 32   (config.hidden_size)
      F     = 16   (config.conv_dim[-1])
      V     = 20   (config.vocab_size)
      K     = 2    (config.num_labels)
      X     = 12   (config.xvector_output_dim)
      heads = 4    (config.num_attention_heads)
      Dp    = 32   (config.hidden_size)
      B     = 2    (argument input_values, axis 0)
      S     = 268  (argument input_values, axis 1)
      T     = 15   (T = (S - 29)//16 + 1 with S=268; conv stack config.conv_kernel=(5, 3, 3), \
config.conv_stride=(4, 2, 2))
  Hint: the waveform is too short for ForXVector: the TDNN drops frames and pooling needs at least 2.""",
    # the input dtype of an audio model
    "audio-fp64-into-fp32": f"""\
Shape contract violated: dtype of argument input_values.
  Function: Data2VecAudioModel.forward
    Declared: contract of Data2VecAudioModel (data2vec_contracts/contracts/audio.py)
    Argument input_values
      Dtype: expected float32 (the model's parameter dtype), actual float64
    Other bindings:
{_AUDIO_DIMS}
      S     = 1000  (argument input_values, axis 1)
  Hint: Data2Vec audio does not cast its input: call model(input_values.to(torch.float32)).""",
}


@pytest.mark.parametrize("case", list(GOLDEN))
def test_whole_message(case: str) -> None:
    error = (CASES.get(case) or BAD_CALLS[case]).violation()
    assert str(error) == GOLDEN[case]


# ---- every field of every class ------------------------------------------------------------------
def _sweep() -> list[tuple[str, str, str]]:
    """(modality, head, field) for every field a call with labels and all flags returns."""
    found = []
    for modality, head in CLASSES:
        model = tiny_model(modality, head, **_sweep_config(modality, head))
        out = model(**_sweep_kwargs(model))
        found += [(modality, head, name) for name in out.keys()]  # noqa: SIM118 - a ModelOutput
    return found


def _sweep_config(modality: str, head: str) -> dict[str, Any]:
    decoder = {"is_decoder": True} if modality == "text" and head in ("Model", "ForCausalLM") else {}
    return {"attn_implementation": "eager", **decoder}


def _sweep_kwargs(model: Any) -> dict[str, Any]:
    inputs = tiny_inputs(model, batch=2, samples=1000)
    return {**inputs, **tiny_labels(model, inputs), "output_hidden_states": True, "output_attentions": True}


def _break(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.reshape(1) if value.ndim == 0 else value[:1]  # a scalar gets a rank, a tensor loses a row
    if isinstance(value, tuple) and not value:
        return (torch.zeros(1),)  # () expected: anything else is wrong
    if isinstance(value, tuple):
        return value[:-1]
    return None  # a cache


_SWEEP = _sweep()


@pytest.mark.parametrize(("modality", "head", "name"), _SWEEP, ids=["-".join(c) for c in _SWEEP])
def test_every_field_of_every_class_is_checked(modality: str, head: str, name: str) -> None:
    base = model_class(modality, head)
    model = tampered(modality, head, setf(name, _break), **_sweep_config(modality, head))
    kwargs = _sweep_kwargs(model)
    real = getattr(tiny_model(modality, head, **_sweep_config(modality, head))(**kwargs), name)
    with pytest.raises(ShapeContractError) as info:
        model(**kwargs)
    violation = info.value.violation
    assert violation is not None
    assert violation.function == f"{base.__name__}.forward"
    assert violation.field == f"output field {name}"
    if isinstance(real, torch.Tensor) and real.ndim == 0:
        assert (violation.problem, violation.actual) == ("rank", "1 dims (1,)")
    elif isinstance(real, torch.Tensor):
        assert (violation.problem, violation.dimension, violation.actual) == ("dimension", "B", "1")
    elif isinstance(real, tuple) and real:
        assert (violation.problem, violation.actual) == ("length", str(len(real) - 1))
    else:
        assert violation.problem == "type"
