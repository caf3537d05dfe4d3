"""Tiny real Data2Vec models for the probe tests, built once per session (random weights, eval mode)."""

from __future__ import annotations

import pytest
from torch import nn

from . import _pipelines as P


@pytest.fixture(scope="session")
def text() -> nn.Module:
    return P.text_model()


@pytest.fixture(scope="session")
def audio() -> nn.Module:
    """num_conv_pos_embeddings=3: padding leaks into kept frames (reference §6.3)."""
    return P.audio_model()


@pytest.fixture(scope="session")
def audio_no_leak() -> nn.Module:
    """num_conv_pos_embeddings=1: padded and unpadded runs agree."""
    return P.audio_model(num_conv_pos_embeddings=1)


@pytest.fixture(scope="session")
def vision() -> nn.Module:
    return P.vision_model()
