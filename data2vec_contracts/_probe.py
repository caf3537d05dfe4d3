"""``probe``: call a contracted function on variants of its inputs that its contract says must not matter.

Cost, in calls of the function (the ``calls`` of the :class:`ProbeResult`):

* 1 on the given inputs;
* batch independence: ``min(B, 8) + 1`` for ``B >= 2`` (each example alone, then the batch in
  another order); 2 for ``B == 1`` (the example with a second one built from it, first and second);
* padding invariance: 3 per mask argument (masked-out positions added on the right, on the left,
  then on the right with other values); 2 when the model only supports right padding (Data2Vec audio);
* distinct sizes: 0 to 2 (a call where no two named sizes are equal, unless the given call already
  is one; a call with ``B = 1`` unless another property made one);
* grid consistency: ``1 + 2*ceil(log2(N + 1))`` per token argument (marker tokens, then each bit
  of every token's index perturbed, and its complement).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from typing import Any, NoReturn

import torch

from . import _switch
from ._checking import Scope
from ._decorator import ContractFunction, contract_of
from ._errors import ContractDefinitionError
from ._messages import Violation, render
from ._probe_result import ERRORS, PROPERTIES, ProbeResult
from ._probe_variants import Inputs, OutLeaf, data2vec_configs, deviation, modules_in, output_leaves, preserved_state
from ._spec import Spec, TensorSpec

__all__ = ["DEFAULT_ATOL", "DEFAULT_RTOL", "ProbeRun", "probe", "probe_plan", "probing"]

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


def _tolerances(atol: Tolerance, rtol: Tolerance) -> tuple[dict[str, tuple[float, float]], set[str]]:
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
        plan: ContractFunction,
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
        tolerances: dict[str, tuple[float, float]],
        explicit: set[str],
    ) -> None:
        if plan._params is None:
            plan._prepare()
        self.plan = plan
        self.fn: Callable[..., Any] = plan.fn
        specs: dict[str, Spec] = {name: spec for name, _pos, spec in plan._params or ()}
        self.inputs = Inputs.bind(plan.signature, args, kwargs, specs)
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
        return output_leaves(out, self.plan._return)

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
            problem="property",
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
        what = f"dimension {violation.dimension}" if violation.problem == "dimension" else violation.problem
        v = violation
        return f"the contract fails ({what} of {v.field}: expected {v.expected}, actual {v.actual})"
    text = str(exc).strip().splitlines()
    return f"the call raises {type(exc).__name__}" + (f": {text[0]}" if text else "")


def _plan_for(fn: Callable[..., Any]) -> ContractFunction:
    plan = contract_of(fn)
    if plan is not None:
        return plan
    if not callable(fn):
        raise TypeError(f"probe() takes a function, got {type(fn).__name__}")
    plan = ContractFunction(fn, None, None, None)
    if plan._params is None:
        plan._prepare()
    if not plan._params:
        raise ContractDefinitionError(
            f"probe() needs a @contract or jaxtyping-annotated function; {plan.name} has no "
            "jaxtyping annotation on its arguments"
        )
    return plan


def probe(
    fn: Callable[..., Any],
    /,
    *args: Any,
    atol: Tolerance = None,
    rtol: Tolerance = None,
    properties: Iterable[str] | None = None,
    **kwargs: Any,
) -> ProbeResult:
    """Call ``fn`` on the given inputs and on variants its contract says must not change the result.

    ``fn`` is a ``@contract`` function (or method) or a plain jaxtyping-annotated one; the batch axis
    is the dimension named ``B``. The properties (keys for ``properties``, ``atol`` and ``rtol``):

    * ``"batch"``: each example gives the same output alone (B=1), in another order, and among
      other examples;
    * ``"padding"``: for each mask argument over an axis (``attention_mask`` / ``*_mask`` with a
      ``(B, X)`` annotation, or ``@contract(masks={"attention_mask": "N"})``), masked-out positions
      added on the right, on the left, or holding other values change no output at kept positions
      (outputs over the axis are compared at the kept positions, others entirely);
    * ``"sizes"``: with sizes where no two named dimensions are equal, and with B=1, the function
      still meets its contract and runs (dimensions bound by ``dims=``, such as D, are kept);
    * ``"grid"``: where ``where=`` maps tokens to a grid (``N = 1 + h*w``) and an output has axes
      ``h`` and ``w``, each grid cell comes from the token of its patch, row-major.

    ``atol`` / ``rtol`` are floats or dicts by property (``atol={"padding": 1e-4}``), defaults 1e-5
    and 1e-5. A property that does not apply is skipped with the reason in ``ProbeResult.skipped``.
    Raises the :class:`ProbeViolation` subclass of the property that broke. The caller's tensors are
    never written to; modules among the arguments run in eval mode (dropout would fail every
    comparison) and get their modes back, and the RNG states (torch, random, numpy) are restored.
    The module docstring states the number of calls each property costs.

    Data2Vec audio with ``num_conv_pos_embeddings > 1`` leaks padding into kept frames (reference
    §6.3), so padding invariance is skipped for it unless ``atol`` names ``"padding"`` explicitly;
    its masks are only ever padded on the right.

    Cost in calls of ``fn`` (``ProbeResult.calls``): 1 on the given inputs, plus batch
    ``min(B, 8) + 1`` (``2`` when ``B == 1``), padding 3 per mask (2 for audio), sizes 0 to 2, grid
    ``1 + 2*ceil(log2(N + 1))`` per token argument.
    """
    __tracebackhide__ = True
    plan = _plan_for(fn)
    if inspect.ismethod(fn) and plan.fn is not fn:
        args = (fn.__self__, *args)  # a @contract method: the plan's function takes self first
    return probe_plan(plan, args, kwargs, atol=atol, rtol=rtol, properties=properties)


def probe_plan(
    plan: ContractFunction,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    *,
    atol: Tolerance = None,
    rtol: Tolerance = None,
    properties: Iterable[str] | None = None,
) -> ProbeResult:
    """:func:`probe` for a contract plan (what ``auto_probe`` calls)."""
    __tracebackhide__ = True
    from ._probe_checks import CHECKS

    wanted = list(PROPERTIES) if properties is None else list(dict.fromkeys(properties))
    unknown = [p for p in wanted if p not in PROPERTIES]
    if unknown:
        raise ValueError(f"properties must be among {', '.join(PROPERTIES)}; got {', '.join(map(repr, unknown))}")
    tolerances, explicit = _tolerances(atol, rtol)
    run = ProbeRun(plan, args, kwargs, tolerances, explicit)
    checked: list[str] = []
    skipped: dict[str, str] = {}
    token = _probing.set(True)
    pins = _switch._pinned.set(None)
    try:
        with preserved_state(run.modules):
            args0, kwargs0 = run.inputs.call_args()
            run.base_scope = scope = plan.check_args(args0, kwargs0)
            torch.manual_seed(0)
            run.base_out = plan.fn(*args0, **kwargs0)
            plan.check_return(scope, run.base_out)
            run.base_leaves = run.outputs(run.base_out)
            for key in ("batch", "padding", "grid", "sizes"):
                if key not in wanted:
                    skipped[key] = "not requested (properties=...)"
                    continue
                reason = CHECKS[key](run)
                if reason is None:
                    checked.append(key)
                else:
                    skipped[key] = reason
    finally:
        _switch._pinned.reset(pins)
        _probing.reset(token)
    order = list(PROPERTIES)
    return ProbeResult(
        function=plan.name,
        checked=tuple(sorted(checked, key=order.index)),
        skipped={k: skipped[k] for k in order if k in skipped},
        calls=1 + sum(run.calls.values()),
        calls_by_property={k: run.calls.get(k, 0) for k in order if k in checked or run.calls.get(k)},
        max_deviation={k: v for k, v in run.deviations.items() if k in checked},
        notes=tuple(run.notes),
    )

