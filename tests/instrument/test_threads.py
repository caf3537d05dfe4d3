"""Concurrency: every call has its own dimension scope, so threads calling the same contracted
function or the same checked model with different sizes never see each other's bindings."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import torch
from jaxtyping import Float, Int
from torch import Tensor

from data2vec_contracts import ShapeContractError, checked, contract
from tests._models import tiny_model

THREADS = 8


@pytest.fixture(autouse=True)
def _switch_often() -> Iterator[None]:
    """Make the interpreter switch threads every few bytecodes, so the calls really interleave."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


@contract(where={"M": "N + 1"})
def shift(x: Float[Tensor, "B N D"], ids: Int[Tensor, "B M"]) -> Float[Tensor, "B M D"]:
    return torch.cat([x[:, :1], x], dim=1)


def run_threads(work: Callable[[int], Any]) -> dict[int, Any]:
    """Run ``work(index)`` in THREADS threads that start together; return each result or exception."""
    barrier = threading.Barrier(THREADS)
    results: dict[int, Any] = {}

    def target(index: int) -> None:
        barrier.wait(10)
        try:
            results[index] = work(index)
        except Exception as exc:  # collected and asserted by the test
            results[index] = exc

    threads = [threading.Thread(target=target, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    return results


def test_same_function_many_threads_different_sizes_no_false_violation() -> None:
    def work(index: int) -> int:
        b, n, d = 1 + index % 3, 2 + index, 1 + index % 4
        x, ids = torch.zeros(b, n, d), torch.zeros(b, n + 1, dtype=torch.long)
        for _ in range(300):
            assert shift(x, ids).shape == (b, n + 1, d)
        return n

    results = run_threads(work)
    assert results == {i: 2 + i for i in range(THREADS)}


def test_only_the_thread_with_a_bad_shape_gets_a_violation() -> None:
    bad = 5

    def work(index: int) -> int:
        n = 2 + index
        x = torch.zeros(2, n, 3)
        ids = torch.zeros(2, n + (2 if index == bad else 1), dtype=torch.long)
        errors = []
        for _ in range(200):
            try:
                shift(x, ids)
            except ShapeContractError as err:
                errors.append(err)
        for err in errors:  # each one about this thread's own call
            assert err.violation is not None
            assert (err.field, err.dimension) == ("argument ids", "M")
            assert err.violation.actual == str(n + 2)
            assert err.violation.bindings["N"] == (n, "argument x, axis 1")
        return len(errors)

    results = run_threads(work)
    assert results == {i: 200 if i == bad else 0 for i in range(THREADS)}


def test_same_checked_model_many_threads() -> None:
    model = checked(tiny_model("text"))
    bad = 3

    def work(index: int) -> tuple[int, int]:
        b, n = 1 + index % 2, 3 + index
        ids = torch.randint(2, 99, (b, n))
        mask = torch.ones(b, n + 1 if index == bad else n, dtype=torch.long)
        ok, errors = 0, []
        for _ in range(12):
            try:
                with torch.no_grad():
                    out = model(input_ids=ids, attention_mask=mask)
            except ShapeContractError as err:
                errors.append(err)
            else:
                assert out.last_hidden_state.shape == (b, n, 32)
                assert out.pooler_output.shape == (b, 32)
                ok += 1
        for err in errors:
            assert (err.field, err.dimension) == ("argument attention_mask", "N")
            assert err.violation is not None
            assert err.violation.bindings["N"][0] == n
        return ok, len(errors)

    results = run_threads(work)
    assert results == {i: (0, 12) if i == bad else (12, 0) for i in range(THREADS)}
