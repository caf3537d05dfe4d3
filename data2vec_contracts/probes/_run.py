"""One probe in progress: the contract, the given call, its result, and the bookkeeping of every variant call.

A variant call ends in one of three ways: it returns (its outputs are compared), it is a finding (a violation of the
property), or it is skipped with the reason (:class:`~._result.SkippedVariant`): a Data2Vec model's own contract
rejects the variant, or the call raises a plain exception because the variant made the inputs disagree. Which plain
exceptions are findings is decided per variant (``plain=``): see :meth:`ProbeRun.call_variant`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Final, Literal, NoReturn

import torch

from ..checker import (
    FunctionContract,
    FunctionPlan,
    Problem,
    Scope,
    ShapeContractError,
    Spec,
    TensorSpec,
    Violation,
    render,
)
from ..contracts import CLASS_NAMES
from ..instrument import CheckEvent, CheckKind
from ._result import ERRORS, PROPERTIES, SkippedVariant
from ._variants import Inputs, Leaf, OutLeaf, data2vec_configs, deviation, modules_in, output_leaves

__all__ = [
    "DEFAULT_ATOL",
    "DEFAULT_RTOL",
    "HINTS",
    "SKIPPED",
    "PlainPolicy",
    "ProbeRun",
    "Tolerance",
    "by_field",
    "probing",
    "probing_block",
    "summary",
    "tolerances",
]

DEFAULT_ATOL = 1e-5
DEFAULT_RTOL = 1e-5
Tolerance = float | Mapping[str, float] | None

_probing: ContextVar[bool] = ContextVar("data2vec_contracts_probing", default=False)

HINTS = {
    "batch": (
        "something mixes the examples of the batch: a reduction over axis 0, an nn.LSTM / nn.GRU / "
        "nn.MultiheadAttention built without batch_first=True applied to (B, N, D) tensors, or a BatchNorm left "
        "in train mode (call .eval() for inference). If the coupling is intended (an in-batch contrastive loss, "
        "batch statistics), declare it: @contract(batch_coupled=True), probe(..., batch_coupled=True) or "
        "@pytest.mark.shape_contracts(batch_coupled=True)."
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
    "trim": (
        "an example gives another result once its own padding is removed: a length or position counted on the "
        "padded axis (samples // stride instead of the frames of each row's length, an index into the padded "
        "extent); derive lengths from the mask (data2vec_contracts.frame_mask(config, attention_mask) for audio "
        "frames, masked_mean_pool for means)."
    ),
    "locality": (
        "the pixels of one patch do not reach their own cell: patchify as (B, C, h, p, w, p), permute to "
        "(B, h, w, C, p, p) before flattening (or use model.embeddings.patch_embeddings), and keep the grid "
        "row-major."
    ),
    "mask": (
        "pass the mask on: model(input_ids, attention_mask=attention_mask) for text, "
        "model(input_values, attention_mask=attention_mask) for audio; without it the model attends to the padded "
        "positions and every kept position changes with the padding."
    ),
}

#: What a plain exception (not a contract failure) raised by a variant call means:
#: ``"finding"`` a violation, unless a Data2Vec call shows that the variant made the inputs disagree;
#: ``"consistent"`` the same, and also skipped while an input has a named axis the variant neither changes nor
#: binds by ``dims=`` (it may be sized by a changed one); ``"raise"`` re-raised for the property to decide.
PlainPolicy = Literal["finding", "consistent", "raise"]


class _Skipped:
    def __repr__(self) -> str:
        return "SKIPPED"


#: Returned by :meth:`ProbeRun.call_variant` for a variant that was skipped (recorded with its reason).
SKIPPED: Final = _Skipped()


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


#: A property without a tolerance of its own takes that of its kin when the caller names only the kin's:
#: trim invariance is the converse of padding invariance and measures the same leaks.
KIN = {"trim": "padding"}


def tolerances(atol: Tolerance, rtol: Tolerance) -> tuple[dict[str, tuple[float, float]], set[str]]:
    """Per property ``(atol, rtol)``, and the properties whose tolerance the caller set by name (or through
    :data:`KIN`)."""
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
            explicit.update(k for k, kin in KIN.items() if kin in value)
            return {k: float(value.get(k, value.get(KIN.get(k, k), default))) for k in PROPERTIES}
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{what} must be a non-negative float or a dict of them by property, got {value!r}")
        return dict.fromkeys(PROPERTIES, float(value))

    a = per(atol, DEFAULT_ATOL, "atol")
    r = per(rtol, DEFAULT_RTOL, "rtol")
    return {k: (a[k], r[k]) for k in PROPERTIES}, explicit


def _fmt(x: float) -> str:
    return f"{x:.2g}"


def data2vec_rejection(exc: BaseException) -> str | None:
    """The class name when ``exc`` is a Data2Vec model's own contract rejecting its inputs, else ``None``."""
    violation = getattr(exc, "violation", None)
    if not isinstance(exc, ShapeContractError) or violation is None:
        return None
    owner = str(violation.function).split(".")[0]
    return owner if owner in CLASS_NAMES else None


class ProbeRun:
    """One probe: the plan, the given call, its result, and the bookkeeping of every variant call."""

    def __init__(
        self,
        declared: FunctionContract,
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
        tolerances: dict[str, tuple[float, float]],
        explicit: set[str],
        *,
        coupled: str | None = None,
        padding_side: str | None = None,
    ) -> None:
        self.declared = declared
        self.plan: FunctionPlan = declared.plan
        self.fn: Callable[..., Any] = declared.fn
        specs: dict[str, Spec] = {p.name: p.spec for p in self.plan.params}
        self.inputs = Inputs.bind(self.plan.signature, args, kwargs, specs)
        self.tolerances = tolerances
        self.explicit = explicit
        #: why batch coupling is declared (shown in the skip reason), ``None`` when it is not
        self.coupled = coupled
        #: the padding side the caller declared ("right", "left", "both"), ``None`` to infer it from the masks
        self.padding_side = padding_side
        self.modules = modules_in(self.inputs.arguments)
        self.configs = data2vec_configs(self.modules)
        self.calls: dict[str, int] = {}
        self.deviations: dict[str, float] = {}
        self.notes: list[str] = []
        self.skipped_variants: list[SkippedVariant] = []
        self.padding_sides: dict[str, tuple[str, ...]] = {}
        self.single_example_called = False
        #: the caller's batch norms that run in train mode (``head.1 (BatchNorm1d)``)
        self.train_batch_norms: list[str] = []
        self.base_scope: Scope | None = None
        self.base_out: Any = None
        self.base_leaves: list[OutLeaf] = []
        #: the checks of Data2Vec models and @contract functions heard during the latest call, and the given call
        self.events: list[CheckEvent] = []
        self.base_events: list[CheckEvent] = []
        #: whether every Data2Vec class was checked during the probe (``enforce()``)
        self.enforcing = False
        self._thread = threading.get_ident()

    # -- hearing the checks of the calls ------------------------------------------------------------
    def hear(self, event: CheckEvent) -> None:
        """The observer of the probe's own calls (other threads' checks are not ours)."""
        if threading.get_ident() == self._thread:
            self.events.append(event)

    def model_events(self, events: list[CheckEvent] | None = None) -> list[CheckEvent]:
        """The checked calls of Data2Vec models among ``events`` (default: the given call's)."""
        chosen = self.base_events if events is None else events
        return [e for e in chosen if e.kind is CheckKind.MODEL and e.contract in CLASS_NAMES]

    # -- calling -----------------------------------------------------------------------------
    def call(self, inputs: Inputs, prop: str | None) -> Any:
        """Call the function on ``inputs`` (fresh copies), checking its contract; count the call."""
        __tracebackhide__ = True
        if prop is not None:
            self.calls[prop] = self.calls.get(prop, 0) + 1
        self.events = []
        args, kwargs = inputs.call_args()
        scope = self.plan.check_args(args, kwargs)
        torch.manual_seed(0)
        out = self.fn(*args, **kwargs)
        self.plan.check_return(scope, out)
        return out

    def call_variant(
        self,
        inputs: Inputs,
        prop: str,
        variant: str,
        fails_as: str | None = None,
        *,
        plain: PlainPolicy = "finding",
        changed: frozenset[str] = frozenset(),
    ) -> Any:
        """Like :meth:`call`; what the call raises is sorted out:

        * a Data2Vec model's own contract rejects the variant: skipped (returns :data:`SKIPPED`);
        * another contract fails (the function's own, or a helper's): a violation of ``fails_as`` (or ``prop``);
        * a plain exception: by ``plain`` (see :data:`PlainPolicy`); ``changed`` names the dimensions the variant
          changes, for ``"consistent"``.
        """
        __tracebackhide__ = True
        try:
            return self.call(inputs, prop)
        except Exception as exc:
            rejected_by = data2vec_rejection(exc)
            if rejected_by is not None:
                self.skip(prop, variant, f"{rejected_by} rejects it: {summary(exc)}", rejected_by)
                return SKIPPED
            violation = getattr(exc, "violation", None)
            if violation is None:
                if plain == "raise":
                    raise
                disagree = self.disagreement(inputs)
                if disagree is None and plain == "consistent":
                    disagree = self.untied(inputs, changed)
                if disagree is not None:
                    self.skip(prop, variant, f"{summary(exc)}; {disagree}")
                    return SKIPPED
            field = violation.field if violation is not None else "the call"
            label = violation.contract if violation is not None else None
            self.fail(fails_as or prop, field, label, f"{variant}: {summary(exc)}", exc)

    def skip(self, prop: str, variant: str, reason: str, rejected_by: str | None = None) -> None:
        self.skipped_variants.append(SkippedVariant(prop, variant, reason, rejected_by))

    def skipped_all(self, prop: str) -> str:
        """The skip reason of a property that compared nothing: its variants were skipped, or their outputs could
        not be compared."""
        count = sum(1 for s in self.skipped_variants if s.property == prop)
        if count:
            return f"every variant was skipped or not comparable ({count} skipped, see skipped_variants and notes)"
        return "no output could be compared under its variants (see notes)"

    def disagreement(self, inputs: Inputs) -> str | None:
        """Why the latest call's inputs disagree, from the Data2Vec calls it made: an input axis that the variant
        left at the size a model dimension had in the given call, while the variant changed that dimension (frame
        labels over T kept while the samples S grew). ``None`` when no call shows it."""
        changed: dict[int, tuple[str, str, Any]] = {}
        base = self.model_events()
        for event in self.model_events(self.events):
            before = next((b for b in base if b.contract == event.contract), None)
            if before is None:
                continue
            for dim, value in before.dims.items():
                new = event.dims.get(dim)
                if dim != "B" and isinstance(value, int) and isinstance(new, int) and new != value:
                    changed.setdefault(value, (event.contract, dim, new))
        if not changed:
            return None
        given = {leaf.path: leaf for leaf in self.inputs.leaves()}
        for leaf in inputs.leaves():
            old = given.get(leaf.path)
            for dim, axis in leaf.axes.items():
                size = int(leaf.tensor.shape[axis])
                if dim == "B" or old is None or int(old.tensor.shape[axis]) != size or size not in changed:
                    continue
                contract, model_dim, new = changed[size]
                return (
                    f"the inputs disagree: {leaf.path} keeps {dim}={size}, the {model_dim} of {contract} in the given "
                    f"call, which this variant makes {new}"
                )
        return None

    def untied(self, inputs: Inputs, changed: frozenset[str]) -> str | None:
        """An input axis the variant neither changes nor binds by ``dims=``: it may be sized by a changed one."""
        shown = ", ".join(sorted(changed - {"B"})) or "B"
        for leaf in inputs.leaves():
            for dim in leaf.axes:
                if dim != "B" and dim not in changed and dim not in self.plan.dims:
                    return (
                        f"the inputs may disagree: {leaf.path} has {dim}, which the variant keeps, and nothing "
                        f"says {dim} does not depend on {shown}"
                    )
        return None

    def outputs(self, out: Any) -> list[OutLeaf]:
        return output_leaves(out, self.plan.returns)

    # -- comparing and failing -----------------------------------------------------------------
    def compare(
        self, prop: str, leaf: OutLeaf, actual: torch.Tensor, expected: torch.Tensor, said: str, after: str = ""
    ) -> None:
        """Fail with ``said + ' by X > tol' + after`` unless ``actual`` matches ``expected`` within the tolerance."""
        __tracebackhide__ = True
        atol, rtol = self.tolerances[prop]
        dev, tol, ok = deviation(actual, expected, atol, rtol)
        self.deviations[prop] = max(self.deviations.get(prop, 0.0), dev)
        if not ok:
            self.fail(prop, leaf.field, leaf.spec, f"{said} by {_fmt(dev)} > {_fmt(tol)}{after}")

    def shifted_positions(
        self, leaf: OutLeaf, actual: torch.Tensor, expected: torch.Tensor, shift: int, axis: str
    ) -> bool:
        """Whether an integer output is positions along ``axis`` that moved by exactly ``shift`` (the positions added
        on the left, or trimmed from it): a span index into the given input is right to move with it (noted)."""
        if actual.is_floating_point() or actual.is_complex() or actual.dtype == torch.bool:
            return False
        if shift == 0 or not torch.equal(actual, expected + shift):
            return False
        self.note(
            f"{leaf.field} holds positions along {axis}: they move with the positions added or removed on the left"
        )
        return True

    def within(self, prop: str, actual: torch.Tensor, expected: torch.Tensor) -> bool:
        """Whether ``actual`` matches ``expected`` within the tolerance of ``prop`` (the deviation is recorded)."""
        atol, rtol = self.tolerances[prop]
        dev, _tol, ok = deviation(actual, expected, atol, rtol)
        self.deviations[prop] = max(self.deviations.get(prop, 0.0), dev)
        return ok

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


def summary(exc: BaseException) -> str:
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


def leaves_by_path(inputs: Inputs) -> dict[str, Leaf]:
    return {leaf.path: leaf for leaf in inputs.leaves()}
