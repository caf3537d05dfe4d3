"""Switching checks off: ``DATA2VEC_CONTRACTS=0`` at decoration time, ``disabled()`` at run time,
and ``pinned_dims()``, which fixes dimension values for every check inside it."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["ENV_VAR", "active", "disabled", "env_enabled", "pinned", "pinned_dims", "unpinned"]

ENV_VAR = "DATA2VEC_CONTRACTS"
_OFF = {"0", "false", "no", "off"}

_disabled: ContextVar[bool] = ContextVar("data2vec_contracts_disabled", default=False)
_pinned: ContextVar[Mapping[str, int] | None] = ContextVar("data2vec_contracts_pinned", default=None)


def env_enabled() -> bool:
    """False when the environment says ``DATA2VEC_CONTRACTS=0`` (or false/no/off)."""
    return os.environ.get(ENV_VAR, "1").strip().lower() not in _OFF


def active() -> bool:
    """True unless a ``disabled()`` block is running in this context."""
    return not _disabled.get()


def pinned() -> Mapping[str, int] | None:
    return _pinned.get()


@contextmanager
def disabled() -> Iterator[None]:
    """Switch every check off inside the block (in this thread / async context)."""
    token = _disabled.set(True)
    try:
        yield
    finally:
        _disabled.reset(token)


@contextmanager
def pinned_dims(dims: Mapping[str, int]) -> Iterator[None]:
    """Every check inside the block must see these dimension values (``{"D": 768}``)."""
    for name, value in dims.items():
        good_name = isinstance(name, str) and name.isidentifier()
        if not good_name or isinstance(value, bool) or not isinstance(value, int):
            from ..checker import ContractDefinitionError

            raise ContractDefinitionError(f"pinned dimension {name!r}={value!r}: names are identifiers, values ints")
    outer = _pinned.get()
    token = _pinned.set({**(outer or {}), **dims})
    try:
        yield
    finally:
        _pinned.reset(token)


@contextmanager
def unpinned() -> Iterator[None]:
    """No pinned dimensions inside the block (a probe varies the sizes a test pinned)."""
    token = _pinned.set(None)
    try:
        yield
    finally:
        _pinned.reset(token)
