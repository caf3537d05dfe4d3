"""Attaching and removing contracts: ``checked`` / ``unchecked`` on instances, ``enforce`` on the 15 classes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import torch

from data2vec_contracts import ShapeContractError, checked, enforce, is_checked, unchecked
from data2vec_contracts.instrument import CheckEvent, add_observer, remove_observer
from tests._models import CLASSES, model_class, tiny_inputs, tiny_model

pytestmark = pytest.mark.usefixtures("unpatched_classes")


class Boom(Exception):
    pass


@pytest.fixture
def events() -> Iterator[list[CheckEvent]]:
    seen: list[CheckEvent] = []
    add_observer(seen.append)
    yield seen
    remove_observer(seen.append)


def _contracts(events: list[CheckEvent]) -> list[str]:
    return [e.contract for e in events]


def _patched_to(cls: type) -> Any:
    """The original forward a patched class forward wraps (None if the class is not patched)."""
    mark = getattr(cls.__dict__["forward"], "__data2vec_contract__", None)
    return None if mark is None else mark[1]


@pytest.mark.parametrize(("modality", "head"), CLASSES, ids=lambda x: x)
def test_unchecked_restores_the_exact_class_forward(
    modality: str, head: str, pristine_forwards: dict[type, Any]
) -> None:
    model = tiny_model(modality, head)
    cls = type(model)
    checked(model)
    assert is_checked(model)
    assert model.forward.__func__ is not cls.forward
    assert unchecked(model) is model
    assert not is_checked(model)
    assert "forward" not in model.__dict__
    assert model.forward.__func__ is cls.__dict__["forward"] is pristine_forwards[cls]


def test_unchecked_on_an_unchecked_model_changes_nothing(pristine_forwards: dict[type, Any]) -> None:
    model = tiny_model("audio", "ForCTC")
    unchecked(model)
    assert "forward" not in model.__dict__


def test_enforce_patches_all_15_classes_with_their_own_original(pristine_forwards: dict[type, Any]) -> None:
    with enforce():
        for cls, original in pristine_forwards.items():
            assert _patched_to(cls) is original, cls.__name__
    for cls, original in pristine_forwards.items():
        assert cls.__dict__["forward"] is original, cls.__name__


@pytest.mark.parametrize(
    ("modality", "head", "inner"),
    [
        ("text", "ForSequenceClassification", "Data2VecTextModel"),
        ("text", "ForMultipleChoice", "Data2VecTextModel"),
        ("audio", "ForXVector", "Data2VecAudioModel"),
        ("vision", "ForSemanticSegmentation", "Data2VecVisionModel"),
    ],
)
def test_enforce_checks_models_built_inside_it_and_their_inner_models(
    modality: str, head: str, inner: str, events: list[CheckEvent], pristine_forwards: dict[type, Any]
) -> None:
    with enforce():
        model = tiny_model(modality, head)
        assert is_checked(model)
        model(**tiny_inputs(model, batch=2))
    outer = model_class(modality, head).__name__
    assert _contracts(events) == [inner, outer]  # the inner model finishes first
    inner_dims, outer_dims = events[0].dims, events[1].dims
    assert inner_dims["D"] == outer_dims["D"] == 32
    if head == "ForMultipleChoice":
        assert (inner_dims["B"], outer_dims["B"], outer_dims["C"]) == (6, 2, 3)  # the inner model sees B*C rows
    else:
        assert inner_dims["B"] == outer_dims["B"] == 2
    events.clear()
    assert not is_checked(model)
    model(**tiny_inputs(model, batch=2))
    assert events == []


def test_enforce_checks_models_built_before_it_and_raises_inside(pristine_forwards: dict[type, Any]) -> None:
    model = tiny_model("vision", "ForImageClassification")
    assert not is_checked(model)
    with enforce():
        assert is_checked(model)
        with pytest.raises(ShapeContractError) as info:
            model(pixel_values=torch.randn(2, 1, 32, 32))
        assert (info.value.field, info.value.dimension) == ("argument pixel_values", "Cin")
    with pytest.raises(ValueError, match="channel dimension"):  # the model's own error again
        model(pixel_values=torch.randn(2, 1, 32, 32))


def test_enforce_restores_every_forward_after_an_exception(pristine_forwards: dict[type, Any]) -> None:
    seen: list[Any] = []

    def body() -> None:
        with enforce():
            seen.append(_patched_to(model_class("text")))
            raise Boom

    with pytest.raises(Boom):
        body()
    assert seen == [pristine_forwards[model_class("text")]]
    # the pristine_forwards fixture asserts identity for all 15 classes when the test ends
    assert not is_checked(tiny_model("text"))


def test_enforce_restores_after_a_violation_inside(pristine_forwards: dict[type, Any]) -> None:
    model = tiny_model("text", "ForQuestionAnswering", num_labels=3)
    with pytest.raises(ShapeContractError, match="breaks a constraint on K"), enforce():
        model(**tiny_inputs(model))
    assert not is_checked(model)


def test_enforce_nests(pristine_forwards: dict[type, Any], events: list[CheckEvent]) -> None:
    model = tiny_model("audio")
    cls = type(model)
    with enforce():
        patched = cls.__dict__["forward"]
        with enforce():
            assert cls.__dict__["forward"] is patched  # patched once, not wrapped twice
        assert cls.__dict__["forward"] is patched  # the inner exit keeps the outer block checking
        model(**tiny_inputs(model, batch=1, samples=400))
        with pytest.raises(Boom), enforce():
            raise Boom
        assert cls.__dict__["forward"] is patched
    assert cls.__dict__["forward"] is pristine_forwards[cls]
    assert _contracts(events) == ["Data2VecAudioModel"]


def test_a_checked_head_inside_enforce_is_checked_once(events: list[CheckEvent], pristine_forwards: Any) -> None:
    with enforce():
        model = checked(tiny_model("text", "ForTokenClassification"))
        model(**tiny_inputs(model))
    assert _contracts(events) == ["Data2VecTextModel", "Data2VecTextForTokenClassification"]
    events.clear()
    model(**tiny_inputs(model))  # after the block the instance stays checked; its inner model does not
    assert _contracts(events) == ["Data2VecTextForTokenClassification"]


def test_enforce_checks_the_base_forward_of_a_subclass_that_overrides_forward(
    events: list[CheckEvent], pristine_forwards: Any
) -> None:
    """enforce() patches the 15 classes only: a subclass's own forward is not wrapped, but its
    super().forward() call is. checked(instance) wraps the subclass's forward itself."""
    base = model_class("text", "ForMaskedLM")

    def forward(self: Any, *args: Any, **kwargs: Any) -> Any:
        out = super(type(self), self).forward(*args, **kwargs)
        out["logits"] = out.logits[:1]
        return out

    subclass = type("TruncatingMLM", (base,), {"forward": forward})
    model = tiny_model("text", cls=subclass)
    with enforce():
        model(**tiny_inputs(model))  # the tampering happens after the check of the base forward
    assert _contracts(events) == ["Data2VecTextModel", "Data2VecTextForMaskedLM"]
    with pytest.raises(ShapeContractError, match="dimension B of output field logits"):
        checked(model)(**tiny_inputs(model))


@pytest.mark.parametrize(
    ("module", "name"),
    [
        (torch.nn.Linear(2, 2), "torch.nn.modules.linear.Linear"),
        (torch.nn.Sequential(), "torch.nn.modules.container.Sequential"),
    ],
)
def test_checked_rejects_other_modules(module: torch.nn.Module, name: str) -> None:
    with pytest.raises(TypeError) as info:
        checked(module)
    assert str(info.value) == (
        "checked() takes a Data2Vec model (one of the 15 classes of transformers.models.data2vec), got " + name
    )
    assert "forward" not in module.__dict__


def test_checked_rejects_a_look_alike_class_outside_transformers() -> None:
    class Data2VecTextModel(torch.nn.Module):  # same name, not the transformers class
        pass

    with pytest.raises(TypeError, match=r"got tests\.instrument\.test_models\..*Data2VecTextModel"):
        checked(Data2VecTextModel())
