"""pytester for the marker test of the corpus (``pytest_plugins`` is only allowed in the top-level conftest)."""

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
