"""Every case of the corpus, registered by importing the modality modules."""

from __future__ import annotations

from . import _audio, _text, _vision
from ._cases import BUGGY, CORRECT

MODULES = (_text, _audio, _vision)

__all__ = ["BUGGY", "CORRECT", "MODULES"]
