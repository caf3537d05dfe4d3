"""Shape contracts for Hugging Face Data2Vec models: checked, explained, and provable.

The public names load on first use, so ``import data2vec_contracts`` (and the pytest plugin inside
it) costs nothing until a contract is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_exports

if TYPE_CHECKING:
    from ._helpers import frame_mask as frame_mask
    from ._helpers import masked_mean_pool as masked_mean_pool
    from ._helpers import tokens_to_grid as tokens_to_grid
    from .checker import CompiledShapeContractError as CompiledShapeContractError
    from .checker import ContractDefinitionError as ContractDefinitionError
    from .checker import ShapeContractError as ShapeContractError
    from .contracts import ExpectedField as ExpectedField
    from .contracts import expected_shapes as expected_shapes
    from .contracts import num_frames as num_frames
    from .contracts import num_tokens as num_tokens
    from .instrument import checked as checked
    from .instrument import contract as contract
    from .instrument import disabled as disabled
    from .instrument import enforce as enforce
    from .instrument import is_checked as is_checked
    from .instrument import pinned_dims as pinned_dims
    from .instrument import unchecked as unchecked
    from .probes import BatchIndependenceError as BatchIndependenceError
    from .probes import DistinctSizesError as DistinctSizesError
    from .probes import GridConsistencyError as GridConsistencyError
    from .probes import MaskForwardingError as MaskForwardingError
    from .probes import PaddingInvarianceError as PaddingInvarianceError
    from .probes import PatchLocalityError as PatchLocalityError
    from .probes import ProbeResult as ProbeResult
    from .probes import ProbeViolation as ProbeViolation
    from .probes import TrimInvarianceError as TrimInvarianceError
    from .probes import auto_probe as auto_probe
    from .probes import probe as probe

_EXPORTS = {
    "BatchIndependenceError": ".probes",
    "DistinctSizesError": ".probes",
    "GridConsistencyError": ".probes",
    "MaskForwardingError": ".probes",
    "PaddingInvarianceError": ".probes",
    "PatchLocalityError": ".probes",
    "ProbeResult": ".probes",
    "ProbeViolation": ".probes",
    "TrimInvarianceError": ".probes",
    "auto_probe": ".probes",
    "probe": ".probes",
    "CompiledShapeContractError": ".checker",
    "ContractDefinitionError": ".checker",
    "ExpectedField": ".contracts",
    "ShapeContractError": ".checker",
    "checked": ".instrument",
    "contract": ".instrument",
    "disabled": ".instrument",
    "enforce": ".instrument",
    "expected_shapes": ".contracts",
    "frame_mask": "._helpers",
    "is_checked": ".instrument",
    "masked_mean_pool": "._helpers",
    "num_frames": ".contracts",
    "num_tokens": ".contracts",
    "pinned_dims": ".instrument",
    "tokens_to_grid": "._helpers",
    "unchecked": ".instrument",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
