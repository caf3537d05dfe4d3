"""Grid consistency: each grid cell comes from the token of its patch (``N = c + h*w``, row-major)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ._run import ProbeRun, by_field
from ._variants import Inputs, Leaf, OutLeaf

__all__ = ["check_grid"]

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


def check_grid(run: ProbeRun) -> str | None:
    rules = _grid_rules(run)
    if not rules:
        return "the contract maps no tokens to a grid (no where= relation N = c + h*w)"
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
    base = by_field(run.outputs(run.call_variant(planted(None), "grid", f"marker values in {tokens.path}")))
    hits_in, hits_out = [], []
    for bit in range(bits):
        group = ((codes >> bit) & 1).bool().to(t.device)
        said = f"marker values in {tokens.path} with bit {bit} of the token index perturbed"
        hits_in.append(by_field(run.outputs(run.call_variant(planted(group), "grid", said))))
        hits_out.append(by_field(run.outputs(run.call_variant(planted(~group), "grid", said + " (complement)"))))
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
