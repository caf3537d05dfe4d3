"""Contracts of the three Data2VecVision classes (BEiT-style ViT).

Symbols: B batch, Cin num_channels, H/W pixels, p patch_size, h = H//p, w = W//p, Nv = 1 + h*w tokens (CLS first),
D hidden_size, K num_labels, heads num_attention_heads, Hs = 4*(image_size//p) the side of the segmentation logits,
Hl/Wl label sizes. A config may give ``patch_size`` and ``image_size`` as (height, width) pairs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from jaxtyping import Bool, Float, Int
from torch import Tensor

from ..checker import Constraint, Problem, Rule, Scope, Sym
from ._compat import VISION_CASTS_PIXELS
from ._labels import Long, class_ids, classification_labels, classification_problem
from ._lengths import image_sides, patch_sides
from ._outputs import attentions, config_dim, hidden_states, loss, nonempty_batch, pruned_attentions, pruned_dims
from ._plan import CallCheck, CallView, DtypeRule, ModelContract, Out, OutKind, tensor
from ._values import refuse

__all__ = ["VISION_CONTRACTS"]

_INPUTS: dict[str, Any] = {"pixel_values": Float[Tensor, "B Cin H W"]}
_TOKENS = Float[Tensor, "B Nv D"]
_ATTN = Float[Tensor, "B heads Nv Nv"]
_POOLED = Float[Tensor, "B D"]
_CLASS_LOGITS = Float[Tensor, "B K"]
_FEATURES = Float[Tensor, "B D"]
_SEG_LOGITS = Float[Tensor, "B K Hs Hs"]
_SEG_LOGITS_RECT = Float[Tensor, "B K Hs Ws"]  # a (height, width) image_size of different sides

_READS = ("output_hidden_states", "output_attentions", "return_dict")
# transformers 4.x does not cast pixel_values to the parameter dtype (5.x does)
_DTYPE = () if VISION_CASTS_PIXELS else (
    DtypeRule(
        "pixel_values",
        "Data2Vec vision in transformers 4.x does not cast its input: call model(pixel_values.to({dtype})).",
    ),
)


def _dims(config: Any) -> dict[str, tuple[int, str]]:
    ph, pw = patch_sides(config)
    ih, iw = image_sides(config)
    dims = {
        "D": config_dim(config, "hidden_size"),
        "K": config_dim(config, "num_labels"),
        "heads": config_dim(config, "num_attention_heads"),
        "Cin": config_dim(config, "num_channels"),
        **pruned_dims(config),
    }
    if ph == pw:
        dims["p"] = (ph, "config.patch_size")
    dims["Hs"] = (4 * (ih // ph), f"4*(config.image_size={config.image_size} // config.patch_size)")
    if iw // pw != ih // ph:
        dims["Ws"] = (4 * (iw // pw), f"4*(config.image_size={config.image_size} // config.patch_size), width")
    return dims


def _rules(call: CallView) -> dict[str, Rule]:
    ph, pw = patch_sides(call.config)
    return {
        "h": Rule("h", Sym("H") // ph, "config.patch_size"),
        "w": Rule("w", Sym("W") // pw, "config.patch_size"),
        "Nv": Rule("Nv", 1 + Sym("h") * Sym("w"), "one CLS token plus one per patch"),
    }


def _constraints(call: CallView) -> list[Constraint]:
    ph, pw = patch_sides(call.config)
    return [
        *nonempty_batch(call, "argument pixel_values"),
        Constraint((Sym("H").ge(ph), Sym("W").ge(pw)), "(config.patch_size)", "argument pixel_values",
                   hint="the image is smaller than one patch."),
    ]


def _pair(value: Any) -> bool:
    return isinstance(value, (tuple, list))


def _checks(call: CallView) -> list[CallCheck]:
    """The configs and calls transformers cannot run whatever the shapes: bool_masked_pos without a mask token, a
    (height, width) patch_size with relative position bias, absolute position embeddings it cannot interpolate."""
    config = call.config
    found: list[CallCheck] = []
    if call.given("bool_masked_pos") and not config.use_mask_token:
        found.append(refuse(
            "bool_masked_pos without a mask token", "argument bool_masked_pos",
            "None (config.use_mask_token=False: the model has no mask token)",
            "masking patches replaces them with the mask token, which the model builds only with "
            "config.use_mask_token=True: build it with Data2VecVisionConfig(use_mask_token=True).",
        ))
    relative = config.use_relative_position_bias or config.use_shared_relative_position_bias
    if _pair(config.patch_size) and relative:
        found.append(refuse(
            "a patch_size pair with relative position bias", "config.patch_size",
            "an int (the relative position bias computes height // config.patch_size)",
            "transformers fails on a (height, width) patch_size with use_relative_position_bias or "
            "use_shared_relative_position_bias (TypeError: int // tuple): use a square int patch_size.",
            actual=repr(config.patch_size),
        ))
    if config.use_absolute_position_embeddings:
        positions = _absolute_positions(config)
        if positions is not None:
            found.append(positions)
    return found


def _absolute_positions(config: Any) -> CallCheck | None:
    """The absolute position embeddings are used as they are for an input of the config's patch count with H == W,
    and otherwise interpolated from a square grid, which needs an int patch_size and a square number of positions
    (``interpolate_pos_encoding`` of the embeddings runs whatever the argument of that name says)."""
    (ph, pw), (ih, iw) = patch_sides(config), image_sides(config)
    positions = (ih // ph) * (iw // pw)
    pair = _pair(config.patch_size)
    if not pair and math.isqrt(positions) ** 2 == positions:
        return None
    if pair:
        field, expected, actual = "config.patch_size", "an int (the position embeddings are interpolated with height " \
            "// config.patch_size)", repr(config.patch_size)
        hint = ("with use_absolute_position_embeddings=True transformers interpolates the positions with height // "
                "config.patch_size, which fails for a (height, width) patch_size (TypeError) "
                "unless the input is square "
                f"with the config's {positions} patches: use an int patch_size.")
    else:
        field, expected = "config.image_size", "a square number of patches (the position embeddings are interpolated " \
            "from a square grid)"
        actual = f"{ih // ph}x{iw // pw} = {positions} patches (config.image_size={config.image_size})"
        hint = ("with use_absolute_position_embeddings=True transformers reshapes the position embeddings to a square "
                "grid, which fails for this image_size (RuntimeError: shape is invalid): use a square image_size, or "
                "use_absolute_position_embeddings=False.")

    def run(scope: Scope, args: Mapping[str, Any]) -> None:
        __tracebackhide__ = True
        h, w = scope.values.get("H"), scope.values.get("W")
        if not isinstance(h, int) or not isinstance(w, int) or (h == w and (h // ph) * (w // pw) == positions):
            return
        scope.fail(field, Problem.TYPE, expected, actual, hint=hint)

    return CallCheck("absolute position embeddings", run)


def _segmentation_checks(call: CallView) -> list[CallCheck]:
    config = call.config
    found = _checks(call)
    if _pair(config.image_size) or _pair(config.patch_size):
        name = "image_size" if _pair(config.image_size) else "patch_size"
        found.append(refuse(
            f"segmentation with a {name} pair", f"config.{name}",
            "an int (the segmentation head reshapes to config.image_size // config.patch_size squared)",
            f"Data2VecVisionForSemanticSegmentation needs int image_size and patch_size (TypeError with a pair): "
            f"use a square config.{name}.",
            actual=repr(getattr(config, name)),
        ))
    layers = int(config.num_hidden_layers)
    selected = [i for i in range(layers + 1) if i + 1 in tuple(config.out_indices)]
    if len(selected) < 3:
        found.append(refuse(
            "out_indices that select fewer than 3 states", "config.out_indices",
            f"at least 3 of the {layers + 1} hidden states selected (state i is a feature map when i + 1 is in "
            "config.out_indices)", "transformers' decode head needs 3 or 4 feature maps (a conv channel error, or "
            "IndexError, with fewer): choose 4 distinct out_indices between 1 and config.num_hidden_layers + 1.",
            actual=f"{len(selected)} (config.out_indices={tuple(config.out_indices)})", problem=Problem.LENGTH,
        ))
    if call.given("labels"):
        ignore = int(config.semantic_loss_ignore_index)
        found.append(class_ids("labels", "K", f"a class id outside [0, K) (other than "
                                              f"config.semantic_loss_ignore_index={ignore}) makes the loss fail.",
                               ignore=ignore))
    return found


def _classification_checks(call: CallView) -> list[CallCheck]:
    found = _checks(call)
    if classification_problem(call.config) in ("single_label_classification", "auto"):
        found.append(class_ids("labels", "K", "a class id outside [0, K) (other than the ignore index -100) makes the "
                                              "loss fail (on CUDA a device-side assert)."))
    return found


def _classification_overrides(call: CallView) -> dict[str, Any]:
    return {"labels": classification_labels(call.config, "K" if call.config.num_labels > 0 else "D")}


def _seg_constraints(call: CallView) -> list[Constraint]:
    ph, pw = patch_sides(call.config)
    ih, iw = image_sides(call.config)
    no_loss = "Data2VecVisionForSemanticSegmentation computes no loss with num_labels=1; use num_labels >= 2."
    labels = (
        [Constraint((Sym("K").gt(1),), "to compute a loss", "config.num_labels", hint=no_loss)]
        if call.given("labels")
        else []
    )
    # the decode head reshapes the batch even without encoder layers
    empty = nonempty_batch(call, "argument pixel_values", force=True) if call.config.num_hidden_layers == 0 else []
    return [
        *empty,
        *_constraints(call),
        *labels,
        Constraint(
            ((Sym("H") // ph).eq(ih // ph), (Sym("W") // pw).eq(iw // pw)),
            f"(the patch grid of config.image_size={call.config.image_size})", "argument pixel_values",
            hint=(
                f"the segmentation head reshapes tokens to the {ih // ph}x{iw // pw} patch grid of config.image_size, "
                f"so only images with that grid ({ih}x{iw} pixels, or sizes that floor to it) are valid; other sizes "
                "fail or, when the patch count matches, give a scrambled layout. Resize the image to config.image_size."
            ),
        ),
    ]


def _common(call: CallView) -> dict[str, Out]:
    return {
        "hidden_states": hidden_states(call, _TOKENS, modality="vision", selectable=False),
        "attentions": pruned_attentions(call, attentions(call, _ATTN, modality="vision"), "B heads Nv Nv"),
    }


def _model(call: CallView) -> dict[str, Out]:
    pooled = call.pooled if call.pooled is not None else False  # the constructor's add_pooling_layer default
    return {
        "last_hidden_state": tensor(_TOKENS),
        "pooler_output": tensor(_POOLED) if pooled else Out(OutKind.NONE, why="add_pooling_layer=False"),
        **_common(call),
    }


def _classify(call: CallView) -> dict[str, Out]:
    logits = _CLASS_LOGITS if call.config.num_labels > 0 else _FEATURES
    return {"loss": loss(call, "labels"), "logits": tensor(logits), **_common(call)}


def _segment(call: CallView) -> dict[str, Out]:
    (ph, pw), (ih, iw) = patch_sides(call.config), image_sides(call.config)
    logits = _SEG_LOGITS if ih // ph == iw // pw else _SEG_LOGITS_RECT
    return {"loss": loss(call, "labels"), "logits": tensor(logits), **_common(call)}


def _contract(name: str, fields: tuple[str, ...], inputs: dict[str, Any], outputs: Any, summary: str,
              constraints: Any = _constraints, checks: Any = _checks, overrides: Any = None) -> ModelContract:
    return ModelContract(
        class_name=f"Data2VecVision{name}",
        modality="vision",
        fields=fields,
        inputs=inputs,
        outputs=outputs,
        config_dims=_dims,
        rules=_rules,
        constraints=constraints,
        first_input="pixel_values",
        summary=summary,
        reads=_READS,
        dtype_rules=_DTYPE,
        label_arguments=("labels",) if "labels" in inputs else (),
        input_overrides=overrides,
        call_checks=checks,
    )


_HEAD_FIELDS = ("loss", "logits", "hidden_states", "attentions")

VISION_CONTRACTS = (
    _contract(
        "Model",
        ("last_hidden_state", "pooler_output", "hidden_states", "attentions"),
        # any 0/1 tensor works: the model casts it to the mask token's dtype
        {**_INPUTS, "bool_masked_pos": Bool[Tensor, "B h*w"] | Int[Tensor, "B h*w"]},
        _model,
        "(B, C, H, W) pixels -> (B, 1 + h*w, D) tokens, CLS first",
    ),
    # the labels follow config.problem_type (and, when None, num_labels and their dtype): _classification_overrides
    _contract("ForImageClassification", _HEAD_FIELDS, {**_INPUTS, "labels": Float[Tensor, "B K"]}, _classify,
              "(B, C, H, W) -> (B, K) logits", checks=_classification_checks, overrides=_classification_overrides),
    _contract("ForSemanticSegmentation", _HEAD_FIELDS, {**_INPUTS, "labels": Long[Tensor, "B Hl Wl"]}, _segment,
              "(B, C, image_size, image_size) -> (B, K, 4*image_size/p, 4*image_size/p) logits",
              constraints=_seg_constraints, checks=_segmentation_checks),
)
