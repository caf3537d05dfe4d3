"""Shared test setup. Tiny Data2Vec models come from ``tests._models`` (``tiny_model``, ``tiny_config``,
``tiny_inputs``, ``tiny_labels``, ``scenarios``); import them from there."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import torch

from tests._models import CLASSES, model_class, session_enforced

# Tiny models gain nothing from threads, and the test machine is shared: one thread is faster.
torch.set_num_threads(1)

# Inner pytest sessions (pytester, subprocesses) run without pytest-benchmark where it happens to be
# installed: it warns under xdist, and our filterwarnings=error turns that into an INTERNALERROR.
if "no:benchmark" not in os.environ.get("PYTEST_ADDOPTS", ""):
    os.environ["PYTEST_ADDOPTS"] = f"{os.environ.get('PYTEST_ADDOPTS', '')} -p no:benchmark".strip()


@pytest.fixture
def unpatched_classes() -> None:
    """Skips a test that needs the 15 classes as transformers defined them."""
    if session_enforced():
        pytest.skip("the session checks every Data2Vec class (--shape-contracts); this test needs them unpatched")


@pytest.fixture
def pristine_forwards(unpatched_classes: None) -> Iterator[dict[type, Any]]:
    """The ``forward`` of each of the 15 classes before the test; fails the test if one is not restored."""
    before = {model_class(m, h): model_class(m, h).__dict__["forward"] for m, h in CLASSES}
    yield before
    changed = [cls.__name__ for cls, fn in before.items() if cls.__dict__["forward"] is not fn]
    assert not changed, f"forward not restored on {changed}"
