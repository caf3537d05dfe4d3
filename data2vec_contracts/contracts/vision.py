"""Contracts of the three Data2VecVision classes (BEiT-style ViT).

Symbols: B batch, Cin num_channels, H/W pixels, p patch_size, h = H//p, w = W//p,
Nv = 1 + h*w tokens (CLS first), D hidden_size, K num_labels, heads num_attention_heads,
Hs = 4*(image_size//p) the side of the segmentation logits, Hl/Wl label sizes.
"""

from __future__ import annotations

from typing import Any

from jaxtyping import Bool, Float, Int, Shaped
from torch import Tensor

from .._checking import Constraint, Rule
from ._common import attentions, config_dim, hidden_states, loss
from ._compat import VISION_CASTS_PIXELS
from ._lengths import patch_size, segmentation_size
from ._model import Call, ModelContract, Out, param_dtype, tensor

__all__ = ["VISION_CONTRACTS"]

_INPUTS: dict[str, Any] = {"pixel_values": Float[Tensor, "B Cin H W"]}


def _dims(config: Any) -> dict[str, tuple[int, str]]:
    return {
        "D": config_dim(config, "hidden_size"),
        "K": config_dim(config, "num_labels"),
        "heads": config_dim(config, "num_attention_heads"),
        "Cin": config_dim(config, "num_channels"),
        "p": (patch_size(config), "config.patch_size"),
        "Hs": (segmentation_size(config), f"4*(config.image_size={config.image_size} // config.patch_size)"),
    }


def _rules(config: Any, call: Call) -> dict[str, Rule]:
    p = patch_size(config)
    return {
        "h": Rule("h", ("H",), lambda v: v["H"] // p, f"H // {p}", "config.patch_size"),
        "w": Rule("w", ("W",), lambda v: v["W"] // p, f"W // {p}", "config.patch_size"),
        "Nv": Rule("Nv", ("h", "w"), lambda v: 1 + v["h"] * v["w"], "1 + h*w", "one CLS token plus one per patch"),
    }


def _constraints(call: Call) -> list[Constraint]:
    p = patch_size(call.config)
    return [
        Constraint(("H", "W"), lambda v: v["H"] >= p and v["W"] >= p, f"H >= {p} and W >= {p} (config.patch_size)",
                   "argument pixel_values", hint="the image is smaller than one patch."),
        *_dtype(call),
    ]


def _dtype(call: Call) -> list[Constraint]:
    """transformers 4.x does not cast pixel_values to the parameter dtype (5.x does)."""
    if VISION_CASTS_PIXELS or call.model is None:
        return []
    values = call.args.get("pixel_values")
    want = param_dtype(call.model)
    if want is None or values is None or getattr(values, "dtype", want) == want:
        return []
    have = str(values.dtype).replace("torch.", "")
    need = str(want).replace("torch.", "")
    return [
        Constraint(
            (), lambda v: False, f"{need} (the model's parameter dtype)", "argument pixel_values",
            hint=f"Data2Vec vision in transformers 4.x does not cast its input: call model(pixel_values.to({want})).",
            problem="dtype", actual=have,
        )
    ]


def _seg_constraints(call: Call) -> list[Constraint]:
    size = call.config.image_size
    no_loss = "Data2VecVisionForSemanticSegmentation computes no loss with num_labels=1; use num_labels >= 2."
    labels = (
        [Constraint(("K",), lambda v: v["K"] > 1, "K > 1 to compute a loss", "config.num_labels", hint=no_loss)]
        if call.given("labels")
        else []
    )
    return [
        *_constraints(call),
        *labels,
        Constraint(
            ("H", "W"), lambda v: v["H"] == size and v["W"] == size, f"H == W == {size} (config.image_size)",
            "argument pixel_values",
            hint=(
                "the segmentation head reshapes tokens with config.image_size // patch_size, so only "
                f"{size}x{size} inputs are valid; other sizes fail or, when the patch count matches, give a "
                "scrambled layout. Resize the image to config.image_size."
            ),
        ),
    ]


def _common(call: Call) -> dict[str, Out]:
    return {
        "hidden_states": hidden_states(call, Float[Tensor, "B Nv D"], selectable=False),
        "attentions": attentions(call, Float[Tensor, "B heads Nv Nv"], modality="vision"),
    }


def _model(call: Call) -> dict[str, Out]:
    model = call.model
    pooled = getattr(model, "pooler", None) is not None if model is not None else call.args.get("_pooler", False)
    return {
        "last_hidden_state": tensor(Float[Tensor, "B Nv D"]),
        "pooler_output": tensor(Float[Tensor, "B D"]) if pooled else Out("none", why="add_pooling_layer=False"),
        **_common(call),
    }


def _classify(call: Call) -> dict[str, Out]:
    logits = Float[Tensor, "B K"] if call.config.num_labels > 0 else Float[Tensor, "B D"]
    return {"loss": loss(call, "labels"), "logits": tensor(logits), **_common(call)}


def _segment(call: Call) -> dict[str, Out]:
    return {"loss": loss(call, "labels"), "logits": tensor(Float[Tensor, "B K Hs Hs"]), **_common(call)}


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
    )


_HEAD_FIELDS = ("loss", "logits", "hidden_states", "attentions")

VISION_CONTRACTS = (
    _contract(
        "Model",
        ("last_hidden_state", "pooler_output", "hidden_states", "attentions"),
        {**_INPUTS, "bool_masked_pos": Bool[Tensor, "B h*w"]},
        _model,
        "(B, C, H, W) pixels -> (B, 1 + h*w, D) tokens, CLS first",
    ),
    _contract("ForImageClassification", _HEAD_FIELDS, {**_INPUTS, "labels": Shaped[Tensor, "B ..."]}, _classify,
              "(B, C, H, W) -> (B, K) logits"),
    _contract("ForSemanticSegmentation", _HEAD_FIELDS, {**_INPUTS, "labels": Int[Tensor, "B Hl Wl"]}, _segment,
              "(B, C, image_size, image_size) -> (B, K, 4*image_size/p, 4*image_size/p) logits",
              constraints=_seg_constraints),
)
