"""A planted real-world bug: mean pooling over the wrong axis returns (B, N) instead of (B, D).

The copy of ``mean_pool`` below sums over the hidden axis instead of the token axis. Nothing in
torch objects (the division broadcasts fine); the result just has one value per token instead of
one vector per sentence. Under ``--shape-contracts`` the run fails at the return of ``mean_pool``
with a message that names the dimension, both sizes and where ``D`` came from.
"""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLE_ROOT = Path(__file__).resolve().parents[1]

BUGGY_PIPELINE = """
import torch
from jaxtyping import Float, Int
from torch import Tensor
from transformers import Data2VecTextConfig, Data2VecTextModel

from data2vec_contracts import contract
from text_pipeline import pad_batch


@contract(masks={"attention_mask": "N"})
def mean_pool(hidden_states: Float[Tensor, "B N D"], attention_mask: Int[Tensor, "B N"]) -> Float[Tensor, "B D"]:
    weights = attention_mask.unsqueeze(-1).to(hidden_states.dtype)
    return (hidden_states * weights).sum(dim=-1) / weights.sum(dim=-1).clamp(min=1.0)  # BUG: -1 is D, not N


@contract(dims={"D": "model.config.hidden_size"}, masks={"attention_mask": "N"})
def embed_sentences(model, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]) -> Float[Tensor, "B D"]:
    hidden_states = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    return mean_pool(hidden_states, attention_mask)


def test_sentence_embeddings():
    config = Data2VecTextConfig(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                intermediate_size=37, max_position_embeddings=64)
    model = Data2VecTextModel(config).eval()
    input_ids, attention_mask = pad_batch([[5, 17, 42, 8, 2], [9, 33, 2], [3, 4, 5, 6, 7, 8, 2]], config.pad_token_id)
    embeddings = embed_sentences(model, input_ids, attention_mask)
    assert embeddings.shape[0] == 3
"""


def test_pooling_over_the_wrong_axis_fails_with_the_contract_message(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(EXAMPLE_ROOT))
    pytester.makepyfile(test_buggy_pooling=BUGGY_PIPELINE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*Shape contract violated: dimension D of return value.",
            "*  Function: test_buggy_pooling.mean_pool",
            "*      Dimension D: expected 32, actual 7",
            "*      D was bound by: argument hidden_states, axis 2",
        ]
    )
