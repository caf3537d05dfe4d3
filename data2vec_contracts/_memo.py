"""The memo of validated model calls: repeat calls skip re-deriving what already passed, and lose no check.

A model check is a pure function of: the model (its class, structure and parameter dtype), every
config field, train/eval mode, the pinned dimensions, each argument's type, shape and dtype (tensors)
or value (plain data), and each output field's type, shape and dtype. After a full check passes, that
signature is stored with the dimension values it bound. A later call whose inputs, config and outputs
have the same signature would pass the full check too, so it is accepted at the cost of comparing
tuples; anything else (a new size, a changed config field, an unusual argument such as a cache object,
a different output) runs the full check, which builds the usual message.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from ._switch import pinned

__all__ = ["CallMemo", "input_signature", "output_signature"]

_PLAIN = (bool, int, float, str, type(None))
_MAX_ENTRIES = 256
Tensor = torch.Tensor


def _value_signature(value: Any) -> Any:
    """A hashable signature of one argument, or ``...`` if it cannot be summarised safely."""
    if isinstance(value, Tensor):
        return (value.shape, value.dtype)
    if isinstance(value, _PLAIN):
        return (type(value), value)
    if isinstance(value, (tuple, list)) and all(isinstance(v, _PLAIN) for v in value):
        return (type(value), tuple(value))
    return ...


def input_signature(model: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The signature of a call's inputs, or ``None`` when an argument is not plain data or a tensor."""
    parts: list[Any] = [model.training, pinned_key()]
    for value in args:
        sig = _value_signature(value)
        if sig is ...:
            return None
        parts.append(sig)
    for name, value in kwargs.items():
        sig = _value_signature(value)
        if sig is ...:
            return None
        parts.append((name, sig))
    return tuple(parts)


def pinned_key() -> Any:
    pins = pinned()
    return tuple(sorted(pins.items())) if pins else None


class _Opaque(Exception):
    """An output holds an object the memo does not summarise (a cache): the full check runs."""


def _out(value: Any) -> Any:
    if isinstance(value, Tensor):
        return (value.shape, value.dtype)
    if value is None:
        return None
    if isinstance(value, (tuple, list)):
        return (type(value), tuple([_out(v) for v in value]))
    raise _Opaque


def output_signature(out: Any) -> Any:
    """The signature of a forward's output (a ModelOutput or a tuple), or ``None`` if it holds other objects."""
    try:
        if isinstance(out, tuple):
            return _out(out)
        return (type(out), tuple([(k, _out(v)) for k, v in out.items()]))
    except _Opaque:
        return None


def _first_parameter(model: Any) -> Any:
    return next(model.parameters(), None)


@dataclass(frozen=True)
class _Entry:
    model: weakref.ref[Any]
    config: dict[str, Any]
    parameter: Any  # the model's first parameter: a cast (model.to(bfloat16)) changes its dtype in place
    dtype: Any
    outputs: Any
    values: dict[str, Any]


class CallMemo:
    """Validated call signatures of one model class's contract."""

    def __init__(self) -> None:
        self._entries: dict[tuple[Any, ...], _Entry] = {}
        self._lock = threading.Lock()

    def lookup(self, model: Any, key: tuple[Any, ...]) -> _Entry | None:
        entry = self._entries.get(key)
        config: dict[str, Any] = model.config.__dict__
        if entry is None or entry.model() is not model or entry.config != config:
            return None
        if entry.parameter is not None and entry.parameter.dtype != entry.dtype:
            return None
        return entry

    def store(self, model: Any, key: tuple[Any, ...], outputs: Any, values: Mapping[str, Any]) -> None:
        parameter = _first_parameter(model)
        dtype = None if parameter is None else parameter.dtype
        entry = _Entry(weakref.ref(model), dict(model.config.__dict__), parameter, dtype, outputs, dict(values))
        with self._lock:
            if len(self._entries) >= _MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = entry
