"""Rules shared by the three modalities: hidden_states, attentions (and their pruned heads), loss, empty batches."""

from __future__ import annotations

import dataclasses
from typing import Any

from jaxtyping import Float
from torch import Tensor

from ..checker import Constraint, Sym, tensor_spec
from ._compat import (
    HIDDEN_STATES_NEED_A_LAYER,
    HIDDEN_STATES_SELECTABLE,
    LAYERDROP_KEEPS_SLOTS,
    PRUNED_HEADS,
    SDPA_ATTENTIONS,
)
from ._plan import ABSENT, CallView, Out, OutKind, tensor

__all__ = [
    "LOSS",
    "attentions",
    "config_dim",
    "hidden_states",
    "loss",
    "nonempty_batch",
    "pruned_attentions",
    "pruned_dims",
]

LOSS = Float[Tensor, ""]


def config_dim(config: Any, field: str) -> tuple[int, str]:
    value = getattr(config, field)
    return int(value), f"config.{field}"


def hidden_states(
    call: CallView,
    annotation: Any,
    *,
    modality: str,
    selectable: bool,
    list_on_selection: bool = False,
    variable: bool = False,
) -> Out:
    """``output_hidden_states``: None, all L+1 states, or (transformers 5.x) an index selection.

    ``variable``: layerdrop in training mode, which (5.x) leaves skipped layers out; 4.x keeps L+1.
    """
    flag = call.flag("output_hidden_states")
    if not flag:
        return ABSENT
    selectable = selectable and HIDDEN_STATES_SELECTABLE
    layers = int(call.config.num_hidden_layers)
    n = layers + 1 if layers or not HIDDEN_STATES_NEED_A_LAYER[modality] else 0
    why = f"L+1 with config.num_hidden_layers={layers}" if n else "none: config.num_hidden_layers=0"
    if variable and not LAYERDROP_KEEPS_SLOTS:
        # unselected slots are None, and layerdrop shifts which slot holds which layer
        optional = selectable and not isinstance(flag, bool)
        return Out(OutKind.TUPLE, tensor(annotation, optional=optional).spec, length=-1, max_length=n,
                   why=f"at most {why}; layerdrop in training mode", containers=(tuple, list))
    spec = tensor(annotation).spec
    if not selectable or isinstance(flag, bool):
        return Out(OutKind.TUPLE, spec, length=n, why=why)
    selected = [flag] if isinstance(flag, int) else list(flag)
    present = frozenset(i % n for i in selected if -n <= i < n)
    containers: tuple[type, ...] = (list,) if list_on_selection else (tuple,)
    return Out(OutKind.TUPLE, spec, length=n, present=present, containers=containers,
               why=f"{why}, selected {sorted(present)}")


def attentions(call: CallView, annotation: Any, *, modality: str, variable: bool = False) -> Out:
    """``output_attentions``: L maps with eager attention; otherwise what ``SDPA_ATTENTIONS`` says for
    the modality: ``()``, L Nones, or (4.x vision, which falls back to eager) L maps."""
    if not call.flag("output_attentions"):
        return ABSENT
    n = int(call.config.num_hidden_layers)
    if call.attn != "eager" and SDPA_ATTENTIONS[modality] != "maps":
        why = f"attn_implementation={call.attn!r} returns no attention weights"
        if SDPA_ATTENTIONS[modality] == "nones":
            return Out(OutKind.TUPLE, None, length=n, why=why)
        return Out(OutKind.EMPTY, why=why)
    spec = tensor(annotation).spec
    if variable and LAYERDROP_KEEPS_SLOTS:
        return Out(OutKind.TUPLE, spec, length=n, optional=True,
                   why=f"L with config.num_hidden_layers={n}; None for a layer layerdrop skipped")
    if variable:
        return Out(OutKind.TUPLE, spec, length=-1, max_length=n, why="layerdrop in training mode")
    return Out(OutKind.TUPLE, spec, length=n, why=f"L with config.num_hidden_layers={n}")


def loss(call: CallView, *labels: str) -> Out:
    if any(call.given(name) for name in labels):
        return tensor(LOSS, "labels were given")
    return Out(OutKind.NONE, why="no labels given")


def _pruned(config: Any) -> dict[int, int]:
    """The heads each pruned layer keeps (transformers 4.x ``config.pruned_heads``, which ``prune_heads()`` updates)."""
    if not PRUNED_HEADS:
        return {}
    pruned = getattr(config, "pruned_heads", None) or {}
    heads = int(config.num_attention_heads)
    return {int(layer): heads - len(set(removed)) for layer, removed in pruned.items() if removed}


def pruned_dims(config: Any) -> dict[str, tuple[int, str]]:
    """``heads<i>``: the heads layer i keeps after pruning (none without pruning)."""
    return {
        f"heads{layer}": (kept, f"config.num_attention_heads - len(config.pruned_heads[{layer}])")
        for layer, kept in sorted(_pruned(config).items())
    }


def pruned_attentions(call: CallView, out: Out, dims: str) -> Out:
    """The attention maps of a pruned model: layer i's maps have ``heads<i>`` heads (``dims`` names the axes of an
    unpruned map, with ``heads``)."""
    pruned = _pruned(call.config)
    if not pruned or out.kind is not OutKind.TUPLE or out.spec is None:
        return out
    unpruned = out.spec
    items = tuple(
        tensor_spec(Float[Tensor, dims.replace("heads", f"heads{i}")]) if i in pruned else unpruned
        for i in range(max(out.length, out.max_length))
    )
    return dataclasses.replace(out, items=items, why=f"{out.why}; pruned heads {sorted(pruned)}")


def nonempty_batch(call: CallView, field: str, *sizes: str, force: bool = False) -> list[Constraint]:
    """B >= 1 (and each of ``sizes`` >= 1): every attention layer reshapes with ``view(..., -1, head_dim)``, which
    fails on 0 elements; a model without layers runs an empty batch (``force``: a head that reshapes it anyway)."""
    if int(call.config.num_hidden_layers) == 0 and not force:
        return []
    dims = ("B", *sizes)
    return [
        Constraint(
            tuple(Sym(d).ge(1) for d in dims), "(every attention layer reshapes its input, which fails on 0 elements)",
            field,
            hint="transformers cannot run an empty input through its attention layers: skip empty batches (and "
            "empty sequences) before calling the model.",
        )
    ]
