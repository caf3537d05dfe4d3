"""Patch tokens of Data2VecVisionModel as a (B, h, w, D) feature map."""

from __future__ import annotations

from jaxtyping import Float
from torch import Tensor
from transformers import Data2VecVisionModel

from data2vec_contracts import contract


@contract(dims={"h": "grid_height", "w": "grid_width"})
def patches_to_grid(patches: Float[Tensor, "B h*w D"], grid_height: int, grid_width: int) -> Float[Tensor, "B h w D"]:
    """Patch tokens in row-major order (no CLS token) to the (B, h, w, D) grid."""
    return patches.reshape(patches.shape[0], grid_height, grid_width, patches.shape[-1])


@contract(dims={"D": "model.config.hidden_size", "p": "model.config.patch_size"}, where={"h": "H // p", "w": "W // p"})
def patch_feature_map(
    model: Data2VecVisionModel, pixel_values: Float[Tensor, "B C H W"], layer: int = -1
) -> Float[Tensor, "B h w D"]:
    """The patch features of ``layer`` (-1: the last; 0: the patch embeddings) as a (B, H/p, W/p, D) map.

    Data2Vec vision puts a CLS token first (1 + h*w tokens); it is dropped before the reshape.
    """
    out = model(pixel_values=pixel_values, output_hidden_states=layer != -1)
    tokens = out.last_hidden_state if layer == -1 else out.hidden_states[layer]
    p = model.config.patch_size
    return patches_to_grid(tokens[:, 1:], pixel_values.shape[-2] // p, pixel_values.shape[-1] // p)
