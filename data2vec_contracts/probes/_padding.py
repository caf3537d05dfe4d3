"""Padding invariance: masked-out positions, added or with other values, change no output at kept positions."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ..contracts import max_text_length
from ._masks import mask_arguments
from ._run import ProbeRun, by_field
from ._variants import Inputs, Leaf, take

__all__ = ["check_padding", "unannotated_note"]

def unannotated_note(run: ProbeRun, prop: str) -> None:
    for leaf in run.base_leaves:
        if leaf.spec is None:
            run.note(f"{leaf.field} has no jaxtyping annotation; {prop} compares it whole or not at all")


# -- batch independence ------------------------------------------------------------------------

def _keep(mask: Leaf, axis: str) -> tuple[Tensor, bool]:
    """The kept positions: ``(B, X)`` when the mask has a batch axis, else ``(X,)``; and which."""
    keep = mask.tensor != 0
    if "B" in mask.axes:
        return keep.movedim((mask.axes["B"], mask.axes[axis]), (0, 1)), True
    return keep.movedim(mask.axes[axis], 0), False


def _at_kept(t: Tensor, axes: dict[str, int] | Any, axis: str, keep: Tensor, batched: bool) -> Tensor:
    if batched and "B" in axes:
        return t.movedim((axes["B"], axes[axis]), (0, 1))[keep]
    any_row = keep.reshape(-1, keep.shape[-1]).any(0) if batched else keep
    return t.movedim(axes[axis], 0)[any_row]


def _pad_value(run: ProbeRun, leaf: Leaf, mask: Leaf, axis: str, keep: Tensor, batched: bool) -> Tensor | None:
    """The value an integer input holds at masked-out positions: the one the caller used there, or the
    text model's pad_token_id for ``*input_ids``; ``None`` when unknown (the edge value is repeated)."""
    t = leaf.tensor
    if batched and "B" in leaf.axes and t.shape[leaf.axes["B"]] == keep.shape[0]:
        held = t.movedim((leaf.axes["B"], leaf.axes[axis]), (0, 1))[~keep]
        if held.numel() and bool((held == held.flatten()[0]).all()):
            return held.flatten()[0]
    text = run.configs.get("text")
    if text is not None and leaf.name.endswith("input_ids") and text.pad_token_id is not None:
        return torch.tensor(int(text.pad_token_id), dtype=t.dtype, device=t.device)
    return None


def check_padding(run: ProbeRun) -> str | None:
    masks = mask_arguments(run)
    if not masks:
        return (
            "no mask argument (none named attention_mask or *_mask with a (B, X) annotation, "
            "none stated in @contract(masks=...))"
        )
    audio = run.configs.get("audio")
    if audio is not None and int(getattr(audio, "num_conv_pos_embeddings", 1)) > 1 and "padding" not in run.explicit:
        return (
            f"Data2Vec audio with num_conv_pos_embeddings={audio.num_conv_pos_embeddings} > 1 leaks padded frames into "
            "kept frames through its positional convolutions (reference §6.3), so correct pipelines are not "
            "padding-invariant; pass atol={'padding': ...} to check within a tolerance"
        )
    compared = False
    for mask, axis in masks:
        values = mask.tensor
        if not bool(((values == 0) | (values == 1)).all()):
            run.note(f"{mask.path} holds values other than 0 and 1; padding invariance skipped it")
            continue
        n = int(values.shape[mask.axes[axis]])
        k = max(3, n // 4)
        text = run.configs.get("text")
        if text is not None:
            k = min(k, max_text_length(text) - n)
            if k <= 0:
                run.note(f"{mask.path}: {axis}={n} is the text model's longest input; no room to add padding")
                continue
        keep, batched = _keep(mask, axis)
        compared |= _probe_mask(run, mask, axis, n, k, keep, batched, right_only=audio is not None)
    if not compared:
        return "no output could be compared under padding variants (see notes)"
    unannotated_note(run, "padding invariance")
    return None


def _probe_mask(
    run: ProbeRun, mask: Leaf, axis: str, n: int, k: int, keep: Tensor, batched: bool, right_only: bool
) -> bool:
    generator = torch.Generator().manual_seed(0)
    copies = torch.randint(0, n, (k,), generator=generator)

    def filler(leaf: Leaf, changed: bool) -> Tensor:
        t = leaf.tensor
        ax = leaf.axes[axis]
        if leaf.path == mask.path:
            return torch.zeros_like(take(t, ax, [0] * k))
        if changed:
            return take(t, ax, copies)
        if t.is_floating_point() or t.is_complex():
            return torch.zeros_like(take(t, ax, [0] * k))
        pad = _pad_value(run, leaf, mask, axis, keep, batched)
        edge = take(t, ax, [n - 1] * k)
        return edge if pad is None else torch.full_like(edge, int(pad))

    def extended(side: str, changed: bool = False) -> Inputs:
        def f(leaf: Leaf) -> Tensor:
            if axis not in leaf.axes or leaf.tensor.shape[leaf.axes[axis]] != n:
                return leaf.tensor
            fill = filler(leaf, changed)
            parts = [leaf.tensor, fill] if side == "right" else [fill, leaf.tensor]
            return torch.cat(parts, dim=leaf.axes[axis])

        return run.inputs.map(f)

    where = f"{axis} ({mask.path})"
    right = run.call_variant(extended("right"), "padding", f"{k} masked-out positions added on the right of {where}")
    variants = [(right, run.base_leaves, 0, f"{k} masked-out positions added on the right of {where} change it")]
    if right_only:
        run.note(
            "left padding not probed: Data2Vec audio reads only the count of kept samples, so its masks must be "
            "right-padded (reference §2)"
        )
    else:
        left = run.call_variant(extended("left"), "padding", f"{k} masked-out positions added on the left of {where}")
        variants.append((left, run.base_leaves, k, f"{k} masked-out positions added on the left of {where} change it"))
    changed = run.call_variant(
        extended("right", changed=True), "padding", f"other values at {k} masked-out positions on the right of {where}"
    )
    said = f"other values at the {k} masked-out positions added on the right of {where} change it"
    variants.append((changed, run.outputs(right), 0, said))
    compared = False
    for out, reference, offset, said in variants:
        got = by_field(run.outputs(out))
        for ref in reference:
            leaf = got.get(ref.field)
            if leaf is None:
                run.note(f"{ref.field} is missing from a padding variant; not compared")
                continue
            if axis in ref.axes and axis in leaf.axes:
                grown = ref.tensor.shape[ref.axes[axis]] != n
                a = leaf.tensor.narrow(leaf.axes[axis], offset, n)
                e = ref.tensor.narrow(ref.axes[axis], 0, n) if grown else ref.tensor
                a, e = _at_kept(a, leaf.axes, axis, keep, batched), _at_kept(e, ref.axes, axis, keep, batched)
                text = f"{said} at kept positions"
            else:
                a, e, text = leaf.tensor, ref.tensor, said
            if a.shape != e.shape:
                run.note(
                    f"{ref.field}: shape {tuple(leaf.tensor.shape)} under padding variants of {mask.path} and "
                    f"{tuple(ref.tensor.shape)} without (another axis follows {axis}); not compared"
                )
                continue
            run.compare("padding", ref, a, e, text)
            compared = True
    return compared
