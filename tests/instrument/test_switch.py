"""Switching checks off: ``DATA2VEC_CONTRACTS=0`` at decoration / wrapping time, ``disabled()`` at
run time (restored after the block, also after an exception, per thread and per context)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
import torch
from jaxtyping import Float
from torch import Tensor

from data2vec_contracts import ShapeContractError, checked, contract, disabled, enforce, is_checked, unchecked
from data2vec_contracts.instrument import contract_of, data2vec_classes
from tests._models import TRANSFORMERS_5, tiny_inputs, tiny_model


def pair(x: Float[Tensor, " N"], y: Float[Tensor, " N"]) -> Float[Tensor, " N"]:
    return x + y[:1]


def bad_pair() -> tuple[Tensor, Tensor]:
    return torch.zeros(3), torch.zeros(1)  # broadcasts, so only the contract can object


# -- DATA2VEC_CONTRACTS=0 ---------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["0", "false", "no", "off", " OFF ", "False"])
def test_env_off_contract_returns_the_same_function_object(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("DATA2VEC_CONTRACTS", value)
    assert contract(pair) is pair
    assert contract(dims={"N": 3}, where={"M": "N + 1"}, name="x")(pair) is pair
    assert contract_of(pair) is None
    assert pair(*bad_pair()).shape == (3,)


@pytest.mark.parametrize("value", ["1", "yes", "true", "", "on"])
def test_env_other_values_keep_checks_on(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("DATA2VEC_CONTRACTS", value)
    wrapped = contract(pair)
    assert wrapped is not pair
    assert contract_of(wrapped) is not None
    with pytest.raises(ShapeContractError):
        wrapped(*bad_pair())


def test_env_off_checked_returns_the_model_untouched(monkeypatch: pytest.MonkeyPatch) -> None:
    model = tiny_model("vision")
    before = dict(model.__dict__)
    monkeypatch.setenv("DATA2VEC_CONTRACTS", "0")
    assert checked(model) is model
    assert "forward" not in model.__dict__
    assert model.__dict__.keys() == before.keys()
    assert not is_checked(model)
    ints = torch.zeros(1, 3, 32, 32, dtype=torch.long)
    if TRANSFORMERS_5:
        model(pixel_values=ints)  # int pixels: the model casts them
    else:
        with pytest.raises(RuntimeError, match="Input type"):  # 4.x does not cast: torch's own error, no contract
            model(pixel_values=ints)


def test_env_off_enforce_patches_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    forwards = {name: cls.__dict__["forward"] for name, cls in data2vec_classes().items()}
    monkeypatch.setenv("DATA2VEC_CONTRACTS", "0")
    with enforce():
        assert {name: cls.__dict__["forward"] for name, cls in data2vec_classes().items()} == forwards
        assert not is_checked(tiny_model("text"))


def test_env_is_read_when_decorating_not_when_calling(monkeypatch: pytest.MonkeyPatch) -> None:
    wrapped = contract(pair)
    monkeypatch.setenv("DATA2VEC_CONTRACTS", "0")
    with pytest.raises(ShapeContractError):
        wrapped(*bad_pair())


# -- disabled() ----------------------------------------------------------------------------------------
checked_pair = contract(pair)


def test_disabled_turns_checks_off_and_back_on() -> None:
    model = checked(tiny_model("vision"))
    ints = {"pixel_values": torch.zeros(1, 3, 32, 32, dtype=torch.long)}
    with disabled():
        assert checked_pair(*bad_pair()).shape == (3,)
        if TRANSFORMERS_5:
            assert model(**ints).last_hidden_state.shape == (1, 17, 32)  # the model casts int pixels
        else:
            with pytest.raises(RuntimeError, match="Input type"):  # 4.x does not cast: torch's own error
                model(**ints)
        assert is_checked(model)  # still wrapped, only not checking
    with pytest.raises(ShapeContractError):
        checked_pair(*bad_pair())
    with pytest.raises(ShapeContractError):
        model(**ints)


def test_disabled_is_restored_after_an_exception() -> None:
    def fails_inside() -> None:
        with disabled():
            checked_pair(*bad_pair())
            _ = 1 / 0

    with pytest.raises(ZeroDivisionError):
        fails_inside()
    with pytest.raises(ShapeContractError):
        checked_pair(*bad_pair())


def test_disabled_nests() -> None:
    with disabled():
        with disabled():
            checked_pair(*bad_pair())
        checked_pair(*bad_pair())  # the inner exit does not switch checks back on
    with pytest.raises(ShapeContractError):
        checked_pair(*bad_pair())


def test_disabled_is_per_thread() -> None:
    seen: dict[str, Any] = {}
    inside, release = threading.Event(), threading.Event()

    def other_thread() -> None:
        inside.wait(5)
        try:
            checked_pair(*bad_pair())
            seen["other"] = "no error"
        except ShapeContractError:
            seen["other"] = "violation"
        release.set()

    def disabling_thread() -> None:
        with disabled():
            inside.set()
            release.wait(5)
            checked_pair(*bad_pair())
            seen["disabled"] = "no error"

    threads = [threading.Thread(target=other_thread), threading.Thread(target=disabling_thread)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"other": "violation", "disabled": "no error"}


def test_a_thread_started_inside_disabled_still_checks() -> None:
    seen: list[str] = []

    def run() -> None:
        try:
            checked_pair(*bad_pair())
            seen.append("no error")
        except ShapeContractError:
            seen.append("violation")

    with disabled():
        t = threading.Thread(target=run)
        t.start()
        t.join(10)
    assert seen == ["violation"]


def test_disabled_follows_the_async_context() -> None:
    async def call() -> str:
        await asyncio.sleep(0)
        try:
            checked_pair(*bad_pair())
        except ShapeContractError:
            return "violation"
        return "no error"

    async def main() -> tuple[str, str]:
        with disabled():
            inherited = asyncio.create_task(call())  # the task copies the context: checks off
        outside = asyncio.create_task(call())
        return await inherited, await outside

    assert asyncio.run(main()) == ("no error", "violation")


def test_unchecked_restores_the_class_forward() -> None:
    model = checked(tiny_model("text"))
    assert is_checked(model)
    assert unchecked(model) is model
    assert not is_checked(model)
    assert "forward" not in model.__dict__
    out = model(**tiny_inputs(model))
    assert out.last_hidden_state.shape == (2, 7, 32)
