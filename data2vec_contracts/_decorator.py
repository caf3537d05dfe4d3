"""``@contract``: jaxtyping-annotated functions checked in one dimension scope per call."""

from __future__ import annotations

import contextlib
import functools
import inspect
import operator
import os
import typing
from collections.abc import Callable, Mapping
from typing import Any, NoReturn, TypeVar, overload

import torch

from ._checking import Rule, Scope, check_value
from ._errors import ContractDefinitionError
from ._observe import _observers, notify
from ._spec import Spec, compile_expr, eval_dim, parse_hint
from ._switch import active, env_enabled, pinned

__all__ = ["ContractFunction", "contract", "contract_of"]

F = TypeVar("F", bound=Callable[..., Any])
DimSource = int | str | Callable[[Mapping[str, Any]], int]
_MISSING = object()
# Called as observe(plan, args, kwargs) before each checked call, once its arguments have passed;
# consulted only when non-empty (``auto_probe`` registers here).
_call_observers: list[Callable[[ContractFunction, tuple[Any, ...], dict[str, Any]], None]] = []


def _declared(fn: Callable[..., Any]) -> str:
    code = getattr(fn, "__code__", None)
    if code is None:
        return getattr(fn, "__qualname__", repr(fn))
    path = code.co_filename
    try:
        rel = os.path.relpath(path)
        path = rel if not rel.startswith("..") else path
    except ValueError:
        pass
    return f"{path}:{code.co_firstlineno}"


def _resolve_path(path: str, arguments: Mapping[str, Any]) -> Any:
    head, *rest = path.split(".")
    obj = arguments[head]
    for attr in rest:
        obj = obj[attr] if isinstance(obj, Mapping) else getattr(obj, attr)
    return obj


class ContractFunction:
    """The plan of one decorated function: which argument has which spec, and where dims come from."""

    def __init__(
        self,
        fn: Callable[..., Any],
        dims: Mapping[str, DimSource] | None,
        where: Mapping[str, str] | None,
        name: str | None,
        masks: Mapping[str, str] | None = None,
    ) -> None:
        self.fn = fn
        self.name = name or f"{fn.__module__}.{fn.__qualname__}"
        self.declared = _declared(fn)
        self.signature = inspect.signature(fn)
        self.masks = dict(masks or {})
        self.dims = dict(dims or {})
        self.rules = self._rules(where or {})
        self._validate_dims()
        self._params: list[tuple[str, int, Spec]] | None = None
        self._return: Spec | None = None
        with contextlib.suppress(NameError):  # a forward reference: resolved at the first call
            self._prepare()

    # -- building the plan --------------------------------------------------------------------
    def _rules(self, where: Mapping[str, str]) -> dict[str, Rule]:
        rules = {}
        for target, expr in where.items():
            if not isinstance(target, str) or not target.isidentifier():
                raise ContractDefinitionError(f"{self.name}: where= keys must be dimension names, got {target!r}")
            if not isinstance(expr, str):
                raise ContractDefinitionError(f"{self.name}: where[{target!r}] must be an expression string")
            code, names = compile_expr(expr)
            if target in names:
                raise ContractDefinitionError(f"{self.name}: where[{target!r}] = {expr!r} refers to itself")

            def compute(values: Mapping[str, Any], code: Any = code) -> int:
                return eval_dim(code, values)

            rules[target] = Rule(target, names, compute, expr, "where= of the contract")
        return rules

    def _validate_dims(self) -> None:
        params = self.signature.parameters
        for dim, source in self.dims.items():
            if not isinstance(dim, str) or not dim.isidentifier():
                raise ContractDefinitionError(f"{self.name}: dims= keys must be dimension names, got {dim!r}")
            if isinstance(source, bool) or (not isinstance(source, (int, str)) and not callable(source)):
                raise ContractDefinitionError(
                    f"{self.name}: dims[{dim!r}] must be an int, an argument path such as "
                    f"'model.config.hidden_size', or a callable; got {source!r}"
                )
            if isinstance(source, str) and source.split(".")[0] not in params:
                raise ContractDefinitionError(
                    f"{self.name}: dims[{dim!r}] = {source!r} names no argument of {self.fn.__qualname__}"
                    f" (arguments: {', '.join(params)})"
                )

    def _prepare(self) -> None:
        hints = typing.get_type_hints(self.fn, include_extras=True)
        params = []
        for index, (pname, p) in enumerate(self.signature.parameters.items()):
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or pname not in hints:
                continue
            spec = parse_hint(hints[pname])
            if spec is not None:
                position = index if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) else -1
                params.append((pname, position, spec))
        self._return = parse_hint(hints["return"]) if "return" in hints else None
        self._params = params

    def arguments(self, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, Any]:
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return dict(bound.arguments)

    # -- checking -----------------------------------------------------------------------------
    def new_scope(self, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Scope:
        scope = Scope(self.name, self.declared, self.rules or None)
        pins = pinned()
        if pins:
            for dim, value in pins.items():
                scope.bind(dim, value, "pinned for this test (shape_contracts marker / pinned_dims)")
        if self.dims:
            arguments: dict[str, Any] | None = None
            for dim, source in self.dims.items():
                if isinstance(source, int):
                    value, where = source, f"dims= of the contract ({dim}={source})"
                else:
                    if arguments is None:
                        arguments = self.arguments(args, kwargs)
                    label = source if isinstance(source, str) else getattr(source, "__name__", "callable")
                    where = f"dims= of the contract ({label})" if not isinstance(source, str) else (
                        source if "." in source else f"argument {source}"
                    )
                    try:  # a source that cannot be read from these arguments is their fault, not ours
                        read = _resolve_path(source, arguments) if isinstance(source, str) else source(arguments)
                        value = operator.index(read)
                    except Exception as exc:
                        self._unreadable(args, kwargs, f"dims[{dim!r}] = {label}", f"{type(exc).__name__}: {exc}")
                    if value < 0:
                        self._unreadable(args, kwargs, f"dims[{dim!r}] = {label}", str(value))
                if dim in scope.values and scope.values[dim] != value:
                    scope.fail(
                        where, "dimension", str(scope.values[dim]), str(value),
                        dimension=dim, bound_by=scope.source_text(dim),
                    )
                scope.bind(dim, int(value), where)
        return scope

    def _unreadable(self, args: tuple[Any, ...], kwargs: Mapping[str, Any], field: str, actual: str) -> NoReturn:
        """A dims= source gave no size: report a bad argument if there is one (it explains best), else the source."""
        __tracebackhide__ = True
        scope = Scope(self.name, self.declared, None)
        for pname, position, spec in self._params or ():
            value = args[position] if 0 <= position < len(args) else kwargs.get(pname, _MISSING)
            if value is not _MISSING:
                check_value(scope, spec, value, f"argument {pname}")
        actual = (actual.splitlines() or [""])[0]
        scope.fail(field, "type", "a size (an int >= 0)", actual if len(actual) <= 100 else actual[:97] + "...")

    def check_args(self, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Scope:
        __tracebackhide__ = True
        if self._params is None:
            self._prepare()
        if self.dims or pinned():
            scope = self.new_scope(args, kwargs)
        else:
            scope = Scope(self.name, self.declared, self.rules or None)
        nargs = len(args)
        for pname, position, spec in self._params:  # type: ignore[union-attr]
            if 0 <= position < nargs:
                value = args[position]
            else:
                value = kwargs.get(pname, _MISSING)
                if value is _MISSING:
                    continue
            check_value(scope, spec, value, f"argument {pname}")
        if scope.pending or self.rules:
            scope.settle(final=False)
        return scope

    def check_return(self, scope: Scope, out: Any) -> None:
        __tracebackhide__ = True
        if self._return is not None:
            check_value(scope, self._return, out, "return value")
        if scope.pending or self.rules:
            scope.settle(final=True)
        if _observers:
            notify(self.name, "function", scope.values)

    def check_after(self, args: tuple[Any, ...], kwargs: Mapping[str, Any], out: Any) -> None:
        """Arguments and return together, once the call is over (used under ``torch.compile``)."""
        __tracebackhide__ = True
        if active():
            self.check_return(self.check_args(args, kwargs), out)


def contract_of(fn: Callable[..., Any]) -> ContractFunction | None:
    """The contract attached to a decorated function, if any."""
    return getattr(fn, "__shape_contract__", None)


@overload
def contract(fn: F, /) -> F: ...
@overload
def contract(
    *,
    dims: Mapping[str, DimSource] | None = None,
    where: Mapping[str, str] | None = None,
    masks: Mapping[str, str] | None = None,
    name: str | None = None,
) -> Callable[[F], F]: ...
def contract(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    dims: Mapping[str, DimSource] | None = None,
    where: Mapping[str, str] | None = None,
    masks: Mapping[str, str] | None = None,
    name: str | None = None,
) -> Any:
    """Check a function's jaxtyping-annotated arguments and return value in one dimension scope.

    ``dims`` binds dimensions before the call: an int (``{"D": 768}``), an argument path
    (``{"D": "model.config.hidden_size"}``, reported as the config field it reads) or a callable of
    the arguments. ``where`` states relations that jaxtyping cannot, checked as soon as every name
    in them is bound, wherever that happens (``{"N": "1 + G*G"}``). ``masks`` names mask arguments and
    the dimension they run over (``{"attention_mask": "N"}``) for the probes.

    With ``DATA2VEC_CONTRACTS=0`` in the environment the function is returned unchanged.
    """
    if fn is None:
        return lambda f: _contract(f, dims, where, masks, name)
    return _contract(fn, dims, where, masks, name)


def _contract(
    fn: Callable[..., Any],
    dims: Mapping[str, DimSource] | None,
    where: Mapping[str, str] | None,
    masks: Mapping[str, str] | None,
    name: str | None,
) -> Any:
    if not env_enabled():
        return fn
    plan = ContractFunction(fn, dims, where, name, masks)
    check_after = torch.compiler.disable(plan.check_after, recursive=True)  # type: ignore[no-untyped-call]
    is_compiling = torch.compiler.is_compiling

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        if is_compiling():
            out = fn(*args, **kwargs)
            check_after(args, kwargs, out)
            return out
        if not active():
            return fn(*args, **kwargs)
        scope = plan.check_args(args, kwargs)
        if _call_observers:
            for observe in tuple(_call_observers):
                observe(plan, args, kwargs)
        out = fn(*args, **kwargs)
        plan.check_return(scope, out)
        return out

    wrapper.__shape_contract__ = plan  # type: ignore[attr-defined]
    return wrapper
