"""The coverage report: the terminal summary (one line, or the table with ``-v``), the JSON file, and the
xdist transport (workers put their coverage in ``workeroutput``, the controller merges it)."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest

from ._classes import CLASS_NAMES, modality_and_head
from ._coverage import Coverage, format_values
from ._options import shown_path
from ._session import is_worker, state_of
from ._settings import settings_of

__all__ = ["WORKER_KEY", "pytest_sessionfinish", "pytest_terminal_summary", "pytest_testnodedown", "summary_lines"]

WORKER_KEY = "data2vec_contracts_coverage"


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist controller: merge the coverage a worker sent."""
    state = state_of(node.config)
    data = getattr(node, "workeroutput", {}).get(WORKER_KEY)
    if state is not None and data is not None:
        state.coverage.merge(data)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    state = state_of(config)
    if state is None:
        return
    if is_worker(config):
        config.workeroutput[WORKER_KEY] = state.coverage.to_data()  # type: ignore[attr-defined]
        return
    report = settings_of(config).report
    if report is not None:
        report.write_text(json.dumps(state.coverage.to_data(), indent=2) + "\n", encoding="utf-8")
        state.report_written = True


def _table(coverage: Coverage) -> list[str]:
    rows = [("contract", "kind", "calls", "dimension values")]
    for name, stats in sorted(coverage.contracts.items(), key=lambda kv: (kv[1].kind != "model", kv[0])):
        dims = "  ".join(f"{d}={format_values(v)}" for d, v in stats.sorted_dims().items())
        rows.append((name, stats.kind, str(stats.calls), dims))
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    return [f"{r[0].ljust(width[0])}  {r[1].ljust(width[1])}  {r[2].rjust(width[2])}  {r[3]}".rstrip() for r in rows]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def summary_lines(coverage: Coverage, verbose: bool, width: int = 100) -> list[str]:
    """The summary as lines: one line when every check passed (without ``-v``), else the table."""
    checks, contracts = coverage.checks, len(coverage.contracts)
    exercised, never = coverage.exercised_classes(), coverage.never_exercised()
    violations = coverage.violations
    classes = f"{len(exercised)} of {len(CLASS_NAMES)} Data2Vec classes exercised"
    if not verbose and not violations:
        if not checks:
            return [f"data2vec-contracts: no contract was checked; {classes}"]
        passed = f"{_count(checks, 'check')} passed ({_count(contracts, 'contract')}; {classes}; -v for the table)"
        return [f"data2vec-contracts: {passed}"]
    lines = [*_table(coverage)] if contracts else ["no contract was checked"]
    lines.append("")
    lines.append(f"{_count(checks, 'check')} passed, {_count(len(violations), 'violation')}; {classes}")
    if never:
        lines.extend(textwrap.wrap(f"never exercised: {', '.join(never)}", width, subsequent_indent="  "))
    for v in violations:
        where = ", ".join(str(v[k]) for k in ("function", "field") if v.get(k))
        dim = f", dimension {v['dimension']}" if v.get("dimension") else ""
        lines.append(f"violation: {v['test']}: {where}{dim}")
    if never:
        modality, head = modality_and_head(never[0])
        lines.append(
            f"To cover {never[0]}, call it in a test: the data2vec_model fixture builds it "
            f'(data2vec_model("{modality}", "{head}")).'
        )
    return lines


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = state_of(config)
    if state is None or is_worker(config):
        return
    verbose = config.get_verbosity() > 0
    lines = summary_lines(state.coverage, verbose, config.get_terminal_writer().fullwidth)
    if len(lines) > 1:
        terminalreporter.write_sep("=", "data2vec-contracts coverage")
    for line in lines:
        terminalreporter.write_line(line)
    if state.report_written:
        path = settings_of(config).report
        assert path is not None
        terminalreporter.write_line(f"data2vec-contracts: JSON report written to {shown_path(config, path)}")
