"""Configs, models and inputs for the benchmarks (random weights, built from configs, ``eval()``)."""

from __future__ import annotations

from typing import Any

import torch
import transformers

__all__ = ["LARGE_TEXT", "MODALITIES", "base_case", "tiny_case"]

MODALITIES = ("text", "audio", "vision")

TINY: dict[str, dict[str, Any]] = {
    "text": {"vocab_size": 99, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
             "intermediate_size": 37, "max_position_embeddings": 64},
    "audio": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 37,
              "conv_dim": (16, 16, 16), "conv_kernel": (5, 3, 3), "conv_stride": (4, 2, 2),
              "num_conv_pos_embeddings": 3, "num_conv_pos_embedding_groups": 2, "tdnn_dim": (16, 16, 16),
              "xvector_output_dim": 12, "classifier_proj_size": 8, "vocab_size": 20},
    "vision": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 37,
               "image_size": 32, "patch_size": 8, "out_indices": (1, 2, 2, 3)},
}

#: A large text preset (the size of RoBERTa-large), only ever built on the meta device.
LARGE_TEXT: dict[str, Any] = {"hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16,
                              "intermediate_size": 4096}

_CONFIG = {"text": "Data2VecTextConfig", "audio": "Data2VecAudioConfig", "vision": "Data2VecVisionConfig"}
_MODEL = {"text": "Data2VecTextModel", "audio": "Data2VecAudioModel", "vision": "Data2VecVisionModel"}


def _build(modality: str, config: dict[str, Any]) -> torch.nn.Module:
    torch.manual_seed(0)
    cfg = getattr(transformers, _CONFIG[modality])(**config)
    return getattr(transformers, _MODEL[modality])(cfg).eval()


def tiny_case(modality: str) -> tuple[torch.nn.Module, dict[str, Any]]:
    """A tiny base model and a B=2 input (7 tokens, 1000 samples, 32x32 pixels)."""
    model = _build(modality, TINY[modality])
    gen = torch.Generator().manual_seed(0)
    if modality == "text":
        inputs = {"input_ids": torch.randint(2, 99, (2, 7), generator=gen)}
    elif modality == "audio":
        inputs = {"input_values": torch.randn(2, 1000, generator=gen)}
    else:
        inputs = {"pixel_values": torch.randn(2, 3, 32, 32, generator=gen)}
    return model, inputs


def base_case(modality: str) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The default (base-size) config with random weights and a B=1 input: N=128, 1 s of audio, 224x224."""
    model = _build(modality, {})
    gen = torch.Generator().manual_seed(0)
    if modality == "text":
        inputs = {"input_ids": torch.randint(2, 30000, (1, 128), generator=gen)}
    elif modality == "audio":
        inputs = {"input_values": torch.randn(1, 16000, generator=gen)}
    else:
        inputs = {"pixel_values": torch.randn(1, 3, 224, 224, generator=gen)}
    return model, inputs
