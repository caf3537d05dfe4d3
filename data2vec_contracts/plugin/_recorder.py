"""The recorder behind the ``shape_contract_recorder`` fixture: the checks that ran during one test."""

from __future__ import annotations

from typing import Any

__all__ = ["ShapeContractRecorder"]


class ShapeContractRecorder:
    """Records every passed check (``CheckEvent``) while it is installed.

    ``contracts()`` names the contracts that ran, in order; ``calls(name)`` lists the events of one contract
    (a model class such as ``"Data2VecTextModel"``, or a function by full or last dotted name);
    ``dims("B")`` is the set of values a dimension took (optionally within one contract).
    """

    def __init__(self) -> None:
        self.events: list[Any] = []

    def __call__(self, event: Any) -> None:
        self.events.append(event)

    @staticmethod
    def _matches(contract: str, name: str) -> bool:
        return contract == name or contract.endswith("." + name)

    def contracts(self) -> list[str]:
        seen: dict[str, None] = {}
        for event in self.events:
            seen.setdefault(event.contract, None)
        return list(seen)

    def calls(self, contract: str | None = None) -> list[Any]:
        if contract is None:
            return list(self.events)
        return [e for e in self.events if self._matches(e.contract, contract)]

    def dims(self, name: str, contract: str | None = None) -> set[Any]:
        return {e.dims[name] for e in self.calls(contract) if name in e.dims}

    def clear(self) -> None:
        self.events.clear()

    def __repr__(self) -> str:
        return f"<ShapeContractRecorder {len(self.events)} checks of {len(self.contracts())} contracts>"
