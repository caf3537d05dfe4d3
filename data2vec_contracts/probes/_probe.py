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
from typing import Any

import torch

from ..checker import ContractDefinitionError, FunctionContract
from ..contracts import hint_for
from ..instrument import contract_of, unpinned
from ._batch import check_batch
from ._grid import check_grid
from ._padding import check_padding
from ._result import PROPERTIES, ProbeResult
from ._run import ProbeRun, Tolerance, probing_block, tolerances
from ._sizes import check_sizes
from ._variants import preserved_state

__all__ = ["probe", "probe_plan"]


CHECKS: dict[str, Callable[[ProbeRun], str | None]] = {
    "batch": check_batch,
    "padding": check_padding,
    "sizes": check_sizes,
    "grid": check_grid,
}


def _contract_for(fn: Callable[..., Any]) -> FunctionContract:
    declared = contract_of(fn)
    if declared is not None:
        return declared
    if not callable(fn):
        raise TypeError(f"probe() takes a function, got {type(fn).__name__}")
    declared = FunctionContract(fn, hints=hint_for)
    if not declared.plan.params:
        raise ContractDefinitionError(
            f"probe() needs a @contract or jaxtyping-annotated function; {declared.name} has no "
            "jaxtyping annotation on its arguments"
        )
    return declared


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
    declared = _contract_for(fn)
    if inspect.ismethod(fn) and declared.fn is not fn:
        args = (fn.__self__, *args)  # a @contract method: the contract's function takes self first
    return probe_plan(declared, args, kwargs, atol=atol, rtol=rtol, properties=properties)


def probe_plan(
    declared: FunctionContract,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    *,
    atol: Tolerance = None,
    rtol: Tolerance = None,
    properties: Iterable[str] | None = None,
) -> ProbeResult:
    """:func:`probe` for a declared contract (what ``auto_probe`` calls)."""
    __tracebackhide__ = True

    wanted = list(PROPERTIES) if properties is None else list(dict.fromkeys(properties))
    unknown = [p for p in wanted if p not in PROPERTIES]
    if unknown:
        raise ValueError(f"properties must be among {', '.join(PROPERTIES)}; got {', '.join(map(repr, unknown))}")
    per_property, explicit = tolerances(atol, rtol)
    run = ProbeRun(declared, args, kwargs, per_property, explicit)
    plan = run.plan
    checked: list[str] = []
    skipped: dict[str, str] = {}
    with probing_block(), unpinned(), preserved_state(run.modules):
        args0, kwargs0 = run.inputs.call_args()
        run.base_scope = scope = plan.check_args(args0, kwargs0)
        torch.manual_seed(0)
        run.base_out = declared.fn(*args0, **kwargs0)
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

