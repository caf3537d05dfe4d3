"""Nothing leaks: patched forwards are restored exactly, and threads keep separate bindings."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
import transformers
from jaxtyping import Float
from torch import Tensor

from data2vec_contracts import ShapeContractError, checked, contract, enforce, is_checked, unchecked
from data2vec_contracts.instrument import add_observer, data2vec_classes, remove_observer

TEXT = {"vocab_size": 99, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
        "intermediate_size": 37, "max_position_embeddings": 64}
AUDIO = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 37,
         "conv_dim": (16, 16, 16), "conv_kernel": (5, 3, 3), "conv_stride": (4, 2, 2), "num_conv_pos_embeddings": 3,
         "num_conv_pos_embedding_groups": 2, "tdnn_dim": (16, 16, 16), "xvector_output_dim": 12,
         "classifier_proj_size": 8, "vocab_size": 20}
VISION = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 37,
          "image_size": 32, "patch_size": 8, "out_indices": (1, 2, 2, 3)}
CLASSES = sorted(data2vec_classes())


class Boom(Exception):
    pass


def originals() -> dict[str, Any]:
    return {name: cls.__dict__["forward"] for name, cls in data2vec_classes().items()}


@pytest.fixture
def pristine() -> Iterator[dict[str, Any]]:
    """The forwards as transformers defined them; the test fails if any is not restored."""
    before = originals()
    assert not any(hasattr(fn, "__data2vec_contract__") for fn in before.values())
    yield before
    assert originals() == before
    for name, fn in originals().items():
        assert fn is before[name], name


def assert_restored(before: dict[str, Any]) -> None:
    for name, cls in data2vec_classes().items():
        assert cls.__dict__["forward"] is before[name], name


def assert_patched(before: dict[str, Any]) -> None:
    for name, cls in data2vec_classes().items():
        fn = cls.__dict__["forward"]
        assert fn is not before[name], name
        assert fn.__data2vec_contract__[1] is before[name], name


def text_model(cls: str = "Data2VecTextModel", **kw: Any) -> Any:
    config = transformers.Data2VecTextConfig(**TEXT, **kw)
    return getattr(transformers, cls)(config).eval()


def audio_model() -> Any:
    return transformers.Data2VecAudioModel(transformers.Data2VecAudioConfig(**AUDIO)).eval()


def vision_model() -> Any:
    return transformers.Data2VecVisionModel(transformers.Data2VecVisionConfig(**VISION)).eval()


def ids(batch: int, n: int) -> Tensor:
    return torch.randint(2, 99, (batch, n))


def checks_during(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> int:
    """How many contract checks ran during ``fn(*args, **kwargs)``."""
    events: list[Any] = []
    add_observer(events.append)
    try:
        fn(*args, **kwargs)
    finally:
        remove_observer(events.append)
    return len(events)


# -- enforce() ------------------------------------------------------------------------------------
def test_enforce_restores_every_class_on_normal_exit(pristine: dict[str, Any]) -> None:
    model = text_model()
    with enforce():
        assert_patched(pristine)
        assert is_checked(model)
        assert checks_during(model, input_ids=ids(2, 7)) == 1
    assert_restored(pristine)
    assert not is_checked(model)
    assert checks_during(model, input_ids=ids(2, 7)) == 0


def fail_inside_enforce(before: dict[str, Any]) -> None:
    with enforce():
        assert_patched(before)
        raise Boom


def fail_inside_nested_enforce(before: dict[str, Any]) -> None:
    with enforce():
        with pytest.raises(ValueError, match="inner"), enforce():
            raise ValueError("inner")
        assert_patched(before)
        raise Boom


def test_enforce_restores_every_class_after_an_exception(pristine: dict[str, Any]) -> None:
    with pytest.raises(Boom):
        fail_inside_enforce(pristine)
    assert_restored(pristine)


def test_enforce_restores_after_a_contract_violation_inside(pristine: dict[str, Any]) -> None:
    model = text_model()
    with pytest.raises(ShapeContractError), enforce():
        model(input_ids=ids(2, 7), attention_mask=torch.ones(2, 6, dtype=torch.long))
    assert_restored(pristine)
    assert checks_during(model, input_ids=ids(2, 7)) == 0


def test_nested_enforce_patches_once_and_restores_at_the_outer_exit(pristine: dict[str, Any]) -> None:
    with enforce():
        patched = originals()
        with enforce():
            assert originals() == patched
            for name, fn in originals().items():
                assert fn is patched[name], name
        assert_patched(pristine)
        for name, fn in originals().items():
            assert fn is patched[name], name
    assert_restored(pristine)


def test_nested_enforce_with_an_exception_in_the_inner_block(pristine: dict[str, Any]) -> None:
    with pytest.raises(Boom):
        fail_inside_nested_enforce(pristine)
    assert_restored(pristine)


def test_enforce_checks_inside_and_not_after(pristine: dict[str, Any]) -> None:
    model = text_model()
    bad = {"input_ids": ids(2, 7), "attention_mask": torch.ones(2, 6, dtype=torch.long)}
    with enforce(), pytest.raises(ShapeContractError) as info:
        model(**bad)
    assert info.value.dimension == "N"
    assert info.value.field == "argument attention_mask"
    assert checks_during(model, input_ids=ids(2, 7)) == 0


# -- checked() / unchecked() ----------------------------------------------------------------------
@pytest.mark.parametrize("build", [text_model, audio_model, vision_model], ids=["text", "audio", "vision"])
def test_unchecked_removes_the_instance_attribute(pristine: dict[str, Any], build: Callable[[], Any]) -> None:
    model = build()
    assert "forward" not in model.__dict__
    assert checked(model) is model
    assert "forward" in model.__dict__
    assert is_checked(model)
    assert type(model).__dict__["forward"] is pristine[type(model).__name__]
    assert unchecked(model) is model
    assert "forward" not in model.__dict__
    assert not is_checked(model)
    assert model.forward.__func__ is pristine[type(model).__name__]


def test_unchecked_after_a_violation_restores_the_model(pristine: dict[str, Any]) -> None:
    model = checked(text_model())
    with pytest.raises(ShapeContractError):
        model(input_ids=ids(2, 7), attention_mask=torch.ones(2, 6, dtype=torch.long))
    unchecked(model)
    assert "forward" not in model.__dict__
    assert checks_during(model, input_ids=ids(2, 7)) == 0


def test_checked_twice_then_unchecked_once_leaves_nothing(pristine: dict[str, Any]) -> None:
    model = checked(checked(text_model()))
    assert model.forward.__func__.__data2vec_contract__[1] is pristine["Data2VecTextModel"]
    unchecked(model)
    assert "forward" not in model.__dict__
    assert not is_checked(model)


def test_checked_inside_enforce_wraps_the_original_and_survives_the_exit(pristine: dict[str, Any]) -> None:
    with enforce():
        model = checked(text_model())
        assert model.forward.__func__.__data2vec_contract__[1] is pristine["Data2VecTextModel"]
    assert_restored(pristine)
    assert is_checked(model)
    with pytest.raises(ShapeContractError):
        model(input_ids=ids(2, 7), attention_mask=torch.ones(2, 6, dtype=torch.long))
    unchecked(model)
    assert not is_checked(model)


def test_unchecked_leaves_a_users_own_instance_forward(pristine: dict[str, Any]) -> None:
    model = text_model()

    def own(*args: Any, **kwargs: Any) -> str:
        return "mine"

    model.forward = own
    unchecked(model)
    assert model.__dict__["forward"] is own


def test_unchecked_output_equals_the_plain_model(pristine: dict[str, Any]) -> None:
    torch.manual_seed(0)
    model = text_model()
    x = ids(2, 7)
    plain = model(input_ids=x).last_hidden_state
    with_checks = checked(model)(input_ids=x).last_hidden_state
    without = unchecked(model)(input_ids=x).last_hidden_state
    assert torch.equal(plain, with_checks)
    assert torch.equal(plain, without)


# -- threads ------------------------------------------------------------------------------------
THREADS = 8


def run_threads(work: Callable[[int], None]) -> list[BaseException]:
    """Run ``work(i)`` in 8 threads released together; return the errors they raised."""
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []
    lock = threading.Lock()

    def target(i: int) -> None:
        try:
            barrier.wait()
            work(i)
        except BaseException as exc:
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return errors


def violation_of(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, ...] | None:
    """What ``fn(*args, **kwargs)`` violated: (field, dimension, expected, actual, bound B), or None."""
    try:
        fn(*args, **kwargs)
    except ShapeContractError as exc:
        v = exc.violation
        assert v is not None
        return (v.field, v.dimension, v.expected, v.actual, v.bindings.get("B", (None,))[0])
    return None


@contract
def masked_mean(x: Float[Tensor, "B N D"], mask: Float[Tensor, "B N"]) -> Float[Tensor, "B D"]:
    weights = mask.unsqueeze(-1)
    return (x * weights).sum(1) / weights.sum(1).clamp(min=1)


@contract
def lying(x: Float[Tensor, "B N"], n: int) -> Float[Tensor, "B N"]:
    """Returns n columns, which breaks the contract whenever n differs from N."""
    return x.new_zeros(x.shape[0], n)


def test_contract_functions_keep_separate_bindings_in_8_threads() -> None:
    outcomes: dict[int, list[str]] = {i: [] for i in range(THREADS)}

    def work(i: int) -> None:
        for r in range(40):
            b, n, d = 1 + i, 3 + i + r % 5, 4 + 2 * i
            out = masked_mean(torch.randn(b, n, d), torch.ones(b, n))
            assert out.shape == (b, d)
            assert lying(torch.zeros(b, n), n).shape == (b, n)
            if (i + r) % 3 == 0:  # every thread also makes a real mistake, sometimes
                found = violation_of(lying, torch.zeros(b, n), n + 1 + i)
                outcomes[i].append(found == ("return value", "N", str(n), str(n + 1 + i), b))

    errors = run_threads(work)
    assert errors == []
    for i in range(THREADS):
        expected = sum(1 for r in range(40) if (i + r) % 3 == 0)
        assert outcomes[i] == [True] * expected, i


def test_one_checked_model_keeps_separate_bindings_in_8_threads() -> None:
    model = checked(text_model())
    results: dict[int, list[str]] = {i: [] for i in range(THREADS)}

    def work(i: int) -> None:
        for r in range(6):
            b, n = 1 + i % 3, 4 + i + r
            out = model(input_ids=ids(b, n), output_hidden_states=True)
            assert out.last_hidden_state.shape == (b, n, 32)
            assert len(out.hidden_states) == 3
            if r % 2 == i % 2:
                found = violation_of(model, input_ids=ids(b, n), attention_mask=torch.ones(b, n + 1, dtype=torch.long))
                results[i].append(found == ("argument attention_mask", "N", str(n), str(n + 1), b))

    errors = run_threads(work)
    assert errors == []
    assert all(results[i] == [True] * 3 for i in range(THREADS)), results


def test_first_calls_of_a_model_contract_race_safely() -> None:
    """The plans a new model compiles on its first calls, all in threads at once, are complete for every thread."""
    for _ in range(5):
        model = checked(text_model("Data2VecTextForTokenClassification", num_labels=3))
        found: dict[int, tuple[Any, ...] | None] = {}

        def work(i: int, model: Any = model, found: dict[int, tuple[Any, ...] | None] = found) -> None:
            b, n = 2, 5 + i
            found[i] = violation_of(model, input_ids=ids(b, n), labels=torch.zeros(b, n + 1, dtype=torch.long))

        assert run_threads(work) == []
        assert found == {i: ("argument labels", "N", str(5 + i), str(6 + i), 2) for i in range(THREADS)}


# -- a plugin session ---------------------------------------------------------------------------
SESSION_TESTS = """
import pytest
import torch
import transformers

from data2vec_contracts import ShapeContractError, is_checked

CONFIG = dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
              intermediate_size=37, max_position_embeddings=64)


def model():
    return transformers.Data2VecTextModel(transformers.Data2VecTextConfig(**CONFIG)).eval()


def test_checked_during_the_session():
    assert is_checked(model())


def test_a_violation_is_caught():
    with pytest.raises(ShapeContractError):
        model()(input_ids=torch.randint(2, 99, (2, 7)), attention_mask=torch.ones(2, 6, dtype=torch.long))


def test_an_unrelated_exception():
    raise RuntimeError("boom")
"""


class Outcomes:
    """A plugin for an inner ``pytest.main`` session: the outcome of each test's call phase."""

    def __init__(self) -> None:
        self.calls: dict[str, str] = {}
        self.messages: dict[str, str] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call":
            name = report.nodeid.rsplit("::", 1)[-1]
            self.calls[name] = report.outcome
            self.messages[name] = report.longreprtext


@pytest.mark.parametrize("plugin_option", ["--shape-contracts", None])
def test_a_plugin_session_restores_every_class(
    tmp_path: Path, pristine: dict[str, Any], plugin_option: str | None
) -> None:
    """A whole pytest session in this process, with and without the plugin switched on."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_session.py").write_text(SESSION_TESTS)
    outcomes = Outcomes()
    args = [str(tmp_path), "-q", "-p", "no:cacheprovider", "--import-mode=importlib"]
    code = pytest.main([*args, *([plugin_option] if plugin_option else [])], plugins=[outcomes])
    assert code == pytest.ExitCode.TESTS_FAILED
    during = "passed" if plugin_option else "failed"
    assert outcomes.calls == {
        "test_checked_during_the_session": during,
        "test_a_violation_is_caught": during,
        "test_an_unrelated_exception": "failed",
    }
    assert "RuntimeError: boom" in outcomes.messages["test_an_unrelated_exception"]
    assert_restored(pristine)
    assert not is_checked(text_model())
