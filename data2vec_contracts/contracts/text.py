"""Contracts of the seven Data2VecText classes (RoBERTa-style encoder).

Symbols: B batch, N tokens, C choices, D hidden_size, V vocab_size, K num_labels, heads num_attention_heads,
Ne encoder length (cross-attention), P cached tokens, Nk = P + N keys (a cache step attends to the cached tokens and
the new ones), keep logits_to_keep.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from jaxtyping import AbstractDtype, Float, Int, Shaped
from torch import Tensor

from ..checker import Constraint, Expr, Rule, Sym, minimum
from ._compat import (
    CACHE_FIELD,
    CROSS_ATTENTIONS_EMPTY,
    LOGITS_TO_KEEP,
    MODEL_FIELDS_HIDDEN_FIRST,
    RETURN_TUPLE_KEEPS_NONE,
)
from ._lengths import max_text_length
from ._outputs import attentions, config_dim, hidden_states, loss
from ._plan import ABSENT, CallDim, CallView, ModelContract, Out, OutKind, tensor

__all__ = ["TEXT_CONTRACTS"]


class TokenIds(AbstractDtype):
    """The integer dtypes an embedding lookup takes: int32 and int64 (not int8/int16/uint8)."""

    dtypes = ["int32", "int64"]  # noqa: RUF012 - jaxtyping reads a class attribute


# a 2-D padding mask, or a 4-D mask (boolean, or additive with -inf) over queries and keys
_MASK = Shaped[Tensor, "B N"] | Shaped[Tensor, "#B _ N N"]
_CACHE_MASK = Shaped[Tensor, "B Nk"] | Shaped[Tensor, "#B _ N Nk"]
_INPUTS: dict[str, Any] = {
    "input_ids": TokenIds[Tensor, "B N"],
    "attention_mask": _MASK,
    "token_type_ids": Int[Tensor, "B N"],
    "position_ids": Int[Tensor, "#B N"] | Int[Tensor, " N"],
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
_TOKEN_LABELS = Int[Tensor, "B N"]
_FLAT_TOKEN_LABELS = Int[Tensor, "B N"] | Int[Tensor, " B*N"]  # the head flattens them: (B*N,) works too
_STATE = Float[Tensor, "B N D"]
_ATTN = Float[Tensor, "B heads N N"]
_CACHE_ATTN = Float[Tensor, "B heads N Nk"]
_CROSS = Float[Tensor, "B heads N Ne"]
_MC_STATE = Float[Tensor, "B*C N D"]
_MC_ATTN = Float[Tensor, "B*C heads N N"]
_POOLED = Float[Tensor, "B D"]
_SPAN = Float[Tensor, "B N"]
_CHOICES = Float[Tensor, "B C"]
_TOKEN_LOGITS = Float[Tensor, "B N K"]
_VOCAB_LOGITS = Float[Tensor, "B N V"]
_KEPT_LOGITS = Float[Tensor, "B keep V"]
_SELECTED_LOGITS = Float[Tensor, "Nsel V"]
_CLASS_LOGITS = Float[Tensor, "B K"]
_POSITIONS = Int[Tensor, "B ..."]

_READS = ("output_hidden_states", "output_attentions", "return_dict", "use_cache", "logits_to_keep")


def _dims(config: Any) -> dict[str, tuple[int, str]]:
    return {
        "D": config_dim(config, "hidden_size"),
        "V": config_dim(config, "vocab_size"),
        "K": config_dim(config, "num_labels"),
        "heads": config_dim(config, "num_attention_heads"),
    }


def _cache_of(args: Mapping[str, Any]) -> Any:
    """The cache argument, also under its deprecated name ``past_key_values`` (transformers 5.x still takes it)."""
    cache = args.get(CACHE_FIELD)
    return cache if cache is not None else args.get("past_key_values")


def _past_length(args: Mapping[str, Any]) -> int | None:
    """The tokens a cache already holds; positions of ``input_ids`` continue after them."""
    cache = _cache_of(args)
    if cache is None:
        return None
    length = getattr(cache, "get_seq_length", None)
    if length is not None:
        return int(length())
    try:  # transformers 4.x legacy tuples: one (key, value) pair per layer, keys (B, heads, P, head_dim)
        return int(cache[0][0].shape[-2])
    except (TypeError, IndexError, AttributeError):
        return None


_CALL_DIMS = (CallDim("P", _past_length, f"argument {CACHE_FIELD} (the tokens it holds)"),)


def _cached(call: CallView) -> bool:
    return call.given(CACHE_FIELD) or call.given("past_key_values")


def _key_inputs(call: CallView) -> dict[str, Any]:
    """A cache step's mask covers the cached tokens and the new ones: ``Nk = P + N`` keys."""
    return {"attention_mask": _CACHE_MASK} if _cached(call) else {}


def _key_rules(call: CallView) -> dict[str, Rule]:
    return {"Nk": Rule("Nk", Sym("P") + Sym("N"), "the cached tokens and the new ones")} if _cached(call) else {}


def _constraints(call: CallView) -> list[Constraint]:
    config = call.config
    if call.given("position_ids"):
        return []
    limit = max_text_length(config)
    n: Expr = Sym("N")
    field, cached = "argument inputs_embeds", ""
    # positions of input_ids continue after the cached tokens (inputs_embeds positions do not)
    if call.given("input_ids"):
        field = "argument input_ids"
        if _cached(call):
            n, cached = n + Sym("P"), ", cached ones included"
    why = (
        f"(config.max_position_embeddings={config.max_position_embeddings} - config.pad_token_id="
        f"{config.pad_token_id} - 1)"
    )
    return [
        Constraint(
            (n.le(limit),), why, field,
            exempt=_pads_take_no_position(config) if call.given("input_ids") else None,
            hint=(
                f"the sequence is longer than the position table: positions start at pad_token_id + 1, so at most "
                f"{limit} tokens fit{cached}; truncate (tokenizer(..., truncation=True, "
                f"max_length={limit}))."
            ),
        )
    ]


def _pads_take_no_position(config: Any) -> Any:
    """Positions count the non-pad tokens of each row (pads keep ``pad_token_id``): a padded batch longer than the
    position table is valid when every row's own tokens fit. Read only when the shapes alone say no."""
    pad = config.pad_token_id
    limit = max_text_length(config)

    def fits(args: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
        ids = args.get("input_ids")
        if pad is None or not isinstance(ids, torch.Tensor) or ids.ndim != 2 or ids.numel() == 0:
            return False
        longest = int((ids != pad).sum(-1).max())
        return longest + int(values.get("P", 0)) <= limit

    return fits


def _qa_constraints(call: CallView) -> list[Constraint]:
    return [
        *_constraints(call),
        Constraint(
            (Sym("K").eq(2),), "(start and end logits)", "config.num_labels",
            hint="Data2VecTextForQuestionAnswering needs num_labels=2 (start and end); build it with num_labels=2.",
        ),
    ]


def _common(call: CallView, state: Any = _STATE, attn: Any = None) -> dict[str, Out]:
    if attn is None:
        attn = _CACHE_ATTN if _cached(call) else _ATTN
    return {
        "hidden_states": hidden_states(call, state, modality="text", selectable=True),
        "attentions": attentions(call, attn, modality="text"),
    }


def _cross(call: CallView) -> Out:
    if not call.flag("output_attentions"):
        return ABSENT
    config = call.config
    if getattr(config, "add_cross_attention", False) and call.given("encoder_hidden_states"):
        return attentions(call, _CROSS, modality="text")
    if not CROSS_ATTENTIONS_EMPTY:
        return Out(OutKind.NONE, why="no cross-attention layers run")
    return Out(OutKind.EMPTY, why="no cross-attention layers run")


def _cache(call: CallView, *, labels: bool = False) -> Out:
    config = call.config
    use = call.args.get("use_cache")
    use = config.use_cache if use is None else use
    if config.is_decoder and use and not labels:
        return Out(OutKind.OBJECT, why="is_decoder with use_cache")
    if config.is_decoder and use:
        return Out(OutKind.NONE, why="labels were given, which switches use_cache off")
    return Out(OutKind.NONE, why="config.is_decoder is False or use_cache is off")


def _model(call: CallView) -> dict[str, Out]:
    pooled = call.pooled if call.pooled is not None else True  # the constructor's add_pooling_layer default
    return {
        "last_hidden_state": tensor(_STATE),
        "pooler_output": tensor(_POOLED) if pooled else Out(OutKind.NONE, why="add_pooling_layer=False"),
        CACHE_FIELD: _cache(call),
        "cross_attentions": _cross(call),
        **_common(call),
    }


def _keep(call: CallView) -> Any:
    """``logits_to_keep`` as the plan sees it: 0 (all), an int, or a tensor summary (5.x; 4.x ignores it)."""
    return call.args.get("logits_to_keep", 0) if LOGITS_TO_KEEP else 0


def _causal_logits(call: CallView) -> Out:
    keep = _keep(call)
    if isinstance(keep, tuple):  # a tensor: ("tensor", ndim, is_bool)
        if keep[1] == 2 and keep[2]:
            return tensor(_SELECTED_LOGITS, "a boolean logits_to_keep selects positions")
        return tensor(_KEPT_LOGITS)
    if isinstance(keep, int) and keep > 0:
        return tensor(_KEPT_LOGITS)
    return tensor(_VOCAB_LOGITS)


def _kept_positions(args: Mapping[str, Any]) -> int | None:
    keep = args.get("logits_to_keep") if LOGITS_TO_KEEP else None
    if isinstance(keep, torch.Tensor) and keep.dtype != torch.bool and keep.ndim in (1, 2):
        return int(keep.shape[-1])  # positions for every row (1-D), or per row (2-D, the same count)
    return None


def _selected_positions(args: Mapping[str, Any]) -> int | None:
    """A boolean (B, N) ``logits_to_keep`` keeps the positions it marks, from every row (read from its values)."""
    keep = args.get("logits_to_keep") if LOGITS_TO_KEEP else None
    if isinstance(keep, torch.Tensor) and keep.dtype == torch.bool and keep.ndim == 2:
        return int(keep.sum())
    return None


def _causal_rules(call: CallView) -> dict[str, Rule]:
    keep = _keep(call)
    rules = _key_rules(call)
    if isinstance(keep, int) and not isinstance(keep, bool) and keep > 0:
        rules["keep"] = Rule("keep", minimum(keep, Sym("N")), "argument logits_to_keep")
    return rules


def _causal(call: CallView) -> dict[str, Out]:
    labels = call.given("labels")
    return {
        "loss": loss(call, "labels"),
        "logits": _causal_logits(call),
        CACHE_FIELD: _cache(call, labels=labels),
        "cross_attentions": _cross(call),
        **_common(call),
    }


def _head(logits: Any, *labels: str) -> Any:
    def outputs(call: CallView) -> dict[str, Out]:
        return {"loss": loss(call, *labels), "logits": tensor(logits), **_common(call)}

    return outputs


def _qa(call: CallView) -> dict[str, Out]:
    both = call.given("start_positions") and call.given("end_positions")
    no_loss = Out(OutKind.NONE, why="a loss needs start and end positions")
    return {
        "loss": loss(call, "start_positions") if both else no_loss,
        "start_logits": tensor(_SPAN),
        "end_logits": tensor(_SPAN),
        **_common(call),
    }


def _mc(call: CallView) -> dict[str, Out]:
    return {
        "loss": loss(call, "labels"),
        "logits": tensor(_CHOICES),
        **_common(call, _MC_STATE, _MC_ATTN),
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
              constraints: Any = _constraints, rules: Any = _key_rules, tuple_slots: tuple[str, ...] = (),
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
        reads=_READS,
        call_dims=(
            *_CALL_DIMS,
            CallDim("keep", _kept_positions, "argument logits_to_keep"),
            CallDim("Nsel", _selected_positions, "argument logits_to_keep (the positions it marks)"),
        ),
        input_overrides=_key_inputs,
        label_arguments=tuple(n for n in inputs if n in ("labels", "start_positions", "end_positions")),
        cache_argument=CACHE_FIELD,
        tuple_slots=tuple_slots,
        tuple_order=tuple_order,
    )


TEXT_CONTRACTS = (
    _contract(
        "Model",
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
        {**_INPUTS, "labels": _TOKEN_LABELS},
        _causal,
        "(B, N) -> (B, N, V) next-token logits",
        rules=_causal_rules,
    ),
    _contract("ForMaskedLM", _HEAD_FIELDS, {**_INPUTS, "labels": _TOKEN_LABELS},
              _head(_VOCAB_LOGITS, "labels"), "(B, N) -> (B, N, V) token logits"),
    _contract("ForSequenceClassification", _HEAD_FIELDS, {**_INPUTS, "labels": Shaped[Tensor, "B ..."]},
              _head(_CLASS_LOGITS, "labels"), "(B, N) -> (B, K) class logits (reads token 0)"),
    _contract("ForMultipleChoice", _HEAD_FIELDS, _MC_INPUTS, _mc,
              "(B, C, N) -> (B, C) choice logits; hidden states have batch B*C"),
    _contract("ForTokenClassification", _HEAD_FIELDS, {**_INPUTS, "labels": _FLAT_TOKEN_LABELS},
              _head(_TOKEN_LOGITS, "labels"), "(B, N) -> (B, N, K) token logits"),
    _contract(
        "ForQuestionAnswering",
        ("loss", "start_logits", "end_logits", "hidden_states", "attentions"),
        # (B, 1) positions are squeezed by the model
        {**_INPUTS, "start_positions": _POSITIONS, "end_positions": _POSITIONS},
        _qa,
        "(B, N) -> start and end logits (B, N); needs num_labels=2",
        constraints=_qa_constraints,
    ),
)
