"""Fixtures: ``data2vec_model`` and ``data2vec_config`` (tiny model and config factories), and
``shape_contract_recorder`` (the checks that ran during the test)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ._recorder import ShapeContractRecorder

__all__ = ["data2vec_config", "data2vec_model", "shape_contract_recorder"]


@pytest.fixture
def data2vec_config() -> Callable[..., Any]:
    """Factory of tiny Data2Vec configs: ``data2vec_config("text", num_hidden_layers=1)``."""
    from ._tiny import tiny_config

    return tiny_config


@pytest.fixture
def data2vec_model() -> Callable[..., Any]:
    """Factory of tiny, checked, random-weight, eval-mode Data2Vec models of any of the 15 classes:
    ``data2vec_model("audio", "ForCTC", num_hidden_layers=1)``."""
    from ._tiny import tiny_model

    return tiny_model


@pytest.fixture
def shape_contract_recorder() -> Iterator[ShapeContractRecorder]:
    """The checks that pass during the test: ``recorder.calls("Data2VecTextModel")``, ``recorder.dims("B")``."""
    from ..instrument import add_observer, remove_observer

    recorder = ShapeContractRecorder()
    add_observer(recorder)
    try:
        yield recorder
    finally:
        remove_observer(recorder)
