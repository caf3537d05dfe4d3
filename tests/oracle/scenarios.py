"""Scenarios derived from the classification table: every name that is not ``NONE``, with valid values (and the
boundary values just past them) alone, and pairwise across the names that interact.

``LEVELS[modality][table name]`` holds the values of each name as :class:`~tests.oracle.calls.Level` patches
(``config.<field>``, ``forward.<argument>``, ``init.<argument>``). ``tests/oracle/test_scenarios.py`` checks that
every non-NONE name of the table has levels here, or is exercised by a workflow test (``WORKFLOW``).

* :func:`singles` — each level of each name alone, on every class it applies to.
* :func:`pairs` — per class, a pairwise covering array over the interacting names (``PAIRWISE``): every pair of
  levels of two names appears in at least one scenario; greedy and seeded, so the list is stable.

``D2V_ORACLE_FULL=1`` widens the pairwise arrays to all names and all levels of a class, with three seeds; by
default they take the first ``PAIR_LEVELS`` levels of each interacting name.
"""

from __future__ import annotations

import itertools
import os
import random
from collections.abc import Iterable

import torch

from tests._models import CLASSES, HEADS, TRANSFORMERS_5
from tests.oracle.calls import UNSET, Level, Scenario

__all__ = ["FULL", "LEVELS", "PAIRWISE", "WORKFLOW", "all_scenarios", "pairs", "singles"]

FULL = os.environ.get("D2V_ORACLE_FULL", "") not in ("", "0")
V5 = 5

_TEXT_LM = ("ForCausalLM", "ForMaskedLM")
_TEXT_HEADS = HEADS["text"][1:]
_DECODER = ("Model", "ForCausalLM")


def L(label: str, **kw: object) -> Level:
    return Level(label, **kw)  # type: ignore[arg-type]


_EAGER = {"attn_implementation": "eager"}

# Flags shared by the three modalities (config fields and forward arguments of the same name).
_FLAG_LEVELS: dict[str, list[Level]] = {
    "config.output_hidden_states": [L("true", config={"output_hidden_states": True})],
    "config.output_attentions": [L("true-eager", config={"output_attentions": True, **_EAGER})],
    "config.return_dict": [L("false", config={"return_dict": False})],
    "config._attn_implementation": [L("eager", config=_EAGER), L("sdpa", config={"attn_implementation": "sdpa"})],
    "forward.output_hidden_states": [
        L("true", flags={"output_hidden_states": True}),
        L("false", flags={"output_hidden_states": False}),
        L("int2", flags={"output_hidden_states": 2}, only=V5),
        L("list", flags={"output_hidden_states": [0, -1]}, only=V5),
    ],
    "forward.output_attentions": [
        L("true", flags={"output_attentions": True}),
        L("true-eager", flags={"output_attentions": True}, config=_EAGER),
    ],
    "forward.return_dict": [L("false", flags={"return_dict": False})],
}

LEVELS: dict[str, dict[str, list[Level]]] = {
    "text": {
        **_FLAG_LEVELS,
        "config.use_return_dict": [L("false", config={"return_dict": False})],
        "config.num_labels": [L("1", config={"num_labels": 1}, heads=_TEXT_HEADS),
                              L("3", config={"num_labels": 3}, heads=_TEXT_HEADS, labels="default")],
        "config.id2label": [L("3", config={"id2label": {0: "a", 1: "b", 2: "c"}}, heads=_TEXT_HEADS)],
        "config.problem_type": [
            L("regression", config={"problem_type": "regression", "num_labels": 1}, labels="regression",
              heads=("ForSequenceClassification",)),
            L("regression-K3", config={"problem_type": "regression", "num_labels": 3}, labels="float-multilabel",
              heads=("ForSequenceClassification",)),
            L("single", config={"problem_type": "single_label_classification", "num_labels": 3}, labels="default",
              heads=("ForSequenceClassification",)),
            L("multi", config={"problem_type": "multi_label_classification", "num_labels": 3},
              labels="float-multilabel", heads=("ForSequenceClassification",)),
            L("multi-class-ids", config={"problem_type": "multi_label_classification", "num_labels": 3},
              labels="default", heads=("ForSequenceClassification",)),
            L("regression-K3-B", config={"problem_type": "regression", "num_labels": 3}, labels="regression",
              heads=("ForSequenceClassification",)),
        ],
        "config.pruned_heads": [L("0:1", config={"pruned_heads": {0: [1]}, **_EAGER},
                                  flags={"output_attentions": True}, only=4)],
        "config.hidden_size": [L("48", config={"hidden_size": 48}), L("30-invalid", config={"hidden_size": 30})],
        "config.num_hidden_layers": [L("0", config={"num_hidden_layers": 0}, flags={"output_hidden_states": True}),
                                     L("1", config={"num_hidden_layers": 1}, flags={"output_hidden_states": True}),
                                     L("3", config={"num_hidden_layers": 3})],
        "config.num_attention_heads": [L("1", config={"num_attention_heads": 1, **_EAGER},
                                         flags={"output_attentions": True}),
                                       L("8", config={"num_attention_heads": 8, **_EAGER},
                                         flags={"output_attentions": True})],
        "config.vocab_size": [L("50", config={"vocab_size": 50})],
        "config.max_position_embeddings": [
            L("16-N14", config={"max_position_embeddings": 16}, sizes={"seq_len": 14}),
            L("16-N15", config={"max_position_embeddings": 16}, sizes={"seq_len": 15}),
        ],
        "config.type_vocab_size": [L("1", config={"type_vocab_size": 1}, inputs={"token_type_ids": "zeros"}),
                                   L("1-ids1", config={"type_vocab_size": 1}, inputs={"token_type_ids": "ones"})],
        "config.pad_token_id": [L("0", config={"pad_token_id": 0}), L("5", config={"pad_token_id": 5},
                                                                      inputs={"attention_mask": "right"}),
                                L("0-N63", config={"pad_token_id": 0}, sizes={"seq_len": 63})],
        "config.is_decoder": [L("true", config={"is_decoder": True}, heads=_DECODER)],
        "config.add_cross_attention": [
            L("true", config={"is_decoder": True, "add_cross_attention": True, **_EAGER},
              inputs={"encoder_hidden_states": 5}, flags={"output_attentions": True}, heads=_DECODER),
            L("no-decoder", config={"add_cross_attention": True}, heads=_DECODER),
            L("attentions-without-encoder-states", config={"is_decoder": True, "add_cross_attention": True, **_EAGER},
              flags={"output_attentions": True}, heads=_DECODER),
        ],
        "config.use_cache": [L("false", config={"is_decoder": True, "use_cache": False}, heads=_DECODER)],
        "config.position_embedding_type": [
            L("relative_key", config={"position_embedding_type": "relative_key"}, only=4),
            L("relative_key_query-N64", config={"position_embedding_type": "relative_key_query"},
              sizes={"seq_len": 64}, only=4),
            L("relative_key-N63", config={"position_embedding_type": "relative_key"}, sizes={"seq_len": 63}, only=4),
        ],
        "forward.input_ids": [L("B1-N1", sizes={"batch": 1, "seq_len": 1}),
                              L("B3-N62", sizes={"batch": 3, "seq_len": 62}),
                              L("N63", sizes={"seq_len": 63}), L("B0", sizes={"batch": 0})],
        "forward.inputs_embeds": [L("embeds", inputs={"inputs_embeds": True}),
                                  L("embeds-N62", inputs={"inputs_embeds": True}, sizes={"seq_len": 62})],
        "forward.attention_mask": [
            L("ones", inputs={"attention_mask": "ones"}), L("right", inputs={"attention_mask": "right"}),
            L("left", inputs={"attention_mask": "left"}), L("bool", inputs={"attention_mask": "bool"}),
            L("float", inputs={"attention_mask": "float"}),
            L("4d-bool", inputs={"attention_mask": "4d-bool"}, heads=("Model", "ForCausalLM", "ForMaskedLM")),
            L("4d-float", inputs={"attention_mask": "4d-float"}, heads=("Model", "ForCausalLM", "ForMaskedLM")),
            L("left-N70", inputs={"attention_mask": "left"}, sizes={"seq_len": 70, "batch": 1},
              heads=("Model", "ForSequenceClassification")),
            L("left-N64", inputs={"attention_mask": "left"}, sizes={"seq_len": 64, "batch": 1},
              heads=("Model", "ForTokenClassification")),
        ],
        "forward.token_type_ids": [L("zeros", inputs={"token_type_ids": "zeros"}),
                                   L("ones", inputs={"token_type_ids": "ones"})],
        "forward.position_ids": [L("full", inputs={"position_ids": "full"}),
                                 L("row", inputs={"position_ids": "row"}, heads=tuple(h for h in HEADS["text"]
                                                                                       if h != "ForMultipleChoice")),
                                 L("flat", inputs={"position_ids": "flat"}, heads=("Model",)),
                                 L("full-N63", inputs={"position_ids": "full"}, sizes={"seq_len": 63},
                                   heads=("Model",)),
                                 L("flat-tt", inputs={"position_ids": "flat", "token_type_ids": "zeros"},
                                   heads=("Model",))],
        "forward.head_mask": [L("heads", inputs={"head_mask": "heads"}, only=4),
                              L("layers", inputs={"head_mask": "layers"}, only=4)],
        "forward.encoder_hidden_states": [
            L("Ne5", config={"is_decoder": True, "add_cross_attention": True}, inputs={"encoder_hidden_states": 5},
              heads=_DECODER)],
        "forward.encoder_attention_mask": [
            L("right", config={"is_decoder": True, "add_cross_attention": True},
              inputs={"encoder_hidden_states": 5, "encoder_attention_mask": "right"}, heads=_DECODER)],
        "forward.use_cache": [L("false", config={"is_decoder": True}, flags={"use_cache": False}, heads=_DECODER),
                              L("true-encoder", flags={"use_cache": True}, heads=_DECODER)],
        "forward.cache": [
            L("P3", config={"is_decoder": True}, inputs={"prefill": 3, "attention_mask": "ones"}, heads=_DECODER,
              only=V5),
            L("P3-attn", config={"is_decoder": True, **_EAGER}, inputs={"prefill": 3, "attention_mask": "ones"},
              flags={"output_attentions": True}, heads=_DECODER, only=V5),
            L("P3-nomask", config={"is_decoder": True}, inputs={"prefill": 3}, heads=_DECODER, only=V5),
            L("P3-attn-nomask", config={"is_decoder": True, **_EAGER}, inputs={"prefill": 3},
              flags={"output_attentions": True}, heads=_DECODER, only=V5),
            L("empty-encoder", inputs={"empty_cache": True}, heads=_DECODER, only=V5),
            L("P3-cross", config={"is_decoder": True, "add_cross_attention": True},
              inputs={"prefill": 3, "encoder_hidden_states": 5}, heads=_DECODER, only=V5),
        ],
        "forward.past_key_values": [
            L("P3", config={"is_decoder": True},
              inputs={"prefill": 3, "attention_mask": "ones", "cache_name": "past_key_values"}, heads=_DECODER),
            L("P3-attn", config={"is_decoder": True, **_EAGER},
              inputs={"prefill": 3, "attention_mask": "ones", "cache_name": "past_key_values"},
              flags={"output_attentions": True}, heads=_DECODER),
            L("P3-nomask", config={"is_decoder": True}, inputs={"prefill": 3, "cache_name": "past_key_values"},
              heads=_DECODER),
            L("P3-attn-nomask", config={"is_decoder": True, **_EAGER},
              inputs={"prefill": 3, "cache_name": "past_key_values"}, flags={"output_attentions": True},
              heads=_DECODER),
            L("empty-encoder", inputs={"empty_cache": True, "cache_name": "past_key_values"}, heads=_DECODER, only=4),
        ],
        "forward.cache_position": [
            L("P3", config={"is_decoder": True}, inputs={"prefill": 3, "attention_mask": "ones",
                                                          "cache_position": True}, heads=_DECODER, only=4)],
        "forward.labels": [
            L("default", labels="default", heads=("ForCausalLM", "ForMaskedLM", "ForSequenceClassification",
                                                  "ForTokenClassification", "ForMultipleChoice")),
            L("ignore", labels="ignore", heads=("ForCausalLM", "ForMaskedLM", "ForTokenClassification")),
            L("b1", labels="b1", heads=("ForSequenceClassification",)),
            L("int32", labels="int32", heads=("ForCausalLM", "ForMaskedLM", "ForSequenceClassification",
                                              "ForTokenClassification", "ForMultipleChoice")),
            L("decoder", labels="default", config={"is_decoder": True}, heads=("ForCausalLM",)),
        ],
        "forward.start_positions": [L("both", labels="default", heads=("ForQuestionAnswering",)),
                                    L("start-only", labels="start-only", heads=("ForQuestionAnswering",)),
                                    L("b1", labels="b1", heads=("ForQuestionAnswering",))],
        "forward.end_positions": [L("end-only", labels="end-only", heads=("ForQuestionAnswering",))],
        "forward.logits_to_keep": [
            L("1", config={"is_decoder": True}, flags={"logits_to_keep": 1}, heads=("ForCausalLM",), only=V5),
            L("9", config={"is_decoder": True}, flags={"logits_to_keep": 9}, heads=("ForCausalLM",), only=V5),
            L("index", config={"is_decoder": True}, flags={"logits_to_keep": torch.tensor([0, 2])},
              heads=("ForCausalLM",), only=V5),
            L("index-beyond-N", config={"is_decoder": True}, flags={"logits_to_keep": torch.tensor([0, 9])},
              heads=("ForCausalLM",), only=V5),
            L("1-labels", config={"is_decoder": True}, flags={"logits_to_keep": 1}, labels="default",
              heads=("ForCausalLM",), only=V5),
        ],
        "init.add_pooling_layer": [L("false", init={"add_pooling_layer": False}, heads=("Model",)),
                                   L("true", init={"add_pooling_layer": True}, heads=("Model",))],
    },
    "audio": {
        **_FLAG_LEVELS,
        "config.use_return_dict": [L("false", config={"return_dict": False})],
        "config.num_labels": [L("4", config={"num_labels": 4}, labels="default", heads=HEADS["audio"][2:]),
                              L("1", config={"num_labels": 1}, heads=HEADS["audio"][2:])],
        "config.id2label": [L("3", config={"id2label": {0: "a", 1: "b", 2: "c"}}, heads=HEADS["audio"][2:])],
        "config.hidden_size": [L("48", config={"hidden_size": 48})],
        "config.pruned_heads": [L("0:1", config={"pruned_heads": {0: [1]}, **_EAGER}, only=4)],
        "config.num_hidden_layers": [L("0", config={"num_hidden_layers": 0}, flags={"output_hidden_states": True}),
                                     L("3", config={"num_hidden_layers": 3})],
        "config.num_attention_heads": [L("8", config={"num_attention_heads": 8, **_EAGER},
                                         flags={"output_attentions": True})],
        "config.vocab_size": [L("24", config={"vocab_size": 24}, heads=("ForCTC",), labels="default")],
        "config.layerdrop": [
            L("0.5-train", config={"layerdrop": 0.5, "num_hidden_layers": 3, **_EAGER}, train=True,
              flags={"output_hidden_states": True, "output_attentions": True}),
            L("0.99-train", config={"layerdrop": 0.99, "num_hidden_layers": 3}, train=True,
              flags={"output_hidden_states": True}),
            # layerdrop 1.0 skips every encoder and adapter layer: a clip too short for the adapter is then valid
            L("1.0-train-adapter-k5-short", config={"layerdrop": 1.0, "add_adapter": True, "adapter_kernel_size": 5,
                                                    "mask_time_prob": 0.0}, train=True, sizes={"samples": 100},
              heads=("Model", "ForCTC")),
        ],
        "config.conv_dim": [L("1-layer", config={"conv_dim": (16,), "conv_kernel": (10,), "conv_stride": (5,)})],
        "config.num_feat_extract_layers": [
            L("2-layers", config={"conv_dim": (8, 16), "conv_kernel": (4, 3), "conv_stride": (3, 2)})],
        "config.conv_stride": [L("(5,2,2)", config={"conv_stride": (5, 2, 2)})],
        "config.conv_kernel": [L("S=R", sizes={"samples": 29}), L("S=R-1", sizes={"samples": 28})],
        "config.num_conv_pos_embedding_groups": [L("4", config={"num_conv_pos_embedding_groups": 4})],
        "config.mask_time_prob": [
            L("0.5-train", config={"mask_time_prob": 0.5, "mask_time_length": 2}, train=True),
            L("0-with-indices", config={"mask_time_prob": 0.0}, inputs={"mask_time_indices": True}, heads=("Model",)),
        ],
        "config.mask_time_length": [L("T+1-train", config={"mask_time_prob": 0.5, "mask_time_length": 62},
                                      train=True)],
        "config.mask_feature_prob": [L("0.5-train", config={"mask_feature_prob": 0.5, "mask_feature_length": 4},
                                       train=True)],
        "config.mask_feature_length": [L("D+1-train", config={"mask_feature_prob": 0.5, "mask_feature_length": 33},
                                         train=True)],
        "config.ctc_loss_reduction": [L("mean", config={"ctc_loss_reduction": "mean"}, labels="default",
                                        heads=("ForCTC",)),
                                      L("none", config={"ctc_loss_reduction": "none"}, labels="default",
                                        heads=("ForCTC",))],
        "config.use_weighted_layer_sum": [L("true", config={"use_weighted_layer_sum": True}, heads=HEADS["audio"][2:]),
                                          L("true-hidden", config={"use_weighted_layer_sum": True},
                                            flags={"output_hidden_states": True}, heads=HEADS["audio"][2:])],
        "config.tdnn_kernel": [L("(3,3,3)", config={"tdnn_kernel": (3, 3, 3)}, heads=("ForXVector",)),
                               L("S-too-short", sizes={"samples": 200}, heads=("ForXVector",))],
        "config.tdnn_dilation": [L("(1,2,3)", config={"tdnn_dilation": (1, 2, 3)}, heads=("ForXVector",))],
        "config.xvector_output_dim": [L("7", config={"xvector_output_dim": 7}, heads=("ForXVector",))],
        "config.add_adapter": [L("true", config={"add_adapter": True}),
                               L("true-hidden", config={"add_adapter": True}, flags={"output_hidden_states": True},
                                 heads=("Model", "ForCTC", "ForXVector"))],
        "config.adapter_kernel_size": [L("1", config={"add_adapter": True, "adapter_kernel_size": 1},
                                         heads=("Model", "ForCTC", "ForXVector")),
                                       L("5", config={"add_adapter": True, "adapter_kernel_size": 5},
                                         heads=("Model", "ForCTC", "ForXVector"))],
        "config.adapter_stride": [L("1", config={"add_adapter": True, "adapter_stride": 1},
                                    heads=("Model", "ForCTC", "ForXVector")),
                                  L("3", config={"add_adapter": True, "adapter_stride": 3},
                                    heads=("Model", "ForCTC", "ForXVector"))],
        "config.num_adapter_layers": [L("1", config={"add_adapter": True, "num_adapter_layers": 1},
                                        heads=("Model", "ForCTC", "ForXVector"))],
        "config.output_hidden_size": [L("24", config={"add_adapter": True, "output_hidden_size": 24},
                                        heads=("Model", "ForCTC"))],
        "forward.input_values": [L("B1-S29", sizes={"batch": 1, "samples": 29}), L("B3-S1001",
                                                                                   sizes={"batch": 3, "samples": 1001}),
                                 L("bf16-input", inputs={"input_dtype": torch.bfloat16}), L("B0", sizes={"batch": 0})],
        "forward.attention_mask": [L("ones", inputs={"attention_mask": "ones"}),
                                   L("right", inputs={"attention_mask": "right"}),
                                   L("bool", inputs={"attention_mask": "bool"})],
        "forward.mask_time_indices": [L("random", inputs={"mask_time_indices": True}, heads=("Model",))],
        "forward.labels": [
            L("default", labels="default", heads=HEADS["audio"][1:]),
            L("ignore", labels="ignore", heads=("ForCTC",)),
            L("b1", labels="b1", heads=("ForSequenceClassification", "ForXVector")),
            L("int32", labels="int32", heads=HEADS["audio"][1:]),
            L("out-of-vocab", labels="out-of-vocab", heads=("ForCTC",)),
            L("frame-ids", labels="frame-ids", heads=("ForAudioFrameClassification",)),
        ],
    },
    "vision": {
        **_FLAG_LEVELS,
        "config.use_return_dict": [L("false", config={"return_dict": False})],
        "config.num_labels": [L("5", config={"num_labels": 5}, labels="default", heads=HEADS["vision"][1:]),
                              L("0", config={"num_labels": 0}, heads=("ForImageClassification",)),
                              L("0-labels", config={"num_labels": 0}, labels="default",
                                heads=("ForImageClassification",)),
                              L("1-labels", config={"num_labels": 1}, labels="default",
                                heads=("ForSemanticSegmentation",))],
        "config.id2label": [L("3", config={"id2label": {0: "a", 1: "b", 2: "c"}}, heads=HEADS["vision"][1:])],
        "config.problem_type": [
            L("regression", config={"problem_type": "regression", "num_labels": 1}, labels="regression",
              heads=("ForImageClassification",)),
            L("multi", config={"problem_type": "multi_label_classification", "num_labels": 3},
              labels="float-multilabel", heads=("ForImageClassification",)),
        ],
        "config.pruned_heads": [L("0:1", config={"pruned_heads": {0: [1]}, **_EAGER},
                                  flags={"output_attentions": True}, only=4)],
        "config.hidden_size": [L("48", config={"hidden_size": 48})],
        "config.num_hidden_layers": [L("1", config={"num_hidden_layers": 1}, heads=("Model", "ForImageClassification")),
                                     L("0", config={"num_hidden_layers": 0}, flags={"output_hidden_states": True},
                                       heads=("Model", "ForImageClassification")),
                                     L("4", config={"num_hidden_layers": 4})],
        "config.num_attention_heads": [L("8", config={"num_attention_heads": 8, **_EAGER},
                                         flags={"output_attentions": True})],
        "config.image_size": [L("48", config={"image_size": 48}),
                              L("(32,48)", config={"image_size": (32, 48)}),
                              L("(32,48)-abs",
                                config={"image_size": (32, 48), "use_absolute_position_embeddings": True},
                                heads=("Model",))],
        "config.patch_size": [L("4", config={"patch_size": 4}), L("(8,4)", config={"patch_size": (8, 4)}),
                              L("(8,4)-40x24", config={"patch_size": (8, 4)}, sizes={"height": 40, "width": 24},
                                heads=("Model", "ForImageClassification"))],
        "config.num_channels": [L("1", config={"num_channels": 1})],
        "config.use_mask_token": [L("true-bool", config={"use_mask_token": True}, inputs={"bool_masked_pos": "bool"},
                                    heads=("Model",)),
                                  L("false-bool", inputs={"bool_masked_pos": "bool"}, heads=("Model",))],
        "config.use_absolute_position_embeddings": [
            L("true", config={"use_absolute_position_embeddings": True}),
            L("true-40x24", config={"use_absolute_position_embeddings": True}, sizes={"height": 40, "width": 24},
              heads=("Model", "ForImageClassification")),
        ],
        "config.use_relative_position_bias": [
            L("true", config={"use_relative_position_bias": True}),
            L("true-40x24", config={"use_relative_position_bias": True}, sizes={"height": 40, "width": 24},
              heads=("Model", "ForImageClassification")),
            L("true-patch(8,4)", config={"use_relative_position_bias": True, "patch_size": (8, 4)},
              heads=("Model",)),
        ],
        "config.use_shared_relative_position_bias": [
            L("true", config={"use_shared_relative_position_bias": True}),
            L("true-24x48", config={"use_shared_relative_position_bias": True}, sizes={"height": 24, "width": 48},
              heads=("Model",)),
        ],
        "config.out_indices": [L("(1,1,2,2)", config={"out_indices": (1, 1, 2, 2)}, heads=("ForSemanticSegmentation",)),
                               L("(0,1,2,2)", config={"out_indices": (0, 1, 2, 2)},
                                 heads=("ForSemanticSegmentation",))],
        "forward.pixel_values": [
            L("B1-8x8", sizes={"batch": 1, "height": 8, "width": 8}, heads=("Model", "ForImageClassification")),
            L("B3-40x24", sizes={"batch": 3, "height": 40, "width": 24}, heads=("Model", "ForImageClassification")),
            L("7x7", sizes={"height": 7, "width": 7}, heads=("Model", "ForImageClassification")),
            L("35x39", sizes={"height": 35, "width": 39}),
            L("16x64", sizes={"height": 16, "width": 64}, heads=("ForSemanticSegmentation",)),
            L("B0", sizes={"batch": 0}),
        ],
        "forward.bool_masked_pos": [L("bool", config={"use_mask_token": True}, inputs={"bool_masked_pos": "bool"},
                                      heads=("Model",)),
                                    L("long", config={"use_mask_token": True}, inputs={"bool_masked_pos": "long"},
                                      heads=("Model",))],
        "forward.interpolate_pos_encoding": [
            L("true", flags={"interpolate_pos_encoding": True}),
            L("true-rel-40x24", config={"use_relative_position_bias": True}, flags={"interpolate_pos_encoding": True},
              sizes={"height": 40, "width": 24}, heads=("Model", "ForImageClassification")),
        ],
        "forward.head_mask": [L("heads", inputs={"head_mask": "heads"}, only=4),
                              L("layers", inputs={"head_mask": "layers"}, only=4)],
        "forward.labels": [
            L("default", labels="default", heads=HEADS["vision"][1:]),
            L("b1", labels="b1", heads=("ForImageClassification",)),
            L("int32", labels="int32", heads=HEADS["vision"][1:]),
            L("map-other-size", labels="map-other-size", heads=("ForSemanticSegmentation",)),
        ],
        "init.add_pooling_layer": [L("true", init={"add_pooling_layer": True}, heads=("Model",)),
                                   L("true-cls", init={"add_pooling_layer": True}, config={"use_mean_pooling": False},
                                     heads=("Model",))],
    },
}

#: Non-NONE names a single forward call cannot exercise on its own; tests/oracle/test_workflows.py covers them
#: (the multi-step cache, generate()).
WORKFLOW: dict[str, set[str]] = {"text": set(), "audio": set(), "vision": set()}

#: Per class, the names that interact (flags with attention kinds, layers, sizes, masks, labels, ...): the
#: pairwise arrays run over these. A level list is used as is, plus the level that leaves the name alone (``UNSET``).
PAIRWISE: dict[str, tuple[str, ...]] = {
    "text": ("config._attn_implementation", "forward.output_hidden_states", "forward.output_attentions",
             "forward.return_dict", "config.num_hidden_layers", "forward.input_ids", "forward.attention_mask",
             "forward.inputs_embeds", "forward.labels", "forward.start_positions", "config.is_decoder",
             "forward.use_cache", "forward.logits_to_keep", "init.add_pooling_layer", "forward.position_ids"),
    "audio": ("config._attn_implementation", "forward.output_hidden_states", "forward.output_attentions",
              "forward.return_dict", "config.num_hidden_layers", "forward.input_values", "forward.attention_mask",
              "forward.labels", "config.add_adapter", "config.use_weighted_layer_sum", "config.layerdrop"),
    "vision": ("config._attn_implementation", "forward.output_hidden_states", "forward.output_attentions",
               "forward.return_dict", "config.num_hidden_layers", "forward.pixel_values", "forward.labels",
               "config.use_relative_position_bias", "config.use_absolute_position_embeddings",
               "init.add_pooling_layer", "forward.interpolate_pos_encoding"),
}

#: Levels the pairwise arrays leave out: edge values with one known effect each (the singles run them), which would
#: otherwise decide every row they appear in.
_PAIR_SKIP = {("forward.input_ids", "B0"), ("forward.input_ids", "N63"), ("forward.input_values", "B0"),
              ("forward.input_values", "bf16-input"), ("forward.pixel_values", "B0"), ("forward.pixel_values", "7x7"),
              ("forward.labels", "int32"), ("forward.labels", "out-of-vocab"), ("forward.labels", "frame-ids"),
              ("config.num_hidden_layers", "0"), ("config.hidden_size", "30-invalid")}


def _runs_on(modality: str, head: str, name: str, level: Level) -> bool:
    """Levels written for some heads run on every class they apply to, and so do the flag levels the default pairwise
    arrays leave out; a level for all heads of a modality that is not a flag (a backbone setting) runs on the base
    Model and the last head by default. D2V_ORACLE_FULL runs every level on every class."""
    if not level.applies(head):
        return False
    if FULL or level.heads is not None:
        return True
    if name in _FLAG_LEVELS:
        # the pairwise arrays already pair the first levels of the call flags on every class
        paired = (lv for n, levels in _factor_levels(modality, head, PAIRWISE[modality]) if n == name for lv in levels)
        return not any(lv is level for lv in paired)
    return head in (HEADS[modality][0], HEADS[modality][-1])


def singles() -> list[Scenario]:
    """Each level of each name alone, on the classes it applies to."""
    found = []
    for modality, head in CLASSES:
        for name, levels in LEVELS[modality].items():
            for level in levels:
                if _runs_on(modality, head, name, level):
                    found.append(Scenario(f"{modality}-{head}-{name}={level.label}", modality, head, ((name, level),)))
    return found


def _covering(factors: list[tuple[str, list[Level]]], rng: random.Random, candidates: int = 40) -> list[list[int]]:
    """A greedy pairwise covering array: rows of level indices such that every pair of levels of two factors
    appears in some row."""
    uncovered = {(i, a, j, b) for (i, (_, la)), (j, (_, lb)) in itertools.combinations(enumerate(factors), 2)
                 for a in range(len(la)) for b in range(len(lb))}
    rows: list[list[int]] = []
    while uncovered:
        first = next(iter(sorted(uncovered)))
        best, best_gain = None, -1
        for _ in range(candidates):
            row = [rng.randrange(len(levels)) for _, levels in factors]
            row[first[0]], row[first[2]] = first[1], first[3]
            gain = sum(1 for i, j in itertools.combinations(range(len(factors)), 2)
                       if (i, row[i], j, row[j]) in uncovered)
            if gain > best_gain:
                best, best_gain = row, gain
        assert best is not None
        rows.append(best)
        uncovered -= {(i, best[i], j, best[j]) for i, j in itertools.combinations(range(len(factors)), 2)}
    return rows


#: Levels per name in the default pairwise arrays (the first ones of each list; D2V_ORACLE_FULL takes them all).
PAIR_LEVELS = 2


def _factor_levels(modality: str, head: str, names: Iterable[str]) -> list[tuple[str, list[Level]]]:
    factors = []
    for name in names:
        levels = [lv for lv in LEVELS[modality].get(name, [])
                  if lv.applies(head) and (name, lv.label) not in _PAIR_SKIP]
        if not FULL:
            levels = levels[:PAIR_LEVELS]
        if levels:
            factors.append((name, [Level(UNSET), *levels]))
    return factors


def pairs(seeds: Iterable[int] = (0,)) -> list[Scenario]:
    """Per class, a pairwise covering array over the interacting names."""
    found = []
    for modality, head in CLASSES:
        names = list(LEVELS[modality]) if FULL else PAIRWISE[modality]
        factors = _factor_levels(modality, head, names)
        for seed in seeds:
            rng = random.Random(f"{modality}-{head}-{seed}")
            for i, row in enumerate(_covering(factors, rng)):
                levels = tuple((factors[f][0], factors[f][1][k]) for f, k in enumerate(row))
                tag = ",".join(f"{n.split('.', 1)[1]}={lv.label}" for n, lv in levels if lv.label != UNSET)
                found.append(Scenario(f"{modality}-{head}-pair{seed}.{i}[{tag}]", modality, head, levels))
    return found


def all_scenarios() -> list[Scenario]:
    return singles() + pairs(seeds=(0, 1, 2) if FULL else (0,))


if not TRANSFORMERS_5:  # 4.x text has no sdpa attention: the level would not build
    LEVELS["text"]["config._attn_implementation"] = [L("eager", config=_EAGER)]
