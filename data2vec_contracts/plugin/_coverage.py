"""Contract coverage of a session: which contracts ran, how often, with which dimension values, and the
violations. Collected from :mod:`data2vec_contracts._observe` events; mergeable across xdist workers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._classes import CLASS_NAMES

__all__ = ["Coverage", "Stats", "format_values"]

VERSION = 1


def _plain(value: Any) -> Any:
    """A JSON-able, hashable form of a dimension value (ints stay ints)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, (tuple, list)):
        return tuple(_plain(v) for v in value)
    try:
        return int(value)
    except (TypeError, ValueError):
        return str(value)


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, value) if isinstance(value, int) else (1, repr(value))


def _json(value: Any) -> Any:
    return [_json(v) for v in value] if isinstance(value, tuple) else value


def _from_json(value: Any) -> Any:
    return tuple(_from_json(v) for v in value) if isinstance(value, list) else value


@dataclass
class Stats:
    kind: str
    calls: int = 0
    dims: dict[str, set[Any]] = field(default_factory=dict)

    def sorted_dims(self) -> dict[str, list[Any]]:
        return {name: sorted(values, key=_sort_key) for name, values in self.dims.items()}


def format_values(values: list[Any], limit: int = 6) -> str:
    shown = [str(_json(v)).replace(" ", "") for v in values[:limit]]
    more = f",…({len(values)} values)" if len(values) > limit else ""
    return ",".join(shown) + more


@dataclass
class Coverage:
    """Counts per contract; the observer of :mod:`data2vec_contracts._observe` during a session."""

    contracts: dict[str, Stats] = field(default_factory=dict)
    violations: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, event: Any) -> None:
        stats = self.contracts.get(event.contract)
        if stats is None:  # the kind is an enum of the checker's; the report keeps its plain value
            stats = self.contracts[event.contract] = Stats(str(getattr(event.kind, "value", event.kind)))
        stats.calls += 1
        for name, value in event.dims.items():
            stats.dims.setdefault(name, set()).add(_plain(value))

    def add_violation(self, test: str, error: BaseException) -> None:
        violation = getattr(error, "violation", None)
        self.violations.append(
            {
                "test": test,
                "function": getattr(violation, "function", None),
                "field": getattr(violation, "field", None),
                "problem": getattr(violation, "problem", None),
                "dimension": getattr(violation, "dimension", None),
                "expected": getattr(violation, "expected", None),
                "actual": getattr(violation, "actual", None),
            }
        )

    # -- derived facts ---------------------------------------------------------------------------
    @property
    def checks(self) -> int:
        return sum(s.calls for s in self.contracts.values())

    def exercised_classes(self) -> list[str]:
        """Classes whose forward was called: checked and passed, or stopped by a violation."""
        called = set(self.contracts) | {str(v["function"]).removesuffix(".forward") for v in self.violations}
        return [name for name in CLASS_NAMES if name in called]

    def never_exercised(self) -> list[str]:
        exercised = set(self.exercised_classes())
        return [name for name in CLASS_NAMES if name not in exercised]

    # -- transport (xdist workers → controller) and the JSON report -------------------------------
    def to_data(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "checks": self.checks,
            "contracts": {
                name: {
                    "kind": s.kind,
                    "calls": s.calls,
                    "dims": {d: [_json(v) for v in vs] for d, vs in s.sorted_dims().items()},
                }
                for name, s in sorted(self.contracts.items())
            },
            "data2vec_classes": {"exercised": self.exercised_classes(), "never": self.never_exercised()},
            "violations": sorted(self.violations, key=lambda v: (v["test"], str(v["function"]))),
        }

    def merge(self, data: Mapping[str, Any]) -> None:
        for name, entry in data.get("contracts", {}).items():
            stats = self.contracts.get(name)
            if stats is None:
                stats = self.contracts[name] = Stats(entry["kind"])
            stats.calls += int(entry["calls"])
            for dim, values in entry["dims"].items():
                stats.dims.setdefault(dim, set()).update(_from_json(v) for v in values)
        self.violations.extend(data.get("violations", []))
