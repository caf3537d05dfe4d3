"""Shape contracts for Hugging Face Data2Vec models: checked, explained, and provable.

The public names load on first use, so ``import data2vec_contracts`` (and the pytest plugin inside
it) costs nothing until a contract is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._autoprobe import auto_probe as auto_probe
    from ._decorator import contract as contract
    from ._errors import ContractDefinitionError as ContractDefinitionError
    from ._errors import ShapeContractError as ShapeContractError
    from ._expected import ExpectedField as ExpectedField
    from ._expected import expected_shapes as expected_shapes
    from ._helpers import frame_mask as frame_mask
    from ._helpers import masked_mean_pool as masked_mean_pool
    from ._helpers import tokens_to_grid as tokens_to_grid
    from ._instrument import checked as checked
    from ._instrument import enforce as enforce
    from ._instrument import is_checked as is_checked
    from ._instrument import unchecked as unchecked
    from ._probe import probe as probe
    from ._probe_result import BatchIndependenceError as BatchIndependenceError
    from ._probe_result import DistinctSizesError as DistinctSizesError
    from ._probe_result import GridConsistencyError as GridConsistencyError
    from ._probe_result import PaddingInvarianceError as PaddingInvarianceError
    from ._probe_result import ProbeResult as ProbeResult
    from ._probe_result import ProbeViolation as ProbeViolation
    from ._switch import disabled as disabled
    from ._switch import pinned_dims as pinned_dims
    from .contracts import num_frames as num_frames
    from .contracts import num_tokens as num_tokens

_EXPORTS = {
    "BatchIndependenceError": "._probe_result",
    "DistinctSizesError": "._probe_result",
    "GridConsistencyError": "._probe_result",
    "PaddingInvarianceError": "._probe_result",
    "ProbeResult": "._probe_result",
    "ProbeViolation": "._probe_result",
    "auto_probe": "._autoprobe",
    "probe": "._probe",
    "ContractDefinitionError": "._errors",
    "ExpectedField": "._expected",
    "ShapeContractError": "._errors",
    "checked": "._instrument",
    "contract": "._decorator",
    "disabled": "._switch",
    "enforce": "._instrument",
    "expected_shapes": "._expected",
    "frame_mask": "._helpers",
    "is_checked": "._instrument",
    "masked_mean_pool": "._helpers",
    "num_frames": ".contracts",
    "num_tokens": ".contracts",
    "pinned_dims": "._switch",
    "tokens_to_grid": "._helpers",
    "unchecked": "._instrument",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'data2vec_contracts' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
