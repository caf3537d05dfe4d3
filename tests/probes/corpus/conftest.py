"""pytester for the marker tests of the corpus (``pytest_plugins`` is only allowed in the top-level conftest)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("pytester"):
        config.pluginmanager.import_plugin("pytester")


@pytest.fixture
def inner_session(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sessions a test starts under ``-n`` are not xdist workers (pytest-benchmark would warn, an error here)."""
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True, scope="session")
def imported_first() -> None:
    """In-process pytester runs drop the modules they imported at the end of each test, and transformers' config
    classes must stay the ones the models check against: import what the inner sessions import, once, first."""
    import hypothesis  # noqa: F401
    import torch
    import transformers  # noqa: F401

    import data2vec_contracts.instrument
    import data2vec_contracts.plugin._tiny

    data2vec_contracts.instrument.data2vec_classes()
    torch.compiler.disable(lambda: None, recursive=True)
