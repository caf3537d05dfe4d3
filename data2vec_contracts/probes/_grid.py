"""Grid consistency: each grid cell comes from the token of its patch (``N = c + h*w``, row-major)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ._run import SKIPPED, ProbeRun, by_field
from ._variants import Inputs, Leaf, OutLeaf

__all__ = ["check_grid"]

#: The most leading tokens (CLS, registers) an inferred grid relation ``N = c + a*b`` allows before the patches.
MAX_PREFIX = 8


def _grid_rules(run: ProbeRun) -> list[tuple[str, str, str, int, str]]:
    """``(N, h, w, offset, formula)`` for each ``where`` rule of the form ``N = offset + h*w``."""
    found = []
    for target, rule in run.plan.rules.items():
        if len(rule.deps) != 2:
            continue
        a, b = rule.deps
        try:
            offsets = {rule.compute({a: x, b: y}) - x * y for x, y in ((2, 3), (3, 5), (4, 7), (1, 1))}
        except Exception:
            continue
        if len(offsets) == 1:
            found.append((target, a, b, offsets.pop(), rule.formula))
    return found


def _inferred_rules(run: ProbeRun) -> tuple[list[tuple[str, str, str, int, str]], str | None]:
    """Grid relations read from the shapes when the contract states none: an output that keeps the feature axis D of
    a floating-point ``(B, N, D)`` or ``(N, D)`` input, and has two more axes (never B, never an axis of the tokens)
    whose product plus ``0 <= c <= MAX_PREFIX`` is N. Returns the relation when exactly one fits, else why none is
    used."""
    candidates: dict[tuple[str, str, str, int], None] = {}
    for leaf in run.inputs.leaves():
        t = leaf.tensor
        if not t.is_floating_point() or not 2 <= t.ndim <= 3:  # tokens are (B, N, D) or (N, D), never pixels
            continue
        token_axes = [d for d, ax in leaf.axes.items() if ax == t.ndim - 2 and d != "B"]
        features = [d for d, ax in leaf.axes.items() if ax == t.ndim - 1]
        for target in token_axes:
            n = int(t.shape[leaf.axes[target]])
            for out in run.base_leaves:
                if not features or features[0] not in out.axes:  # a grid of the tokens carries their features
                    continue
                dims = [d for d in out.axes if d != "B" and d not in leaf.axes]
                for i, first in enumerate(dims):
                    for second in dims[i + 1 :]:
                        a, b = sorted((first, second), key=lambda d: out.axes[d])
                        rows, cols = int(out.tensor.shape[out.axes[a]]), int(out.tensor.shape[out.axes[b]])
                        offset = n - rows * cols
                        if rows * cols >= 2 and 0 <= offset <= MAX_PREFIX:
                            candidates[(target, a, b, offset)] = None
    if not candidates:
        return [], None
    if len(candidates) > 1:
        shown = ", ".join(f"{t} = {c} + {a}*{b}" for t, a, b, c in candidates)
        return [], (
            f"the shapes fit several token-to-grid relations ({shown}); state the one meant with where= "
            "(e.g. where={'N': '1 + h*w'})"
        )
    (target, a, b, offset), = candidates
    formula = f"{offset} + {a}*{b}" if offset else f"{a}*{b}"
    run.note(
        f"grid consistency: {target} = {formula} read from the shapes (the contract states no where= relation; "
        f"where={{'{target}': '{formula}'}} states it)"
    )
    return [(target, a, b, offset, formula)], None


def check_grid(run: ProbeRun) -> str | None:
    rules = _grid_rules(run)
    if not rules:
        rules, ambiguous = _inferred_rules(run)
        if ambiguous is not None:
            return ambiguous
    if not rules:
        return (
            "the contract maps no tokens to a grid (no where= relation N = c + h*w, and no two output axes whose "
            "product plus c is a token axis)"
        )
    ran = False
    for target, a, b, offset, formula in rules:
        grids = [o for o in run.base_leaves if a in o.axes and b in o.axes]
        tokens = [leaf for leaf in run.inputs.leaves() if target in leaf.axes and leaf.tensor.is_floating_point()]
        if not grids or not tokens:
            continue
        for leaf in tokens:
            _probe_grid(run, leaf, target, a, b, offset, formula, grids)
            ran = True
    if not ran:
        return "no floating-point argument over the token axis and output over both grid axes of a where= relation"
    return None


def _probe_grid(
    run: ProbeRun,
    tokens: Leaf,
    target: str,
    a: str,
    b: str,
    offset: int,
    formula: str,
    grids: list[OutLeaf],
) -> None:
    t = tokens.tensor
    ax = tokens.axes[target]
    n = int(t.shape[ax])
    generator = torch.Generator().manual_seed(0)
    markers = torch.randn(t.shape, generator=generator).to(t.dtype).to(t.device)
    deltas = torch.randn(t.shape, generator=generator).to(t.dtype).to(t.device)
    shape = [1] * t.ndim
    shape[ax] = n

    def planted(group: Tensor | None) -> Inputs:
        value = markers if group is None else markers + deltas * group.reshape(shape).to(t.dtype)
        return run.inputs.map(lambda leaf: value if leaf.path == tokens.path else leaf.tensor)

    bits = max(1, math.ceil(math.log2(n + 1)))
    codes = torch.arange(n) + 1
    first = run.call_variant(planted(None), "grid", f"marker values in {tokens.path}")
    if first is SKIPPED:
        return
    base = by_field(run.outputs(first))
    hits_in, hits_out = [], []
    for bit in range(bits):
        group = ((codes >> bit) & 1).bool().to(t.device)
        said = f"marker values in {tokens.path} with bit {bit} of the token index perturbed"
        got_in = run.call_variant(planted(group), "grid", said)
        got_out = run.call_variant(planted(~group), "grid", said + " (complement)")
        if got_in is SKIPPED or got_out is SKIPPED:
            return
        hits_in.append(by_field(run.outputs(got_in)))
        hits_out.append(by_field(run.outputs(got_out)))
    atol, rtol = run.tolerances["grid"]
    for grid in grids:
        row, col = sorted((a, b), key=lambda d: grid.axes[d])
        ref = base[grid.field]
        keep_axes = [ax_ for ax_ in (grid.axes.get("B"), grid.axes[row], grid.axes[col]) if ax_ is not None]

        def changed(out: dict[str, OutLeaf], ref: OutLeaf = ref, keep_axes: list[int] = keep_axes) -> Tensor:
            diff = (out[ref.field].tensor - ref.tensor).abs() > atol + rtol * ref.tensor.abs()
            others = [i for i in range(diff.ndim) if i not in keep_axes]
            diff = diff.permute(*keep_axes, *others)
            return diff.flatten(len(keep_axes)).any(dim=-1) if others else diff

        ins = torch.stack([changed(o) for o in hits_in])
        outs = torch.stack([changed(o) for o in hits_out])
        weights = (2 ** torch.arange(bits)).reshape(-1, *[1] * (ins.ndim - 1))
        source = (ins.long() * weights).sum(0) - 1
        single = (ins ^ outs).all(0)
        none = (~ins & ~outs).all(0)
        h, w = source.shape[-2], source.shape[-1]
        expected = offset + torch.arange(h).reshape(-1, 1) * w + torch.arange(w).reshape(1, -1)
        wrong = (source != expected) | ~single
        if not bool(wrong.any()):
            continue
        index = [int(i) for i in wrong.nonzero()[0]]
        i, j = index[-2], index[-1]
        example = f" of example {index[0]}" if len(index) == 3 else ""
        exp = int(expected[i, j])
        cell = f"grid cell ({row}, {col}) = ({i}, {j}){example}"
        if bool(none[tuple(index)]):
            what = f"depends on no token of {tokens.path}"
        elif not bool(single[tuple(index)]):
            what = f"mixes several tokens of {tokens.path}"
        else:
            what = f"comes from token {int(source[tuple(index)])} of {tokens.path}"
        count = int(wrong.sum())
        said = (
            f"{cell} {what} where it should come from token {exp} alone ({target} = {formula}, row-major); "
            f"{count} of {wrong.numel()} cells are wrong"
        )
        run.fail("grid", grid.field, grid.spec, said)
