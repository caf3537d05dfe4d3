"""``--shape-contracts-packages``: wrap every jaxtyping-annotated function and method of some packages with
``@contract``, also when they were imported before the plugin ran, and put everything back afterwards."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Patches", "wrap_packages"]


@dataclass
class Patches:
    """Every attribute the plugin replaced, with its original, so :meth:`restore` puts them back exactly."""

    entries: list[tuple[Any, str, Any]] = field(default_factory=list)
    wrapped: list[str] = field(default_factory=list)
    #: functions that could not be wrapped, with the reason: left as they were
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def set(self, owner: Any, name: str, value: Any) -> None:
        self.entries.append((owner, name, owner.__dict__[name]))
        setattr(owner, name, value)

    def restore(self) -> None:
        while self.entries:
            owner, name, original = self.entries.pop()
            setattr(owner, name, original)


def _annotated(fn: Callable[..., Any]) -> bool:
    """Whether a function has a jaxtyping array type anywhere in its annotations."""
    from ..checker import contains_array

    if not getattr(fn, "__annotations__", None) or hasattr(fn, "__shape_contract__"):
        return False
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception:  # forward references only importable under TYPE_CHECKING: leave the function alone
        return False
    return any(contains_array(h) for h in hints.values())


def _modules_of(package: str) -> list[types.ModuleType]:
    """The package and all its submodules, importing those not imported yet."""
    root = importlib.import_module(package)
    path = getattr(root, "__path__", None)
    if path is not None:
        failed: list[str] = []
        for info in pkgutil.walk_packages(path, prefix=package + ".", onerror=failed.append):
            if info.name not in sys.modules:
                importlib.import_module(info.name)
        if failed:
            raise ImportError(f"--shape-contracts-packages: could not import {failed[0]}")
    prefix = package + "."
    return [m for n, m in list(sys.modules.items()) if (n == package or n.startswith(prefix)) and m is not None]


def _wrap(fn: Callable[..., Any], done: dict[int, tuple[Any, Any]], patches: Patches) -> Any:
    """The checked twin of ``fn``; ``fn`` itself, recorded in ``patches.skipped``, when it cannot be wrapped."""
    from ..instrument import contract

    entry = done.get(id(fn))
    if entry is None:
        name = f"{fn.__module__}.{fn.__qualname__}"
        try:
            wrapped = contract(fn)
        except Exception as error:  # one function we cannot wrap never stops the session
            reason = (str(error).strip().splitlines() or [""])[0]
            patches.skipped.append((name, f"{type(error).__name__}: {reason}"))
            wrapped = fn
        else:
            patches.wrapped.append(name)
        entry = done[id(fn)] = (fn, wrapped)
    return entry[1]


def _wrap_class(cls: type, done: dict[int, tuple[Any, Any]], patches: Patches) -> None:
    for name, attr in list(vars(cls).items()):
        if inspect.isfunction(attr) and _annotated(attr):
            wrapped = _wrap(attr, done, patches)
            if wrapped is not attr:
                patches.set(cls, name, wrapped)
        elif (
            isinstance(attr, (staticmethod, classmethod))
            and inspect.isfunction(attr.__func__)
            and _annotated(attr.__func__)
        ):
            inner = _wrap(attr.__func__, done, patches)
            if inner is not attr.__func__:
                patches.set(cls, name, type(attr)(inner))


def wrap_packages(packages: Iterable[str], also_rebind_in: Iterable[types.ModuleType] = ()) -> Patches:
    """Wrap the annotated functions and methods defined in ``packages``; rebind every module-level name
    that refers to one of them in the packages' modules and in ``also_rebind_in`` (conftest modules)."""
    patches = Patches()
    done: dict[int, tuple[Any, Any]] = {}
    modules: list[types.ModuleType] = []
    try:
        for package in packages:
            modules.extend(m for m in _modules_of(package) if m not in modules)
        for module in modules:
            for value in list(vars(module).values()):
                if getattr(value, "__module__", None) != module.__name__:
                    continue
                if inspect.isfunction(value) and _annotated(value):
                    _wrap(value, done, patches)
                elif inspect.isclass(value):
                    _wrap_class(value, done, patches)
        for module in [*modules, *(m for m in also_rebind_in if m not in modules)]:
            for name, value in list(vars(module).items()):
                entry = done.get(id(value))
                if entry is not None and entry[0] is value and entry[1] is not value:
                    patches.set(module, name, entry[1])
    except BaseException:
        patches.restore()
        raise
    return patches
