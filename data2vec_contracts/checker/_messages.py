"""Every error message of the package is built here, from a structured :class:`Violation`."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

__all__ = ["Problem", "Violation", "describe_value", "render", "show"]

_MAX_ITEMS = 6


class Problem(str, Enum):
    """What broke. ``PROPERTY`` is a probe's finding: ``expected`` names the property, ``actual`` what the probe saw."""

    DIMENSION = "dimension"
    RANK = "rank"
    DTYPE = "dtype"
    TYPE = "type"
    LENGTH = "length"
    CONSTRAINT = "constraint"
    PROPERTY = "property"


@dataclass(frozen=True, slots=True)
class Violation:
    """The facts of one contract violation; :func:`render` turns them into the message."""

    function: str
    field: str
    problem: Problem
    expected: str
    actual: str
    contract: str | None = None
    value: str | None = None
    dimension: str | None = None
    bound_by: str | None = None
    declared: str | None = None
    bindings: Mapping[str, tuple[Any, str]] = dataclasses.field(default_factory=dict)
    hint: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.problem, Problem):
            object.__setattr__(self, "problem", Problem(self.problem))


def show(value: Any) -> str:
    """A size (or a tuple of sizes) as text, also while torch traces: a symbolic size shows its example's value.

    Under dynamo ``str()`` of a symbolic size does not trace and a lone ``f"{v}"`` can come back as the int itself,
    so the text is always built by concatenation; natively (non-strict ``torch.export``) the size's hint is shown
    rather than its symbol (``s27``).
    """
    if isinstance(value, tuple):
        inner = ", ".join([show(v) for v in value])
        return "(" + inner + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, _SYMBOLIC) and not _dynamo_tracing():
        hint = getattr(value, "node").hint  # noqa: B009 - a SymInt's example value
        if hint is not None:
            return "" + f"{hint}"
    return "" + f"{value}"


def _symbolic_types() -> tuple[type, ...]:
    import torch

    return (torch.SymInt, torch.SymFloat, torch.SymBool)


def _dynamo_tracing() -> bool:
    import torch

    return bool(torch.compiler.is_dynamo_compiling())


_SYMBOLIC: tuple[type, ...] = _symbolic_types()


def describe_value(value: object, _depth: int = 0) -> str:
    """A short description of any value: tensors print as dtype and shape, never their data."""
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if shape is not None and dtype is not None:
        dt = str(dtype).replace("torch.", "")
        kind = type(value).__name__
        device = getattr(value, "device", None)
        device = getattr(device, "type", device)  # numpy 2 arrays have device == "cpu" (a str)
        where = f", device={device}" if device is not None and device != "cpu" else ""
        return f"{kind}({dt}, shape={show(tuple(shape))}{where})"
    if value is None:
        return "None"
    if isinstance(value, (tuple, list)):
        kind = type(value).__name__
        if _depth >= 2 and value:  # nested deeper: its length only, or the text grows as 6**depth
            return f"{kind}[... ({len(value)} items)]" if kind == "list" else f"(... ({len(value)} items))"
        items = ", ".join(describe_value(v, _depth + 1) for v in value[:_MAX_ITEMS])
        more = f", ... ({len(value)} items)" if len(value) > _MAX_ITEMS else ""
        text = f"{kind}[{items}{more}]" if kind == "list" else f"({items}{more}{',' if len(value) == 1 else ''})"
        return text if len(text) <= 200 or _depth else f"{text[:190]} ... ({len(value)} items)"
    if isinstance(value, (int, float, bool, str)):
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."
    return f"<{type(value).__module__}.{type(value).__qualname__} object>"


def _headline(v: Violation) -> str:
    if v.problem is Problem.DIMENSION:
        return f"Shape contract violated: dimension {v.dimension} of {v.field}."
    if v.problem is Problem.CONSTRAINT:
        return f"Shape contract violated: {v.field} breaks a constraint on {v.dimension}."
    if v.problem is Problem.PROPERTY:
        return f"Shape contract violated: {v.expected} of {v.field}."
    return f"Shape contract violated: {v.problem.value} of {v.field}."


_FIELD_WORDS = ("argument", "output", "return", "the ")


def _field_line(field: str) -> str:
    """``argument x`` -> ``Argument x``; a path such as ``self.config.hidden_size`` is shown as it is."""
    return field[0].upper() + field[1:] if field.startswith(_FIELD_WORDS) else f"Field: {field}"


def render(v: Violation) -> str:
    """Render a violation as aligned lines in the style of GPflow's check_shapes."""
    lines = [_headline(v), f"  Function: {v.function}"]
    if v.declared:
        lines.append(f"    Declared: {v.declared}")
    lines.append(f"    {_field_line(v.field)}")
    if v.contract:
        lines.append(f"      Contract: {v.contract}")
    if v.value is not None:
        lines.append(f"      Actual value: {v.value}")
    if v.problem is Problem.PROPERTY:
        lines.append(f"      {v.expected[0].upper()}{v.expected[1:]}: {v.actual}")
    else:
        label = f"Dimension {v.dimension}" if v.problem is Problem.DIMENSION else v.problem.value.capitalize()
        lines.append(f"      {label}: expected {v.expected}, actual {v.actual}")
    if v.bound_by:
        verb = "were" if "," in (v.dimension or "") else "was"
        lines.append(f"      {v.dimension} {verb} bound by: {v.bound_by}")
    others = [(k, b) for k, b in v.bindings.items() if k != v.dimension]
    if others:
        width = max(len(k) for k, _ in others)
        shown = [show(tuple(value) if isinstance(value, (tuple, list)) else value) for _, (value, _s) in others]
        vwidth = max(len(s) for s in shown)
        lines.append("    Other bindings:")
        for (name, (_, source)), text in zip(others, shown):
            lines.append(f"      {name.ljust(width)} = {text.ljust(vwidth)}  ({source})")
    if v.hint:
        lines.append(f"  Hint: {v.hint}")
    text = lines[0]
    for line in lines[1:]:  # f-strings, not str.join or +: what dynamo can build while it traces
        text = f"{text}\n{line}"
    return text
