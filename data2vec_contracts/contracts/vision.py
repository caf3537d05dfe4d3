"""Contracts of the three Data2VecVision classes (BEiT-style ViT).

Symbols: B batch, Cin num_channels, H/W pixels, p patch_size, h = H//p, w = W//p, Nv = 1 + h*w tokens (CLS first),
D hidden_size, K num_labels, heads num_attention_heads, Hs = 4*(image_size//p) the side of the segmentation logits,
Hl/Wl label sizes. A config may give ``patch_size`` and ``image_size`` as (height, width) pairs.
"""

from __future__ import annotations

from typing import Any

from jaxtyping import Bool, Float, Int, Shaped
from torch import Tensor

from ..checker import Constraint, Rule, Sym
from ._compat import VISION_CASTS_PIXELS
from ._lengths import image_sides, patch_sides
from ._outputs import attentions, config_dim, hidden_states, loss
from ._plan import CallView, DtypeRule, ModelContract, Out, OutKind, tensor

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
        Constraint((Sym("H").ge(ph), Sym("W").ge(pw)), "(config.patch_size)", "argument pixel_values",
                   hint="the image is smaller than one patch."),
    ]


def _seg_constraints(call: CallView) -> list[Constraint]:
    ph, pw = patch_sides(call.config)
    ih, iw = image_sides(call.config)
    no_loss = "Data2VecVisionForSemanticSegmentation computes no loss with num_labels=1; use num_labels >= 2."
    labels = (
        [Constraint((Sym("K").gt(1),), "to compute a loss", "config.num_labels", hint=no_loss)]
        if call.given("labels")
        else []
    )
    return [
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
        "attentions": attentions(call, _ATTN, modality="vision"),
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
              constraints: Any = _constraints) -> ModelContract:
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
    _contract("ForImageClassification", _HEAD_FIELDS, {**_INPUTS, "labels": Shaped[Tensor, "B ..."]}, _classify,
              "(B, C, H, W) -> (B, K) logits"),
    _contract("ForSemanticSegmentation", _HEAD_FIELDS, {**_INPUTS, "labels": Int[Tensor, "B Hl Wl"]}, _segment,
              "(B, C, image_size, image_size) -> (B, K, 4*image_size/p, 4*image_size/p) logits",
              constraints=_seg_constraints),
)
