"""Measure today's probe on every pipeline of the corpus: ``python -m tests.probes.corpus._measure [--json PATH]``.

Prints one line per pipeline (kind, outcome, properties checked / skipped, extra calls per property; for a probe that
raises, each property probed alone) and the totals:
false alarms on the correct corpus, bugs caught for the right reason on the buggy one, and the extra calls each
property spent on the correct pipelines. Nothing here is asserted; the assertions are in ``test_corpus.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import torch

from data2vec_contracts import ProbeViolation, ShapeContractError, probe

from . import _all
from ._cases import BUGGY, CORRECT, Bug, Case


def outcome(case: Case) -> dict[str, Any]:
    """What today's probe does on ``case``: passes (with what it checked) or raises (with what it said)."""
    args, kwargs = case.inputs()
    row: dict[str, Any] = {"name": case.name, "today": case.today}
    try:
        result = probe(case.fn, *args, **case.probe_kwargs, **kwargs)
    except ProbeViolation as err:
        v = err.violation
        row.update(outcome=type(err).__name__, field=v.field, actual=str(v.actual))
    except ShapeContractError as err:
        v = err.violation
        said = f"dimension {v.dimension}" if v.problem == "dimension" else v.problem
        row.update(
            outcome="ShapeContractError", field=v.field, actual=f"{said}: expected {v.expected}, actual {v.actual}"
        )
    except Exception as err:  # a corpus bug: the given call itself fails
        row.update(outcome=f"crash {type(err).__name__}", actual=str(err).splitlines()[0] if str(err) else "")
    else:
        row.update(
            outcome="pass",
            checked=list(result.checked),
            skipped=dict(result.skipped),
            calls=dict(result.calls_by_property),
            total_calls=result.calls,
            notes=list(result.notes),
        )
    return row


PROPERTIES = ("batch", "padding", "sizes", "grid", "trim", "locality", "mask")


def by_property(case: Case) -> dict[str, str]:
    """Each property probed alone: ``"N calls"`` when it passes, ``"skipped"``, or the error it raises."""
    args, kwargs = case.inputs()
    found = {}
    for prop in PROPERTIES:
        try:
            result = probe(case.fn, *args, **{**case.probe_kwargs, "properties": [prop]}, **kwargs)
        except ProbeViolation as err:
            found[prop] = type(err).__name__
        except ShapeContractError:
            found[prop] = "ShapeContractError (given call)"
        else:
            found[prop] = f"{result.calls_by_property[prop]} calls" if prop in result.checked else "skipped"
    return found


def right_reason(bug: Bug, row: dict[str, Any]) -> bool:
    """The outcome the test asserts: the expected class, field and words (for a pure shape bug, the dimension)."""
    said = row.get("actual", "")
    if bug.expect is ShapeContractError:
        said = said.split(":")[0].removeprefix("dimension ")
        return row["outcome"] == "ShapeContractError" and row.get("field") == bug.field_ and said == bug.says
    return (
        row["outcome"] == bug.expect.__name__
        and (bug.field_ is None or row.get("field") == bug.field_)
        and (bug.says in said)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", help="write the rows as JSON to this path")
    parser.add_argument("-k", default="", help="only cases whose name contains this")
    options = parser.parse_args(argv)
    torch.set_num_threads(1)
    assert _all.MODULES  # the modules that register the cases
    rows = []
    for kind, cases in (("correct", CORRECT), ("buggy", BUGGY)):
        for case in cases.values():
            if options.k not in case.name:
                continue
            row = outcome(case)
            row["kind"] = kind
            row["by_property"] = by_property(case) if "properties" not in case.probe_kwargs else {}
            if isinstance(case, Bug):
                row["caught"] = right_reason(case, row)
                row["source"] = case.source
            rows.append(row)
            extra = row.get("calls", {})
            shown = row["outcome"] if row["outcome"] != "pass" else "pass " + ",".join(row["checked"])
            print(f"{kind:7} {case.name:42} {shown:40} {extra}  {row.get('actual', '')[:140]}")
            if row["outcome"] != "pass" and row["by_property"]:
                print(f"{'':50} alone: {row['by_property']}")
            if row["outcome"] == "pass":
                for key, reason in row["skipped"].items():
                    print(f"{'':50} skipped {key}: {reason[:110]}")
    correct = [r for r in rows if r["kind"] == "correct"]
    bugs = [r for r in rows if r["kind"] == "buggy"]
    alarms = [r for r in correct if r["outcome"] != "pass"]
    caught = [r for r in bugs if r["caught"]]
    print(
        f"\ncorrect: {len(correct)}, false alarms: {len(alarms)}; buggy: {len(bugs)}, caught for the right reason: "
        f"{len(caught)}"
    )
    print("extra calls per property on the correct pipelines that pass (where it was checked):")
    for prop in PROPERTIES:
        spent = [r["calls"].get(prop, 0) for r in correct if r["outcome"] == "pass" and prop in r["checked"]]
        if spent:
            mean = sum(spent) / len(spent)
            print(f"  {prop:9} checked on {len(spent):2}: mean {mean:.1f}, min {min(spent)}, max {max(spent)}")
        else:
            print(f"  {prop:9} checked on  0")
    totals = [r["total_calls"] - 1 for r in correct if r["outcome"] == "pass"]
    if totals:
        print(f"  all       mean {sum(totals) / len(totals):.1f} extra calls per probe, max {max(totals)}")
    if options.json:
        with open(options.json, "w") as f:
            json.dump(rows, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
