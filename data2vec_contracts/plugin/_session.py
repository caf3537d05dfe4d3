"""What an active session switches on at its start and off at its end: ``enforce()`` over the 15 classes,
the package wrappers, and the coverage observer."""

from __future__ import annotations

import types
from contextlib import ExitStack
from dataclasses import dataclass, field

import pytest

from ._coverage import Coverage
from ._packages import Patches
from ._settings import settings_of

__all__ = ["STATE", "State", "is_controller", "is_worker", "package_count", "package_skips", "state_of"]


@dataclass
class State:
    """The mutable side of an active session (the settings are frozen, this is not)."""

    coverage: Coverage = field(default_factory=Coverage)
    stack: ExitStack = field(default_factory=ExitStack)
    patches: Patches | None = None
    report_written: bool = False


STATE = pytest.StashKey[State]()


def state_of(config: pytest.Config) -> State | None:
    return config.stash.get(STATE, None)


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def is_controller(config: pytest.Config) -> bool:
    """An xdist controller: it runs no test, so it patches nothing and only merges the workers' coverage."""
    return config.pluginmanager.has_plugin("dsession")


def _conftest_modules(config: pytest.Config) -> list[types.ModuleType]:
    return [
        p
        for p in config.pluginmanager.get_plugins()
        if isinstance(p, types.ModuleType) and p.__name__.rpartition(".")[2] == "conftest"
    ]


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    settings = settings_of(config)
    if not settings.active:
        return
    state = State()
    config.stash[STATE] = state
    if is_controller(config):
        return
    from ..instrument import add_observer, remove_observer

    add_observer(state.coverage)
    state.stack.callback(remove_observer, state.coverage)
    if settings.enforce:
        from ..instrument import enforce

        state.stack.enter_context(enforce())
    if settings.packages:
        from ._packages import wrap_packages

        try:
            state.patches = wrap_packages(settings.packages, _conftest_modules(config))
        except (ImportError, SyntaxError) as error:
            raise pytest.UsageError(f"--shape-contracts-packages: {type(error).__name__}: {error}") from error
        state.stack.callback(state.patches.restore)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = state_of(config)
    if state is not None:
        state.stack.close()
        del config.stash[STATE]


def package_count(config: pytest.Config) -> int | None:
    state = state_of(config)
    return None if state is None or state.patches is None else len(state.patches.wrapped)


def package_skips(config: pytest.Config) -> list[tuple[str, str]]:
    """The package functions that could not be wrapped, each with the reason."""
    state = state_of(config)
    return [] if state is None or state.patches is None else list(state.patches.skipped)
