"""Mask arguments, the axis each runs over, which of them are probed, their padding side, and what every other input
holds at the positions a probe adds: only values the function could really receive there.

* A mask is stated in ``masks=`` or inferred from the name (``attention_mask``, ``*_mask``) and a ``(B, X)`` annotation.
* A mask whose kept positions all lie inside another mask over the same axis (a QA ``context_mask`` inside
  ``attention_mask``) is nested: it is not probed on its own; it follows the outer mask's padding (0 where added).
* The padding side is read from the given rows: every row a prefix of kept positions (all-ones rows too) means
  right padding only; left-padded rows, left padding only; both kinds of rows, both sides; a declared side wins.
* At added positions every input over the axis holds, in order: the value the given call holds at every masked-out
  position of that input (the collator's -100, the pad id, a nested mask's 0, zero-padded samples), else 0 for masks,
  the text model's ``pad_token_id`` for token ids (``*ids`` but ``position_ids`` / ``token_type_ids``), -100 for
  ``*labels``, 0 for ``token_type_ids`` and floating-point inputs, and the last position repeated for other integers.
  The "other values" variant changes only inputs with no such known value (floats and plain integers whose
  masked-out values are not all the same); token ids, labels and masks always keep their known value.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ._run import ProbeRun
from ._variants import Leaf

__all__ = [
    "NO_MASK",
    "SIDES",
    "Fill",
    "MaskView",
    "fill_for",
    "is_binary",
    "mask_arguments",
    "mask_views",
]

NO_MASK = (
    "no mask argument (none named attention_mask or *_mask with a (B, X) annotation, "
    "none stated in @contract(masks=...))"
)
SIDES = ("right", "left", "both")
IGNORE_INDEX = -100


def mask_arguments(run: ProbeRun) -> list[tuple[Leaf, str]]:
    """Mask arguments and the axis each runs over: stated in ``masks=`` or inferred from the name."""
    stated = run.plan.masks
    found = []
    for leaf in run.inputs.leaves():
        if stated:
            axis = stated.get(leaf.path)
        elif _mask_named(leaf.name):
            others = [d for d in leaf.axes if d != "B"]
            axis = others[0] if len(others) == 1 and leaf.tensor.ndim == len(leaf.axes) else None
        else:
            axis = None
        if axis is not None and axis in leaf.axes:
            found.append((leaf, axis))
    return found


def _mask_named(name: str) -> bool:
    return name == "attention_mask" or name.endswith("_mask")


def is_binary(t: Tensor) -> bool:
    return bool(((t == 0) | (t == 1)).all())


@dataclass(frozen=True)
class MaskView:
    """A mask over ``axis``: its rows ``(R, n)`` (every other axis flattened), and the side its padding is on."""

    leaf: Leaf
    axis: str
    rows: Tensor  # bool (R, n): the kept positions of each row
    nested_in: str | None  # the path of the mask whose kept positions contain these, if any

    @property
    def n(self) -> int:
        return int(self.rows.shape[1])

    @property
    def path(self) -> str:
        return self.leaf.path

    def padded_rows(self) -> tuple[Tensor, Tensor, Tensor]:
        """Which rows are right-padded, left-padded, and have holes (neither; all-ones and empty rows are none)."""
        rows = self.rows
        n = self.n
        lengths = rows.sum(dim=1)
        positions = torch.arange(n).unsqueeze(0)
        prefix = (rows == (positions < lengths.unsqueeze(1))).all(dim=1)
        suffix = (rows == (positions >= (n - lengths).unsqueeze(1))).all(dim=1)
        full_or_empty = (lengths == n) | (lengths == 0)
        right = prefix & ~full_or_empty
        left = suffix & ~full_or_empty
        return right, left, ~prefix & ~suffix

    def inferred_sides(self) -> tuple[tuple[str, ...], str]:
        """The sides the given rows show, and why (for the notes)."""
        right, left, holes = (int(x.sum()) for x in self.padded_rows())
        also = f" ({holes} with masked-out positions between kept ones)" if holes else ""
        if right and left:
            return ("right", "left"), f"{self.path} has {right} right-padded and {left} left-padded rows{also}"
        if left:
            return ("left",), f"every padded row of {self.path} is left-padded{also}"
        if right:
            return ("right",), f"every padded row of {self.path} is right-padded{also}"
        if holes:
            return ("right",), f"{holes} rows of {self.path} have masked-out positions between kept ones"
        return ("right",), f"no row of {self.path} is padded, and an unpadded batch is padded on the right"


def _rows(leaf: Leaf, axis: str) -> Tensor:
    t = leaf.tensor != 0
    return t.movedim(leaf.axes[axis], -1).reshape(-1, t.shape[leaf.axes[axis]])


def mask_views(run: ProbeRun) -> list[MaskView]:
    """Every binary mask argument, each marked with the mask it is nested in (if any); masks with other values are
    left out with a note."""
    views: list[MaskView] = []
    for leaf, axis in mask_arguments(run):
        if not is_binary(leaf.tensor):
            run.note(f"{leaf.path} holds values other than 0 and 1; padding invariance skipped it")
            continue
        views.append(MaskView(leaf, axis, _rows(leaf, axis), None))
    out: list[MaskView] = []
    for view in views:
        outer = next(
            (
                other
                for other in views
                if other is not view
                and other.axis == view.axis
                and other.leaf.tensor.shape == view.leaf.tensor.shape
                and other.leaf.axes == view.leaf.axes
                and not bool((view.rows & ~other.rows).any())
                and (bool((other.rows & ~view.rows).any()) or views.index(other) < views.index(view))
            ),
            None,
        )
        out.append(MaskView(view.leaf, view.axis, view.rows, outer.path if outer is not None else None))
    return out


@dataclass(frozen=True)
class Fill:
    """What an input holds at added positions: ``value`` (``None``: the edge position repeated), and whether it is
    known (held by the given call, or fixed by convention: then "other values" keeps it)."""

    value: int | float | None
    known: bool


def _token_ids(name: str) -> bool:
    return name.endswith("ids") and name not in ("position_ids", "token_type_ids") and not name.endswith("type_ids")


def _labels(name: str) -> bool:
    return name == "labels" or name.endswith("labels")


def _held(leaf: Leaf, mask: MaskView) -> Tensor | None:
    """The value ``leaf`` holds at every masked-out position of ``mask`` in the given call, if it is one value."""
    m = mask.leaf
    t = leaf.tensor
    lead = [d for d in m.axes if d in leaf.axes]
    if set(lead) != set(m.axes) or m.tensor.ndim != len(m.axes):
        return None
    order = list(m.axes)
    keep = (m.tensor != 0).movedim([m.axes[d] for d in order], list(range(len(order))))
    moved = t.movedim([leaf.axes[d] for d in order], list(range(len(order))))
    if tuple(moved.shape[: len(order)]) != tuple(keep.shape):
        return None
    held = moved[~keep]
    if held.numel() == 0:
        return None
    first = held.flatten()[0]
    same = (held == first) | (torch.isnan(held) & torch.isnan(first)) if held.is_floating_point() else held == first
    return first if bool(same.all()) else None


def fill_for(run: ProbeRun, leaf: Leaf, mask: MaskView) -> Fill:
    """What ``leaf`` holds at positions added along ``mask``'s axis (see the module docstring)."""
    if leaf.path == mask.path:
        return Fill(0, True)
    held = _held(leaf, mask)
    if held is not None:
        value = float(held) if leaf.tensor.is_floating_point() else int(held)
        return Fill(value, True)
    dtype = leaf.tensor.dtype
    if dtype == torch.bool or _mask_named(leaf.name):
        return Fill(0, True)
    if leaf.tensor.is_floating_point() or leaf.tensor.is_complex():
        return Fill(0.0, False)
    text = run.configs.get("text")
    if _token_ids(leaf.name) and text is not None and text.pad_token_id is not None:
        return Fill(int(text.pad_token_id), True)
    if _labels(leaf.name):
        return Fill(IGNORE_INDEX, True)
    if leaf.name.endswith("type_ids"):
        return Fill(0, True)
    return Fill(None, False)
