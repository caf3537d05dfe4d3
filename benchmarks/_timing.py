"""Paired, interleaved timing: A and B alternate (ABBA order) in one process; the figure is A/B."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["Paired", "measure_pair", "quantile"]


def quantile(values: list[float], q: float) -> float:
    """Linear-interpolated quantile ``q`` in [0, 1]."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = q * (len(ordered) - 1)
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass(frozen=True)
class Paired:
    """The ratios of ``reps`` interleaved pairs, and each side's time per call."""

    ratio_median: float
    ratio_p10: float
    ratio_p90: float
    a_median_s: float
    b_median_s: float
    reps: int
    inner: int
    #: A's fastest-decile time over B's: less sensitive to other processes than the median of ratios
    ratio_of_p10_times: float = float("nan")
    #: the median of the pairwise differences A - B (seconds per call): the cost A adds, for rows that report one
    diff_median_s: float = float("nan")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _time(fn: Callable[[], Any], inner: int, clock: Callable[[], float] = time.perf_counter) -> float:
    start = clock()
    for _ in range(inner):
        fn()
    return (clock() - start) / inner


def measure_pair(
    a: Callable[[], Any],
    b: Callable[[], Any],
    *,
    reps: int,
    inner: int = 1,
    warmup: int = 2,
    collect_every: int = 25,
    before_a: Callable[[], Any] | None = None,
    before_b: Callable[[], Any] | None = None,
    clock: Callable[[], float] = time.perf_counter,
    also: Callable[[], float] | None = None,
    also_samples: dict[str, list[float]] | None = None,
) -> Paired:
    """Time ``a`` and ``b`` ``reps`` times each, alternating A B B A ..., ``inner`` calls per sample.

    ``before_a``/``before_b`` run untimed before each sample (to switch a model between checked
    and unchecked, say). ``clock`` is what is read around a sample (wall time by default; the CPU time of
    child processes for subprocess runs); ``also`` is a second clock read around the same samples, whose
    per-side times go into ``also_samples`` (``{"a": [...], "b": [...]}``). The garbage collector is off
    while a sample runs, as in ``timeit``, and collects every ``collect_every`` pairs, outside the timed region.
    """
    for _ in range(warmup):
        for before, fn in ((before_a, a), (before_b, b)):
            if before is not None:
                before()
            fn()
    ratios: list[float] = []
    times_a: list[float] = []
    times_b: list[float] = []
    enabled = gc.isenabled()
    try:
        gc.collect()
        for rep in range(reps):
            if rep % collect_every == 0:
                gc.collect()
            order = ("a", "b") if rep % 2 == 0 else ("b", "a")
            sample: dict[str, float] = {}
            for side in order:
                before, fn = (before_a, a) if side == "a" else (before_b, b)
                if before is not None:
                    before()
                gc.disable()
                try:
                    start_also = also() if also is not None else 0.0
                    sample[side] = _time(fn, inner, clock)
                    if also is not None and also_samples is not None:
                        also_samples.setdefault(side, []).append((also() - start_also) / inner)
                finally:
                    if enabled:
                        gc.enable()
            times_a.append(sample["a"])
            times_b.append(sample["b"])
            ratios.append(sample["a"] / sample["b"])
    finally:
        if enabled:
            gc.enable()
    return Paired(
        ratio_median=statistics.median(ratios),
        ratio_p10=quantile(ratios, 0.1),
        ratio_p90=quantile(ratios, 0.9),
        a_median_s=statistics.median(times_a),
        b_median_s=statistics.median(times_b),
        reps=reps,
        inner=inner,
        ratio_of_p10_times=quantile(times_a, 0.1) / quantile(times_b, 0.1),
        diff_median_s=statistics.median(a - b for a, b in zip(times_a, times_b)),
    )
