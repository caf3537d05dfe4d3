"""The oracle: every scenario derived from the classification table, plain vs ``checked`` vs ``enforce()`` vs
``expected_shapes``.

For a call transformers runs, the checked and enforced calls must succeed with identical outputs and
``expected_shapes`` must equal the real shapes (where it can express the call); for a call transformers rejects,
our ``ShapeContractError`` must come first. Scenarios a known cause applies to (tests/oracle/known.py) are
``xfail(strict=True)`` with the cause as the reason; a call our contract rejects on purpose (``DELIBERATE``) must run
plain and fail checked and enforced with our error and its hint.

``D2V_ORACLE_FULL=1`` runs the larger sweep: pairwise arrays over every name and level, whose rows combine several
invalid or random-dependent levels (layerdrop draws which adapter layers run); there the causes cannot be predicted
exactly before the call, so they mark ``xfail(strict=False)``, while a problem no known cause explains still fails.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests._models import TRANSFORMERS_5
from tests.oracle import classification as C
from tests.oracle.calls import Scenario, run
from tests.oracle.known import CAUSES, DELIBERATE, causes_for, deliberate_for
from tests.oracle.scenarios import FULL, LEVELS, WORKFLOW, all_scenarios

SCENARIOS = all_scenarios()
_MAJOR = 5 if TRANSFORMERS_5 else 4


def _param(s: Scenario) -> object:
    causes = causes_for(s)
    marks = [pytest.mark.xfail(strict=not FULL, reason=" | ".join(c.reason for c in causes))] if causes else []
    return pytest.param(s, id=s.id, marks=marks)


@pytest.mark.parametrize("scenario", [_param(s) for s in SCENARIOS])
def test_scenario(scenario: Scenario, unpatched_classes: None) -> None:
    """Valid call: checked and enforce() succeed with the same outputs and expected_shapes is right; invalid call:
    our ShapeContractError comes first."""
    result = run(scenario)
    if result.unbuildable:
        pytest.skip(f"transformers cannot build this model: {result.plain.headline}")
    deliberate = deliberate_for(scenario)
    if deliberate:
        assert result.valid, f"a deliberate rejection that transformers does not run: {result.plain.headline}"
        for mode, out in (("checked", result.checked), ("enforce", result.enforced)):
            assert out.ours, f"{mode}: {out.headline} (rejected on purpose: {deliberate[0].summary})"
            assert deliberate[0].hint in str(out.error), f"{mode}: the message lacks the hint: {out.error}"
        return
    assert not result.problems, (
        f"{'valid' if result.valid else 'invalid'} call (plain: {result.plain.headline}):\n  "
        + "\n  ".join(result.problems)
    )


def test_scenario_ids_are_unique() -> None:
    counts = Counter(s.id for s in SCENARIOS)
    assert not [i for i, n in counts.items() if n > 1]


def _effective_names(modality: str) -> set[str]:
    names = {f"config.{n}" for n, e in C.CONFIG[modality].items() if not e.is_none}
    names |= {f"config.{n}" for n, e in C.BASE_CONFIG.items() if not e.is_none and n not in C.CONFIG[modality]}
    names |= {f"forward.{n}" for n, e in C.FORWARD[modality].items() if not e.is_none}
    names |= {f"init.{n}" for n, e in C.INIT.items() if not e.is_none}
    return names


@pytest.mark.parametrize("modality", ["text", "audio", "vision"])
def test_every_effective_name_has_scenarios(modality: str) -> None:
    """The scenarios are derived from the table: each name that is not NONE has levels (or a workflow test), and
    every level belongs to a name of the table."""
    from tests._models import CLASSES, model_class
    from tests.oracle.introspect import config_fields, forward_arguments, init_arguments

    installed = {f"config.{n}" for n in config_fields(modality)}
    installed |= {f"forward.{n}" for m, h in CLASSES if m == modality for n in forward_arguments(model_class(m, h))}
    installed |= {f"init.{n}" for m, h in CLASSES if m == modality for n in init_arguments(model_class(m, h))}
    wanted = (_effective_names(modality) & installed) - WORKFLOW[modality]
    missing = sorted(n for n in wanted if not any(lv.applies(h) for lv in LEVELS[modality].get(n, [])
                                                  for m, h in CLASSES if m == modality))
    assert not missing, f"non-NONE names without scenarios on transformers {_MAJOR}: {missing}"
    unknown = sorted(set(LEVELS[modality]) - _effective_names(modality))
    assert not unknown, f"levels for names the table calls NONE or does not have: {unknown}"


def test_every_known_cause_applies_somewhere() -> None:
    """A cause for the installed version that no scenario shows is stale (its fix landed, or the predicate is wrong);
    causes shown only by workflows say so in their id. The same for deliberate rejections."""
    stale = [c.id for c in CAUSES if _MAJOR in c.versions and not any(c.applies(s) for s in SCENARIOS)]
    stale += [d.id for d in DELIBERATE if not any(d.applies(s) for s in SCENARIOS)]
    assert not stale, f"known causes no scenario shows: {stale}"
