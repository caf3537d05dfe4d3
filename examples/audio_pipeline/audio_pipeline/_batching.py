"""Right-padded waveform batches with a sample mask."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from jaxtyping import Float, Int
from torch import Tensor

from data2vec_contracts import contract


@contract
def pad_waveforms(waveforms: Sequence[Float[Tensor, " _"]]) -> tuple[Float[Tensor, "B S"], Int[Tensor, "B S"]]:
    """``(input_values, attention_mask)``: the waveforms right-padded with zeros to the longest one.

    Data2Vec audio turns the sample mask into a frame mask by counting each row's kept samples, so
    the padding must be on the right.
    """
    if not waveforms:
        raise ValueError("pad_waveforms needs at least one waveform")
    longest = max(int(w.shape[0]) for w in waveforms)
    input_values = torch.zeros(len(waveforms), longest, dtype=waveforms[0].dtype)
    attention_mask = torch.zeros(len(waveforms), longest, dtype=torch.long)
    for row, wave in enumerate(waveforms):
        input_values[row, : wave.shape[0]] = wave
        attention_mask[row, : wave.shape[0]] = 1
    return input_values, attention_mask
