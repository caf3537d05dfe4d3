"""The known causes of oracle failures: what our checker gets wrong today, measured on transformers 4.57 and 5.24.

Each :class:`Cause` is one distinct defect of data2vec_contracts (or one transformers behaviour our checker does not
pre-empt), with the versions it shows on, the kind of failure, the line of the transformers modeling source that
explains the real behaviour, and a predicate over scenarios. ``tests/oracle/test_scenarios.py`` marks every
scenario a cause applies to ``xfail(strict=True)`` with the cause's reason, so a fix turns the scenario XPASS (a
failure) until the cause is removed here; ``python -m tests.oracle`` lists problems no cause explains and causes
that predicted a problem which did not happen, so the predicates stay exact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from tests._models import TRANSFORMERS_5, tiny_config
from tests.oracle.calls import Scenario

__all__ = ["CAUSES", "WORKFLOW_CAUSES", "Cause", "Kind", "WorkflowCause", "causes_for"]

#: false violation: transformers runs the call, our checker raises; expected_shapes: its answer differs from the
#: real shapes (or it raises); not first: transformers raises, and our ShapeContractError does not come first.
Kind = Literal["false violation", "expected_shapes", "not first"]


@dataclass(frozen=True)
class Cause:
    id: str
    kinds: tuple[Kind, ...]
    summary: str
    source: str  # the transformers line that shows the real behaviour
    ours: str  # where our code goes wrong
    raw: Callable[[Scenario], bool]
    versions: tuple[int, ...] = (4, 5)
    #: false violations: whether our checker raises on the inputs (before the model runs) or on the outputs
    phase: Literal["input", "output"] = "input"
    #: not-first causes: scenarios where the failure happens in the cache recipe's first (prefill) call, before the
    #: main call's inputs are checked at all
    in_prefill: Callable[[Scenario], bool] | None = None

    def applies(self, s: Scenario) -> bool:
        """Whether the cause shows in this scenario on the installed transformers: a false violation needs a call
        transformers accepts; a not-first cause needs a call our input checks do not already reject."""
        if _MAJOR not in self.versions or _config(s) is None or not self.raw(s):
            return False
        if "not first" in self.kinds:
            return not _input_rejected(s) or (self.in_prefill is not None and self.in_prefill(s))
        return not _invalid(s)

    @property
    def reason(self) -> str:
        return f"[{self.id}] {self.summary} (transformers: {self.source}; ours: {self.ours})"


_MAJOR = 5 if TRANSFORMERS_5 else 4


_CONFIGS: dict[str, Any] = {}


def _config(s: Scenario) -> Any:
    key = repr((s.modality, sorted(s.config.items(), key=repr)))
    if key not in _CONFIGS:
        try:
            _CONFIGS[key] = tiny_config(s.modality, **s.config)
        except Exception:  # a config transformers refuses: no call runs, no cause applies
            _CONFIGS[key] = None
    return _CONFIGS[key]


def _cfg(s: Scenario, name: str) -> Any:
    """A field of the scenario's config (None for a field the modality does not have)."""
    return getattr(_config(s), name, None)


def _size(s: Scenario, name: str) -> int:
    default = {"batch": 2, "seq_len": 7, "num_choices": 3, "samples": 400}
    if name in ("height", "width") and s.modality == "vision":
        image = _cfg(s, "image_size")
        side = image if isinstance(image, int) else image[0 if name == "height" else 1]
        return int(s.sizes.get(name, side))
    return int(s.sizes.get(name, default.get(name, 0)))


def _flag(s: Scenario, name: str) -> Any:
    if name in s.flags:
        return s.flags[name]
    return _cfg(s, name)


def _attn(s: Scenario) -> str:
    impl = _cfg(s, "_attn_implementation")
    if impl:
        return str(impl)
    return "eager" if (s.modality == "text" and not TRANSFORMERS_5) else "sdpa"


def _tuple(value: Any) -> bool:
    return isinstance(value, (tuple, list))


def _seg_grid(s: Scenario) -> tuple[int, int, int] | None:
    """(h, w, side) of a segmentation input with an int patch and image size."""
    if s.head != "ForSemanticSegmentation":
        return None
    p, image = _cfg(s, "patch_size"), _cfg(s, "image_size")
    if _tuple(p) or _tuple(image):
        return None
    return _size(s, "height") // p, _size(s, "width") // p, image // p


def _frames(s: Scenario) -> int:
    if _config(s) is None:
        return 0
    from data2vec_contracts import num_frames

    return num_frames(_config(s), _size(s, "samples"))


def _text_limit(s: Scenario) -> int:
    c = _config(s)
    pad = c.pad_token_id if c.pad_token_id is not None else 0
    return int(c.max_position_embeddings) - pad - 1


def _valid_batch(s: Scenario) -> bool:
    return _size(s, "batch") > 0


# -- predicates ---------------------------------------------------------------------------------------------------
def _four_d_mask(s: Scenario) -> bool:
    return s.modality == "text" and str(s.inputs.get("attention_mask", "")).startswith("4d")


def _cache_mask(s: Scenario) -> bool:
    mask = s.inputs.get("attention_mask")
    return (s.modality == "text" and bool(s.inputs.get("prefill")) and mask is not None
            and not str(mask).startswith("4d"))


def _cache_maps(s: Scenario) -> bool:
    return (s.modality == "text" and bool(s.inputs.get("prefill")) and bool(_flag(s, "output_attentions"))
            and _attn(s) == "eager" and s.inputs.get("attention_mask") is None)


def _seg_same_grid(s: Scenario) -> bool:
    grid = _seg_grid(s)
    if s.head != "ForSemanticSegmentation" or grid is None or not _valid_batch(s):
        return False
    h, w, side = grid
    image = _cfg(s, "image_size")
    return h == w == side and (_size(s, "height"), _size(s, "width")) != (image, image)


def _seg_other_grid(s: Scenario) -> bool:
    grid = _seg_grid(s)
    if s.head != "ForSemanticSegmentation" or grid is None or not _valid_batch(s):
        return False
    h, w, side = grid
    return (h, w) != (side, side) and h * w == side * side


def _patch_pair(s: Scenario) -> bool:
    p = _cfg(s, "patch_size")
    return (s.modality == "vision" and _tuple(p) and p[0] != p[1] and s.head != "ForSemanticSegmentation"
            and not _cfg(s, "use_relative_position_bias") and not _cfg(s, "use_shared_relative_position_bias")
            and _valid_batch(s))


def _bool_masked_long(s: Scenario) -> bool:
    return s.inputs.get("bool_masked_pos") == "long" and bool(_cfg(s, "use_mask_token"))


def _zero_layers(s: Scenario) -> bool:
    return (_cfg(s, "num_hidden_layers") == 0 and s.modality in ("text", "audio")
            and _flag(s, "output_hidden_states") not in (None, False, 0) and _valid_batch(s))


def _qa_one_position(s: Scenario) -> bool:
    return s.head == "ForQuestionAnswering" and s.labels in ("start-only", "end-only")


def _audio_labels_b1(s: Scenario) -> bool:
    return s.head in ("ForSequenceClassification", "ForXVector") and s.modality == "audio" and s.labels == "b1"


def _flat_position_ids(s: Scenario) -> bool:
    """(N,) position_ids: 4.x broadcasts them; 5.x too, unless it has to gather the buffered token_type_ids."""
    flat = s.modality == "text" and s.inputs.get("position_ids") == "flat"
    return flat and ("token_type_ids" in s.inputs or not TRANSFORMERS_5)


def _ctc_none(s: Scenario) -> bool:
    return s.head == "ForCTC" and _cfg(s, "ctc_loss_reduction") == "none" and s.labels is not None


def _longest_real_row(s: Scenario) -> int:
    """The most non-padding tokens in a row (the recipes pad the first row only)."""
    n = _size(s, "seq_len")
    padded = s.inputs.get("attention_mask") in ("left", "right") and _size(s, "batch") == 1 and n > 1
    return n - max(1, n // 3) if padded else n


def _n_beyond_table(s: Scenario) -> bool:
    """Our N constraint fires: input_ids (or inputs_embeds) longer than the position table, no position_ids."""
    return (s.modality == "text" and "position_ids" not in s.inputs and not s.inputs.get("prefill")
            and _size(s, "seq_len") > _text_limit(s))


def _relative(s: Scenario) -> bool:
    return _cfg(s, "position_embedding_type") in ("relative_key", "relative_key_query")


def _left_padding_beyond_table(s: Scenario) -> bool:
    if not _n_beyond_table(s):
        return False
    # 4.x slices a token_type_ids buffer of max_position_embeddings entries when none are given
    buffer_ok = TRANSFORMERS_5 or "token_type_ids" in s.inputs or _size(s, "seq_len") <= _cfg(
        s, "max_position_embeddings")
    return (_n_beyond_table(s) and not s.inputs.get("inputs_embeds") and not _relative(s) and buffer_ok
            and _longest_real_row(s) <= _text_limit(s))


def _relative_positions_beyond_table(s: Scenario) -> bool:
    """4.x relative_key(_query) position embeddings: no absolute table, only the distance table of
    2 * max_position_embeddings - 1 entries, so N up to max_position_embeddings is valid."""
    if not _n_beyond_table(s):
        return False
    return _relative(s) and _size(s, "seq_len") <= _cfg(s, "max_position_embeddings")


def _cache_passed_through(s: Scenario) -> bool:
    """4.x returns a cache passed in even when the model does not use one (is_decoder=False)."""
    return (s.modality == "text" and bool(s.inputs.get("empty_cache")) and not _cfg(s, "is_decoder")
            and _valid_batch(s))


def _adapter_min_frames(s: Scenario) -> int:
    """The fewest conv frames each adapter layer (Conv1d, padding 1) can take when it runs."""
    c = _config(s)
    k, stride = c.adapter_kernel_size, c.adapter_stride
    t = 1
    while True:
        path = [t]
        for _ in range(c.num_adapter_layers):
            path.append((path[-1] + 2 - k) // stride + 1)
        if all(f + 2 >= k for f in path[:-1]):
            return t
        t += 1


def _adapter_skipped(s: Scenario) -> bool:
    """layerdrop 1.0 in training skips every adapter layer, so no adapter constraint applies."""
    c = _config(s)
    return (s.modality == "audio" and s.train and c.add_adapter and c.layerdrop >= 1.0
            and 1 <= _frames(s) < _adapter_min_frames(s))


def _classification_labels_mismatch(s: Scenario) -> bool:
    """Text sequence / vision image classification labels that do not fit problem_type and num_labels."""
    if s.head not in ("ForSequenceClassification", "ForImageClassification") or s.modality == "audio":
        return False
    if s.labels is None:
        return False
    k, problem = _cfg(s, "num_labels"), _cfg(s, "problem_type")
    if k == 0:
        return True
    if problem == "multi_label_classification":
        return s.labels != "float-multilabel"
    if problem == "regression" and k > 1:
        return s.labels != "float-multilabel"
    return False


def _cross_attention_with_self_cache(s: Scenario) -> bool:
    """5.x: a cache made without encoder states (a DynamicCache) used for a step with cross-attention."""
    return (TRANSFORMERS_5 and s.modality == "text" and bool(s.inputs.get("prefill"))
            and bool(s.inputs.get("encoder_hidden_states")) and bool(_cfg(s, "add_cross_attention"))
            and s.inputs.get("attention_mask") is None)


def _cross_attentions_without_encoder_4x(s: Scenario) -> bool:
    """4.x: with cross-attention layers and output_attentions, a call without encoder_hidden_states indexes a cross
    attention map the layer did not return."""
    if TRANSFORMERS_5 or s.modality != "text" or not _cfg(s, "add_cross_attention") or not _cfg(s, "is_decoder"):
        return False
    # the prefill call of the cache recipes passes no encoder states and reads output_attentions from the config
    no_states = not s.inputs.get("encoder_hidden_states") and bool(_flag(s, "output_attentions"))
    prefill = bool(s.inputs.get("prefill")) and bool(_cfg(s, "output_attentions"))
    return _attn(s) == "eager" and (no_states or prefill) and _valid_batch(s)


def _pruned_heads(s: Scenario) -> bool:
    return (bool(_cfg(s, "pruned_heads")) and bool(_flag(s, "output_attentions")) and _attn(s) == "eager"
            and _valid_batch(s))


# not first ---------------------------------------------------------------------------------------------------------
def _masked_spec_embed_missing(s: Scenario) -> bool:
    return (s.modality == "audio" and bool(s.inputs.get("mask_time_indices"))
            and _cfg(s, "mask_time_prob") <= 0 and _cfg(s, "mask_feature_prob") <= 0)


def _mask_token_missing(s: Scenario) -> bool:
    return s.modality == "vision" and "bool_masked_pos" in s.inputs and not _cfg(s, "use_mask_token")


def _audio_head_config_tuple(s: Scenario) -> bool:
    return (TRANSFORMERS_5 and s.modality == "audio" and s.head != "Model" and _cfg(s, "return_dict") is False)


def _type_vocab_overflow(s: Scenario) -> bool:
    return s.modality == "text" and s.inputs.get("token_type_ids") == "ones" and _cfg(s, "type_vocab_size") < 2


def _bad_out_indices(s: Scenario) -> bool:
    """The decode head needs 3 or 4 feature maps: the hidden states idx with idx + 1 in out_indices."""
    if s.head != "ForSemanticSegmentation":
        return False
    indices = tuple(_cfg(s, "out_indices"))
    layers = _cfg(s, "num_hidden_layers")
    return len([i for i in range(layers + 1) if i + 1 in indices]) < 3


def _batch_zero(s: Scenario) -> bool:
    return _size(s, "batch") == 0


def _int32_labels(s: Scenario) -> bool:
    """int32 class ids where the loss needs int64 (text SequenceClassification with K > 1 accepts int32)."""
    if s.labels != "int32":
        return False
    return not (s.modality == "audio" and s.head in ("ForCTC", "ForAudioFrameClassification"))


def _image_pair_abs(s: Scenario) -> bool:
    image = _cfg(s, "image_size")
    return (s.modality == "vision" and _tuple(image) and image[0] != image[1]
            and bool(_cfg(s, "use_absolute_position_embeddings")))


def _patch_pair_unsupported(s: Scenario) -> bool:
    p = _cfg(s, "patch_size")
    return s.modality == "vision" and _tuple(p) and (
        s.head == "ForSemanticSegmentation" or bool(_cfg(s, "use_relative_position_bias"))
        or bool(_cfg(s, "use_shared_relative_position_bias")))


def _kept(s: Scenario) -> int | None:
    """How many positions logits_to_keep keeps (None: all)."""
    import torch

    keep = s.flags.get("logits_to_keep", 0)
    if isinstance(keep, torch.Tensor):
        return int(keep.numel())
    return None if keep == 0 else min(int(keep), _size(s, "seq_len"))


def _keep_with_labels(s: Scenario) -> bool:
    kept = _kept(s)
    return (TRANSFORMERS_5 and s.head == "ForCausalLM" and s.labels is not None and kept is not None
            and kept != _size(s, "seq_len"))


def _keep_index_out_of_range(s: Scenario) -> bool:
    import torch

    keep = s.flags.get("logits_to_keep")
    return (TRANSFORMERS_5 and s.head == "ForCausalLM" and isinstance(keep, torch.Tensor)
            and int(keep.max()) >= _size(s, "seq_len") and not _keep_with_labels(s))


def _spec_augment_too_short(s: Scenario) -> bool:
    if s.modality != "audio" or not s.train or not _valid_batch(s):
        return False
    c = _config(s)
    t = _frames(s)
    if t < 1:
        return False
    time = c.mask_time_prob > 0 and c.mask_time_length > t
    feature = c.mask_feature_prob > 0 and c.mask_feature_length > c.hidden_size
    return time or feature


def _weighted_sum_layerdrop(s: Scenario) -> bool:
    return (TRANSFORMERS_5 and s.modality == "audio" and s.train and _cfg(s, "layerdrop") > 0
            and bool(_cfg(s, "use_weighted_layer_sum")) and s.head != "Model" and s.head != "ForCTC"
            and not _spec_augment_too_short(s))


def _ctc_out_of_vocab(s: Scenario) -> bool:
    return s.head == "ForCTC" and s.labels == "out-of-vocab"


def _positions_beyond_table(s: Scenario) -> bool:
    return (s.modality == "text" and s.inputs.get("position_ids") is not None
            and _size(s, "seq_len") + int(_cfg(s, "pad_token_id") or 0) + 1 > _cfg(s, "max_position_embeddings"))


CAUSES: tuple[Cause, ...] = (
    # -- false violations (and the expected_shapes answers of the same defects) --------------------------------
    Cause("text-4d-attention-mask", ("false violation",),
          "a 4-D attention mask (B, 1, N, N), boolean or additive float, is rejected: the contract only takes (B, N)",
          "modeling_data2vec_text.py: create_causal_mask / create_bidirectional_mask take 4-D masks as they are",
          'contracts/text.py _INPUTS["attention_mask"] = Shaped[Tensor, "B N"]', _four_d_mask, versions=(5,)),
    Cause("text-cache-attention-mask", ("false violation",),
          "with a cache of P tokens the attention mask covers P+N positions, the contract binds it to N",
          "modeling_data2vec_text.py: create_causal_mask(..., attention_mask=attention_mask, cache=cache)",
          'contracts/text.py _INPUTS["attention_mask"] = Shaped[Tensor, "B N"]', _cache_mask),
    Cause("text-cache-attention-maps", ("false violation",),
          "with a cache of P tokens eager attention maps are (B, heads, N, P+N), the contract says (B, heads, N, N)",
          "modeling_data2vec_text.py: key_layer, value_layer = current_cache.update(key_layer, value_layer, ...)",
          'contracts/text.py _ATTN = Float[Tensor, "B heads N N"]', _cache_maps, phase="output"),
    Cause("vision-segmentation-same-grid", ("false violation", "expected_shapes"),
          "segmentation at a size that floors to the image_size patch grid (35x39 with image 32, patch 8) runs "
          "exactly like image_size, but only H == W == image_size is accepted",
          "modeling_data2vec_vision.py: patch_resolution = self.config.image_size // self.config.patch_size",
          "contracts/vision.py _seg_constraints: H == W == config.image_size", _seg_same_grid),
    Cause("vision-segmentation-other-grid", ("false violation", "expected_shapes"),
          "segmentation at a size whose patch count equals image_size's (16x64 -> 2x8 patches, reshaped to 4x4) "
          "runs in transformers (scrambled layout); our contract rejects it on purpose (README: segmentation only at "
          "image_size) - a deliberate rejection of a silent bug, counted here because transformers accepts the call",
          "modeling_data2vec_vision.py: x[:, 1:, :].permute(0, 2, 1).reshape(batch_size, -1, patch_resolution, "
          "patch_resolution)",
          "contracts/vision.py _seg_constraints", _seg_other_grid),
    Cause("vision-patch-size-pair", ("false violation", "expected_shapes"),
          "a pair patch_size (8, 4) makes (H//8)*(W//4) patches; the contract uses patch_size[0] on both axes",
          "modeling_data2vec_vision.py: patch_size = patch_size if isinstance(patch_size, collections.abc.Iterable) "
          "else (patch_size, patch_size)",
          "contracts/_lengths.py patch_size() returns p[0]; vision.py _rules h = H // p, w = W // p", _patch_pair,
          phase="output"),
    Cause("vision-bool-masked-pos-dtype", ("false violation",),
          "bool_masked_pos as a long 0/1 tensor is used through type_as; the contract requires bool",
          "modeling_data2vec_vision.py: w = bool_masked_pos.unsqueeze(-1).type_as(mask_tokens)",
          'contracts/vision.py "bool_masked_pos": Bool[Tensor, "B h*w"]', _bool_masked_long),
    Cause("zero-layers-hidden-states-5x", ("false violation", "expected_shapes"),
          "with num_hidden_layers=0, transformers 5.x returns hidden_states=() (no layer hook fires); the contract "
          "expects L+1 = 1 state (4.x returns 1; vision returns 1 in both)",
          "utils/output_capturing.py: hidden states are collected by hooks on the layers (_can_record_outputs)",
          "contracts/_common.py hidden_states(): length n = num_hidden_layers + 1", _zero_layers, versions=(5,),
          phase="output"),
    Cause("text-qa-one-position", ("false violation",),
          "QuestionAnswering with only start_positions (or only end_positions) computes no loss; the contract "
          "expects a loss when either is given (and a longer return_dict=False tuple)",
          "modeling_data2vec_text.py: if start_positions is not None and end_positions is not None:",
          'contracts/text.py _qa: loss(call, "start_positions", "end_positions") (any, not both)', _qa_one_position,
          phase="output"),
    Cause("audio-labels-b1", ("false violation",),
          "audio SequenceClassification / XVector labels of shape (B, 1) are flattened by the model (labels.view(-1), "
          "labels.flatten()); the contract requires (B,)",
          "modeling_data2vec_audio.py: loss = loss_fct(logits.view(-1, self.config.num_labels), labels.view(-1)); "
          "AMSoftmaxLoss: labels = labels.flatten()",
          'contracts/audio.py "labels": Int[Tensor, " B"]', _audio_labels_b1),
    Cause("text-position-ids-1d", ("false violation",),
          "1-D position_ids (N,) broadcast over the batch (with token_type_ids given); the contract requires (B, N) "
          "or (1, N)",
          "modeling_data2vec_text.py: position_embeddings = self.position_embeddings(position_ids)",
          'contracts/text.py "position_ids": Int[Tensor, "#B N"]', _flat_position_ids),
    Cause("audio-ctc-loss-reduction-none", ("false violation", "expected_shapes"),
          'ctc_loss_reduction="none" gives a (B,) loss; the contract says a scalar',
          "modeling_data2vec_audio.py: reduction=self.config.ctc_loss_reduction",
          'contracts/_common.py loss(): Float[Tensor, ""]', _ctc_none, phase="output"),
    Cause("text-left-padding-beyond-table", ("false violation", "expected_shapes"),
          "a left-padded batch longer than the position table is valid when the real tokens fit: pads keep the "
          "padding position; the contract limits N itself (expected_shapes cannot say it either, and its message "
          "names 'argument inputs_embeds')",
          "modeling_data2vec_text.py: incremental_indices = (torch.cumsum(mask, dim=1).type_as(mask) + "
          "cache_length) * mask",
          "contracts/text.py _constraints: N <= max_position_embeddings - pad_token_id - 1",
          _left_padding_beyond_table),
    Cause("text-relative-positions-4x", ("false violation", "expected_shapes"),
          "transformers 4.x with position_embedding_type relative_key / relative_key_query reads no absolute "
          "position table: N up to max_position_embeddings is valid, the contract still limits N to "
          "max_position_embeddings - pad_token_id - 1",
          'modeling_data2vec_text.py (4.57): if self.position_embedding_type == "absolute": position_embeddings = '
          "self.position_embeddings(position_ids)",
          "contracts/text.py _constraints ignores position_embedding_type", _relative_positions_beyond_table,
          versions=(4,)),
    Cause("text-cache-passed-through-4x", ("false violation",),
          "transformers 4.x returns the cache it was given (past_key_values=DynamicCache(), as generate() passes it) "
          "also when the model does not use one (is_decoder=False); the contract expects None",
          "modeling_data2vec_text.py (4.57) Data2VecTextEncoder.forward: return "
          "BaseModelOutputWithPastAndCrossAttentions(..., past_key_values=past_key_values, ...) whatever use_cache",
          'contracts/text.py _cache(): Out(NONE, why="config.is_decoder is False or use_cache is off")',
          _cache_passed_through, versions=(4,), phase="output"),
    Cause("pruned-heads-4x", ("false violation", "expected_shapes"),
          "transformers 4.x prunes config.pruned_heads at construction (and model.prune_heads() later): those "
          "layers' attention maps have fewer heads; the contract binds heads to num_attention_heads for every layer",
          "modeling_utils.py (4.57): if self.config.pruned_heads: self.prune_heads(self.config.pruned_heads)",
          'contracts/text.py _ATTN = Float[Tensor, "B heads N N"], vision.py "B heads Nv Nv"', _pruned_heads,
          versions=(4,), phase="output"),
    Cause("audio-adapter-constraint-under-layerdrop", ("false violation",),
          "in training, layerdrop also drops adapter layers (at random; all of them at layerdrop=1.0), so a clip "
          "shorter than the adapter's minimum is valid; the contract requires T >= the adapter minimum anyway",
          "modeling_data2vec_audio.py Data2VecAudioAdapter.forward: if not self.training or (layerdrop_prob > "
          "self.layerdrop): hidden_states = layer(hidden_states)",
          "contracts/audio.py _constraints: T >= adapter_min_frames(config) whatever the mode", _adapter_skipped),
    # -- invalid calls where transformers' own error comes first ----------------------------------------------
    Cause("classification-labels-vs-problem-type", ("not first",),
          "text sequence / vision image classification labels that do not fit problem_type and num_labels ((B,) "
          "ids for multi-label, (B,) floats for regression with K > 1, any labels with num_labels=0): the loss raises "
          "(ValueError Target size / RuntimeError); the contract accepts any (B, ...) labels",
          "modeling_data2vec_text.py: elif self.config.problem_type == \"multi_label_classification\": loss_fct = "
          "BCEWithLogitsLoss(); loss = loss_fct(logits, labels)",
          'contracts/text.py "labels": Shaped[Tensor, "B ..."], vision.py likewise', _classification_labels_mismatch),
    Cause("text-cross-attentions-without-encoder-states-4x", ("not first",),
          "transformers 4.x: a decoder with cross-attention layers asked for attentions but given no "
          "encoder_hidden_states raises IndexError: tuple index out of range (a transformers bug)",
          "modeling_data2vec_text.py (4.57) Data2VecTextEncoder.forward: all_cross_attentions = "
          "all_cross_attentions + (layer_outputs[2],)",
          "no contract rule", _cross_attentions_without_encoder_4x, versions=(4,),
          in_prefill=lambda s: bool(s.inputs.get("prefill")) and bool(_cfg(s, "output_attentions"))),
    Cause("text-cross-attention-with-a-self-attention-cache-5x", ("not first",),
          "transformers 5.x: a cache made by a call without encoder states is a DynamicCache; a cached step with "
          "encoder_hidden_states then fails (AttributeError: 'DynamicCache' object has no attribute 'is_updated')",
          "modeling_data2vec_text.py Data2VecTextCrossAttention.forward: is_updated = "
          "cache.is_updated.get(self.layer_idx) if cache is not None else False",
          "no contract rule on the cache type", _cross_attention_with_self_cache, versions=(5,)),
    Cause("audio-mask-time-indices-without-embed", ("not first",),
          "mask_time_indices with mask_time_prob == mask_feature_prob == 0: the model has no masked_spec_embed and "
          "raises AttributeError",
          "modeling_data2vec_audio.py: if config.mask_time_prob > 0.0 or config.mask_feature_prob > 0.0: "
          "self.masked_spec_embed = ...",
          "contracts/audio.py checks only the (B, T) shape of mask_time_indices", _masked_spec_embed_missing),
    Cause("vision-bool-masked-pos-without-mask-token", ("not first",),
          "bool_masked_pos with use_mask_token=False: AttributeError ('NoneType' object has no attribute 'expand')",
          "modeling_data2vec_vision.py: mask_tokens = self.mask_token.expand(batch_size, seq_len, -1)",
          "contracts/vision.py checks only the shape of bool_masked_pos", _mask_token_missing),
    Cause("audio-heads-config-return-dict-false-5x", ("not first",),
          "transformers 5.x audio heads with config.return_dict=False fail: the inner model returns a tuple and the "
          "head reads .last_hidden_state (a transformers bug; a contract could reject the config)",
          "modeling_data2vec_audio.py: hidden_states = outputs.last_hidden_state",
          "no contract rule", _audio_head_config_tuple, versions=(5,)),
    Cause("text-token-type-ids-overflow", ("not first",),
          "token_type_ids >= type_vocab_size: IndexError from the embedding",
          "modeling_data2vec_text.py: token_type_embeddings = self.token_type_embeddings(token_type_ids)",
          "contracts/text.py checks the shape of token_type_ids, not its values", _type_vocab_overflow),
    Cause("vision-segmentation-out-indices", ("not first",),
          "out_indices that do not select 4 distinct hidden states (duplicates) fail in the decode head with a conv "
          "channel RuntimeError",
          "modeling_data2vec_vision.py: features = [feature for idx, feature in enumerate(encoder_hidden_states) if "
          "idx + 1 in self.config.out_indices]",
          "no contract rule", _bad_out_indices),
    Cause("empty-batch", ("not first",),
          "B = 0: the attention reshape (view(*input_shape, -1, head_dim)) fails on 0 elements",
          "modeling_data2vec_text.py: query_layer = self.query(hidden_states).view(*hidden_shape).transpose(1, 2)",
          "no contract rule (B is any size)", _batch_zero),
    Cause("int32-labels", ("not first",),
          "int32 class labels where the loss needs int64 (cross-entropy, one_hot): the loss raises a RuntimeError; "
          "the contracts accept any Int",
          "torch.nn.functional.cross_entropy: expected target dtype to be Long or Byte",
          'contracts/*.py "labels": Int[Tensor, ...]', _int32_labels),
    Cause("vision-image-size-pair-absolute-positions", ("not first",),
          "a non-square image_size pair with absolute position embeddings fails in interpolate_pos_encoding (it "
          "reshapes to sqrt(num_positions) squared)",
          "modeling_data2vec_vision.py: patch_pos_embed = patch_pos_embed.reshape(1, sqrt_num_positions, "
          "sqrt_num_positions, dim)",
          "no contract rule", _image_pair_abs),
    Cause("vision-patch-size-pair-unsupported", ("not first",),
          "a patch_size pair with relative position bias or segmentation: TypeError (int // tuple)",
          "modeling_data2vec_vision.py: window_size = (height // self.config.patch_size, width // "
          "self.config.patch_size)",
          "no contract rule", _patch_pair_unsupported),
    Cause("text-logits-to-keep-with-labels-5x", ("not first",),
          "ForCausalLM with logits_to_keep and labels: the loss compares (B, keep) logits with (B, N) labels and "
          "raises ValueError",
          "modeling_data2vec_text.py: hidden_states = slice_logits_to_keep(hidden_states, logits_to_keep); loss = "
          "self.loss_function(logits=logits, labels=labels, ...)",
          "contracts/text.py _causal_rules binds keep, but no constraint ties it to labels", _keep_with_labels,
          versions=(5,)),
    Cause("text-logits-to-keep-index-out-of-range-5x", ("not first",),
          "ForCausalLM with a logits_to_keep index tensor beyond N: IndexError",
          "modeling_utils.py: slice_logits_to_keep", "no contract rule", _keep_index_out_of_range, versions=(5,)),
    Cause("audio-spec-augment-too-short", ("not first",),
          "training with SpecAugment (mask_time_prob > 0, default 0.05) needs mask_time_length <= T (default 10: "
          "short clips fail) and mask_feature_length <= hidden_size; _compute_mask_indices raises ValueError",
          "modeling_data2vec_audio.py: `mask_length` has to be smaller than `sequence_length`",
          "contracts/audio.py _constraints has no training-mode rule", _spec_augment_too_short),
    Cause("audio-weighted-sum-layerdrop-5x", ("not first",),
          "transformers 5.x: use_weighted_layer_sum with layerdrop in training stacks fewer than L+1 states and the "
          "L+1 layer weights do not broadcast (RuntimeError; a transformers bug)",
          "modeling_data2vec_audio.py: hidden_states = (hidden_states * norm_weights.view(-1, 1, 1)).sum(dim=1)",
          "no contract rule", _weighted_sum_layerdrop, versions=(5,)),
    Cause("audio-ctc-labels-out-of-vocab", ("not first",),
          "CTC labels >= vocab_size: transformers' own ValueError comes first",
          "modeling_data2vec_audio.py: if labels is not None and labels.max() >= self.config.vocab_size:",
          "no contract rule on label values", _ctc_out_of_vocab),
    Cause("text-position-ids-beyond-table", ("not first",),
          "explicit position_ids beyond max_position_embeddings: IndexError; the N constraint is skipped whenever "
          "position_ids are given, and their values are not checked",
          "modeling_data2vec_text.py: position_embeddings = self.position_embeddings(position_ids)",
          "contracts/text.py _constraints: if call.given('position_ids'): return []", _positions_beyond_table),
)


# -- invalid calls our checker already rejects first (correctly) ---------------------------------------------------
def _xvector_frames(s: Scenario) -> int:
    c = _config(s)
    t = _frames(s)
    if c.add_adapter and not c.use_weighted_layer_sum:
        for _ in range(c.num_adapter_layers):
            t = (t + 2 - c.adapter_kernel_size) // c.adapter_stride + 1
    return t - sum(d * (k - 1) for k, d in zip(c.tdnn_kernel, c.tdnn_dilation))


def _receptive_field(s: Scenario) -> int:
    c = _config(s)
    r, jump = c.conv_kernel[0], c.conv_stride[0]
    for k, st in zip(c.conv_kernel[1:], c.conv_stride[1:]):
        r += (k - 1) * jump
        jump *= st
    return int(r)


def _handled(s: Scenario) -> bool:
    """Invalid calls that our input checks reject before the model runs (the oracle found them right)."""
    if s.modality == "text":
        return (
            (TRANSFORMERS_5 and s.inputs.get("position_ids") == "flat" and "token_type_ids" not in s.inputs)
            or (_n_beyond_table(s) and not _left_padding_beyond_table(s) and not _relative_positions_beyond_table(s))
            or (s.head == "ForQuestionAnswering" and _cfg(s, "num_labels") != 2)
            or (not TRANSFORMERS_5 and _four_d_mask(s))  # 4.x: ValueError "Wrong shape for input_ids"
        )
    if s.modality == "audio":
        if _size(s, "samples") < _receptive_field(s):
            return True
        c = _config(s)
        # in training, layerdrop also skips adapter layers at random: the frames after the adapter are not fixed,
        # and our contract leaves Ta (so its Tx >= 2 constraint) unbound there
        random_adapter = s.train and c.layerdrop > 0 and c.add_adapter and not c.use_weighted_layer_sum
        if s.head == "ForXVector" and not random_adapter and _xvector_frames(s) < 2:
            return True
        return "input_dtype" in s.inputs or s.labels == "frame-ids"
    p = _cfg(s, "patch_size")
    ph, pw = (p, p) if isinstance(p, int) else p
    if _size(s, "height") < ph or _size(s, "width") < pw:
        return True
    return s.head == "ForSemanticSegmentation" and _cfg(s, "num_labels") == 1 and s.labels is not None


def _input_rejected(s: Scenario) -> bool:
    """Our checker raises before the model runs, rightly or wrongly."""
    return _handled(s) or any(c.phase == "input" and "false violation" in c.kinds and _MAJOR in c.versions
                              and c.raw(s) for c in CAUSES)


def _invalid(s: Scenario) -> bool:
    """transformers raises: a not-first cause, or an invalid call our checker rejects first."""
    return _handled(s) or any("not first" in c.kinds and _MAJOR in c.versions and c.raw(s) for c in CAUSES)


def causes_for(s: Scenario) -> list[Cause]:
    """The known causes that apply to a scenario on the installed transformers."""
    return [c for c in CAUSES if c.applies(s)]


@dataclass(frozen=True)
class WorkflowCause:
    """A defect only a multi-call workflow shows (tests/oracle/test_workflows.py), not a single scenario."""

    id: str
    summary: str
    source: str
    ours: str
    versions: tuple[int, ...] = (4, 5)

    @property
    def reason(self) -> str:
        return f"[{self.id}] {self.summary} (transformers: {self.source}; ours: {self.ours})"


WORKFLOW_CAUSES: dict[str, WorkflowCause] = {c.id: c for c in (
    WorkflowCause(
        "gradient-checkpointing-turns-the-cache-off",
        "a decoder (is_decoder=True, use_cache=True) in training with gradient checkpointing returns no cache: "
        "transformers switches use_cache off; the contract expects a cache object",
        "5.x utils/generic.py merge_with_config_defaults: if getattr(self, 'gradient_checkpointing', False) and "
        "self.training and torch.is_grad_enabled() and arg_value: ... arg_value = False; 4.57 "
        "modeling_data2vec_text.py Data2VecTextEncoder.forward: if self.gradient_checkpointing and self.training: "
        "if use_cache: ... use_cache = False",
        'contracts/text.py _cache(): Out(OBJECT, why="is_decoder with use_cache")'),
)}
