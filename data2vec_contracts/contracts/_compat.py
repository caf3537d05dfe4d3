"""What the installed transformers does, where 4.x and 5.x differ: the contracts follow these facts.

Each name is one measured difference between transformers 4.57 and 5.x; the contracts read them so
that the real behaviour of the installed version is the contract, exactly. The version is read from
the package metadata, so importing this module does not import transformers.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

__all__ = [
    "CACHE_FIELD",
    "CROSS_ATTENTIONS_EMPTY",
    "DEFAULT_ATTN",
    "FRAME_TUPLE_HAS_LOSS",
    "HIDDEN_STATES_NEED_A_LAYER",
    "HIDDEN_STATES_SELECTABLE",
    "LAYERDROP_KEEPS_SLOTS",
    "LOGITS_TO_KEEP",
    "MODEL_FIELDS_HIDDEN_FIRST",
    "RETURN_TUPLE_KEEPS_NONE",
    "SDPA_ATTENTIONS",
    "TEXT_RUNS_ON_META",
    "TRANSFORMERS_MAJOR",
    "VISION_CASTS_PIXELS",
    "WEIGHTED_SUM_RETURNS_STATES",
    "default_attn",
]


def _major() -> int:
    try:
        return int(metadata.version("transformers").split(".")[0])
    except (metadata.PackageNotFoundError, ValueError):  # pragma: no cover - transformers is a dependency
        return 5


TRANSFORMERS_MAJOR: int = _major()
_V5 = TRANSFORMERS_MAJOR >= 5

#: ``output_hidden_states`` takes an int or a list of layer indices (5.x); in 4.x any truthy value
#: returns all L+1 states in a tuple.
HIDDEN_STATES_SELECTABLE: bool = _V5
#: The name of the text cache: argument and output field.
CACHE_FIELD: str = "cache" if _V5 else "past_key_values"
#: The attention a config without ``attn_implementation`` gets, per modality (4.x text has no sdpa).
DEFAULT_ATTN: dict[str, str] = {"text": "sdpa" if _V5 else "eager", "audio": "sdpa", "vision": "sdpa"}
#: ``output_attentions=True`` under a non-eager attention: ``"empty"`` (``()``), ``"nones"`` (L Nones)
#: or ``"maps"`` (the model falls back to eager and returns L real maps).
SDPA_ATTENTIONS: dict[str, str] = {
    "text": "empty",
    "audio": "empty" if _V5 else "nones",
    "vision": "nones" if _V5 else "maps",
}
#: A text encoder without cross-attention returns ``cross_attentions=()`` with output_attentions
#: (5.x); 4.x returns None.
CROSS_ATTENTIONS_EMPTY: bool = _V5
#: ``return_dict=False`` of Data2VecTextModel keeps the None pooler slot (4.x).
RETURN_TUPLE_KEEPS_NONE: bool = not _V5
#: Data2VecAudioForAudioFrameClassification puts the loss in its return_dict=False tuple (5.x); 4.x
#: returns ``(logits, ...)`` without it.
FRAME_TUPLE_HAS_LOSS: bool = _V5
#: The audio heads that read ``use_weighted_layer_sum`` return all L+1 hidden states whether asked or
#: not (4.x); 5.x returns them only when asked.
WEIGHTED_SUM_RETURNS_STATES: bool = not _V5
#: The output class of Data2VecTextModel lists hidden_states before the cache (4.x), while its
#: return_dict=False tuple has the cache first (both versions).
MODEL_FIELDS_HIDDEN_FIRST: bool = not _V5
#: ``logits_to_keep`` of Data2VecTextForCausalLM (5.x); 4.x ignores it and returns all N logits.
LOGITS_TO_KEEP: bool = _V5
#: Audio layerdrop in training: 4.x keeps every slot (L+1 states, L attentions with None for a
#: skipped layer); 5.x leaves skipped layers out.
LAYERDROP_KEEPS_SLOTS: bool = not _V5
#: Text models run on the meta device (4.x calls ``Tensor.item()`` while building the mask).
TEXT_RUNS_ON_META: bool = _V5
#: Data2VecVision casts pixel_values to its parameter dtype (5.x); 4.x raises on a mismatch.
VISION_CASTS_PIXELS: bool = _V5
#: Per modality: hidden states are recorded around the layers that run (5.x text and audio), so a model without
#: layers (num_hidden_layers=0), or an audio encoder whose every layer layerdrop skipped, returns no state at all;
#: 4.x, and 5.x vision, still return the embeddings.
HIDDEN_STATES_NEED_A_LAYER: dict[str, bool] = {"text": _V5, "audio": _V5, "vision": False}

_MODALITY = {"Data2VecTextConfig": "text", "Data2VecAudioConfig": "audio", "Data2VecVisionConfig": "vision"}


def default_attn(config: Any) -> str:
    """The attention implementation a model built from ``config`` without one would use."""
    return DEFAULT_ATTN.get(_MODALITY.get(type(config).__name__, ""), "sdpa")
