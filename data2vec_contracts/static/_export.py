"""The traced side of a proof: the target as one exportable module, and what torch.export says about it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sympy  # type: ignore[import-untyped]
import torch

from ..checker import DimKind
from ._targets import Subject

__all__ = ["Program", "input_symbols", "outputs"]


class Program(torch.nn.Module):
    """The target as one module with positional tensor inputs and a flat tuple of tensor outputs."""

    def __init__(self, subject: Subject, model: Any, names: list[str]) -> None:
        super().__init__()
        self.subject = subject
        self.model = model
        self.names = names
        record: list[list[str]] = []
        self.record = record.append  # a closure: export copies and restores module attributes, not functions
        self.fields: Callable[[], list[str]] = lambda: record[-1] if record else []

    def forward(self, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        kwargs = dict(zip(self.names, tensors, strict=False))
        if self.subject.kind == "model":
            out = self.model(**kwargs)
        else:
            assert self.subject.fn is not None
            out = self.subject.fn(**self.subject.arguments(self.model), **kwargs)
        fields: list[str] = []
        flat: list[torch.Tensor] = []
        _flatten("return value" if self.subject.kind == "pipeline" else "", out, fields, flat)
        self.record(fields)
        return tuple(flat)


def _flatten(prefix: str, value: Any, fields: list[str], flat: list[torch.Tensor]) -> None:
    if isinstance(value, torch.Tensor):
        fields.append(prefix)
        flat.append(value)
    elif isinstance(value, Mapping):
        for k, v in value.items():
            if v is not None:
                _flatten(f"{prefix}.{k}" if prefix else str(k), v, fields, flat)
    elif isinstance(value, (tuple, list)):
        for i, v in enumerate(value):
            _flatten(f"{prefix}[{i}]", v, fields, flat)


def input_symbols(
    exported: Any, subject: Subject, names: list[str], free: Mapping[str, Any]
) -> tuple[dict[Any, str], dict[str, int]]:
    placeholders = {n.name: n for n in exported.graph.nodes if n.op == "placeholder"}
    user = list(exported.graph_signature.user_inputs)
    symbols: dict[Any, str] = {}
    specialised: dict[str, int] = {}
    specs = dict(subject.tensor_inputs())
    for arg_name, input_name in zip(user, names, strict=False):
        val = placeholders[arg_name].meta["val"]
        for d, size in zip(specs[input_name].dims, val.shape, strict=False):
            if d.kind is not DimKind.NAMED or d.name not in free:
                continue
            if isinstance(size, torch.SymInt):
                expr = size.node.expr
                if isinstance(expr, sympy.Symbol) and expr not in symbols:
                    symbols[expr] = d.name
            else:
                specialised.setdefault(d.name, int(size))
    return symbols, {k: v for k, v in specialised.items() if k not in symbols.values()}


def outputs(exported: Any, fields: list[str]) -> list[tuple[str, tuple[Any, ...]]]:
    node = next(n for n in exported.graph.nodes if n.op == "output")
    vals = [a.meta["val"] for a in node.args[0]]
    return [(f, tuple(v.shape)) for f, v in zip(fields, vals, strict=False)]
