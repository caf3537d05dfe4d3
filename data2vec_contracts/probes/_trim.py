"""Trim invariance: each padded example alone, with its own padding removed, gives its row of the padded batch (at
kept positions). Padding invariance adds padding; this removes the padding the given batch has, and so catches what
more padding leaves unchanged (a frame count from the padded length counts a padded frame in every time).

Trimmed: every input over a probed mask's axis, to the extent of the example's kept positions (from its first to its
last kept position; the rows of a ``(B, C, N)`` mask share one extent, the longest). Skipped for batch-coupled
functions (an example alone is not its row) and for models that leak padding into kept positions.
"""

from __future__ import annotations

from torch import Tensor

from ._masks import NO_MASK, MaskView, mask_arguments
from ._padding import at_kept, model_leak, probed_masks
from ._run import SKIPPED, ProbeRun, by_field
from ._variants import Inputs, Leaf, OutLeaf, take

__all__ = ["MAX_TRIMMED", "check_trim"]

MAX_TRIMMED = 4


def _extent(view: MaskView, example: int) -> tuple[int, int] | None:
    """``(lo, hi)``: the kept extent of ``example`` over the mask's axis; ``None`` when it keeps nothing."""
    keep = view.leaf.tensor != 0
    if "B" in view.leaf.axes:
        keep = keep.select(view.leaf.axes["B"], example)
        axes = {d: a - (a > view.leaf.axes["B"]) for d, a in view.leaf.axes.items() if d != "B"}
    else:
        axes = dict(view.leaf.axes)
    kept = keep.movedim(axes[view.axis], 0).reshape(keep.shape[axes[view.axis]], -1).any(dim=1)
    where = kept.nonzero().flatten()
    if where.numel() == 0:
        return None
    return int(where[0]), int(where[-1]) + 1


def check_trim(run: ProbeRun) -> str | None:
    if run.coupled is not None:
        return f"declared batch-coupled ({run.coupled}): an example alone is not comparable to its row of the batch"
    if not mask_arguments(run):
        return NO_MASK
    views = [v for v in probed_masks(run) if "B" in v.leaf.axes]
    if not views:
        return "no mask argument with a batch axis B"
    leak = model_leak(run, "trim")
    if leak is not None:
        return leak
    outs = [o for o in run.base_leaves if "B" in o.axes]
    if not outs:
        return "no output has a batch axis B"
    size = int(views[0].leaf.tensor.shape[views[0].leaf.axes["B"]])
    padded: list[tuple[int, dict[str, tuple[int, int]]]] = []
    for i in range(size):
        extents: dict[str, tuple[int, int]] = {}
        for view in views:
            extent = _extent(view, i)
            if extent is None:
                break
            extents[view.axis] = extent if view.axis not in extents else _union(extents[view.axis], extent)
        else:
            if any(extent != (0, view.n) for view in views for extent in [extents[view.axis]]):
                padded.append((i, extents))
    if not padded:
        shown = ", ".join(v.path for v in views)
        return f"no example is padded (every example keeps the whole extent of {shown})"
    sizes = {v.axis: v.n for v in views}
    compared = False
    for i, extents in padded[:MAX_TRIMMED]:
        said = _said(i, extents, sizes)
        variant = _trimmed(run.inputs, i, extents, sizes)
        out = run.call_variant(variant, "trim", said, plain="consistent", changed=frozenset({"B", *extents}))
        if out is SKIPPED:
            continue
        compared |= _compare(run, outs, by_field(run.outputs(out)), i, extents, views, said)
    if len(padded) > MAX_TRIMMED:
        run.note(f"trim invariance ran the first {MAX_TRIMMED} of {len(padded)} padded examples")
    return None if compared else run.skipped_all("trim")


def _union(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return min(a[0], b[0]), max(a[1], b[1])


def _said(i: int, extents: dict[str, tuple[int, int]], sizes: dict[str, int]) -> str:
    shown = ", ".join(
        f"{axis}: {sizes[axis]} -> {hi - lo}" for axis, (lo, hi) in extents.items() if hi - lo != sizes[axis]
    )
    return f"example {i} alone with its padding removed ({shown})"


def _trimmed(inputs: Inputs, i: int, extents: dict[str, tuple[int, int]], sizes: dict[str, int]) -> Inputs:
    def f(leaf: Leaf) -> Tensor:
        t = leaf.tensor
        if "B" in leaf.axes:
            t = take(t, leaf.axes["B"], [i])
        for axis, (lo, hi) in extents.items():
            if axis in leaf.axes and t.shape[leaf.axes[axis]] == sizes[axis]:
                t = t.narrow(leaf.axes[axis], lo, hi - lo)
        return t

    return inputs.map(f)


def _compare(
    run: ProbeRun,
    outs: list[OutLeaf],
    got: dict[str, OutLeaf],
    i: int,
    extents: dict[str, tuple[int, int]],
    views: list[MaskView],
    said: str,
) -> bool:
    compared = False
    for base in outs:
        leaf = got.get(base.field)
        if leaf is None or "B" not in leaf.axes:
            run.note(f"{base.field} is missing from a trim-invariance variant; not compared")
            continue
        a = leaf.tensor
        e = take(base.tensor, base.axes["B"], [i])
        over = [axis for axis in extents if axis in base.axes and axis in leaf.axes]
        for axis in over:
            lo, hi = extents[axis]
            if e.shape[base.axes[axis]] == next(v.n for v in views if v.axis == axis):
                e = e.narrow(base.axes[axis], lo, hi - lo)
        text = f"{said} differs from example {i} of the padded batch"
        if len(over) == 1:
            axis = over[0]
            view = next(v for v in views if v.axis == axis)
            lo, hi = extents[axis]
            keep = take(view.leaf.tensor != 0, view.leaf.axes["B"], [i]).narrow(view.leaf.axes[axis], lo, hi - lo)
            keep = keep.movedim((view.leaf.axes["B"], view.leaf.axes[axis]), (0, 1))
            if a.shape == e.shape:
                a, e = at_kept(a, leaf.axes, axis, keep, True), at_kept(e, base.axes, axis, keep, True)
                text += " at kept positions"
        elif len(over) > 1:
            run.note(f"{base.field} runs over several trimmed axes ({', '.join(over)}); compared on the whole extent")
        if a.shape != e.shape:
            run.note(
                f"{base.field}: example {i} has shape {tuple(a.shape)} with its padding removed and "
                f"{tuple(e.shape)} in the padded batch (an axis derived from a trimmed one); not compared"
            )
            continue
        if not over and len(extents) == 1:
            (axis, (lo, _hi)), = extents.items()
            if run.shifted_positions(base, a, e, -lo, axis):
                compared = True
                continue
        run.compare("trim", base, a, e, text)
        compared = True
    return compared

