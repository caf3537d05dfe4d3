"""Runtest hooks: the marker around setup, call and teardown; a violation inside a fixture reported as a
test failure; the short failure report of a violation."""

from __future__ import annotations

import sys
from collections.abc import Generator, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from ._markers import PROBE_SETTINGS, MarkerError, TestControl, control_of
from ._session import state_of
from ._settings import settings_of

__all__ = [
    "pytest_runtest_call",
    "pytest_runtest_makereport",
    "pytest_runtest_setup",
    "pytest_runtest_teardown",
]

_CONTROL = pytest.StashKey[TestControl | None]()
_PENDING = pytest.StashKey[BaseException]()
_LIBRARIES = ("_pytest", "pluggy", "torch", "transformers", "jaxtyping", "beartype", "data2vec_contracts")
_SHORT_STYLES = ("auto", "short", "long")


def _is_violation(error: BaseException) -> bool:
    """Whether ``error`` is a ``ShapeContractError``, by name, so that a second copy of the package (an
    in-process pytester run reloads modules it did not see before) is recognised too."""
    return any(
        c.__name__ == "ShapeContractError" and c.__module__ == "data2vec_contracts" for c in type(error).__mro__
    )


@contextmanager
def _controlled(item: pytest.Item) -> Iterator[None]:
    control = item.stash.get(_CONTROL, None)
    if control is None:
        yield
        return
    from ..instrument import disabled, pinned_dims

    with ExitStack() as stack:
        if not control.enabled:
            stack.enter_context(disabled())
        elif control.dims:
            stack.enter_context(pinned_dims(control.dims))
        yield


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    try:
        control = control_of(item)
    except MarkerError as error:
        control = None
        item.stash[_PENDING] = pytest.fail.Exception(str(error), pytrace=False)
    item.stash[_CONTROL] = control
    if control is not None:
        item.stash[PROBE_SETTINGS] = control.probe
    active = settings_of(item.config).active
    with _controlled(item):
        if not active:
            return (yield)
        try:
            return (yield)
        except BaseException as error:
            if not _is_violation(error):
                raise
            # A violation inside a fixture: kept for the call phase, so the test fails instead of erroring.
            item.stash.setdefault(_PENDING, error)
            return None


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    __tracebackhide__ = True
    pending = item.stash.get(_PENDING, None)
    if pending is not None:
        raise pending
    with _controlled(item), _probing(item):
        return (yield)


@contextmanager
def _probing(item: pytest.Item) -> Iterator[None]:
    """``--shape-contracts-probe``: the first call of each ``@contract`` function in the test is probed
    with the arguments the test really passed; the marker can switch it off, set tolerances, declare batch
    coupling or the padding side."""
    settings = item.stash.get(PROBE_SETTINGS, None)
    wanted = settings_of(item.config).probe
    if settings is not None and settings.probe is not None:
        wanted = settings.probe
    control = item.stash.get(_CONTROL, None)
    if not wanted or (control is not None and not control.enabled):
        yield
        return
    from ..probes import auto_probe

    atol = settings.atol if settings is not None else None
    rtol = settings.rtol if settings is not None else None
    coupled = settings.batch_coupled if settings is not None else None
    side = settings.padding_side if settings is not None else None
    with auto_probe(atol=atol, rtol=rtol, batch_coupled=coupled, padding_side=side):
        yield


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, None, None]:
    with _controlled(item):
        return (yield)


def _library_dirs() -> tuple[str, ...]:
    dirs = []
    for name in _LIBRARIES:
        module = sys.modules.get(name)
        file = getattr(module, "__file__", None)
        if file:
            dirs.append(str(Path(file).parent) + "/")
    return tuple(dirs)


def _user_frames(excinfo: pytest.ExceptionInfo[BaseException]) -> Any:
    """The traceback without hidden frames and without library frames (torch's ``Module.__call__``,
    our wrappers, pytest); the last frame stays when nothing else would."""
    traceback = excinfo.traceback.filter(excinfo)
    dirs = _library_dirs()
    kept = traceback.filter(lambda entry: not str(entry.path).startswith(dirs))
    return kept if len(kept) else traceback[-1:]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    if call.excinfo is None or not report.failed or not settings_of(item.config).active:
        return report
    if not _is_violation(call.excinfo.value):
        return report
    state = state_of(item.config)
    if state is not None and call.when == "call":
        state.coverage.add_violation(item.nodeid, call.excinfo.value)
    if item.config.getoption("tbstyle", "auto") in _SHORT_STYLES:
        report.longrepr = call.excinfo.getrepr(style="short", tbfilter=_user_frames, chain=False)
    return report
