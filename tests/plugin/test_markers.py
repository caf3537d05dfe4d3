"""The ``shape_contracts`` marker: off for one test, pinned dimensions, probe settings, precise errors."""

from __future__ import annotations

import pytest

CONTRACT_FUNCTION = """
import pytest
import torch
from jaxtyping import Float
from torch import Tensor

from data2vec_contracts import ShapeContractError, contract
from data2vec_contracts.plugin import PROBE_SETTINGS, ProbeSettings


@contract
def first_token(x: Float[Tensor, "B N D"]) -> Float[Tensor, "B D"]:
    return x[:, 0]
"""


def test_marker_false_switches_checks_off_for_setup_call_and_teardown(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        CONTRACT_FUNCTION
        + """

TRANSFORMERS_5 = int(__import__("transformers").__version__.split(".")[0]) >= 5


@pytest.fixture
def bad_in_setup_and_teardown():
    first_token(torch.zeros(2, 3))
    yield
    first_token(torch.zeros(2, 3))


@pytest.mark.shape_contracts(False)
def test_off(bad_in_setup_and_teardown, data2vec_model):
    first_token(torch.zeros(2, 3))
    call = lambda: data2vec_model("text")(input_ids=torch.randint(2, 99, (2, 7)), attention_mask=torch.ones(2, 6))
    if TRANSFORMERS_5:
        call()  # sdpa broadcasts the short mask
    else:  # 4.x eager attention fails by itself: torch's error, not a contract's
        with pytest.raises(RuntimeError, match="must match the size"):
            call()


def test_on_again_in_the_next_test():
    with pytest.raises(ShapeContractError):
        first_token(torch.zeros(2, 3))


@pytest.mark.shape_contracts(False)
class TestOffForTheClass:
    def test_off(self):
        first_token(torch.zeros(2, 3))

    @pytest.mark.shape_contracts(True)
    def test_the_closest_marker_wins(self):
        with pytest.raises(ShapeContractError):
            first_token(torch.zeros(2, 3))
"""
    )
    pytester.runpytest("--shape-contracts").assert_outcomes(passed=4)
    # the marker is honoured in every session, with or without the options
    pytester.runpytest().assert_outcomes(passed=4)


def test_marker_dims_pins_dimensions(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        CONTRACT_FUNCTION
        + """

@pytest.mark.shape_contracts(dims={"D": 32})
def test_pinned_and_right(data2vec_model):
    data2vec_model("text")(input_ids=torch.randint(2, 99, (2, 7)))
    first_token(torch.zeros(2, 3, 32))


@pytest.mark.shape_contracts(dims={"D": 768})
def test_pinned_and_wrong():
    first_token(torch.zeros(2, 3, 32))
"""
    )
    result = pytester.runpytest("--shape-contracts")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_pinned_and_wrong _*",
            "test_marker_dims_pins_dimensions.py:23: in test_pinned_and_wrong",
            "    first_token(torch.zeros(2, 3, 32))",
            "E   data2vec_contracts.ShapeContractError: Shape contract violated: dimension D of argument x.",
            "E     Function: test_marker_dims_pins_dimensions.first_token",
            "E       Declared: test_marker_dims_pins_dimensions.py:10",
            "E       Argument x",
            'E         Contract: Float[Tensor, "B N D"]',
            "E         Actual value: Tensor(float32, shape=(2, 3, 32))",
            "E         Dimension D: expected 768, actual 32",
            "E         D was bound by: pinned for this test (shape_contracts marker / pinned_dims)",
            "E       Other bindings:",
            "E         B = 2  (argument x, axis 0)",
            "E         N = 3  (argument x, axis 1)",
        ]
    )


def test_probe_arguments_are_stored_in_the_stash(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        CONTRACT_FUNCTION
        + """

@pytest.mark.shape_contracts(probe=False, atol=1e-4, rtol=0)
def test_stored(request):
    assert request.node.stash[PROBE_SETTINGS] == ProbeSettings(probe=False, atol=1e-4, rtol=0.0)


@pytest.mark.shape_contracts(atol=1e-3, rtol=0.5)
@pytest.mark.shape_contracts(probe=True, atol=1.0)  # the closest marker wins, key by key
def test_merged(request):
    assert request.node.stash[PROBE_SETTINGS] == ProbeSettings(probe=True, atol=1.0, rtol=0.5)


def test_no_marker_no_entry(request):
    assert PROBE_SETTINGS not in request.node.stash
"""
    )
    pytester.runpytest("--shape-contracts").assert_outcomes(passed=3)


ALLOWED = (
    "it takes enabled (True/False, positional) and the keywords dims=, probe=, atol=, rtol=, batch_coupled=, "
    "padding_side="
)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ('dim={"D": 1}', f"@pytest.mark.shape_contracts: unknown argument 'dim'; {ALLOWED}"),
        ("enabled=False", f"@pytest.mark.shape_contracts: unknown argument 'enabled'; {ALLOWED}"),
        (
            "False, True",
            "@pytest.mark.shape_contracts: takes at most one positional argument (enabled: True or False), "
            "got 2: False, True",
        ),
        ("'off'", "@pytest.mark.shape_contracts: enabled must be True or False, got 'off'"),
        (
            "dims=768",
            '@pytest.mark.shape_contracts: dims= must be a mapping of dimension names to ints, e.g. dims={"D": 768}; '
            "got 768",
        ),
        ('dims={"D": 7.5}', "@pytest.mark.shape_contracts: dims['D'] must be an int >= 0, got 7.5"),
        ('dims={"2D": 7}', "@pytest.mark.shape_contracts: dims= keys must be dimension names such as 'D', got '2D'"),
        ("probe='yes'", "@pytest.mark.shape_contracts: probe= must be True or False, got 'yes'"),
        ("atol=-1", "@pytest.mark.shape_contracts: atol= must be a finite number >= 0, got -1"),
        ("rtol='0.1'", "@pytest.mark.shape_contracts: rtol= must be a finite number >= 0, got '0.1'"),
    ],
)
def test_bad_marker_arguments_fail_the_test_precisely(pytester: pytest.Pytester, marker: str, message: str) -> None:
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.shape_contracts({marker})
        def test_marked():
            pass
        """
    )
    result = pytester.runpytest("-ra")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*_ test_marked _*", message, "FAILED *::test_marked - *"])


def test_the_marker_is_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.shape_contracts(enabled=True, /, *, dims=None, *"])
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.shape_contracts(False)
        def test_marked():
            pass
        """
    )
    pytester.runpytest("--strict-markers").assert_outcomes(passed=1)
