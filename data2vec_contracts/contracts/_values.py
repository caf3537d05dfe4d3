"""Checks of a call that its shapes do not express, as :class:`~._plan.CallCheck` s: combinations of config fields and
arguments transformers cannot run (:func:`refuse`), and the values of integer arguments (:func:`within`).

Value checks read CPU tensors only and never while torch.compile traces (a value read of a CUDA tensor would
synchronise the device; a traced read breaks the graph): for other tensors they pass without reading, so the model's
own error (or a device-side assert) is what a bad value gets there. A value check runs on every full check of a call;
the memo of validated call signatures decides whether a repeat signature re-runs it (``ModelPlan.passes_values``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

from ..checker import Problem, Scope, describe_value
from ._plan import CallCheck

__all__ = ["readable", "refuse", "within"]

_is_compiling = torch.compiler.is_compiling


def readable(value: Any) -> bool:
    """Whether the values of ``value`` may be read at no cost: an integer CPU tensor with elements, outside tracing."""
    return (
        isinstance(value, torch.Tensor)
        and value.device.type == "cpu"
        and value.numel() > 0
        and not value.is_floating_point()
        and value.dtype is not torch.bool
        and not _is_compiling()
    )


def refuse(
    name: str,
    field: str,
    expected: str,
    hint: str,
    *,
    actual: str | Callable[[Mapping[str, Any]], str] | None = None,
    problem: Problem = Problem.TYPE,
) -> CallCheck:
    """A call the plan's view already shows transformers cannot run: it always fails, naming ``field`` (an argument,
    whose value is then the actual one unless ``actual`` says otherwise, or a config field)."""

    def run(scope: Scope, args: Mapping[str, Any]) -> None:
        __tracebackhide__ = True
        if callable(actual):
            found = actual(args)
        elif actual is not None:
            found = actual
        else:
            found = describe_value(args.get(field.removeprefix("argument ")))
        scope.fail(field, problem, expected, found, hint=hint)

    return CallCheck(name, run)


def within(
    argument: str,
    upper: int | str,
    *,
    what: str,
    hint: str,
    lower: int | str | None = 0,
    ignore: int | None = None,
    source: str | None = None,
) -> CallCheck:
    """The values of an integer argument lie in ``[lower, upper)`` (``ignore``: a value that is always allowed, the
    loss's ignore index). ``upper`` is an int or a dimension name read from the scope (a name the scope has not bound
    skips the check), ``lower`` an int, a dimension name ``"N"`` for ``-N``, or None (no lower bound); ``source``
    names what bounds them when ``upper`` is an int (a config field)."""

    def run(scope: Scope, args: Mapping[str, Any]) -> None:
        __tracebackhide__ = True
        value = args.get(argument)
        if not readable(value):
            return
        assert isinstance(value, torch.Tensor)
        high = scope.values.get(upper) if isinstance(upper, str) else upper
        low = -scope.values[lower] if isinstance(lower, str) and lower in scope.values else lower
        if not isinstance(high, int) or isinstance(low, str):
            return
        kept = value if ignore is None else value[value != ignore]
        if kept.numel() == 0:
            return
        least, most = (int(v) for v in torch.aminmax(kept))
        if (low is None or low <= least) and most < high:
            return
        dimension = upper if isinstance(upper, str) else source
        bound = f"{upper}={high}" if isinstance(upper, str) else f"{high} ({source})" if source else str(high)
        floor = "" if lower is None else f"-{lower} <= " if isinstance(lower, str) else f"{lower} <= "
        allowed = f" or {ignore}" if ignore is not None else ""
        scope.fail(
            f"argument {argument}", Problem.CONSTRAINT, f"{floor}{what} < {bound}{allowed}",
            f"values from {least} to {most}", dimension=dimension,
            bound_by=scope.source_text(upper) if isinstance(upper, str) else None, hint=hint,
        )

    return CallCheck(f"{argument} within [{lower}, {upper})", run, reads_values=True, argument=argument)
