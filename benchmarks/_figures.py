"""The figures of the benchmark table. Each returns one or more :class:`Figure` rows."""

from __future__ import annotations

import gc
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import transformers
from beartype import beartype
from jaxtyping import Float, jaxtyped
from torch import Tensor

from data2vec_contracts import checked, contract, disabled, expected_shapes, unchecked
from data2vec_contracts.instrument import plan_for

from ._models import LARGE_TEXT, MODALITIES, base_case, tiny_case
from ._timing import Paired, measure_pair

__all__ = ["FIGURES", "Figure"]

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = "data2vec_contracts"


@dataclass
class Figure:
    """One row: ``a / b`` against ``target`` (a ratio that must not be exceeded).

    A row that is not a ratio sets ``value`` (in ``unit``: microseconds of checking, references left alive,
    graphs more than the unchecked run, ...), which is held against ``target`` instead (``value <= target``);
    ``shown`` is then what the A and B columns print (times from ``paired``, when there is no ``shown``).
    """

    name: str
    a: str
    b: str
    target: float
    paired: Paired | None = None
    skipped: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    value: float | None = None
    unit: str = ""
    shown: tuple[str, str] | None = None

    @property
    def status(self) -> str:
        if self.value is not None:
            return "pass" if self.value <= self.target else "miss"
        if self.paired is None:
            return "skip"
        return "pass" if self.paired.ratio_median <= self.target else "miss"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "a": self.a, "b": self.b, "target": self.target, "status": self.status,
            "skipped": self.skipped, "paired": None if self.paired is None else self.paired.as_dict(),
            "value": self.value, "unit": self.unit or None, "shown": None if self.shown is None else list(self.shown),
            "extra": self.extra,
        }


def _forward(model: torch.nn.Module, inputs: dict[str, Any], **flags: Any) -> Callable[[], Any]:
    def call() -> Any:
        return model(**inputs, **flags)

    return call


def _check_cost(model: torch.nn.Module, inputs: dict[str, Any], flags: dict[str, Any], reps: int) -> float:
    """Seconds spent in the contract checks alone (inputs and outputs) for this call."""
    out = model(**inputs, **flags)
    arguments = {**inputs, **flags}
    plan = plan_for(model, arguments)
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(20):
            plan.check_outputs(plan.check_inputs(arguments), out)
        best = min(best, (time.perf_counter() - start) / 20)
    return best


# -- 1, 2: checked / unchecked forwards -----------------------------------------------------------------
def _checked_vs_unchecked(kind: str, quick: bool) -> list[Figure]:
    rows = []
    for modality in MODALITIES:
        if kind == "tiny":
            model, inputs = tiny_case(modality)
            (reps, inner), target = ((40, 2) if quick else (400, 2)), 1.03
        else:
            model, inputs = base_case(modality)
            (reps, inner), target = ((3, 1) if quick else (21, 1)), 1.005
        flags = {"output_hidden_states": True}
        with torch.no_grad():
            paired = measure_pair(
                _forward(model, inputs, **flags), _forward(model, inputs, **flags),
                reps=reps, inner=inner, warmup=1 if kind == "base" else 3,
                before_a=lambda model=model: checked(model), before_b=lambda model=model: unchecked(model),
            )
            cost = _check_cost(model, inputs, flags, 3 if quick else 10)
        unchecked(model)
        rows.append(Figure(
            f"{kind} {modality} forward, output_hidden_states=True", "checked", "unchecked", target, paired,
            extra={"check_cost_s": cost, "check_cost_fraction": cost / paired.b_median_s},
        ))
        del model
        gc.collect()
    return rows


def tiny_forwards(quick: bool) -> list[Figure]:
    return _checked_vs_unchecked("tiny", quick)


def base_forwards(quick: bool) -> list[Figure]:
    return _checked_vs_unchecked("base", quick)


# -- 3: @contract / jaxtyped --------------------------------------------------------------------------
def _first_token(x: Float[Tensor, "B N D"], mask: Float[Tensor, "B N"]) -> Float[Tensor, "B D"]:
    return x[:, 0]


def contract_vs_jaxtyped(quick: bool) -> list[Figure]:
    ours = contract(_first_token)
    theirs = jaxtyped(typechecker=beartype)(_first_token)
    x, mask = torch.randn(2, 7, 16), torch.ones(2, 7)
    reps, inner = (30, 100) if quick else (200, 200)
    paired = measure_pair(lambda: ours(x, mask), lambda: theirs(x, mask), reps=reps, inner=inner)
    return [Figure("@contract call, repeated shapes (2 tensors in, 1 out)", "@contract",
                   "jaxtyped(typechecker=beartype)", 0.5, paired)]


# -- 4: disabled() / undecorated ----------------------------------------------------------------------
def _masked_mean(x: Float[Tensor, "B N D"], mask: Float[Tensor, "B N"]) -> Float[Tensor, "B D"]:
    weights = mask.unsqueeze(-1)
    return (x * weights).sum(1) / weights.sum(1).clamp(min=1)


def _identity(x: Float[Tensor, "B N D"]) -> Float[Tensor, "B N D"]:
    return x


def disabled_vs_plain(quick: bool) -> list[Figure]:
    rows = []
    x, mask = torch.randn(8, 128, 768), (torch.rand(8, 128) > 0.2).float()
    cases = [
        ("masked mean over (8, 128, 768)", _masked_mean, (x, mask), (30, 10) if quick else (200, 20)),
        ("trivial function (return x): pure wrapper overhead", _identity, (x,), (30, 1000) if quick else (200, 5000)),
    ]
    for label, fn, args, (reps, inner) in cases:
        decorated = contract(fn)
        with disabled():
            paired = measure_pair(lambda d=decorated, a=args: d(*a), lambda f=fn, a=args: f(*a), reps=reps, inner=inner)
        rows.append(Figure(f"@contract under disabled(): {label}", "disabled @contract", "undecorated", 1.05, paired,
                           extra={"overhead_s_per_call": paired.a_median_s - paired.b_median_s}))
    return rows


# -- 5, 6: pytest runs ----------------------------------------------------------------------------------
#: the environment of every timed pytest run: the parent's, with one intra-op thread (as the in-process figures
#: use), so that the two runs do not compete with the CI job and each other's spinning threads
_PYTEST_ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}


def _pytest(args: list[str], cwd: Path, outcomes: dict[str, list[str]] | None = None) -> Callable[[], None]:
    """A pytest run in a subprocess; its last summary line, without the time, goes into ``outcomes`` (a failing
    suite is still timed, and the table says so)."""
    command = [sys.executable, "-m", "pytest", *args]

    def run() -> None:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False, env=_PYTEST_ENV)
        if done.returncode not in (0, 1, 5):  # 1: tests failed, 5: nothing collected
            tail = (done.stdout + done.stderr)[-3000:]
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{tail}")
        if outcomes is not None:
            lines = [line for line in done.stdout.splitlines() if " in " in line and line.strip()]
            summary = lines[-1].strip("= ").rsplit(" in ", 1)[0] if lines else f"rc={done.returncode}"
            outcomes.setdefault(" ".join(args), []).append(summary)

    return run


def _children_cpu_s() -> float:
    """CPU seconds (user + system) of the finished child processes of this one."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _has_option(option: str) -> bool:
    done = subprocess.run([sys.executable, "-m", "pytest", "--help"], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    return option in done.stdout


def examples_run(quick: bool) -> list[Figure]:
    """The examples' tests with and without ``--shape-contracts``: the same 34 tests, the same outcomes required.

    One untimed run of each first (bytecode, page cache, first imports), then A B B A B A A B: 4 pairs. The
    ratio is of the runs' CPU time (user + system of the pytest process and its children; one intra-op thread),
    which another job on the machine barely moves; the wall-time ratio of the same runs is in the notes.
    """
    figure = Figure("pytest run of examples/ (CPU time of the run, 1 thread)", "--shape-contracts", "without", 1.15)
    if not (ROOT / "examples").is_dir():
        figure.skipped = "examples/ does not exist yet"
    elif not _has_option("--shape-contracts"):
        figure.skipped = "the plugin has no --shape-contracts option yet"
    elif quick:
        figure.skipped = "not in --quick (one run of examples/ takes about half a minute)"
    if figure.skipped:
        return [figure]
    base = ["examples", "-q", "-p", "no:cacheprovider"]
    outcomes: dict[str, list[str]] = {}
    wall: dict[str, list[float]] = {}
    figure.paired = measure_pair(_pytest([*base, "--shape-contracts"], ROOT, outcomes), _pytest(base, ROOT, outcomes),
                                 reps=4, warmup=1, clock=_children_cpu_s, also=time.perf_counter, also_samples=wall)
    import statistics

    ratios = [a / b for a, b in zip(wall["a"], wall["b"])]
    seen = {k: sorted(set(v)) for k, v in outcomes.items()}
    figure.extra.update({
        "outcomes": seen,
        "same_outcomes": len({tuple(v) for v in seen.values()}) == 1 and all(len(v) == 1 for v in seen.values()),
        "wall_ratio_median": statistics.median(ratios), "wall_a_median_s": statistics.median(wall["a"]),
        "wall_b_median_s": statistics.median(wall["b"]),
    })
    return [figure]


def startup(quick: bool) -> list[Figure]:
    figure = Figure("pytest start-up (--co -q, trivial test dir)", "plugin installed, unused",
                    f"-p no:{PLUGIN}", 1.02)
    with tempfile.TemporaryDirectory(prefix="d2v-startup-") as tmp:
        path = Path(tmp)
        (path / "test_trivial.py").write_text("def test_nothing():\n    assert True\n")
        (path / "pytest.ini").write_text("[pytest]\n")
        base = ["--co", "-q", "-p", "no:cacheprovider"]
        figure.paired = measure_pair(_pytest(base, path), _pytest([*base, "-p", f"no:{PLUGIN}"], path),
                                     reps=6 if quick else 25, warmup=1)
    return [figure]


# -- 7: meta-device check -------------------------------------------------------------------------------
def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _meta_check() -> torch.nn.Module:
    with torch.device("meta"):
        model = transformers.Data2VecTextModel(transformers.Data2VecTextConfig(**LARGE_TEXT)).eval()
    checked(model)
    ids = torch.zeros((1, 128), dtype=torch.long, device="meta")
    out = model(input_ids=ids, output_hidden_states=True)
    assert out.last_hidden_state.shape == (1, 128, LARGE_TEXT["hidden_size"])
    return model


def meta_check(quick: bool) -> list[Figure]:
    _meta_check()  # imports and first-use costs, outside the measurement
    gc.collect()
    before = _rss_mb()
    model = _meta_check()
    gc.collect()
    after = _rss_mb()
    weights_mb = sum(p.numel() * p.element_size() for p in model.parameters()) / 2**20
    all_meta = all(p.is_meta for p in model.parameters())
    del model
    real, inputs = base_case("text")
    reps = 2 if quick else 10
    with torch.no_grad():
        paired = measure_pair(_meta_check, _forward(real, inputs), reps=reps, warmup=1)
        forward_only = _meta_forward_only(reps)
    return [Figure(
        "meta check of large text preset (build + checked forward, B=1, N=128)", "meta check (large)",
        "real CPU forward (base)", 0.5, paired,
        extra={"rss_delta_mb": after - before, "weights_if_real_mb": weights_mb, "all_parameters_meta": all_meta,
               **forward_only},
    )]


def _meta_forward_only(reps: int) -> dict[str, float]:
    """Where the meta check spends its time: building, the checked and unchecked forwards; and what a
    one-layer model (the same shapes per layer) or ``expected_shapes`` alone would cost."""
    with torch.device("meta"):
        start = time.perf_counter()
        model = transformers.Data2VecTextModel(transformers.Data2VecTextConfig(**LARGE_TEXT)).eval()
        build = time.perf_counter() - start
    ids = torch.zeros((1, 128), dtype=torch.long, device="meta")
    paired = measure_pair(_forward(model, {"input_ids": ids}), _forward(model, {"input_ids": ids}), reps=reps,
                          warmup=1, before_a=lambda: checked(model), before_b=lambda: unchecked(model))
    with torch.device("meta"):
        shallow = transformers.Data2VecTextModel(
            transformers.Data2VecTextConfig(**{**LARGE_TEXT, "num_hidden_layers": 1})).eval()
    checked(shallow)
    shallow_paired = measure_pair(_forward(shallow, {"input_ids": ids}),
                                  lambda: expected_shapes(model, batch=1, seq_len=128, output_hidden_states=True),
                                  reps=reps, warmup=1)
    return {"meta_build_s": build, "meta_forward_checked_s": paired.a_median_s,
            "meta_forward_unchecked_s": paired.b_median_s,
            "meta_forward_checked_one_layer_s": shallow_paired.a_median_s,
            "expected_shapes_large_s": shallow_paired.b_median_s}


# -- 8, 9: the cost of checking one call, new and repeated signatures --------------------------------------
_FLAGS_ALL = {"output_hidden_states": True, "output_attentions": True}


def _replay_class() -> type[torch.nn.Module]:
    """Data2VecAudioForCTC whose forward builds, for the length of its input, a new output of the shapes and dtypes
    the real model returned for that length (recorded beforehand): a checked instance runs the real checking wrapper
    around a forward that costs a few allocations, and checked minus unchecked is the checking alone. The output is
    new on every call, as a real forward's is (an output recorded once and handed back again would sit cold in the
    CPU caches, which a real forward's just-made output does not, and the checked side alone would pay for that)."""

    class ReplayAudioForCTC(transformers.Data2VecAudioForCTC):
        replay: dict[int, Any] = {}  # noqa: RUF012

        def forward(self, input_values: Tensor | None = None, attention_mask: Tensor | None = None,
                    output_attentions: bool | None = None, output_hidden_states: bool | None = None,
                    return_dict: bool | None = None, labels: Tensor | None = None, **kwargs: Any) -> Any:
            assert input_values is not None
            return _rebuild(type(self).replay[input_values.shape[-1]])

    return ReplayAudioForCTC


def _shapes(value: Any) -> Any:
    if isinstance(value, Tensor):
        return (tuple(value.shape), value.dtype)
    if isinstance(value, tuple):
        return tuple(_shapes(v) for v in value)
    return value


def _rebuild(recorded: tuple[type, dict[str, Any]]) -> Any:
    cls, fields = recorded

    def make(spec: Any) -> Any:
        if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[1], torch.dtype):
            return torch.empty(spec[0], dtype=spec[1])
        if isinstance(spec, tuple):
            return tuple(make(s) for s in spec)
        return spec

    return cls(**{k: make(v) for k, v in fields.items()})


def _tensors(value: Any) -> list[Tensor]:
    """Every tensor of an output (a ModelOutput, a tuple, nested tuples)."""
    if isinstance(value, Tensor):
        return [value]
    items = value.values() if hasattr(value, "values") else value if isinstance(value, (tuple, list)) else ()
    return [t for item in items for t in _tensors(item)]


def _cursor(items: list[Any]) -> Callable[[], Any]:
    position = iter(range(len(items)))
    return lambda: items[next(position)]


def _audio_ctc_case(count: int, start: int = 400) -> tuple[Any, Any, Any, list[int]]:
    """A real tiny audio CTC model (eager attention, so attentions are returned), two replay instances of it (one
    checked), and ``count`` distinct lengths S = start, start + 1, ... whose real output shapes are recorded."""
    from tests._models import tiny_model

    real = tiny_model("audio", "ForCTC", attn_implementation="eager")
    cls = _replay_class()
    replay_a = checked(tiny_model("audio", "ForCTC", attn_implementation="eager", cls=cls))
    replay_b = tiny_model("audio", "ForCTC", attn_implementation="eager", cls=cls)
    gen = torch.Generator().manual_seed(0)
    lengths = [start + i for i in range(count)]
    with torch.no_grad():
        for n in lengths:
            out = real(input_values=torch.randn(2, n, generator=gen), **_FLAGS_ALL)
            cls.replay[n] = (type(out), {k: _shapes(v) for k, v in out.items()})  # type: ignore[attr-defined]
    return real, replay_a, replay_b, lengths


def _wave(n: int) -> Tensor:
    """A new input of length ``n`` (its values are never read by the replay)."""
    return torch.empty(2, n)


def check_costs(quick: bool) -> list[Figure]:
    reps = 40 if quick else 400
    warmup = 2
    real, replay_a, replay_b, lengths = _audio_ctc_case(reps + warmup)
    cls = type(replay_a)
    try:
        # new signature every call: each side walks the same list of sizes, one size per sample, with a new input
        next_a, next_b = _cursor(lengths), _cursor(lengths)
        first = measure_pair(lambda: replay_a(input_values=_wave(next_a()), **_FLAGS_ALL),
                             lambda: replay_b(input_values=_wave(next_b()), **_FLAGS_ALL), reps=reps, inner=1,
                             warmup=warmup)
        memo_size = len(_memo_of(replay_a))
        # the plan's checks alone (inputs, then every output field) on sizes never seen, for comparison
        plan_alone = _plan_check_new_sizes(replay_a, lengths[: min(len(lengths), 200)])
        # the same with the real forward: checked minus unchecked real forwards on new sizes (noisier)
        fresh = [torch.randn(2, 2000 + i) for i in range(reps // 2 + warmup)]
        next_ra, next_rb = _cursor(fresh), _cursor(fresh)
        with torch.no_grad():
            real_pair = measure_pair(lambda: real(input_values=next_ra(), **_FLAGS_ALL),
                                     lambda: real(input_values=next_rb(), **_FLAGS_ALL), reps=reps // 2 - warmup,
                                     warmup=warmup, before_a=lambda: checked(real), before_b=lambda: unchecked(real))
        unchecked(real)
        # a repeat signature (memo hit): the same input again and again
        n = lengths[0]
        repeat = measure_pair(lambda: replay_a(input_values=_wave(n), **_FLAGS_ALL),
                              lambda: replay_b(input_values=_wave(n), **_FLAGS_ALL),
                              reps=40 if quick else 300, inner=50 if quick else 200, warmup=3)
        # a floor under any repeat check that compares outputs: reading each output tensor's shape and dtype
        leaves = _tensors(_rebuild(cls.replay[n]))  # type: ignore[attr-defined]
        reads = measure_pair(lambda: [(t.shape, t.dtype) for t in leaves],
                             lambda: [t for t in leaves],  # noqa: C416 (the same loop, without the reads)
                             reps=40 if quick else 300, inner=50 if quick else 200, warmup=3)
    finally:
        cls.replay.clear()  # type: ignore[attr-defined]
    us = 1e6
    return [
        Figure("first check of a new call signature (tiny audio ForCTC, all outputs, new S each call)",
               "checked", "unchecked", 25.0, first, value=round(first.diff_median_s * us, 2), unit="µs",
               extra={"plan_check_inputs_outputs_alone_s": plan_alone,
                      "real_forward_checked_minus_unchecked_s": real_pair.diff_median_s,
                      "real_forward_ratio_median": real_pair.ratio_median,
                      "real_forward_unchecked_s": real_pair.b_median_s, "memo_entries_after": memo_size}),
        Figure("repeat check, memo hit (tiny audio ForCTC, all outputs, same S)", "checked", "unchecked", 2.0, repeat,
               value=round(repeat.diff_median_s * us, 3), unit="µs",
               extra={"output_tensors": len(leaves),
                      "shape_and_dtype_reads_of_all_output_tensors_s": reads.diff_median_s}),
    ]


def _memo_of(model: Any) -> Any:
    from data2vec_contracts.instrument._models import state_of

    return state_of(model).memo


def _plan_check_new_sizes(model: Any, lengths: list[int]) -> float:
    """Median seconds of ``plan.check_inputs`` + ``plan.check_outputs`` on each of ``lengths`` once (new sizes)."""
    import statistics

    cls = type(model)
    arguments: dict[str, Any] = {"input_values": _wave(lengths[0]), **_FLAGS_ALL}
    plan = plan_for(model, arguments)
    dtype = next(model.parameters()).dtype
    times = []
    for n in lengths:
        arguments["input_values"] = _wave(n)
        out = _rebuild(cls.replay[n])  # type: ignore[attr-defined]
        start = time.perf_counter()
        plan.check_outputs(plan.check_inputs(arguments, dtype), out)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# -- 10: more distinct shapes than the memo holds -----------------------------------------------------------
def cycle_shapes(quick: bool) -> list[Figure]:
    from data2vec_contracts.instrument._memo import CAPACITY
    from tests._models import tiny_model

    model = tiny_model("text")
    shapes = [(b, n) for b in range(1, 21) for n in range(3, 63)]  # 20 x 60 = 1200 > CAPACITY
    gen = torch.Generator().manual_seed(0)
    order = torch.randperm(len(shapes), generator=gen).tolist()
    cycle = [{"input_ids": torch.randint(2, 99, shapes[i], generator=gen)} for i in order]
    inner = 20
    cycles = 1 if quick else 3
    reps = cycles * len(cycle) // inner
    warmup = 2
    calls = [cycle[i % len(cycle)] for i in range((reps + warmup) * inner)]
    next_a, next_b = _cursor(calls), _cursor(calls)
    flags = {"output_hidden_states": True}
    with torch.no_grad():
        paired = measure_pair(lambda: model(**next_a(), **flags), lambda: model(**next_b(), **flags), reps=reps,
                              inner=inner, warmup=warmup, before_a=lambda: checked(model),
                              before_b=lambda: unchecked(model))
    unchecked(model)
    return [Figure(f"tiny text forward cycling through {len(cycle)} distinct (B, N) shapes (memo capacity "
                   f"{CAPACITY}), output_hidden_states=True", "checked", "unchecked", 1.03, paired,
                   extra={"distinct_shapes": len(cycle), "memo_capacity": CAPACITY, "cycles": cycles,
                          "memo_entries_after": len(_memo_of(model))})]


# -- 11: no strong reference kept ----------------------------------------------------------------------------
def _alive_after_delete(modality: str, head: str) -> tuple[int, int]:
    import weakref

    from tests._models import tiny_inputs, tiny_model

    model = checked(tiny_model(modality, head))
    with torch.no_grad():
        for batch in (1, 2, 3):
            model(**tiny_inputs(model, batch=batch), output_hidden_states=True)
    model_ref = weakref.ref(model)
    param_ref = weakref.ref(next(model.parameters()))
    del model
    gc.collect()
    return int(model_ref() is not None), int(param_ref() is not None)


def references(quick: bool) -> list[Figure]:
    cases = [("text", "Model"), ("audio", "ForCTC"), ("vision", "Model")]
    found = {f"{m} {h}": _alive_after_delete(m, h) for m, h in cases}
    alive = sum(sum(v) for v in found.values())
    return [Figure("no strong reference after delete (text/audio CTC/vision, 3 calls, del, gc): weakrefs to model "
                   "and 1st parameter alive",
                   "checked, deleted", "–", 0, value=alive, unit="alive refs", shown=(f"{alive} of {2 * len(cases)}",
                                                                                      "–"),
                   extra={"alive_model_param": {k: list(v) for k, v in found.items()}})]


# -- 12: compiled graphs --------------------------------------------------------------------------------------
def _compile_stats(fn: Callable[..., Any], calls: list[dict[str, Any]], **mode: bool) -> tuple[Any, ...]:
    """(graphs, graph breaks, recompiles) of compiling ``fn`` with aot_eager and calling it on each of ``calls``;
    a call that raises gives ``("error", index of the call, exception type)``."""
    from tests._pipelines import compile_counts, reset_compiler

    reset_compiler()
    compiled = torch.compile(fn, backend="aot_eager", **mode)
    try:
        with torch.no_grad():
            for index, kwargs in enumerate(calls):
                try:
                    compiled(**kwargs)
                except Exception as error:  # recorded in the table, not hidden
                    return ("error", index, type(error).__name__)
        return compile_counts()
    finally:
        torch._dynamo.reset()


def compiled_graphs(quick: bool) -> list[Figure]:
    from tests._models import tiny_model
    from tests._pipelines import LENGTHS, pipeline, waves

    rows = []
    gen = torch.Generator().manual_seed(0)
    wave_calls = [dict(zip(("wave", "mask"), waves(s, gen))) for s in LENGTHS]
    lengths = (5, 7, 11, 16, 23)
    ids = [torch.randint(2, 99, (2, n), generator=gen) for n in lengths]
    model_calls = {
        "input_ids + attention_mask": [{"input_ids": x, "attention_mask": torch.ones_like(x)} for x in ids],
        "output_hidden_states=True": [{"input_ids": x, "output_hidden_states": True} for x in ids],
    }
    for mode_name, mode in (("default", {}), ("dynamic=True", {"dynamic": True})):
        ours = _compile_stats(pipeline, wave_calls, **mode)
        with disabled():
            plain = _compile_stats(pipeline, wave_calls, **mode)
        rows.append(("pipeline of 3 @contract functions (frames/encode/pool), 6 lengths", "@contract",
                     "under disabled()", mode_name, ours, plain))
        for call_name, calls in model_calls.items():
            # a fresh model for each side (no state from an earlier trace, such as transformers' capture hooks),
            # the unchecked one first
            plain = _compile_stats(tiny_model("text"), calls, **mode)
            ours = _compile_stats(checked(tiny_model("text")), calls, **mode)
            rows.append((f"tiny text Model, {call_name}, 5 lengths", "checked", "unchecked", mode_name, ours, plain))
    figures = []
    for label, a, b, mode_name, ours, plain in rows:
        failed = "error" in (ours[0], plain[0])
        differing = float("inf") if failed else float(sum(abs(x - y) for x, y in zip(ours, plain)))
        figures.append(Figure(
            f"compiled graphs/breaks/recompiles, aot_eager {mode_name}: {label}", a, b, 0, value=differing,
            unit="differing", shown=("/".join(map(str, ours)), "/".join(map(str, plain))),
            extra={"graphs_breaks_recompiles": {a: list(ours), b: list(plain)}}))
    return figures


# -- 13: compiled steady state ----------------------------------------------------------------------------------
def _steady_in_order(checked_first: bool, reps: int, inner: int) -> dict[str, Any]:
    """Compile a checked and a plain tiny text model (and a second plain one, the A/A control) in one order, warm
    them up, then time checked against plain and control against plain, interleaved."""
    from torch._dynamo.utils import get_compilation_metrics

    from tests._models import tiny_inputs, tiny_model
    from tests._pipelines import reset_compiler

    ours_model = checked(tiny_model("text"))
    plain_model = tiny_model("text")  # same config, same seed: the same weights
    control_model = tiny_model("text")
    same = all(torch.equal(p, q) for p, q in zip(ours_model.parameters(), plain_model.parameters()))
    ids = tiny_inputs(plain_model, batch=2, seq_len=7)["input_ids"]
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    reset_compiler()
    ours, plain, control = (torch.compile(m, backend="aot_eager") for m in (ours_model, plain_model, control_model))
    order = (ours, plain, control) if checked_first else (plain, control, ours)
    try:
        with torch.no_grad():
            for _ in range(3):
                for compiled in order:  # the first call of each compiles it: in this order
                    compiled(**inputs)
            compiles_after_warmup = len(get_compilation_metrics())
            paired = measure_pair(lambda: ours(**inputs), lambda: plain(**inputs), reps=reps, inner=inner, warmup=3)
            control_pair = measure_pair(lambda: control(**inputs), lambda: plain(**inputs), reps=reps // 2,
                                        inner=inner, warmup=3)
            compiles = len(get_compilation_metrics()) - compiles_after_warmup
            torch.testing.assert_close(ours(**inputs).last_hidden_state, plain(**inputs).last_hidden_state)
    finally:
        reset_compiler()
    return {"paired": paired, "control": control_pair, "same_weights": same, "compilations_during_timing": compiles}


def compiled_steady(quick: bool) -> list[Figure]:
    """Checked against plain compiled models, once with the checked model compiled first and once last: the model
    compiled first runs slower whatever it is (measured: a plain model compiled first is the slower one too), so one
    order alone reports that, not the check. The row's ratio is the geometric mean of the two orders' medians."""
    reps, inner = (40, 5) if quick else (300, 10)
    orders = ("checked first", "plain first")
    runs = {order: _steady_in_order(order == "checked first", reps, inner) for order in orders}
    ratios = [run["paired"].ratio_median for run in runs.values()]
    controls = [run["control"].ratio_median for run in runs.values()]
    both = math.sqrt(ratios[0] * ratios[1])
    first = runs["checked first"]["paired"]
    return [Figure("compiled steady state (aot_eager, warmed up, both compile orders): tiny text Model, B=2, N=7",
                   "compiled checked", "compiled unchecked", 1.01, first, value=round(both, 4), unit="ratio",
                   shown=(f"{first.a_median_s * 1e6:.1f} µs", f"{first.b_median_s * 1e6:.1f} µs"),
                   extra={"ratio_median_by_order": dict(zip(runs, ratios)),
                          "control_unchecked_vs_unchecked_ratio_median_by_order": dict(zip(runs, controls)),
                          "same_weights": all(run["same_weights"] for run in runs.values()),
                          "compilations_during_timing": sum(run["compilations_during_timing"] for run in runs.values()),
                          "diff_s_per_call_by_order": {k: run["paired"].diff_median_s for k, run in runs.items()}})]


FIGURES: dict[str, Callable[[bool], list[Figure]]] = {
    "tiny": tiny_forwards,
    "base": base_forwards,
    "contract": contract_vs_jaxtyped,
    "disabled": disabled_vs_plain,
    "examples": examples_run,
    "startup": startup,
    "meta": meta_check,
    "checkcost": check_costs,
    "cycle": cycle_shapes,
    "refs": references,
    "graphs": compiled_graphs,
    "steady": compiled_steady,
}
