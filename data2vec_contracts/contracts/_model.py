"""The machinery of a model contract: what a forward call must take and return, and the checks.

A :class:`ModelContract` states, for one Data2Vec class, the jaxtyping annotation of every input
argument, the dimensions bound by the config, the derived lengths (:class:`Rule`), the constraints,
and for each call (flags, labels, attention implementation, train/eval) what every output field
must be. The same statement drives the runtime checks and :func:`expected_shapes`.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from .._checking import Constraint, Rule, Scope, check_tensor, check_value
from .._messages import describe_value
from .._spec import ANON, EXPR, FIXED, NAMED, Spec, TensorSpec, eval_dim, parse_hint
from .._switch import pinned
from ._compat import default_attn

__all__ = ["Call", "ModelContract", "Out"]

NONE, TENSOR, TUPLE, EMPTY, OBJECT = "none", "tensor", "tuple", "empty", "object"


@dataclass(frozen=True)
class Out:
    """What one output field must be.

    ``none``: absent/None. ``tensor``: a tensor matching ``spec``. ``tuple``: a sequence of
    ``length`` items (-1: any length up to ``max_length``), where the indices in ``present`` (all,
    when ``None``) hold tensors matching ``spec`` and the others are None. ``empty``: ``()``.
    ``object``: any non-None object (a cache). ``optional``: any item of a tuple may also be None
    (transformers 4.x keeps a None slot for a layer that layerdrop skipped).
    """

    kind: str
    spec: TensorSpec | None = None
    length: int = 0
    present: frozenset[int] | None = None
    containers: tuple[type, ...] = (tuple,)
    why: str = ""
    max_length: int = 0
    optional: bool = False


def tensor(annotation: Any, why: str = "") -> Out:
    spec = parse_hint(annotation)
    assert isinstance(spec, TensorSpec)
    return Out(TENSOR, spec, why=why)


ABSENT = Out(NONE)


@dataclass
class Call:
    """One forward call as the contract sees it."""

    model: Any
    config: Any
    args: dict[str, Any]
    training: bool = False

    def given(self, name: str) -> bool:
        return self.args.get(name) is not None

    def flag(self, name: str) -> Any:
        value = self.args.get(name)
        return getattr(self.config, name, False) if value is None else value

    @property
    def attn(self) -> str:
        return getattr(self.config, "_attn_implementation", None) or default_attn(self.config)


@dataclass(frozen=True)
class ModelContract:
    class_name: str
    modality: str
    fields: tuple[str, ...]
    inputs: Mapping[str, Any]
    outputs: Callable[[Call], dict[str, Out]]
    config_dims: Callable[[Any], dict[str, tuple[int, str]]]
    rules: Callable[[Any, Call], dict[str, Rule]]
    constraints: Callable[[Call], list[Constraint]]
    first_input: str
    summary: str = ""
    #: fields that keep their place in a return_dict=False tuple even when None
    tuple_slots: tuple[str, ...] = ()
    #: fields a return_dict=False tuple leaves out even when set
    tuple_omits: tuple[str, ...] = ()
    #: the order of a return_dict=False tuple, when it is not the order of ``fields``
    tuple_order: tuple[str, ...] = ()
    _input_specs: dict[str, Spec] = field(default_factory=dict, compare=False, repr=False)

    def input_specs(self) -> dict[str, Spec]:
        if not self._input_specs:
            for name, annotation in self.inputs.items():
                spec = parse_hint(annotation)
                assert spec is not None
                self._input_specs[name] = spec
        return self._input_specs

    # -- the runtime check --------------------------------------------------------------------
    def new_scope(self, call: Call) -> Scope:
        scope = Scope(
            f"{self.class_name}.forward",
            f"contract of {self.class_name} (data2vec_contracts/contracts/{self.modality}.py)",
            self.rules(call.config, call),
            {"config": call.config, "class": self.class_name},
        )
        for dim, (value, source) in self.config_dims(call.config).items():
            scope.bind(dim, value, source)
        pins = pinned()
        if pins:
            for dim, value in pins.items():
                if dim in scope.values and scope.values[dim] != value:
                    scope.fail(
                        "the pinned dimensions", "dimension", str(value), str(scope.values[dim]),
                        dimension=dim, bound_by=scope.source_text(dim),
                    )
                scope.bind(dim, value, "pinned for this test (shape_contracts marker / pinned_dims)")
        return scope

    def check_inputs(self, call: Call) -> Scope:
        __tracebackhide__ = True
        scope = self.new_scope(call)
        specs = self.input_specs()
        for name, spec in specs.items():
            value = call.args.get(name)
            if value is None:
                continue
            check_value(scope, spec, value, f"argument {name}")
        if call.args.get(self.first_input) is None and self.first_input != "input_ids":
            scope.fail(
                f"argument {self.first_input}", "type", f"a Tensor {specs[self.first_input].label}", "None",
                contract=specs[self.first_input].label,
            )
        scope.check_constraints(self.constraints(call))
        scope.settle(final=False)
        return scope

    def check_outputs(self, call: Call, scope: Scope, out: Any) -> None:
        __tracebackhide__ = True
        expects = self.outputs(call)
        if isinstance(out, tuple):
            present = [
                n for n in (self.tuple_order or self.fields)
                if (expects.get(n, ABSENT).kind != NONE or n in self.tuple_slots) and n not in self.tuple_omits
            ]
            if len(out) != len(present):
                scope.fail(
                    "the return_dict=False tuple", "length",
                    f"{len(present)} items ({', '.join(present)})", f"{len(out)} items {describe_value(out)}",
                )
            pairs = list(zip(present, out))
        else:
            pairs = [(n, getattr(out, n, None)) for n in self.fields]
        for name, value in pairs:
            _check_field(scope, name, expects.get(name, ABSENT), value)
        scope.settle(final=True)


def _check_field(scope: Scope, name: str, expect: Out, value: Any) -> None:
    __tracebackhide__ = True
    where = f"output field {name}"
    kind = expect.kind
    if kind == TENSOR:
        assert expect.spec is not None
        check_tensor(scope, expect.spec, value, where)
    elif kind == NONE:
        if value is not None:
            scope.fail(where, "type", f"None ({expect.why or 'not requested'})", describe_value(value))
    elif kind == EMPTY:
        if not (isinstance(value, tuple) and len(value) == 0):
            scope.fail(where, "type", f"() ({expect.why})", describe_value(value))
    elif kind == OBJECT:
        if value is None:
            scope.fail(where, "type", f"an object ({expect.why})", "None")
    else:
        if not isinstance(value, expect.containers):
            names = " or ".join(c.__name__ for c in expect.containers)
            scope.fail(where, "type", f"a {names} ({expect.why})", describe_value(value))
        value = typing.cast(Sequence[Any], value)
        n = len(value)
        if expect.length >= 0 and n != expect.length:
            scope.fail(where, "length", f"{expect.length} ({expect.why})", str(n), value=value, has_value=True)
        if expect.length < 0 and n > expect.max_length:
            scope.fail(where, "length", f"at most {expect.max_length} ({expect.why})", str(n))
        present = expect.present
        for i, item in enumerate(value):
            if item is None and expect.optional:
                continue
            if present is None or i in present:
                if expect.spec is None:
                    if item is not None:
                        scope.fail(f"{where}[{i}]", "type", f"None ({expect.why})", describe_value(item))
                else:
                    check_tensor(scope, expect.spec, item, f"{where}[{i}]")
            elif item is not None:
                scope.fail(f"{where}[{i}]", "type", "None (not selected by output_hidden_states)", describe_value(item))


# -- shapes without running -------------------------------------------------------------------
def shape_of(spec: TensorSpec, scope: Scope) -> tuple[int, ...]:
    """The concrete shape a spec takes under the bindings of ``scope``."""
    shape = []
    for d in spec.dims:
        if d.kind == NAMED:
            value = scope.values.get(d.name)
            if value is None:
                value = scope.derive(d.name)
            if value is None:
                raise ValueError(f"dimension {d.name} of {spec.label} is not determined by the given sizes")
            shape.append(int(value))
        elif d.kind == FIXED:
            shape.append(d.size)
        elif d.kind == EXPR:
            for n in d.names:
                if n not in scope.values:
                    scope.derive(n)
            assert d.code is not None
            shape.append(eval_dim(d.code, scope.values))
        elif d.kind == ANON:
            raise ValueError(f"{spec.label} has an anonymous dimension")
        else:
            raise ValueError(f"{spec.label} has a variadic dimension")
    return tuple(shape)


def symbols_of(spec: TensorSpec) -> tuple[str, ...]:
    return tuple(d.text() for d in spec.dims)


def param_dtype(model: Any) -> torch.dtype | None:
    for p in model.parameters():
        return p.dtype  # type: ignore[no-any-return]
    return None
