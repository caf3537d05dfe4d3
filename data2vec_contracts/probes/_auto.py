"""``auto_probe``: probe the first call of each ``@contract`` function with the arguments it really got."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from ..checker import FunctionContract
from ..instrument import add_call_observer, remove_call_observer
from ._probe import probe_plan
from ._result import ProbeResult
from ._run import Tolerance, probing

__all__ = ["AutoProbe", "auto_probe"]


@dataclass
class AutoProbe:
    """One ``auto_probe`` block: its tolerances, and the result of each function probed in it, by name."""

    atol: Tolerance = None
    rtol: Tolerance = None
    properties: tuple[str, ...] | None = None
    batch_coupled: bool | None = None
    padding_side: str | None = None
    results: dict[str, ProbeResult] = field(default_factory=dict)
    seen: set[int] = field(default_factory=set, repr=False)

    def first_call(self, declared: FunctionContract) -> bool:
        """True the first time a function is met in this block (and it is remembered)."""
        if id(declared) in self.seen:
            return False
        self.seen.add(id(declared))
        return True


_session: ContextVar[AutoProbe | None] = ContextVar("data2vec_contracts_auto_probe", default=None)
_lock = threading.Lock()
_depth = 0


def _observe(declared: FunctionContract, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    __tracebackhide__ = True
    session = _session.get()
    if session is None or probing() or not session.first_call(declared):
        return
    session.results[declared.name] = probe_plan(
        declared,
        args,
        kwargs,
        atol=session.atol,
        rtol=session.rtol,
        properties=session.properties,
        batch_coupled=session.batch_coupled,
        padding_side=session.padding_side,
    )


@contextmanager
def auto_probe(
    atol: Tolerance = None,
    rtol: Tolerance = None,
    properties: Iterable[str] | None = None,
    *,
    batch_coupled: bool | None = None,
    padding_side: str | None = None,
) -> Iterator[AutoProbe]:
    """Inside the block, the first call of each ``@contract`` function is probed with its real arguments.

    A violation is raised from that call (the function itself then does not run). Later calls of
    the same function in the block run unprobed; a new block probes again. Functions called by a
    function under probe are not probed by that probe's variant calls. Outside every block the
    checked call path pays one test of an empty list. The block yields an :class:`AutoProbe` whose
    ``results`` map each probed function's name to its :class:`ProbeResult`. ``batch_coupled`` and
    ``padding_side`` are declared for every function probed in the block (see :func:`probe`); ``None``
    leaves each function's own ``@contract`` declaration, or the inference from its masks.
    """
    global _depth
    session = AutoProbe(
        atol, rtol, tuple(properties) if properties is not None else None, batch_coupled, padding_side
    )
    token = _session.set(session)
    with _lock:
        if _depth == 0:
            add_call_observer(_observe)
        _depth += 1
    try:
        yield session
    finally:
        _session.reset(token)
        with _lock:
            _depth -= 1
            if _depth == 0:
                remove_call_observer(_observe)
