"""Distinct sizes: with sizes where no two named dimensions are equal, and with B=1, the function keeps its contract.

An int argument that sets a dimension (named like it, or its ``dims=`` source) is varied only with the tensors it
sizes: when the dimension is on an input tensor, or a ``where=`` relation ties it to one (``N = 1 + h*w``,
``h = H // p``). Otherwise the int is kept, and so is every dimension it might describe: only B is varied, and the
notes say so. A variant a Data2Vec model's own contract rejects is skipped; a plain exception is a finding unless a
Data2Vec call shows that the variant left an input at the old size of a model dimension it changed (frame labels).
A batch-coupled function gets no B=1 call (batch statistics may need two examples).
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from ..contracts import max_text_length
from ._masks import mask_arguments
from ._run import SKIPPED, ProbeRun
from ._variants import Inputs, Leaf, resize

__all__ = ["check_sizes"]

SPATIAL = ("H", "W", "h", "w")


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
    untied = {
        name: dim
        for name, dim in int_args.items()
        if not _tied(dim, run.inputs.arguments[name], values, on_inputs, plan.rules)
    }
    for name in untied:
        del int_args[name]
    kept = set(plan.dims) - set(int_args.values())
    free = {
        d
        for d in on_inputs | set(int_args.values())
        if d not in kept and (d == "B" or d in mask_axes or d in rule_dims or d in SPATIAL)
    }
    if untied:
        kept_ints = ", ".join(f"{name}={values[dim]}" for name, dim in untied.items())
        run.note(
            f"distinct sizes kept {kept_ints}: no where= relation or input tensor ties "
            f"{'them' if len(untied) > 1 else 'it'} to the sizes of the tensors, so only B is varied "
            "(state the relation, e.g. where={'h': 'H // p'}, to vary the sizes it describes)"
        )
        free &= {"B"}
        kept |= set(untied.values())
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

    def resolve(step: dict[str, int]) -> dict[str, int]:
        """Sizes where no two dimensions of ``universe`` are equal, growing the changeable ones by ``step``."""
        sizes: dict[str, int] = {d: int(values[d]) for d in universe}
        if sizes.get("B") == 1:
            sizes["B"] = 2
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
                run.note(f"{clash[0]} and {clash[1]} are equal and neither can be resized")
                break
            grown = sizes[pick] + step.get(pick, 1)
            if cap is not None and pick in capped and grown > cap:
                grown = sizes[pick] - step.get(pick, 1)
            sizes[pick] = max(2 if pick == "B" and run.coupled is not None else 1, grown)
        return sizes

    sizes = resolve(step)

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
    made = False
    if sizes != given:
        said = f"with {described(sizes)} (no two sizes equal)"
        made = run.call_variant(variant(sizes), "sizes", said) is not SKIPPED
        rejected = run.skipped_variants[-1].rejected_by if not made else None
        if rejected is not None and any(step[d] > 1 and sizes[d] != given[d] for d in ("H", "W") if d in sizes):
            # a model that takes only its own patch grid (segmentation) may take sizes that floor to it
            fine = resolve({**step, "H": 1, "W": 1})
            if fine not in (sizes, given):
                said = f"with {described(fine)} (no two sizes equal; H, W not multiples of the patch size)"
                made = run.call_variant(variant(fine), "sizes", said) is not SKIPPED
                sizes = fine
    else:
        run.note(f"distinct sizes: the given sizes are already distinct ({described(given)})")
        made = True
    if "B" in changeable and not run.single_example_called and given.get("B") != 1:
        if run.coupled is not None:
            run.note("distinct sizes made no B=1 call: the function is declared batch-coupled")
        else:
            one = dict(sizes, B=1)
            made |= run.call_variant(variant(one), "sizes", f"with {described(one)}") is not SKIPPED
    return None if made else run.skipped_all("sizes")


def _tied(dim: str, value: Any, values: dict[str, Any], on_inputs: set[str], rules: Any) -> bool:
    """Whether an int argument setting ``dim`` sizes the tensors in a way the contract states: ``dim`` is an axis of
    an input tensor (and the int equals it), or a ``where=`` relation ties it to one."""
    if dim in on_inputs:
        return bool(values.get(dim) == value)
    for target, rule in rules.items():
        names = {target, *rule.deps}
        if dim in names and (names - {dim}) & on_inputs:
            return True
    return False
