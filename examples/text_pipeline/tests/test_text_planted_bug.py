"""A planted real-world bug: mean pooling over the wrong axis returns (B, N) instead of (B, D).

The copies of ``mean_pool`` below sum over the hidden axis instead of the token axis. Nothing in
torch objects (the division broadcasts fine); the result just has one number per token instead of
one vector per sentence, and a test that only looks at the batch size passes. Under
``--shape-contracts`` the run fails at the return of ``mean_pool`` with a short report that names
the dimension, both sizes and where ``D`` came from.

Two copies: one decorated with ``@contract`` like the real pipeline, and one with plain jaxtyping
annotations and no decorator, which ``--shape-contracts-packages`` checks all the same.
"""

from __future__ import annotations

import pytest

POOLING_BODY = """
    weights = attention_mask.unsqueeze(-1).to(hidden_states.dtype)
    return (hidden_states * weights).sum(dim=-1) / weights.sum(dim=-1).clamp(min=1.0)  # BUG: -1 is D, not N
"""

TINY_MODEL_TEST = """

def test_sentence_embeddings():
    config = Data2VecTextConfig(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                intermediate_size=37, max_position_embeddings=64)
    model = Data2VecTextModel(config).eval()
    input_ids, attention_mask = pad_batch([[5, 17, 42, 8, 2], [9, 33, 2], [3, 4, 5, 6, 7, 8, 2]], config.pad_token_id)
    embeddings = embed_sentences(model, input_ids, attention_mask)
    assert embeddings.shape[0] == 3
"""

# The pipeline's own functions, decorated as in text_pipeline/_embedding.py, with the bug planted.
DECORATED_COPY = (
    """
from jaxtyping import Float, Int
from torch import Tensor
from transformers import Data2VecTextConfig, Data2VecTextModel

from data2vec_contracts import contract
from text_pipeline import pad_batch


@contract(masks={"attention_mask": "N"})
def mean_pool(hidden_states: Float[Tensor, "B N D"], attention_mask: Int[Tensor, "B N"]) -> Float[Tensor, "B D"]:"""
    + POOLING_BODY
    + """

@contract(dims={"D": "model.config.hidden_size"}, masks={"attention_mask": "N"})
def embed_sentences(model, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]) -> Float[Tensor, "B D"]:
    hidden_states = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    return mean_pool(hidden_states, attention_mask)
"""
    + TINY_MODEL_TEST
)

# The same bug in a user's module that only has jaxtyping annotations: no decorator, no data2vec_contracts import.
PLAIN_MODULE = (
    """
from jaxtyping import Float, Int
from torch import Tensor


def mean_pool(hidden_states: Float[Tensor, "B N D"], attention_mask: Int[Tensor, "B N"]) -> Float[Tensor, "B D"]:"""
    + POOLING_BODY
    + """

def embed_sentences(model, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]) -> Float[Tensor, "B D"]:
    hidden_states = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    return mean_pool(hidden_states, attention_mask)
"""
)

PLAIN_MODULE_TEST = (
    """
from transformers import Data2VecTextConfig, Data2VecTextModel

from sentence_embedding import embed_sentences
from text_pipeline import pad_batch
"""
    + TINY_MODEL_TEST
)


def test_pooling_over_the_wrong_axis_fails_with_the_contract_message(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_buggy_pooling=DECORATED_COPY)
    result = pytester.runpytest("--shape-contracts", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*Shape contract violated: dimension D of return value.",
            "*  Function: test_buggy_pooling.mean_pool",
            "*      Dimension D: expected 32, actual 7",
            "*      D was bound by: argument hidden_states, axis 2",
            # the coverage summary lists the violation under the test that hit it
            "violation: test_buggy_pooling.py::test_sentence_embeddings: test_buggy_pooling.mean_pool, return value, "
            "dimension D",
        ]
    )
    # The plugin's short report: user frames and the message, no dump of the model's repr.
    result.stdout.no_fnmatch_line("*model = Data2VecTextModel(*")


def test_the_bug_in_plain_jaxtyping_code_is_silent_without_the_plugin(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(sentence_embedding=PLAIN_MODULE, test_sentences=PLAIN_MODULE_TEST)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_shape_contracts_packages_catches_the_bug_in_plain_jaxtyping_code(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(sentence_embedding=PLAIN_MODULE, test_sentences=PLAIN_MODULE_TEST)
    pytester.syspathinsert()  # the plugin imports the package named by the option before collection
    result = pytester.runpytest(
        "--shape-contracts", "--shape-contracts-packages=sentence_embedding", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            # the report header says what is checked: both undecorated functions of the package are wrapped
            "data2vec-contracts: checking *; packages: sentence_embedding (2 functions wrapped)",
            "*Shape contract violated: dimension D of return value.",
            "*  Function: sentence_embedding.mean_pool",
            "*      Dimension D: expected 32, actual 7",
            "*      D was bound by: argument hidden_states, axis 2",
        ]
    )
