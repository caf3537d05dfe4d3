"""Make ``audio_pipeline`` importable without installing it, and build the tiny test model
with the plugin's ``data2vec_model`` factory (random weights, no download, checked, eval mode)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from transformers import Data2VecAudioModel

sys.path.insert(0, str(Path(__file__).parent))

# Conv feature encoder: kernels (5, 3, 3), strides (4, 2, 2), so T = (S - 29) // 16 + 1 frames.
TINY_AUDIO = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 37,
    "conv_dim": (16, 16, 16),
    "conv_kernel": (5, 3, 3),
    "conv_stride": (4, 2, 2),
    "num_conv_pos_embeddings": 3,
    "num_conv_pos_embedding_groups": 2,
    "vocab_size": 20,
}


@pytest.fixture
def audio_model(data2vec_model: Callable[..., Any]) -> Data2VecAudioModel:
    """A tiny random-weight Data2VecAudioModel (D=32, 16 samples per frame, 2 layers), every forward call checked."""
    return data2vec_model("audio", "Model", **TINY_AUDIO)
