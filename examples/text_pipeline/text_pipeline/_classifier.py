"""A linear classification head on the mean-pooled sentence embedding."""

from __future__ import annotations

import torch
from jaxtyping import Float, Int
from torch import Tensor, nn
from transformers import Data2VecTextModel

from data2vec_contracts import contract

from ._embedding import embed_sentences


class SentenceClassifier(nn.Module):
    """Data2VecTextModel → masked mean pooling → ``Linear(hidden_size, num_labels)``.

    The head's width comes from ``encoder.config.hidden_size``, never from a hard-coded size, so the
    same code serves a tiny test model and a base checkpoint.
    """

    def __init__(self, encoder: Data2VecTextModel, num_labels: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.num_labels = num_labels
        self.head = nn.Linear(encoder.config.hidden_size, num_labels)

    @contract(dims={"D": "self.encoder.config.hidden_size", "K": "self.num_labels"}, masks={"attention_mask": "N"})
    def forward(self, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]) -> Float[Tensor, "B K"]:
        """Class logits, one row per sentence."""
        return self.head(embed_sentences(self.encoder, input_ids, attention_mask))


@contract
def classification_loss(logits: Float[Tensor, "B K"], labels: Int[Tensor, " B"]) -> Float[Tensor, ""]:
    """Mean cross-entropy of the logits against one class index per sentence."""
    return torch.nn.functional.cross_entropy(logits, labels)
