"""Right-padded batches of token ids, built by hand (no tokenizer download)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from jaxtyping import Int
from torch import Tensor

from data2vec_contracts import contract


@contract
def pad_batch(sequences: Sequence[Sequence[int]], pad_token_id: int) -> tuple[Int[Tensor, "B N"], Int[Tensor, "B N"]]:
    """``(input_ids, attention_mask)`` of the sequences, right-padded to the longest one.

    ``attention_mask`` is 1 on real tokens and 0 on padding.
    """
    if not sequences or any(len(s) == 0 for s in sequences):
        raise ValueError("pad_batch needs at least one sequence and no empty sequence")
    longest = max(len(s) for s in sequences)
    input_ids = torch.full((len(sequences), longest), pad_token_id, dtype=torch.long)
    attention_mask = torch.zeros((len(sequences), longest), dtype=torch.long)
    for row, tokens in enumerate(sequences):
        input_ids[row, : len(tokens)] = torch.tensor(list(tokens), dtype=torch.long)
        attention_mask[row, : len(tokens)] = 1
    return input_ids, attention_mask
