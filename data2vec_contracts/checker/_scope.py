"""The dimension bindings of one call: where each came from, the derived dimensions (rules) and the constraints."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, NoReturn, Protocol

from ._errors import ShapeContractError
from ._expr import Compare, Expr
from ._messages import Problem, Violation, describe_value, render, show
from ._specs import Dim
from ._table import Table
from ._trace import callable_key, dynamo_tracing, raise_from_trace, registered, tracing

__all__ = ["Constraint", "Derived", "HintProvider", "Mismatch", "Pending", "Rule", "Scope", "check_acyclic"]

class HintProvider(Protocol):
    """Finds a hint for a violation from its facts, the bound values and the scope's context (``None``: no hint fits).

    An object with a method, not a function: plans carry it into code that torch traces, where a function stored on a
    constant cannot be called.
    """

    def hint(self, violation: Violation, values: Mapping[str, Any], context: Mapping[str, Any] | None) -> str | None:
        ...


@dataclass(frozen=True, slots=True)
class Rule:
    """A dimension that follows from others: ``target = expr``, with the config fields behind it (``basis``).

    The one expression gives the value, the formula shown to people and the symbolic form the prover uses. When the
    target is bound by a tensor before its inputs are known, the rule is checked once they are.
    """

    target: str
    expr: Expr
    basis: str = ""
    #: the names the expression reads (a field, not a property: traced code reads it)
    deps: tuple[str, ...] = dataclass_field(init=False, default=())

    @property
    def formula(self) -> str:
        return self.expr.text()

    def __post_init__(self) -> None:
        self.expr.prepare()
        object.__setattr__(self, "deps", self.expr.names)

    def compute(self, values: Mapping[str, Any]) -> Any:
        """The value under ``values``: an int, or a symbolic size while torch traces (never forced to an int)."""
        return self.expr.evaluate(values)

    def source(self, values: Mapping[str, Any]) -> str:
        deps = ", ".join(f"{d}={show(values[d])}" for d in self.deps)
        basis = f"; {self.basis}" if self.basis else ""
        return f"{self.target} = {self.formula} with {deps}{basis}"


@dataclass(frozen=True, slots=True)
class Constraint:
    """Conditions on bound dimensions that a shape alone does not express (``N <= 510``), all of which must hold.

    ``note`` follows the conditions in the message (``N <= 510 (config.max_position_embeddings=514 - ...)``).
    ``exempt``, consulted only when the conditions fail, may still accept the call from the values of its arguments
    (text positions skip pad tokens, so a padded batch can be longer than the position table).
    """

    conditions: tuple[Compare, ...]
    note: str
    field: str
    hint: str | None = None
    exempt: Callable[[Mapping[str, Any], Mapping[str, Any]], bool] | None = None
    deps: tuple[str, ...] = dataclass_field(init=False, default=())
    exempt_key: str | None = dataclass_field(init=False, default=None)  # how traced code finds ``exempt``
    #: what the message says is expected (a field, not a property: traced code reads it)
    expected: str = dataclass_field(init=False, default="")

    def __post_init__(self) -> None:
        names = tuple(dict.fromkeys(n for c in self.conditions for n in c.names))
        object.__setattr__(self, "deps", names)
        if self.exempt is not None:
            object.__setattr__(self, "exempt_key", callable_key(self.exempt))
        text = " and ".join(c.text() for c in self.conditions)
        object.__setattr__(self, "expected", f"{text} {self.note}" if self.note else text)

    def exempted(self, arguments: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
        """Whether ``exempt`` accepts the call anyway (it reads tensor values: never while torch traces)."""
        key = self.exempt_key
        if key is None or tracing():
            return False
        return bool(registered(key)(arguments, values))

    def holds(self, values: Mapping[str, Any]) -> bool:
        return all(c.holds(values) for c in self.conditions)


def check_acyclic(rules: Mapping[str, Rule], where: str) -> None:
    """A ``ContractDefinitionError`` naming the cycle if the rules define a dimension through itself."""
    from ._errors import ContractDefinitionError

    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2 or name not in rules:
            return
        if state.get(name) == 1:
            cycle = [*path[path.index(name) :], name]
            raise ContractDefinitionError(
                f"{where}: the relations define {name} through itself ({' -> '.join(cycle)}); "
                "state each dimension from others that do not depend on it"
            )
        state[name] = 1
        for dep in rules[name].deps:
            visit(dep, [*path, name])
        state[name] = 2

    for target in rules:
        visit(target, [])


@dataclass(frozen=True, slots=True)
class Pending:
    """An expression dimension met before every name in it was bound: checked when they are."""

    dim: Dim  # an expression dimension (``dim.expr`` is set)
    size: int
    field: str
    value: object
    contract: str | None


@dataclass(frozen=True, slots=True)
class Derived:
    """The source of a dimension bound by its rule: rendered (``T = (S - 400)//320 + 1 with S=16000; ...``) only when
    a message needs it."""

    rule: Rule
    inputs: tuple[Any, ...]

    def __str__(self) -> str:
        return self.rule.source(dict(zip(self.rule.deps, self.inputs)))


def _axis_source(src: object) -> str:
    if isinstance(src, tuple):
        where, axis = src
        return f"{where}, axis {axis}"
    return str(src)


class Scope:
    """The dimension bindings of one call, with where each came from."""

    __slots__ = (
        "broadcast_groups", "context", "declared", "function", "hints", "pending", "rules", "sources", "trial",
        "values",
    )

    def __init__(
        self,
        function: str,
        declared: str | None = None,
        rules: Mapping[str, Rule] | None = None,
        context: Mapping[str, Any] | None = None,
        hints: HintProvider | None = None,
        values: Mapping[str, Any] | None = None,
        sources: Mapping[str, object] | None = None,
    ) -> None:
        traced = dynamo_tracing()
        self.values: dict[str, Any] = _copy(values, traced)
        self.sources: dict[str, object] = _copy(sources, traced)
        self.rules = rules or None
        self.pending: list[Pending] | None = None
        self.broadcast_groups: set[str] = set()  # variadic groups bound by a ``*#name`` (jaxtyping broadcasts them)
        self.trial = 0  # > 0 while a union tries its options: a failure is a Mismatch, and no message is built
        self.function = function
        self.declared = declared
        self.context = context
        self.hints = hints

    # -- binding -----------------------------------------------------------------------------
    def bind(self, name: str, value: Any, source: object) -> None:
        self.values[name] = value
        self.sources[name] = source

    def source_text(self, name: str) -> str:
        return _axis_source(self.sources.get(name, "?"))

    def bindings(self) -> dict[str, tuple[Any, str]]:
        return {k: (v, self.source_text(k)) for k, v in self.values.items()}

    def snapshot(self) -> tuple[dict[str, Any], dict[str, object], list[Pending] | None, set[str]]:
        pending = None if self.pending is None else list(self.pending)
        return dict(self.values), dict(self.sources), pending, set(self.broadcast_groups)

    def restore(self, state: tuple[dict[str, Any], dict[str, object], list[Pending] | None, set[str]]) -> None:
        self.values, self.sources, self.pending, self.broadcast_groups = state

    def derive(self, name: str, _seen: frozenset[str] = frozenset()) -> Any:
        """Bind ``name`` from its rule if every input of the rule is bound (or derivable): its value (an int, or a
        symbolic size while torch traces), or None."""
        rules = self.rules
        if rules is None:
            return None
        rule = rules.get(name, None)  # the default given: traced code cannot use a plan method's defaults
        if rule is None or name in _seen:
            return None
        values = self.values
        for dep in rule.deps:
            if dep not in values and self.derive(dep, _seen | {name}) is None:
                return None
        value = rule.compute(values)
        self.values[name] = value
        self.sources[name] = Derived(rule, tuple(values[d] for d in rule.deps))
        return value

    # -- failing -----------------------------------------------------------------------------
    def fail(
        self,
        field: str,
        problem: Problem,
        expected: str,
        actual: str,
        *,
        contract: str | None = None,
        value: object = None,
        has_value: bool = False,
        dimension: str | None = None,
        bound_by: str | None = None,
        hint: str | None = None,
    ) -> NoReturn:
        __tracebackhide__ = True
        if self.trial:
            raise Mismatch(problem, field)
        violation = Violation(
            function=self.function,
            field=field,
            problem=problem,
            expected=expected,
            actual=actual,
            contract=contract,
            value=describe_value(value) if has_value else None,
            dimension=dimension,
            bound_by=bound_by,
            declared=self.declared,
            bindings=self.bindings(),
            hint=hint,
        )
        if violation.hint is None and self.hints is not None:
            found = self.hints.hint(violation, self.values, self.context)
            if found is not None:
                violation = dataclasses.replace(violation, hint=found)
        if dynamo_tracing():
            raise_from_trace(render(violation), violation)
        raise ShapeContractError(render(violation), violation)

    def fail_dimension(
        self, field: str, dimension: str, expected: str, size: int, bound_by: str, contract: str | None, value: object
    ) -> NoReturn:
        __tracebackhide__ = True
        self.fail(
            field, Problem.DIMENSION, expected, show(size), contract=contract, value=value, has_value=True,
            dimension=dimension, bound_by=bound_by,
        )

    # -- the end of a phase ------------------------------------------------------------------
    def defer(self, item: Pending) -> None:
        if self.pending is None:
            self.pending = []
        self.pending.append(item)

    def check_expr(self, item: Pending, final: bool) -> None:
        """Check an expression dimension now if every name in it is bound, else defer it (or, at the end, drop it:
        a name never bound anywhere cannot be contradicted)."""
        __tracebackhide__ = True
        values = self.values
        dim = item.dim
        expr = dim.expr
        assert expr is not None
        names = expr.names
        for n in names:
            if n not in values and self.derive(n) is None:
                if not final:
                    self.defer(item)
                return
        expected = expr.evaluate(values)
        if item.size != expected and not (dim.broadcast and item.size == 1):
            used = ", ".join(f"{n}={show(values[n])}" for n in names)
            self.fail_dimension(
                item.field, dim.name, f"{show(_int(expected))} (= {dim.name} with {used})", item.size,
                "; ".join(f"{n}: {self.source_text(n)}" for n in names), item.contract, item.value,
            )

    def settle(self, final: bool = True) -> None:
        """Check deferred expressions and every rule whose inputs are now all bound.

        With ``final=False`` (between the arguments and the return value) expressions whose names are still unbound
        stay deferred.
        """
        __tracebackhide__ = True
        pending, self.pending = self.pending, None
        if pending:
            for item in pending:
                self.check_expr(item, final)
        rules = self.rules
        if rules:
            values = self.values
            for rule in rules.values():
                if rule.target in values and all(d in values for d in rule.deps):
                    expected = rule.compute(values)
                    actual = values[rule.target]
                    if expected != actual:
                        src = self.sources.get(rule.target)
                        self.fail(
                            src[0] if isinstance(src, tuple) else self.source_text(rule.target),
                            Problem.DIMENSION,
                            f"{show(expected)} (from {rule.source(values)})",
                            show(actual),
                            dimension=rule.target,
                            bound_by=self.source_text(rule.target),
                        )

    def check_constraints(self, constraints: Iterable[Constraint], arguments: Mapping[str, Any] | None = None) -> None:
        __tracebackhide__ = True
        values = self.values
        for c in constraints:
            # a derived dimension (audio Tx from S) is bound from its rule first, else it is never checked
            if all(d in values or self.derive(d) is not None for d in c.deps) and not c.holds(values):
                if arguments is not None and c.exempted(arguments, values):
                    continue
                actual = ", ".join(f"{d}={show(values[d])}" for d in c.deps)
                bound_by: str | None
                if len(c.deps) == 1:
                    bound_by = self.source_text(c.deps[0])
                else:
                    bound_by = "; ".join(f"{d}: {self.source_text(d)}" for d in c.deps) or None
                self.fail(
                    c.field, Problem.CONSTRAINT, c.expected, actual, dimension=", ".join(c.deps) or None,
                    bound_by=bound_by, hint=c.hint,
                )


class Mismatch(Exception):
    """An option of a union did not match; ``args`` are what broke (a :class:`Problem`) and where (the field). No
    message is built for it. (No ``__init__`` of its own: dynamo cannot trace one.)"""


def _copy(items: Mapping[str, Any] | None, traced: bool) -> dict[str, Any]:
    """A new dict of ``items``; a plan's :class:`Table` is copied at C speed in eager code."""
    if not items:
        return {}
    if isinstance(items, Table) and not traced:
        return items.as_dict()
    return dict(items.items())


def _int(value: Any) -> Any:
    """``6`` for ``6.0``: a ``/`` expression that divides evenly shows as an int."""
    return int(value) if isinstance(value, float) and value.is_integer() else value

