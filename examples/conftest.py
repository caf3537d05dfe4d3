"""Shared by the three example pipelines.

pytest only accepts ``pytest_plugins`` in a top-level conftest, so pytester (used by each
example's planted-bug test) is switched on here rather than in every example's own conftest.
"""

import pytest

import data2vec_contracts

pytest_plugins = ["pytester"]

# Load every public name of data2vec_contracts now, before any test runs. pytester's in-process runs
# (the planted-bug tests) remove from sys.modules whatever was first imported during them; a module
# imported again by a later run would be a second copy, with its own ShapeContractError class and its
# own observer list, and that run's plugin would no longer recognise or record the violation.
for _name in data2vec_contracts.__all__:
    getattr(data2vec_contracts, _name)


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """pytester whose runs are not mistaken for xdist workers when the examples run under ``pytest -n 2``."""
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)
    return pytester
