"""Make ``audio_pipeline`` importable without installing it, and build the tiny test model."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from transformers import Data2VecAudioConfig, Data2VecAudioModel

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
def audio_model() -> Data2VecAudioModel:
    """A random-weight Data2VecAudioModel with D=32 and 16 samples per frame (no download)."""
    torch.manual_seed(0)
    return Data2VecAudioModel(Data2VecAudioConfig(**TINY_AUDIO)).eval()
