"""Sentence embeddings: the encoder's token states, mean-pooled over the real tokens."""

from __future__ import annotations

from jaxtyping import Float, Int
from torch import Tensor
from transformers import Data2VecTextModel

from data2vec_contracts import contract


@contract(masks={"attention_mask": "N"})
def mean_pool(hidden_states: Float[Tensor, "B N D"], attention_mask: Int[Tensor, "B N"]) -> Float[Tensor, "B D"]:
    """The mean of each row's token states over its real tokens; padding never enters the mean."""
    weights = attention_mask.unsqueeze(-1).to(hidden_states.dtype)
    return (hidden_states * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)


@contract(dims={"D": "model.config.hidden_size"}, masks={"attention_mask": "N"})
def embed_sentences(
    model: Data2VecTextModel, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B D"]:
    """One ``hidden_size`` vector per sentence of a right-padded batch."""
    hidden_states = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    return mean_pool(hidden_states, attention_mask)
