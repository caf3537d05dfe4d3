"""Run every oracle scenario and print the counts and each problem: ``python -m tests.oracle [--full] [-k TEXT]``.

The counts are the ones the report quotes: scenarios run, valid calls, false violations, expected_shapes
mismatches (of the calls it compared), invalid calls where our error did not come first, calls rejected on purpose
(tests/oracle/known.py ``DELIBERATE``); with ``--causes`` each problem is shown with the
known cause (tests/oracle/known.py) that explains it, and problems no cause explains are listed apart.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter

import torch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.oracle")
    parser.add_argument("--full", action="store_true", help="the larger sweep (D2V_ORACLE_FULL=1)")
    parser.add_argument("-k", default="", help="only scenarios whose id contains this text")
    parser.add_argument("-v", action="store_true", help="print every problem")
    args = parser.parse_args(argv)
    if args.full:
        os.environ["D2V_ORACLE_FULL"] = "1"
    torch.set_num_threads(1)
    import transformers

    transformers.logging.set_verbosity_error()
    from tests.oracle import known
    from tests.oracle.calls import run
    from tests.oracle.scenarios import all_scenarios

    start = time.perf_counter()
    scenarios = [s for s in all_scenarios() if args.k in s.id]
    counts: Counter[str] = Counter()
    unexplained: list[str] = []
    predicted_ok: list[str] = []
    by_cause: Counter[str] = Counter()
    for s in scenarios:
        r = run(s)
        counts["run"] += 1
        if r.unbuildable:
            counts["unbuildable"] += 1
            continue
        counts["valid" if r.valid else "invalid"] += 1
        deliberate = known.deliberate_for(s)
        if deliberate and r.valid and r.checked.ours and r.enforced.ours:
            counts["rejected on purpose"] += 1
            continue
        counts["false violation"] += bool(r.false_violations)
        counts["expected_shapes mismatch"] += bool(r.expected)
        counts["expected_shapes compared"] += r.valid and r.not_expressible is None
        counts["our error not first"] += bool(r.not_first)
        causes = known.causes_for(s)
        for c in causes:
            by_cause[c.id] += 1
        if r.problems and not causes:
            unexplained.append(f"{s.id}\n    " + "\n    ".join(r.problems))
        elif causes and not r.problems:
            predicted_ok.append(f"{s.id}: predicted {[c.id for c in causes]} but no problem")
        if args.v and r.problems:
            print(f"{s.id} [{', '.join(c.id for c in causes) or 'UNEXPLAINED'}]\n    " + "\n    ".join(r.problems))
    elapsed = time.perf_counter() - start
    print(f"transformers {transformers.__version__}: {dict(counts)} in {elapsed:.1f}s")
    for cause, n in sorted(by_cause.items()):
        print(f"  {cause}: {n} scenarios")
    if unexplained:
        print(f"UNEXPLAINED ({len(unexplained)}):")
        print("\n".join(unexplained))
    if predicted_ok:
        print(f"PREDICTED BUT OK ({len(predicted_ok)}):")
        print("\n".join(predicted_ok))
    return 1 if unexplained or predicted_ok else 0


if __name__ == "__main__":
    sys.exit(main())
