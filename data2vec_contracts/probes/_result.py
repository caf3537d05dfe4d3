"""What a probe found: the result of a passing probe, and the errors of a failing one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..checker import ShapeContractError

__all__ = [
    "PROPERTIES",
    "BatchIndependenceError",
    "DistinctSizesError",
    "GridConsistencyError",
    "MaskForwardingError",
    "PaddingInvarianceError",
    "PatchLocalityError",
    "ProbeResult",
    "ProbeViolation",
    "SkippedVariant",
    "TrimInvarianceError",
]

#: The properties a probe can check, by the key used in ``properties=``, ``atol=`` and ``rtol=``.
PROPERTIES: dict[str, str] = {
    "batch": "batch independence",
    "padding": "padding invariance",
    "sizes": "distinct sizes",
    "grid": "grid consistency",
    "trim": "trim invariance",
    "locality": "patch locality",
    "mask": "mask forwarding",
}


class ProbeViolation(ShapeContractError):
    """A function with the right shapes broke a property its contract implies (found by ``probe``)."""

    property: str = ""


class BatchIndependenceError(ProbeViolation):
    """An example's output depends on the other examples of the batch or on its place in it."""

    property = "batch"


class PaddingInvarianceError(ProbeViolation):
    """Masked-out positions (added, or with other values) changed an output at kept positions."""

    property = "padding"


class DistinctSizesError(ProbeViolation):
    """The function breaks its contract, or fails, once no two named dimensions are equal (or at B=1)."""

    property = "sizes"


class GridConsistencyError(ProbeViolation):
    """A grid cell does not come from the token of its patch (``N = 1 + h*w``, row-major)."""

    property = "grid"


class TrimInvarianceError(ProbeViolation):
    """An example alone, with its own padding removed, differs from its row of the padded batch."""

    property = "trim"


class PatchLocalityError(ProbeViolation):
    """A grid cell (or patch token) does not depend on the pixels of its own patch, while other patches move it."""

    property = "locality"


class MaskForwardingError(ProbeViolation):
    """The function received a mask with padding, and called a Data2Vec text or audio model without one."""

    property = "mask"


ERRORS: dict[str, type[ProbeViolation]] = {
    "batch": BatchIndependenceError,
    "padding": PaddingInvarianceError,
    "sizes": DistinctSizesError,
    "grid": GridConsistencyError,
    "trim": TrimInvarianceError,
    "locality": PatchLocalityError,
    "mask": MaskForwardingError,
}

for _cls in (ProbeViolation, *ERRORS.values()):
    _cls.__module__ = "data2vec_contracts"


@dataclass(frozen=True)
class SkippedVariant:
    """A variant a probe built and then left out, and why: a Data2Vec model's own contract rejects it, or the
    call raised because the variant made the inputs disagree (an input sized by an axis the variant changed)."""

    property: str
    variant: str
    reason: str
    #: the Data2Vec class whose contract rejected the variant, ``None`` when the inputs disagreed
    rejected_by: str | None = None

    def __str__(self) -> str:
        return f"{PROPERTIES[self.property]}: {self.variant}: {self.reason}"


@dataclass(frozen=True)
class ProbeResult:
    """The outcome of a probe that found no violation.

    ``checked`` lists the properties that ran; ``skipped`` maps every other property to the reason
    it did not apply (a skipped property is never counted as passed). ``calls`` counts the calls of
    the function the probe made, ``extra_calls`` those beyond the one on the given inputs, and
    ``calls_by_property`` splits the extra calls by property. ``max_deviation`` is the largest
    difference seen per compared property; ``notes`` says what was left uncompared and why;
    ``skipped_variants`` lists the variants that were called and then left out (with the reason);
    ``padding_sides`` maps each probed mask to the sides padding was added on.
    """

    function: str
    checked: tuple[str, ...]
    skipped: Mapping[str, str]
    calls: int
    calls_by_property: Mapping[str, int] = field(default_factory=dict)
    max_deviation: Mapping[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    skipped_variants: tuple[SkippedVariant, ...] = ()
    padding_sides: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def extra_calls(self) -> int:
        return self.calls - 1

    def __str__(self) -> str:
        lines = [f"probe of {self.function}: {self.calls} calls ({self.extra_calls} extra)"]
        for key in self.checked:
            dev = self.max_deviation.get(key)
            shown = f", max deviation {dev:.2g}" if dev is not None else ""
            lines.append(f"  checked {PROPERTIES[key]}: {self.calls_by_property.get(key, 0)} calls{shown}")
        for key, reason in self.skipped.items():
            lines.append(f"  skipped {PROPERTIES[key]}: {reason}")
        lines.extend(f"  skipped variant of {variant}" for variant in self.skipped_variants)
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)
