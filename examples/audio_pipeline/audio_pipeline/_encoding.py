"""Frame features and the frame mask that belongs to them."""

from __future__ import annotations

from jaxtyping import Bool, Float, Int
from torch import Tensor
from transformers import Data2VecAudioModel

from data2vec_contracts import contract, frame_mask


@contract(dims={"D": "model.config.hidden_size"}, masks={"attention_mask": "S"})
def encode_frames(
    model: Data2VecAudioModel, input_values: Float[Tensor, "B S"], attention_mask: Int[Tensor, "B S"]
) -> tuple[Float[Tensor, "B T D"], Bool[Tensor, "B T"]]:
    """``(frames, frame_mask)``: the encoder output and which of its T frames come from real samples.

    The (B, S) sample mask is never reused on frames: ``data2vec_contracts.frame_mask`` downsamples it
    the way the conv feature encoder does (row b keeps the frames of its own length).
    """
    frames = model(input_values, attention_mask=attention_mask).last_hidden_state
    return frames, frame_mask(model.config, attention_mask)
