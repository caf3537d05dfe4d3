"""An immutable mapping that plans keep their tables in (rules by dimension, dimension sources, config bindings).

A plan reaches the code torch traces as a constant, and dynamo cannot guard a dict reached from a constant: asking
``key in d``, ``bool(d)`` or ``dict(d)`` there fails. A :class:`Table` answers those from tuples and precomputed
counts, and its lookups from a dict through ``.get`` (which dynamo can do), so the same plan serves eager and traced
checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar, overload

from ._trace import dynamo_tracing

__all__ = ["Table"]

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")


class Table(Mapping[K, V]):
    """A read-only mapping with the order of its items."""

    __slots__ = ("_index", "_keys", "_size", "_values")

    def __init__(self, items: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        pairs = tuple(items.items()) if isinstance(items, Mapping) else tuple(items)
        self._keys: tuple[K, ...] = tuple(k for k, _ in pairs)
        self._values: tuple[V, ...] = tuple(v for _, v in pairs)
        self._index: dict[K, V] = dict(pairs)
        self._size = len(self._index)

    @overload
    def get(self, key: K, /) -> V | None: ...
    @overload
    def get(self, key: K, default: V, /) -> V: ...
    @overload
    def get(self, key: K, default: T, /) -> V | T: ...
    def get(self, key: K, default: Any = None, /) -> Any:
        if dynamo_tracing():  # a search of the keys: traced code cannot read a dict reached from a plan
            for i, k in enumerate(self._keys):
                if k == key:
                    return self._values[i]
            return default
        return self._index.get(key, default)

    def __getitem__(self, key: K) -> V:
        for i, k in enumerate(self._keys):
            if k == key:
                return self._values[i]
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        if dynamo_tracing():  # a search of the keys: traced code cannot compare with a sentinel reached from a plan
            return any(k == key for k in self._keys)
        return key in self._index

    def as_dict(self) -> dict[K, V]:
        """A new dict of the items (eager code only: traced code builds it with ``dict(table.items())``)."""
        return self._index.copy()

    def __bool__(self) -> bool:
        return self._size > 0

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[K]:
        return iter(self._keys)

    def keys(self) -> tuple[K, ...]:  # type: ignore[override]
        return self._keys

    def values(self) -> tuple[V, ...]:  # type: ignore[override]
        return self._values

    def items(self) -> tuple[tuple[K, V], ...]:  # type: ignore[override]
        return tuple(zip(self._keys, self._values))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Table):
            return self.items() == other.items()
        if isinstance(other, Mapping):
            return dict(self._index) == dict(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.items())

    def __repr__(self) -> str:
        return f"Table({dict(self._index)!r})"

