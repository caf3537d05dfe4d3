"""Probes: call a contracted function on variants of its inputs that its contract says must not matter.

One module per property (``_batch``, ``_padding``, ``_trim``, ``_sizes``, ``_grid``, ``_locality``, ``_forwarding``);
``_masks`` finds the masks, their padding side and what every input holds at added positions, ``_variants`` builds
the variant inputs, ``_run`` holds one probe in progress, ``_probe`` runs the properties in turn, ``_auto`` probes the
first call of each function inside a block, ``_result`` is what a probe reports.
"""

from __future__ import annotations

from ._auto import AutoProbe, auto_probe
from ._probe import probe, probe_plan
from ._result import (
    PROPERTIES,
    BatchIndependenceError,
    DistinctSizesError,
    GridConsistencyError,
    MaskForwardingError,
    PaddingInvarianceError,
    PatchLocalityError,
    ProbeResult,
    ProbeViolation,
    SkippedVariant,
    TrimInvarianceError,
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
    "MaskForwardingError",
    "PaddingInvarianceError",
    "PatchLocalityError",
    "ProbeResult",
    "ProbeViolation",
    "SkippedVariant",
    "TrimInvarianceError",
    "auto_probe",
    "probe",
    "probe_plan",
    "probing",
]
