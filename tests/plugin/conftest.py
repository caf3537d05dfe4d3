"""pytester for the plugin tests.

``pytest_plugins`` is only allowed in the top-level conftest, so pytester is loaded here when this conftest
is (a no-op when the top-level conftest or ``-p pytester`` loaded it already).
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("pytester"):
        config.pluginmanager.import_plugin("pytester")


@pytest.fixture(autouse=True, scope="session")
def _import_what_inner_sessions_import() -> None:
    """In-process pytester runs drop the modules they imported at the end of each test; torch cannot import
    some of its modules twice (``torch._dynamo`` registers operator libraries), so import them once, first.
    hypothesis too: its pytest plugin imports it at the end of every session, which costs seconds."""
    import hypothesis  # noqa: F401
    import torch
    import transformers  # noqa: F401

    import data2vec_contracts.instrument
    import data2vec_contracts.plugin._tiny

    data2vec_contracts.instrument.data2vec_classes()
    torch.compiler.disable(lambda: None, recursive=True)


@pytest.fixture
def unenforced(request: pytest.FixtureRequest) -> None:
    """For tests that observe unpatched classes: ``enforce()`` is process-wide, so they cannot run in-process
    while this very session runs with ``--shape-contracts``."""
    from data2vec_contracts.plugin import SETTINGS

    if request.config.stash[SETTINGS].enforce:
        pytest.skip("this session runs with --shape-contracts: every Data2Vec class is patched process-wide")


@pytest.fixture(autouse=True)
def _inner_sessions_are_not_xdist_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """When this suite runs under ``-n``, the sessions a test starts are still sessions of their own: without
    this, they would believe they are xdist workers (pytest-benchmark warns, and the warning is an error)."""
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)
