"""probe() itself: what it promises about the caller's tensors, modes and RNG, tolerances, and what it skips."""

from __future__ import annotations

import random

import pytest
import torch
from jaxtyping import Float, Int
from torch import Tensor, nn

import data2vec_contracts as dc
from data2vec_contracts import PaddingInvarianceError, ProbeResult, contract, probe

from . import _pipelines as P


@contract
def pool_in_place(hidden: Float[Tensor, "B N D"], attention_mask: Float[Tensor, "B N"]) -> Float[Tensor, "B D"]:
    total = hidden.mul_(attention_mask.unsqueeze(-1)).sum(dim=1)  # writes into its arguments
    count = attention_mask.sum(dim=1, keepdim=True)
    attention_mask.zero_()
    return total / count


def plain_pool(hidden: Float[Tensor, "B N D"], attention_mask: Int[Tensor, "B N"]) -> Float[Tensor, "B D"]:
    """No @contract: the jaxtyping annotations are enough."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)


@contract(masks={"keep": "N"})
def pool_keep(hidden: Float[Tensor, "B N D"], keep: Int[Tensor, "B N"]) -> Float[Tensor, "B D"]:
    return hidden.mean(dim=1)  # BUG: ignores keep


@contract
def pool_keep_unstated(hidden: Float[Tensor, "B N D"], keep: Int[Tensor, "B N"]) -> Float[Tensor, "B D"]:
    return hidden.mean(dim=1)


@contract
def leaky_pool(hidden: Float[Tensor, "B N D"], attention_mask: Int[Tensor, "B N"]) -> Float[Tensor, "B D"]:
    return plain_pool(hidden, attention_mask) + 1e-3 * hidden.mean(dim=1)  # a small, bounded leak


def _hidden_and_mask() -> tuple[Tensor, Tensor]:
    g = torch.Generator().manual_seed(7)
    return torch.randn(2, 5, 8, generator=g), torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])


def test_the_callers_tensors_are_never_written_to() -> None:
    hidden, mask = _hidden_and_mask()
    hidden_before, mask_before = hidden.clone(), mask.float()
    mask = mask.float()
    probe(pool_in_place, hidden, mask)
    assert torch.equal(hidden, hidden_before)
    assert torch.equal(mask, mask_before)
    pool_in_place(hidden, mask)  # the function really writes: the probe is what kept the tensors intact
    assert not torch.equal(hidden, hidden_before)
    assert not torch.equal(mask, mask_before)


def test_modes_of_every_submodule_and_rng_states_come_back(text: nn.Module) -> None:
    seen: list[bool] = []

    @contract(dims={"D": "model.config.hidden_size"})
    def spy(
        model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
    ) -> Float[Tensor, "B D"]:
        seen.append(model.training)
        return P.sentence_embedding(model, input_ids, attention_mask)

    text.train()
    text.encoder.layer[0].eval()
    torch.manual_seed(123)
    random.seed(123)
    torch_state, py_state = torch.get_rng_state(), random.getstate()
    try:
        result = probe(spy, text, **P.text_batch([5, 7]))  # dropout would fail every comparison: probes run in eval
        assert set(seen) == {False}
        assert len(seen) == result.calls
        assert text.training
        assert not text.encoder.layer[0].training
        assert text.encoder.layer[1].training
        assert torch.equal(torch.get_rng_state(), torch_state)
        assert random.getstate() == py_state
    finally:
        text.eval()


def test_a_plain_jaxtyping_function_is_probed() -> None:
    result = probe(plain_pool, *_hidden_and_mask())
    assert result.function == "tests.probes.test_api.plain_pool"
    assert result.checked == ("batch", "padding", "sizes", "trim")


def test_a_function_without_annotations_is_refused() -> None:
    with pytest.raises(dc.ContractDefinitionError, match="needs a @contract or jaxtyping-annotated function"):
        probe(lambda x: x, torch.zeros(2))


def test_masks_stated_in_the_contract_are_probed() -> None:
    hidden, mask = _hidden_and_mask()
    with pytest.raises(PaddingInvarianceError, match=r"added on the right of N \(keep\) change it by"):
        probe(pool_keep, hidden, mask)
    unstated = probe(pool_keep_unstated, hidden, mask)  # `keep` is no mask name: skipped, and said so
    assert unstated.checked == ("batch", "sizes")  # no mask: neither padding nor trim
    assert unstated.skipped["padding"] == (
        "no mask argument (none named attention_mask or *_mask with a (B, X) annotation, "
        "none stated in @contract(masks=...))"
    )


def test_tolerances_are_per_property() -> None:
    hidden, mask = _hidden_and_mask()
    with pytest.raises(PaddingInvarianceError, match=r"change it by 0\.00031 > 1\.8e-05"):
        probe(leaky_pool, hidden, mask)
    result = probe(leaky_pool, hidden, mask, atol={"padding": 1e-2})
    assert "padding" in result.checked
    assert 1e-4 < result.max_deviation["padding"] < 1e-2
    assert "padding" in probe(leaky_pool, hidden, mask, atol=1e-2, rtol=0.0).checked


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"properties": ["batch", "shapes"]},
            "properties must be among batch, padding, sizes, grid, trim, locality, mask; got 'shapes'",
        ),
        (
            {"atol": {"pad": 1e-3}},
            "atol keys must be among batch, padding, sizes, grid, trim, locality, mask; got 'pad'",
        ),
        ({"rtol": -1.0}, "rtol must be a non-negative float or a dict of them by property, got -1.0"),
    ],
)
def test_bad_options_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=rf"^{message}$".replace("(", r"\(").replace(")", r"\)")):
        probe(plain_pool, *_hidden_and_mask(), **kwargs)


def test_the_result_lists_checked_and_skipped_properties_with_costs() -> None:
    result = probe(dc.masked_mean_pool, *_hidden_and_mask(), properties=["batch", "padding", "grid"])
    assert isinstance(result, ProbeResult)
    text = str(result)
    # 1 given call + batch (2 alone + 1 reordered) + padding (on the right, as the given rows; other hidden values)
    assert text.splitlines()[0] == "probe of data2vec_contracts.masked_mean_pool: 6 calls (5 extra)"
    assert text.splitlines()[3:] == [
        "  skipped distinct sizes: not requested (properties=...)",
        "  skipped grid consistency: the contract maps no tokens to a grid (no where= relation N = c + h*w, and no "
        "two output axes whose product plus c is a token axis)",
        "  skipped trim invariance: not requested (properties=...)",
        "  skipped patch locality: not requested (properties=...)",
        "  skipped mask forwarding: not requested (properties=...)",
        "  note: padding added on the right of N (attention_mask) only: every padded row of attention_mask is "
        "right-padded; the left side is not probed (padding_side='both' probes both)",
    ]
    assert text.splitlines()[1].startswith("  checked batch independence: 3 calls, max deviation ")
    assert text.splitlines()[2].startswith("  checked padding invariance: 2 calls, max deviation ")


class Pooler(nn.Module):
    @contract
    def forward(self, hidden: Float[Tensor, "B N D"], attention_mask: Int[Tensor, "B N"]) -> Float[Tensor, "B D"]:
        return hidden.mean(dim=1)  # BUG: averages the padding in


def test_a_contract_method_is_probed_with_its_instance() -> None:
    with pytest.raises(PaddingInvarianceError, match=r"Function: tests\.probes\.test_api\.Pooler\.forward"):
        probe(Pooler().forward, *_hidden_and_mask())
