"""probe() on a corpus of Data2Vec pipelines as users write them (issue 10).

Every correct pipeline must pass on the inputs it really receives; every buggy one, taken from a real report, must
be caught with its error class for the right reason. Where today's probe gets a case wrong the test is a strict
xfail whose reason names the cause (``_cases.py`` lists the cause classes); ``python -m tests.probes.corpus._measure``
prints what the probe does on each pipeline, with the calls per property.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from data2vec_contracts import BatchIndependenceError, ProbeViolation, ShapeContractError, contract, probe

from ._all import BUGGY, CORRECT
from ._cases import Bug, Case


def _params(cases: Iterable[Case]) -> list[Any]:
    """One test per case, a strict xfail with the cause where today's probe gets the case wrong."""
    params = []
    for case in cases:
        marks = [pytest.mark.xfail(strict=True, reason=case.today)] if case.today else []
        params.append(pytest.param(case, id=case.name, marks=marks))
    return params


def _caught_for_the_right_reason(bug: Bug, error: BaseException) -> None:
    violation = getattr(error, "violation", None)
    assert violation is not None, f"{type(error).__name__} without a violation: {error}"
    if bug.expect is ShapeContractError:  # a pure shape bug: the contract of the given call says so, no variant
        assert not isinstance(error, ProbeViolation), str(error)
        assert (violation.problem, violation.dimension, violation.field) == ("dimension", bug.says, bug.field_)
        return
    assert type(error) is bug.expect, str(error)
    if bug.field_ is not None:
        assert violation.field == bug.field_, str(error)
    assert bug.says in str(violation.actual), str(error)


@pytest.mark.parametrize("case", _params(CORRECT.values()))
def test_a_correct_pipeline_passes(case: Case) -> None:
    """A correct pipeline, on inputs it really receives: no ProbeViolation, no ShapeContractError."""
    args, kwargs = case.inputs()
    result = probe(case.fn, *args, **case.probe_kwargs, **kwargs)
    assert result.checked, f"no property ran: {result.skipped}"
    assert result.calls == 1 + sum(result.calls_by_property.values())


@pytest.mark.parametrize("bug", _params(BUGGY.values()))
def test_a_buggy_pipeline_is_caught_for_the_right_reason(bug: Bug) -> None:
    """A bug from a real report: the expected error class, on the expected field, saying why."""
    args, kwargs = bug.inputs()
    with pytest.raises(bug.expect) as info:
        probe(bug.fn, *args, **bug.probe_kwargs, **kwargs)
    _caught_for_the_right_reason(bug, info.value)


ALSO = [
    pytest.param(bug, prop, error, says, id=f"{bug.name}-{prop}")
    for bug in BUGGY.values()
    for prop, error, says in bug.also
]


@pytest.mark.parametrize(("bug", "prop", "error", "says"), ALSO)
def test_a_bug_is_also_caught_by_another_property_alone(
    bug: Bug, prop: str, error: type[BaseException], says: str
) -> None:
    """A bug the most specific property reports first (a mask not passed on) is caught by its other property too."""
    args, kwargs = bug.inputs()
    with pytest.raises(error) as info:
        probe(bug.fn, *args, **{**bug.probe_kwargs, "properties": [prop]}, **kwargs)
    violation = getattr(info.value, "violation", None)
    assert violation is not None, str(info.value)
    assert says in str(violation.actual), str(info.value)


@pytest.mark.parametrize("bug", BUGGY.values(), ids=lambda bug: bug.name)
def test_every_bug_cites_its_report_and_has_a_fixed_twin(bug: Bug) -> None:
    """Each bug names a real report and a correct pipeline of the corpus (run by test_a_correct_pipeline_passes)."""
    assert bug.source.startswith("https://"), bug.source
    assert bug.twin in CORRECT, f"{bug.name}: no correct pipeline named {bug.twin!r}"
    assert CORRECT[bug.twin].fn is not bug.fn


def test_the_corpus_is_as_large_as_the_issue_asks() -> None:
    """At least 30 correct and 20 buggy pipelines, and some the probe must cover in every modality."""
    assert len(CORRECT) >= 30
    assert len(BUGGY) >= 20
    modules = {case.fn.__module__.rsplit(".", 1)[-1] for case in [*CORRECT.values(), *BUGGY.values()]}
    assert modules == {"_text", "_audio", "_vision"}


COUPLED_CASES = [case for case in [*CORRECT.values(), *BUGGY.values()] if case.raw is not None]


@pytest.mark.parametrize("case", COUPLED_CASES, ids=lambda case: case.name)
def test_declared_batch_coupling_switches_batch_independence_off(case: Case) -> None:
    """An in-batch contrastive loss declared batch-coupled: batch independence is skipped, padding still probed."""
    assert case.raw is not None
    declared = contract(**case.contract_kwargs, batch_coupled=True)(case.raw)
    args, kwargs = case.inputs()
    if isinstance(case, Bug):
        with pytest.raises(case.expect) as info:
            probe(declared, *args, **kwargs)
        _caught_for_the_right_reason(case, info.value)
        return
    result = probe(declared, *args, **kwargs)
    assert "batch" not in result.checked
    assert result.skipped["batch"] == (
        "declared batch-coupled (@contract(batch_coupled=True)): the examples are coupled on purpose"
    )
    assert "padding" in result.checked


@pytest.mark.parametrize("case", COUPLED_CASES, ids=lambda case: case.name)
def test_undeclared_batch_coupling_is_reported_with_how_to_declare_it(case: Case) -> None:
    """The same coupled pipeline, undeclared: a batch-independence failure whose hint names in-batch losses."""
    assert case.raw is not None
    undeclared = contract(**case.contract_kwargs)(case.raw)
    args, kwargs = case.inputs()
    with pytest.raises(BatchIndependenceError) as info:
        probe(undeclared, *args, **kwargs)
    assert info.value.violation.hint is not None
    assert "in-batch contrastive loss" in info.value.violation.hint
    assert "@contract(batch_coupled=True)" in info.value.violation.hint
    with pytest.raises(BatchIndependenceError):  # probe(batch_coupled=False) overrides a declaration
        probe(contract(**case.contract_kwargs, batch_coupled=True)(case.raw), *args, batch_coupled=False, **kwargs)


MARKED = """
import pytest
import torch
import torch.nn.functional as F
from jaxtyping import Float
from torch import Tensor

from data2vec_contracts import contract


@contract
def info_nce(queries: Float[Tensor, "B D"], documents: Float[Tensor, "B D"]) -> Float[Tensor, " B"]:
    scores = F.normalize(queries, dim=-1) @ F.normalize(documents, dim=-1).T / 0.05
    return F.cross_entropy(scores, torch.arange(scores.shape[0]), reduction="none")


def embeddings():
    g = torch.Generator().manual_seed(0)
    return torch.randn(4, 8, generator=g), torch.randn(4, 8, generator=g)


def test_undeclared():
    info_nce(*embeddings())


@pytest.mark.shape_contracts(batch_coupled=True)
def test_declared():
    info_nce(*embeddings())
"""


def test_the_marker_declares_batch_coupling_for_auto_probing(
    pytester: pytest.Pytester, inner_session: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under --shape-contracts-probe, a test marked batch-coupled passes; the same call unmarked is flagged."""
    monkeypatch.setenv("COLUMNS", "200")  # the short summary line names the error class in full
    pytester.makepyfile(test_contrastive=MARKED)
    result = pytester.runpytest("--shape-contracts-probe", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_undeclared*BatchIndependenceError*"])


SIDED = """
import pytest
import torch
from jaxtyping import Float, Int
from torch import Tensor

from data2vec_contracts import contract


@contract(dims={"D": "model.config.hidden_size"})
def cls(model, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]) -> Float[Tensor, "B D"]:
    return model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state[:, 0]


def batch():
    ids = torch.tensor([[0, 5, 6, 7, 2, 1, 1], [0, 8, 9, 10, 11, 12, 2]])  # right-padded
    return ids, (ids != 1).long()


def test_right_padded(data2vec_model):
    cls(data2vec_model("text"), *batch())


@pytest.mark.shape_contracts(padding_side="both")
def test_either_side(data2vec_model):
    cls(data2vec_model("text"), *batch())


@pytest.mark.shape_contracts(batch_coupled="yes")
def test_bad_coupling():
    pass


@pytest.mark.shape_contracts(padding_side="top")
def test_bad_side():
    pass
"""


def test_the_marker_declares_the_padding_side_and_refuses_bad_values(
    pytester: pytest.Pytester, inner_session: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CLS at index 0 on right-padded rows passes; declared padding_side='both', the left side catches it."""
    monkeypatch.setenv("COLUMNS", "200")
    pytester.makepyfile(test_sided=SIDED)
    result = pytester.runpytest("--shape-contracts-probe", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=3)
    result.stdout.fnmatch_lines(
        [
            "*test_either_side*PaddingInvarianceError*",
            "*test_bad_coupling*batch_coupled= must be True or False, got 'yes'*",
            "*test_bad_side*padding_side= must be one of 'right', 'left', 'both', got 'top'*",
        ],
        consecutive=False,
    )
