"""Known Data2Vec mistakes, recognised from the facts of a violation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..checker import Problem, Violation

__all__ = ["HINTS", "hint_for"]

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
}


def hint_for(v: Violation, values: Mapping[str, Any], context: Mapping[str, Any] | None) -> str | None:
    """A hint for the violation if a known Data2Vec mistake fits its facts, else ``None``."""
    field = v.field.lower()
    empty = v.actual in {"()", "None", "0"} or v.actual.startswith("(None")
    if v.problem in (Problem.TYPE, Problem.LENGTH) and "attention" in field and empty:
        return HINTS["sdpa"]
    if v.problem is not Problem.DIMENSION:
        return None
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


def _is_square(n: int) -> bool:
    r = int(n**0.5)
    return n > 1 and r * r == n
