"""Observers: of completed checks (the plugin's coverage report and recorder fixture) and of checked calls about to
run (``auto_probe``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

__all__ = [
    "CallObserver",
    "CheckEvent",
    "CheckKind",
    "add_call_observer",
    "add_observer",
    "call_observers",
    "notify",
    "observers",
    "remove_call_observer",
    "remove_observer",
]


class CheckKind(str, Enum):
    MODEL = "model"
    FUNCTION = "function"


@dataclass(frozen=True)
class CheckEvent:
    """One completed check: which contract, what kind (``model`` or ``function``), the dimension values, and the
    names of the arguments the call was given (not None)."""

    contract: str
    kind: CheckKind
    dims: Mapping[str, Any]
    passed: bool
    arguments: frozenset[str] = frozenset()


#: Called as ``observe(contract, args, kwargs)`` before a checked function runs, once its arguments passed.
CallObserver = Callable[[Any, tuple[Any, ...], dict[str, Any]], None]

_observers: list[Callable[[CheckEvent], None]] = []
_call_observers: list[CallObserver] = []


def observers() -> list[Callable[[CheckEvent], None]]:
    """The check observers (a live list: empty means nobody listens, and nothing is built for them)."""
    return _observers


def add_observer(fn: Callable[[CheckEvent], None]) -> None:
    if fn not in _observers:
        _observers.append(fn)


def remove_observer(fn: Callable[[CheckEvent], None]) -> None:
    if fn in _observers:
        _observers.remove(fn)


def notify(
    contract: str,
    kind: CheckKind,
    dims: Mapping[str, Any],
    passed: bool = True,
    arguments: frozenset[str] = frozenset(),
) -> None:
    event = CheckEvent(contract, kind, dict(dims), passed, arguments)
    for fn in tuple(_observers):
        fn(event)


def call_observers() -> list[CallObserver]:
    """The call observers (a live list, consulted only when non-empty)."""
    return _call_observers


def add_call_observer(fn: CallObserver) -> None:
    if fn not in _call_observers:
        _call_observers.append(fn)


def remove_call_observer(fn: CallObserver) -> None:
    if fn in _call_observers:
        _call_observers.remove(fn)
