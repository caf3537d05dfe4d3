"""Observers of checks: the pytest plugin's coverage report and recorder fixture listen here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["CheckEvent", "add_observer", "notify", "observers", "remove_observer"]


@dataclass(frozen=True)
class CheckEvent:
    """One completed check: which contract, what kind (``model`` or ``function``), the dimension values."""

    contract: str
    kind: str
    dims: Mapping[str, Any]
    passed: bool


_observers: list[Callable[[CheckEvent], None]] = []


def observers() -> list[Callable[[CheckEvent], None]]:
    return _observers


def add_observer(fn: Callable[[CheckEvent], None]) -> None:
    if fn not in _observers:
        _observers.append(fn)


def remove_observer(fn: Callable[[CheckEvent], None]) -> None:
    if fn in _observers:
        _observers.remove(fn)


def notify(contract: str, kind: str, dims: Mapping[str, Any], passed: bool = True) -> None:
    event = CheckEvent(contract, kind, dict(dims), passed)
    for fn in tuple(_observers):
        fn(event)
