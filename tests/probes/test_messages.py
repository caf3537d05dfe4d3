"""Whole messages of the probe properties issue 10 added or changed, on pipelines of the corpus (whole messages of
padding invariance, distinct sizes and grid consistency with where= are pinned in test_text, test_audio, test_vision).
"""

from __future__ import annotations

from typing import Any

import pytest

from data2vec_contracts import (
    BatchIndependenceError,
    GridConsistencyError,
    MaskForwardingError,
    PatchLocalityError,
    ProbeViolation,
    TrimInvarianceError,
    probe,
)
from data2vec_contracts.instrument import contract_of
from tests._models import TRANSFORMERS_5

from .corpus._all import BUGGY

BATCH_HINT = (
    "  Hint: something mixes the examples of the batch: a reduction over axis 0, an nn.LSTM / nn.GRU / "
    "nn.MultiheadAttention built without batch_first=True applied to (B, N, D) tensors, or a BatchNorm left in "
    "train mode (call .eval() for inference). If the coupling is intended (an in-batch contrastive loss, batch "
    "statistics), declare it: @contract(batch_coupled=True), probe(..., batch_coupled=True) or "
    "@pytest.mark.shape_contracts(batch_coupled=True)."
)
MASK_HINT = (
    "  Hint: pass the mask on: model(input_ids, attention_mask=attention_mask) for text, "
    "model(input_values, attention_mask=attention_mask) for audio; without it the model attends to the padded "
    "positions and every kept position changes with the padding."
)
# measured deviations of the tiny models: random weights differ between transformers 4.x and 5.x
_BY = {
    "trim": {True: "0.062 > 1.1e-05", False: "0.077 > 1.8e-05"},
    "bn": {True: "0.62 > 1.7e-05", False: "0.7 > 1.7e-05"},
}


def _caught(name: str, error: type[ProbeViolation]) -> tuple[str, Any]:
    """The message a probe of the buggy corpus pipeline ``name`` raises, and the function's contract."""
    bug = BUGGY[name]
    args, kwargs = bug.inputs()
    with pytest.raises(error) as info:
        probe(bug.fn, *args, **kwargs)
    declared = contract_of(bug.fn)
    assert declared is not None
    return str(info.value), declared


def test_trim_invariance_message() -> None:
    """A frame count from the padded length: the example alone, unpadded, gets one frame fewer."""
    message, declared = _caught("frames_from_the_stride", TrimInvarianceError)
    assert message == (
        "Shape contract violated: trim invariance of return value.\n"
        "  Function: tests.probes.corpus._audio.frames_from_the_stride\n"
        f"    Declared: {declared.declared}\n"
        "    Return value\n"
        '      Contract: Float[Tensor, "B D"]\n'
        "      Trim invariance: example 0 alone with its padding removed (S: 1200 -> 700) differs from example 0 of "
        f"the padded batch by {_BY['trim'][TRANSFORMERS_5]}\n"
        "    Other bindings:\n"
        "      D = 32    (model.config.hidden_size)\n"
        "      B = 3     (argument input_values, axis 0)\n"
        "      S = 1200  (argument input_values, axis 1)\n"
        "  Hint: an example gives another result once its own padding is removed: a length or position counted on "
        "the padded axis (samples // stride instead of the frames of each row's length, an index into the padded "
        "extent); derive lengths from the mask (data2vec_contracts.frame_mask(config, attention_mask) for audio "
        "frames, masked_mean_pool for means)."
    )


def test_patch_locality_message() -> None:
    """A patchify that flattens (C, h, w, p, p) without moving C: cell (0, 1) is made of other patches' pixels."""
    message, declared = _caught("patchified_features_mixed", PatchLocalityError)
    assert message == (
        "Shape contract violated: patch locality of return value.\n"
        "  Function: tests.probes.corpus._vision.patchified_features_mixed\n"
        f"    Declared: {declared.declared}\n"
        "    Return value\n"
        '      Contract: Float[Tensor, "B h w D"]\n'
        "      Patch locality: changes inside a group of patches that includes patch (0, 1) of pixel_values "
        "(pixels [0:8, 8:16]) leave grid cell (h, w) = (0, 1) of example 0 unchanged, while changes in other "
        "patches move it: it does not come from its own patch; 10 of 20 cells do not\n"
        "    Other bindings:\n"
        "      D = 32  (model.config.hidden_size)\n"
        "      p = 8   (model.config.patch_size)\n"
        "      B = 2   (argument pixel_values, axis 0)\n"
        "      C = 3   (argument pixel_values, axis 1)\n"
        "      H = 16  (argument pixel_values, axis 2)\n"
        "      W = 40  (argument pixel_values, axis 3)\n"
        "      h = 2   (h = H // p with H=16, p=8; where= of the contract)\n"
        "      w = 5   (w = W // p with W=40, p=8; where= of the contract)\n"
        "  Hint: the pixels of one patch do not reach their own cell: patchify as (B, C, h, p, w, p), permute to "
        "(B, h, w, C, p, p) before flattening (or use model.embeddings.patch_embeddings), and keep the grid "
        "row-major."
    )


@pytest.mark.parametrize(
    ("name", "bindings", "said"),
    [
        (
            "mask_not_passed_to_encoder",
            [
                "      D = 32  (model.config.hidden_size)",
                "      B = 3   (argument input_ids, axis 0)",
                "      N = 8   (argument input_ids, axis 1)",
            ],
            "attention_mask masks out 8 of 24 positions of N, but Data2VecTextModel was called on its inputs "
            "(B=3, N=8) without attention_mask, so it attends to the padded positions",
        ),
        (
            "audio_class_logits_without_mask",
            [
                "      K = 2     (model.config.num_labels)",
                "      B = 3     (argument input_values, axis 0)",
                "      S = 1000  (argument input_values, axis 1)",
            ],
            "attention_mask masks out 850 of 3000 positions of S, but Data2VecAudioForSequenceClassification was "
            "called on its inputs (B=3, S=1000) without attention_mask, so it reads the padded samples",
        ),
    ],
)
def test_mask_forwarding_message(name: str, bindings: list[str], said: str) -> None:
    """A pipeline that got a padded mask and called the model without it: read from the given call alone."""
    message, declared = _caught(name, MaskForwardingError)
    module = BUGGY[name].fn.__module__
    assert message == "\n".join(
        [
            "Shape contract violated: mask forwarding of the call.",
            f"  Function: {module}.{name}",
            f"    Declared: {declared.declared}",
            "    The call",
            f"      Mask forwarding: {said}",
            "    Other bindings:",
            *bindings,
            MASK_HINT,
        ]
    )


def test_batch_independence_message_of_a_batch_norm_in_train_mode() -> None:
    """The head alone raises (BatchNorm1d at B=1), beside a copy of itself it differs; the message names the norm."""
    message, declared = _caught("bn_head_argument_in_train_mode", BatchIndependenceError)
    assert message == (
        "Shape contract violated: batch independence of return value.\n"
        "  Function: tests.probes.corpus._text.bn_head_argument_scores\n"
        f"    Declared: {declared.declared}\n"
        "    Return value\n"
        '      Contract: Float[Tensor, "B K"]\n'
        "      Batch independence: example 0 alone raises (ValueError: Expected more than 1 value per channel when "
        "training, got input size torch.Size([1, 16])); beside a copy of itself (a batch of 2) it differs from "
        f"example 0 in a batch of 3 by {_BY['bn'][TRANSFORMERS_5]} (head.1 (BatchNorm1d) in train mode: normalised "
        "with the statistics of the batch)\n"
        "    Other bindings:\n"
        "      K = 3  (head.3.out_features)\n"
        "      B = 3  (argument input_ids, axis 0)\n"
        "      N = 8  (argument input_ids, axis 1)\n" + BATCH_HINT
    )


def test_grid_consistency_message_of_a_relation_read_from_the_shapes() -> None:
    """No where=: N = 1 + h*w is read from the shapes (B is never a grid axis), and x[:, :-1] is caught."""
    message, declared = _caught("grid_without_relation_last_dropped", GridConsistencyError)
    assert message == (
        "Shape contract violated: grid consistency of return value.\n"
        "  Function: tests.probes.corpus._vision.grid_without_relation_last_dropped\n"
        f"    Declared: {declared.declared}\n"
        "    Return value\n"
        '      Contract: Float[Tensor, "B h w D"]\n'
        "      Grid consistency: grid cell (h, w) = (0, 0) of example 0 comes from token 0 of tokens where it should "
        "come from token 1 alone (N = 1 + h*w, row-major); 20 of 20 cells are wrong\n"
        "    Other bindings:\n"
        "      B = 2   (argument tokens, axis 0)\n"
        "      N = 11  (argument tokens, axis 1)\n"
        "      D = 32  (argument tokens, axis 2)\n"
        "      h = 2   (return value, axis 1)\n"
        "      w = 5   (return value, axis 2)\n"
        "  Hint: drop the CLS token with x[:, 1:] (not x[:, :-1]), reshape row-major to (B, h, w, D) and permute "
        "afterwards if channels-first is wanted (data2vec_contracts.tokens_to_grid)."
    )
