"""Static shape checking: full-size Data2Vec models on the meta device, and symbolic proofs for every size.

``check(target, config, **sizes)`` runs a model class or a ``@contract`` pipeline on the ``meta``
device with every contract checked; ``prove(target, config, dims=...)`` proves with
``torch.export`` that every output has the contract's shape for every size in the given ranges.
"""

from __future__ import annotations

from ._meta import check as check
from ._presets import PRESETS as PRESETS
from ._prove import prove as prove
from ._report import AxisProof as AxisProof
from ._report import CheckResult as CheckResult
from ._report import Field as Field
from ._report import Finding as Finding
from ._report import ProofResult as ProofResult
from ._report import render_check as render_check
from ._report import render_proof as render_proof

__all__ = [
    "PRESETS",
    "AxisProof",
    "CheckResult",
    "Field",
    "Finding",
    "ProofResult",
    "check",
    "prove",
    "render_check",
    "render_proof",
]

for _obj in (AxisProof, CheckResult, Field, Finding, ProofResult, check, prove, render_check, render_proof):
    _obj.__module__ = __name__
del _obj
