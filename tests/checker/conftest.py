"""pytester for the plugin tests of this folder (a no-op when another conftest or ``-p pytester`` loaded it)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("pytester"):
        config.pluginmanager.import_plugin("pytester")
