"""Probes on text pipelines over a real tiny Data2VecTextModel: each correct pipeline passes, each bug is caught."""

from __future__ import annotations

import pytest
from torch import nn

from data2vec_contracts import (
    BatchIndependenceError,
    DistinctSizesError,
    PaddingInvarianceError,
    ProbeViolation,
    ShapeContractError,
    probe,
)
from data2vec_contracts.instrument import contract_of
from tests._models import TRANSFORMERS_5

from . import _pipelines as P

BATCH_HINT = (
    "  Hint: something mixes the examples of the batch: a reduction over axis 0, an nn.LSTM / nn.GRU / "
    "nn.MultiheadAttention built without batch_first=True applied to (B, N, D) tensors, or a BatchNorm left "
    "in train mode (call .eval() for inference). If the coupling is intended (an in-batch contrastive loss, "
    "batch statistics), declare it: @contract(batch_coupled=True), probe(..., batch_coupled=True) or "
    "@pytest.mark.shape_contracts(batch_coupled=True)."
)
GRID_SKIPPED = (
    "the contract maps no tokens to a grid (no where= relation N = c + h*w, and no two output axes whose product "
    "plus c is a token axis)"
)
PADDING_HINT = (
    "  Hint: padded positions reach the result: pool with the mask (data2vec_contracts.masked_mean_pool), and "
    "under left padding read the first kept token, not index 0."
)


def _text_bindings(b: int, n: int) -> str:
    return (
        "    Other bindings:\n"
        "      D = 32  (model.config.hidden_size)\n"
        f"      B = {b}   (argument input_ids, axis 0)\n"
        f"      N = {n}   (argument input_ids, axis 1)\n"
    )


@pytest.mark.parametrize("side", ["right", "left"])
def test_masked_mean_pooling_passes_every_property(text: nn.Module, side: str) -> None:
    result = probe(P.sentence_embedding, text, **P.text_batch([5, 7], side=side))
    assert result.checked == ("batch", "padding", "sizes", "trim", "mask")
    assert result.skipped == {"grid": GRID_SKIPPED, "locality": "no floating-point argument has pixel axes H and W"}
    # 1 given call + batch (2 alone + 1 reordered) + padding (on the side the rows show; the ids take the pad id
    # and the mask 0, so no other values) + trim (the one padded example alone, unpadded); sizes 2 != 7 already
    assert (result.calls, result.extra_calls) == (6, 5)
    assert dict(result.calls_by_property) == {"batch": 3, "padding": 1, "sizes": 0, "trim": 1, "mask": 0}
    assert result.padding_sides == {"attention_mask": (side,)}
    assert result.max_deviation["padding"] < 1e-5
    assert result.max_deviation["trim"] < 1e-5


# measured deviations of the tiny model: random weights differ between transformers 4.x and 5.x
# (keys: False for 4.x, True for 5.x)
_BY = {
    "mean": {True: "0.51 > 2.8e-05", False: "0.41 > 2e-05"},
    "cls": {True: "2.5 > 2.8e-05", False: "1.9 > 1.5e-05"},
    "batch": {True: "0.37 > 1.4e-05", False: "0.38 > 1.4e-05"},
    "lstm": {True: r"0\.21", False: r"0\.18"},
}


def test_mean_pooling_that_averages_padding_in_is_caught(text: nn.Module) -> None:
    fn = P.sentence_embedding_mean_all
    with pytest.raises(PaddingInvarianceError) as info:
        probe(fn, text, **P.text_batch([5, 7]))
    assert str(info.value) == (
        "Shape contract violated: padding invariance of return value.\n"
        f"  Function: tests.probes._pipelines.sentence_embedding_mean_all\n"
        f"    Declared: {contract_of(fn).declared}\n"
        "    Return value\n"
        '      Contract: Float[Tensor, "B D"]\n'
        "      Padding invariance: 3 masked-out positions added on the right of N (attention_mask) change it "
        f"by {_BY['mean'][TRANSFORMERS_5]}\n" + _text_bindings(2, 7) + PADDING_HINT
    )
    assert isinstance(info.value, ProbeViolation)
    assert isinstance(info.value, ShapeContractError)
    assert info.value.violation is not None
    assert info.value.violation.problem == "property"


def test_first_kept_token_pooling_passes_under_left_padding(text: nn.Module) -> None:
    result = probe(P.cls_embedding, text, **P.text_batch([3, 7], side="left"))
    assert "padding" in result.checked


def test_cls_pooling_at_index_0_is_caught_by_left_padding(text: nn.Module) -> None:
    fn = P.cls_embedding_index0
    assert "padding" in probe(fn, text, **P.text_batch([5, 7])).checked  # right-padded: index 0 is <s>, correct
    with pytest.raises(PaddingInvarianceError) as info:
        probe(fn, text, **P.text_batch([5, 7], side="left"))  # left-padded: index 0 is a pad
    assert str(info.value) == (
        "Shape contract violated: padding invariance of return value.\n"
        f"  Function: tests.probes._pipelines.cls_embedding_index0\n"
        f"    Declared: {contract_of(fn).declared}\n"
        "    Return value\n"
        '      Contract: Float[Tensor, "B D"]\n'
        "      Padding invariance: 3 masked-out positions added on the left of N (attention_mask) change it "
        f"by {_BY['cls'][TRANSFORMERS_5]}\n" + _text_bindings(2, 7) + PADDING_HINT
    )


def test_centring_within_each_example_passes(text: nn.Module) -> None:
    assert "batch" in probe(P.centred_embedding, text, **P.text_batch([5, 7])).checked


def test_a_mean_over_the_batch_axis_is_caught(text: nn.Module) -> None:
    fn = P.centred_embedding_over_batch
    with pytest.raises(BatchIndependenceError) as info:
        probe(fn, text, **P.text_batch([5, 7]))
    assert str(info.value) == (
        "Shape contract violated: batch independence of return value.\n"
        f"  Function: tests.probes._pipelines.centred_embedding_over_batch\n"
        f"    Declared: {contract_of(fn).declared}\n"
        "    Return value\n"
        '      Contract: Float[Tensor, "B D"]\n'
        "      Batch independence: example 0 alone differs from example 0 in a batch of 2 "
        f"by {_BY['batch'][TRANSFORMERS_5]}\n"
        + _text_bindings(2, 7)
        + BATCH_HINT
    )


def test_a_mean_over_the_batch_axis_is_caught_from_a_batch_of_one(text: nn.Module) -> None:
    with pytest.raises(BatchIndependenceError, match=r"example 0 with another example after it \(a batch of 2\)"):
        probe(P.centred_embedding_over_batch, text, **P.text_batch([5]))


def test_batch_first_lstm_passes_and_sequence_first_lstm_is_caught(text: nn.Module) -> None:
    batch = P.text_batch([5, 7])
    # an LSTM over left padding is a padding bug of its own, so this pair probes the batch only
    result = probe(P.token_features, text, P.TaggerHead(32, batch_first=True), **batch, properties=["batch"])
    assert result.checked == ("batch",)
    assert result.skipped["padding"] == "not requested (properties=...)"
    caught = r"example 1 alone differs from example 1 in a batch of 2 by " + _BY["lstm"][TRANSFORMERS_5]
    with pytest.raises(BatchIndependenceError, match=caught):
        probe(P.token_features, text, P.TaggerHead(32, batch_first=False), **batch, properties=["batch"])


def test_a_mask_count_over_the_wrong_axis_is_caught_when_b_equals_n(text: nn.Module) -> None:
    batch = P.text_batch([2, 4, 3, 4])  # B == N == 4: the broken broadcast fits
    assert "sizes" in probe(P.sentence_embedding, text, **batch).checked
    fn = P.sentence_embedding_wrong_count
    with pytest.raises(DistinctSizesError) as info:
        probe(fn, text, **batch, properties=["sizes"])
    assert str(info.value) == (
        "Shape contract violated: distinct sizes of the call.\n"
        f"  Function: tests.probes._pipelines.sentence_embedding_wrong_count\n"
        f"    Declared: {contract_of(fn).declared}\n"
        "    The call\n"
        "      Distinct sizes: with B=4, N=5 (no two sizes equal): the call raises RuntimeError: The size of tensor "
        "a (4) must match the size of tensor b (5) at non-singleton dimension 0\n"
        + _text_bindings(4, 4)
        + "  Hint: a transposition or reshape that only fits while two sizes are equal (B == N, square images); "
        "write the axes out from the contract's names."
    )
    assert isinstance(info.value.__cause__, RuntimeError)
    # with every property, the example-alone calls of batch independence reach B=1 first
    with pytest.raises(DistinctSizesError, match=r"with B=1 \(example 0 alone\): the contract fails \(dimension B"):
        probe(fn, text, **batch)


def test_per_token_outputs_are_compared_at_kept_positions(text: nn.Module) -> None:
    result = probe(P.token_states, text, **P.text_batch([4, 7], side="left"))
    assert result.checked == ("batch", "padding", "sizes", "trim", "mask")
    caught = (
        r"(?m)^      Padding invariance: 3 masked-out positions added on the right of N \(attention_mask\) change it "
        r"at kept positions by 0\.\d+ > [0-9.e-]+$"
    )
    with pytest.raises(PaddingInvarianceError, match=caught) as info:
        probe(P.token_states_centred, text, **P.text_batch([4, 7]))
    assert str(info.value).splitlines()[0] == "Shape contract violated: padding invariance of return value[0]."
    assert str(info.value).splitlines()[4] == '      Contract: Float[Tensor, "B N D"]'


def test_the_longest_text_input_leaves_no_room_for_padding(text: nn.Module) -> None:
    result = probe(P.sentence_embedding, text, **P.text_batch([60, 62]))
    assert result.skipped["padding"] == "no output could be compared under padding variants (see notes)"
    assert "attention_mask: N=62 is the text model's longest input; no room to add padding" in result.notes
