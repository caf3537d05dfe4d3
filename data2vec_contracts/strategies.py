"""Hypothesis strategies for valid Data2Vec inputs, by modality and config.

Each strategy draws a dict of tensors to pass as ``model(**batch)``:

* :func:`text_batches`: ``input_ids`` within the vocabulary (kept tokens never equal
  ``pad_token_id``, padded ones always do) and an ``attention_mask`` padded on the right, the left
  or either (1 = keep); the longest row is never padded, as a tokenizer pads to the longest.
* :func:`audio_batches`: ``input_values`` of ``S`` samples from the receptive field upwards, ``S``
  and every row's length not multiples of the conv stride product, right-padded with zeros, and
  an ``attention_mask`` (Data2Vec audio reads only the count of kept samples, so never left).
* :func:`image_batches`: ``pixel_values`` with heights and widths that are multiples of the patch
  size and, unless asked otherwise, not square.

Values are drawn from a seed (a ``torch.Generator``), so examples shrink by size and seed rather
than element by element. Needs ``hypothesis`` (the ``probe`` extra).
"""

from __future__ import annotations

from typing import Any, Literal

import torch

try:
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "data2vec_contracts.strategies needs hypothesis: pip install 'data2vec-contracts[probe]'"
    ) from exc

from .contracts import max_text_length, patch_size, receptive_field

__all__ = ["audio_batches", "image_batches", "text_batches"]

Padding = Literal["right", "left", "either", "none"]
_SEEDS = st.integers(min_value=0, max_value=2**31 - 1)


def _check_range(name: str, low: int, high: int) -> None:
    if low < 1 or high < low:
        raise ValueError(f"{name}: need 1 <= min <= max, got {low}..{high}")


def text_batches(
    config: Any,
    *,
    min_batch: int = 1,
    max_batch: int = 4,
    min_len: int = 1,
    max_len: int | None = None,
    padding: Padding = "either",
) -> st.SearchStrategy[dict[str, torch.Tensor]]:
    """``{"input_ids": (B, N) int64, "attention_mask": (B, N) int64}`` for a Data2Vec text config.

    ``max_len`` defaults to ``min(32, max_text_length(config))`` and may not exceed the longest
    input the position embeddings allow. ``padding="either"`` draws the side per batch.
    """
    limit = max_text_length(config)
    high = min(32, limit) if max_len is None else max_len
    if high > limit:
        raise ValueError(f"max_len={high} exceeds the longest text input of this config ({limit})")
    _check_range("batch", min_batch, max_batch)
    _check_range("length", min_len, high)
    if padding not in ("right", "left", "either", "none"):
        raise ValueError(f"padding must be 'right', 'left', 'either' or 'none', got {padding!r}")
    vocab = int(config.vocab_size)
    pad = config.pad_token_id
    if vocab < (2 if pad is not None else 1):
        raise ValueError(f"vocab_size={vocab} leaves no token id besides the pad id")

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, torch.Tensor]:
        b = draw(st.integers(min_batch, max_batch))
        n = draw(st.integers(min_len, high))
        side = draw(st.sampled_from(["right", "left"])) if padding == "either" else padding
        lengths = [n] * b if side == "none" else draw(st.lists(st.integers(1, n), min_size=b, max_size=b))
        lengths[draw(st.integers(0, b - 1))] = n
        g = torch.Generator().manual_seed(draw(_SEEDS))
        ids = torch.randint(0, vocab - (1 if pad is not None else 0), (b, n), generator=g)
        if pad is not None:
            ids = ids + (ids >= int(pad)).long()  # every id but the pad id
        positions = torch.arange(n).expand(b, n)
        kept = torch.tensor(lengths).unsqueeze(1)
        mask = positions < kept if side in ("right", "none") else positions >= n - kept
        if pad is not None:
            ids = ids.masked_fill(~mask, int(pad))
        return {"input_ids": ids, "attention_mask": mask.long()}

    return build()


def audio_batches(
    config: Any,
    *,
    min_batch: int = 1,
    max_batch: int = 3,
    min_samples: int | None = None,
    max_samples: int | None = None,
    padding: Literal["right", "none"] = "right",
) -> st.SearchStrategy[dict[str, torch.Tensor]]:
    """``{"input_values": (B, S) float32, "attention_mask": (B, S) int64}`` for a Data2Vec audio config.

    ``S`` runs from the receptive field ``R`` (default ``min_samples``) to ``max_samples`` (default
    ``R + 8 * stride``); it and every row's length are at least ``R`` and never multiples of the
    stride product, so the frame formula's floor always matters. Padding is on the right only.
    """
    r, stride = receptive_field(config)
    low = r if min_samples is None else min_samples
    high = r + 8 * stride if max_samples is None else max_samples
    if low < r:
        raise ValueError(f"min_samples={low} is below the receptive field of this config ({r} samples)")
    _check_range("batch", min_batch, max_batch)
    _check_range("samples", low, high)
    if padding not in ("right", "none"):
        raise ValueError("Data2Vec audio reads only the count of kept samples: padding must be 'right' or 'none'")
    if not any(s % stride for s in range(low, min(high, low + stride) + 1)):
        raise ValueError(f"no length in {low}..{high} is off the stride {stride}")
    lengths_in = st.integers(low, high).filter(lambda s: s % stride != 0)

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, torch.Tensor]:
        b = draw(st.integers(min_batch, max_batch))
        s = draw(lengths_in)
        if padding == "none":
            lengths = [s] * b
        else:
            row = st.integers(low, s).filter(lambda n: n % stride != 0)
            lengths = draw(st.lists(row, min_size=b, max_size=b))
            lengths[draw(st.integers(0, b - 1))] = s
        g = torch.Generator().manual_seed(draw(_SEEDS))
        mask = torch.arange(s).expand(b, s) < torch.tensor(lengths).unsqueeze(1)
        values = torch.randn(b, s, generator=g).masked_fill(~mask, 0.0)
        return {"input_values": values, "attention_mask": mask.long()}

    return build()


def image_batches(
    config: Any,
    *,
    min_batch: int = 1,
    max_batch: int = 3,
    max_patches: int = 4,
    square: bool | None = False,
) -> st.SearchStrategy[dict[str, torch.Tensor]]:
    """``{"pixel_values": (B, C, H, W) float32}`` for a Data2Vec vision config.

    ``H`` and ``W`` are multiples of ``patch_size`` from 1 to ``max_patches`` patches. ``square=False``
    (default) draws only ``H != W``, ``True`` only ``H == W``, ``None`` either. Segmentation heads
    need ``H = W = image_size``: build those inputs directly.
    """
    p = patch_size(config)
    channels = int(config.num_channels)
    _check_range("batch", min_batch, max_batch)
    _check_range("patches", 1, max_patches)
    if square is False and max_patches < 2:
        raise ValueError("non-square images need max_patches >= 2")
    sides = st.integers(1, max_patches)

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, torch.Tensor]:
        b = draw(st.integers(min_batch, max_batch))
        h = draw(sides)
        if square:
            w = h
        elif square is False:
            w = draw(sides.filter(lambda x: x != h))
        else:
            w = draw(sides)
        g = torch.Generator().manual_seed(draw(_SEEDS))
        return {"pixel_values": torch.randn(b, channels, h * p, w * p, generator=g)}

    return build()
