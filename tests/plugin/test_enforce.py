"""``--shape-contracts`` and ``shape_contracts = true``: every Data2Vec class checked for the session,
restored exactly at its end; ``@contract`` functions check with or without the option."""

from __future__ import annotations

import pytest
import transformers

from data2vec_contracts.plugin._classes import CLASS_NAMES

CHECKS_EVERY_CLASS = """
import torch
import transformers

import data2vec_contracts as dc


def test_every_class_is_checked():
    names = {CLASS_NAMES!r}
    assert [n for n in names if not dc.is_checked(getattr(transformers, n).__new__(getattr(transformers, n)))] == []


def test_a_plain_model_is_checked(data2vec_config):
    model = transformers.Data2VecTextModel(data2vec_config("text")).eval()
    with __import__("pytest").raises(dc.ShapeContractError, match="dimension N of argument attention_mask"):
        model(input_ids=torch.randint(2, 99, (2, 7)), attention_mask=torch.ones(2, 6, dtype=torch.long))
""".replace("{CLASS_NAMES!r}", repr(list(CLASS_NAMES)))


def _forwards() -> dict[str, object]:
    return {name: getattr(transformers, name).__dict__["forward"] for name in CLASS_NAMES}


def test_the_option_checks_every_class_and_restores_them_exactly(pytester: pytest.Pytester) -> None:
    before = _forwards()
    pytester.makepyfile(CHECKS_EVERY_CLASS)
    result = pytester.runpytest("--shape-contracts")
    result.assert_outcomes(passed=2)
    after = _forwards()
    assert all(after[name] is before[name] for name in CLASS_NAMES)


def test_the_ini_twin_does_the_same(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nshape_contracts = true\n")
    pytester.makepyfile(CHECKS_EVERY_CLASS)
    pytester.runpytest().assert_outcomes(passed=2)


@pytest.mark.usefixtures("unenforced")
def test_without_the_option_no_class_is_patched(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(CHECKS_EVERY_CLASS)
    result = pytester.runpytest()
    result.assert_outcomes(failed=2)


def test_contract_functions_check_with_and_without_the_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        import torch
        from jaxtyping import Float
        from torch import Tensor

        from data2vec_contracts import ShapeContractError, contract


        @contract
        def pool(x: Float[Tensor, "B N D"]) -> Float[Tensor, "B D"]:
            return x[:, 0]


        def test_pool_checks():
            with pytest.raises(ShapeContractError, match="rank of argument x"):
                pool(torch.zeros(2, 3))
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)
    pytester.runpytest("--shape-contracts").assert_outcomes(passed=1)
