"""Tiny random-weight Data2Vec configs and models for tests: no downloads, built in milliseconds."""

from __future__ import annotations

import difflib
import inspect
from typing import Any

from ._classes import MODALITIES, class_name

__all__ = ["TINY", "tiny_config", "tiny_model"]

TINY: dict[str, dict[str, Any]] = {
    "text": {
        "vocab_size": 99,
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 37,
        "max_position_embeddings": 64,
        "num_labels": 2,
    },
    "audio": {
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 37,
        "conv_dim": (16, 16, 16),
        "conv_kernel": (5, 3, 3),
        "conv_stride": (4, 2, 2),
        "num_conv_pos_embeddings": 3,
        "num_conv_pos_embedding_groups": 2,
        "tdnn_dim": (16, 16, 16),
        "xvector_output_dim": 12,
        "classifier_proj_size": 8,
        "vocab_size": 20,
        "num_labels": 2,
    },
    "vision": {
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 37,
        "image_size": 32,
        "patch_size": 8,
        "out_indices": (1, 2, 2, 3),
        "channels": 8,  # the segmentation decode heads (256 by default make it the slowest tiny model)
        "auxiliary_channels": 8,
        "num_labels": 2,
    },
}
_EXTRA_CONFIG_KEYS = frozenset({"attn_implementation"})


def _config_class(modality: str) -> Any:
    import transformers

    return getattr(transformers, f"Data2Vec{modality.capitalize()}Config")


def tiny_config(modality: str, /, **overrides: Any) -> Any:
    """The tiny config of a modality, with ``overrides`` applied; unknown fields are an error, not ignored."""
    if modality not in MODALITIES:
        class_name(modality, "Model", "data2vec_config")  # raises the precise error
    cls = _config_class(modality)
    fields = set(cls().to_dict()) | set(TINY[modality]) | _EXTRA_CONFIG_KEYS
    for key in overrides:
        if key not in fields and not hasattr(cls, key):
            close = difflib.get_close_matches(key, sorted(fields), n=1, cutoff=0.7)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise TypeError(f"data2vec_config({modality!r}): {cls.__name__} has no field {key!r}{hint}")
    return cls(**{**TINY[modality], **overrides})


def tiny_model(modality: str, head: str = "Model", /, **overrides: Any) -> Any:
    """A tiny, checked, random-weight (seed 0), eval-mode model of one of the 15 classes.

    Keywords that the class's constructor takes (``add_pooling_layer``) go to the constructor, the rest to
    the config. The global random state is left as it was.
    """
    name = class_name(modality, head, "data2vec_model")
    import torch
    import transformers

    from ..instrument import checked

    cls = getattr(transformers, name)
    params = list(inspect.signature(cls.__init__).parameters)[2:]
    init = {k: overrides.pop(k) for k in list(overrides) if k in params}
    config = tiny_config(modality, **overrides)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = cls(config, **init)
    return checked(model.eval())
