"""Make ``text_pipeline`` importable without installing it, and build the tiny test model
with the plugin's ``data2vec_model`` factory (random weights, no download, checked, eval mode)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from transformers import Data2VecTextModel

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
def text_model(data2vec_model: Callable[..., Any]) -> Data2VecTextModel:
    """A tiny random-weight Data2VecTextModel (D=32, vocab 99, 2 layers), every forward call checked."""
    return data2vec_model("text", "Model", **TINY_TEXT)
