"""The pytest plugin of data2vec-contracts, registered through the ``pytest11`` entry point. Inert unless asked.

Options (group ``data2vec-contracts``, each with an ini twin):

* ``--shape-contracts`` (``shape_contracts = true``): every call of the 15 Data2Vec classes is checked for the
  whole session (``enforce()``; the classes are restored exactly at the end).
* ``--shape-contracts-packages=PKG[,PKG...]`` (``shape_contracts_packages``): every jaxtyping-annotated
  function and method of those packages is wrapped with ``@contract``, also when the package was imported
  before the plugin ran; the names are rebound in the package's modules and in conftest modules, and put
  back at the end.
* ``--shape-contracts-report=PATH`` (``shape_contracts_report``): the coverage as JSON (merged over xdist workers).
* ``--shape-contracts-probe`` (``shape_contracts_probe``): the first call of each ``@contract`` function in
  each test is probed (``data2vec_contracts.auto_probe``) with the arguments the test passed; a broken
  property fails the test. ``shape_contracts(probe=False)`` switches it off for a test, ``atol=``/``rtol=``
  set the tolerances.

Without any of them the plugin changes nothing: no header, no summary, no import of torch or transformers.
The ``shape_contracts`` marker and the fixtures (``data2vec_model``, ``data2vec_config``,
``shape_contract_recorder``) work in every session.

``PROBE_SETTINGS`` is the ``item.stash`` key of the :class:`ProbeSettings` (``probe``, ``atol``, ``rtol``) a
test's marker asked for; ``SETTINGS`` the ``config.stash`` key of the session's frozen :class:`Settings`.
"""

from __future__ import annotations

from ._fixtures import data2vec_config, data2vec_model, shape_contract_recorder
from ._markers import PROBE_SETTINGS, ProbeSettings
from ._options import pytest_addoption, pytest_configure, pytest_report_header
from ._recorder import ShapeContractRecorder
from ._report import pytest_sessionfinish, pytest_terminal_summary, pytest_testnodedown
from ._runtest import pytest_runtest_call, pytest_runtest_makereport, pytest_runtest_setup, pytest_runtest_teardown
from ._session import pytest_sessionstart, pytest_unconfigure
from ._settings import SETTINGS, Settings

__all__ = [
    "PROBE_SETTINGS",
    "SETTINGS",
    "ProbeSettings",
    "Settings",
    "ShapeContractRecorder",
    "data2vec_config",
    "data2vec_model",
    "pytest_addoption",
    "pytest_configure",
    "pytest_report_header",
    "pytest_runtest_call",
    "pytest_runtest_makereport",
    "pytest_runtest_setup",
    "pytest_runtest_teardown",
    "pytest_sessionfinish",
    "pytest_sessionstart",
    "pytest_terminal_summary",
    "pytest_testnodedown",
    "pytest_unconfigure",
    "shape_contract_recorder",
]
