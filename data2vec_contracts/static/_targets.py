"""What a static check or proof runs: a Data2Vec class or a user's ``@contract`` pipeline, with its inputs.

Both kinds answer the same questions, from the contract only: which named sizes the inputs have,
which tensors to feed for given sizes, and what every dimension is for given sizes (a
:class:`~data2vec_contracts._checking.Scope` with the config bindings and the derived rules).
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import torch

from ..checker import Constraint, DimKind, FunctionContract, Scope, Spec, TensorSpec, UnionSpec
from ..contracts import CONTRACTS, DATA2VEC_HINTS, ModelContract, ModelPlan, OutKind, shape_of
from ..instrument import contract_of
from ._presets import Target, modality_of, resolve_class, resolve_target
from ._report import TargetKind

__all__ = ["SIZE_ALIASES", "Subject", "make_tensor", "pick_dtype", "resolve_subject"]

SIZE_ALIASES = {"batch": "B", "seq_len": "N", "num_choices": "C", "samples": "S", "height": "H", "width": "W"}
_DEFAULTS = {"text": {"B": 2, "N": 128, "C": 2}, "audio": {"B": 2, "S": 16000}, "vision": {"B": 2}}
_MASK_WORDS = ("mask",)


def pick_dtype(spec: TensorSpec, name: str) -> torch.dtype:
    """A dtype the spec accepts: float32 for floats, int64 for ids and masks, bool for boolean specs."""
    dtypes = spec.dtypes
    if dtypes is None:
        return torch.int64 if any(w in name for w in _MASK_WORDS) else torch.float32
    for wanted, dtype in (("float32", torch.float32), ("int64", torch.int64), ("bool", torch.bool)):
        if wanted in dtypes:
            return dtype
    return getattr(torch, sorted(dtypes)[0])  # type: ignore[no-any-return]


def make_tensor(spec: TensorSpec, scope: Scope, name: str, device: str | torch.device) -> torch.Tensor:
    shape = shape_of(spec, scope)
    dtype = pick_dtype(spec, name)
    if any(w in name for w in _MASK_WORDS) or dtype == torch.bool:
        return torch.ones(shape, dtype=dtype, device=device)
    if dtype.is_floating_point:
        return torch.zeros(shape, dtype=dtype, device=device)
    return torch.full(shape, 2, dtype=dtype, device=device)  # valid token ids, never the pad id 1


def _load_function(spec: str) -> Callable[..., Any]:
    module_name, _, attr = spec.partition(":")
    if "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, "")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import {module_name!r} (from {spec!r}): {exc}") from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(f"{module_name!r} has no attribute {attr!r}") from None
    return obj  # type: ignore[no-any-return]


@dataclass
class Subject:
    """A resolved target: a model class with its contract, or a pipeline function with its plan."""

    name: str
    kind: TargetKind
    config: Any
    config_source: str
    cls: type
    modality: str
    contract: ModelContract
    fn: Callable[..., Any] | None = None
    plan: FunctionContract | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    flags: dict[str, Any] = field(default_factory=dict)
    defaulted: set[str] = field(default_factory=set)  # sizes nobody asked for: the defaults

    # -- sizes ---------------------------------------------------------------------------------
    def input_dims(self) -> list[str]:
        """The named sizes of the inputs, in order of appearance (``B``, ``N``)."""
        names: list[str] = []
        for _, spec in self.tensor_inputs():
            for d in spec.dims:
                if d.kind is DimKind.NAMED and d.name not in names:
                    names.append(d.name)
        return names

    def free_input_dims(self) -> list[str]:
        """Input sizes that the config does not fix: the ones a person chooses."""
        scope = self.scope({})
        return [d for d in self.input_dims() if d not in scope.values]

    def default_sizes(self) -> dict[str, int]:
        sizes = dict(_DEFAULTS[self.modality])
        if self.modality == "vision":
            image = self.config.image_size
            sizes["H"] = sizes["W"] = int(image[0] if isinstance(image, (tuple, list)) else image)
        return sizes

    def sizes(self, given: Mapping[str, int]) -> dict[str, int]:
        wanted = self.free_input_dims()
        defaults = self.default_sizes()
        sizes: dict[str, int] = {}
        for name in wanted:
            if name in given:
                sizes[name] = int(given[name])
            elif name in defaults:
                sizes[name] = defaults[name]
                self.defaulted.add(name)
            else:
                raise ValueError(f"{self.name}: give a size for dimension {name} (e.g. {name}=4)")
        unknown = sorted(set(given) - set(wanted))
        if unknown:
            raise ValueError(
                f"{self.name} has no input dimension {', '.join(unknown)}; its input dimensions are "
                f"{', '.join(wanted) or 'none'}"
            )
        return sizes

    # -- the contract side ---------------------------------------------------------------------
    def tensor_inputs(self) -> list[tuple[str, TensorSpec]]:
        if self.plan is not None:
            return [
                (p.name, p.spec)
                for p in self.plan.plan.params
                if isinstance(p.spec, TensorSpec) and p.name not in self.extra
            ]
        specs = self.contract.input_specs
        names = [self.contract.first_input]
        if self.flags.get("mask"):
            names.append("attention_mask")
        found = [(n, _first_tensor(specs[n])) for n in names]
        return [(n, s) for n, s in found if s is not None]

    def model_plan(self, model: Any = None) -> ModelPlan:
        """The plan of the model class for the flags of this check (a mask, output flags)."""
        args = {k: v for k, v in self.flags.items() if k != "mask"}
        if self.flags.get("mask"):
            args["attention_mask"] = True
        return self.contract.compile(self.contract.view(self.config, args, False, model))

    def scope(self, sizes: Mapping[str, int], model: Any = None) -> Scope:
        """Every dimension for these sizes, with where it comes from (config field, rule, size)."""
        if self.plan is not None:
            plan = self.plan.plan
            scope = Scope(plan.name, plan.declared, plan.rules, hints=DATA2VEC_HINTS)
            holder = model if model is not None else SimpleNamespace(config=self.config)
            plan.bind_static_dims(scope, self.arguments(holder))
        else:
            scope = self.model_plan(model).new_scope()
        for name, value in sizes.items():
            why = "the size asked for" if name not in self.defaulted else "the default size"
            if name in self.defaulted and self.modality == "vision" and name in ("H", "W"):
                why = "the default size (config.image_size)"
            scope.bind(name, int(value), why)
        for name in list(scope.rules or {}):
            if name not in scope.values:
                with contextlib.suppress(TypeError, ValueError, ZeroDivisionError):
                    scope.derive(name)
        return scope

    def constraints(self, model: Any = None) -> list[Constraint]:
        if self.plan is not None:
            return []
        return list(self.model_plan(model).constraints)

    def output_specs(self, model: Any = None) -> dict[str, Any]:
        """The contract's statement of each output field: an ``Out`` (model) or a spec (pipeline)."""
        if self.plan is not None:
            returns = self.plan.plan.returns
            return {"return value": returns} if returns is not None else {}
        return {k: v for k, v in self.model_plan(model).outputs if v.kind is not OutKind.NONE}

    # -- running -------------------------------------------------------------------------------
    def build_model(self, config: Any | None = None) -> torch.nn.Module:
        return self.cls(config if config is not None else self.config).eval()  # type: ignore[no-any-return]

    def arguments(self, model: Any) -> dict[str, Any]:
        """The non-tensor arguments of a pipeline: the model, the config, and what the caller gave."""
        assert self.fn is not None
        args: dict[str, Any] = {}
        for pname, p in inspect.signature(self.fn).parameters.items():
            if pname in self.extra:
                args[pname] = self.extra[pname]
            elif pname == "model" or _annotated_module(p.annotation):
                args[pname] = model
            elif pname == "config":
                args[pname] = self.config if model is None else model.config
        return args

    def takes_model(self) -> bool:
        if self.fn is None:
            return True
        return any(
            n == "model" or _annotated_module(p.annotation)
            for n, p in inspect.signature(self.fn).parameters.items()
            if n not in self.extra
        )

    def unsupplied(self) -> list[str]:
        if self.fn is None:
            return []
        tensors = {n for n, _ in self.tensor_inputs()}
        have = set(self.arguments(None)) | tensors
        return [
            n
            for n, p in inspect.signature(self.fn).parameters.items()
            if n not in have and p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]

    def inputs(self, sizes: Mapping[str, int], device: str | torch.device, model: Any = None) -> dict[str, Any]:
        scope = self.scope(sizes, model)
        return {name: make_tensor(spec, scope, name, device) for name, spec in self.tensor_inputs()}

    def needs_data(self) -> list[str]:
        """Inputs whose values (not only shapes) the forward reads: masks."""
        names = [n for n, _ in self.tensor_inputs()]
        masks = set(self.plan.masks) if self.plan is not None else set()
        return [n for n in names if n in masks or any(w in n for w in _MASK_WORDS)]


def _first_tensor(spec: Spec) -> TensorSpec | None:
    """The tensor a static run feeds for an input: the spec, or the first tensor option of a union (a 2-D mask)."""
    if isinstance(spec, TensorSpec):
        return spec
    if isinstance(spec, UnionSpec):
        return next((o for o in spec.options if isinstance(o, TensorSpec)), None)
    return None


def _annotated_module(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, torch.nn.Module)


def _split_pipeline_config(config: Any) -> Target:
    return resolve_target(config)


def resolve_subject(
    target: Any, config: Any = None, *, args: Mapping[str, Any] | None = None, flags: Mapping[str, Any] | None = None
) -> Subject:
    """``target``: a Data2Vec class, its name (``ForCTC``, ``Data2VecAudioForCTC``), a preset spec
    (``audio-base:ForCTC``), a ``module:function`` string or a ``@contract`` function.
    ``config``: a preset name, a path, or a config object (for a preset target: ``None``)."""
    extra = dict(args or {})
    flag_map = dict(flags or {})
    if isinstance(target, str) and ":" in target and not _looks_like_preset(target):
        target = _load_function(target)
    if callable(target) and not isinstance(target, type):
        plan = contract_of(target)
        if plan is None:
            raise TypeError(
                f"{getattr(target, '__qualname__', target)!r} has no contract: decorate it with "
                "@data2vec_contracts.contract so its inputs and return value have shapes"
            )
        if config is None:
            raise ValueError(f"give a config for the pipeline {plan.name} (a preset such as 'text-base', or a path)")
        chosen = _split_pipeline_config(config)
        return Subject(
            plan.name,
            "pipeline",
            chosen.config,
            chosen.source,
            chosen.cls,
            chosen.modality,
            CONTRACTS[chosen.class_name],
            fn=target,
            plan=plan,
            extra=extra,
            flags=flag_map,
        )
    if isinstance(target, type):
        cls_name = target.__name__
        if cls_name not in CONTRACTS:
            raise TypeError(f"{cls_name} is not one of the {len(CONTRACTS)} Data2Vec classes")
        if config is None:
            raise ValueError(f"give a config for {cls_name} (a preset such as 'audio-base', or a path)")
        chosen = resolve_target(config)
        cls = resolve_class(chosen.modality, cls_name)
        return Subject(
            cls_name, "model", chosen.config, chosen.source, cls, chosen.modality, CONTRACTS[cls_name], flags=flag_map
        )
    if not isinstance(target, str):
        raise TypeError(f"cannot check {target!r}: give a Data2Vec class, a preset, or a @contract function")
    if config is None:
        chosen = resolve_target(target)
    else:
        loaded = resolve_target(config)
        chosen = Target(
            loaded.config, resolve_class(modality_of(loaded.config), target), loaded.modality, loaded.source
        )
    return Subject(
        chosen.class_name,
        "model",
        chosen.config,
        chosen.source,
        chosen.cls,
        chosen.modality,
        CONTRACTS[chosen.class_name],
        flags=flag_map,
    )


def _looks_like_preset(text: str) -> bool:
    head = text.rpartition(":")[2]
    return head == "Model" or head.startswith(("For", "Data2Vec"))


def describe_spec(spec: Spec | None) -> tuple[str, ...] | None:
    if not isinstance(spec, TensorSpec):
        return None
    return tuple(d.text() if d.kind is not DimKind.FIXED else str(d.size) for d in spec.dims)
