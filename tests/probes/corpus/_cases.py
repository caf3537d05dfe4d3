"""The registry of the corpus: every pipeline with the inputs it really receives, and what the probe must say of it.

A correct pipeline (``@correct``) must pass ``probe()`` with no ``ProbeViolation`` and no ``ShapeContractError``. A
buggy one (``@buggy``) comes from a real bug report (``source``), must be caught with ``expect`` for the right reason
(``field`` is the violation's field, ``says`` a fragment of what it says), and names its fixed twin, a correct
pipeline of the corpus. ``today`` is set when today's probe gets the case wrong; it is the reason of the strict
xfail, starting with one of the cause classes below.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
Call = tuple[tuple[Any, ...], dict[str, Any]]

# -- why today's probe gets a case wrong (the start of every xfail reason) ------------------------------------
LEFT_ON_RIGHT = "left-padding variant run on right-padded inputs"
RIGHT_ON_LEFT = "right-padding variant run on left-padded inputs"
LABELS_OVERWRITTEN = "-100 overwritten by the other-values variant"
PAD_ID_NAME = "pad id not used for token tensors not named input_ids"
INT_HW = "int h, w varied without the tensors"
REJECTED = "variant rejected by a Data2Vec contract counted as violation"
PLAIN_EXCEPTION = "plain exception from a variant that made inputs disagree"
COUPLED = "no way to declare batch coupling"
EVAL_FORCED = "probe forces eval mode on module arguments"
ALONE_RAISES = "an example-alone call that raises is reported as DistinctSizesError"
MODEL_LEAK = "padding leak inside transformers not accounted for"


def because(*causes: str) -> str:
    """An xfail reason: every cause that has to be fixed before the case comes out right, with its detail."""
    return "; and ".join(causes)


def not_implemented(name: str) -> str:
    return f"property not implemented yet: {name}"


ALONE_TRIMMED = not_implemented("each example alone with its own padding removed equals its row of the padded batch")
GRID_WITHOUT_WHERE = not_implemented(
    "token-to-grid consistency without where= (two output axes whose product + c is a token axis)"
)
INPUT_LOCALITY = not_implemented("vision input-side locality (a change inside one patch moves only that patch's cell)")
MASK_NOT_PASSED = not_implemented("a pipeline that received an attention mask called a Data2Vec model without one")


@dataclass(frozen=True)
class Case:
    """One pipeline and a builder of the inputs it receives."""

    name: str
    fn: Callable[..., Any]
    inputs: Callable[[], Call]
    covers: str
    today: str | None = None
    probe_kwargs: Mapping[str, Any] = field(default_factory=dict)
    # batch-coupled pipelines: the undecorated function and its @contract arguments, to declare the coupling
    raw: Callable[..., Any] | None = None
    contract_kwargs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Bug(Case):
    """A buggy pipeline: the report it comes from, the error that must catch it and why, and its fixed twin."""

    source: str = ""
    twin: str = ""
    expect: type[BaseException] = BaseException
    field_: str | None = None
    says: str = ""
    # other properties that catch the bug when probed alone: (property, error class, fragment of what it says)
    also: tuple[tuple[str, type[BaseException], str], ...] = ()


CORRECT: dict[str, Case] = {}
BUGGY: dict[str, Bug] = {}


def call(*args: Any, **kwargs: Any) -> Call:
    """The positional and keyword arguments of one call of a pipeline."""
    return args, kwargs


def _name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__name__", repr(fn))


def correct(
    inputs: Callable[[], Call],
    covers: str,
    *,
    today: str | None = None,
    name: str | None = None,
    probe_kwargs: Mapping[str, Any] | None = None,
    raw: Callable[..., Any] | None = None,
    contract_kwargs: Mapping[str, Any] | None = None,
) -> Callable[[F], F]:
    """Register a correct pipeline (a ``@contract`` function) with the inputs it really receives."""

    def register(fn: F) -> F:
        key = name or _name(fn)
        assert key not in CORRECT, f"two corpus cases named {key}"
        assert key not in BUGGY, f"two corpus cases named {key}"
        CORRECT[key] = Case(key, fn, inputs, covers, today, dict(probe_kwargs or {}), raw, dict(contract_kwargs or {}))
        return fn

    return register


def buggy(
    inputs: Callable[[], Call],
    covers: str,
    *,
    source: str,
    twin: str,
    expect: type[BaseException],
    says: str,
    field_: str | None = "return value",
    today: str | None = None,
    name: str | None = None,
    probe_kwargs: Mapping[str, Any] | None = None,
    raw: Callable[..., Any] | None = None,
    contract_kwargs: Mapping[str, Any] | None = None,
    also: tuple[tuple[str, type[BaseException], str], ...] = (),
) -> Callable[[F], F]:
    """Register a buggy pipeline taken from a real report, with the error that must catch it."""

    def register(fn: F) -> F:
        key = name or _name(fn)
        assert key not in CORRECT, f"two corpus cases named {key}"
        assert key not in BUGGY, f"two corpus cases named {key}"
        BUGGY[key] = Bug(
            key,
            fn,
            inputs,
            covers,
            today,
            dict(probe_kwargs or {}),
            raw,
            dict(contract_kwargs or {}),
            source=source,
            twin=twin,
            expect=expect,
            field_=field_,
            says=says,
            also=also,
        )
        return fn

    return register
