"""Shared by the three example pipelines.

pytest only accepts ``pytest_plugins`` in a top-level conftest, so pytester (used by each
example's planted-bug test) is switched on here rather than in every example's own conftest.
"""

pytest_plugins = ["pytester"]
