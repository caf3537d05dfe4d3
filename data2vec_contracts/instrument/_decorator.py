"""``@contract``: jaxtyping-annotated functions checked in one dimension scope per call."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, overload

import torch

from ..checker import ContractDefinitionError, DimSource, FunctionContract, FunctionPlan, PaddingSide, own_code
from ..contracts import DATA2VEC_HINTS
from ._jaxtyping import close_frame, open_frame, switched_off
from ._observe import CheckKind, call_observers, notify, observers
from ._switch import active, env_enabled, pinned, traced_active, traced_pins

__all__ = ["contract", "contract_of"]

F = TypeVar("F", bound=Callable[..., Any])
_MARK = "__shape_contract__"


def _given(args: tuple[Any, ...], kwargs: Mapping[str, Any], plan: FunctionPlan) -> frozenset[str]:
    names = list(plan.signature.parameters)
    positional = {names[i] for i, v in enumerate(args[: len(names)]) if v is not None}
    return frozenset(positional | {k for k, v in kwargs.items() if v is not None})


def contract_of(fn: Callable[..., Any]) -> FunctionContract | None:
    """The contract attached to a decorated function (or a bound method of one), if any."""
    found = getattr(fn, _MARK, None)
    return found if isinstance(found, FunctionContract) else None


@overload
def contract(fn: F, /) -> F: ...
@overload
def contract(
    *,
    dims: Mapping[str, DimSource] | None = None,
    where: Mapping[str, str] | None = None,
    masks: Mapping[str, str] | None = None,
    name: str | None = None,
    batch_coupled: bool = False,
    padding_side: PaddingSide | None = None,
) -> Callable[[F], F]: ...
def contract(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    dims: Mapping[str, DimSource] | None = None,
    where: Mapping[str, str] | None = None,
    masks: Mapping[str, str] | None = None,
    name: str | None = None,
    batch_coupled: bool = False,
    padding_side: PaddingSide | None = None,
) -> Any:
    """Check a function's jaxtyping-annotated arguments and return value in one dimension scope.

    ``dims`` binds dimensions before the call: an int (``{"D": 768}``), an argument path
    (``{"D": "model.config.hidden_size"}``, reported as the config field it reads) or a callable of the arguments.
    ``where`` states relations that jaxtyping cannot, checked as soon as every name in them is bound, wherever that
    happens (``{"N": "1 + G*G"}``). ``masks`` names mask arguments and the dimension they run over
    (``{"attention_mask": "N"}``) for the probes. ``batch_coupled=True`` says the examples of a batch depend on each
    other on purpose (in-batch negatives, batch statistics): the probes then do not test batch independence.
    ``padding_side`` (``"right"``, ``"left"``, ``"both"``) says how the masks the function receives are padded; by
    default the probes read it from the masks of each call.

    With ``DATA2VEC_CONTRACTS=0`` in the environment the function is returned unchanged.
    """
    options = _Options(dims, where, masks, name, batch_coupled, padding_side)
    if fn is None:
        return lambda f: _contract(f, options)
    return _contract(fn, options)


@dataclass(frozen=True)
class _Options:
    dims: Mapping[str, DimSource] | None
    where: Mapping[str, str] | None
    masks: Mapping[str, str] | None
    name: str | None
    batch_coupled: bool
    padding_side: PaddingSide | None


def _contract(fn: Callable[..., Any], options: _Options) -> Any:
    if not env_enabled():
        return fn
    if isinstance(fn, (classmethod, staticmethod)):  # @contract above @classmethod / @staticmethod
        return type(fn)(_contract(fn.__func__, options))
    if isinstance(fn, type):  # a class (a dataclass): its __init__ is checked, the class itself is returned
        init = fn.__dict__.get("__init__")
        if init is None:
            raise ContractDefinitionError(f"@contract on class {fn.__qualname__}: it defines no __init__ to check")
        label = options.name or f"{fn.__module__}.{fn.__qualname__}"
        fn.__init__ = _contract(init, dataclasses.replace(options, name=label))  # type: ignore[misc]
        return fn
    declared = FunctionContract(
        fn, dims=options.dims, where=options.where, masks=options.masks, name=options.name, hints=DATA2VEC_HINTS,
        batch_coupled=options.batch_coupled, padding_side=options.padding_side,
    )
    listeners = observers()
    callers = call_observers()
    is_compiling = torch.compiler.is_compiling
    names = tuple(declared.signature.parameters)
    the_plan = constant_plan(declared)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        if is_compiling():  # torch traces: checked on the symbolic sizes, once per trace; no per-call cost
            if not traced_active():
                return fn(*args, **kwargs)
            traced = the_plan()
            scope = traced.check_args(args, kwargs, traced_pins())
            out = fn(*args, **kwargs)
            traced.check_return(scope, out)
            return out
        if not active() or switched_off():
            return fn(*args, **kwargs)
        plan = declared.plan
        scope = plan.check_args(args, kwargs, pinned())
        if callers:
            for observe in tuple(callers):
                observe(declared, args, kwargs)
        if open_frame(scope, {**dict(zip(names, args)), **kwargs}):
            try:
                out = fn(*args, **kwargs)
            finally:
                close_frame(scope)
        else:
            out = fn(*args, **kwargs)
        plan.check_return(scope, out)
        if listeners:
            notify(plan.name, CheckKind.FUNCTION, scope.values, arguments=_given(args, kwargs, plan))
        return out

    wrapper = own_code(wrapper)
    setattr(wrapper, _MARK, declared)
    return wrapper


def constant_plan(declared: FunctionContract) -> Callable[[], FunctionPlan]:
    """The plan, as a constant for traced code (compiled natively at the first trace if it waited for a forward
    reference)."""

    @torch.compiler.assume_constant_result  # type: ignore[untyped-decorator]
    def the_plan() -> FunctionPlan:
        return declared.plan

    return the_plan  # type: ignore[no-any-return]
