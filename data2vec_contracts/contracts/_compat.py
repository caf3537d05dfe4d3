"""What the installed transformers does, where 4.x and 5.x differ: the contracts follow these facts.

Each name is one measured difference between transformers 4.57 and 5.x; the contracts read them so
that the real behaviour of the installed version is the contract, exactly. The version is read from
the package metadata, so importing this module does not import transformers.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

__all__ = [
    "AUDIO_HEADS_NEED_RETURN_DICT",
    "CACHE_FIELD",
    "CACHE_RETURNED_WHEN_GIVEN",
    "CHECKPOINTING_NEEDS_GRAD",
    "CROSS_ATTENTIONS_EMPTY",
    "CROSS_ATTENTIONS_NEED_ENCODER_STATES",
    "CROSS_ATTENTION_NEEDS_ENCODER_CACHE",
    "DEFAULT_ATTN",
    "FLAT_POSITIONS_NEED_TOKEN_TYPES",
    "FRAME_TUPLE_HAS_LOSS",
    "HIDDEN_STATES_NEED_A_LAYER",
    "HIDDEN_STATES_SELECTABLE",
    "LAYERDROP_KEEPS_SLOTS",
    "LOGITS_TO_KEEP",
    "MODEL_FIELDS_HIDDEN_FIRST",
    "PRUNED_HEADS",
    "RELATIVE_POSITIONS",
    "RETURN_TUPLE_KEEPS_NONE",
    "SDPA_ATTENTIONS",
    "TEXT_MASK_RANKS",
    "TEXT_RUNS_ON_META",
    "TOKEN_TYPE_BUFFER_SLICED",
    "TRANSFORMERS_MAJOR",
    "VISION_CASTS_PIXELS",
    "WEIGHTED_SUM_LAYERDROP_FAILS",
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
#: The ranks of a text ``attention_mask`` besides the (B, N) padding mask: 4-D (B, 1 or heads, N, N) masks, boolean or
#: additive, used as they are (5.x; 4.x raises ValueError); 3-D (B, N, N) masks over queries and keys (4.x; 5.x fails
#: on them unless the mask is all ones and skipped).
TEXT_MASK_RANKS: tuple[int, ...] = (2, 4) if _V5 else (2, 3)
#: A text model given a cache returns that cache, filled, whatever ``is_decoder``, ``use_cache`` or labels say (4.x);
#: 5.x returns one only for a decoder with use_cache and no labels.
CACHE_RETURNED_WHEN_GIVEN: bool = not _V5
#: Gradient checkpointing turns a decoder's cache off in training only while gradients are enabled (5.x
#: ``merge_with_config_defaults``); 4.x turns it off in training whatever the grad mode.
CHECKPOINTING_NEEDS_GRAD: bool = _V5
#: 1-D ``position_ids`` (N,) fail unless ``token_type_ids`` are given: 5.x gathers the buffered token type ids at the
#: positions (``torch.gather`` needs a 2-D index); 4.x slices the buffer and broadcasts (N,) positions.
FLAT_POSITIONS_NEED_TOKEN_TYPES: bool = _V5
#: Without ``token_type_ids`` text models slice a buffer of ``max_position_embeddings`` zeros to N, so N can be at
#: most max_position_embeddings even when the positions fit (4.x); 5.x gathers the buffer at the positions.
TOKEN_TYPE_BUFFER_SLICED: bool = not _V5
#: ``config.position_embedding_type`` "relative_key" / "relative_key_query": no absolute position table, a distance
#: table of 2 * max_position_embeddings - 1 entries (4.x; 5.x has absolute positions only).
RELATIVE_POSITIONS: bool = not _V5
#: ``config.pruned_heads`` (and ``model.prune_heads()``) remove attention heads layer by layer (4.x; 5.x has no
#: pruning), so the attention maps of a pruned layer have fewer heads.
PRUNED_HEADS: bool = not _V5
#: The audio heads read ``outputs.last_hidden_state`` of their inner model, which ``config.return_dict=False`` makes a
#: tuple: every call fails with AttributeError (a 5.x bug; 4.x passes return_dict=True to the inner model).
AUDIO_HEADS_NEED_RETURN_DICT: bool = _V5
#: A text decoder with cross-attention layers asked for attentions without ``encoder_hidden_states`` reads a cross
#: attention map its layers did not return: IndexError (a 4.x bug; 5.x returns ``cross_attentions=()``).
CROSS_ATTENTIONS_NEED_ENCODER_STATES: bool = not _V5
#: A cached step with ``encoder_hidden_states`` needs an EncoderDecoderCache; a DynamicCache (what a call without
#: encoder states makes) fails with AttributeError ``is_updated`` (5.x).
CROSS_ATTENTION_NEEDS_ENCODER_CACHE: bool = _V5
#: ``use_weighted_layer_sum`` with layerdrop in training stacks only the states of the layers that ran, and the L+1
#: layer weights no longer broadcast: RuntimeError whenever a layer is dropped (a 5.x bug; 4.x keeps every slot).
WEIGHTED_SUM_LAYERDROP_FAILS: bool = _V5

_MODALITY = {"Data2VecTextConfig": "text", "Data2VecAudioConfig": "audio", "Data2VecVisionConfig": "vision"}


def default_attn(config: Any) -> str:
    """The attention implementation a model built from ``config`` without one would use."""
    return DEFAULT_ATTN.get(_MODALITY.get(type(config).__name__, ""), "sdpa")
