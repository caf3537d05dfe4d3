"""``probe``: call a contracted function on variants of its inputs that its contract says must not matter.

Cost, in calls of the function (the ``calls`` of the :class:`ProbeResult`):

* 1 on the given inputs (mask forwarding reads its checks: 0 extra);
* batch independence: ``min(B, 8) + 1`` for ``B >= 2`` (each example alone, then the batch in
  another order; one more for each example that raises alone, beside a copy of itself); 2 for
  ``B == 1`` (the example with a second one built from it, first and second); 0 when batch-coupled;
* padding invariance, per mask not nested in another: 1 per side padded (the side the given rows
  show, or the declared ``padding_side``; right only for Data2Vec audio), plus 1 with other values
  when some input over the axis has no known value at masked-out positions;
* trim invariance: 1 per padded example, at most 4;
* distinct sizes: 0 to 2 (a call where no two named sizes are equal, unless the given call already
  is one; a call with ``B = 1`` unless another property made one or the function is batch-coupled);
* grid consistency: ``1 + 2*ceil(log2(N + 1))`` per token argument (marker tokens, then each bit
  of every token's index perturbed, and its complement);
* patch locality: ``2*ceil(log2(h*w + 1))`` per pixel argument (each bit of every patch's index
  perturbed, and its complement).
"""


from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from contextlib import ExitStack
from typing import Any

import torch

from ..checker import ContractDefinitionError, FunctionContract, ShapeContractError
from ..contracts import DATA2VEC_HINTS
from ..instrument import add_observer, contract_of, enforce, remove_observer, unpinned
from ._batch import check_batch
from ._forwarding import check_mask
from ._grid import check_grid
from ._locality import check_locality
from ._masks import SIDES
from ._padding import check_padding
from ._result import PROPERTIES, ProbeResult
from ._run import ProbeRun, Tolerance, data2vec_rejection, probing_block, summary, tolerances
from ._sizes import check_sizes
from ._trim import check_trim
from ._variants import preserved_state

__all__ = ["probe", "probe_plan"]


CHECKS: dict[str, Callable[[ProbeRun], str | None]] = {
    "batch": check_batch,
    "padding": check_padding,
    "sizes": check_sizes,
    "grid": check_grid,
    "trim": check_trim,
    "locality": check_locality,
    "mask": check_mask,
}
#: The order the properties run in: the free and most specific first, distinct sizes last (it reuses B=1 calls).
ORDER = ("mask", "batch", "padding", "trim", "grid", "locality", "sizes")


def _contract_for(fn: Callable[..., Any]) -> FunctionContract:
    declared = contract_of(fn)
    if declared is not None:
        return declared
    if not callable(fn):
        raise TypeError(f"probe() takes a function, got {type(fn).__name__}")
    declared = FunctionContract(fn, hints=DATA2VEC_HINTS)
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
    batch_coupled: bool | None = None,
    padding_side: str | None = None,
    **kwargs: Any,
) -> ProbeResult:
    """Call ``fn`` on the given inputs and on variants its contract says must not change the result.

    ``fn`` is a ``@contract`` function (or method) or a plain jaxtyping-annotated one; the batch axis
    is the dimension named ``B``. The properties (keys for ``properties``, ``atol`` and ``rtol``):

    * ``"mask"``: a function that received a mask with padding passes ``attention_mask`` to the
      Data2Vec text and audio models it calls on those inputs;
    * ``"batch"``: each example gives the same output alone (B=1), in another order, and among
      other examples (not probed when ``batch_coupled``);
    * ``"padding"``: for each mask argument over an axis (``attention_mask`` / ``*_mask`` with a
      ``(B, X)`` annotation, or ``@contract(masks={"attention_mask": "N"})``), masked-out positions
      added on the side the function gets padding on, or holding other values, change no output at
      kept positions (outputs over the axis are compared at the kept positions, others entirely);
    * ``"trim"``: each padded example alone, with its own padding removed, gives its row of the
      padded batch at kept positions;
    * ``"grid"``: where ``where=`` maps tokens to a grid (``N = 1 + h*w``), or the shapes do so
      unambiguously (an output with two axes, never B, whose product plus a constant is the token
      axis of an input), each grid cell comes from the token of its patch, row-major;
    * ``"locality"``: for pixel inputs (axes H, W), each cell of an output patch grid, or each
      patch token, depends on the pixels of its own patch;
    * ``"sizes"``: with sizes where no two named dimensions are equal, and with B=1, the function
      still meets its contract and runs (dimensions bound by ``dims=``, such as D, are kept; int
      arguments only vary with the tensors a ``where=`` relation or a tensor axis ties them to).

    Variants are only inputs the function could receive: padding goes on the side the given masks
    show (every row a prefix of kept positions: right; left-padded rows: left; both kinds: both),
    unless ``padding_side`` is ``"right"``, ``"left"`` or ``"both"``; added positions hold the pad
    id, -100 labels, a nested mask's 0 or the value the given call holds at masked-out positions. A
    variant that a Data2Vec model's own contract rejects, or that makes the inputs disagree (a plain
    exception, with an input sized by a changed axis), is skipped with the reason
    (``ProbeResult.skipped_variants``), never a violation. ``batch_coupled=True`` (or
    ``@contract(batch_coupled=True)``) says the examples are coupled on purpose (in-batch negatives,
    batch statistics): batch and trim invariance are then not probed.

    ``atol`` / ``rtol`` are floats or dicts by property (``atol={"padding": 1e-4}``), defaults 1e-5
    and 1e-5. A property that does not apply is skipped with the reason in ``ProbeResult.skipped``.
    Raises the :class:`ProbeViolation` subclass of the property that broke. The caller's tensors are
    never written to; modules among the arguments run in eval mode (dropout would fail every
    comparison), except the caller's own batch norms that are in train mode (they stay so, and
    their running statistics are put back); every module gets its mode back, and the RNG states
    (torch, random, numpy) are restored. Every Data2Vec class is checked while the probe runs
    (``enforce()``). The module docstring states the number of calls each property costs.

    Data2Vec audio with ``num_conv_pos_embeddings > 1`` leaks padding into kept frames (reference
    §6.3), and ``Data2VecAudioForXVector`` pools over a frame count that ignores ``tdnn_dilation``:
    padding and trim invariance are skipped for them unless ``atol`` names the property; audio
    masks are only ever padded on the right.
    """
    __tracebackhide__ = True
    declared = _contract_for(fn)
    if inspect.ismethod(fn) and declared.fn is not fn:
        args = (fn.__self__, *args)  # a @contract method: the contract's function takes self first
    return probe_plan(
        declared,
        args,
        kwargs,
        atol=atol,
        rtol=rtol,
        properties=properties,
        batch_coupled=batch_coupled,
        padding_side=padding_side,
    )


def probe_plan(
    declared: FunctionContract,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    *,
    atol: Tolerance = None,
    rtol: Tolerance = None,
    properties: Iterable[str] | None = None,
    batch_coupled: bool | None = None,
    padding_side: str | None = None,
) -> ProbeResult:
    """:func:`probe` for a declared contract (what ``auto_probe`` calls)."""
    __tracebackhide__ = True

    wanted = list(PROPERTIES) if properties is None else list(dict.fromkeys(properties))
    unknown = [p for p in wanted if p not in PROPERTIES]
    if unknown:
        raise ValueError(f"properties must be among {', '.join(PROPERTIES)}; got {', '.join(map(repr, unknown))}")
    if padding_side is not None and padding_side not in SIDES:
        raise ValueError(f"padding_side must be one of {', '.join(map(repr, SIDES))} or None, got {padding_side!r}")
    if batch_coupled is not None and not isinstance(batch_coupled, bool):
        raise ValueError(f"batch_coupled must be True, False or None, got {batch_coupled!r}")
    per_property, explicit = tolerances(atol, rtol)
    if batch_coupled is None:
        coupled = "@contract(batch_coupled=True)" if declared.batch_coupled else None
    else:
        coupled = "batch_coupled=True" if batch_coupled else None
    side = padding_side if padding_side is not None else declared.padding_side
    run = ProbeRun(declared, args, kwargs, per_property, explicit, coupled=coupled, padding_side=side)
    plan = run.plan
    checked: list[str] = []
    skipped: dict[str, str] = {}
    with ExitStack() as stack:
        stack.enter_context(probing_block())
        stack.enter_context(unpinned())
        for name, module in stack.enter_context(preserved_state(run.modules)):
            run.train_batch_norms.append(f"{name} ({type(module).__name__})")
            run.note(
                f"{name} ({type(module).__name__}) runs in train mode, as given: it normalises with the statistics "
                "of each batch, which couples the examples"
            )
        add_observer(run.hear)
        stack.callback(remove_observer, run.hear)
        checks = stack.enter_context(ExitStack())
        checks.enter_context(enforce())
        run.enforcing = True
        try:
            _given_call(run)
        except ShapeContractError as exc:
            owner = data2vec_rejection(exc)
            if owner is None:
                raise
            checks.close()  # the given call breaks a Data2Vec contract: probe as the caller runs, unchecked
            run.enforcing = False
            _given_call(run)
            run.note(f"the given call breaks the contract of {owner} ({summary(exc)}); Data2Vec models ran unchecked")
        for key in ORDER:
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
        skipped_variants=tuple(run.skipped_variants),
        padding_sides=dict(run.padding_sides),
    )


def _given_call(run: ProbeRun) -> None:
    """The call on the given inputs: its scope, its output, and the checks it made."""
    __tracebackhide__ = True
    plan = run.plan
    args0, kwargs0 = run.inputs.call_args()
    run.events = []
    run.base_scope = scope = plan.check_args(args0, kwargs0)
    torch.manual_seed(0)
    run.base_out = run.fn(*args0, **kwargs0)
    plan.check_return(scope, run.base_out)
    run.base_leaves = run.outputs(run.base_out)
    run.base_events = list(run.events)
