"""The memo of validated calls: a repeat call with the same signature skips the derivation, and no
check that could fail is lost."""

from __future__ import annotations

from typing import Any

import pytest
import torch
import transformers

from data2vec_contracts import ShapeContractError, checked
from data2vec_contracts.checker import Scope
from data2vec_contracts.contracts import ModelPlan
from data2vec_contracts.instrument import CheckEvent, add_observer, remove_observer
from tests._models import CACHE_FIELD, tiny_inputs, tiny_model


@pytest.fixture
def full_checks(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Counts the full input checks of each contract (a memo hit runs none)."""
    counts: dict[str, int] = {}
    original = ModelPlan.check_inputs

    def counting(self: ModelPlan, *args: Any, **kwargs: Any) -> Scope:
        name = self.contract.class_name
        counts[name] = counts.get(name, 0) + 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ModelPlan, "check_inputs", counting)
    return counts


def test_a_repeat_call_is_accepted_from_the_memo(full_checks: dict[str, int]) -> None:
    model = checked(tiny_model("text"))
    ids = torch.randint(2, 99, (2, 7))
    for _ in range(5):
        model(input_ids=ids, output_hidden_states=True)
    assert full_checks == {"Data2VecTextModel": 1}
    model(input_ids=torch.randint(2, 99, (3, 7)), output_hidden_states=True)  # a new size: a full check
    model(input_ids=ids)  # other flags: a full check
    assert full_checks == {"Data2VecTextModel": 3}


class _Tampered(transformers.Data2VecTextModel):
    """Returns one row less than it was given on every call after the first."""

    calls = 0

    def forward(self, *args: object, **kwargs: object) -> object:
        out = super().forward(*args, **kwargs)
        type(self).calls += 1
        if type(self).calls > 1:
            out["last_hidden_state"] = out["last_hidden_state"][1:]
        return out


def test_an_output_that_changes_on_a_repeat_call_is_still_caught() -> None:
    model = checked(tiny_model("text", cls=_Tampered))
    ids = torch.randint(2, 99, (2, 7))
    model(input_ids=ids)
    with pytest.raises(ShapeContractError) as caught:
        model(input_ids=ids)
    assert caught.value.violation is not None
    assert (caught.value.violation.field, caught.value.violation.dimension) == ("output field last_hidden_state", "B")


def test_a_config_change_between_calls_is_seen(full_checks: dict[str, int]) -> None:
    model = checked(tiny_model("text"))
    ids = torch.randint(2, 99, (2, 7))
    model(input_ids=ids)
    model.config.output_hidden_states = True  # same arguments, different output fields
    out = model(input_ids=ids)
    assert len(out.hidden_states) == 3
    assert full_checks == {"Data2VecTextModel": 2}


def test_a_cast_model_gets_the_contract_error_not_the_models(full_checks: dict[str, int]) -> None:
    model = checked(tiny_model("audio"))
    waves = torch.randn(2, 1000)
    model(input_values=waves)
    model.to(torch.bfloat16)
    with pytest.raises(ShapeContractError) as caught:
        model(input_values=waves)
    assert caught.value.violation is not None
    assert (caught.value.violation.problem, caught.value.violation.actual) == ("dtype", "float32")


def test_each_model_has_its_own_entries(full_checks: dict[str, int]) -> None:
    first, second = checked(tiny_model("vision")), checked(tiny_model("vision", add_pooling_layer=True))
    inputs = tiny_inputs(first, batch=2)
    first(**inputs)
    out = second(**inputs)  # same arguments, another model (with a pooler): checked in full
    assert out.pooler_output.shape == (2, 32)
    assert full_checks == {"Data2VecVisionModel": 2}


def test_observers_hear_every_call_with_its_dimensions() -> None:
    events: list[CheckEvent] = []
    add_observer(events.append)
    try:
        model = checked(tiny_model("audio"))
        for _ in range(3):
            model(input_values=torch.randn(2, 1000))
    finally:
        remove_observer(events.append)
    assert [e.contract for e in events] == ["Data2VecAudioModel"] * 3
    assert all(e.dims["T"] == 61 and e.dims["B"] == 2 for e in events)


def test_plain_data_and_lists_of_ints_are_memoised(full_checks: dict[str, int]) -> None:
    model = checked(tiny_model("text"))
    ids = torch.randint(2, 99, (2, 7))
    for _ in range(3):
        model(input_ids=ids, output_hidden_states=2)  # plain data is memoised
    assert full_checks == {"Data2VecTextModel": 1}
    mask = torch.ones(2, 7, dtype=torch.long)
    for _ in range(2):
        model(input_ids=ids, attention_mask=mask, output_hidden_states=[1, -1])  # a list of ints: memoised
    assert full_checks == {"Data2VecTextModel": 2}


def test_a_cache_object_always_gets_the_full_check(full_checks: dict[str, int]) -> None:
    model = checked(tiny_model("text", "ForCausalLM", is_decoder=True))
    ids = torch.randint(2, 99, (1, 4))
    out = model(input_ids=ids, use_cache=True)
    # the cache is not plain data
    step = model(input_ids=ids[:, -1:], **{CACHE_FIELD: getattr(out, CACHE_FIELD)}, use_cache=True)
    assert step.logits.shape == (1, 1, 99)
    model(input_ids=ids[:, -1:], **{CACHE_FIELD: getattr(step, CACHE_FIELD)}, use_cache=True)
    assert full_checks == {"Data2VecTextForCausalLM": 3}


def test_a_repeat_signature_still_runs_the_value_checks(full_checks: dict[str, int]) -> None:
    """Found in review: a memo hit skipped the value checks, so an id past the vocabulary on a signature already
    validated got torch's IndexError instead of our message. The message is the one a first call gets."""
    ids = torch.randint(2, 99, (2, 7))
    bad = ids.clone()
    bad[1, 3] = 99 + 4
    with pytest.raises(ShapeContractError) as first:
        checked(tiny_model("text"))(input_ids=bad)
    model = checked(tiny_model("text"))
    model(input_ids=ids)
    model(input_ids=ids)
    assert full_checks == {"Data2VecTextModel": 2}  # the fresh model's failed call, then one for this model
    with pytest.raises(ShapeContractError) as repeat:
        model(input_ids=bad)
    assert str(repeat.value) == str(first.value)
    assert "input_ids" in str(repeat.value)
    model(input_ids=ids)  # good values again: still a memo hit
    assert full_checks == {"Data2VecTextModel": 3}


def test_a_repeat_runs_only_the_value_checks_of_the_arguments_given(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CTC head checks its labels' values; a repeat call without labels has nothing to read and runs none."""
    runs: list[int] = []
    original = ModelPlan.passes_values

    def counting(self: ModelPlan, *args: Any, **kwargs: Any) -> bool:
        runs.append(len(args[2]) if len(args) > 2 else -1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ModelPlan, "passes_values", counting)
    model = checked(tiny_model("audio", "ForCTC"))
    wave = torch.randn(2, 800)
    for _ in range(3):
        model(input_values=wave)
    assert runs == []
    labels = torch.randint(1, model.config.vocab_size, (2, 3))
    for _ in range(3):
        model(input_values=wave, labels=labels)
    assert runs == [1, 1]  # the first call was a full check; each repeat runs the labels' check alone
