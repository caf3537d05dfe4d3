"""The shape contracts of the 15 public Data2Vec classes, and the derived lengths they use."""

from __future__ import annotations

from ._lengths import (
    adapter_frames,
    max_text_length,
    num_frames,
    num_tokens,
    receptive_field,
    segmentation_size,
    xvector_frames,
)
from ._model import ModelContract
from .audio import AUDIO_CONTRACTS
from .text import TEXT_CONTRACTS
from .vision import VISION_CONTRACTS

__all__ = [
    "CLASS_NAMES",
    "CONTRACTS",
    "ModelContract",
    "adapter_frames",
    "contract_for",
    "max_text_length",
    "num_frames",
    "num_tokens",
    "receptive_field",
    "segmentation_size",
    "xvector_frames",
]

CONTRACTS: dict[str, ModelContract] = {c.class_name: c for c in (*TEXT_CONTRACTS, *AUDIO_CONTRACTS, *VISION_CONTRACTS)}
CLASS_NAMES: tuple[str, ...] = tuple(CONTRACTS)


def contract_for(cls: type) -> ModelContract | None:
    """The contract of a Data2Vec class, or of the nearest Data2Vec base class of a subclass."""
    for base in cls.__mro__:
        found = CONTRACTS.get(base.__name__)
        if found is not None and base.__module__.startswith("transformers."):
            return found
    return None
