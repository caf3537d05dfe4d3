"""The two exception classes: a contract that is malformed, and values that break a contract."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jaxtyping import AnnotationError, TypeCheckError

if TYPE_CHECKING:
    from ._messages import Violation

__all__ = ["ContractDefinitionError", "ShapeContractError"]


class ShapeContractError(TypeCheckError):
    """Values broke a shape contract.

    Subclasses jaxtyping's ``TypeCheckError`` (itself a ``TypeError``), so handlers written for
    jaxtyping keep working. ``violation`` holds the structured facts the message was built from.
    """

    violation: Violation | None

    def __init__(self, message: str, violation: Violation | None = None) -> None:
        super().__init__(message)
        self.violation = violation

    @property
    def dimension(self) -> str | None:
        return None if self.violation is None else self.violation.dimension

    @property
    def field(self) -> str | None:
        return None if self.violation is None else self.violation.field


class ContractDefinitionError(AnnotationError):
    """The contract itself is malformed (bad annotation, unknown dimension source, bad relation)."""


ShapeContractError.__module__ = "data2vec_contracts"
ContractDefinitionError.__module__ = "data2vec_contracts"
