"""Mask forwarding: a function that received a mask with padding passes an attention mask to the Data2Vec text and
audio models it calls on those inputs.

Read from the given call alone (no extra call): the probe checks every Data2Vec class while it runs
(``enforce()``), and each checked call names the arguments it was given (``CheckEvent.arguments``). A model call
without ``attention_mask`` is reported when its batch rows and its length (N for text, S for audio) are those of a
mask argument that masks out at least one position, and no unpadded mask argument has that shape too: a mask of
all ones may be dropped on purpose, and calls on other inputs (one trimmed example at a time) are not the padded
batch.
"""

from __future__ import annotations

import math

from ._masks import NO_MASK, is_binary, mask_arguments
from ._run import ProbeRun

__all__ = ["check_mask"]

_LENGTH = {"Data2VecText": ("N", "attends to the padded positions"), "Data2VecAudio": ("S", "reads the padded samples")}


def check_mask(run: ProbeRun) -> str | None:
    masks = mask_arguments(run)
    if not masks:
        return NO_MASK
    calls = [e for e in run.model_events() if e.contract.startswith(tuple(_LENGTH))]
    if not calls:
        off = "" if run.enforcing else " (Data2Vec models were not checked during the given call)"
        return f"the given call makes no call of a Data2Vec text or audio model{off}"
    padded = [(leaf, axis) for leaf, axis in masks if is_binary(leaf.tensor) and bool((leaf.tensor == 0).any())]
    if not padded:
        return (
            "no mask argument masks out a position in the given call, so a model call without attention_mask "
            "reads no padding"
        )
    for event in reversed(calls):  # the outermost call of a head completes last
        if "attention_mask" in event.arguments:
            continue
        prefix = next(p for p in _LENGTH if event.contract.startswith(p))
        dim, effect = _LENGTH[prefix]
        length = event.dims.get(dim)
        rows = math.prod(int(event.dims[d]) for d in ("B", "C") if isinstance(event.dims.get(d), int))
        fits = [
            (leaf, axis)
            for leaf, axis in masks
            if int(leaf.tensor.shape[leaf.axes[axis]]) == length
            and leaf.tensor.numel() // max(int(leaf.tensor.shape[leaf.axes[axis]]), 1) == rows
        ]
        if any(not any(leaf is p for p, _a in padded) for leaf, _axis in fits):
            continue  # an unpadded mask of the same shape: the call may be on its inputs
        for leaf, axis in fits:
            masked = int((leaf.tensor == 0).sum())
            shape = ", ".join(f"{d}={event.dims[d]}" for d in ("B", "C", dim) if d in event.dims)
            run.fail(
                "mask",
                "the call",
                None,
                f"{leaf.path} masks out {masked} of {leaf.tensor.numel()} positions of {axis}, but {event.contract} "
                f"was called on its inputs ({shape}) without attention_mask, so it {effect}",
            )
    return None
