"""``--shape-contracts-probe``: the first call of each @contract function in a test is probed."""

from __future__ import annotations

import pytest

PIPELINE = """
import pytest
import torch
from jaxtyping import Float, Int
from torch import Tensor

from data2vec_contracts import contract


@contract(dims={"D": "model.config.hidden_size"})
def embed(model, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]) -> Float[Tensor, "B D"]:
    hidden = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    return hidden.mean(dim=1)  # averages the padding in


def inputs():
    ids = torch.tensor([[0, 5, 6, 7, 2, 1, 1], [0, 8, 9, 10, 11, 12, 2]])
    return ids, (ids != 1).long()


{marker}
def test_embed(data2vec_model):
    model = data2vec_model("text")
    ids, mask = inputs()
    assert embed(model, ids, mask).shape == (2, 32)
"""


def test_without_the_option_the_padding_bug_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(PIPELINE.replace("{marker}", ""))
    pytester.runpytest().assert_outcomes(passed=1)


def test_the_option_turns_the_padding_bug_into_a_failure(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(PIPELINE.replace("{marker}", ""))
    result = pytester.runpytest("--shape-contracts-probe")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "data2vec-contracts: checking checked() models + @contract functions; probes: on",
            "*PaddingInvarianceError: Shape contract violated: padding invariance of return value.",
            "*Function: test_the_option_turns_the_padding_bug_into_a_failure.embed",
            "*Padding invariance: * masked-out positions added on the right of N (attention_mask) change it by *",
        ]
    )


def test_the_marker_switches_probing_off_for_one_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(PIPELINE.replace("{marker}", "@pytest.mark.shape_contracts(probe=False)"))
    pytester.runpytest("--shape-contracts-probe").assert_outcomes(passed=1)


def test_the_marker_switches_probing_on_without_the_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(PIPELINE.replace("{marker}", "@pytest.mark.shape_contracts(probe=True)"))
    pytester.runpytest().assert_outcomes(failed=1)


def test_the_marker_sets_the_tolerance(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(PIPELINE.replace("{marker}", "@pytest.mark.shape_contracts(atol=100.0)"))
    pytester.runpytest("--shape-contracts-probe").assert_outcomes(passed=1)
