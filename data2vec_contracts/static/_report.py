"""The results of static checks and proofs, as objects, readable tables and JSON."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any, Literal

__all__ = [
    "AxisProof",
    "CheckResult",
    "Field",
    "Finding",
    "FindingKind",
    "ProofResult",
    "Status",
    "TargetKind",
    "render_check",
    "render_proof",
]

#: What a static check or proof ran: a Data2Vec class or a user's ``@contract`` pipeline.
TargetKind = Literal["model", "pipeline"]
#: The verdict on one output axis.
Status = Literal["proved", "differs", "sampled"]


@dataclass(frozen=True)
class Field:
    """One input or output field: its symbolic and concrete shape, dtype, and how many (for tuples)."""

    role: str  # "input" or "output"
    name: str
    symbolic: tuple[str, ...] | None
    shape: tuple[int, ...] | None
    dtype: str
    count: int | None = None  # tuple fields (hidden_states): the number of items
    mode: str = "meta"  # where this shape was observed


@dataclass(frozen=True)
class CheckResult:
    """What :func:`~data2vec_contracts.static.check` ran and saw; every field passed its contract."""

    target: str
    kind: TargetKind
    model_class: str
    config_source: str
    sizes: dict[str, int]
    mode: str
    fields: tuple[Field, ...]
    dimensions: dict[str, tuple[int, str]]  # name -> (value, where it comes from)
    checked: tuple[str, ...]  # the contracts that were checked, one entry per checked call
    parameters: int
    off_meta: tuple[str, ...]  # parameters and buffers that are not on the meta device
    off_meta_bytes: int
    notes: tuple[str, ...] = ()

    @property
    def parameters_on_meta(self) -> bool:
        return not self.off_meta

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def shapes(self) -> dict[str, tuple[int, ...] | None]:
        return {f.name: f.shape for f in self.fields if f.role == "output"}

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["dimensions"] = {k: {"value": v, "from": s} for k, (v, s) in self.dimensions.items()}
        data["ok"] = True
        return data


class FindingKind(str, Enum):
    """``GUARD`` a size the code needs, ``SPECIALISATION`` a size fixed to one value, ``RELATION`` an output size as a
    formula of the inputs, ``LIMIT`` a bound the contract knows and torch.export does not, ``DIFFERENCE`` the code and
    the contract disagree, ``UNCOVERED`` sizes the proof does not cover (and what was done about them), ``CLOSED``
    sizes the first export left out and a separate export proved, ``ERROR`` the export failed."""

    SPECIALISATION = "specialisation"
    GUARD = "guard"
    LIMIT = "limit"
    RELATION = "relation"
    CLOSED = "closed"
    DIFFERENCE = "difference"
    ERROR = "error"
    UNCOVERED = "uncovered"


@dataclass(frozen=True)
class Finding:
    """One fact of a proof a person can act on."""

    kind: FindingKind
    text: str


@dataclass(frozen=True)
class AxisProof:
    """One axis of one output: the contract's size, the size torch.export found, and the verdict."""

    field: str
    axis: int
    contract: str
    found: str
    status: Status
    method: str
    counterexample: dict[str, int] | None = None


@dataclass(frozen=True)
class ProofResult:
    target: str
    kind: TargetKind
    model_class: str
    config_source: str
    requested: dict[str, tuple[int, int]]
    proven: dict[str, tuple[int, int]]
    axes: tuple[AxisProof, ...]
    findings: tuple[Finding, ...]
    seconds: float
    ok: bool

    def of(self, kind: FindingKind | str) -> list[str]:
        return [f.text for f in self.findings if f.kind == kind]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# -- rendering --------------------------------------------------------------------------------------
def _tuple(t: tuple[Any, ...] | None) -> str:
    if t is None:
        return "-"
    return "(" + ", ".join(str(x) for x in t) + ")"


def _table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [indent + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)).rstrip() for r in rows]


def render_check(result: CheckResult) -> str:
    where = f"a pipeline using {result.model_class}; " if result.kind == "pipeline" else ""
    lines = [
        f"{result.target}  ({where}config: {result.config_source})",
        f"run: {result.mode}; {result.parameters:,} parameters"
        + (
            ", all on the meta device (no weight memory)"
            if result.parameters_on_meta
            else f"; off the meta device: {_few(result.off_meta)} ({result.off_meta_bytes:,} bytes)"
        ),
        f"contracts checked: {', '.join(dict.fromkeys(result.checked)) or 'none'}",
        "",
    ]
    rows = [["role", "field", "symbolic", "shape", "dtype"]]
    for f in result.fields:
        shape = _tuple(f.shape)
        symbolic = _tuple(f.symbolic)
        if f.count is not None:
            shape, symbolic = f"{f.count} x {shape}", f"{f.count} x {symbolic}"
        rows.append([f.role, f.name, symbolic, shape, f.dtype])
    lines += _table(rows)
    used = list(dict.fromkeys(d for f in result.fields for d in _names(f.symbolic) if d in result.dimensions))
    if used:
        lines.append("")
        lines += _table(
            [["dimension", "value", "from"]]
            + [[d, str(result.dimensions[d][0]), result.dimensions[d][1]] for d in used]
        )
    for note in result.notes:
        lines.append(f"note: {note}")
    return "\n".join(lines)


def _few(names: tuple[str, ...], most: int = 3) -> str:
    shown = ", ".join(names[:most])
    return shown if len(names) <= most else f"{shown}, ... ({len(names)} tensors)"


def _names(symbolic: tuple[str, ...] | None) -> list[str]:
    """The dimension names in a symbolic shape, in order (``1+h*w`` gives h, w)."""
    return [n for s in symbolic or () for n in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", s)]


_TITLES = {
    FindingKind.GUARD: "Guards (sizes the code needs)",
    FindingKind.SPECIALISATION: "Specialisations (sizes fixed to one value)",
    FindingKind.LIMIT: "Limits torch.export alone misses (from the contract)",
    FindingKind.RELATION: "Relations found",
    FindingKind.CLOSED: "Proved by separate exports (sizes the first export left out)",
    FindingKind.DIFFERENCE: "Differences between the code and the contract",
    FindingKind.UNCOVERED: "Not covered by the proof",
    FindingKind.ERROR: "Errors",
}


def render_proof(result: ProofResult) -> str:
    verdict = "PROVED" if result.ok else "NOT PROVED"
    asked = ", ".join(f"{k} in {lo}..{hi}" for k, (lo, hi) in result.requested.items())
    proven = ", ".join(f"{k} in {lo}..{hi}" for k, (lo, hi) in result.proven.items()) or "nothing"
    lines = [
        f"{verdict}: {result.target}  (model class {result.model_class}; config: {result.config_source})",
        f"asked for: {asked}",
        f"{'proved' if result.ok else 'traced'} for: {proven}  ({result.seconds:.1f} s)",
    ]
    if result.axes:
        lines.append("")
        rows = [["output", "axis", "contract", "torch.export", "verdict"]]
        for a in result.axes:
            rows.append([a.field, str(a.axis), a.contract, a.found, f"{a.status} ({a.method})"])
        lines += _table(rows)
    for kind, title in _TITLES.items():
        texts = result.of(kind)
        if texts:
            lines.append("")
            lines.append(f"{title}:")
            lines += ["  - " + t.replace("\n", "\n    ") for t in texts]
    return "\n".join(lines)


@dataclass
class Progress:
    """Reports the steps of a long proof to a callback (``None``: silent)."""

    callback: Any = None
    steps: list[str] = field(default_factory=list)

    def __call__(self, message: str) -> None:
        self.steps.append(message)
        if self.callback is not None:
            self.callback(message)
