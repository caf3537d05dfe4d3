"""Switching checks off: ``DATA2VEC_CONTRACTS=0`` at decoration time, ``disabled()`` at run time,
and ``pinned_dims()``, which fixes dimension values for every check inside it.

The switches live in context variables (per thread and per asyncio task). Code that torch traces cannot read a
context variable, so every switch is mirrored in a thread-local (:func:`traced_active`, :func:`traced_pins`):
dynamo reads and guards it, and flipping a switch retraces once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = [
    "ENV_VAR",
    "active",
    "disabled",
    "env_enabled",
    "pinned",
    "pinned_dims",
    "traced_active",
    "traced_pins",
    "unpinned",
]

ENV_VAR = "DATA2VEC_CONTRACTS"
_OFF = {"0", "false", "no", "off"}

_disabled: ContextVar[bool] = ContextVar("data2vec_contracts_disabled", default=False)
_pinned: ContextVar[Mapping[str, int] | None] = ContextVar("data2vec_contracts_pinned", default=None)


class _Mirror(threading.local):
    """The switches of this thread, where traced code can read them (class defaults: a new thread reads them too)."""

    disabled: bool = False
    pins: Mapping[str, int] | None = None


_mirror = _Mirror()


def env_enabled() -> bool:
    """False when the environment says ``DATA2VEC_CONTRACTS=0`` (or false/no/off)."""
    return os.environ.get(ENV_VAR, "1").strip().lower() not in _OFF


def active() -> bool:
    """True unless a ``disabled()`` block is running in this context."""
    return not _disabled.get()


def pinned() -> Mapping[str, int] | None:
    return _pinned.get()


def traced_active() -> bool:
    """:func:`active` for code that torch traces."""
    return not _mirror.disabled


def traced_pins() -> Mapping[str, int] | None:
    """:func:`pinned` for code that torch traces."""
    return _mirror.pins


@contextmanager
def disabled() -> Iterator[None]:
    """Switch every check off inside the block (in this thread / async context)."""
    token = _disabled.set(True)
    before = _mirror.disabled
    _mirror.disabled = True
    try:
        yield
    finally:
        _disabled.reset(token)
        _mirror.disabled = before


@contextmanager
def _pins(pins: Mapping[str, int] | None) -> Iterator[None]:
    token = _pinned.set(pins)
    before = _mirror.pins
    _mirror.pins = pins
    try:
        yield
    finally:
        _pinned.reset(token)
        _mirror.pins = before


@contextmanager
def pinned_dims(dims: Mapping[str, int]) -> Iterator[None]:
    """Every check inside the block must see these dimension values (``{"D": 768}``)."""
    for name, value in dims.items():
        good_name = isinstance(name, str) and name.isidentifier()
        if not good_name or isinstance(value, bool) or not isinstance(value, int):
            from ..checker import ContractDefinitionError

            raise ContractDefinitionError(f"pinned dimension {name!r}={value!r}: names are identifiers, values ints")
    with _pins({**(_pinned.get() or {}), **dims}):
        yield


@contextmanager
def unpinned() -> Iterator[None]:
    """No pinned dimensions inside the block (a probe varies the sizes a test pinned)."""
    with _pins(None):
        yield
