"""Realistic inputs for the corpus: what tokenizers, feature extractors, image processors and collators hand a pipeline.

* text: right-padded by default (``padding_side="right"``, as the Data2Vec/RoBERTa tokenizer does): ``<s>`` (0) first,
  ``</s>`` (2) last, ``pad_token_id`` (1) at padded positions, the mask an all-ones prefix; left padding only where a
  pipeline really receives it (decoding);
* labels as the collators build them: -100 at padded positions (and at ``<s>``/``</s>`` for token classification,
  at unmasked positions for MLM), class ids elsewhere;
* audio: waveforms right-padded with zeros, and the (B, S) sample mask
  (``Wav2Vec2FeatureExtractor(return_attention_mask=True)``);
* images at the model's ``image_size`` (segmentation), or any multiple of the patch size (the backbone).

Models are the suite's tiny random-weight Data2Vec models (``tests._models.tiny_model``: D=32, 2 layers), built once
per process. Audio ``num_conv_pos_embeddings=1`` unless a case says otherwise: with the tiny default of 3 the
positional convolutions leak padding into kept frames (reference §6.3) and the probe skips padding invariance.
"""

from __future__ import annotations

import functools
from typing import Any

import torch
from torch import Tensor

from data2vec_contracts import frame_mask
from tests._models import tiny_model

PAD, BOS, EOS = 1, 0, 2  # Data2VecTextConfig defaults (RoBERTa's tokenizer)
MASK_ID = 98  # stands for <mask> in the tiny vocabulary of 99

__all__ = [
    "audio_batch",
    "audio_model",
    "ctc_labels",
    "frame_labels",
    "images",
    "mlm_batch",
    "qa_batch",
    "segmentation_labels",
    "text_batch",
    "text_model",
    "token_labels",
    "vision_model",
]


@functools.cache
def text_model(head: str = "Model", **overrides: Any) -> Any:
    """A tiny Data2Vec text model of one head (eval mode, seed 0), built once per process."""
    return tiny_model("text", head, **overrides)


@functools.cache
def audio_model(head: str = "Model", **overrides: Any) -> Any:
    """A tiny Data2Vec audio model; ``num_conv_pos_embeddings=1`` (no padding leak) unless overridden."""
    return tiny_model("audio", head, **{"num_conv_pos_embeddings": 1, **overrides})


@functools.cache
def vision_model(head: str = "Model", **overrides: Any) -> Any:
    """A tiny Data2Vec vision model (image_size 32, patch 8)."""
    return tiny_model("vision", head, **overrides)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def text_batch(
    lengths: list[int], *, side: str = "right", pad_to: int | None = None, seed: int = 1
) -> dict[str, Tensor]:
    """A tokenizer's batch: ``<s> w ... w </s>`` per row (``lengths`` count both specials), padded to the longest
    row (or to ``pad_to``, as ``padding="max_length"`` / ``pad_to_multiple_of`` do) on ``side``."""
    n = pad_to or max(lengths)
    g = _gen(seed)
    ids = torch.full((len(lengths), n), PAD, dtype=torch.long)
    mask = torch.zeros(len(lengths), n, dtype=torch.long)
    for row, length in enumerate(lengths):
        words = torch.randint(3, MASK_ID, (length - 2,), generator=g)
        tokens = torch.cat([torch.tensor([BOS]), words, torch.tensor([EOS])])
        start = 0 if side == "right" else n - length
        ids[row, start : start + length] = tokens
        mask[row, start : start + length] = 1
    return {"input_ids": ids, "attention_mask": mask}


def token_labels(batch: dict[str, Tensor], num_labels: int, *, seed: int = 2) -> Tensor:
    """``DataCollatorForTokenClassification`` labels: a class per word, -100 at ``<s>``, ``</s>`` and padding."""
    ids = batch["input_ids"]
    labels = torch.randint(0, num_labels, ids.shape, generator=_gen(seed))
    ignored = (batch["attention_mask"] == 0) | (ids == BOS) | (ids == EOS)
    return labels.masked_fill(ignored, -100)


def mlm_batch(lengths: list[int], *, seed: int = 3) -> dict[str, Tensor]:
    """``DataCollatorForLanguageModeling(mlm=True)``: some words replaced by <mask>, labels -100 everywhere else."""
    batch = text_batch(lengths, seed=seed)
    ids = batch["input_ids"]
    words = (batch["attention_mask"] == 1) & (ids != BOS) & (ids != EOS)
    chosen = words & (torch.rand(ids.shape, generator=_gen(seed)) < 0.3)
    chosen[:, 1] = words[:, 1]  # at least one masked word per row
    labels = ids.masked_fill(~chosen, -100)
    return {"input_ids": ids.masked_fill(chosen, MASK_ID), "attention_mask": batch["attention_mask"], "labels": labels}


def qa_batch(question: list[int], context: list[int], *, seed: int = 4) -> dict[str, Tensor]:
    """A QA pair per row, right-padded: ``<s> q </s></s> c </s>``, with the context mask
    (``sequence_ids(i) == 1``, as the SQuAD preprocessing of the HF examples computes it)."""
    g = _gen(seed)
    rows = []
    for q, c in zip(question, context):
        q_ids = torch.randint(3, MASK_ID, (q,), generator=g)
        c_ids = torch.randint(3, MASK_ID, (c,), generator=g)
        ids = torch.cat([torch.tensor([BOS]), q_ids, torch.tensor([EOS, EOS]), c_ids, torch.tensor([EOS])])
        ctx = torch.zeros_like(ids)
        ctx[q + 3 : q + 3 + c] = 1
        rows.append((ids, ctx))
    n = max(len(ids) for ids, _ in rows)
    input_ids = torch.full((len(rows), n), PAD, dtype=torch.long)
    attention = torch.zeros(len(rows), n, dtype=torch.long)
    context_mask = torch.zeros(len(rows), n, dtype=torch.long)
    for i, (ids, ctx) in enumerate(rows):
        input_ids[i, : len(ids)] = ids
        attention[i, : len(ids)] = 1
        context_mask[i, : len(ids)] = ctx
    return {"input_ids": input_ids, "attention_mask": attention, "context_mask": context_mask}


def audio_batch(lengths: list[int], *, pad_to: int | None = None, seed: int = 5) -> dict[str, Tensor]:
    """A feature extractor's batch: zero-mean unit-variance clips, zero-padded on the right to the longest
    (or to ``pad_to``: ``padding="max_length"``), with the (B, S) sample mask."""
    s = pad_to or max(lengths)
    g = _gen(seed)
    values = torch.zeros(len(lengths), s)
    mask = torch.zeros(len(lengths), s, dtype=torch.long)
    for row, length in enumerate(lengths):
        clip = torch.randn(length, generator=g)
        values[row, :length] = (clip - clip.mean()) / clip.std()
        mask[row, :length] = 1
    return {"input_values": values, "attention_mask": mask}


def ctc_labels(batch_size: int, lengths: list[int], vocab: int, *, seed: int = 6) -> Tensor:
    """``DataCollatorCTCWithPadding`` labels: character ids (1.. as 0 is the blank/pad), padded with -100."""
    g = _gen(seed)
    labels = torch.full((batch_size, max(lengths)), -100, dtype=torch.long)
    for row, length in enumerate(lengths):
        labels[row, :length] = torch.randint(1, vocab, (length,), generator=g)
    return labels


def frame_labels(model: Any, batch: dict[str, Tensor], *, seed: int = 7) -> Tensor:
    """One-hot (B, T, K) frame labels, T from the conv stack (the head's loss takes argmax over K), zero at padded
    frames (they are masked out of the loss by the pipeline)."""
    config = model.config
    frames = frame_mask(config, batch["attention_mask"])
    ids = torch.randint(0, int(config.num_labels), frames.shape, generator=_gen(seed))
    one_hot = torch.nn.functional.one_hot(ids, int(config.num_labels)).float()
    return one_hot * frames.unsqueeze(-1)


def images(batch: int, height: int, width: int, *, seed: int = 8) -> Tensor:
    """Normalised pixel values as an image processor returns them."""
    return torch.randn(batch, 3, height, width, generator=_gen(seed))


def segmentation_labels(batch: int, height: int, width: int, num_labels: int, *, seed: int = 9) -> Tensor:
    """Per-pixel class ids at the label map's own size, 255 (the ignore index) on a border, as ADE20k has."""
    labels = torch.randint(0, num_labels, (batch, height, width), generator=_gen(seed))
    labels[:, :, :2] = 255
    return labels
