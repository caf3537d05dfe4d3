"""A model contract, and the plans it compiles: what one forward call must take and return.

A :class:`ModelContract` states, for one Data2Vec class, the jaxtyping annotation of every input argument, the
dimensions the config binds, the derived lengths (rules), the constraints, and, for a call seen as a
:class:`CallView` (flags, which arguments are given, train/eval, the attention implementation), what every output
field must be. :meth:`ModelContract.compile` turns a contract, a config and a view into an immutable
:class:`ModelPlan`: prebuilt specs, rules and constraints. The runtime checks, ``expected_shapes``, the static checks
and the proofs all read plans.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

import torch

from ..checker import PINNED as _PINNED
from ..checker import (
    Constraint,
    ContractDefinitionError,
    DimKind,
    Problem,
    Rule,
    Scope,
    ShapeContractError,
    Spec,
    Table,
    TensorSpec,
    callable_key,
    check_tensor,
    check_value,
    describe_value,
    parse_hint,
    registered,
    tensor_spec,
    tracing,
)
from ._compat import CHECKPOINTING_NEEDS_GRAD, default_attn
from ._hints import DATA2VEC_HINTS

__all__ = [
    "ABSENT",
    "CallCheck",
    "CallDim",
    "CallView",
    "DtypeRule",
    "Modality",
    "ModelContract",
    "ModelPlan",
    "Out",
    "OutKind",
    "gradient_checkpointing",
    "normalize",
    "shape_of",
    "symbols_of",
    "tensor",
]

Modality = Literal["text", "audio", "vision"]


class OutKind(Enum):
    """What an output field holds: ``NONE`` absent/None, ``TENSOR`` a tensor, ``TUPLE`` a sequence of tensors,
    ``EMPTY`` ``()``, ``OBJECT`` any non-None object (a cache)."""

    NONE = "none"
    TENSOR = "tensor"
    TUPLE = "tuple"
    EMPTY = "empty"
    OBJECT = "object"


@dataclass(frozen=True, slots=True)
class Out:
    """What one output field must be.

    ``TUPLE``: a sequence of ``length`` items (-1: any length from ``min_length`` up to ``max_length``), where the
    indices in ``present`` (all, when ``None``) hold tensors matching ``spec`` and the others are None.
    ``optional``: any item of a tuple may also be None (transformers 4.x keeps a None slot for a layer that layerdrop
    skipped). ``items``: a spec per item, where items differ (the attention maps of a model whose heads were pruned).
    """

    kind: OutKind
    spec: TensorSpec | None = None
    length: int = 0
    present: frozenset[int] | None = None
    containers: tuple[type, ...] = (tuple,)
    why: str = ""
    max_length: int = 0
    optional: bool = False
    min_length: int = 0
    items: tuple[TensorSpec, ...] | None = None
    #: ``kind`` as plain text, which the checks compare (traced code cannot compare enum members from a plan)
    code: str = field(init=False, default="")
    #: what the checks read instead of ``containers`` and ``present``: traced code can test a value against neither
    #: a tuple of types nor a frozenset held by a constant plan (dynamo cannot guard them), but it can read flags and
    #: a sorted tuple of ints
    takes_tuple: bool = field(init=False, default=True)
    takes_list: bool = field(init=False, default=False)
    present_indices: tuple[int, ...] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", self.kind.value)
        if not self.containers or not set(self.containers) <= {tuple, list}:
            raise ContractDefinitionError(f"an output tuple is a tuple or a list, not {self.containers!r}")
        object.__setattr__(self, "takes_tuple", tuple in self.containers)
        object.__setattr__(self, "takes_list", list in self.containers)
        if self.present is not None:
            object.__setattr__(self, "present_indices", tuple(sorted(self.present)))


def tensor(annotation: Any, why: str = "", optional: bool = False) -> Out:
    """A tensor field; ``annotation`` is a jaxtyping array type built once, at import."""
    return Out(OutKind.TENSOR, tensor_spec(annotation, optional), why=why)


ABSENT = Out(OutKind.NONE)


def normalize(value: Any) -> Any:
    """A hashable summary of an argument value that decides a plan: a tensor by its rank and whether it is boolean."""
    if isinstance(value, torch.Tensor):
        return ("tensor", value.ndim, value.dtype == torch.bool)
    if isinstance(value, list):
        return tuple(value)
    return value


def gradient_checkpointing(model: Any, config: Any) -> bool:
    """Whether a decoder checkpoints gradients: then transformers turns its cache off in training (only a decoder's
    outputs depend on it, so others are not searched). transformers 5.x does so only while gradients are enabled
    (``CHECKPOINTING_NEEDS_GRAD``): under ``torch.no_grad()`` the cache stays on."""
    if CHECKPOINTING_NEEDS_GRAD and not torch.is_grad_enabled():
        return False
    return bool(getattr(config, "is_decoder", False)) and any(
        getattr(m, "gradient_checkpointing", False) is True for m in model.modules()
    )


@dataclass(frozen=True, slots=True)
class CallView:
    """One forward call as a plan sees it: the config and the facts of the call, never the tensors themselves.

    ``args`` holds the normalized values of the arguments the contract reads (``ModelContract.reads``); ``given``
    the names of every argument passed and not None. ``pooled``: whether the model has a pooler (``None`` when there
    is no model: the contract's default).
    """

    config: Any
    args: Mapping[str, Any]
    given_names: frozenset[str]
    training: bool = False
    pooled: bool | None = None
    gradient_checkpointing: bool = False

    def given(self, name: str) -> bool:
        return name in self.given_names

    def flag(self, name: str) -> Any:
        value = self.args.get(name)
        return getattr(self.config, name, False) if value is None else value

    @property
    def attn(self) -> str:
        return getattr(self.config, "_attn_implementation", None) or default_attn(self.config)


@dataclass(frozen=True, slots=True)
class DtypeRule:
    """An input that must have the model's parameter dtype (Data2Vec audio does not cast; 4.x vision neither)."""

    argument: str
    hint: str  # ``{dtype}`` is the parameter dtype

    def check(self, scope: Scope, value: Any, want: torch.dtype | str) -> None:
        """``want``: the parameter dtype, or its name (``"torch.float32"``: what traced code gets)."""
        __tracebackhide__ = True
        if isinstance(value, torch.Tensor) and str(value.dtype) != str(want):
            need = str(want).replace("torch.", "")
            scope.fail(
                f"argument {self.argument}", Problem.DTYPE, f"{need} (the model's parameter dtype)",
                str(value.dtype).replace("torch.", ""), hint=self.hint.format(dtype=want),
            )


@dataclass(frozen=True, slots=True)
class CallDim:
    """A dimension read from an argument that is not a tensor (the length of a cache), bound on every call."""

    name: str
    read: Callable[[Mapping[str, Any]], int | None]
    source: str
    key: str = field(init=False, default="")  # how traced code finds ``read``

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", callable_key(self.read))

    def size(self, args: Mapping[str, Any]) -> Any:
        """The dimension read from the call's arguments, or None."""
        return registered(self.key)(args)


@dataclass(frozen=True, slots=True)
class CallCheck:
    """A check of one call that its shapes do not express, compiled into a plan and run after the constraints.

    ``run(scope, args)`` fails through ``scope.fail`` when transformers would reject the call: a combination of config
    fields and arguments it cannot run (``reads_values=False``, decided by the plan's view and the bound dimensions), or
    the values of an argument (``reads_values=True``: ids within the vocabulary; such a check reads CPU tensors only
    and never while torch.compile traces, so it costs no device synchronisation; see ``contracts/_values.py``).
    """

    name: str
    run: Callable[[Scope, Mapping[str, Any]], None]
    reads_values: bool = False
    argument: str | None = None  # the argument whose values it reads (such a check passes when it is not given)
    key: str = field(init=False, default="")  # how traced code finds ``run``

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", callable_key(self.run))

    def apply(self, scope: Scope, args: Mapping[str, Any]) -> None:
        """Run the check (through the registry, which traced code can call)."""
        __tracebackhide__ = True
        registered(self.key)(scope, args)


@dataclass(frozen=True, slots=True)
class ModelPlan:
    """The compiled contract of one class under one config and one kind of call: checked on every such call."""

    contract: ModelContract
    function: str
    declared: str
    values: Table[str, int]
    sources: Table[str, str]
    rules: Table[str, Rule]
    constraints: tuple[Constraint, ...]
    inputs: tuple[tuple[str, Spec], ...]
    outputs: tuple[tuple[str, Out], ...]
    tuple_fields: tuple[str, ...]
    first_input: tuple[str, Spec] | None  # required unless given (audio and vision)
    context: Table[str, Any]
    call_checks: tuple[CallCheck, ...] = ()
    value_checks: tuple[CallCheck, ...] = field(init=False, default=())  # the call checks that read values

    def __post_init__(self) -> None:
        object.__setattr__(self, "value_checks", tuple(c for c in self.call_checks if c.reads_values))

    def new_scope(self, pins: Mapping[str, int] | None = None) -> Scope:
        __tracebackhide__ = True
        scope = Scope(self.function, self.declared, self.rules, self.context, DATA2VEC_HINTS, self.values, self.sources)
        if pins:
            for dim, value in pins.items():
                if dim in scope.values and scope.values[dim] != value:
                    scope.fail(
                        "the pinned dimensions", Problem.DIMENSION, str(value), str(scope.values[dim]),
                        dimension=dim, bound_by=scope.source_text(dim),
                    )
                scope.bind(dim, value, _PINNED)
        return scope

    def output(self, name: str) -> Out:
        for field_name, out in self.outputs:
            if field_name == name:
                return out
        return ABSENT

    def check_inputs(
        self, args: Mapping[str, Any], dtype: torch.dtype | str | None = None, pins: Mapping[str, int] | None = None
    ) -> Scope:
        """Bind and check every input, then the call dimensions and the constraints; ``dtype``: the parameters'."""
        __tracebackhide__ = True
        scope = self.new_scope(pins)
        for name, spec in self.inputs:
            value = args.get(name)
            if value is not None:
                check_value(scope, spec, value, f"argument {name}")
        first = self.first_input
        if first is not None and args.get(first[0]) is None:
            scope.fail(
                f"argument {first[0]}", Problem.TYPE, f"a Tensor {first[1].label}", "None", contract=first[1].label
            )
        contract = self.contract
        for call_dim in contract.call_dims:
            size = call_dim.size(args)
            if size is not None:
                scope.bind(call_dim.name, size, call_dim.source)
        if dtype is not None:
            for rule in contract.dtype_rules:
                rule.check(scope, args.get(rule.argument), dtype)
        scope.check_constraints(self.constraints, args)
        traced = tracing()
        for call_check in self.call_checks:
            if not (traced and call_check.reads_values):
                call_check.apply(scope, args)
        scope.settle(final=False)
        return scope

    def value_checks_of(self, given: frozenset[str]) -> tuple[CallCheck, ...]:
        """The value checks that can fail on a call given these arguments (not None)."""
        return tuple(c for c in self.value_checks if c.argument is None or c.argument in given)

    def passes_values(
        self, args: Mapping[str, Any], values: Mapping[str, Any], checks: tuple[CallCheck, ...] | None = None
    ) -> bool:
        """Whether the value checks of this plan (or ``checks`` of them) pass on a call whose shapes a memo entry
        already validated (``values``: the dimensions that entry bound). A repeat signature with, say, an id beyond
        the vocabulary must not skip them: on ``False`` the caller runs the full check, which raises with the usual
        message."""
        checks = self.value_checks if checks is None else checks
        if not checks:
            return True
        scope = self.new_scope()
        scope.values.update(values)
        try:
            for call_check in checks:
                call_check.apply(scope, args)
        except ShapeContractError:
            return False
        return True

    def check_outputs(self, scope: Scope, out: Any) -> None:
        __tracebackhide__ = True
        if isinstance(out, tuple):
            present = self.tuple_fields
            if len(out) != len(present):
                scope.fail(
                    "the return_dict=False tuple", Problem.LENGTH, f"{len(present)} items ({', '.join(present)})",
                    f"{len(out)} items {describe_value(out)}",
                )
            expects = dict(self.outputs)
            for name, value in zip(present, out):
                _check_field(scope, name, expects.get(name, ABSENT), value)
        else:
            for name, expect in self.outputs:
                _check_field(scope, name, expect, getattr(out, name, None))
        scope.settle(final=True)


@dataclass(frozen=True, slots=True)
class ModelContract:
    """The contract of one Data2Vec class; :meth:`compile` makes its plans."""

    class_name: str
    modality: Modality
    fields: tuple[str, ...]
    inputs: Mapping[str, Any]
    outputs: Callable[[CallView], dict[str, Out]]
    config_dims: Callable[[Any], dict[str, tuple[int, str]]]
    rules: Callable[[CallView], dict[str, Rule]]
    constraints: Callable[[CallView], list[Constraint]]
    first_input: str
    summary: str = ""
    #: arguments whose values (not only whether they are given) change a plan
    reads: tuple[str, ...] = ()
    #: annotations that replace some of ``inputs`` for some calls (a cache step's mask covers the cached tokens)
    input_overrides: Callable[[CallView], Mapping[str, Any]] | None = None
    #: the arguments that are labels (a loss), and the argument that takes a cache, if any
    label_arguments: tuple[str, ...] = ()
    cache_argument: str | None = None
    dtype_rules: tuple[DtypeRule, ...] = ()
    call_dims: tuple[CallDim, ...] = ()
    #: fields that keep their place in a return_dict=False tuple even when None
    tuple_slots: tuple[str, ...] = ()
    #: fields a return_dict=False tuple leaves out even when set
    tuple_omits: tuple[str, ...] = ()
    #: the order of a return_dict=False tuple, when it is not the order of ``fields``
    tuple_order: tuple[str, ...] = ()
    #: the checks of a call that shapes do not express (see :class:`CallCheck`)
    call_checks: Callable[[CallView], Sequence[CallCheck]] | None = None
    input_specs: Mapping[str, Spec] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        specs: dict[str, Spec] = {}
        for name, annotation in self.inputs.items():
            spec = parse_hint(annotation)
            assert spec is not None
            specs[name] = spec
        object.__setattr__(self, "input_specs", specs)

    @property
    def declared(self) -> str:
        return f"contract of {self.class_name} (data2vec_contracts/contracts/{self.modality}.py)"

    def facts(self, args: Mapping[str, Any]) -> tuple[frozenset[str], tuple[tuple[str, Any], ...]]:
        """What a plan reads of the arguments: which are given, and the values of those in :attr:`reads` (cheap: no
        config is read, so it can key a cache of plans)."""
        given = frozenset(k for k, v in args.items() if v is not None)
        read = tuple((name, normalize(args[name])) for name in self.reads if args.get(name) is not None)
        return given, read

    def view(
        self,
        config: Any,
        args: Mapping[str, Any],
        training: bool = False,
        model: Any = None,
        checkpointing: bool | None = None,
    ) -> CallView:
        """The facts of a call that a plan depends on; ``checkpointing`` is found from the model when not given."""
        given, read = self.facts(args)
        return self.view_of(config, given, read, training, model, checkpointing)

    def view_of(
        self,
        config: Any,
        given: frozenset[str],
        read: tuple[tuple[str, Any], ...],
        training: bool = False,
        model: Any = None,
        checkpointing: bool | None = None,
    ) -> CallView:
        """:meth:`view` from the facts :meth:`facts` read."""
        pooled = None if model is None else getattr(model, "pooler", None) is not None
        if checkpointing is None:
            checkpointing = training and model is not None and gradient_checkpointing(model, config)
        return CallView(config, dict(read), given, training, pooled, checkpointing)

    def compile(self, view: CallView) -> ModelPlan:
        config = view.config
        values: dict[str, int] = {}
        sources: dict[str, str] = {}
        for dim, (value, source) in self.config_dims(config).items():
            values[dim] = value
            sources[dim] = source
        expects = self.outputs(view)
        outputs = tuple((name, expects.get(name, ABSENT)) for name in self.fields)
        tuple_fields = tuple(
            n
            for n in (self.tuple_order or self.fields)
            if (expects.get(n, ABSENT).kind is not OutKind.NONE or n in self.tuple_slots) and n not in self.tuple_omits
        )
        specs = dict(self.input_specs)
        if self.input_overrides is not None:
            for name, annotation in self.input_overrides(view).items():
                spec = parse_hint(annotation)
                assert spec is not None
                specs[name] = spec
        inputs = tuple(specs.items())
        first = None if self.first_input == "input_ids" else (self.first_input, self.input_specs[self.first_input])
        return ModelPlan(
            self,
            f"{self.class_name}.forward",
            self.declared,
            Table(values),
            Table(sources),
            Table(self.rules(view)),
            tuple(self.constraints(view)),
            inputs,
            outputs,
            tuple_fields,
            first,
            Table({"class": self.class_name, "modality": self.modality}),
            tuple(self.call_checks(view)) if self.call_checks is not None else (),
        )


def _check_field(scope: Scope, name: str, expect: Out, value: Any) -> None:
    __tracebackhide__ = True
    where = f"output field {name}"
    kind = expect.code
    if kind == "tensor":
        assert expect.spec is not None
        check_tensor(scope, expect.spec, value, where)
    elif kind == "none":
        if value is not None:
            scope.fail(where, Problem.TYPE, f"None ({expect.why or 'not requested'})", describe_value(value))
    elif kind == "empty":
        if not (isinstance(value, tuple) and len(value) == 0):
            scope.fail(where, Problem.TYPE, f"() ({expect.why})", describe_value(value))
    elif kind == "object":
        if value is None:
            scope.fail(where, Problem.TYPE, f"an object ({expect.why})", "None")
    else:
        if not ((expect.takes_tuple and isinstance(value, tuple)) or (expect.takes_list and isinstance(value, list))):
            names = " or ".join(c.__name__ for c in expect.containers)
            scope.fail(where, Problem.TYPE, f"a {names} ({expect.why})", describe_value(value))
        value = typing.cast(Sequence[Any], value)
        n = len(value)
        if expect.length >= 0 and n != expect.length:
            scope.fail(where, Problem.LENGTH, f"{expect.length} ({expect.why})", str(n), value=value, has_value=True)
        if expect.length < 0 and not expect.min_length <= n <= expect.max_length:
            most = expect.max_length
            bounds = f"{expect.min_length} to {most}" if expect.min_length else f"at most {most}"
            scope.fail(where, Problem.LENGTH, f"{bounds} ({expect.why})", str(n))
        present = expect.present_indices
        for i, item in enumerate(value):
            if item is None and expect.optional:
                continue
            if present is None or i in present:
                spec = expect.spec if expect.items is None else expect.items[i]
                if spec is None:
                    if item is not None:
                        scope.fail(f"{where}[{i}]", Problem.TYPE, f"None ({expect.why})", describe_value(item))
                else:
                    check_tensor(scope, spec, item, f"{where}[{i}]")
            elif item is not None:
                scope.fail(
                    f"{where}[{i}]", Problem.TYPE, "None (not selected by output_hidden_states)", describe_value(item)
                )


# -- shapes without running -------------------------------------------------------------------
def shape_of(spec: TensorSpec, scope: Scope) -> tuple[int, ...]:
    """The concrete shape a spec takes under the bindings of ``scope``."""
    shape = []
    for d in spec.dims:
        if d.kind is DimKind.NAMED:
            value = scope.values.get(d.name)
            if value is None:
                value = scope.derive(d.name)
            if value is None:
                raise ValueError(f"dimension {d.name} of {spec.label} is not determined by the given sizes")
            shape.append(int(value))
        elif d.kind is DimKind.FIXED:
            shape.append(d.size)
        elif d.kind is DimKind.EXPR:
            assert d.expr is not None
            for n in d.names:
                if n not in scope.values:
                    scope.derive(n)
            shape.append(int(d.expr.evaluate(scope.values)))
        elif d.kind is DimKind.ANON:
            raise ValueError(f"{spec.label} has an anonymous dimension")
        else:
            raise ValueError(f"{spec.label} has a variadic dimension")
    return tuple(shape)


def symbols_of(spec: TensorSpec) -> tuple[str, ...]:
    return tuple(d.text() for d in spec.dims)
