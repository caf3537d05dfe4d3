"""Shared fixtures: tiny Data2Vec models (built by ``tests._models``) and a guard on class patching."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import torch

from tests._models import CLASSES, model_class, tiny_config, tiny_inputs, tiny_model

# Tiny models gain nothing from threads, and the test machine is shared: one thread is faster.
torch.set_num_threads(1)


@pytest.fixture
def make_model() -> Callable[..., Any]:
    """``make_model("audio", "ForCTC", add_adapter=True)``: a tiny model in eval mode (see ``tiny_model``)."""
    return tiny_model


@pytest.fixture
def make_config() -> Callable[..., Any]:
    """``make_config("vision", num_labels=5)``: a tiny config (see ``tiny_config``)."""
    return tiny_config


@pytest.fixture
def make_inputs() -> Callable[..., dict[str, torch.Tensor]]:
    """``make_inputs(model, batch=2, samples=1000)``: valid forward keywords (see ``tiny_inputs``)."""
    return tiny_inputs


@pytest.fixture(params=CLASSES, ids=lambda c: f"{c[0]}-{c[1]}")
def any_class(request: pytest.FixtureRequest) -> tuple[str, str]:
    """Parametrises a test over the 15 (modality, head) pairs."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def pristine_forwards() -> Iterator[dict[type, Any]]:
    """The ``forward`` of each of the 15 classes before the test; fails the test if one is not restored."""
    before = {model_class(m, h): model_class(m, h).__dict__["forward"] for m, h in CLASSES}
    yield before
    changed = [cls.__name__ for cls, fn in before.items() if cls.__dict__["forward"] is not fn]
    assert not changed, f"forward not restored on {changed}"
