"""Contracts of the five Data2VecAudio classes (waveform -> conv feature encoder -> transformer).

Symbols: B batch, S samples, T frames (conv stack), Ta frames after the adapter, Tx frames after the XVector TDNN,
D hidden_size, Dp output size (output_hidden_size with an adapter, else D), F conv_dim[-1], V vocab_size,
K num_labels, X xvector_output_dim, heads num_attention_heads.
"""

from __future__ import annotations

from typing import Any

from jaxtyping import Bool, Float, Int, Shaped
from torch import Tensor

from ..checker import Constraint, Expr, Rule, Sym
from ._compat import (
    AUDIO_HEADS_NEED_RETURN_DICT,
    FRAME_TUPLE_HAS_LOSS,
    WEIGHTED_SUM_LAYERDROP_FAILS,
    WEIGHTED_SUM_RETURNS_STATES,
)
from ._labels import ClassIds, Long, class_ids
from ._lengths import adapter_expr, adapter_min_frames, receptive_field, samples_expr
from ._outputs import attentions, config_dim, hidden_states, loss, nonempty_batch
from ._plan import CallCheck, CallView, DtypeRule, ModelContract, Out, tensor
from ._values import refuse, within

__all__ = ["AUDIO_CONTRACTS"]

_INPUTS: dict[str, Any] = {
    "input_values": Float[Tensor, "B S"],
    "attention_mask": Shaped[Tensor, "B S"],
}
_FRAMES = Float[Tensor, "B T D"]
_ATTN = Float[Tensor, "B heads T T"]
_STATE = {"T": Float[Tensor, "B T Dp"], "Ta": Float[Tensor, "B Ta Dp"]}
_CTC_LOGITS = {"T": Float[Tensor, "B T V"], "Ta": Float[Tensor, "B Ta V"]}
_FEATURES = Float[Tensor, "B T F"]
_LOSS_PER_EXAMPLE = Float[Tensor, " B"]
_CLASS_LOGITS = Float[Tensor, "B K"]
_FRAME_LOGITS = Float[Tensor, "B T K"]
_XVECTOR = Float[Tensor, "B X"]
# the heads flatten them: a (B, 1) column works too; cross-entropy takes int64 / uint8, XVector's one_hot int64 only
_CLASS_LABELS: Any = ClassIds[Tensor, " B"] | ClassIds[Tensor, "B 1"]
_XVECTOR_LABELS: Any = Long[Tensor, " B"] | Long[Tensor, "B 1"]

_READS = ("output_hidden_states", "output_attentions", "return_dict")
_DTYPE = (DtypeRule("input_values", "Data2Vec audio does not cast its input: call model(input_values.to({dtype}))."),)


def _dims(config: Any) -> dict[str, tuple[int, str]]:
    dims = {
        "D": config_dim(config, "hidden_size"),
        "F": (int(config.conv_dim[-1]), "config.conv_dim[-1]"),
        "V": config_dim(config, "vocab_size"),
        "K": config_dim(config, "num_labels"),
        "X": config_dim(config, "xvector_output_dim"),
        "heads": config_dim(config, "num_attention_heads"),
    }
    dims["Dp"] = config_dim(config, "output_hidden_size") if config.add_adapter else dims["D"]
    return dims


def _variable(call: CallView) -> bool:
    """In training mode layerdrop skips layers at random, so lengths are not fixed."""
    return call.training and float(getattr(call.config, "layerdrop", 0.0)) > 0.0


def _rules(call: CallView) -> dict[str, Rule]:
    config = call.config
    kernels = tuple(config.conv_kernel)
    strides = tuple(config.conv_stride)
    dropped = sum(int(d) * (int(k) - 1) for k, d in zip(config.tdnn_kernel, config.tdnn_dilation))
    # the TDNN of ForXVector runs after the adapter, unless it reads the weighted sum of the
    # hidden states, which come before the adapter
    frames = "Ta" if config.add_adapter and not config.use_weighted_layer_sum else "T"
    rules = {
        "T": Rule("T", samples_expr(config), f"conv stack config.conv_kernel={kernels}, config.conv_stride={strides}"),
        "Tx": Rule(
            "Tx", Sym(frames) - dropped,
            f"config.tdnn_kernel={tuple(config.tdnn_kernel)}, config.tdnn_dilation={tuple(config.tdnn_dilation)}",
        ),
    }
    if config.add_adapter and not _variable(call):
        k, s, n = config.adapter_kernel_size, config.adapter_stride, config.num_adapter_layers
        rules["Ta"] = Rule(
            "Ta", adapter_expr(config, Sym("T")),
            f"adapter config.adapter_kernel_size={k}, config.adapter_stride={s}, config.num_adapter_layers={n}",
        )
    return rules


def _spec_augment(call: CallView, feature: bool) -> bool:
    """Whether SpecAugment draws masks in this call (training, ``apply_spec_augment``, a positive probability; time
    masks only when no ``mask_time_indices`` are given)."""
    config = call.config
    if not (call.training and getattr(config, "apply_spec_augment", True)):
        return False
    if feature:
        return float(config.mask_feature_prob) > 0
    return float(config.mask_time_prob) > 0 and not call.given("mask_time_indices")


def _constraints(call: CallView) -> list[Constraint]:
    config = call.config
    r, step = receptive_field(config)
    found: list[Constraint] = [
        *nonempty_batch(call, "argument input_values"),
        Constraint(
            (Sym("S").ge(r),), "(the receptive field of the conv stack)", "argument input_values",
            hint=f"audio shorter than the receptive field makes no frame: pad every waveform to at least {r} samples.",
        ),
    ]
    if _spec_augment(call, feature=False):
        length = int(config.mask_time_length)
        s_min = r + (length - 1) * step
        found.append(Constraint(
            (Sym("T").ge(length),),
            f"(config.mask_time_length: SpecAugment masks spans of {length} frames in training)",
            "argument input_values",
            hint=f"in training SpecAugment masks spans of config.mask_time_length={length} frames, so each clip needs "
            f"at least {length} frames ({s_min} samples): pad the clips, or lower mask_time_length (mask_time_prob=0 "
            "switches time masking off).",
        ))
    if _spec_augment(call, feature=True):
        length = int(config.mask_feature_length)
        found.append(Constraint(
            (Sym("D").ge(length),), f"(config.mask_feature_length: SpecAugment masks spans of {length} features in "
            "training)", "config.mask_feature_length",
            hint=f"in training SpecAugment masks spans of config.mask_feature_length={length} of the hidden_size "
            "features: lower mask_feature_length, or set mask_feature_prob=0.",
        ))
    if config.add_adapter and not _variable(call):  # in training, layerdrop skips adapter layers at random too
        t_min = adapter_min_frames(config)
        if t_min > 1:
            s_min = r + (t_min - 1) * step
            k = config.adapter_kernel_size
            found.append(
                Constraint(
                    (Sym("T").ge(t_min),), f"(each adapter layer needs T + 2 >= config.adapter_kernel_size={k})",
                    "argument input_values",
                    hint=f"the adapter's convolution is wider than the frames: pad every waveform to at least {s_min} "
                    "samples.",
                )
            )
    return found


def _checks(call: CallView) -> list[CallCheck]:
    """The calls transformers cannot run whatever the shapes: given ``mask_time_indices`` without a mask embedding,
    and (5.x, in the heads) ``config.return_dict=False`` or a weighted layer sum whose every layer layerdrop skips."""
    config = call.config
    found: list[CallCheck] = []
    name = type(config).__name__
    if call.given("mask_time_indices") and getattr(config, "apply_spec_augment", True) and not (
        float(config.mask_time_prob) > 0 or float(config.mask_feature_prob) > 0
    ):
        found.append(refuse(
            "mask_time_indices without masked_spec_embed", "argument mask_time_indices",
            "None (config.mask_time_prob = config.mask_feature_prob = 0, so the model has no masked_spec_embed)",
            "the model builds its mask embedding only when config.mask_time_prob > 0 or config.mask_feature_prob > 0; "
            f"build it with {name}(mask_time_prob=...) to mask frames, or set apply_spec_augment=False to ignore "
            "mask_time_indices.",
        ))
    return found


def _head_checks(call: CallView) -> list[CallCheck]:
    config = call.config
    found = _checks(call)
    if AUDIO_HEADS_NEED_RETURN_DICT and getattr(config, "return_dict", True) is False:
        found.append(refuse(
            "heads under config.return_dict=False", "config.return_dict",
            "True (the head reads outputs.last_hidden_state of its inner model)",
            "transformers 5.x audio heads fail under config.return_dict=False (AttributeError: 'tuple' object has no "
            "attribute 'last_hidden_state', a transformers bug): keep config.return_dict=True and pass "
            "return_dict=False to the call for a tuple.",
            actual="False",
        ))
    return found


def _class_checks(ignore: int | None, ids: bool = True) -> Any:
    """The checks of the heads that read ``use_weighted_layer_sum``; ``ids``: their labels are class ids in [0, K)
    (``ignore``: the loss's ignore index)."""

    def checks(call: CallView) -> list[CallCheck]:
        found = _head_checks(call)
        layers = int(call.config.num_hidden_layers)
        if (WEIGHTED_SUM_LAYERDROP_FAILS and call.config.use_weighted_layer_sum and call.training and layers
                and float(call.config.layerdrop) >= 1.0):
            found.append(refuse(
                "weighted layer sum with every layer dropped", "config.layerdrop",
                "< 1.0 in training with config.use_weighted_layer_sum=True (the weighted sum needs the layers' states)",
                "layerdrop >= 1 skips every layer, and transformers 5.x then stacks no hidden states (RuntimeError: "
                "stack expects a non-empty TensorList, a transformers bug that also fails whenever layerdrop drops "
                "some layer): train with layerdrop=0 when use_weighted_layer_sum=True.",
                actual=str(call.config.layerdrop),
            ))
        if ids:
            other = " (other than the ignore index -100)" if ignore is not None else ""
            found.append(class_ids("labels", "K", f"a class id outside [0, K){other} makes the loss fail (on CUDA a "
                                                  "device-side assert).", ignore=ignore))
        return found

    return checks


def _ctc_checks(call: CallView) -> list[CallCheck]:
    return [
        *_head_checks(call),
        within("labels", "V", what="labels", lower=None, hint="CTC labels index the vocabulary of config.vocab_size "
               "tokens (transformers raises a ValueError beyond it); negative values (-100) mark padding."),
    ]


def _xvector_constraints(call: CallView) -> list[Constraint]:
    return [
        *_constraints(call),
        Constraint(
            (Sym("Dp").eq(Sym("D")),), "(the TDNN reads config.hidden_size features)", "config.output_hidden_size",
            hint="ForXVector with add_adapter=True needs output_hidden_size == hidden_size.",
        ),
        Constraint(
            (Sym("Tx").ge(2),), "frames after the TDNN (std of one frame is NaN)", "argument input_values",
            hint="the waveform is too short for ForXVector: the TDNN drops frames and pooling needs at least 2.",
        ),
    ]


def _ctc_constraints(call: CallView) -> list[Constraint]:
    config = call.config
    if not (call.given("labels") and config.add_adapter):
        return _constraints(call)
    k, s, n = int(config.adapter_kernel_size), int(config.adapter_stride), int(config.num_adapter_layers)
    loss_frames: Expr = Sym("T")
    for _ in range(n):  # _get_feat_extract_output_lengths: the adapter as if its kernel were 3
        loss_frames = (loss_frames - 1) // s + 1
    return [
        *_constraints(call),
        Constraint(
            (Sym("Ta").eq(loss_frames),), "(the frames the CTC loss assumes)", "argument labels",
            hint=(
                f"the CTC loss computes the logits' lengths as if adapter_kernel_size were 3; with "
                f"config.adapter_kernel_size={k} they differ from the real frames, so the loss fails or ignores "
                "frames. Build the model with adapter_kernel_size=3 to train with CTC labels."
            ),
        ),
    ]


def _common(call: CallView, *, head: bool) -> dict[str, Out]:
    """``head``: the classification heads compute hidden states themselves and return an index
    selection as a list (the base model and CTC return a tuple)."""
    variable = _variable(call)
    if head and WEIGHTED_SUM_RETURNS_STATES and call.config.use_weighted_layer_sum:
        # transformers 4.x: the head asks the encoder for every state and returns them all
        call = CallView(call.config, {**call.args, "output_hidden_states": True}, call.given_names, call.training,
                        call.pooled, call.gradient_checkpointing)
    return {
        "hidden_states": hidden_states(
            call, _FRAMES, modality="audio", selectable=True, list_on_selection=head, variable=variable
        ),
        "attentions": attentions(call, _ATTN, modality="audio", variable=variable),
    }


def _after_adapter(call: CallView) -> str:
    return "Ta" if call.config.add_adapter else "T"


_RANDOM_FRAMES = "in training layerdrop skips adapter layers at random, so the frames after the adapter vary per call"


def _frames_why(call: CallView) -> str:
    return _RANDOM_FRAMES if call.config.add_adapter and _variable(call) else ""


def _model(call: CallView) -> dict[str, Out]:
    return {
        "last_hidden_state": tensor(_STATE[_after_adapter(call)], _frames_why(call)),
        "extract_features": tensor(_FEATURES),
        **_common(call, head=False),
    }


def _ctc(call: CallView) -> dict[str, Out]:
    per_example = call.given("labels") and call.config.ctc_loss_reduction == "none"
    return {
        "loss": tensor(_LOSS_PER_EXAMPLE, "ctc_loss_reduction='none'") if per_example else loss(call, "labels"),
        "logits": tensor(_CTC_LOGITS[_after_adapter(call)], _frames_why(call)),
        **_common(call, head=False),
    }


def _seq(call: CallView) -> dict[str, Out]:
    return {"loss": loss(call, "labels"), "logits": tensor(_CLASS_LOGITS), **_common(call, head=True)}


def _frame(call: CallView) -> dict[str, Out]:
    return {"loss": loss(call, "labels"), "logits": tensor(_FRAME_LOGITS), **_common(call, head=True)}


def _xvector(call: CallView) -> dict[str, Out]:
    return {
        "loss": loss(call, "labels"),
        "logits": tensor(_XVECTOR),
        "embeddings": tensor(_XVECTOR),
        **_common(call, head=True),
    }


def _contract(name: str, fields: tuple[str, ...], inputs: dict[str, Any], outputs: Any, summary: str,
              constraints: Any = _constraints, tuple_omits: tuple[str, ...] = (), checks: Any = _head_checks,
              ) -> ModelContract:
    return ModelContract(
        class_name=f"Data2VecAudio{name}",
        modality="audio",
        fields=fields,
        inputs=inputs,
        outputs=outputs,
        config_dims=_dims,
        rules=_rules,
        constraints=constraints,
        first_input="input_values",
        summary=summary,
        reads=_READS,
        dtype_rules=_DTYPE,
        label_arguments=("labels",) if "labels" in inputs else (),
        tuple_omits=tuple_omits,
        call_checks=checks,
    )


_HEAD_FIELDS = ("loss", "logits", "hidden_states", "attentions")

AUDIO_CONTRACTS = (
    _contract(
        "Model",
        ("last_hidden_state", "extract_features", "hidden_states", "attentions"),
        {**_INPUTS, "mask_time_indices": Bool[Tensor, "B T"]},
        _model,
        "(B, S) samples -> (B, T', D') frames and (B, T, F) conv features",
        checks=_checks,
    ),
    _contract("ForCTC", _HEAD_FIELDS, {**_INPUTS, "labels": Int[Tensor, "B Lt"]}, _ctc,
              "(B, S) -> (B, T', V) CTC logits", constraints=_ctc_constraints, checks=_ctc_checks),
    _contract("ForSequenceClassification", _HEAD_FIELDS, {**_INPUTS, "labels": _CLASS_LABELS}, _seq,
              "(B, S) -> (B, K) logits (masked mean over frames)", checks=_class_checks(-100)),
    _contract("ForAudioFrameClassification", _HEAD_FIELDS, {**_INPUTS, "labels": Shaped[Tensor, "B T K"]},
              _frame, "(B, S) -> (B, T, K) frame logits; labels (B, T, K)",
              tuple_omits=() if FRAME_TUPLE_HAS_LOSS else ("loss",), checks=_class_checks(None, ids=False)),
    _contract(
        "ForXVector",
        ("loss", "logits", "embeddings", "hidden_states", "attentions"),
        {**_INPUTS, "labels": _XVECTOR_LABELS},
        _xvector,
        "(B, S) -> (B, X) logits and embeddings, X = xvector_output_dim",
        constraints=_xvector_constraints,
        checks=_class_checks(None),  # one_hot takes no ignore index
    ),
)
