"""Batch independence: each example gives the same output alone, in another order, and among other examples.

Not probed when the function is declared batch-coupled (``@contract(batch_coupled=True)``, ``probe(...,
batch_coupled=True)``, the marker): an in-batch contrastive loss or batch statistics couple the examples on purpose.
An example alone that raises a plain exception (BatchNorm in train mode at B=1) is looked at again beside a copy of
itself (a batch of 2): it must then give its row of the given batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from ._masks import mask_arguments
from ._run import SKIPPED, ProbeRun, by_field, summary
from ._variants import Inputs, Leaf, take

__all__ = ["MAX_ALONE", "check_batch"]

MAX_ALONE = 8


def check_batch(run: ProbeRun) -> str | None:
    if run.coupled is not None:
        return f"declared batch-coupled ({run.coupled}): the examples are coupled on purpose"
    leaves = [leaf for leaf in run.inputs.leaves() if "B" in leaf.axes]
    if not leaves:
        return "no argument has a batch axis B"
    outs = [o for o in run.base_leaves if "B" in o.axes]
    if not outs:
        return "no output has a batch axis B"
    size = int(leaves[0].tensor.shape[leaves[0].axes["B"]])
    compared = False
    shown_norms = ", ".join(run.train_batch_norms)
    after = f" ({shown_norms} in train mode: normalised with the statistics of the batch)" if shown_norms else ""

    def rows(out: Any, pairs: list[tuple[int, int]], said: Callable[[int, int], str]) -> None:
        nonlocal compared
        if out is SKIPPED:
            return
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
                run.compare("batch", base, a, e, said(vrow, brow), after)
                compared = True

    def batch_of(index: list[int]) -> Inputs:
        return run.inputs.map(
            lambda leaf: take(leaf.tensor, leaf.axes["B"], index) if "B" in leaf.axes else leaf.tensor
        )

    if size >= 2:
        for i in range(min(size, MAX_ALONE)):
            alone = f"with B=1 (example {i} alone)"
            try:
                out = run.call_variant(batch_of([i]), "batch", alone, fails_as="sizes", plain="raise")
            except Exception as exc:
                if getattr(exc, "violation", None) is not None:
                    raise
                # a plain exception: the example alone cannot run (BatchNorm in train mode)
                _beside_itself(run, batch_of([i, i]), i, size, exc, rows)
                continue
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
        return None if compared else run.skipped_all("batch")
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
    return None if compared else run.skipped_all("batch")


def _beside_itself(
    run: ProbeRun,
    twin: Inputs,
    i: int,
    size: int,
    exc: Exception,
    rows: Callable[[Any, list[tuple[int, int]], Callable[[int, int], str]], None],
) -> None:
    """Example ``i`` alone raised ``exc``: beside a copy of itself it must give its row; if that raises too, the
    example alone raising is the finding."""
    __tracebackhide__ = True
    alone = f"with B=1 (example {i} alone)"
    try:
        out = run.call_variant(twin, "batch", f"example {i} beside a copy of itself", plain="raise")
    except Exception as again:
        if getattr(again, "violation", None) is not None:
            raise
        run.fail("batch", "the call", None, f"{alone}: {summary(exc)}", exc)
    said = (
        f"example {i} alone raises ({summary(exc).removeprefix('the call raises ')}); beside a copy of itself "
        f"(a batch of 2) it differs from example {i} in a batch of {size}"
    )
    rows(out, [(0, i)], lambda _v, _b: said)
    run.note(f"example {i} alone: {summary(exc)}; compared beside a copy of itself instead")
