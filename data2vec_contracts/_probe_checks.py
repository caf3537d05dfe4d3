"""The four probe properties. Each returns ``None`` when it ran, or the reason it does not apply."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from ._probe import ProbeRun
from ._probe_variants import Inputs, Leaf, OutLeaf, resize, take
from .contracts._lengths import max_text_length

__all__ = ["CHECKS", "mask_arguments"]

MAX_ALONE = 8
SPATIAL = ("H", "W", "h", "w")


def _by_field(leaves: list[OutLeaf]) -> dict[str, OutLeaf]:
    return {leaf.field: leaf for leaf in leaves}


def _unannotated_note(run: ProbeRun, prop: str) -> None:
    for leaf in run.base_leaves:
        if leaf.spec is None:
            run.note(f"{leaf.field} has no jaxtyping annotation; {prop} compares it whole or not at all")


# -- batch independence ------------------------------------------------------------------------
def check_batch(run: ProbeRun) -> str | None:
    leaves = [leaf for leaf in run.inputs.leaves() if "B" in leaf.axes]
    if not leaves:
        return "no argument has a batch axis B"
    outs = [o for o in run.base_leaves if "B" in o.axes]
    if not outs:
        return "no output has a batch axis B"
    size = int(leaves[0].tensor.shape[leaves[0].axes["B"]])

    def rows(out: Any, pairs: list[tuple[int, int]], said: Callable[[int, int], str]) -> None:
        got = _by_field(run.outputs(out))
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
    _unannotated_note(run, "padding invariance")
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
        got = _by_field(run.outputs(out))
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


# -- grid consistency --------------------------------------------------------------------------
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
    base = _by_field(run.outputs(run.call_variant(planted(None), "grid", f"marker values in {tokens.path}")))
    hits_in, hits_out = [], []
    for bit in range(bits):
        group = ((codes >> bit) & 1).bool().to(t.device)
        said = f"marker values in {tokens.path} with bit {bit} of the token index perturbed"
        hits_in.append(_by_field(run.outputs(run.call_variant(planted(group), "grid", said))))
        hits_out.append(_by_field(run.outputs(run.call_variant(planted(~group), "grid", said + " (complement)"))))
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


# -- distinct sizes ----------------------------------------------------------------------------
def check_sizes(run: ProbeRun) -> str | None:
    plan = run.plan
    values: dict[str, Any] = run.base_scope.values if run.base_scope is not None else {}
    leaves = run.inputs.leaves()
    on_inputs = {d for leaf in leaves for d in leaf.axes}
    # int arguments that set a dimension: named like it, or its dims= source (``dims={"h": "h"}``)
    int_args: dict[str, str] = {}
    for name, value in run.inputs.arguments.items():
        if isinstance(value, int) and not isinstance(value, bool):
            source = next((d for d, src in plan.dims.items() if src == name), name)
            if source in values:
                int_args[name] = source
    masks = mask_arguments(run)
    mask_axes = {axis for _leaf, axis in masks}
    rule_dims = {d for t, r in plan.rules.items() for d in (t, *r.deps)}
    kept = set(plan.dims) - set(int_args.values())
    free = {
        d
        for d in on_inputs | set(int_args.values())
        if d not in kept and (d == "B" or d in mask_axes or d in rule_dims or d in SPATIAL)
    }
    derived = {
        t: r
        for t, r in plan.rules.items()
        if t not in kept and all(d in values for d in r.deps) and any(d in free for d in r.deps)
    }
    changeable = [d for d in values if d in free and d not in derived]
    universe = [
        d
        for d in values
        if isinstance(values[d], int) and (d in on_inputs or d in int_args.values() or d in rule_dims or d in plan.dims)
    ]
    if not changeable:
        return "no named dimension can be resized (B, mask axes, where= dims and H/W/h/w are; dims= ones are kept)"
    step = dict.fromkeys(universe, 1)
    vision = run.configs.get("vision")
    raw = vision.patch_size if vision is not None else values.get("p", values.get("P", 1))
    patch = int(raw[0] if isinstance(raw, (tuple, list)) else raw)
    for d in ("H", "W"):
        step[d] = patch
    text = run.configs.get("text")
    cap = max_text_length(text) if text is not None else None
    capped = set(mask_axes) | {d for leaf in leaves if leaf.name.endswith("input_ids") for d in leaf.axes}
    capped.discard("B")

    sizes: dict[str, int] = {d: int(values[d]) for d in universe}
    if sizes.get("B") == 1:
        sizes["B"] = 2
    unresolved = None
    for _ in range(64):
        for t, rule in derived.items():
            sizes[t] = int(rule.compute(sizes))
        clash = next(
            ((x, y) for i, x in enumerate(universe) for y in universe[i + 1 :] if sizes[x] == sizes[y]), None
        )
        if clash is None:
            break
        pick = None
        for d in reversed(clash):
            if d in changeable:
                pick = d
                break
            if d in derived:
                deps = [e for e in derived[d].deps if e in changeable]
                if deps:
                    pick = deps[-1]
                    break
        if pick is None:
            unresolved = clash
            break
        grown = sizes[pick] + step.get(pick, 1)
        if cap is not None and pick in capped and grown > cap:
            grown = sizes[pick] - step.get(pick, 1)
        sizes[pick] = max(1, grown)
    if unresolved is not None:
        run.note(f"{unresolved[0]} and {unresolved[1]} are equal and neither can be resized")

    shown = [d for d in universe if d in changeable or d in derived]

    def described(s: dict[str, int]) -> str:
        return ", ".join(f"{d}={s[d]}" for d in shown)

    def variant(s: dict[str, int]) -> Inputs:
        mask_paths = {leaf.path: axis for leaf, axis in masks}

        def f(leaf: Leaf) -> Tensor:
            t = leaf.tensor
            for d, ax in leaf.axes.items():
                if d in s and t.shape[ax] != s[d]:
                    t = resize(t, ax, s[d], mask=mask_paths.get(leaf.path) == d)
            return t

        return run.inputs.map(f, {name: s[dim] for name, dim in int_args.items()})

    given = {d: int(values[d]) for d in universe}
    if sizes != given:
        said = f"with {described(sizes)} (no two sizes equal)"
        run.call_variant(variant(sizes), "sizes", said)
    else:
        run.note(f"distinct sizes: the given sizes are already distinct ({described(given)})")
    if "B" in changeable and not run.single_example_called and given.get("B") != 1:
        one = dict(sizes, B=1)
        run.call_variant(variant(one), "sizes", f"with {described(one)}")
    return None


CHECKS: dict[str, Callable[[ProbeRun], str | None]] = {
    "batch": check_batch,
    "padding": check_padding,
    "sizes": check_sizes,
    "grid": check_grid,
}
