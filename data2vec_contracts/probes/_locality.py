"""Patch locality (vision): each cell of an output patch grid, or each patch token, depends on the pixels of its own
patch.

For a floating-point input with axes H and W and a patch size p (the Data2Vec vision config among the arguments, or
a dimension named p), the grid is ``(h, w) = (H // p, W // p)``; an output is probed when it has two axes of sizes
h and w (never B, never an axis of the pixels), or, for a ``(B, N, D)`` output, a token axis of size ``c + h*w``
(``0 <= c <= 8`` leading tokens).
Patches are perturbed in groups, one group per bit of their index (and its complement), as grid consistency does
with tokens: ``2*ceil(log2(h*w + 1))`` calls. A cell that some group containing its own patch leaves unchanged,
while other groups move it, does not come from its patch: a patchify that mixes pixels of several patches, a grid
transposed against the image. Attention mixes every patch into every token: such outputs depend on their own patch
and pass (locality is then not tested beyond that). Only floating-point outputs are probed (an argmax need not move
with a small change of its own patch). Skipped when a Data2Vec vision model is called with
``bool_masked_pos`` (masked patches take the mask token, not their pixels).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ._run import SKIPPED, ProbeRun, by_field
from ._variants import Inputs, Leaf, OutLeaf

__all__ = ["MAX_PREFIX", "check_locality"]

MAX_PREFIX = 8


def _patch(run: ProbeRun) -> tuple[int, int] | None:
    vision = run.configs.get("vision")
    raw = vision.patch_size if vision is not None else None
    if raw is None and run.base_scope is not None:
        values = run.base_scope.values
        raw = values.get("p", values.get("P"))
    if raw is None:
        return None
    if isinstance(raw, (tuple, list)):
        return int(raw[0]), int(raw[1])
    return int(raw), int(raw)


def _targets(run: ProbeRun, pixels: Leaf, h: int, w: int) -> tuple[list[tuple[OutLeaf, tuple[str, ...], int]], str]:
    """``(output, cell axes, offset)`` for each output over the patch grid: ``(a, b)`` grid axes with offset 0, or
    ``(token axis,)`` with the count of leading tokens; and a note when an output fits several ways."""
    found: list[tuple[OutLeaf, tuple[str, ...], int]] = []
    ambiguous = []
    for out in run.base_leaves:
        if not out.tensor.is_floating_point():  # a class map (argmax) need not move with a small change
            continue
        dims = [d for d in out.axes if d != "B" and d not in pixels.axes]
        shape = {d: int(out.tensor.shape[out.axes[d]]) for d in dims}
        grids = [
            (a, b)
            for a in dims
            for b in dims
            if a != b and out.axes[a] < out.axes[b] and shape[a] == h and shape[b] == w
        ]
        tokens = [(d,) for d in dims if 0 <= shape[d] - h * w <= MAX_PREFIX and out.tensor.ndim <= 3]
        fits = grids + tokens
        if len(fits) == 1:
            cells = fits[0]
            found.append((out, cells, shape[cells[0]] - h * w if len(cells) == 1 else 0))
        elif fits:
            ambiguous.append(f"{out.field} ({' or '.join(', '.join(f) for f in fits)})")
    why = f"outputs over the patch grid in several ways: {'; '.join(ambiguous)}" if ambiguous else ""
    return found, why


def check_locality(run: ProbeRun) -> str | None:
    pixels = [
        leaf
        for leaf in run.inputs.leaves()
        if leaf.tensor.is_floating_point() and "H" in leaf.axes and "W" in leaf.axes
    ]
    if not pixels:
        return "no floating-point argument has pixel axes H and W"
    patch = _patch(run)
    if patch is None:
        return "no patch size (no Data2Vec vision model among the arguments, no dimension p)"
    masked = [e.contract for e in run.model_events() if "bool_masked_pos" in e.arguments]
    if masked:
        return f"{masked[0]} was called with bool_masked_pos: masked patches take the mask token, not their pixels"
    ran = False
    why = ""
    for leaf in pixels:
        h = int(leaf.tensor.shape[leaf.axes["H"]]) // patch[0]
        w = int(leaf.tensor.shape[leaf.axes["W"]]) // patch[1]
        if h * w < 2:
            run.note(f"{leaf.path}: a patch grid of {h}x{w}; patch locality needs two patches")
            continue
        targets, why = _targets(run, leaf, h, w)
        if why:
            run.note(f"patch locality: {why}; not compared")
        if targets:
            ran |= _probe(run, leaf, patch, h, w, targets)
    if not ran:
        return (
            "no output over the patch grid of the pixels (two axes of sizes H // p and W // p, or a token axis "
            "c + (H // p)*(W // p))"
        )
    return None


def _with(run: ProbeRun, leaf: Leaf, value: Tensor) -> Inputs:
    return run.inputs.map(lambda x: value if x.path == leaf.path else x.tensor)


Target = tuple[OutLeaf, tuple[str, ...], int]


def _probe(run: ProbeRun, leaf: Leaf, patch: tuple[int, int], h: int, w: int, targets: list[Target]) -> bool:
    t = leaf.tensor
    hx, wx = leaf.axes["H"], leaf.axes["W"]
    generator = torch.Generator().manual_seed(0)
    noise = torch.randn(t.shape, generator=generator).to(t.dtype).to(t.device)
    rows = torch.arange(t.shape[hx]) // patch[0]
    cols = torch.arange(t.shape[wx]) // patch[1]
    inside = (rows < h).unsqueeze(1) & (cols < w).unsqueeze(0)
    index = (rows.clamp(max=h - 1).unsqueeze(1) * w + cols.clamp(max=w - 1).unsqueeze(0)) + 1  # the patch code
    shape = [1] * t.ndim
    shape[hx], shape[wx] = int(t.shape[hx]), int(t.shape[wx])
    bits = max(1, math.ceil(math.log2(h * w + 1)))

    def perturbed(group: Tensor) -> Tensor:
        where = (group & inside).reshape(shape).to(t.dtype)
        return t + noise * where

    hits_in, hits_out = [], []
    for bit in range(bits):
        group = ((index >> bit) & 1).bool()
        said = f"{leaf.path} changed inside the patches with bit {bit} of their index set"
        got_in = run.call_variant(_with(run, leaf, perturbed(group)), "locality", said)
        got_out = run.call_variant(_with(run, leaf, perturbed(~group)), "locality", said + " (complement)")
        if got_in is SKIPPED or got_out is SKIPPED:
            return False
        hits_in.append(by_field(run.outputs(got_in)))
        hits_out.append(by_field(run.outputs(got_out)))
    atol, rtol = run.tolerances["locality"]
    codes = torch.arange(h * w) + 1
    for out, cells, offset in targets:

        def moved(
            got: dict[str, OutLeaf], out: OutLeaf = out, cells: tuple[str, ...] = cells, offset: int = offset
        ) -> Tensor:
            ref = out.tensor
            new = got[out.field].tensor
            diff = (new - ref).abs() > atol + rtol * ref.abs()
            keep = [ax for ax in (out.axes.get("B"), *(out.axes[c] for c in cells)) if ax is not None]
            others = [i for i in range(diff.ndim) if i not in keep]
            diff = diff.permute(*keep, *others)
            diff = diff.flatten(len(keep)).any(dim=-1) if others else diff
            lead = 1 if "B" in out.axes else 0
            diff = diff.flatten(lead) if len(cells) == 2 else diff
            return diff.narrow(lead, offset, h * w) if len(cells) == 1 else diff

        if any(out.field not in g for g in (*hits_in, *hits_out)):
            run.note(f"{out.field} is missing from a patch-locality variant; not compared")
            continue
        ins = torch.stack([moved(g) for g in hits_in])  # (bits, [B,] h*w)
        outs = torch.stack([moved(g) for g in hits_out])
        own = torch.stack([((codes >> b) & 1).bool() for b in range(bits)])  # (bits, h*w)
        own = own.reshape(bits, *([1] * (ins.ndim - 2)), h * w)
        not_own = ((own & ~ins) | (~own & ~outs)).any(dim=0)
        moves = (ins | outs).any(dim=0)
        wrong = not_own & moves
        if not bool(wrong.any()):
            continue
        where = [int(i) for i in wrong.nonzero()[0]]
        q = where[-1]
        i, j = divmod(q, w)
        example = f" of example {where[0]}" if len(where) == 2 else ""
        pixels = f"pixels [{i * patch[0]}:{(i + 1) * patch[0]}, {j * patch[1]}:{(j + 1) * patch[1]}]"
        if len(cells) == 2:
            cell = f"grid cell ({cells[0]}, {cells[1]}) = ({i}, {j}){example}"
        else:
            cell = f"token {offset + q}{example} (the token of that patch, {cells[0]} = {offset} + h*w)"
        said = (
            f"changes inside a group of patches that includes patch ({i}, {j}) of {leaf.path} ({pixels}) leave "
            f"{cell} unchanged, while changes in other patches move it: it does not come from its own patch; "
            f"{int(wrong.sum())} of {wrong.numel()} cells do not"
        )
        run.fail("locality", out.field, out.spec, said)
    return True
