"""Batch independence: each example gives the same output alone, in another order, and among other examples."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from ._masks import mask_arguments
from ._run import ProbeRun, by_field
from ._variants import Inputs, Leaf, take

__all__ = ["MAX_ALONE", "check_batch"]

MAX_ALONE = 8


def check_batch(run: ProbeRun) -> str | None:
    leaves = [leaf for leaf in run.inputs.leaves() if "B" in leaf.axes]
    if not leaves:
        return "no argument has a batch axis B"
    outs = [o for o in run.base_leaves if "B" in o.axes]
    if not outs:
        return "no output has a batch axis B"
    size = int(leaves[0].tensor.shape[leaves[0].axes["B"]])

    def rows(out: Any, pairs: list[tuple[int, int]], said: Callable[[int, int], str]) -> None:
        got = by_field(run.outputs(out))
        for base in outs:
            leaf = got.get(base.field)
            if leaf is None or "B" not in leaf.axes:
                run.note(f"{base.field} is missing from a batch-independence variant; not compared")
                continue
            for vrow, brow in pairs:
                a = leaf.tensor.select(leaf.axes["B"], vrow)
                e = base.tensor.select(base.axes["B"], brow)
                if a.shape != e.shape:
                    run.note(
                        f"{base.field}: example {brow} has shape {tuple(a.shape)} in a variant and "
                        f"{tuple(e.shape)} in the given call; not compared"
                    )
                    continue
                run.compare("batch", base, a, e, said(vrow, brow))

    def batch_of(index: list[int]) -> Inputs:
        return run.inputs.map(
            lambda leaf: take(leaf.tensor, leaf.axes["B"], index) if "B" in leaf.axes else leaf.tensor
        )

    if size >= 2:
        for i in range(min(size, MAX_ALONE)):
            out = run.call_variant(batch_of([i]), "batch", f"with B=1 (example {i} alone)", fails_as="sizes")
            rows(out, [(0, i)], lambda _v, b: f"example {b} alone differs from example {b} in a batch of {size}")
        run.single_example_called = True
        if size > MAX_ALONE:
            run.note(f"batch independence ran examples 0..{MAX_ALONE - 1} of {size} alone")
        order = [*range(1, size), 0]
        shown = ", ".join(map(str, order))
        out = run.call_variant(batch_of(order), "batch", f"the batch in the order ({shown})")
        rows(
            out,
            list(enumerate(order)),
            lambda v, b: f"example {b} at position {v} of the batch reordered as ({shown}) differs from example {b} "
            "in the given order",
        )
        return None
    masks = {leaf.path for leaf, _axis in mask_arguments(run)}

    def other(leaf: Leaf) -> Tensor:
        t = leaf.tensor
        return t if leaf.path in masks or t.ndim < 2 else t.flip(-1)

    for first in (True, False):

        def paired(leaf: Leaf, first: bool = first) -> Tensor:
            if "B" not in leaf.axes:
                return leaf.tensor
            parts = [leaf.tensor, other(leaf)] if first else [other(leaf), leaf.tensor]
            return torch.cat(parts, dim=leaf.axes["B"])

        where = "after" if first else "before"
        said = f"example 0 with another example {where} it (a batch of 2) differs from example 0 alone"
        out = run.call_variant(run.inputs.map(paired), "batch", f"example 0 with another example {where} it")

        def saying(_v: int, _b: int, said: str = said) -> str:
            return said

        rows(out, [(0 if first else 1, 0)], saying)
    run.note("B = 1: the other example is the given one with its non-mask inputs reversed along their last axis")
    return None


# -- padding invariance ------------------------------------------------------------------------
