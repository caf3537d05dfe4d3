"""The Data2Vec facts: the shape contracts of the 15 classes, the derived lengths they use, the hints for known
mistakes, and ``expected_shapes``. ``_plan`` compiles a contract into the plan every check reads; ``_compat`` names
what differs between transformers 4.x and 5.x."""

from __future__ import annotations

from ._expected import ExpectedField, expected_shapes
from ._hints import DATA2VEC_HINTS, HINTS, hint_for
from ._lengths import (
    adapter_frames,
    max_text_length,
    num_frames,
    num_tokens,
    patch_size,
    receptive_field,
    segmentation_size,
    xvector_frames,
)
from ._plan import (
    CallCheck,
    CallView,
    ModelContract,
    ModelPlan,
    Out,
    OutKind,
    gradient_checkpointing,
    shape_of,
    symbols_of,
)
from ._registry import CLASS_NAMES, CONTRACTS, contract_for

__all__ = [
    "CLASS_NAMES",
    "CONTRACTS",
    "DATA2VEC_HINTS",
    "HINTS",
    "CallCheck",
    "CallView",
    "ExpectedField",
    "ModelContract",
    "ModelPlan",
    "Out",
    "OutKind",
    "adapter_frames",
    "contract_for",
    "expected_shapes",
    "gradient_checkpointing",
    "hint_for",
    "max_text_length",
    "num_frames",
    "num_tokens",
    "patch_size",
    "receptive_field",
    "segmentation_size",
    "shape_of",
    "symbols_of",
    "xvector_frames",
]
