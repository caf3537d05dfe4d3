"""Attach model contracts to Data2Vec instances (``checked``) and classes (``enforce``), and remove them."""

from __future__ import annotations

import functools
import inspect
import threading
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import torch

from ._checking import Scope
from ._memo import CallMemo, input_signature, output_signature
from ._observe import _observers, notify
from ._switch import active, env_enabled
from .contracts import CONTRACTS, ModelContract, contract_for
from .contracts._model import Call

__all__ = ["checked", "data2vec_classes", "enforce", "is_checked", "unchecked"]

M = TypeVar("M", bound=torch.nn.Module)
_MARK = "__data2vec_contract__"
_originals: dict[type, Callable[..., Any]] = {}
_lock = threading.Lock()
_enforce_depth = 0
_memos: dict[str, CallMemo] = {}  # one per contract, shared by every wrapper of that class
_wrappers: dict[tuple[str, Callable[..., Any]], Callable[..., Any]] = {}


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
    memo = _memos.setdefault(contract.class_name, CallMemo())

    def full_check(
        model: Any, args: tuple[Any, ...], kwargs: dict[str, Any], produce: Callable[[], Any]
    ) -> tuple[Any, Scope]:
        """Inputs, then ``produce()`` (the forward, or an output already made), then every output field."""
        __tracebackhide__ = True
        call = Call(model, model.config, {**dict(zip(names, args)), **kwargs}, bool(model.training))
        scope = contract.check_inputs(call)
        out = produce()
        contract.check_outputs(call, scope, out)
        if _observers:
            notify(contract.class_name, "model", scope.values)
        return out, scope

    def check(model: Any, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> None:
        __tracebackhide__ = True
        if active():
            full_check(model, args, kwargs, lambda: out)

    check_after = torch.compiler.disable(check, recursive=True)  # type: ignore[no-untyped-call]

    @functools.wraps(original)
    def forward(self: Any, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        if is_compiling():
            out = original(self, *args, **kwargs)
            check_after(self, args, kwargs, out)
            return out
        if not active():
            return original(self, *args, **kwargs)
        key = input_signature(self, args, kwargs)
        if key is not None:
            key = (id(self), *key)
            entry = memo.lookup(self, key)
            if entry is not None:
                out = original(self, *args, **kwargs)
                if output_signature(out) == entry.outputs:
                    if _observers:
                        notify(contract.class_name, "model", entry.values)
                    return out
                check(self, args, kwargs, out)  # a new output signature: the full check says what changed
                return out
        out, scope = full_check(self, args, kwargs, lambda: original(self, *args, **kwargs))
        if key is not None:
            outputs = output_signature(out)
            if outputs is not None:
                memo.store(self, key, outputs, scope.values)
        return out

    setattr(forward, _MARK, (contract, original))
    return forward


def is_checked(model: torch.nn.Module) -> bool:
    """Whether calls of this model are checked (by ``checked`` or inside ``enforce``)."""
    own = model.__dict__.get("forward")
    if own is not None and hasattr(getattr(own, "__func__", own), _MARK):
        return True
    return hasattr(type(model).forward, _MARK)


def checked(model: M) -> M:
    """Return the same model with every forward call checked against the contract of its class.

    Works for the 15 Data2Vec classes and subclasses of them. With ``DATA2VEC_CONTRACTS=0`` the
    model is returned untouched. Undo with :func:`unchecked`.
    """
    if not env_enabled():
        return model
    contract = contract_for(type(model))
    if contract is None:
        raise TypeError(
            f"checked() takes a Data2Vec model (one of the {len(CONTRACTS)} classes of "
            f"transformers.models.data2vec), got {type(model).__module__}.{type(model).__qualname__}"
        )
    forward = _checked_forward(contract, _original(type(model)))
    model.forward = types.MethodType(forward, model)
    return model


def unchecked(model: M) -> M:
    """Remove the checks that :func:`checked` attached; the class's own forward is used again."""
    own = model.__dict__.get("forward")
    if own is not None and hasattr(getattr(own, "__func__", own), _MARK):
        del model.__dict__["forward"]
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
