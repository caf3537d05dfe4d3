"""Known Data2Vec mistakes, recognised from the facts of a violation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..checker import Problem, Violation
from ._compat import FLAT_POSITIONS_NEED_TOKEN_TYPES, TEXT_MASK_RANKS

__all__ = ["DATA2VEC_HINTS", "HINTS", "Data2VecHints", "hint_for"]

# The hidden sizes of the released checkpoints: base and large.
_SIZES = {768: "base", 1024: "large"}

HINTS = {
    "cls": (
        "Data2Vec vision returns 1 + h*w tokens with the CLS token at index 0; drop it with x[:, 1:] "
        "before reshaping to the (B, h, w, D) grid (data2vec_contracts.tokens_to_grid does this)."
    ),
    "cls_dropped": (
        "this looks like the CLS token was already dropped: the full Data2Vec vision sequence has "
        "1 + h*w tokens (CLS at index 0)."
    ),
    "sample_mask": (
        "a sample-level (B, S) audio mask was used where frames (B, T) are expected; downsample it "
        "with data2vec_contracts.frame_mask(config, attention_mask) (T = frames of each row's length)."
    ),
    "sdpa": (
        "with attn_implementation='sdpa' output_attentions=True returns no attention weights (an empty "
        "tuple, or None for every layer); build the model with attn_implementation='eager' to get them."
    ),
    "flattened": (
        "Data2VecTextForMultipleChoice returns hidden_states and attentions with the flattened batch "
        "B*C, not B; reshape them to (B, C, ...) first."
    ),
    "xvector": (
        "Data2VecAudioForXVector logits have xvector_output_dim columns (AM-softmax embedding space), "
        "not num_labels class scores."
    ),
    "segmentation": (
        "Data2VecVisionForSemanticSegmentation logits are at 4*image_size/patch_size resolution, not "
        "the input resolution; upsample them (F.interpolate) to the label size yourself."
    ),
    "long": "the loss takes int64 class ids (int32 fails in cross-entropy and one_hot): cast labels with .long().",
    "problem_type": (
        "the loss follows config.problem_type (when None: regression for num_labels=1, else int64 labels are "
        "single-label and float ones multi-label): regression takes (B,) or (B, K) numbers, "
        "single_label_classification "
        "(B,) int64 class ids, multi_label_classification float (B, K) multi-hot labels."
    ),
    "mask_4d": (
        "transformers 4.x takes a (B, N) padding mask or a 3-D (B, N, N) attention mask; 4-D masks need "
        "transformers 5."
    ),
    "mask_3d": (
        "transformers 5.x takes a (B, N) padding mask or a 4-D (B, 1, N, N) mask (boolean, or additive with -inf); "
        "add the head axis with mask[:, None]."
    ),
    "flat_positions": (
        "transformers 5.x gathers its buffered token_type_ids at position_ids, which needs (B, N) or (1, N) "
        "positions: pass position_ids[None] (or pass token_type_ids)."
    ),
}

_LABELS = ("labels", "start_positions", "end_positions")
_INT_DTYPES = ("int32", "int16", "int8", "uint8")


def hint_for(v: Violation, values: Mapping[str, Any], context: Mapping[str, Any] | None) -> str | None:
    """A hint for the violation if a known Data2Vec mistake fits its facts, else ``None``."""
    field = v.field.lower()
    empty = v.actual in {"()", "None", "0"} or v.actual.startswith("(None")
    if v.problem in (Problem.TYPE, Problem.LENGTH) and "attention" in field and empty:
        return HINTS["sdpa"]
    found = _argument_hint(v, field, context)
    if found is not None or v.problem is not Problem.DIMENSION:
        return found
    try:
        expected = int(v.expected.split(" ", 1)[0])
        actual = int(v.actual)
    except ValueError:
        return None
    pair = {expected, actual}
    if len(pair) == 2 and pair <= set(_SIZES):
        return (
            f"hidden size {actual} ({_SIZES[actual]}) where {expected} ({_SIZES[expected]}) is expected: "
            f"a {_SIZES[actual]}-size tensor or head meets a {_SIZES[expected]}-size model; build the head "
            "from the model's config (config.hidden_size) instead of a hard-coded size."
        )
    h, w = values.get("h"), values.get("w")
    grid = h * w if isinstance(h, int) and isinstance(w, int) else None
    if grid is None and "1+" in (v.dimension or "").replace(" ", ""):
        grid = expected - 1
    if grid is not None and pair == {grid, grid + 1}:
        return HINTS["cls"] if actual == grid + 1 else HINTS["cls_dropped"]
    if grid is None and actual == expected + 1 and expected >= 16 and _is_square(expected):  # 4x4: the smallest grid
        return HINTS["cls"]
    s = values.get("S")
    if isinstance(s, int) and actual == s and expected != s and s > expected:
        return HINTS["sample_mask"]
    text_model = context is not None and "Text" in str(context.get("class", ""))
    if s is None and "mask" in field and 0 < 10 * expected <= actual and not text_model:
        return HINTS["sample_mask"]  # a mask 10x longer than the frames: samples (conv stride >= 10)
    frames = (v.dimension or "") in {"T", "Ta", "frames"} or "frame" in (v.dimension or "").lower()
    if frames and "mask" in field and actual > expected:
        return HINTS["sample_mask"]
    c, b = values.get("C"), values.get("B")
    if isinstance(c, int) and isinstance(b, int) and c > 1 and actual == b * c and expected == b:
        return HINTS["flattened"]
    x = values.get("X")
    if context and isinstance(x, int) and actual == x and v.dimension == "K":
        return HINTS["xvector"]
    hs = values.get("Hs")
    if isinstance(hs, int) and expected != actual and hs in pair and v.dimension in {"H", "W", "Hs"}:
        return HINTS["segmentation"]
    return None


def _argument_hint(v: Violation, field: str, context: Mapping[str, Any] | None) -> str | None:
    """Hints about the arguments themselves: label dtypes and forms, mask ranks, 1-D positions."""
    name = field.removeprefix("argument ")
    cls = str(context.get("class", "")) if context else ""
    if name in _LABELS and v.problem is Problem.DTYPE and v.actual in _INT_DTYPES and "int64" in v.expected:
        return HINTS["long"]
    if name == "labels" and cls.endswith(("ForSequenceClassification", "ForImageClassification")) and (
        "Audio" not in cls
    ):
        return HINTS["problem_type"]
    rank = v.problem in (Problem.RANK, Problem.TYPE)
    if name == "attention_mask" and rank and "Text" in cls and "MultipleChoice" not in cls:
        if 4 not in TEXT_MASK_RANKS and "4 dims" in v.actual:
            return HINTS["mask_4d"]
        if 3 not in TEXT_MASK_RANKS and "3 dims" in v.actual:
            return HINTS["mask_3d"]
    if name == "position_ids" and rank and FLAT_POSITIONS_NEED_TOKEN_TYPES and "1 dims" in v.actual:
        return HINTS["flat_positions"]
    return None


def _is_square(n: int) -> bool:
    r = int(n**0.5)
    return n > 1 and r * r == n


class Data2VecHints:
    """The hint provider of the checker for Data2Vec contracts (an object: see ``checker.HintProvider``)."""

    __slots__ = ()

    def hint(self, violation: Violation, values: Mapping[str, Any], context: Mapping[str, Any] | None) -> str | None:
        return hint_for(violation, values, context)


DATA2VEC_HINTS = Data2VecHints()
