"""The ``shape_contracts`` marker: per-test switch, pinned dimensions, and the probe settings of issues 4 and 10."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

__all__ = ["MARKER", "MARKER_HELP", "PROBE_SETTINGS", "MarkerError", "ProbeSettings", "TestControl", "control_of"]

MARKER = "shape_contracts"
MARKER_HELP = (
    "shape_contracts(enabled=True, /, *, dims=None, probe=None, atol=None, rtol=None, batch_coupled=None, "
    "padding_side=None): data2vec-contracts per test. shape_contracts(False) switches every check off for the test "
    '(setup, call, teardown); dims={"D": 768} pins dimension values; probe=False switches the probes of '
    "--shape-contracts-probe off (probe=True switches them on for this test), atol=/rtol= set their tolerances, "
    "batch_coupled=True declares the functions of the test coupled across the batch on purpose (batch "
    "independence is not probed), padding_side='right'|'left'|'both' the side their inputs are padded on."
)
_ALLOWED = ("dims", "probe", "atol", "rtol", "batch_coupled", "padding_side")
_SIDES = ("right", "left", "both")


@dataclass(frozen=True)
class ProbeSettings:
    """What a test asked of the probes (issue 4). ``None`` means "not set by the marker".

    Stored in ``item.stash[PROBE_SETTINGS]`` for every test that carries the marker; the runtest hooks
    read it to switch the probes of ``--shape-contracts-probe`` on or off and set their tolerances.
    """

    probe: bool | None = None
    atol: float | None = None
    rtol: float | None = None
    batch_coupled: bool | None = None
    padding_side: str | None = None


PROBE_SETTINGS = pytest.StashKey[ProbeSettings]()


@dataclass(frozen=True)
class TestControl:
    """The marker of one test, merged (the marker closest to the test wins, key by key)."""

    enabled: bool = True
    dims: Mapping[str, int] = field(default_factory=dict)
    probe: ProbeSettings = ProbeSettings()


class MarkerError(Exception):
    """A ``shape_contracts`` marker with arguments it does not take."""


def _tolerance(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise MarkerError(f"@pytest.mark.{MARKER}: {name}= must be a finite number >= 0, got {value!r}")
    return float(value)


def _dims(value: object) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise MarkerError(
            f'@pytest.mark.{MARKER}: dims= must be a mapping of dimension names to ints, e.g. dims={{"D": 768}}; '
            f"got {value!r}"
        )
    dims: dict[str, int] = {}
    for name, size in value.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise MarkerError(f"@pytest.mark.{MARKER}: dims= keys must be dimension names such as 'D', got {name!r}")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise MarkerError(f"@pytest.mark.{MARKER}: dims[{name!r}] must be an int >= 0, got {size!r}")
        dims[name] = size
    return dims


def _one(mark: pytest.Mark) -> dict[str, Any]:
    """The arguments one marker sets, validated."""
    unknown = [k for k in mark.kwargs if k not in _ALLOWED]
    if unknown:
        allowed = ", ".join(f"{k}=" for k in _ALLOWED)
        raise MarkerError(
            f"@pytest.mark.{MARKER}: unknown argument {unknown[0]!r}; it takes enabled (True/False, positional) "
            f"and the keywords {allowed}"
        )
    if len(mark.args) > 1:
        raise MarkerError(
            f"@pytest.mark.{MARKER}: takes at most one positional argument (enabled: True or False), "
            f"got {len(mark.args)}: {', '.join(repr(a) for a in mark.args)}"
        )
    out: dict[str, Any] = {}
    if mark.args:
        if not isinstance(mark.args[0], bool):
            raise MarkerError(f"@pytest.mark.{MARKER}: enabled must be True or False, got {mark.args[0]!r}")
        out["enabled"] = mark.args[0]
    if "dims" in mark.kwargs:
        out["dims"] = _dims(mark.kwargs["dims"])
    if "probe" in mark.kwargs:
        if not isinstance(mark.kwargs["probe"], bool):
            raise MarkerError(f"@pytest.mark.{MARKER}: probe= must be True or False, got {mark.kwargs['probe']!r}")
        out["probe"] = mark.kwargs["probe"]
    for name in ("atol", "rtol"):
        if name in mark.kwargs:
            out[name] = _tolerance(name, mark.kwargs[name])
    if "batch_coupled" in mark.kwargs:
        if not isinstance(mark.kwargs["batch_coupled"], bool):
            raise MarkerError(
                f"@pytest.mark.{MARKER}: batch_coupled= must be True or False, got {mark.kwargs['batch_coupled']!r}"
            )
        out["batch_coupled"] = mark.kwargs["batch_coupled"]
    if "padding_side" in mark.kwargs:
        if mark.kwargs["padding_side"] not in _SIDES:
            raise MarkerError(
                f"@pytest.mark.{MARKER}: padding_side= must be one of 'right', 'left', 'both', "
                f"got {mark.kwargs['padding_side']!r}"
            )
        out["padding_side"] = mark.kwargs["padding_side"]
    return out


def control_of(item: pytest.Item) -> TestControl | None:
    """The merged marker settings of a test, ``None`` without a marker; ``MarkerError`` when one is malformed."""
    marks = list(item.iter_markers(MARKER))
    if not marks:
        return None
    merged: dict[str, Any] = {}
    dims: dict[str, int] = {}
    for mark in reversed(marks):  # farthest first, so the closest marker wins
        values = _one(mark)
        dims.update(values.pop("dims", {}))
        merged.update(values)
    probe = ProbeSettings(
        merged.get("probe"),
        merged.get("atol"),
        merged.get("rtol"),
        merged.get("batch_coupled"),
        merged.get("padding_side"),
    )
    return TestControl(enabled=merged.get("enabled", True), dims=dims, probe=probe)
