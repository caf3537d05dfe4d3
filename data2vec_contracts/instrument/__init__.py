"""Putting contracts on code: ``@contract`` on functions, ``checked``/``enforce`` on Data2Vec models, the switches that
turn checks off or pin dimensions, and the observers that hear about every check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from ._decorator import contract as contract
    from ._decorator import contract_of as contract_of
    from ._models import checked as checked
    from ._models import data2vec_classes as data2vec_classes
    from ._models import enforce as enforce
    from ._models import is_checked as is_checked
    from ._models import plan_for as plan_for
    from ._models import unchecked as unchecked
    from ._observe import CallObserver as CallObserver
    from ._observe import CheckEvent as CheckEvent
    from ._observe import CheckKind as CheckKind
    from ._observe import add_call_observer as add_call_observer
    from ._observe import add_observer as add_observer
    from ._observe import call_observers as call_observers
    from ._observe import notify as notify
    from ._observe import observers as observers
    from ._observe import remove_call_observer as remove_call_observer
    from ._observe import remove_observer as remove_observer
    from ._switch import ENV_VAR as ENV_VAR
    from ._switch import active as active
    from ._switch import disabled as disabled
    from ._switch import env_enabled as env_enabled
    from ._switch import pinned as pinned
    from ._switch import pinned_dims as pinned_dims
    from ._switch import unpinned as unpinned

# names load on first use: the switches and observers need no torch
_EXPORTS = {
    "CallObserver": "._observe",
    "CheckEvent": "._observe",
    "CheckKind": "._observe",
    "ENV_VAR": "._switch",
    "active": "._switch",
    "add_call_observer": "._observe",
    "add_observer": "._observe",
    "call_observers": "._observe",
    "checked": "._models",
    "contract": "._decorator",
    "contract_of": "._decorator",
    "data2vec_classes": "._models",
    "disabled": "._switch",
    "enforce": "._models",
    "env_enabled": "._switch",
    "is_checked": "._models",
    "notify": "._observe",
    "observers": "._observe",
    "pinned": "._switch",
    "pinned_dims": "._switch",
    "plan_for": "._models",
    "remove_call_observer": "._observe",
    "remove_observer": "._observe",
    "unchecked": "._models",
    "unpinned": "._switch",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
