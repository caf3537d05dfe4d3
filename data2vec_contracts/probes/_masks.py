"""Mask arguments and the axis each runs over: stated in ``masks=`` or inferred from the name."""

from __future__ import annotations

from ._run import ProbeRun
from ._variants import Leaf

__all__ = ["mask_arguments"]

def mask_arguments(run: ProbeRun) -> list[tuple[Leaf, str]]:
    """Mask arguments and the axis each runs over: stated in ``masks=`` or inferred from the name."""
    stated = run.plan.masks
    found = []
    for leaf in run.inputs.leaves():
        if stated:
            axis = stated.get(leaf.path)
        elif leaf.name == "attention_mask" or leaf.name.endswith("_mask"):
            others = [d for d in leaf.axes if d != "B"]
            axis = others[0] if len(others) == 1 and leaf.tensor.ndim == len(leaf.axes) else None
        else:
            axis = None
        if axis is not None and axis in leaf.axes:
            found.append((leaf, axis))
    return found
