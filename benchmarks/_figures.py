"""The figures of the benchmark table. Each returns one or more :class:`Figure` rows."""

from __future__ import annotations

import gc
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
    """One row: ``a / b`` against ``target`` (a ratio that must not be exceeded)."""

    name: str
    a: str
    b: str
    target: float
    paired: Paired | None = None
    skipped: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        if self.paired is None:
            return "skip"
        return "pass" if self.paired.ratio_median <= self.target else "miss"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "a": self.a, "b": self.b, "target": self.target, "status": self.status,
            "skipped": self.skipped, "paired": None if self.paired is None else self.paired.as_dict(),
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
def _pytest(args: list[str], cwd: Path, outcomes: dict[str, set[str]] | None = None) -> Callable[[], None]:
    """A pytest run in a subprocess; its last summary line goes into ``outcomes`` (a failing suite is
    still timed, and the table says so)."""
    command = [sys.executable, "-m", "pytest", *args]

    def run() -> None:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
        if done.returncode not in (0, 1, 5):  # 1: tests failed, 5: nothing collected
            tail = (done.stdout + done.stderr)[-3000:]
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{tail}")
        if outcomes is not None:
            lines = [line for line in done.stdout.splitlines() if " in " in line and line.strip()]
            outcomes.setdefault(" ".join(args), set()).add(lines[-1].strip("= ") if lines else f"rc={done.returncode}")

    return run


def _has_option(option: str) -> bool:
    done = subprocess.run([sys.executable, "-m", "pytest", "--help"], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    return option in done.stdout


def examples_run(quick: bool) -> list[Figure]:
    figure = Figure("pytest run of examples/", "--shape-contracts", "without", 1.15)
    if not (ROOT / "examples").is_dir():
        figure.skipped = "examples/ does not exist yet"
    elif not _has_option("--shape-contracts"):
        figure.skipped = "the plugin has no --shape-contracts option yet"
    elif quick:
        figure.skipped = "not in --quick (one run of examples/ takes about a minute)"
    if figure.skipped:
        return [figure]
    base = ["examples", "-q", "-p", "no:cacheprovider"]
    outcomes: dict[str, set[str]] = {}
    figure.paired = measure_pair(_pytest([*base, "--shape-contracts"], ROOT, outcomes), _pytest(base, ROOT, outcomes),
                                 reps=3, warmup=0)
    figure.extra["outcomes"] = {k: sorted(v) for k, v in outcomes.items()}
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


FIGURES: dict[str, Callable[[bool], list[Figure]]] = {
    "tiny": tiny_forwards,
    "base": base_forwards,
    "contract": contract_vs_jaxtyped,
    "disabled": disabled_vs_plain,
    "examples": examples_run,
    "startup": startup,
    "meta": meta_check,
}
