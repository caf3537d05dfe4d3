"""The 15 contracts by class name, and the lookup of a class's contract."""

from __future__ import annotations

from ._plan import ModelContract
from .audio import AUDIO_CONTRACTS
from .text import TEXT_CONTRACTS
from .vision import VISION_CONTRACTS

__all__ = ["CLASS_NAMES", "CONTRACTS", "contract_for"]

CONTRACTS: dict[str, ModelContract] = {c.class_name: c for c in (*TEXT_CONTRACTS, *AUDIO_CONTRACTS, *VISION_CONTRACTS)}
CLASS_NAMES: tuple[str, ...] = tuple(CONTRACTS)


def contract_for(cls: type) -> ModelContract | None:
    """The contract of a Data2Vec class, or of the nearest Data2Vec base class of a subclass."""
    for base in cls.__mro__:
        found = CONTRACTS.get(base.__name__)
        if found is not None and base.__module__.startswith("transformers."):
            return found
    return None
