"""Contracted helpers for the three shapes people ask about most."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from jaxtyping import Bool, Float, Shaped
from torch import Tensor

from .contracts import num_frames
from .instrument import contract

__all__ = ["frame_mask", "masked_mean_pool", "tokens_to_grid"]


@contract(name="data2vec_contracts.masked_mean_pool")
def masked_mean_pool(
    hidden_states: Float[Tensor, "B N D"], attention_mask: Shaped[Tensor, "B N"]
) -> Float[Tensor, "B D"]:
    """Mean over the kept tokens of each row (mask 1 = keep); padding never enters the mean.

    A row with no kept token gives zeros rather than NaN.
    """
    mask = attention_mask.to(hidden_states.dtype).unsqueeze(-1)
    total = (hidden_states * mask).sum(dim=1)
    count = mask.sum(dim=1).clamp(min=1.0)
    return total / count


@contract(name="data2vec_contracts.tokens_to_grid", dims={"h": "h", "w": "w"}, where={"N": "1 + h*w"})
def tokens_to_grid(tokens: Float[Tensor, "B N D"], h: int, w: int) -> Float[Tensor, "B h w D"]:
    """Data2Vec vision tokens (B, 1 + h*w, D), CLS first, to the row-major patch grid (B, h, w, D).

    ``h = H // patch_size`` and ``w = W // patch_size`` of the input image. The CLS token is dropped.
    """
    return tokens[:, 1:].reshape(tokens.shape[0], h, w, tokens.shape[2])


def _frames_from_config_conv_stack(arguments: Mapping[str, Any]) -> int:
    return num_frames(arguments["config"], arguments["attention_mask"].shape[1])


@contract(name="data2vec_contracts.frame_mask", dims={"T": _frames_from_config_conv_stack})
def frame_mask(config: Any, attention_mask: Shaped[Tensor, "B S"]) -> Bool[Tensor, "B T"]:
    """The (B, T) frame mask of a right-padded (B, S) sample mask, as Data2Vec audio computes it.

    Row b keeps the first ``num_frames(config, l_b)`` frames, where ``l_b`` is its count of kept
    samples; T is ``num_frames(config, S)``. Never reuse the (B, S) mask on frames.
    """
    lengths = attention_mask.sum(dim=-1).tolist()
    total = num_frames(config, attention_mask.shape[1])
    frames = torch.tensor([num_frames(config, int(n)) for n in lengths], device=attention_mask.device)
    positions = torch.arange(total, device=attention_mask.device)
    return positions.unsqueeze(0) < frames.unsqueeze(1)
