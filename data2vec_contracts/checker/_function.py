"""The contract of one annotated function, compiled once into an immutable plan and checked per call.

:class:`FunctionContract` is the declaration (``dims=``, ``where=``, ``masks=``), validated when it is made: a bad
dimension source, a malformed or cyclic relation fails there. Its :attr:`~FunctionContract.plan` (the argument and
return specs, the rules) is compiled from the annotations once, at declaration or, for forward references, at the
first call.
"""

from __future__ import annotations

import contextlib
import inspect
import operator
import os
import threading
import typing
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NoReturn

from ._check import check_value
from ._errors import ContractDefinitionError
from ._expr import parse_expr
from ._messages import Problem
from ._scope import HintProvider, Rule, Scope, check_acyclic
from ._specs import MappingSpec, SeqSpec, Spec, TensorSpec, TupleSpec, UnionSpec, argument_symbol, parse_hint
from ._table import Table

__all__ = [
    "DimSource",
    "FunctionContract",
    "FunctionPlan",
    "PaddingSide",
    "Param",
    "ParamKind",
    "UnresolvedAnnotationWarning",
    "declared_at",
    "resolve_path",
]

DimSource = int | str | Callable[[Mapping[str, Any]], int]
PINNED = "pinned for this test (shape_contracts marker / pinned_dims)"
_MISSING: Any = object()


def declared_at(fn: Callable[..., Any]) -> str:
    """``path:line`` of the user's own function, through any wrapper (``jaxtyped``, ``beartype``) that set
    ``__wrapped__``."""
    inner = inspect.unwrap(fn) if callable(fn) else fn
    code = getattr(inner, "__code__", None)
    if code is None:
        return getattr(fn, "__qualname__", repr(fn))
    path = code.co_filename
    try:
        rel = os.path.relpath(path)
        path = rel if not rel.startswith("..") else path
    except ValueError:
        pass
    return f"{path}:{code.co_firstlineno}"


def resolve_path(path: str, arguments: Mapping[str, Any]) -> Any:
    """``"model.config.hidden_size"`` read from the call's arguments (mapping keys or attributes)."""
    head, *rest = path.split(".")
    obj = arguments[head]
    for attr in rest:
        obj = obj[attr] if isinstance(obj, Mapping) else getattr(obj, attr)
    return obj


ParamKind = Literal["positional", "keyword", "var_positional", "var_keyword"]
#: the sides a function's masks may be padded on (the probes build only such variants)
PaddingSide = Literal["right", "left", "both"]


@dataclass(frozen=True, slots=True)
class Param:
    """One annotated parameter: its name, its position (``-1``: keyword-only) and its spec; ``*args`` and
    ``**kwargs`` annotations apply to each of their values."""

    name: str
    position: int
    spec: Spec
    kind: ParamKind = "positional"


@dataclass(frozen=True, slots=True)
class FunctionPlan:
    """What a call of the function is checked against: prebuilt specs, the rules and the dimension sources."""

    name: str
    declared: str
    signature: inspect.Signature
    params: tuple[Param, ...]
    returns: Spec | None
    rules: Table[str, Rule]
    dims: Table[str, DimSource]
    masks: Table[str, str]
    hints: HintProvider | None
    #: arguments whose int value an expression dimension reads (``{n}``)
    read_arguments: tuple[str, ...] = ()
    #: how many parameters come before ``*args`` (``-1``: no ``*args``)
    var_positional_at: int = -1
    #: the names of the parameters that take positional arguments, and the defaults of every parameter
    positional: tuple[str, ...] = ()
    defaults: Table[str, Any] = field(default_factory=Table)
    #: the names of every named parameter (``**kwargs`` takes the others)
    named: tuple[str, ...] = ()

    # -- checking ---------------------------------------------------------------------------------
    def arguments(self, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """The call's arguments by name, defaults filled in (what ``dims=`` sources read)."""
        found = {**dict(self.defaults.items()), **dict(zip(self.positional, args)), **kwargs}
        return found

    def new_scope(
        self, args: tuple[Any, ...], kwargs: Mapping[str, Any], pins: Mapping[str, int] | None = None
    ) -> Scope:
        """A scope with the pinned dimensions and every ``dims=`` source bound."""
        __tracebackhide__ = True
        scope = Scope(self.name, self.declared, self.rules, hints=self.hints)
        if pins:
            for dim, value in pins.items():
                scope.bind(dim, value, PINNED)
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
                        read = resolve_path(source, arguments) if isinstance(source, str) else source(arguments)
                        value = operator.index(read)
                    except Exception as exc:
                        self._unreadable(args, kwargs, f"dims[{dim!r}] = {label}", f"{type(exc).__name__}: {exc}")
                    if value < 0:
                        self._unreadable(args, kwargs, f"dims[{dim!r}] = {label}", str(value))
                if dim in scope.values and scope.values[dim] != value:
                    scope.fail(
                        where, Problem.DIMENSION, str(scope.values[dim]), str(value), dimension=dim,
                        bound_by=scope.source_text(dim),
                    )
                scope.bind(dim, int(value), where)
        return scope

    def bind_static_dims(self, scope: Scope, arguments: Mapping[str, Any]) -> None:
        """Bind the ``dims=`` sources that the given (non-tensor) arguments determine; others stay unbound."""
        for dim, source in self.dims.items():
            try:
                if isinstance(source, int):
                    scope.bind(dim, source, f"dims= of the contract ({dim}={source})")
                elif isinstance(source, str):
                    scope.bind(dim, int(resolve_path(source, arguments)), source)
                else:
                    scope.bind(dim, int(source(arguments)), f"dims= of the contract ({source.__name__})")
            except (KeyError, AttributeError, TypeError):
                continue  # needs an argument not given yet (a tensor): bound at run time

    def _unreadable(self, args: tuple[Any, ...], kwargs: Mapping[str, Any], field: str, actual: str) -> NoReturn:
        """A dims= source gave no size: report a bad argument if there is one (it explains best), else the source."""
        __tracebackhide__ = True
        scope = Scope(self.name, self.declared, None, hints=self.hints)
        for p in self.params:
            value = args[p.position] if 0 <= p.position < len(args) else kwargs.get(p.name, _MISSING)
            if value is not _MISSING:
                check_value(scope, p.spec, value, f"argument {p.name}")
        actual = (actual.splitlines() or [""])[0]
        scope.fail(field, Problem.TYPE, "a size (an int >= 0)", actual if len(actual) <= 100 else actual[:97] + "...")

    def check_args(
        self, args: tuple[Any, ...], kwargs: Mapping[str, Any], pins: Mapping[str, int] | None = None
    ) -> Scope:
        __tracebackhide__ = True
        if self.dims or pins:
            scope = self.new_scope(args, kwargs, pins)
        else:
            scope = Scope(self.name, self.declared, self.rules, hints=self.hints)
        if self.read_arguments:
            self._bind_read_arguments(scope, args, kwargs)
        nargs = len(args)
        for p in self.params:
            kind = p.kind
            if kind == "var_positional":
                for i, value in enumerate(args[self.var_positional_at :]):
                    check_value(scope, p.spec, value, f"argument {p.name}[{i}]")
                continue
            if kind == "var_keyword":
                named = self.named
                for key, value in kwargs.items():
                    if key not in named:
                        check_value(scope, p.spec, value, f"argument {p.name}[{key!r}]")
                continue
            position = p.position
            if 0 <= position < nargs:
                value = args[position]
            else:
                value = kwargs.get(p.name, _MISSING)
                if value is _MISSING:
                    continue
            check_value(scope, p.spec, value, f"argument {p.name}")
        if scope.pending or self.rules:
            scope.settle(final=False)
        return scope

    def _bind_read_arguments(self, scope: Scope, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
        arguments = self.arguments(args, kwargs)
        for name in self.read_arguments:
            value = arguments.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                scope.bind(argument_symbol(name), value, f"argument {name}")

    def check_return(self, scope: Scope, out: Any) -> None:
        __tracebackhide__ = True
        if self.returns is not None:
            check_value(scope, self.returns, out, "return value")
        if scope.pending or self.rules:
            scope.settle(final=True)


class FunctionContract:
    """A function's declared contract; :attr:`plan` is compiled from its annotations once."""

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        dims: Mapping[str, DimSource] | None = None,
        where: Mapping[str, str] | None = None,
        masks: Mapping[str, str] | None = None,
        name: str | None = None,
        hints: HintProvider | None = None,
        batch_coupled: bool = False,
        padding_side: PaddingSide | None = None,
    ) -> None:
        self.fn = fn
        self.name = name or f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"
        self.declared = declared_at(fn)
        self.signature = inspect.signature(fn)
        self.dims: Table[str, DimSource] = Table(dims or {}) if isinstance(dims, Mapping) or dims is None else dims
        self.masks: Table[str, str] = Table(masks or {}) if isinstance(masks, Mapping) or masks is None else masks
        self.batch_coupled = bool(batch_coupled)
        if padding_side is not None and padding_side not in ("right", "left", "both"):
            raise ContractDefinitionError(
                f"{self.name}: padding_side= must be 'right', 'left' or 'both' (or None: read from the masks), "
                f"got {padding_side!r}"
            )
        self.padding_side: PaddingSide | None = padding_side
        self.hints = hints
        self.rules: Table[str, Rule] = Table(self._rules(where or {}))
        self._validate_dims()
        self._validate_masks()
        self._plan: FunctionPlan | None = None
        self._lock = threading.Lock()
        with contextlib.suppress(NameError):  # a forward reference: compiled at the first call
            self._plan = self._compile(final=False)

    @property
    def plan(self) -> FunctionPlan:
        plan = self._plan
        if plan is None:
            with self._lock:
                plan = self._plan
                if plan is None:
                    plan = self._plan = self._compile()
        return plan

    # -- declaration ------------------------------------------------------------------------------
    def _rules(self, where: Mapping[str, str]) -> dict[str, Rule]:
        if not isinstance(where, Mapping):
            raise ContractDefinitionError(f"{self.name}: where= must be a mapping of dimension names to expressions")
        rules = {}
        for target, text in where.items():
            if not isinstance(target, str) or not target.isidentifier():
                raise ContractDefinitionError(f"{self.name}: where= keys must be dimension names, got {target!r}")
            if not isinstance(text, str):
                raise ContractDefinitionError(f"{self.name}: where[{target!r}] must be an expression string")
            expr = parse_expr(text)
            if target in expr.names:
                raise ContractDefinitionError(f"{self.name}: where[{target!r}] = {text!r} refers to itself")
            rules[target] = Rule(target, expr, "where= of the contract")
        check_acyclic(rules, self.name)
        return rules

    def _validate_dims(self) -> None:
        if not isinstance(self.dims, Mapping):
            raise ContractDefinitionError(f"{self.name}: dims= must be a mapping of dimension names to sources")
        params = self.signature.parameters
        for dim, source in self.dims.items():
            if not isinstance(dim, str) or not dim.isidentifier():
                raise ContractDefinitionError(f"{self.name}: dims= keys must be dimension names, got {dim!r}")
            if isinstance(source, bool) or (not isinstance(source, (int, str)) and not callable(source)):
                raise ContractDefinitionError(
                    f"{self.name}: dims[{dim!r}] must be an int, an argument path such as "
                    f"'model.config.hidden_size', or a callable; got {source!r}"
                )
            if isinstance(source, int) and source < 0:
                raise ContractDefinitionError(f"{self.name}: dims[{dim!r}] = {source} is negative")
            if isinstance(source, str) and source.split(".")[0] not in params:
                raise ContractDefinitionError(
                    f"{self.name}: dims[{dim!r}] = {source!r} names no argument of "
                    f"{getattr(self.fn, '__qualname__', self.name)} (arguments: {', '.join(params)})"
                )

    def _validate_masks(self) -> None:
        if not isinstance(self.masks, Mapping):
            raise ContractDefinitionError(f"{self.name}: masks= must map mask arguments to the dimension they cover")
        for arg, dim in self.masks.items():
            if not isinstance(arg, str) or not isinstance(dim, str) or not dim.isidentifier():
                raise ContractDefinitionError(
                    f"{self.name}: masks= maps argument names to dimension names, e.g. {{'attention_mask': 'N'}}; "
                    f"got {arg!r}: {dim!r}"
                )

    def _compile(self, final: bool = True) -> FunctionPlan:
        """The plan; before the first call (``final=False``) a forward reference raises ``NameError`` to wait for it."""
        fn = inspect.unwrap(self.fn)
        hints = _type_hints(fn, self.name) if final else typing.get_type_hints(fn, include_extras=True)
        params = []
        var_positional_at = -1
        for index, (pname, p) in enumerate(self.signature.parameters.items()):
            if p.kind is p.VAR_POSITIONAL:
                var_positional_at = index
            if pname not in hints:
                continue
            spec = parse_hint(hints[pname])
            if spec is None:
                continue
            kind: ParamKind = "positional"
            position = index if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) else -1
            if p.kind is p.KEYWORD_ONLY:
                kind = "keyword"
            elif p.kind is p.VAR_POSITIONAL:
                kind, position = "var_positional", -1
            elif p.kind is p.VAR_KEYWORD:
                kind, position = "var_keyword", -1
            params.append(Param(pname, position, spec, kind))
        returns = parse_hint(hints["return"]) if "return" in hints else None
        specs = [p.spec for p in params] + ([returns] if returns is not None else [])
        read = tuple(dict.fromkeys(name for spec in specs for name in _read_arguments(spec)))
        parameters = self.signature.parameters.values()
        positional = tuple(
            p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        )
        defaults = Table((p.name, p.default) for p in parameters if p.default is not p.empty)
        named = tuple(p.name for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))
        return FunctionPlan(
            self.name, self.declared, self.signature, tuple(params), returns, self.rules, self.dims, self.masks,
            self.hints, read, var_positional_at, positional, defaults, named,
        )


def _read_arguments(spec: Spec) -> tuple[str, ...]:
    """The arguments an expression dimension anywhere inside ``spec`` reads by value (``{n}``)."""
    if isinstance(spec, TensorSpec):
        return spec.arguments
    inner: list[Spec] = []
    if isinstance(spec, TupleSpec):
        inner = list(spec.items)
    elif isinstance(spec, SeqSpec):
        inner = [spec.item]
    elif isinstance(spec, MappingSpec):
        inner = [spec.value]
    elif isinstance(spec, UnionSpec):
        inner = list(spec.options)
    return tuple(n for s in inner for n in _read_arguments(s))


def _type_hints(fn: Callable[..., Any], name: str) -> dict[str, Any]:
    """The annotations of ``fn`` resolved; one that names something not importable (a local alias in a string
    annotation) is left unchecked, as jaxtyping leaves it, with a warning that says so."""
    try:
        return typing.get_type_hints(fn, include_extras=True)
    except NameError:
        pass
    raw = dict(getattr(fn, "__annotations__", {}) or {})
    namespace = dict(getattr(fn, "__globals__", {}))
    resolved: dict[str, Any] = {}
    for key, annotation in raw.items():
        try:
            resolved[key] = typing.get_type_hints(_Holder(key, annotation), namespace, include_extras=True)[key]
        except NameError as error:
            warnings.warn(
                f"{name}: the annotation of {'the return value' if key == 'return' else key} ({annotation!r}) "
                f"cannot be resolved ({error}); it is not checked",
                UnresolvedAnnotationWarning,
                stacklevel=4,
            )
    return resolved


class UnresolvedAnnotationWarning(UserWarning):
    """An annotation names something that is not importable where the function is defined: it is not checked."""


class _Holder:
    """An object whose only annotation is one of a function's, for resolving annotations one at a time."""

    def __init__(self, key: str, annotation: Any) -> None:
        self.__annotations__ = {key: annotation}
