"""Output rules shared by the three modalities: hidden_states, attentions, loss."""

from __future__ import annotations

from typing import Any

from jaxtyping import Float
from torch import Tensor

from ._compat import HIDDEN_STATES_NEED_A_LAYER, HIDDEN_STATES_SELECTABLE, LAYERDROP_KEEPS_SLOTS, SDPA_ATTENTIONS
from ._plan import ABSENT, CallView, Out, OutKind, tensor

__all__ = ["LOSS", "attentions", "config_dim", "hidden_states", "loss"]

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
