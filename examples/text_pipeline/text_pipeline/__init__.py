"""Sentence embeddings and sentence classification on Data2VecTextModel.

Token ids come in already tokenised (lists of ints); ``pad_batch`` right-pads them into
``input_ids`` and ``attention_mask``, ``embed_sentences`` runs the encoder and mean-pools over the
real tokens, and ``SentenceClassifier`` puts a linear head on top.
"""

from ._batching import pad_batch
from ._classifier import SentenceClassifier, classification_loss
from ._embedding import embed_sentences, mean_pool

__all__ = ["SentenceClassifier", "classification_loss", "embed_sentences", "mean_pool", "pad_batch"]
