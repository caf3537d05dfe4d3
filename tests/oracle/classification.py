"""What each config field and forward argument of the Data2Vec models does to the outputs, read from the modeling code.

Every name :mod:`tests.oracle.introspect` finds in the installed transformers (4.x or 5.x) has an entry here;
``tests/oracle/test_classification.py`` fails for a name without one, so a new transformers release that adds a
field or an argument is caught. Each entry says what kind of effect the name has (:class:`Effect`), why, and where
the modeling source shows it: ``cite`` holds ``(file, snippet)`` pairs, and at least one snippet must occur
verbatim (whitespace aside) in the installed version. An entry of kind ``NONE`` without a cite claims that the
Data2Vec modeling sources never read the name; that claim is checked too.

The scenarios of :mod:`tests.oracle.scenarios` are derived from the entries that are not ``NONE``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = [
    "BASE_CONFIG",
    "CONFIG",
    "FORWARD",
    "INIT",
    "Cite",
    "Effect",
    "Entry",
    "config_entry",
    "forward_entry",
]


class Effect(enum.Enum):
    """The kinds of effect a config field or an argument can have on a forward call."""

    SHAPE = "changes an output shape"
    DTYPE = "changes an output dtype"
    PRESENCE = "changes whether an output field is present"
    TUPLE_LENGTH = "changes the length of a tuple output"
    VALIDITY = "restricts which inputs are valid"
    NONE = "no effect on any shape"


SHAPE, DTYPE, PRESENCE, TUPLE_LENGTH, VALIDITY, NONE = (
    Effect.SHAPE, Effect.DTYPE, Effect.PRESENCE, Effect.TUPLE_LENGTH, Effect.VALIDITY, Effect.NONE,
)

#: (file: ``modeling_data2vec_*.py`` / ``configuration_data2vec_*.py`` under ``models/data2vec/``, any other path
#: under the transformers package; snippet)
Cite = tuple[str, str]

_T, _A, _V = "modeling_data2vec_text.py", "modeling_data2vec_audio.py", "modeling_data2vec_vision.py"
_CFG_A = "configuration_data2vec_audio.py"
_GEN = "utils/generic.py"
_CAP = "utils/output_capturing.py"
_MU = "modeling_utils.py"
_CU = "configuration_utils.py"


@dataclass(frozen=True)
class Entry:
    """The effect of one name: its kinds (``NONE`` alone, or one or more of the others), a one-line reason, and the
    lines of the modeling source that show it (any one of them must exist in the installed version)."""

    effects: tuple[Effect, ...]
    reason: str
    cite: tuple[Cite, ...] = ()

    def __post_init__(self) -> None:
        if not self.effects or (NONE in self.effects and len(self.effects) > 1):
            raise ValueError(f"an entry is NONE alone or has other effects, got {self.effects}")

    @property
    def is_none(self) -> bool:
        return self.effects == (NONE,)


def _e(*effects: Effect, why: str, cite: tuple[Cite, ...] | Cite = ()) -> Entry:
    cites = (cite,) if cite and isinstance(cite[0], str) else cite
    return Entry(tuple(effects), why, tuple(cites))  # type: ignore[arg-type]


def _none(why: str, cite: tuple[Cite, ...] | Cite = ()) -> Entry:
    return _e(NONE, why=why, cite=cite)


_GENERATION = "a generation setting: read by generate(), never by forward"
_UNREAD = "not read by the Data2Vec modeling code"
_DROPOUT = "dropout probability: values change in training, shapes never"
_INIT = "weight initialisation only"

# -- inherited PretrainedConfig attributes (all modalities; a modality table overrides) -------------------------
BASE_CONFIG: dict[str, Entry] = {
    "output_hidden_states": _e(
        PRESENCE, TUPLE_LENGTH, why="hidden_states present with L+1 states (5.x: an int or list selects slots)",
        cite=((_CAP, 'getattr(self.config, f"output_{k}", False)'),
              (_V, "output_hidden_states if output_hidden_states is not None else self.config.output_hidden_states"))),
    "output_attentions": _e(
        PRESENCE, TUPLE_LENGTH, why="attentions present: L maps with eager, () or L Nones with sdpa",
        cite=((_CAP, 'getattr(self.config, f"output_{k}", False)'),
              (_V, "output_attentions if output_attentions is not None else self.config.output_attentions"))),
    "return_dict": _e(
        PRESENCE, TUPLE_LENGTH, why="False returns a tuple of the non-None fields instead of a ModelOutput",
        cite=((_GEN, "return_dict = self.config.return_dict if hasattr(self, \"config\") else True"),
              (_T, "return_dict = return_dict if return_dict is not None else self.config.use_return_dict"))),
    "use_return_dict": _e(
        PRESENCE, TUPLE_LENGTH, why="the property the 4.x forwards read for return_dict",
        cite=((_T, "self.config.use_return_dict"), (_CU, "def use_return_dict(self)"))),
    "_attn_implementation": _e(
        PRESENCE, TUPLE_LENGTH, why="eager returns attention maps; sdpa returns () (5.x) or Nones instead",
        cite=((_T, "self.config._attn_implementation, eager_attention_forward"),
              (_V, "DATA2VEC_VISION_SELF_ATTENTION_CLASSES[config._attn_implementation]"))),
    "_experts_implementation": _none("mixture-of-experts kernels; Data2Vec has no experts"),
    "num_labels": _e(SHAPE, why="K, the classifier width of every classification head",
                     cite=((_T, "self.out_proj = nn.Linear(config.hidden_size, config.num_labels)"),)),
    "id2label": _e(SHAPE, why="num_labels is len(id2label)",
                   cite=((_CU, "return len(self.id2label) if self.id2label is not None else None"),
                         (_CU, "return len(self.id2label)"))),
    "label2id": _none("the inverse label map: names only"),
    "problem_type": _e(
        DTYPE, VALIDITY, why="selects MSE / cross-entropy / BCE: the labels' dtype and shape that are valid",
        cite=((_T, 'if self.config.problem_type == "regression":'),)),
    "chunk_size_feed_forward": _none(
        "the feed-forward runs in chunks along the sequence and is concatenated back: same shapes",
        cite=((_T, "self.feed_forward_chunk, self.chunk_size_feed_forward, self.seq_len_dim, attention_output"),)),
    "is_encoder_decoder": _none(
        "5.x text: picks EncoderDecoderCache over DynamicCache for the same cache field; 4.x: not read by forward",
        cite=((_T, "if encoder_hidden_states is not None or self.config.is_encoder_decoder"),
              (_CU, "self.is_encoder_decoder = is_encoder_decoder"))),
    "dtype": _none("applied by from_pretrained(dtype=...) only; a model built from the config keeps float32 weights"),
    "torch_dtype": _none("deprecated alias of dtype", cite=((_CU, "def torch_dtype(self)"),)),
    "transformers_version": _none("bookkeeping of save_pretrained"),
    "architectures": _none("bookkeeping of save_pretrained"),
    "name_or_path": _none("bookkeeping of from_pretrained"),
    "_name_or_path": _none("bookkeeping of from_pretrained"),
    "_commit_hash": _none("bookkeeping of from_pretrained (4.x)"),
    "_post_init_done": _none("bookkeeping of the 5.x config dataclass"),
    "is_causal": _none(
        "5.x: a causal mask instead of a bidirectional one for the same shapes",
        cite=((_GEN, 'getattr(self.config, "is_causal", None)'),)),
    "output_cross_attentions": _none(
        "5.x: overridden by output_attentions for cross-attention capture (backward compatibility)",
        cite=((_CAP, 'recordable_keys["output_cross_attentions"] = kwargs.get('),)),
    "tie_last_hidden_states": _none(
        "5.x: whether hidden_states[-1] is last_hidden_state; a value, not a shape",
        cite=((_CAP, "tie_last_hidden_states"),)),
    # 5.x per-layer configuration (HeterogeneousConfigMixin) and sub-configs
    "allow_global_per_layer_attribute_access": _none(_UNREAD),
    "is_heterogeneous": _none(_UNREAD),
    "per_layer_attributes": _none(_UNREAD),
    "per_layer_config": _none(_UNREAD),
    "serialize_explicit_per_layer_config": _none(_UNREAD),
    "sub_configs": _none("Data2Vec configs have no sub-configs"),
    "rope_scaling": _none("rotary embeddings; Data2Vec has none"),
    # 4.x PretrainedConfig attributes
    "is_decoder": _none("audio and vision have no decoder"),
    "add_cross_attention": _none("audio and vision have no cross-attention"),
    "cross_attention_hidden_size": _none("read by encoder-decoder wrappers only"),
    "tie_word_embeddings": _none("ties the LM head to the input embeddings: shared weights, same shapes"),
    "tie_encoder_decoder": _none("encoder-decoder wrappers only"),
    "pruned_heads": _e(
        SHAPE, why="4.x prunes these heads at construction: attention maps of those layers have fewer heads",
        cite=((_MU, "if self.config.pruned_heads:"),)),
    "torchscript": _none("4.x: clones tied weights for TorchScript; shapes unchanged"),
    "use_bfloat16": _none("legacy TF/Flax flag"),
    "tf_legacy_loss": _none("TF only"),
    "finetuning_task": _none("bookkeeping"),
    "task_specific_params": _none("pipelines only"),
    "prefix": _none("tokenizer prompt prefix; pipelines only"),
    "tokenizer_class": _none("bookkeeping"),
    "bos_token_id": _none("generation / tokenizer setting"),
    "eos_token_id": _none("generation / tokenizer setting"),
    "sep_token_id": _none("tokenizer setting"),
    "pad_token_id": _none("vision reads no padding id"),
    "decoder_start_token_id": _none(_GENERATION),
    **{name: _none(_GENERATION) for name in (
        "bad_words_ids", "begin_suppress_tokens", "diversity_penalty", "do_sample", "early_stopping",
        "encoder_no_repeat_ngram_size", "exponential_decay_length_penalty", "forced_bos_token_id",
        "forced_eos_token_id", "length_penalty", "max_length", "min_length", "no_repeat_ngram_size",
        "num_beam_groups", "num_beams", "num_return_sequences", "output_scores", "remove_invalid_values",
        "repetition_penalty", "return_dict_in_generate", "suppress_tokens", "temperature", "top_k", "top_p",
        "typical_p",
    )},
}

_COMMON_OWN: dict[str, Entry] = {
    "hidden_size": _e(SHAPE, VALIDITY, why="D of every state; must be a multiple of num_attention_heads",
                      cite=((_T, "if config.hidden_size % config.num_attention_heads != 0"),
                            (_A, "embed_dim must be divisible by num_heads"))),
    "num_hidden_layers": _e(TUPLE_LENGTH, why="L: hidden_states has L+1 entries, attentions L",
                            cite=((_T, "for i in range(config.num_hidden_layers)"),
                                  (_A, "for _ in range(config.num_hidden_layers)"))),
    "num_attention_heads": _e(SHAPE, why="the heads axis of every attention map",
                              cite=((_T, "self.num_attention_heads = config.num_attention_heads"),
                                    (_A, "num_heads=config.num_attention_heads"))),
    "intermediate_size": _none("the feed-forward width inside a layer; the layer returns D",
                               cite=((_T, "nn.Linear(config.intermediate_size, config.hidden_size)"),
                                     (_A, "nn.Linear(config.intermediate_size, config.hidden_size)"))),
    "hidden_act": _none("an element-wise activation", cite=((_T, "ACT2FN[config.hidden_act]"),)),
    "initializer_range": _none(_INIT, cite=((_T, "class Data2VecTextPreTrainedModel(PreTrainedModel):"),
                                            (_A, "std=self.config.initializer_range"),
                                            (_T, "std=self.config.initializer_range"))),
    "layer_norm_eps": _none("LayerNorm epsilon", cite=((_T, "eps=config.layer_norm_eps"),)),
}

CONFIG: dict[str, dict[str, Entry]] = {
    "text": {
        **_COMMON_OWN,
        "vocab_size": _e(SHAPE, VALIDITY, why="V of the LM logits; ids must be < V",
                         cite=((_T, "self.decoder = nn.Linear(config.hidden_size, config.vocab_size)"),)),
        "hidden_dropout_prob": _none(_DROPOUT, cite=((_T, "self.dropout = nn.Dropout(config.hidden_dropout_prob)"),)),
        "attention_probs_dropout_prob": _none(
            _DROPOUT, cite=((_T, "self.dropout = nn.Dropout(config.attention_probs_dropout_prob)"),)),
        "classifier_dropout": _none(_DROPOUT, cite=((_T, "self.dropout = nn.Dropout(classifier_dropout)"),)),
        "max_position_embeddings": _e(
            VALIDITY, why="positions index a table of this size (positions start at pad_token_id + 1)",
            cite=((_T, "config.max_position_embeddings, config.hidden_size, padding_idx=self.padding_idx"),)),
        "type_vocab_size": _e(VALIDITY, why="token_type_ids index a table of this size",
                              cite=((_T, "nn.Embedding(config.type_vocab_size, config.hidden_size)"),)),
        "pad_token_id": _e(
            VALIDITY, why="positions start at pad_token_id + 1 and padding ids keep the padding position",
            cite=((_T, "incremental_indices = (torch.cumsum(mask, dim=1).type_as(mask) + cache_length) * mask"),
                  (_T, "incremental_indices = (torch.cumsum(mask, dim=1).type_as(mask) + past_key_values_length) "
                       "* mask"))),
        "is_decoder": _e(PRESENCE, why="a causal mask and a cache field (with use_cache)",
                         cite=((_T, "if self.config.is_decoder:"),)),
        "add_cross_attention": _e(
            PRESENCE, VALIDITY, why="cross-attention layers (cross_attentions output); needs is_decoder",
            cite=((_T, "should be used as a decoder model if cross attention is added"),)),
        "use_cache": _e(PRESENCE, why="the decoder returns a cache",
                        cite=((_T, "use_cache = use_cache if use_cache is not None else self.config.use_cache"),)),
        "position_embedding_type": _e(
            VALIDITY, why="4.x: relative_key(_query) replaces the absolute position table by a distance table",
            cite=((_T, 'if self.position_embedding_type == "absolute":'),)),
    },
    "audio": {
        **_COMMON_OWN,
        "vocab_size": _e(SHAPE, VALIDITY, why="V of the CTC logits; CTC labels must be < V",
                         cite=((_A, "self.lm_head = nn.Linear(output_hidden_size, config.vocab_size)"),
                               (_A, "Label values must be <= vocab_size"))),
        "hidden_dropout": _none(_DROPOUT, cite=((_A, "self.dropout = nn.Dropout(config.hidden_dropout)"),)),
        "activation_dropout": _none(_DROPOUT, cite=((_A, "nn.Dropout(config.activation_dropout)"),)),
        "attention_dropout": _none(_DROPOUT, cite=((_A, "dropout=config.attention_dropout"),)),
        "feat_proj_dropout": _none(_DROPOUT, cite=((_A, "nn.Dropout(config.feat_proj_dropout)"),)),
        "final_dropout": _none(_DROPOUT, cite=((_A, "nn.Dropout(config.final_dropout)"),)),
        "layerdrop": _e(
            TUPLE_LENGTH, why="in training, skipped layers leave hidden_states / attentions slots out (5.x) or None",
            cite=((_A, "skip_the_layer = dropout_probability < self.config.layerdrop"),
                  (_A, "skip_the_layer = self.training and dropout_probability < self.config.layerdrop"))),
        "feat_extract_activation": _none("an element-wise activation",
                                         cite=((_A, "ACT2FN[config.feat_extract_activation]"),)),
        "conv_dim": _e(SHAPE, why="F = conv_dim[-1] (extract_features) and the number of conv layers",
                       cite=((_A, "self.out_conv_dim = config.conv_dim[layer_id]"),)),
        "conv_stride": _e(SHAPE, why="T, the frames of the conv stack",
                          cite=((_A, "stride=config.conv_stride[layer_id]"),)),
        "conv_kernel": _e(SHAPE, VALIDITY, why="T, and the receptive field the input must reach",
                          cite=((_A, "kernel_size=config.conv_kernel[layer_id]"),)),
        "conv_bias": _none("a bias in the conv layers", cite=((_A, "bias=config.conv_bias"),)),
        "num_feat_extract_layers": _e(SHAPE, why="len(conv_dim): how many conv layers make the frames",
                                      cite=((_A, "for i in range(config.num_feat_extract_layers)"),)),
        "num_conv_pos_embedding_groups": _e(
            VALIDITY, why="groups of the positional conv: must divide hidden_size (construction)",
            cite=((_A, "groups=config.num_conv_pos_embedding_groups"),)),
        "conv_pos_kernel_size": _none(
            "positional conv padded to keep T (an even kernel drops the extra frame)",
            cite=((_A, "padding=config.conv_pos_kernel_size // 2"),)),
        "num_conv_pos_embeddings": _none(
            "5.x: how many positional conv layers; 4.x: their kernel, padded to keep T",
            cite=((_A, "for _ in range(config.num_conv_pos_embeddings)"),
                  (_A, "kernel_size=config.num_conv_pos_embeddings"))),
        "mask_time_prob": _e(
            VALIDITY, why="SpecAugment in training (needs mask_time_length <= T); > 0 creates masked_spec_embed, "
            "which mask_time_indices needs",
            cite=((_A, "if config.mask_time_prob > 0.0 or config.mask_feature_prob > 0.0:"),)),
        "mask_time_length": _e(VALIDITY, why="training with mask_time_prob > 0 raises when it exceeds T",
                               cite=((_A, "`mask_length` has to be smaller than `sequence_length`"),)),
        "mask_time_min_masks": _none("a count of masked spans, clamped to what fits",
                                     cite=((_A, "min_masks=self.config.mask_time_min_masks"),)),
        "mask_feature_prob": _e(VALIDITY, why="SpecAugment along D in training (needs mask_feature_length <= D)",
                                cite=((_A, "if self.config.mask_feature_prob > 0 and self.training:"),)),
        "mask_feature_length": _e(VALIDITY, why="training with mask_feature_prob > 0 raises when it exceeds D",
                                  cite=((_A, "mask_length=self.config.mask_feature_length"),)),
        "mask_feature_min_masks": _none("a count of masked spans, clamped to what fits",
                                        cite=((_A, "min_masks=self.config.mask_feature_min_masks"),)),
        "apply_spec_augment": _none("read with getattr (not a Data2Vec field): SpecAugment on or off, same shapes",
                                    cite=((_A, 'getattr(self.config, "apply_spec_augment", True)'),)),
        "proj_codevector_dim": _none("named in a docstring only", cite=((_A, "config.proj_codevector_dim* space"),)),
        "ctc_loss_reduction": _e(SHAPE, why='"none" gives a (B,) CTC loss instead of a scalar',
                                 cite=((_A, "reduction=self.config.ctc_loss_reduction"),)),
        "ctc_zero_infinity": _none("zeroes infinite CTC losses",
                                   cite=((_A, "zero_infinity=self.config.ctc_zero_infinity"),)),
        "use_weighted_layer_sum": _e(
            PRESENCE, SHAPE,
            why="the heads read all L+1 states (4.x then returns them); XVector pools pre-adapter frames",
            cite=((_A, 'kwargs["output_hidden_states"] = True'), (_A, "output_hidden_states = True"))),
        "classifier_proj_size": _none("the projection inside the sequence head; logits stay (B, K)",
                                      cite=((_A, "nn.Linear(config.hidden_size, config.classifier_proj_size)"),)),
        "tdnn_dim": _none("the XVector TDNN widths; logits and embeddings are (B, X)",
                          cite=((_A, "self.out_conv_dim = config.tdnn_dim[layer_id]"),)),
        "tdnn_kernel": _e(VALIDITY, why="each TDNN layer drops frames: the input needs enough",
                          cite=((_A, "self.kernel_size = config.tdnn_kernel[layer_id]"),)),
        "tdnn_dilation": _e(VALIDITY, why="dilated TDNN layers drop frames: the input needs enough",
                            cite=((_A, "self.dilation = config.tdnn_dilation[layer_id]"),)),
        "xvector_output_dim": _e(SHAPE, why="X of the XVector logits and embeddings",
                                 cite=((_A, "nn.Linear(config.xvector_output_dim, config.xvector_output_dim)"),)),
        "pad_token_id": _none("the CTC blank id: loss values, not shapes",
                              cite=((_A, "blank_token_id=self.config.pad_token_id"),
                                    (_A, "blank=self.config.pad_token_id"))),
        "add_adapter": _e(
            SHAPE, VALIDITY, why="adapter frames Ta and width Dp; sequence and frame heads refuse it",
            cite=((_A, "self.adapter = Data2VecAudioAdapter(config) if config.add_adapter else None"),)),
        "adapter_kernel_size": _e(SHAPE, VALIDITY, why="Ta; needs T + 2 >= kernel per layer",
                                  cite=((_A, "config.adapter_kernel_size,"),)),
        "adapter_stride": _e(SHAPE, why="Ta", cite=((_A, "stride=config.adapter_stride,"),)),
        "num_adapter_layers": _e(SHAPE, why="Ta", cite=((_A, "for _ in range(config.num_adapter_layers)"),)),
        "output_hidden_size": _e(SHAPE, why="Dp, the width after the adapter",
                                 cite=((_A, "self.proj = nn.Linear(config.hidden_size, config.output_hidden_size)"),)),
        "problem_type": _none(_UNREAD + ": the audio heads always use cross-entropy"),
        "pruned_heads": _e(VALIDITY, why="4.x prunes heads at construction; the audio attention cannot prune (raises)",
                           cite=((_MU, "if self.config.pruned_heads:"),)),
        "inputs_to_logits_ratio": _none("a property for pipelines (product of strides)",
                                        cite=((_CFG_A, "def inputs_to_logits_ratio(self):"),)),
    },
    "vision": {
        **_COMMON_OWN,
        "hidden_dropout_prob": _none(_DROPOUT, cite=((_V, "self.dropout = nn.Dropout(config.hidden_dropout_prob)"),)),
        "attention_probs_dropout_prob": _none(
            _DROPOUT, cite=((_V, "self.dropout = nn.Dropout(config.attention_probs_dropout_prob)"),)),
        "drop_path_rate": _none("stochastic depth: values in training, shapes never",
                                cite=((_V, "torch.linspace(0, config.drop_path_rate, config.num_hidden_layers"),)),
        "layer_scale_init_value": _none("layer-scale parameters (element-wise)",
                                        cite=((_V, "init_values = config.layer_scale_init_value"),)),
        "image_size": _e(
            SHAPE, VALIDITY, why="Hs of the segmentation logits; the grid segmentation reshapes to and the position "
            "table's size", cite=((_V, "patch_resolution = self.config.image_size // self.config.patch_size"),)),
        "patch_size": _e(SHAPE, why="h = H // p, w = W // p: Nv = 1 + h*w (a pair gives per-axis patches)",
                         cite=((_V, "patch_size = patch_size if isinstance(patch_size, collections.abc.Iterable)"),)),
        "num_channels": _e(VALIDITY, why="pixel_values must have this many channels",
                           cite=((_V, "Make sure that the channel dimension of the pixel values match"),)),
        "use_mask_token": _e(VALIDITY, why="bool_masked_pos needs the mask token",
                             cite=((_V, "if config.use_mask_token:"),)),
        "use_absolute_position_embeddings": _e(
            VALIDITY, why="a position table of image_size's grid, interpolated (square) for other sizes",
            cite=((_V, "if config.use_absolute_position_embeddings:"),)),
        "use_relative_position_bias": _e(
            VALIDITY, why="per-layer relative bias, interpolated to the input grid (needs an int patch_size)",
            cite=((_V, "window_size = (height // self.config.patch_size, width // self.config.patch_size)"),)),
        "use_shared_relative_position_bias": _e(
            VALIDITY, why="one relative bias for all layers, interpolated to the grid (needs an int patch_size)",
            cite=((_V, "self.has_relative_position_bias = config.use_shared_relative_position_bias"),)),
        "use_mean_pooling": _none("the pooler averages patches or takes CLS: (B, D) either way",
                                  cite=((_V, "if config.use_mean_pooling else None"),)),
        "out_indices": _e(VALIDITY, why="segmentation needs 4 indices into the L+1 hidden states",
                          cite=((_V, "requires config.out_indices to be a list of 4 integers"),)),
        "pool_scales": _none("pyramid pooling inside the decode head, resized back",
                             cite=((_V, "self.pool_scales = config.pool_scales"),)),
        "use_auxiliary_head": _none("an auxiliary loss term; the logits are the decode head's",
                                    cite=((_V, "if config.use_auxiliary_head else None"),)),
        "auxiliary_loss_weight": _none("weight of the auxiliary loss",
                                       cite=((_V, "self.config.auxiliary_loss_weight"),)),
        "auxiliary_channels": _none("inside the auxiliary head", cite=((_V, "config.auxiliary_channels"),)),
        "auxiliary_num_convs": _none("inside the auxiliary head", cite=((_V, "config.auxiliary_num_convs"),)),
        "auxiliary_concat_input": _none("inside the auxiliary head", cite=((_V, "config.auxiliary_concat_input"),)),
        "semantic_loss_ignore_index": _none("a label value the loss ignores",
                                            cite=((_V, "ignore_index=self.config.semantic_loss_ignore_index"),)),
    },
}

# -- forward arguments ----------------------------------------------------------------------------------------
_FLAGS: dict[str, Entry] = {
    "output_hidden_states": BASE_CONFIG["output_hidden_states"],
    "output_attentions": BASE_CONFIG["output_attentions"],
    "return_dict": BASE_CONFIG["return_dict"],
}
_KWARGS: dict[str, Entry] = {
    "num_items_in_batch": _none("5.x: divides the summed loss (gradient accumulation): a value"),
    "output_router_logits": _none("5.x: mixture-of-experts only; Data2Vec has no router"),
    "cu_seq_lens_q": _none("5.x: flash-attention varlen metadata; eager and sdpa ignore it"),
    "cu_seq_lens_k": _none("5.x: flash-attention varlen metadata; eager and sdpa ignore it"),
    "max_length_q": _none("5.x: flash-attention varlen metadata; eager and sdpa ignore it"),
    "max_length_k": _none("5.x: flash-attention varlen metadata; eager and sdpa ignore it"),
    "seq_idx": _none("5.x: packed-sequence metadata for some kernels; eager and sdpa ignore it"),
    "is_causal": BASE_CONFIG["is_causal"],
    "debug_io": _none("5.x: model-debugging hooks", cite=((_GEN, 'if kwargs.get("debug_io", False):'),)),
    "debug_io_dir": _none("5.x: model-debugging hooks"),
    "prune_layers": _none("5.x: model-debugging hooks"),
    "**kwargs": _none("4.x text LM: forwarded to the loss function (num_items_in_batch); 5.x vision: ignored"),
}

_TEXT_FORWARD: dict[str, Entry] = {
    **_FLAGS,
    **_KWARGS,
    "input_ids": _e(SHAPE, VALIDITY, why="B and N (B, C, N for multiple choice); ids < V, N within the position table",
                    cite=((_T, "input_shape = input_ids.size()"),)),
    "inputs_embeds": _e(SHAPE, VALIDITY, why="B and N instead of input_ids; positions are sequential (no padding)",
                        cite=((_T, "def create_position_ids_from_inputs_embeds"),)),
    "attention_mask": _e(
        VALIDITY, why="2-D (B, P+N) padding mask or a 4-D mask; must cover the cached tokens too",
        cite=((_T, "attention_mask = create_causal_mask("), (_T, "self.get_extended_attention_mask(attention_mask"))),
    "token_type_ids": _e(VALIDITY, why="(B, N) ids < type_vocab_size",
                         cite=((_T, "token_type_embeddings = self.token_type_embeddings(token_type_ids)"),)),
    "position_ids": _e(VALIDITY, why="(B, N) or broadcastable (1, N) ids < max_position_embeddings",
                       cite=((_T, "position_embeddings = self.position_embeddings(position_ids)"),)),
    "head_mask": _e(VALIDITY, why="4.x: (heads,) or (L, heads) multipliers of the attention probabilities",
                    cite=((_T, "attention_probs = attention_probs * head_mask"),)),
    "encoder_hidden_states": _e(
        PRESENCE, SHAPE, VALIDITY, why="cross-attention inputs (B, Ne, D): cross_attentions maps (B, heads, N, Ne)",
        cite=((_T, "if self.is_decoder and encoder_hidden_states is not None:"),
              (_T, "if self.config.is_decoder and encoder_hidden_states is not None:"))),
    "encoder_attention_mask": _e(VALIDITY, why="(B, Ne) mask of the cross-attention inputs",
                                 cite=((_T, "if encoder_attention_mask is not None:"),
                                       (_T, "encoder_extended_attention_mask = self.invert_attention_mask("))),
    "cache": _e(
        PRESENCE, SHAPE, VALIDITY, why="5.x cache: positions continue after P cached tokens; maps (B, heads, N, P+N)",
        cite=((_T, "cache_length = cache.get_seq_length() if cache is not None else 0"),)),
    "past_key_values": _e(
        PRESENCE, SHAPE, VALIDITY, why="4.x cache (5.x: the deprecated name of cache)",
        cite=((_T, '@deprecate_kwarg("past_key_values", "5.40.0", new_name="cache")'),
              (_T, "past_key_values_length = past_key_values.get_seq_length()"),
              (_T, "else past_key_values.get_seq_length()"))),
    "use_cache": _e(PRESENCE,
                    why="the decoder returns a cache (labels or gradient checkpointing in training turn it off)",
                    cite=((_T, "use_cache = use_cache if use_cache is not None else self.config.use_cache"),)),
    "cache_position": _e(VALIDITY, why="4.x: where the new tokens go in the cache",
                         cite=((_T, "cache_position: Optional[torch.Tensor] = None"),)),
    "labels": _e(PRESENCE, VALIDITY, why="loss present; ids (dtype/shape per head); CausalLM: no cache",
                 cite=((_T, "if labels is not None:"),)),
    "start_positions": _e(PRESENCE, VALIDITY, why="a loss only when end_positions is given too",
                          cite=((_T, "if start_positions is not None and end_positions is not None:"),)),
    "end_positions": _e(PRESENCE, VALIDITY, why="a loss only when start_positions is given too",
                        cite=((_T, "if start_positions is not None and end_positions is not None:"),)),
    "logits_to_keep": _e(SHAPE, why="5.x: logits for the last k positions (or the given indices) only",
                         cite=((_T, "hidden_states = slice_logits_to_keep(hidden_states, logits_to_keep)"),)),
}
_AUDIO_FORWARD: dict[str, Entry] = {
    **_FLAGS,
    **_KWARGS,
    "input_values": _e(SHAPE, VALIDITY, why="B and S (T from the conv stack); in the parameter dtype",
                       cite=((_A, "extract_features = self.feature_extractor(input_values)"),)),
    "attention_mask": _e(VALIDITY, why="(B, S) sample mask, reduced to frames by the model",
                         cite=((_A, "attention_mask = self._get_feature_vector_attention_mask("),)),
    "mask_time_indices": _e(VALIDITY, why="(B, T) frames to replace by masked_spec_embed",
                            cite=((_A, "hidden_states[mask_time_indices] = self.masked_spec_embed.to("),)),
    "labels": _e(PRESENCE, SHAPE, VALIDITY, why="loss present (CTC 'none': (B,)); per-head shapes and dtypes",
                 cite=((_A, "if labels is not None:"),)),
    "position_ids": _none("5.x: a TransformersKwargs key the audio layers ignore"),
    "use_cache": _none("5.x: merge_with_config_defaults passes it on; audio has no cache"),
}
_VISION_FORWARD: dict[str, Entry] = {
    **_FLAGS,
    **_KWARGS,
    "pixel_values": _e(SHAPE, VALIDITY, why="B, H, W: Nv = 1 + (H//p)(W//p); channels must match",
                       cite=((_V, "embeddings, (patch_height, patch_width) = self.patch_embeddings(pixel_values)"),)),
    "bool_masked_pos": _e(VALIDITY, why="(B, h*w) 0/1 mask, used through type_as (any dtype); needs use_mask_token",
                          cite=((_V, "w = bool_masked_pos.unsqueeze(-1).type_as(mask_tokens)"),)),
    "interpolate_pos_encoding": _e(VALIDITY, why="interpolates the relative bias to the token count",
                                   cite=((_V, "if interpolate_pos_encoding:"),)),
    "head_mask": _e(VALIDITY, why="4.x: (heads,) or (L, heads) multipliers of the attention probabilities",
                    cite=((_V, "attention_probs = attention_probs * head_mask"),)),
    "labels": _e(PRESENCE, VALIDITY, why="loss present; classification ids, segmentation maps (B, Hl, Wl)",
                 cite=((_V, "if labels is not None:"),)),
}

FORWARD: dict[str, dict[str, Entry]] = {"text": _TEXT_FORWARD, "audio": _AUDIO_FORWARD, "vision": _VISION_FORWARD}

INIT: dict[str, Entry] = {
    "add_pooling_layer": _e(PRESENCE, why="pooler_output present (text default True, vision default False)",
                            cite=((_T, "self.pooler = Data2VecTextPooler(config) if add_pooling_layer else None"),)),
}


def config_entry(modality: str, name: str) -> Entry | None:
    """The entry of a config name for a modality: its own table first, then the inherited attributes."""
    return CONFIG[modality].get(name) or BASE_CONFIG.get(name)


def forward_entry(modality: str, name: str) -> Entry | None:
    return FORWARD[modality].get(name)
