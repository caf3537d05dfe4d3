"""Attach model contracts to Data2Vec instances (``checked``) and classes (``enforce``), and remove them.

Each checked model has a small state of its own, keyed weakly by the model (nothing here keeps a model or its tensors
alive): the plans compiled for it (one per kind of call, see :class:`~data2vec_contracts.contracts.CallView`) and
the memo of validated call signatures (:mod:`._memo`).
"""

from __future__ import annotations

import functools
import inspect
import threading
import types
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import torch

from ..checker import Scope, own_code
from ..contracts import CONTRACTS, ModelContract, ModelPlan, contract_for, gradient_checkpointing
from ._memo import CallMemo, Entry, input_signature, output_signature
from ._observe import CheckKind, notify, observers
from ._switch import active, env_enabled, pinned, traced_active, traced_pins

__all__ = ["checked", "data2vec_classes", "enforce", "is_checked", "plan_for", "unchecked"]

M = TypeVar("M", bound=torch.nn.Module)
_MARK = "__data2vec_contract__"
_originals: dict[type, Callable[..., Any]] = {}
_lock = threading.Lock()
_enforce_depth = 0
_wrappers: dict[tuple[str, Callable[..., Any]], Callable[..., Any]] = {}


_fields = object.__getattribute__


def config_fields(config: Any) -> dict[str, Any]:
    """The config's own fields, read past ``PretrainedConfig.__getattribute__`` (which costs microseconds a read)."""
    fields: dict[str, Any] = _fields(config, "__dict__")
    return fields


def _snapshot(fields: dict[str, Any]) -> dict[str, Any]:
    """A copy of the fields whose lists and dicts are copied too, so a field changed in place is seen."""
    return {k: (type(v)(v) if isinstance(v, (list, dict)) else v) for k, v in fields.items()}


class ModelState:
    """What is kept per checked model: its config's fields as the plans saw them, the plans, the memo; never the
    model itself (a weak reference to the model and to its first parameter)."""

    __slots__ = ("__weakref__", "config", "lock", "memo", "param", "plans", "pooled", "ref")

    def __init__(self, model: torch.nn.Module) -> None:
        self.ref = weakref.ref(model, _forget(id(model)))
        self.lock = threading.Lock()
        self.pooled = getattr(model, "pooler", None) is not None
        self.reset(model)

    def reset(self, model: Any) -> None:
        with self.lock:
            self.config = _snapshot(config_fields(model.config))
            self.plans: dict[tuple[Any, ...], ModelPlan] = {}
            self.memo = CallMemo()
            first = next(model.parameters(), None)
            # a cast (model.to(bfloat16)) changes the dtype of the same parameter object in place
            self.param = weakref.ref(first) if first is not None else None

    def dtype(self) -> torch.dtype | None:
        param = self.param() if self.param is not None else None
        return None if param is None else param.dtype

    def current(self, model: Any) -> bool:
        """The config is as the plans saw it, and the first parameter is the one they saw."""
        return config_fields(model.config) == self.config and (self.param is None or self.param() is not None)

    def plan(self, contract: ModelContract, model: Any, args: dict[str, Any]) -> ModelPlan:
        """The plan of this call: compiled once per kind of call (which arguments, which flags, train/eval)."""
        given, read = contract.facts(args)
        return self.plan_of(contract, model, given, read)

    def plan_of(
        self,
        contract: ModelContract,
        model: Any,
        given: frozenset[str],
        read: tuple[tuple[str, Any], ...],
    ) -> ModelPlan:
        training = bool(model.training)
        checkpointing = training and gradient_checkpointing(model, model.config)
        key = (given, read, training, checkpointing)
        found = self.plans.get(key)
        if found is None:
            view = contract.view_of(model.config, given, read, training, model, checkpointing)
            found = self.plans.setdefault(key, contract.compile(view))
        return found


_states: dict[int, ModelState] = {}


def _forget(key: int) -> Callable[[Any], None]:
    def forget(_ref: Any) -> None:
        _states.pop(key, None)

    return forget


def state_of(model: Any) -> ModelState:
    state = _states.get(id(model))
    if state is None or state.ref() is not model:
        state = _states[id(model)] = ModelState(model)
    return state


def plan_for(model: Any, args: dict[str, Any] | None = None) -> ModelPlan:
    """The plan a call of ``model`` with these arguments is checked against."""
    contract = contract_for(type(model))
    if contract is None:
        raise TypeError(f"{type(model).__name__} is not a Data2Vec model")
    return state_of(model).plan(contract, model, dict(args or {}))


def data2vec_classes() -> dict[str, type]:
    """The 15 Data2Vec model classes of the installed transformers, by name."""
    import transformers

    return {name: getattr(transformers, name) for name in CONTRACTS}


def _original(cls: type) -> Callable[..., Any]:
    """The forward of ``cls`` as transformers defined it (never one of our wrappers)."""
    for base in cls.__mro__:
        if base in _originals:
            return _originals[base]
        fn = base.__dict__.get("forward")
        if fn is not None:
            inner = getattr(fn, _MARK, None)
            return inner[1] if inner else fn  # type: ignore[no-any-return]
    raise TypeError(f"{cls.__name__} has no forward")


def _param_names(fn: Callable[..., Any]) -> tuple[str, ...]:
    params = list(inspect.signature(fn).parameters.values())[1:]
    return tuple(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.POSITIONAL_ONLY))


def _checked_forward(contract: ModelContract, original: Callable[..., Any]) -> Callable[..., Any]:
    """The checked twin of ``original``: one per (contract, original), reused by every ``checked``/``enforce``."""
    key = (contract.class_name, original)
    forward = _wrappers.get(key)
    if forward is None:
        forward = _wrappers.setdefault(key, _make_checked_forward(contract, original))
    return forward


def _make_checked_forward(contract: ModelContract, original: Callable[..., Any]) -> Callable[..., Any]:
    names = _param_names(original)
    is_compiling = torch.compiler.is_compiling
    listeners = observers()
    class_name = contract.class_name

    def full_check(model: Any, args: tuple[Any, ...], kwargs: dict[str, Any], produce: Callable[[], Any]) -> Any:
        """Inputs, then ``produce()`` (the forward, or an output already made), then every output field."""
        __tracebackhide__ = True
        state = state_of(model)
        if not state.current(model):
            state.reset(model)
        arguments = {**dict(zip(names, args)), **kwargs}
        plan = state.plan(contract, model, arguments)
        scope: Scope = plan.check_inputs(arguments, state.dtype(), pinned())
        out = produce()
        plan.check_outputs(scope, out)
        given = frozenset(k for k, v in arguments.items() if v is not None)
        if listeners:
            notify(class_name, CheckKind.MODEL, scope.values, arguments=given)
        return out, scope, state, given, plan

    def check(model: Any, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> None:
        __tracebackhide__ = True
        if active():
            full_check(model, args, kwargs, lambda: out)

    @torch.compiler.assume_constant_result  # type: ignore[untyped-decorator]
    def traced_plan(model: Any, given: tuple[str, ...], read: tuple[tuple[str, Any], ...]) -> tuple[Any, ...]:
        """Natively, while torch traces: the plan of this kind of call, and the parameter dtype's name."""
        state = state_of(model)
        if not state.current(model):
            state.reset(model)
        plan = state.plan_of(contract, model, frozenset(given), read)
        dtype = state.dtype()
        return plan, None if dtype is None else str(dtype)

    @functools.wraps(original)
    def forward(self: Any, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        if is_compiling():  # torch traces: checked on the symbolic sizes, once per trace; no per-call cost
            if not traced_active():
                return original(self, *args, **kwargs)
            arguments = {**dict(zip(names, args)), **kwargs}
            given, read = contract.facts(arguments)
            plan, dtype = traced_plan(self, tuple(sorted(given)), read)
            scope = plan.check_inputs(arguments, dtype, traced_pins())
            out = original(self, *args, **kwargs)
            plan.check_outputs(scope, out)
            return out
        if not active():
            return original(self, *args, **kwargs)
        state = _states.get(id(self))
        key = None
        training = self.training
        if state is not None and state.ref() is self and _fields(self.config, "__dict__") == state.config:  # type: ignore[union-attr]
            key = input_signature(training, state.dtype(), args, kwargs)
            if key is not None:
                entry = state.memo.lookup(key)
                # a value the plan's value checks reject (an id past the vocabulary) goes on to the full check
                if entry is not None and (
                    not entry.value_checks
                    or entry.plan.passes_values({**dict(zip(names, args)), **kwargs}, entry.values, entry.value_checks)
                ):
                    out = original(self, *args, **kwargs)
                    if output_signature(out) == entry.outputs:
                        if listeners:
                            notify(class_name, CheckKind.MODEL, entry.values, arguments=entry.arguments)
                        return out
                    check(self, args, kwargs, out)  # a new output signature: the full check says what changed
                    return out
        out, scope, state, given, plan = full_check(self, args, kwargs, lambda: original(self, *args, **kwargs))
        if key is None:
            key = input_signature(training, state.dtype(), args, kwargs)
        if key is not None:
            outputs = output_signature(out)
            if outputs is not None:
                state.memo.store(key, Entry(plan, outputs, dict(scope.values), given, plan.value_checks_of(given)))
        return out

    forward = own_code(forward)
    setattr(forward, _MARK, (contract, original))
    return forward


def is_checked(model: torch.nn.Module) -> bool:
    """Whether calls of this model are checked (by ``checked`` or inside ``enforce``)."""
    model = _inner(model)
    own = model.__dict__.get("forward")
    if own is not None and hasattr(getattr(own, "__func__", own), _MARK):
        return True
    return hasattr(type(model).forward, _MARK)


def _inner(model: Any) -> Any:
    """The module a ``torch.compile`` wrapper (``OptimizedModule``) compiles; the model itself otherwise."""
    inner = getattr(model, "_orig_mod", None)
    return inner if isinstance(inner, torch.nn.Module) else model


def checked(model: M) -> M:
    """Return the same model with every forward call checked against the contract of its class.

    Works for the 15 Data2Vec classes, subclasses of them, and ``torch.compile`` wrappers of them (the compiled module
    is returned, its inner model checked). With ``DATA2VEC_CONTRACTS=0`` the model is returned untouched. Undo with
    :func:`unchecked`.
    """
    if not env_enabled():
        return model
    inner = _inner(model)
    contract = contract_for(type(inner))
    if contract is None:
        raise TypeError(
            f"checked() takes a Data2Vec model (one of the {len(CONTRACTS)} classes of "
            f"transformers.models.data2vec), got {type(model).__module__}.{type(model).__qualname__}"
        )
    forward = _checked_forward(contract, _original(type(inner)))
    inner.forward = types.MethodType(forward, inner)
    return model


def unchecked(model: M) -> M:
    """Remove the checks that :func:`checked` attached; the class's own forward is used again."""
    inner = _inner(model)
    own = inner.__dict__.get("forward")
    if own is not None and hasattr(getattr(own, "__func__", own), _MARK):
        del inner.__dict__["forward"]
    return model


@contextmanager
def enforce() -> Iterator[None]:
    """Check every call of every Data2Vec model class inside the block.

    The class attributes are restored exactly on exit, also when the block raises. Nested blocks
    patch once.
    """
    global _enforce_depth
    if not env_enabled():
        yield
        return
    with _lock:
        if _enforce_depth == 0:
            for cls in data2vec_classes().values():
                original = cls.__dict__["forward"]
                _originals[cls] = original
                setattr(cls, "forward", _checked_forward(CONTRACTS[cls.__name__], original))  # noqa: B010
        _enforce_depth += 1
    try:
        yield
    finally:
        with _lock:
            _enforce_depth -= 1
            if _enforce_depth == 0:
                for cls, original in list(_originals.items()):
                    setattr(cls, "forward", original)  # noqa: B010
                _originals.clear()
