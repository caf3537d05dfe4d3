"""Contracts of the seven Data2VecText classes (RoBERTa-style encoder).

Symbols: B batch, N tokens, C choices, D hidden_size, V vocab_size, K num_labels,
heads num_attention_heads, Ne encoder length (cross-attention), keep logits_to_keep.
"""

from __future__ import annotations

from typing import Any

import torch
from jaxtyping import AbstractDtype, Float, Int, Shaped
from torch import Tensor

from .._checking import Constraint, Rule
from ._common import attentions, config_dim, hidden_states, loss
from ._compat import (
    CACHE_FIELD,
    CROSS_ATTENTIONS_EMPTY,
    LOGITS_TO_KEEP,
    MODEL_FIELDS_HIDDEN_FIRST,
    RETURN_TUPLE_KEEPS_NONE,
)
from ._lengths import max_text_length
from ._model import ABSENT, NONE, OBJECT, Call, ModelContract, Out, tensor

__all__ = ["TEXT_CONTRACTS"]

class TokenIds(AbstractDtype):
    """The integer dtypes an embedding lookup takes: int32 and int64 (not int8/int16/uint8)."""

    dtypes = ["int32", "int64"]  # noqa: RUF012 - jaxtyping reads a class attribute


_INPUTS: dict[str, Any] = {
    "input_ids": TokenIds[Tensor, "B N"],
    "attention_mask": Shaped[Tensor, "B N"],
    "token_type_ids": Int[Tensor, "B N"],
    "position_ids": Int[Tensor, "#B N"],
    "inputs_embeds": Float[Tensor, "B N D"],
    "encoder_hidden_states": Float[Tensor, "B Ne D"],
    "encoder_attention_mask": Shaped[Tensor, "B Ne"],
}
_MC_INPUTS: dict[str, Any] = {
    "input_ids": TokenIds[Tensor, "B C N"],
    "attention_mask": Shaped[Tensor, "B C N"],
    "token_type_ids": Int[Tensor, "B C N"],
    "position_ids": Int[Tensor, "B C N"],
    "inputs_embeds": Float[Tensor, "B C N D"],
    "labels": Int[Tensor, " B"],
}
_STATE = Float[Tensor, "B N D"]
_ATTN = Float[Tensor, "B heads N N"]


def _dims(config: Any) -> dict[str, tuple[int, str]]:
    return {
        "D": config_dim(config, "hidden_size"),
        "V": config_dim(config, "vocab_size"),
        "K": config_dim(config, "num_labels"),
        "heads": config_dim(config, "num_attention_heads"),
    }


def _rules(config: Any, call: Call) -> dict[str, Rule]:
    return {}


def _constraints(call: Call) -> list[Constraint]:
    config = call.config
    if call.given("position_ids"):
        return []
    cache = call.args.get(CACHE_FIELD)
    # positions of input_ids continue after the cached tokens (inputs_embeds positions do not)
    past = int(cache.get_seq_length()) if call.given("input_ids") and hasattr(cache, "get_seq_length") else 0  # type: ignore[union-attr]
    limit = max_text_length(config) - past
    cached = f" - {past} cached tokens" if past else ""
    return [
        Constraint(
            ("N",),
            lambda v: v["N"] <= limit,
            f"N <= {limit} (config.max_position_embeddings={config.max_position_embeddings} - "
            f"config.pad_token_id={config.pad_token_id} - 1{cached})",
            "argument input_ids" if call.given("input_ids") else "argument inputs_embeds",
            hint=(
                f"the sequence is longer than the position table: positions start at pad_token_id + 1, "
                f"so at most {limit + past} tokens fit; truncate (tokenizer(..., truncation=True, "
                f"max_length={limit + past}))." + (f" The cache already holds {past} of them." if past else "")
            ),
        )
    ]


def _qa_constraints(call: Call) -> list[Constraint]:
    return [
        *_constraints(call),
        Constraint(
            ("K",),
            lambda v: v["K"] == 2,
            "K == 2 (start and end logits)",
            "config.num_labels",
            hint="Data2VecTextForQuestionAnswering needs num_labels=2 (start and end); build it with num_labels=2.",
        ),
    ]


def _common(call: Call, state: Any = _STATE, attn: Any = _ATTN) -> dict[str, Out]:
    return {
        "hidden_states": hidden_states(call, state, selectable=True),
        "attentions": attentions(call, attn, modality="text"),
    }


def _cross(call: Call) -> Out:
    if not call.flag("output_attentions"):
        return ABSENT
    config = call.config
    if getattr(config, "add_cross_attention", False) and call.given("encoder_hidden_states"):
        return attentions(call, Float[Tensor, "B heads N Ne"], modality="text")
    if not CROSS_ATTENTIONS_EMPTY:
        return Out(NONE, why="no cross-attention layers run")
    return Out("empty", why="no cross-attention layers run")


def _cache(call: Call, *, labels: bool = False) -> Out:
    config = call.config
    use = call.args.get("use_cache")
    use = config.use_cache if use is None else use
    if config.is_decoder and use and not labels:
        return Out(OBJECT, why="is_decoder with use_cache")
    if config.is_decoder and use:
        return Out(NONE, why="labels were given, which switches use_cache off")
    return Out(NONE, why="config.is_decoder is False or use_cache is off")


def _model(call: Call) -> dict[str, Out]:
    model = call.model
    pooled = getattr(model, "pooler", True) is not None if model is not None else call.args.get("_pooler", True)
    return {
        "last_hidden_state": tensor(_STATE),
        "pooler_output": tensor(Float[Tensor, "B D"]) if pooled else Out(NONE, why="add_pooling_layer=False"),
        CACHE_FIELD: _cache(call),
        "cross_attentions": _cross(call),
        **_common(call),
    }


def _causal_logits(call: Call) -> Out:
    keep = call.args.get("logits_to_keep", 0) if LOGITS_TO_KEEP else 0
    if isinstance(keep, torch.Tensor):
        if keep.ndim == 2 and keep.dtype == torch.bool:
            return tensor(Float[Tensor, "_ V"], "a boolean logits_to_keep selects positions")
        return tensor(Float[Tensor, "B keep V"])
    if isinstance(keep, int) and keep > 0:
        return tensor(Float[Tensor, "B keep V"])
    return tensor(Float[Tensor, "B N V"])


def _causal_rules(config: Any, call: Call) -> dict[str, Rule]:
    keep = call.args.get("logits_to_keep", 0) if LOGITS_TO_KEEP else 0
    if isinstance(keep, torch.Tensor) and not (keep.ndim == 2 and keep.dtype == torch.bool):
        n = int(keep.shape[-1])
        return {"keep": Rule("keep", (), lambda v: n, str(n), "argument logits_to_keep")}
    if isinstance(keep, int) and keep > 0:
        k = keep
        return {"keep": Rule("keep", ("N",), lambda v: min(k, int(v["N"])), f"min({k}, N)", "argument logits_to_keep")}
    return {}


def _causal(call: Call) -> dict[str, Out]:
    labels = call.given("labels")
    return {
        "loss": loss(call, "labels"),
        "logits": _causal_logits(call),
        CACHE_FIELD: _cache(call, labels=labels),
        "cross_attentions": _cross(call),
        **_common(call),
    }


def _head(logits: Any, *labels: str) -> Any:
    def outputs(call: Call) -> dict[str, Out]:
        return {"loss": loss(call, *labels), "logits": tensor(logits), **_common(call)}

    return outputs


def _qa(call: Call) -> dict[str, Out]:
    return {
        "loss": loss(call, "start_positions", "end_positions"),
        "start_logits": tensor(Float[Tensor, "B N"]),
        "end_logits": tensor(Float[Tensor, "B N"]),
        **_common(call),
    }


def _mc(call: Call) -> dict[str, Out]:
    return {
        "loss": loss(call, "labels"),
        "logits": tensor(Float[Tensor, "B C"]),
        **_common(call, Float[Tensor, "B*C N D"], Float[Tensor, "B*C heads N N"]),
    }


_HEAD_FIELDS = ("loss", "logits", "hidden_states", "attentions")
# the real order: hidden_states and attentions follow the cache in a return_dict=False tuple
_MODEL_TUPLE = ("last_hidden_state", "pooler_output", CACHE_FIELD, "hidden_states", "attentions", "cross_attentions")
_MODEL_FIELDS = (
    ("last_hidden_state", "pooler_output", "hidden_states", CACHE_FIELD, "attentions", "cross_attentions")
    if MODEL_FIELDS_HIDDEN_FIRST
    else _MODEL_TUPLE
)


def _contract(name: str, fields: tuple[str, ...], inputs: dict[str, Any], outputs: Any, summary: str,
              constraints: Any = _constraints, rules: Any = _rules, tuple_slots: tuple[str, ...] = (),
              tuple_order: tuple[str, ...] = ()) -> ModelContract:
    return ModelContract(
        class_name=f"Data2VecText{name}",
        modality="text",
        fields=fields,
        inputs=inputs,
        outputs=outputs,
        config_dims=_dims,
        rules=rules,
        constraints=constraints,
        first_input="input_ids",
        summary=summary,
        tuple_slots=tuple_slots,
        tuple_order=tuple_order,
    )


TEXT_CONTRACTS = (
    _contract(
        "Model",
        # the real order: hidden_states and attentions are appended after the cache (return_dict=False tuples)
        _MODEL_FIELDS,
        _INPUTS,
        _model,
        "(B, N) token ids -> (B, N, D) states and a (B, D) pooler",
        # transformers 4.x keeps the pooler's place in the tuple when there is no pooler
        tuple_slots=("pooler_output",) if RETURN_TUPLE_KEEPS_NONE else (),
        tuple_order=_MODEL_TUPLE,
    ),
    _contract(
        "ForCausalLM",
        ("loss", "logits", CACHE_FIELD, "hidden_states", "attentions", "cross_attentions"),
        {**_INPUTS, "labels": Int[Tensor, "B N"]},
        _causal,
        "(B, N) -> (B, N, V) next-token logits",
        rules=_causal_rules,
    ),
    _contract("ForMaskedLM", _HEAD_FIELDS, {**_INPUTS, "labels": Int[Tensor, "B N"]},
              _head(Float[Tensor, "B N V"], "labels"), "(B, N) -> (B, N, V) token logits"),
    _contract("ForSequenceClassification", _HEAD_FIELDS, {**_INPUTS, "labels": Shaped[Tensor, "B ..."]},
              _head(Float[Tensor, "B K"], "labels"), "(B, N) -> (B, K) class logits (reads token 0)"),
    _contract("ForMultipleChoice", _HEAD_FIELDS, _MC_INPUTS, _mc,
              "(B, C, N) -> (B, C) choice logits; hidden states have batch B*C"),
    _contract("ForTokenClassification", _HEAD_FIELDS, {**_INPUTS, "labels": Int[Tensor, "B N"]},
              _head(Float[Tensor, "B N K"], "labels"), "(B, N) -> (B, N, K) token logits"),
    _contract(
        "ForQuestionAnswering",
        ("loss", "start_logits", "end_logits", "hidden_states", "attentions"),
        # (B, 1) positions are squeezed by the model
        {**_INPUTS, "start_positions": Int[Tensor, "B ..."], "end_positions": Int[Tensor, "B ..."]},
        _qa,
        "(B, N) -> start and end logits (B, N); needs num_labels=2",
        constraints=_qa_constraints,
    ),
)
