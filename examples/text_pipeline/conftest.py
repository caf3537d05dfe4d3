"""Make ``text_pipeline`` importable without installing it, and build the tiny test model."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from transformers import Data2VecTextConfig, Data2VecTextModel

sys.path.insert(0, str(Path(__file__).parent))

TINY_TEXT = {
    "vocab_size": 99,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 37,
    "max_position_embeddings": 64,
}


@pytest.fixture
def text_model() -> Data2VecTextModel:
    """A random-weight Data2VecTextModel with D=32 (no download)."""
    torch.manual_seed(0)
    return Data2VecTextModel(Data2VecTextConfig(**TINY_TEXT)).eval()
