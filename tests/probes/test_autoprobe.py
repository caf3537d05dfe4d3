"""auto_probe: the first call of each @contract function in a block is probed with its real arguments."""

from __future__ import annotations

import pytest
from jaxtyping import Float, Int
from torch import Tensor, nn

from data2vec_contracts import BatchIndependenceError, PaddingInvarianceError, auto_probe, contract
from data2vec_contracts.instrument import call_observers

from . import _pipelines as P

calls: list[str] = []


@contract(dims={"D": "model.config.hidden_size"})
def counted_embedding(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B D"]:
    calls.append("body")
    return P.sentence_embedding(model, input_ids, attention_mask)


def test_the_first_call_is_probed_once_per_block(text: nn.Module) -> None:
    batch = P.text_batch([5, 7])
    calls.clear()
    with auto_probe() as session:
        counted_embedding(text, **batch)
        probed = session.results["tests.probes.test_autoprobe.counted_embedding"]
        assert len(calls) == probed.calls + 1  # the probe's calls, then the real one
        counted_embedding(text, **batch)
        assert len(calls) == probed.calls + 2  # the second call is not probed
    assert set(session.results) == {
        "tests.probes.test_autoprobe.counted_embedding",
        "tests.probes._pipelines.sentence_embedding",  # their own first real calls, after the outer probe
        "data2vec_contracts.masked_mean_pool",
    }
    assert call_observers() == []
    counted_embedding(text, **batch)
    assert len(calls) == probed.calls + 3  # outside any block: no probe
    with auto_probe() as again:
        counted_embedding(text, **batch)
    assert "tests.probes.test_autoprobe.counted_embedding" in again.results  # a new block probes again


def test_a_violation_is_raised_from_the_first_call(text: nn.Module) -> None:
    with auto_probe(), pytest.raises(BatchIndependenceError, match="example 0 alone differs"):
        P.centred_embedding_over_batch(text, **P.text_batch([5, 7]))
    assert call_observers() == []


def test_tolerances_and_properties_reach_the_probes(text: nn.Module) -> None:
    batch = P.text_batch([5, 7])
    with auto_probe(properties=["batch"]) as session:
        P.sentence_embedding_mean_all(text, **batch)  # the padding bug is not looked for
    assert session.results["tests.probes._pipelines.sentence_embedding_mean_all"].checked == ("batch",)
    with auto_probe(atol={"padding": 1.0}) as session:
        P.sentence_embedding_mean_all(text, **batch)
    with auto_probe(), pytest.raises(PaddingInvarianceError):
        P.sentence_embedding_mean_all(text, **batch)


def test_nested_blocks_share_the_observer_and_remove_it_last(text: nn.Module) -> None:
    with auto_probe():
        with auto_probe():
            assert len(call_observers()) == 1
        assert len(call_observers()) == 1
    assert call_observers() == []
