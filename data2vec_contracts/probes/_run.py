"""One probe in progress: the contract, the given call, its result, and the bookkeeping of every variant call."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NoReturn

import torch

from ..checker import FunctionContract, FunctionPlan, Problem, Scope, Spec, TensorSpec, Violation, render
from ._result import ERRORS, PROPERTIES
from ._variants import Inputs, OutLeaf, data2vec_configs, deviation, modules_in, output_leaves

__all__ = [
    "DEFAULT_ATOL",
    "DEFAULT_RTOL",
    "HINTS",
    "ProbeRun",
    "Tolerance",
    "by_field",
    "probing",
    "probing_block",
    "tolerances",
]

DEFAULT_ATOL = 1e-5
DEFAULT_RTOL = 1e-5
Tolerance = float | Mapping[str, float] | None

_probing: ContextVar[bool] = ContextVar("data2vec_contracts_probing", default=False)

HINTS = {
    "batch": (
        "something mixes the examples of the batch: a reduction over axis 0, or an nn.LSTM / nn.GRU / "
        "nn.MultiheadAttention built without batch_first=True applied to (B, N, D) tensors."
    ),
    "padding": (
        "padded positions reach the result: pool with the mask (data2vec_contracts.masked_mean_pool), and "
        "under left padding read the first kept token, not index 0."
    ),
    "sizes": (
        "a transposition or reshape that only fits while two sizes are equal (B == N, square images); "
        "write the axes out from the contract's names."
    ),
    "grid": (
        "drop the CLS token with x[:, 1:] (not x[:, :-1]), reshape row-major to (B, h, w, D) and permute "
        "afterwards if channels-first is wanted (data2vec_contracts.tokens_to_grid)."
    ),
}


def probing() -> bool:
    """True while a probe is calling a function (auto-probing stays out of the way then)."""
    return _probing.get()


@contextmanager
def probing_block() -> Iterator[None]:
    """Marks the block as a probe's own calls (see :func:`probing`)."""
    token = _probing.set(True)
    try:
        yield
    finally:
        _probing.reset(token)


def tolerances(atol: Tolerance, rtol: Tolerance) -> tuple[dict[str, tuple[float, float]], set[str]]:
    """Per property ``(atol, rtol)``, and the properties whose tolerance the caller set by name."""
    explicit: set[str] = set()

    def per(value: Tolerance, default: float, what: str) -> dict[str, float]:
        if value is None:
            return dict.fromkeys(PROPERTIES, default)
        if isinstance(value, Mapping):
            unknown = sorted(set(value) - set(PROPERTIES))
            if unknown:
                got = ", ".join(map(repr, unknown))
                raise ValueError(f"{what} keys must be among {', '.join(PROPERTIES)}; got {got}")
            explicit.update(value)
            return {k: float(value.get(k, default)) for k in PROPERTIES}
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{what} must be a non-negative float or a dict of them by property, got {value!r}")
        return dict.fromkeys(PROPERTIES, float(value))

    a = per(atol, DEFAULT_ATOL, "atol")
    r = per(rtol, DEFAULT_RTOL, "rtol")
    return {k: (a[k], r[k]) for k in PROPERTIES}, explicit


def _fmt(x: float) -> str:
    return f"{x:.2g}"


class ProbeRun:
    """One probe: the plan, the given call, its result, and the bookkeeping of every variant call."""

    def __init__(
        self,
        declared: FunctionContract,
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
        tolerances: dict[str, tuple[float, float]],
        explicit: set[str],
    ) -> None:
        self.declared = declared
        self.plan: FunctionPlan = declared.plan
        self.fn: Callable[..., Any] = declared.fn
        specs: dict[str, Spec] = {p.name: p.spec for p in self.plan.params}
        self.inputs = Inputs.bind(self.plan.signature, args, kwargs, specs)
        self.tolerances = tolerances
        self.explicit = explicit
        self.modules = modules_in(self.inputs.arguments)
        self.configs = data2vec_configs(self.modules)
        self.calls: dict[str, int] = {}
        self.deviations: dict[str, float] = {}
        self.notes: list[str] = []
        self.single_example_called = False
        self.base_scope: Scope | None = None
        self.base_out: Any = None
        self.base_leaves: list[OutLeaf] = []

    # -- calling -----------------------------------------------------------------------------
    def call(self, inputs: Inputs, prop: str | None) -> Any:
        """Call the function on ``inputs`` (fresh copies), checking its contract; count the call."""
        __tracebackhide__ = True
        if prop is not None:
            self.calls[prop] = self.calls.get(prop, 0) + 1
        args, kwargs = inputs.call_args()
        scope = self.plan.check_args(args, kwargs)
        torch.manual_seed(0)
        out = self.fn(*args, **kwargs)
        self.plan.check_return(scope, out)
        return out

    def call_variant(self, inputs: Inputs, prop: str, variant: str, fails_as: str | None = None) -> Any:
        """Like :meth:`call`, but anything the call raises becomes a violation of ``fails_as`` (or ``prop``)."""
        __tracebackhide__ = True
        try:
            return self.call(inputs, prop)
        except Exception as exc:
            violation = getattr(exc, "violation", None)
            field = violation.field if violation is not None else "the call"
            label = violation.contract if violation is not None else None
            self.fail(fails_as or prop, field, label, f"{variant}: {_summary(exc)}", exc)

    def outputs(self, out: Any) -> list[OutLeaf]:
        return output_leaves(out, self.plan.returns)

    # -- comparing and failing -----------------------------------------------------------------
    def compare(self, prop: str, leaf: OutLeaf, actual: torch.Tensor, expected: torch.Tensor, said: str) -> None:
        """Fail with ``said + ' by X > tol'`` unless ``actual`` matches ``expected`` within the tolerance."""
        __tracebackhide__ = True
        atol, rtol = self.tolerances[prop]
        dev, tol, ok = deviation(actual, expected, atol, rtol)
        self.deviations[prop] = max(self.deviations.get(prop, 0.0), dev)
        if not ok:
            self.fail(prop, leaf.field, leaf.spec, f"{said} by {_fmt(dev)} > {_fmt(tol)}")

    def fail(
        self, prop: str, field: str, spec: TensorSpec | str | None, said: str, cause: BaseException | None = None
    ) -> NoReturn:
        __tracebackhide__ = True
        scope = self.base_scope
        violation = Violation(
            function=self.plan.name,
            field=field,
            problem=Problem.PROPERTY,
            expected=PROPERTIES[prop],
            actual=said,
            contract=spec.label if isinstance(spec, TensorSpec) else spec,
            declared=self.plan.declared,
            bindings=scope.bindings() if scope is not None else {},
            hint=HINTS[prop],
        )
        raise ERRORS[prop](render(violation), violation) from cause

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


def _summary(exc: BaseException) -> str:
    """One line about an exception raised inside a variant (the full error is chained as the cause)."""
    violation = getattr(exc, "violation", None)
    if violation is not None:
        what = f"dimension {violation.dimension}" if violation.problem is Problem.DIMENSION else violation.problem.value
        v = violation
        return f"the contract fails ({what} of {v.field}: expected {v.expected}, actual {v.actual})"
    text = str(exc).strip().splitlines()
    return f"the call raises {type(exc).__name__}" + (f": {text[0]}" if text else "")


def by_field(leaves: list[OutLeaf]) -> dict[str, OutLeaf]:
    return {leaf.field: leaf for leaf in leaves}
