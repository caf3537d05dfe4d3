"""Probe variants: where each argument's named axes are, and new inputs sliced, padded or tiled along them."""

from __future__ import annotations

import inspect
import random
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ..checker import DimKind, SeqSpec, Spec, TensorSpec, TupleSpec

__all__ = [
    "BATCH_NORMS",
    "Inputs",
    "Leaf",
    "OutLeaf",
    "clone_tree",
    "data2vec_configs",
    "deviation",
    "edge_index",
    "is_data2vec",
    "modules_in",
    "named_axes",
    "output_leaves",
    "preserved_state",
    "resize",
    "take",
    "wrap_index",
]


def named_axes(spec: TensorSpec, ndim: int) -> dict[str, int]:
    """``{dimension name: axis}`` for the named dims of ``spec`` on a tensor of rank ``ndim``."""
    dims = spec.dims
    axes: dict[str, int] = {}
    if spec.variadic < 0:
        if len(dims) != ndim:
            return axes
        placed = list(enumerate(dims))
    else:
        var = spec.variadic
        after = len(dims) - 1 - var
        if ndim < len(dims) - 1:
            return axes
        placed = [(i, dims[i]) for i in range(var)] + [(ndim - after + k, dims[var + 1 + k]) for k in range(after)]
    for axis, d in placed:
        if d.kind is DimKind.NAMED and not d.broadcast:
            axes.setdefault(d.name, axis)
    return axes


@dataclass(frozen=True)
class Leaf:
    """One annotated tensor among the arguments."""

    name: str  # the argument
    path: str  # how to show it: ``attention_mask`` or ``inputs[1]``
    tensor: Tensor
    spec: TensorSpec
    axes: Mapping[str, int]


@dataclass(frozen=True)
class OutLeaf:
    """One tensor of the return value (``spec`` is ``None`` when the contract says nothing about it)."""

    field: str
    tensor: Tensor
    spec: TensorSpec | None
    axes: Mapping[str, int]


def _walk(value: Any, spec: Spec | None, path: str, f: Callable[[str, Tensor, TensorSpec], Tensor]) -> Any:
    if isinstance(spec, TensorSpec):
        return f(path, value, spec) if isinstance(value, Tensor) else value
    if isinstance(spec, TupleSpec) and isinstance(value, tuple):
        return tuple(_walk(v, s, f"{path}[{i}]", f) for i, (s, v) in enumerate(zip(spec.items, value, strict=False)))
    if isinstance(spec, SeqSpec) and isinstance(value, (list, tuple)):
        return type(value)(_walk(v, spec.item, f"{path}[{i}]", f) for i, v in enumerate(value))
    return value


def clone_tree(value: Any) -> Any:
    """A copy of every tensor in ``value`` (through lists, tuples and dicts); anything else as is."""
    if isinstance(value, Tensor):
        return value.detach().clone()
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(clone_tree(v) for v in value)
    if isinstance(value, dict):
        return type(value)((k, clone_tree(v)) for k, v in value.items())
    return value


class Inputs:
    """The arguments of one call with the spec of each; variants are new ``Inputs``, never edits."""

    def __init__(self, signature: inspect.Signature, arguments: Mapping[str, Any], specs: Mapping[str, Spec]) -> None:
        self.signature = signature
        self.arguments = dict(arguments)
        self.specs = specs

    @classmethod
    def bind(
        cls, signature: inspect.Signature, args: tuple[Any, ...], kwargs: Mapping[str, Any], specs: Mapping[str, Spec]
    ) -> Inputs:
        return cls(signature, signature.bind(*args, **kwargs).arguments, specs)

    def leaves(self) -> list[Leaf]:
        found: list[Leaf] = []

        for name, value in self.arguments.items():
            spec = self.specs.get(name)
            if spec is not None:

                def collect(path: str, t: Tensor, s: TensorSpec, name: str = name) -> Tensor:
                    found.append(Leaf(name, path, t, s, named_axes(s, t.ndim)))
                    return t

                _walk(value, spec, name, collect)
        return found

    def map(self, f: Callable[[Leaf], Tensor], ints: Mapping[str, int] | None = None) -> Inputs:
        """New inputs with every annotated tensor replaced by ``f(leaf)`` and int arguments by ``ints``."""
        out: dict[str, Any] = {}
        for name, value in self.arguments.items():
            spec = self.specs.get(name)
            if ints and name in ints and isinstance(value, int) and not isinstance(value, bool):
                out[name] = ints[name]
            elif spec is None:
                out[name] = value
            else:

                def replace(path: str, t: Tensor, s: TensorSpec, name: str = name) -> Tensor:
                    return f(Leaf(name, path, t, s, named_axes(s, t.ndim)))

                out[name] = _walk(value, spec, name, replace)
        return Inputs(self.signature, out, self.specs)

    def call_args(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Positional and keyword arguments, every tensor a fresh copy (the function may write to it)."""
        copies = {k: clone_tree(v) for k, v in self.arguments.items()}
        bound = inspect.BoundArguments(self.signature, copies)
        return bound.args, bound.kwargs


def output_leaves(value: Any, spec: Spec | None, path: str = "return value") -> list[OutLeaf]:
    """The tensors of a return value, each with its spec when the contract gives one."""
    if isinstance(spec, TensorSpec):
        if isinstance(value, Tensor):
            return [OutLeaf(path, value, spec, named_axes(spec, value.ndim))]
        return []
    if isinstance(spec, TupleSpec) and isinstance(value, tuple):
        pairs = enumerate(zip(spec.items, value, strict=False))
        return [leaf for i, (s, v) in pairs for leaf in output_leaves(v, s, f"{path}[{i}]")]
    if isinstance(spec, SeqSpec) and isinstance(value, (list, tuple)):
        return [leaf for i, v in enumerate(value) for leaf in output_leaves(v, spec.item, f"{path}[{i}]")]
    if isinstance(value, Tensor):
        return [OutLeaf(path, value, None, {})]
    if isinstance(value, Mapping):
        return [leaf for k, v in value.items() for leaf in output_leaves(v, None, f"{path}[{k!r}]")]
    if isinstance(value, (list, tuple)):
        return [leaf for i, v in enumerate(value) for leaf in output_leaves(v, None, f"{path}[{i}]")]
    return []


# -- tensor surgery ----------------------------------------------------------------------------
def take(t: Tensor, axis: int, index: Tensor | list[int]) -> Tensor:
    index = torch.as_tensor(index, dtype=torch.long, device=t.device)
    return t.index_select(axis, index)


def wrap_index(old: int, new: int) -> Tensor:
    """Indices that tile ``old`` positions to ``new`` (or keep the first ``new``)."""
    return torch.arange(new) % max(old, 1)


def edge_index(old: int, new: int) -> Tensor:
    """Indices that repeat the last position to grow ``old`` to ``new`` (or keep the first ``new``)."""
    return torch.arange(new).clamp(max=max(old - 1, 0))


def resize(t: Tensor, axis: int, new: int, *, mask: bool = False) -> Tensor:
    """``t`` with ``new`` positions on ``axis``: the first ones when shrinking; tiled (masks: last
    column repeated, so padded rows stay padded and full rows stay full) when growing."""
    old = t.shape[axis]
    if new == old:
        return t
    return take(t, axis, edge_index(old, new) if mask else wrap_index(old, new))


def deviation(actual: Tensor, expected: Tensor, atol: float, rtol: float) -> tuple[float, float, bool]:
    """``(max abs deviation, tolerance at the worst element, within tolerance)``; NaN equals only NaN."""
    a = actual.detach().to("cpu", torch.float64)
    e = expected.detach().to("cpu", torch.float64)
    if a.numel() == 0:
        return 0.0, atol, True
    diff = (a - e).abs()
    both_nan = torch.isnan(a) & torch.isnan(e)
    diff = torch.where(both_nan, torch.zeros_like(diff), diff).nan_to_num(nan=float("inf"))
    allowed = atol + rtol * e.abs().nan_to_num(nan=0.0, posinf=0.0, neginf=0.0)
    excess = diff - allowed
    worst = int(excess.flatten().argmax())
    return float(diff.max()), float(allowed.flatten()[worst]), bool(excess.flatten()[worst] <= 0)


# -- models among the arguments --------------------------------------------------------------------
def modules_in(arguments: Mapping[str, Any]) -> list[tuple[str, torch.nn.Module]]:
    """The ``nn.Module`` arguments with the path they were passed under (``head``, ``heads[1]``, ``heads['a']``),
    also inside lists, tuples and dicts (one level); each module once."""
    found: list[tuple[str, torch.nn.Module]] = []
    for name, value in arguments.items():
        if isinstance(value, dict):
            items = [(f"{name}[{k!r}]", v) for k, v in value.items()]
        elif isinstance(value, (list, tuple)):
            items = [(f"{name}[{i}]", v) for i, v in enumerate(value)]
        else:
            items = [(name, value)]
        for path, item in items:
            if isinstance(item, torch.nn.Module) and all(item is not m for _, m in found):
                found.append((path, item))
    return found


def is_data2vec(module: torch.nn.Module) -> bool:
    return str(getattr(getattr(module, "config", None), "model_type", "")).startswith("data2vec-")


def data2vec_configs(modules: list[tuple[str, torch.nn.Module]]) -> dict[str, Any]:
    """The config of the first Data2Vec model of each modality found in ``modules`` (or inside them)."""
    configs: dict[str, Any] = {}
    for _path, module in modules:
        for sub in module.modules():
            if is_data2vec(sub):
                config: Any = sub.config
                configs.setdefault(str(config.model_type).removeprefix("data2vec-"), config)
    return configs


#: Modules that normalise with the statistics of the batch while in train mode (torch's public classes).
BATCH_NORMS: tuple[type[torch.nn.Module], ...] = (
    torch.nn.BatchNorm1d,
    torch.nn.BatchNorm2d,
    torch.nn.BatchNorm3d,
    torch.nn.SyncBatchNorm,
    torch.nn.LazyBatchNorm1d,
    torch.nn.LazyBatchNorm2d,
    torch.nn.LazyBatchNorm3d,
)


@contextmanager
def preserved_state(modules: list[tuple[str, torch.nn.Module]]) -> Iterator[list[tuple[str, torch.nn.Module]]]:
    """Inside: every module in eval mode (dropout, layerdrop and SpecAugment would fail every comparison), except
    the batch norms of the caller's own modules that were in train mode: they stay in train mode, as the function
    really runs them, and their running statistics are put back afterwards. Yields those (path, module) pairs.
    On exit every submodule's own mode and the torch, ``random`` and numpy RNG states come back."""
    named = [
        (f"{path}.{sub_name}" if sub_name else path, sub) for path, m in modules for sub_name, sub in m.named_modules()
    ]
    modes = [(sub, sub.training) for _name, sub in named]
    inside_data2vec = {id(s) for _name, sub in named if is_data2vec(sub) for s in sub.modules()}
    batch_norms = [
        (name, sub)
        for name, sub in named
        if isinstance(sub, BATCH_NORMS) and sub.training and id(sub) not in inside_data2vec
    ]
    saved = [(buf, buf.detach().clone()) for _name, sub in batch_norms for buf in sub.buffers()]
    py_state = random.getstate()
    np_random = getattr(sys.modules.get("numpy"), "random", None)
    np_state = np_random.get_state() if np_random is not None else None
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_initialized() else []  # type: ignore[no-untyped-call]
    try:
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            for _path, m in modules:
                m.eval()
            for _name, sub in batch_norms:
                sub.train()
            yield batch_norms
    finally:
        for sub, mode in modes:
            sub.training = mode
        with torch.no_grad():
            for buf, value in saved:
                buf.copy_(value)
        random.setstate(py_state)
        if np_random is not None and np_state is not None:
            np_random.set_state(np_state)
