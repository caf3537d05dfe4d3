"""Make ``vision_pipeline`` importable without installing it, and build the tiny test model."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from transformers import Data2VecVisionConfig, Data2VecVisionModel

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
def vision_model() -> Data2VecVisionModel:
    """A random-weight Data2VecVisionModel with D=32 and 8x8 patches (no download)."""
    torch.manual_seed(0)
    return Data2VecVisionModel(Data2VecVisionConfig(**TINY_VISION)).eval()
