"""``prove``: torch.export with symbolic sizes, compared with the contract for every size in a range.

1. The contract's constraints narrow the asked ranges (``S >= 400``, ``N <= 510``) and may pin a
   size to one value (segmentation: ``H = W = image_size``): a specialisation.
2. ``torch.export.export`` traces the model or pipeline on the meta device with every free size
   dynamic (``Dim.DYNAMIC`` with the asked range); its range constraints are the sizes the traced
   graph is valid for, and each output size is a sympy expression of the input sizes.
3. Every output axis is compared with the contract's size (:mod:`._symbolic`): proved symbolically,
   by the quasi-polynomial argument, exhaustively, or only sampled (then it says so).
4. What export excluded but the contract allows (size-1 dimensions: ``B = 1``, ``T = 1``) is not
   proved; those boundary sizes are checked concretely on the meta device instead, and listed.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import re
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from ..checker import Dim, DimKind, ShapeContractError, TensorSpec, TupleSpec, Violation
from ..contracts import max_text_length, receptive_field
from ..instrument import disabled
from ._evaluate import BUDGET, ContractSide, Narrowing, narrow
from ._export import Program, input_symbols, outputs
from ._report import AxisProof, Finding, FindingKind, Progress, ProofResult
from ._symbolic import Verdict, compare, fmt, from_torch
from ._targets import Subject, resolve_subject

__all__ = ["prove"]


# -- ranges ---------------------------------------------------------------------------------------
def _default_ranges(subject: Subject) -> dict[str, tuple[int, int]]:
    config = subject.config
    if subject.modality == "text":
        return {"B": (1, 64), "N": (2, max_text_length(config)), "C": (2, 8)}
    if subject.modality == "audio":
        return {"B": (1, 64), "S": (receptive_field(config)[0], 30 * 16000)}
    image = config.image_size if isinstance(config.image_size, int) else config.image_size[0]
    patch = config.patch_size if isinstance(config.patch_size, int) else config.patch_size[0]
    return {"B": (1, 64), "H": (patch, 2 * image), "W": (patch, 2 * image)}


def _parse_ranges(subject: Subject, dims: Mapping[str, Any] | None) -> dict[str, tuple[int, int]]:
    free = subject.free_input_dims()
    defaults = _default_ranges(subject)
    given = dict(dims or {})
    unknown = sorted(set(given) - set(free))
    if unknown:
        raise ValueError(
            f"{subject.name} has no input dimension {', '.join(unknown)}; its input dimensions are {', '.join(free)}"
        )
    ranges: dict[str, tuple[int, int]] = {}
    for name in free:
        value = given.get(name, defaults.get(name))
        if value is None:
            raise ValueError(f"give a range for dimension {name}, e.g. dims={{'{name}': (1, 64)}}")
        lo, hi = (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))
        if lo < 0 or hi < lo:
            raise ValueError(f"dimension {name}: the range {lo}..{hi} is empty or negative")
        ranges[name] = (lo, hi)
    return ranges


def _example(ranges: Mapping[str, tuple[int, int]], preferred: Mapping[str, int]) -> dict[str, int]:
    """A size inside each range, at least 2, different for different names (no accidental equalities)."""
    used: set[int] = set()
    point = {}
    for name, (lo, hi) in ranges.items():
        want = min(max(preferred.get(name, lo + 3), lo, 2), hi)
        for candidate in [want, *range(want + 1, hi + 1), *range(want - 1, lo - 1, -1)]:
            if candidate not in used or lo == hi:
                want = candidate
                break
        point[name] = want
        used.add(want)
    return point


# -- the proof ------------------------------------------------------------------------------------------
def _stderr(message: str) -> None:
    print(f"[data2vec-contracts prove] {message}", file=sys.stderr, flush=True)


def prove(
    target: Any,
    config: Any = None,
    dims: Mapping[str, tuple[int, int] | int] | None = None,
    *,
    args: Mapping[str, Any] | None = None,
    progress: bool | Callable[[str], None] | None = None,
    check_uncovered: bool = True,
    close_gaps: bool = True,
) -> ProofResult:
    """Prove that every output of ``target`` has the contract's shape for every size in ``dims``.

    ``target`` and ``config`` are as for :func:`check`. ``dims`` maps each free input dimension to an
    inclusive range (``{"B": (1, 64), "N": (2, 512)}``) or one value; missing ones get defaults.
    ``progress``: ``True`` prints each step to stderr, a callable receives them.

    The result lists the output axes with the contract's size, the size torch.export found and how
    it was proved, and findings: guards, specialisations, relations, limits torch.export misses,
    differences, and what the proof did not cover. ``result.ok`` is False for any difference, error
    or axis that was only sampled.

    torch.export specialises size-1 dimensions, so its trace leaves out sizes such as ``B = 1`` or the
    ``S`` with ``T = 1``. With ``close_gaps`` each left-out piece is exported and proved on its own;
    pieces that still fail are listed as not covered and, with ``check_uncovered``, checked concretely
    on the meta device at their ends.
    """
    started = time.perf_counter()
    report = Progress(_stderr if progress is True else progress if callable(progress) else None)
    subject = resolve_subject(target, config, args=args)
    missing = subject.unsupplied()
    if missing:
        raise ValueError(f"prove() cannot supply argument(s) {', '.join(missing)} of {subject.name}: pass args={{...}}")
    requested = _parse_ranges(subject, dims)
    findings: list[Finding] = []
    axes: list[AxisProof] = []
    model = None
    if subject.takes_model():
        report(f"building {subject.cls.__name__} on the meta device")
        with torch.device("meta"):
            model = subject.build_model()
    contract = ContractSide(subject, model, requested)
    valid, pinned, narrowed = narrow(contract, subject.constraints(model), requested, findings)
    empty = [n for n, (lo, hi) in valid.items() if hi < lo]
    proven: dict[str, tuple[int, int]] = {}

    def finish(ok: bool) -> ProofResult:
        result = ProofResult(
            subject.name,
            subject.kind,
            subject.cls.__name__,
            subject.config_source,
            requested,
            proven,
            tuple(axes),
            tuple(_ordered(findings)),
            time.perf_counter() - started,
            ok,
        )
        report(f"done in {result.seconds:.1f} s: {'proved' if ok else 'not proved'}")
        return result

    if empty:
        return finish(False)
    example = _example(valid, subject.default_sizes())
    tensors = subject.inputs(example, "meta", model)
    names = list(tensors)
    dynamic = []
    for _, spec in subject.tensor_inputs():
        axes_spec: dict[int, Any] = {}
        for i, d in enumerate(spec.dims):
            if d.kind is DimKind.NAMED and d.name in valid and d.name not in pinned:
                lo, hi = requested[d.name]
                axes_spec[i] = torch.export.Dim.DYNAMIC(min=lo, max=hi) if lo < hi else torch.export.Dim.STATIC
            else:
                axes_spec[i] = torch.export.Dim.STATIC
        dynamic.append(axes_spec)
    program = Program(subject, model, names)
    ranges_text = ", ".join(
        f"{k} in {lo}..{hi}" if k not in pinned else f"{k} = {lo}"
        for k, (lo, hi) in {**requested, **{p: valid[p] for p in pinned}}.items()
    )
    report(f"exporting {subject.name} with {ranges_text} (example {example})")
    t0 = time.perf_counter()
    try:
        exported = _export(program, tuple(tensors[n] for n in names), dynamic)
    except Exception as exc:
        from ._meta import is_data_dependent

        why = (
            "; the code turns tensor values into sizes (mask lengths via .item() / .tolist()), which a symbolic "
            "trace cannot follow, so no size is proved: check such pipelines with static.check at the sizes you use"
            if is_data_dependent(exc)
            else ""
        )
        failed_text = f"torch.export failed with sizes {ranges_text}: {_first_line(exc)}{why}"
        findings.append(Finding(FindingKind.ERROR, failed_text))
        findings.append(_concrete(subject, example, "at the example sizes"))
        return finish(False)
    report(f"exported in {time.perf_counter() - t0:.1f} s; comparing outputs with the contract")
    symbol_names, specialised = input_symbols(exported, subject, names, requested)
    for name in sorted(specialised):
        if name not in pinned:
            findings.append(
                Finding(
                    FindingKind.SPECIALISATION,
                    f"torch.export fixed {name} to {specialised[name]}: the code only works for that size",
                )
            )
    range_of = {str(k): (int(v.lower), int(v.upper)) for k, v in exported.range_constraints.items()}
    export_ranges: dict[str, tuple[int, int]] = {}
    for sym, name in symbol_names.items():
        export_ranges[name] = range_of.get(str(sym), requested[name])
        lo, hi = export_ranges[name]
        proven[name] = (max(lo, valid[name][0]), min(hi, valid[name][1]))
    for name in valid:
        if name not in proven:
            value = specialised.get(name)
            proven[name] = valid[name] if name in pinned else (value, value) if value is not None else valid[name]
    traced = outputs(exported, program.fields())
    _compare_outputs(subject, contract, model, traced, symbol_names, proven, axes, findings, report)
    base: dict[str, int] = {}
    if subject.kind == "pipeline":  # sizes every reached contract accepts, from which their limits are searched
        ranges = {k: v for k, v in proven.items() if v[0] <= v[1]}
        base = _accepted_example(subject, ranges, _example(ranges, subject.default_sizes()))
        _bisect_limits(subject, base, proven, export_ranges, report)
    gaps = _guards(contract, requested, valid, export_ranges, pinned, specialised, narrowed, findings)
    if subject.kind == "pipeline":
        gaps = _reached_limits(subject, contract, base, valid, gaps, findings, report)
    failed = any(f.kind in (FindingKind.DIFFERENCE, FindingKind.ERROR) for f in findings)
    if gaps and close_gaps and not failed and _close(subject, proven, gaps, findings, report):
        for gap in gaps:
            proven[gap.name] = (min(proven[gap.name][0], gap.lo), max(proven[gap.name][1], gap.hi))
    else:
        for gap in gaps:
            findings.append(Finding(FindingKind.UNCOVERED, gap.text))
            if check_uncovered:
                base = _example({k: v for k, v in valid.items() if v[0] <= v[1]}, subject.default_sizes())
                for value in sorted({gap.lo, gap.hi}):
                    point = {**base, gap.name: value}
                    report(f"concrete meta-device check at {_point(point)} (outside what export covered)")
                    findings.append(_concrete(subject, point, "at"))
    if subject.kind == "model":
        findings.append(
            Finding(FindingKind.UNCOVERED, "only the plain forward was exported (no attention_mask, flags or labels)")
        )
    elif subject.needs_data():
        findings.append(
            Finding(
                FindingKind.UNCOVERED,
                f"{', '.join(subject.needs_data())}: traced with all ones; other mask values were not traced",
            )
        )
    ok = (
        bool(axes)
        and not any(f.kind in (FindingKind.DIFFERENCE, FindingKind.ERROR) for f in findings)
        and all(a.status == "proved" for a in axes)
    )
    return finish(ok)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    first = re.split(r"\s+\(unhinted", text.splitlines()[0])[0] if text else ""
    return f"{type(exc).__name__}: {first}"[:400]


def _concrete(subject: Subject, point: Mapping[str, int], where: str) -> Finding:
    from ._meta import check

    try:
        sizes: dict[str, Any] = dict(point)
        check(subject.fn if subject.fn is not None else subject.cls, subject.config, args=subject.extra, **sizes)
    except ShapeContractError as exc:
        return Finding(FindingKind.DIFFERENCE, f"{where} {_point(point)} the contract is violated:\n{exc}")
    except Exception as exc:
        return Finding(FindingKind.ERROR, f"{where} {_point(point)} the code fails: {_first_line(exc)}")
    return Finding(FindingKind.UNCOVERED, f"{where} {_point(point)} a concrete meta-device check passed")


def _rejection(subject: Subject, point: Mapping[str, int]) -> Violation | None:
    """The violation of a Data2Vec model's contract that a concrete meta-device check at ``point`` raises, if any."""
    from ._meta import check

    try:
        sizes: dict[str, Any] = dict(point)
        check(subject.fn if subject.fn is not None else subject.cls, subject.config, args=subject.extra, **sizes)
    except ShapeContractError as exc:
        violation = exc.violation
        if violation is not None and violation.function.startswith("Data2Vec"):
            return violation
    except Exception:
        return None
    return None


def _export(program: Program, inputs: tuple[Any, ...], dynamic: list[Any]) -> Any:
    """Non-strict torch.export of ``program`` with every check off: the trace follows the code alone (the limits of the
    contracts a pipeline reaches are found concretely, by :func:`_bisect_limits`)."""
    with disabled(), contextlib.redirect_stderr(io.StringIO()):  # torch prints the graph when tracing fails
        return torch.export.export(program, inputs, dynamic_shapes=(tuple(dynamic),), strict=False)


def _accepted_example(
    subject: Subject, valid: Mapping[str, tuple[int, int]], example: dict[str, int]
) -> dict[str, int]:
    """Sizes the Data2Vec contracts the pipeline reaches accept, from which the limits are searched (a default length
    can lie beyond a small position table). Each size a rejection names moves halfway towards the other end of its
    range, a few times at most."""
    point = dict(example)
    for _ in range(12):
        violation = _rejection(subject, point)
        if violation is None:
            return point
        names = [n for n in (violation.dimension or "").split(", ") if n in point and n in valid]
        if not names:
            return point
        for name in names:
            lo, hi = valid[name]
            low_side = "<" in violation.expected or point[name] - lo >= hi - point[name]
            point[name] = lo + (point[name] - lo) // 2 if low_side else point[name] + (hi - point[name] + 1) // 2
    return point


def _last_accepted(subject: Subject, base: Mapping[str, int], name: str, good: int, bad: int) -> tuple[int, int]:
    """Bisect ``name`` between a size the reached contracts accept (``good``) and one they reject (``bad``): the last
    accepted size and the first rejected one beside it."""
    while abs(bad - good) > 1:
        middle = (bad + good) // 2
        if _rejection(subject, {**base, name: middle}) is None:
            good = middle
        else:
            bad = middle
    return good, bad


def _bisect_limits(
    subject: Subject,
    base: Mapping[str, int],
    proven: dict[str, tuple[int, int]],
    exported: dict[str, tuple[int, int]],
    report: Progress,
) -> None:
    """Without the contracts in the trace, find their limits concretely, as the checked trace would have: where a
    model contract rejects an end of a traced range, bisect to the last size it accepts (the bounds of the contracts
    are one-sided: a position table, a receptive field) and end the traced range there. The sizes cut off become
    gaps, which :func:`_reached_limits` reports."""
    for name, (lo, hi) in list(proven.items()):
        if lo >= hi or _rejection(subject, base) is not None:
            continue
        for end in (hi, lo):
            violation = _rejection(subject, {**base, name: end})
            if violation is None:
                continue
            report(f"{violation.function} rejects {name}={end}: bisecting for its limit")
            good, _ = _last_accepted(subject, base, name, base[name], end)
            lo, hi = (lo, good) if end == hi else (good, hi)
        proven[name] = (lo, hi)
        exported[name] = (max(exported[name][0], lo), min(exported[name][1], hi))


def _reached_limits(
    subject: Subject,
    contract: ContractSide,
    base: Mapping[str, int],
    valid: dict[str, tuple[int, int]],
    gaps: list[_Gap],
    findings: list[Finding],
    report: Progress,
) -> list[_Gap]:
    """A pipeline's trace runs the contracts of the Data2Vec models it calls, whose bounds become guards that narrow
    the traced range. Where a concrete check rejects the outer end of a gap with a model contract's violation, the
    sizes up to the last one that contract accepts (found by bisection) are a limit of that contract: reported as a
    guard and excluded from the proof, which never claims a size a contract rejects. What remains of the gap (sizes
    export left out for another reason, such as a size-1 dimension) stays a gap."""
    kept = []
    for gap in gaps:
        low_side = gap.lo <= valid[gap.name][0]
        outer, inner = (gap.lo, gap.hi) if low_side else (gap.hi, gap.lo)
        report(f"checking whether a reached contract rejects {gap.span} (concrete meta-device checks)")
        violation = _rejection(subject, {**base, gap.name: outer})
        if violation is None:
            kept.append(gap)
            continue
        good: int | None = None
        if _rejection(subject, {**base, gap.name: inner}) is not None:
            bad = inner  # the whole gap is rejected
        else:
            good, bad = _last_accepted(subject, base, gap.name, inner, outer)
        lo, hi = valid[gap.name]
        edge = (bad + 1) if low_side else (bad - 1)
        valid[gap.name] = (edge, hi) if low_side else (lo, edge)
        rejected = (gap.lo, bad) if low_side else (bad, gap.hi)
        span = f"{gap.name} in {rejected[0]}..{rejected[1]}" if rejected[0] != rejected[1] else f"{gap.name} = {bad}"
        findings.append(
            Finding(
                FindingKind.GUARD,
                f"{gap.name} {'>=' if low_side else '<='} {edge}: {violation.function} (reached by the pipeline) "
                f"rejects {span}: expected {violation.expected}",
            )
        )
        if good is not None:
            rest = (edge, gap.hi) if low_side else (gap.lo, edge)
            kept.append(_Gap(gap.name, *rest, gap.traced, _why_excluded(contract, gap.name, *rest)))
    return kept


def _point(point: Mapping[str, int]) -> str:
    return ", ".join(f"{k}={v}" for k, v in point.items())


@dataclass(frozen=True)
class _Gap:
    """Sizes the contract allows that the first export left out (it specialises size-1 dimensions)."""

    name: str
    lo: int
    hi: int
    traced: tuple[int, int]
    why: str

    @property
    def span(self) -> str:
        return f"{self.name} in {self.lo}..{self.hi}" if self.lo != self.hi else f"{self.name} = {self.lo}"

    @property
    def text(self) -> str:
        lo, hi = self.traced
        return f"{self.span}: the contract allows it, torch.export traced only {self.name} in {lo}..{hi}{self.why}"

    @property
    def closed(self) -> str:
        lo, hi = self.traced
        return (
            f"{self.span}: the first export traced only {self.name} in {lo}..{hi}{self.why}; a separate export "
            "proved every output there"
        )


def _guards(
    contract: ContractSide,
    requested: Mapping[str, tuple[int, int]],
    valid: Mapping[str, tuple[int, int]],
    exported: Mapping[str, tuple[int, int]],
    pinned: set[str],
    specialised: Mapping[str, int],
    narrowed: Mapping[str, Narrowing],
    findings: list[Finding],
) -> list[_Gap]:
    """Turn the contract's narrowing and export's range constraints into guards and limits; return the gaps:
    sizes the contract allows that the export did not cover."""
    found: list[_Gap] = []
    for name, (rlo, rhi) in requested.items():
        if name in pinned or name in specialised:
            continue
        vlo, vhi = valid[name]
        elo, ehi = exported[name]
        narrowing = narrowed.get(name)
        text = narrowing.reason if narrowing is not None else ""
        if vlo > rlo:
            findings.append(Finding(FindingKind.GUARD, _bound(name, ">=", vlo, text)))
        if vhi < rhi:
            if ehi > vhi:
                findings.append(
                    Finding(
                        FindingKind.LIMIT,
                        f"{_bound(name, '<=', vhi, text)} torch.export alone accepts {name} up to {ehi}: it checks "
                        "shapes, not the values used as indices.",
                    )
                )
            else:
                findings.append(Finding(FindingKind.GUARD, _bound(name, "<=", vhi, text)))
        gaps = []
        if elo > vlo:
            gaps.append((vlo, min(elo - 1, vhi)))
        if ehi < vhi:
            gaps.append((max(ehi + 1, vlo), vhi))
        for glo, ghi in gaps:
            found.append(_Gap(name, glo, ghi, (elo, ehi), _why_excluded(contract, name, glo, ghi)))
    return found


def _close(
    subject: Subject,
    proven: Mapping[str, tuple[int, int]],
    gaps: list[_Gap],
    findings: list[Finding],
    report: Progress,
) -> bool:
    """Prove every piece of the range the first export left out, each with its own export."""
    pieces: dict[str, list[tuple[int, int]]] = {name: [rng] for name, rng in proven.items()}
    for gap in gaps:
        pieces[gap.name].append((gap.lo, gap.hi))
    combos = [dict(zip(pieces, c, strict=True)) for c in itertools.product(*pieces.values())]
    target = subject.fn if subject.fn is not None else subject.cls
    for combo in combos[1:]:  # the first is the range already proved
        shown = ", ".join(f"{k} in {lo}..{hi}" if lo != hi else f"{k} = {lo}" for k, (lo, hi) in combo.items())
        report(f"closing a gap: a separate export for {shown}")
        sub = prove(
            target,
            subject.config,
            combo,
            args=subject.extra,
            check_uncovered=False,
            close_gaps=False,
            progress=lambda m: report(f"  {m}"),
        )
        if not sub.ok or sub.proven != combo:
            for f in sub.findings:
                if f.kind in (FindingKind.DIFFERENCE, FindingKind.ERROR):
                    findings.append(Finding(f.kind, f"with {shown}: {f.text}"))
            return False
    for gap in gaps:
        findings.append(Finding(FindingKind.CLOSED, gap.closed))
    return True


def _bound(name: str, op: str, value: int, text: str) -> str:
    """``S >= 269: Tx >= 2 frames ...`` when the contract states the bound on a derived dimension."""
    return text if text.startswith(f"{name} {op} {value} ") else f"{name} {op} {value}: {text}"


def _why_excluded(contract: ContractSide, name: str, lo: int, hi: int) -> str:
    """Size-1 dimensions are specialised by torch.export; say where a dimension is 1 in the gap."""
    parts = []
    for value in sorted({lo, hi}):
        scope = contract.scope({name: value})
        for rule in list(contract.rules):
            if rule not in scope.values:
                try:
                    scope.derive(rule)
                except Exception:  # a rule that cannot be derived here says nothing
                    continue
        ones = sorted(k for k, v in scope.values.items() if v == 1 and (k == name or k in contract.rules))
        if ones:
            where = "" if ones == [name] else f"at {name}={value}: "
            parts.append(where + " and ".join(f"{k} = 1" for k in ones))
    if parts:
        return f" ({'; '.join(parts)}: torch.export specialises size-1 dimensions)"
    return ""


def _compare_outputs(
    subject: Subject,
    contract: ContractSide,
    model: Any,
    outputs: list[tuple[str, tuple[Any, ...]]],
    symbol_names: Mapping[Any, str],
    proven: Mapping[str, tuple[int, int]],
    axes: list[AxisProof],
    findings: list[Finding],
    report: Progress,
) -> None:
    specs = _output_specs(subject, model)
    seen_relations: set[str] = set()
    point_ranges = {k: v for k, v in proven.items() if v[0] <= v[1]}
    for field_name, shape in outputs:
        spec = specs.get(field_name)
        if spec is None:
            findings.append(Finding(FindingKind.UNCOVERED, f"{field_name}: the contract states no shape for it"))
            continue
        if spec.variadic >= 0:
            text = f"{field_name}: {spec.label} has a variadic dimension; not compared"
            findings.append(Finding(FindingKind.UNCOVERED, text))
            continue
        if len(spec.dims) != len(shape):
            findings.append(
                Finding(
                    FindingKind.DIFFERENCE,
                    f"{field_name}: the contract says {len(spec.dims)} dims "
                    f"({' '.join(d.text() for d in spec.dims)}), the code returns {len(shape)}",
                )
            )
            continue
        for axis, (dim, size) in enumerate(zip(spec.dims, shape, strict=False)):
            found = from_torch(size.node.expr if isinstance(size, torch.SymInt) else int(size), symbol_names)
            found_text = fmt(found)
            if contract.free(dim):
                if dim.kind is DimKind.NAMED and not found.is_number and dim.name not in seen_relations:
                    seen_relations.add(dim.name)
                    findings.append(
                        Finding(
                            FindingKind.RELATION,
                            f"{dim.name} = {found_text} ({field_name} axis {axis}; the contract leaves it free)",
                        )
                    )
                axes.append(AxisProof(field_name, axis, dim.text(), found_text, "proved", "free in the contract"))
                continue
            inputs = tuple(sorted(contract.dim_inputs(dim) | {str(s) for s in found.free_symbols}))
            expr = contract.dim_sympy(dim)

            def value(point: Mapping[str, int], dim: Dim = dim) -> int:
                got = contract.dim_value(dim, point)
                return -1 if got is None else got

            report(f"{field_name} axis {axis}: {contract.describe(dim)} vs {found_text}")
            verdict: Verdict = compare(found, value, expr, point_ranges, inputs, budget=BUDGET)
            axes.append(
                AxisProof(
                    field_name,
                    axis,
                    contract.describe(dim),
                    found_text,
                    verdict.status,
                    verdict.method,
                    verdict.counterexample,
                )
            )
            if verdict.status == "differs":
                findings.append(
                    Finding(
                        FindingKind.DIFFERENCE,
                        f"{field_name} axis {axis}: the contract says {contract.describe(dim)}, "
                        f"the code gives {found_text}; "
                        f"at {_point(verdict.counterexample or {})} that is {verdict.found_value}, not "
                        f"{verdict.contract_value}",
                    )
                )
            elif verdict.status == "sampled":
                findings.append(Finding(FindingKind.UNCOVERED, f"{field_name} axis {axis}: {verdict.method}"))
            elif not found.is_number and not found.is_Symbol:
                label = dim.text() if dim.kind is not DimKind.NAMED else dim.name
                if label not in seen_relations:
                    seen_relations.add(label)
                    ranges = ", ".join(
                        f"{n} in {point_ranges[n][0]}..{point_ranges[n][1]}" for n in inputs if n in point_ranges
                    )
                    same = f", the contract's {contract.describe(dim)}" if dim.kind is DimKind.NAMED else ""
                    findings.append(Finding(FindingKind.RELATION, f"{label} = {found_text}{same}, for every {ranges}"))


def _output_specs(subject: Subject, model: Any) -> dict[str, TensorSpec]:
    specs: dict[str, TensorSpec] = {}
    for name, out in subject.output_specs(model).items():
        spec = getattr(out, "spec", out)
        if isinstance(spec, TensorSpec):
            specs[name] = spec
        elif isinstance(spec, TupleSpec):
            for i, item in enumerate(spec.items):
                if isinstance(item, TensorSpec):
                    specs[f"{name}[{i}]"] = item
    return specs


_ORDER = tuple(FindingKind)


def _ordered(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: _ORDER.index(f.kind) if f.kind in _ORDER else len(_ORDER))
