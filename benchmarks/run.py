"""Run the benchmarks, print the table, write the JSON.

    python -m benchmarks [--quick] [--only tiny,contract] [--json PATH] [--threads N]
    python benchmarks/run.py ...
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

__all__ = ["main"]


def _names(text: str) -> list[str]:
    from benchmarks._figures import FIGURES

    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in FIGURES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown figure(s) {', '.join(unknown)}; choose from {', '.join(FIGURES)}")
    return names


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few repetitions (a smoke run, not a measurement)")
    parser.add_argument("--only", type=_names, default=None, help="comma-separated figures to run")
    parser.add_argument("--json", type=Path, default=Path(__file__).resolve().parent / "results.json",
                        help="where to write the results (default: benchmarks/results.json)")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1: less noise)")
    return parser


def _fmt_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.2f} µs"


def table(rows: list[Any]) -> str:
    header = "| figure | A / B | median | p10–p90 | fastest-decile ratio | A | B | reps×inner | target | status |"
    lines = [header, "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        if r.value is not None:
            p = r.paired
            a, b = r.shown if r.shown else (_fmt_time(p.a_median_s), _fmt_time(p.b_median_s)) if p else ("–", "–")
            ratios = "–" if p is None else f"{p.ratio_p10:.3f}–{p.ratio_p90:.3f}"
            fastest = "–" if p is None else f"{p.ratio_of_p10_times:.3f}"
            reps = "–" if p is None else f"{p.reps}×{p.inner}"
            lines.append(
                f"| {r.name} | {r.a} / {r.b} | {r.value:g} {r.unit} | {ratios} | {fastest} | {a} | {b} | {reps} | "
                f"≤ {r.target:g} {r.unit} | **{r.status}** |"
            )
            continue
        if r.paired is None:
            lines.append(f"| {r.name} | {r.a} / {r.b} | – | – | – | – | – | – | ≤ {r.target} | skip: {r.skipped} |")
            continue
        p = r.paired
        lines.append(
            f"| {r.name} | {r.a} / {r.b} | {p.ratio_median:.3f} | {p.ratio_p10:.3f}–{p.ratio_p90:.3f} | "
            f"{p.ratio_of_p10_times:.3f} | "
            f"{_fmt_time(p.a_median_s)} | {_fmt_time(p.b_median_s)} | {p.reps}×{p.inner} | ≤ {r.target} | "
            f"**{r.status}** |"
        )
    return "\n".join(lines)


def _notes(rows: list[Any]) -> str:
    out = []
    for r in rows:
        for key, value in r.extra.items():
            if key.endswith("_s"):
                text = _fmt_time(value)
            elif key.endswith("_mb"):
                text = f"{value:.1f} MB"
            else:
                text = f"{value:.4f}" if isinstance(value, float) else value
            out.append(f"- {r.name}: {key} = {text}")
    return "\n".join(out)


def _environment(threads: int) -> dict[str, Any]:
    import beartype
    import jaxtyping
    import torch
    import transformers

    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__,
        "jaxtyping": jaxtyping.__version__, "beartype": beartype.__version__, "cpus": os.cpu_count(),
        "torch_threads": threads, "load_average": os.getloadavg(), "platform": platform.platform(),
    }


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    import torch

    from benchmarks._figures import FIGURES

    torch.set_num_threads(args.threads)
    env = _environment(args.threads)
    rows = []
    started = time.perf_counter()
    for name in args.only or list(FIGURES):
        t0 = time.perf_counter()
        print(f"[{name}] ...", file=sys.stderr, flush=True)
        rows.extend(FIGURES[name](args.quick))
        print(f"[{name}] {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    env["elapsed_s"] = time.perf_counter() - started
    env["load_average_end"] = os.getloadavg()
    print(table(rows))
    notes = _notes(rows)
    if notes:
        print("\n" + notes)
    print("\nstatus: the median of the pairwise ratios against the target; the fastest-decile ratio "
          "(A's 10th-percentile time / B's) is shown because this machine is shared.")
    print(f"\n{'quick run, ' if args.quick else ''}torch threads {args.threads}, load average "
          f"{env['load_average'][0]:.2f} → {env['load_average_end'][0]:.2f}, {env['elapsed_s']:.0f} s")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"quick": args.quick, "environment": env,
                                     "figures": [r.as_dict() for r in rows]}, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
