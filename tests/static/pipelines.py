"""Pipelines the static tests and the README check and prove; the ``bug_*`` ones each plant one mistake."""

from __future__ import annotations

from typing import Any

import torch
from jaxtyping import Float, Int
from torch import Tensor

from data2vec_contracts import contract, frame_mask, masked_mean_pool, tokens_to_grid


@contract(dims={"D": "model.config.hidden_size"}, masks={"attention_mask": "N"})
def text_embed(model: Any, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]) -> Float[Tensor, "B D"]:
    """Sentence embeddings: the masked mean of the token states."""
    out = model(input_ids=input_ids, attention_mask=attention_mask)
    return masked_mean_pool(out.last_hidden_state, attention_mask)


@contract(dims={"D": "model.config.hidden_size"})
def text_states(model: Any, input_ids: Int[Tensor, "B N"]) -> Float[Tensor, "B N D"]:
    return model(input_ids=input_ids).last_hidden_state


@contract(dims={"D": "config.hidden_size"})
def build_and_embed(config: Any, input_ids: Int[Tensor, "B N"]) -> Float[Tensor, "B N D"]:
    """A pipeline that builds its own model from the config."""
    from transformers import Data2VecTextModel

    model = Data2VecTextModel(config).eval()
    return model(input_ids=input_ids).last_hidden_state


@contract(dims={"D": "model.config.hidden_size"})
def audio_frames(model: Any, input_values: Float[Tensor, "B S"]) -> Float[Tensor, "B T D"]:
    """Frame states; the contract leaves T free, the proof finds its formula."""
    return model(input_values=input_values).last_hidden_state


@contract(dims={"D": "model.config.hidden_size", "p": "model.config.patch_size"}, where={"h": "H//p", "w": "W//p"})
def vision_grid(model: Any, pixel_values: Float[Tensor, "B 3 H W"]) -> Float[Tensor, "B h w D"]:
    """The patch grid of an image: CLS dropped, row-major."""
    tokens = model(pixel_values=pixel_values).last_hidden_state
    return tokens_to_grid(
        tokens, pixel_values.shape[2] // model.config.patch_size, pixel_values.shape[3] // model.config.patch_size
    )


# -- planted bugs ------------------------------------------------------------------------------------
@contract(dims={"D": "model.config.hidden_size"})
def bug_drop_token(model: Any, input_ids: Int[Tensor, "B N"]) -> Float[Tensor, "B N D"]:
    """Drops the first token, as if text had a CLS token to strip: N - 1 states, not N."""
    return model(input_ids=input_ids).last_hidden_state[:, 1:]


@contract(dims={"D": "model.config.hidden_size"})
def bug_pool_wrong_axis(model: Any, input_ids: Int[Tensor, "B N"]) -> Float[Tensor, "B D"]:
    """Mean over the hidden axis instead of the tokens: (B, N), equal to (B, D) only when N = D."""
    return model(input_ids=input_ids).last_hidden_state.mean(dim=2)


@contract(dims={"D": "model.config.hidden_size"}, where={"T": "S//16"})
def bug_frames_formula(model: Any, input_values: Float[Tensor, "B S"]) -> Float[Tensor, "B T D"]:
    """States the frame count as S // stride product, forgetting the receptive field."""
    return model(input_values=input_values).last_hidden_state


@contract(dims={"D": "model.config.hidden_size", "p": "model.config.patch_size"}, where={"h": "H//p", "w": "W//p"})
def bug_grid_with_cls(model: Any, pixel_values: Float[Tensor, "B 3 H W"]) -> Float[Tensor, "B h w D"]:
    """Reshapes all 1 + h*w tokens to the grid without dropping CLS."""
    tokens = model(pixel_values=pixel_values).last_hidden_state
    p = model.config.patch_size
    return tokens.reshape(tokens.shape[0], pixel_values.shape[2] // p, pixel_values.shape[3] // p, -1)


def no_contract(model: Any, input_ids: torch.Tensor) -> torch.Tensor:
    return model(input_ids=input_ids).last_hidden_state


@contract(dims={"D": "model.config.hidden_size"}, masks={"attention_mask": "S"})
def audio_pooled(
    model: Any, input_values: Float[Tensor, "B S"], attention_mask: Int[Tensor, "B S"]
) -> Float[Tensor, "B D"]:
    """Utterance embeddings: frames pooled over the frame mask (its lengths are data)."""
    frames = model(input_values=input_values, attention_mask=attention_mask).last_hidden_state
    return masked_mean_pool(frames, frame_mask(model.config, attention_mask))
