"""Padding invariance: masked-out positions, added or with other values, change no output at kept positions.

Positions are added only on the side the function really gets padding on (see ``_masks``: inferred from the given
rows, or declared), and hold only values it could really get there (the pad id, -100 labels, a nested mask's 0...).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ..contracts import max_text_length
from ._masks import NO_MASK, Fill, MaskView, fill_for, mask_arguments, mask_views
from ._run import SKIPPED, ProbeRun, by_field
from ._variants import Inputs, Leaf, OutLeaf, take

__all__ = ["RIGHT_ONLY", "at_kept", "check_padding", "keep_of", "model_leak", "probed_masks", "unannotated_note"]

RIGHT_ONLY = (
    "left padding not probed: Data2Vec audio reads only the count of kept samples, so its masks must be "
    "right-padded (reference §2)"
)


def unannotated_note(run: ProbeRun, prop: str) -> None:
    for leaf in run.base_leaves:
        if leaf.spec is None:
            run.note(f"{leaf.field} has no jaxtyping annotation; {prop} compares it whole or not at all")


def model_leak(run: ProbeRun, prop: str) -> str | None:
    """Why correct pipelines on these models are not padding-invariant (a leak inside transformers), unless the
    caller named a tolerance for ``prop``."""
    if prop in run.explicit:
        return None
    audio = run.configs.get("audio")
    if audio is not None and int(getattr(audio, "num_conv_pos_embeddings", 1)) > 1:
        return (
            f"Data2Vec audio with num_conv_pos_embeddings={audio.num_conv_pos_embeddings} > 1 leaks padded frames into "
            "kept frames through its positional convolutions (reference §6.3), so correct pipelines are not "
            f"padding-invariant; pass atol={{'{prop}': ...}} to check within a tolerance"
        )
    for _path, module in run.modules:
        for sub in module.modules():
            if not any(c.__name__ == "Data2VecAudioForXVector" for c in type(sub).__mro__):
                continue
            config: Any = sub.config
            kernel, dilation = tuple(config.tdnn_kernel), tuple(config.tdnn_dilation)
            if any(k > 1 and d > 1 for k, d in zip(kernel, dilation, strict=False)):
                return (
                    f"Data2VecAudioForXVector pools the first _get_tdnn_output_lengths(...) TDNN frames of each "
                    f"example, a count that ignores tdnn_dilation={dilation} (transformers, "
                    "modeling_data2vec_audio.py), so padded frames are averaged into the embedding of every padded "
                    f"example and correct pipelines are not padding-invariant; pass atol={{'{prop}': ...}} to check "
                    "within a tolerance"
                )
    return None


def probed_masks(run: ProbeRun) -> list[MaskView]:
    """The masks probed on their own: binary, and not nested in another mask (noted)."""
    views = mask_views(run)
    for view in views:
        if view.nested_in is not None:
            run.note(
                f"{view.path} lies inside {view.nested_in} (its kept positions are kept there too): it follows the "
                f"padding of {view.nested_in} (0 at added positions) and is not probed on its own"
            )
    return [view for view in views if view.nested_in is None]


def keep_of(mask: Leaf, axis: str) -> tuple[Tensor, bool]:
    """The kept positions: ``(B, X, ...)`` when the mask has a batch axis, else ``(X, ...)``; and which."""
    keep = mask.tensor != 0
    if "B" in mask.axes:
        return keep.movedim((mask.axes["B"], mask.axes[axis]), (0, 1)), True
    return keep.movedim(mask.axes[axis], 0), False


def at_kept(t: Tensor, axes: dict[str, int] | Any, axis: str, keep: Tensor, batched: bool) -> Tensor:
    """The values of ``t`` at the kept positions of ``keep`` (positions of ``axis`` kept in some row when ``t`` has
    no batch axis)."""
    if batched and "B" in axes:
        return t.movedim((axes["B"], axes[axis]), (0, 1))[keep]
    any_row = keep.reshape(keep.shape[0], keep.shape[1], -1).any(-1).any(0) if batched else keep.reshape(
        keep.shape[0], -1
    ).any(-1)
    return t.movedim(axes[axis], 0)[any_row]


def _sides(run: ProbeRun, view: MaskView) -> tuple[str, ...]:
    """The sides padding is added on for ``view``, noted with the reason."""
    where = f"{view.axis} ({view.path})"
    if run.padding_side is not None:
        sides: tuple[str, ...] = ("right", "left") if run.padding_side == "both" else (run.padding_side,)
        why = f"declared padding_side={run.padding_side!r}"
    else:
        sides, why = view.inferred_sides()
    if run.configs.get("audio") is not None:
        run.note(RIGHT_ONLY)
        sides = ("right",)
    if len(sides) == 1 and run.configs.get("audio") is None and run.padding_side is None:
        other = "left" if sides[0] == "right" else "right"
        run.note(
            f"padding added on the {sides[0]} of {where} only: {why}; the {other} side is not probed "
            "(padding_side='both' probes both)"
        )
    elif len(sides) == 2:
        run.note(f"padding added on both sides of {where}: {why}")
    run.padding_sides[view.path] = sides
    return sides


def check_padding(run: ProbeRun) -> str | None:
    if not mask_arguments(run):
        return NO_MASK
    leak = model_leak(run, "padding")
    if leak is not None:
        return leak
    compared = False
    text = run.configs.get("text")
    for view in probed_masks(run):
        n = view.n
        k = max(3, n // 4)
        if text is not None:
            k = min(k, max_text_length(text) - n)
            if k <= 0:
                run.note(f"{view.path}: {view.axis}={n} is the text model's longest input; no room to add padding")
                continue
        compared |= _probe_mask(run, view, k, _sides(run, view))
    if not compared:
        if any(s.property == "padding" for s in run.skipped_variants):
            return run.skipped_all("padding")
        return "no output could be compared under padding variants (see notes)"
    unannotated_note(run, "padding invariance")
    return None


def _probe_mask(run: ProbeRun, view: MaskView, k: int, sides: tuple[str, ...]) -> bool:
    mask, axis, n = view.leaf, view.axis, view.n
    keep, batched = keep_of(mask, axis)
    over = [leaf for leaf in run.inputs.leaves() if axis in leaf.axes and leaf.tensor.shape[leaf.axes[axis]] == n]
    fills: dict[str, Fill] = {leaf.path: fill_for(run, leaf, view) for leaf in over}
    generator = torch.Generator().manual_seed(0)
    copies = torch.randint(0, n, (k,), generator=generator)

    def block(leaf: Leaf, side: str, changed: bool) -> Tensor:
        t = leaf.tensor
        ax = leaf.axes[axis]
        fill = fills[leaf.path]
        if changed and not fill.known:
            return take(t, ax, copies)
        edge = take(t, ax, [n - 1 if side == "right" else 0] * k)
        return edge if fill.value is None else torch.full_like(edge, fill.value)

    def extended(side: str, changed: bool = False) -> Inputs:
        def f(leaf: Leaf) -> Tensor:
            if leaf.path not in fills:
                return leaf.tensor
            added = block(leaf, side, changed)
            parts = [leaf.tensor, added] if side == "right" else [added, leaf.tensor]
            return torch.cat(parts, dim=leaf.axes[axis])

        return run.inputs.map(f)

    where = f"{axis} ({mask.path})"
    changed_dims = frozenset({axis})
    variants: list[tuple[Any, list[OutLeaf], int, str]] = []
    plain: dict[str, Any] = {}
    for side in sides:
        said = f"{k} masked-out positions added on the {side} of {where}"
        out = run.call_variant(extended(side), "padding", said, plain="consistent", changed=changed_dims)
        plain[side] = out
        variants.append((out, run.base_leaves, 0 if side == "right" else k, f"{said} change it"))
    side = sides[0]
    varied = sorted(path for path, fill in fills.items() if not fill.known)
    if not varied:
        run.note(
            f"no other-values variant for {where}: every input over {axis} has a known value at masked-out positions "
            "(the value the given call holds there, the pad id, -100 or 0)"
        )
    elif plain[side] is not SKIPPED:
        said = f"other values at {k} masked-out positions on the {side} of {where}"
        out = run.call_variant(extended(side, changed=True), "padding", said, plain="consistent", changed=changed_dims)
        said = f"other values at the {k} masked-out positions added on the {side} of {where} change it"
        variants.append((out, run.outputs(plain[side]), 0 if side == "right" else k, said))
    compared = False
    for out, reference, offset, said in variants:
        if out is SKIPPED:
            continue
        got = by_field(run.outputs(out))
        for ref in reference:
            leaf = got.get(ref.field)
            if leaf is None:
                run.note(f"{ref.field} is missing from a padding variant; not compared")
                continue
            if axis in ref.axes and axis in leaf.axes:
                grown = ref.tensor.shape[ref.axes[axis]] != n
                a = leaf.tensor.narrow(leaf.axes[axis], offset, n)
                e = ref.tensor.narrow(ref.axes[axis], offset, n) if grown else ref.tensor
                a, e = at_kept(a, leaf.axes, axis, keep, batched), at_kept(e, ref.axes, axis, keep, batched)
                text = f"{said} at kept positions"
            else:
                a, e, text = leaf.tensor, ref.tensor, said
            if a.shape != e.shape:
                run.note(
                    f"{ref.field}: shape {tuple(leaf.tensor.shape)} under padding variants of {mask.path} and "
                    f"{tuple(ref.tensor.shape)} without (another axis follows {axis}); not compared"
                )
                continue
            if reference is run.base_leaves and run.shifted_positions(ref, a, e, offset, axis):
                compared = True
                continue
            run.compare("padding", ref, a, e, text)
            compared = True
    return compared
