"""The memo of validated model calls: a repeat call skips re-checking what already passed, and loses no check.

A model check is a function of: the model's config (the memo is emptied when a field changes), train/eval mode, the
parameter dtype, the pinned dimensions, each argument's type, shape and dtype (tensors) or value (plain data), and
each output field's type, shape and dtype, except for the checks that read argument values (ids within the
vocabulary), which run again on every call. After a full check passes, that signature is stored with its plan and the
dimension values it bound. A later call whose inputs and outputs have the same signature would pass the full check
too, so it is accepted at the cost of comparing tuples and of the value checks; anything else (a new size, an unusual
argument such as a cache object, a different output) runs the full check, which builds the usual message. The memo is
per model and bounded: past :data:`CAPACITY` signatures the oldest is dropped, so a working set larger than that costs
full checks, never memory.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from ..contracts import CallCheck, ModelPlan
from ._switch import pinned

__all__ = ["CAPACITY", "CallMemo", "Entry", "input_signature", "output_signature"]

CAPACITY = 1024
_PLAIN = frozenset({bool, int, float, str, type(None)})
_SEQUENCES = (tuple, list)
Tensor = torch.Tensor


def _value_signature(value: Any) -> Any:
    """A hashable signature of one argument, or ``...`` if it cannot be summarised safely."""
    if isinstance(value, Tensor):
        return (value.shape, value.dtype)
    kind = type(value)
    if kind in _PLAIN:  # exact types: True and 1 (equal, with equal hashes) sign differently
        return (kind, value)
    if kind in _SEQUENCES and all(type(v) in _PLAIN for v in value):
        return (kind, tuple(value))
    return ...


def input_signature(
    training: bool, dtype: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> tuple[Any, ...] | None:
    """The signature of a call's inputs, or ``None`` when an argument is not plain data or a tensor.

    The config is not part of it: a model's memo is emptied whenever its config fields change.
    """
    pins = pinned()
    parts: list[Any] = [training, dtype, tuple(sorted(pins.items())) if pins else None]
    add = parts.append
    for value in args:
        sig = _value_signature(value)
        if sig is ...:
            return None
        add(sig)
    for name, value in kwargs.items():
        sig = _value_signature(value)
        if sig is ...:
            return None
        add(name)
        add(sig)
    return tuple(parts)


def _leaf(add: Callable[[Any], None], value: Any) -> bool:
    """Add a tensor's shape and dtype, or ``None``, to a signature; ``False`` for anything else."""
    if isinstance(value, Tensor):
        add(value.shape)
        add(value.dtype)
        return True
    if value is None:
        add(None)
        return True
    return False


def output_signature(out: Any) -> Any:
    """The signature of a forward's output (a ModelOutput or a tuple), or ``None`` if it holds other objects.

    One flat tuple: the output's type and field names, then for each value its shape and dtype (a tensor), ``None``,
    or a tuple's type and length followed by its items (tensors or None); anything else (a cache, a nested tuple)
    makes the output opaque, and the full check runs on every such call.
    """
    if isinstance(out, tuple):
        parts: list[Any] = [type(out), len(out)]
        values: Any = out
    else:
        parts = [type(out), tuple(out.keys())]
        values = out.values()
    add = parts.append
    for value in values:
        if _leaf(add, value):
            continue
        if not isinstance(value, (tuple, list)):
            return None
        add(type(value))
        add(len(value))
        for item in value:
            if not _leaf(add, item):
                return None
    return tuple(parts)


@dataclass(frozen=True, slots=True)
class Entry:
    """A validated call: its plan, its output signature, the dimensions it bound, the arguments it was given and the
    value checks a repeat of it runs."""

    plan: ModelPlan
    outputs: Any
    values: dict[str, Any]
    arguments: frozenset[str]
    value_checks: tuple[CallCheck, ...]  # the plan's value checks on these arguments: run again on every hit


class CallMemo:
    """Validated call signatures of one model, oldest dropped first past :data:`CAPACITY`."""

    __slots__ = ("_entries", "_lock", "lookup")

    def __init__(self) -> None:
        self._entries: dict[tuple[Any, ...], Entry] = {}
        self._lock = threading.Lock()
        self.lookup = self._entries.get  # the entry of a signature, or None (a dict lookup, nothing more)

    def store(self, key: tuple[Any, ...], entry: Entry) -> None:
        with self._lock:
            entries = self._entries
            if key not in entries and len(entries) >= CAPACITY:
                del entries[next(iter(entries))]
            entries[key] = entry

    def __len__(self) -> int:
        return len(self._entries)
