"""Probes: call a contracted function on variants of its inputs that its contract says must not matter.

One module per property (``_batch``, ``_padding``, ``_sizes``, ``_grid``); ``_variants`` builds the variant inputs,
``_run`` holds one probe in progress, ``_probe`` runs the properties in turn, ``_auto`` probes the first call of each
function inside a block, ``_result`` is what a probe reports.
"""

from __future__ import annotations

from ._auto import AutoProbe, auto_probe
from ._probe import probe, probe_plan
from ._result import (
    PROPERTIES,
    BatchIndependenceError,
    DistinctSizesError,
    GridConsistencyError,
    PaddingInvarianceError,
    ProbeResult,
    ProbeViolation,
)
from ._run import DEFAULT_ATOL, DEFAULT_RTOL, HINTS, probing

__all__ = [
    "DEFAULT_ATOL",
    "DEFAULT_RTOL",
    "HINTS",
    "PROPERTIES",
    "AutoProbe",
    "BatchIndependenceError",
    "DistinctSizesError",
    "GridConsistencyError",
    "PaddingInvarianceError",
    "ProbeResult",
    "ProbeViolation",
    "auto_probe",
    "probe",
    "probe_plan",
    "probing",
]
