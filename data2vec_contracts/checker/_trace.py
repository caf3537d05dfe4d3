"""Checks while torch traces: inside ``torch.compile`` (dynamo) and ``torch.export``.

The checker runs on the symbolic sizes while the graph is traced, so it costs nothing per call: each comparison on a
size becomes one of the graph's guards (an equality unifies two sizes, a bound narrows a range), nothing is fixed to
one size, and no node is added to the graph. What makes that work, measured on torch 2.13:

* the plan reaches the traced code through :func:`constant` (``torch.compiler.assume_constant_result``): dynamo
  takes it as a constant and guards none of its fields;
* each wrapper has a code object of its own (:func:`own_code`): dynamo caches traces per code object and does not
  guard the constant plan, so two contracts must never share one;
* a violation found while tracing is raised by :func:`raise_from_trace`, natively, as a
  :class:`CompiledShapeContractError`: a ``ShapeContractError`` that is also dynamo's ``TorchRuntimeError``, the one
  error dynamo hands to the caller unchanged (no graph break, no fallback that would leave the function uncompiled for
  good, no wrapping).
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import torch

from ._errors import ShapeContractError
from ._messages import Violation, show

__all__ = [
    "CompiledShapeContractError",
    "callable_key",
    "constant",
    "dynamo_tracing",
    "own_code",
    "raise_from_trace",
    "registered",
    "tracing",
]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def dynamo_tracing() -> bool:
    """True while dynamo traces (``torch.compile``, strict ``torch.export``)."""
    return bool(torch.compiler.is_dynamo_compiling())


def tracing() -> bool:
    """True while torch traces in any way (dynamo, or non-strict ``torch.export`` running the code on fake tensors)."""
    return bool(torch.compiler.is_compiling())


def _compiled_error_class() -> type[ShapeContractError]:
    try:
        from torch._dynamo.exc import TorchRuntimeError
    except ImportError:  # pragma: no cover - every torch we support has it
        return ShapeContractError

    class CompiledShapeContractError(ShapeContractError, TorchRuntimeError):
        """A contract violation found while ``torch.compile`` traced the call (also a dynamo ``TorchRuntimeError``,
        which dynamo passes to the caller as it is; catch it as :class:`ShapeContractError`)."""

        def __init__(self, message: str, violation: Violation | None = None) -> None:
            ShapeContractError.__init__(self, message, violation)
            self.message = self.msg = message  # what dynamo's handlers of TorchRuntimeError read
            self.real_stack = torch._guards.TracingContext.extract_stack()
            self._torch_dynamo_tracer_output = None
            self.frame_exec_strategy = None

        def __str__(self) -> str:  # dynamo appends "from user code: ..." to args[0]; the message stays ours
            return self.message

    CompiledShapeContractError.__module__ = "data2vec_contracts"
    CompiledShapeContractError.__qualname__ = "CompiledShapeContractError"
    return CompiledShapeContractError


CompiledShapeContractError = _compiled_error_class()


@torch.compiler.assume_constant_result  # type: ignore[untyped-decorator]
def _raise(message: str, facts: tuple[tuple[str, Any], ...]) -> None:
    fields = dict(facts)
    # sizes cross as text (a traced size cannot be passed as it is); a size that was a number is a number again
    bindings = {
        name: (int(value) if value.lstrip("-").isdigit() else value, source)
        for name, value, source in fields.pop("bindings")
    }
    raise CompiledShapeContractError(message, Violation(**fields, bindings=bindings))


def raise_from_trace(message: str, violation: Violation) -> NoReturn:
    """Raise the violation from traced code (only constants, text, cross into the native call)."""
    facts = tuple(
        (name, getattr(violation, name))
        for name in ("function", "field", "expected", "actual", "contract", "value", "dimension", "bound_by",
                     "declared", "hint")
    )
    shown = tuple((name, show(value), source) for name, (value, source) in violation.bindings.items())
    _raise(message, (*facts, ("problem", violation.problem.value), ("bindings", shown)))
    raise AssertionError("unreachable")  # pragma: no cover


def constant(value: T) -> Callable[[], T]:
    """``value`` as a constant to dynamo: the result of a call it runs natively while tracing, guarded not at all."""

    @torch.compiler.assume_constant_result  # type: ignore[untyped-decorator]
    def the_value() -> T:
        return value

    return the_value  # type: ignore[no-any-return]


def own_code(fn: F) -> F:
    """``fn`` with a code object of its own (dynamo keys its cache and its recompile limit by code object)."""
    code = fn.__code__.replace(co_name=f"{fn.__code__.co_name}_{id(fn):x}")
    new = types.FunctionType(code, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
    new.__kwdefaults__ = fn.__kwdefaults__
    functools.update_wrapper(new, fn)
    # a copy, not a wrapper: ``__wrapped__`` keeps pointing where ``fn``'s did (``inspect.unwrap`` gives the user's)
    if "__wrapped__" in fn.__dict__:
        new.__wrapped__ = fn.__wrapped__  # type: ignore[attr-defined]
    else:
        del new.__wrapped__  # type: ignore[attr-defined]
    return new  # type: ignore[return-value]


#: the functions plans call, by key: traced code cannot call a function stored on a constant plan, but it can call one
#: found in a module-level table by a key (a string) the plan stores
_CALLABLES: dict[str, Callable[..., Any]] = {}


def callable_key(fn: Callable[..., Any]) -> str:
    """Register ``fn`` for :func:`registered`; returns its key (the same key for the same function)."""
    key = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', '?')}#{id(fn):x}"
    _CALLABLES.setdefault(key, fn)
    return key


def registered(key: str) -> Callable[..., Any]:
    """The function registered under ``key``."""
    return _CALLABLES[key]
