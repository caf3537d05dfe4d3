"""Make ``vision_pipeline`` importable without installing it, and build the tiny test model
with the plugin's ``data2vec_model`` factory (random weights, no download, checked, eval mode)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from transformers import Data2VecVisionModel

sys.path.insert(0, str(Path(__file__).parent))

TINY_VISION = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 37,
    "image_size": 32,
    "patch_size": 8,
    "out_indices": (1, 2, 2, 3),
}


@pytest.fixture
def vision_model(data2vec_model: Callable[..., Any]) -> Data2VecVisionModel:
    """A tiny random-weight Data2VecVisionModel (D=32, 8x8 patches, 2 layers), every forward call checked."""
    return data2vec_model("vision", "Model", **TINY_VISION)
