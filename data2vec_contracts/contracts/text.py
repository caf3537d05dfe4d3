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

from ..checker import Constraint, Expr, Problem, Rule, Scope, Sym, describe_value, minimum
from ._compat import (
    CACHE_FIELD,
    CACHE_RETURNED_WHEN_GIVEN,
    CROSS_ATTENTION_NEEDS_ENCODER_CACHE,
    CROSS_ATTENTIONS_EMPTY,
    CROSS_ATTENTIONS_NEED_ENCODER_STATES,
    FLAT_POSITIONS_NEED_TOKEN_TYPES,
    LOGITS_TO_KEEP,
    MODEL_FIELDS_HIDDEN_FIRST,
    RELATIVE_POSITIONS,
    RETURN_TUPLE_KEEPS_NONE,
    TEXT_MASK_RANKS,
    TOKEN_TYPE_BUFFER_SLICED,
)
from ._labels import ClassIds, Long, class_ids, classification_labels, classification_problem
from ._lengths import max_text_length
from ._outputs import attentions, config_dim, hidden_states, loss, nonempty_batch, pruned_attentions, pruned_dims
from ._plan import ABSENT, CallCheck, CallDim, CallView, ModelContract, Out, OutKind, tensor
from ._values import readable, refuse, within

__all__ = ["TEXT_CONTRACTS"]


class TokenIds(AbstractDtype):
    """The integer dtypes an embedding lookup takes: int32 and int64 (not int8/int16/uint8)."""

    dtypes = ["int32", "int64"]  # noqa: RUF012 - jaxtyping reads a class attribute


def _masks(keys: str) -> Any:
    """A 2-D padding mask (B, keys), and the other ranks the installed transformers takes (``TEXT_MASK_RANKS``): 4-D
    masks (boolean, or additive with -inf) over queries and keys (5.x), 3-D (B, N, keys) masks (4.x)."""
    forms = {2: Shaped[Tensor, f"B {keys}"], 3: Shaped[Tensor, f"#B N {keys}"], 4: Shaped[Tensor, f"#B _ N {keys}"]}
    found: Any = forms[TEXT_MASK_RANKS[0]]
    for rank in TEXT_MASK_RANKS[1:]:
        found = found | forms[rank]
    return found


_MASK = _masks("N")
_CACHE_MASK = _masks("Nk")  # a cache step's mask covers the cached tokens and the new ones
_POSITION_IDS = Int[Tensor, "#B N"] | Int[Tensor, " N"]
_ROW_POSITION_IDS = Int[Tensor, "#B N"]  # 5.x gathers the buffered token_type_ids at 2-D positions
_INPUTS: dict[str, Any] = {
    "input_ids": TokenIds[Tensor, "B N"],
    "attention_mask": _MASK,
    "token_type_ids": Int[Tensor, "B N"],
    "position_ids": _POSITION_IDS,
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
    "labels": ClassIds[Tensor, " B"],
}
# the causal LM loss pads labels with -100 (so uint8 fails) and shifts them along the last axis
_CAUSAL_LABELS: Any = Long[Tensor, "B N"]
_FLAT_TOKEN_LABELS: Any = ClassIds[Tensor, "B N"] | ClassIds[Tensor, " B*N"]  # the head flattens them: (B*N,) works too
_STATE = Float[Tensor, "B N D"]
# attention maps: a cache step attends to the cached tokens too; multiple choice flattens the batch to B*C
_ATTENTIONS = {dims: Float[Tensor, dims] for dims in ("B heads N N", "B heads N Nk", "B*C heads N N")}
_CROSS = Float[Tensor, "B heads N Ne"]
_MC_STATE = Float[Tensor, "B*C N D"]
_POOLED = Float[Tensor, "B D"]
_SPAN = Float[Tensor, "B N"]
_CHOICES = Float[Tensor, "B C"]
_TOKEN_LOGITS = Float[Tensor, "B N K"]
_VOCAB_LOGITS = Float[Tensor, "B N V"]
_KEPT_LOGITS = Float[Tensor, "B keep V"]
_SELECTED_LOGITS = Float[Tensor, "Nsel V"]
_CLASS_LOGITS = Float[Tensor, "B K"]
_POSITIONS: Any = ClassIds[Tensor, " B"] | ClassIds[Tensor, "B 1"]  # (B, 1) positions are squeezed by the model

_READS = ("output_hidden_states", "output_attentions", "return_dict", "use_cache", "logits_to_keep")


def _dims(config: Any) -> dict[str, tuple[int, str]]:
    return {
        "D": config_dim(config, "hidden_size"),
        "V": config_dim(config, "vocab_size"),
        "K": config_dim(config, "num_labels"),
        "heads": config_dim(config, "num_attention_heads"),
        **pruned_dims(config),
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


def _overrides(call: CallView) -> dict[str, Any]:
    """Annotations that depend on the call: a cache step's mask covers the cached tokens and the new ones (``Nk = P +
    N`` keys); transformers 5.x takes 1-D position_ids only with token_type_ids
    (``FLAT_POSITIONS_NEED_TOKEN_TYPES``)."""
    found: dict[str, Any] = {}
    if _cached(call):
        found["attention_mask"] = _CACHE_MASK
    if FLAT_POSITIONS_NEED_TOKEN_TYPES and not call.given("token_type_ids"):
        found["position_ids"] = _ROW_POSITION_IDS
    return found


def _classification_overrides(call: CallView) -> dict[str, Any]:
    return {**_overrides(call), "labels": classification_labels(call.config)}


def _key_rules(call: CallView) -> dict[str, Rule]:
    return {"Nk": Rule("Nk", Sym("P") + Sym("N"), "the cached tokens and the new ones")} if _cached(call) else {}


def _relative(config: Any) -> bool:
    """transformers 4.x relative position embeddings: no absolute position table (``RELATIVE_POSITIONS``)."""
    return RELATIVE_POSITIONS and getattr(config, "position_embedding_type", "absolute") in (
        "relative_key", "relative_key_query"
    )


def _first_field(call: CallView) -> str:
    return "argument inputs_embeds" if call.given("inputs_embeds") and not call.given("input_ids") else (
        "argument input_ids"
    )


def _constraints(call: CallView, sizes: tuple[str, ...] = ("N",)) -> list[Constraint]:
    config = call.config
    found = nonempty_batch(call, _first_field(call), *sizes)
    table = int(config.max_position_embeddings)
    if _relative(config):
        # the distance table: N (with a cache, every key) at most max_position_embeddings apart
        n: Expr = Sym("N") + Sym("P") if _cached(call) else Sym("N")
        found.append(Constraint(
            (n.le(table),),
            f"(config.position_embedding_type={config.position_embedding_type!r}: the distance table of "
            f"2 * config.max_position_embeddings - 1 = {2 * table - 1} entries)", _first_field(call),
            hint=f"relative position embeddings reach at most config.max_position_embeddings={table} tokens apart; "
            f"truncate to {table} tokens.",
        ))
        return found
    if not call.given("position_ids"):
        found.append(_position_table(call))
    if TOKEN_TYPE_BUFFER_SLICED and not call.given("token_type_ids"):
        found.append(Constraint(
            (Sym("N").le(table),), f"(config.max_position_embeddings: transformers 4.x slices its {table} buffered "
            "token_type_ids to N)", _first_field(call),
            hint="without token_type_ids transformers 4.x takes the first N of max_position_embeddings buffered ones; "
            "pass token_type_ids=torch.zeros_like(input_ids) for a longer padded batch, or truncate.",
        ))
    return found


def _position_table(call: CallView) -> Constraint:
    config = call.config
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
    return Constraint(
        (n.le(limit),), why, field,
        exempt=_pads_take_no_position(config) if call.given("input_ids") else None,
        hint=(
            f"the sequence is longer than the position table: positions start at pad_token_id + 1, so at most "
            f"{limit} tokens fit{cached}; truncate (tokenizer(..., truncation=True, "
            f"max_length={limit}))."
        ),
    )


def _pads_take_no_position(config: Any) -> Any:
    """Positions count the non-pad tokens of each row (pads keep ``pad_token_id``): a padded batch longer than the
    position table is valid when every row's own tokens fit. Read only when the shapes alone say no (so a valid call
    pays the read only when its padded length exceeds the table); while torch.compile traces, nothing is read and the
    call is let through (the model's own error, if any, comes first there)."""
    pad = config.pad_token_id
    limit = max_text_length(config)

    def fits(args: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
        if torch.compiler.is_compiling():
            return True
        ids = args.get("input_ids")
        if pad is None or not isinstance(ids, torch.Tensor) or ids.ndim not in (2, 3) or ids.numel() == 0:
            return False
        if ids.device.type == "meta":  # no values to read: a static check's ids are all tokens, no pads
            return False
        longest = int((ids != pad).sum(-1).max())  # per row (multiple choice: per choice)
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


# -- checks beyond shapes: values, and combinations transformers cannot run -------------------------------------
_IDS_HINT = (
    "an id outside [0, config.vocab_size) has no embedding row: the tokenizer and the model disagree (after adding "
    "tokens, call model.resize_token_embeddings(len(tokenizer)))."
)
_LABELS_HINT = (
    "a class id outside [0, {n}) (other than the ignore index -100) makes the loss fail (on CUDA a device-side assert)."
)


def _checks(call: CallView) -> list[CallCheck]:
    """Token ids within the vocabulary, token types within config.type_vocab_size, explicit positions within the
    position table (value checks: CPU tensors only), and the cross-attention calls transformers cannot run."""
    config = call.config
    found = [within("input_ids", "V", what="input_ids", hint=_IDS_HINT)]
    types = int(config.type_vocab_size)
    found.append(within(
        "token_type_ids", types, what="token_type_ids", source="config.type_vocab_size",
        hint=f"the model has config.type_vocab_size={types} token type(s) (RoBERTa-style checkpoints have one): pass "
        "zeros, or no token_type_ids at all.",
    ))
    if not _relative(config):
        table = int(config.max_position_embeddings)
        found.append(within(
            "position_ids", table, what="position_ids", source="config.max_position_embeddings",
            hint=f"positions index a table of config.max_position_embeddings={table} rows (Data2Vec positions start at "
            f"pad_token_id + 1 = {int(config.pad_token_id or 0) + 1}); truncate the sequence or fix the positions.",
        ))
    cross = bool(getattr(config, "add_cross_attention", False))
    if CROSS_ATTENTIONS_NEED_ENCODER_STATES and cross and call.flag("output_attentions") and not call.given(
        "encoder_hidden_states"
    ):
        found.append(refuse(
            "cross attentions without encoder states", "argument encoder_hidden_states",
            "a Tensor (B, Ne, D): config.add_cross_attention=True with output_attentions reads a cross-attention map "
            "of every layer", "transformers 4.x fails here (IndexError: tuple index out of range, a transformers "
            "bug): pass encoder_hidden_states, or call with output_attentions=False.",
        ))
    if CROSS_ATTENTION_NEEDS_ENCODER_CACHE and cross and config.is_decoder and _cached(call) and call.given(
        "encoder_hidden_states"
    ):
        found.append(CallCheck("cross-attention cache", _encoder_cache))
    return found


def _encoder_cache(scope: Scope, args: Mapping[str, Any]) -> None:
    """A cached step with encoder_hidden_states runs cross-attention on the cache's cross-attention part."""
    __tracebackhide__ = True
    cache = _cache_of(args)
    if cache is None or hasattr(cache, "is_updated"):
        return
    name = CACHE_FIELD if args.get(CACHE_FIELD) is not None else "past_key_values"
    scope.fail(
        f"argument {name}", Problem.TYPE,
        "an EncoderDecoderCache (a cached step with encoder_hidden_states runs cross-attention)", describe_value(cache),
        hint="this cache was made by a call without encoder_hidden_states, so it holds no cross-attention part "
        "(transformers fails with AttributeError: 'is_updated'): pass encoder_hidden_states on the first call too, "
        "or give the cached steps none.",
    )


def _label_checks(argument: str, upper: str) -> Any:
    def checks(call: CallView) -> list[CallCheck]:
        return [*_checks(call), class_ids(argument, upper, _LABELS_HINT.format(n=upper))]

    return checks


def _classification_checks(call: CallView) -> list[CallCheck]:
    found = _checks(call)
    if classification_problem(call.config) in ("single_label_classification", "auto"):
        found.append(class_ids("labels", "K", _LABELS_HINT.format(n="K")))
    return found


def _causal_checks(call: CallView) -> list[CallCheck]:
    found = [*_checks(call), class_ids("labels", "V", _LABELS_HINT.format(n="V"))]
    keep = _keep(call)
    if isinstance(keep, tuple) and not keep[2]:  # an index tensor: 1-D indices may count from the end, 2-D may not
        found.append(within(
            "logits_to_keep", "N", lower="N" if keep[1] == 1 else 0, what="logits_to_keep",
            hint="logits_to_keep holds positions of the N tokens (an index tensor); keep them below N.",
        ))
    return found


def _common(call: CallView, state: Any = _STATE, attn: str | None = None) -> dict[str, Out]:
    if attn is None:
        attn = "B heads N Nk" if _cached(call) else "B heads N N"
    maps = attentions(call, _ATTENTIONS[attn], modality="text")
    return {
        "hidden_states": hidden_states(call, state, modality="text", selectable=True),
        "attentions": pruned_attentions(call, maps, attn),
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
    if CACHE_RETURNED_WHEN_GIVEN and _cached(call):
        return Out(OutKind.OBJECT, why="transformers 4.x returns the cache it was given")
    use = call.args.get("use_cache")
    use = config.use_cache if use is None else use
    if config.is_decoder and use and call.gradient_checkpointing:
        return Out(OutKind.NONE, why="gradient checkpointing in training switches use_cache off")
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
    """A boolean (B, N) ``logits_to_keep`` keeps the positions it marks, from every row (read from its values, on
    the CPU only: elsewhere the logits bind Nsel)."""
    keep = args.get("logits_to_keep") if LOGITS_TO_KEEP else None
    if isinstance(keep, torch.Tensor) and keep.dtype == torch.bool and keep.ndim == 2 and readable(keep.long()):
        return int(keep.sum())
    return None


def _causal_rules(call: CallView) -> dict[str, Rule]:
    keep = _keep(call)
    rules = _key_rules(call)
    if isinstance(keep, int) and not isinstance(keep, bool) and keep > 0:
        rules["keep"] = Rule("keep", minimum(keep, Sym("N")), "argument logits_to_keep")
    return rules


def _causal_constraints(call: CallView) -> list[Constraint]:
    """With labels, transformers 5.x computes the loss of the kept logits against all N labels, so logits_to_keep
    must keep every position (an int >= N, N indices, or B*N marked positions)."""
    found = _constraints(call)
    keep = _keep(call)
    if not (call.given("labels") and (isinstance(keep, tuple) or (isinstance(keep, int) and keep > 0))):
        return found
    selected = isinstance(keep, tuple) and keep[1] == 2 and keep[2]
    condition = Sym("Nsel").eq(Sym("B") * Sym("N")) if selected else Sym("keep").eq(Sym("N"))
    found.append(Constraint(
        (condition,), "(with labels the loss compares the kept logits with all N labels)", "argument logits_to_keep",
        hint="the loss of ForCausalLM shifts and flattens the (B, N) labels against the kept logits: pass no "
        "logits_to_keep with labels (or compute the loss of the kept positions yourself).",
    ))
    return found


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
        **_common(call, _MC_STATE, "B*C heads N N"),
    }


def _mc_constraints(call: CallView) -> list[Constraint]:
    return _constraints(call, ("C", "N"))  # the inputs are flattened to (B*C, N)


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
              tuple_order: tuple[str, ...] = (), overrides: Any = _overrides, checks: Any = _checks) -> ModelContract:
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
        input_overrides=overrides,
        label_arguments=tuple(n for n in inputs if n in ("labels", "start_positions", "end_positions")),
        cache_argument=CACHE_FIELD,
        tuple_slots=tuple_slots,
        tuple_order=tuple_order,
        call_checks=checks,
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
        {**_INPUTS, "labels": _CAUSAL_LABELS},
        _causal,
        "(B, N) -> (B, N, V) next-token logits",
        rules=_causal_rules,
        constraints=_causal_constraints,
        checks=_causal_checks,
    ),
    _contract("ForMaskedLM", _HEAD_FIELDS, {**_INPUTS, "labels": _FLAT_TOKEN_LABELS},
              _head(_VOCAB_LOGITS, "labels"), "(B, N) -> (B, N, V) token logits", checks=_label_checks("labels", "V")),
    # the labels follow config.problem_type (and, when None, num_labels and their dtype): _classification_overrides
    _contract("ForSequenceClassification", _HEAD_FIELDS, {**_INPUTS, "labels": Shaped[Tensor, "B ..."]},
              _head(_CLASS_LOGITS, "labels"), "(B, N) -> (B, K) class logits (reads token 0)",
              overrides=_classification_overrides, checks=_classification_checks),
    _contract("ForMultipleChoice", _HEAD_FIELDS, _MC_INPUTS, _mc,
              "(B, C, N) -> (B, C) choice logits; hidden states have batch B*C", constraints=_mc_constraints,
              overrides=None, checks=_label_checks("labels", "C")),
    _contract("ForTokenClassification", _HEAD_FIELDS, {**_INPUTS, "labels": _FLAT_TOKEN_LABELS},
              _head(_TOKEN_LOGITS, "labels"), "(B, N) -> (B, N, K) token logits", checks=_label_checks("labels", "K")),
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
