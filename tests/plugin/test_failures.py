"""A violation is an ordinary, short test failure (also inside a fixture); other failures are untouched."""

from __future__ import annotations

import pytest

BAD_MASK = """
import pytest
import torch


def test_bad_mask(data2vec_model):
    model = data2vec_model("text")
    ids = torch.randint(2, 99, (2, 7))
    model(input_ids=ids, attention_mask=torch.ones(2, 6, dtype=torch.long))
"""

REPORT = [
    "*_ test_bad_mask _*",
    "test_bad_mask.py:8: in test_bad_mask",
    "    model(input_ids=ids, attention_mask=torch.ones(2, 6, dtype=torch.long))",
    "E   data2vec_contracts.ShapeContractError: Shape contract violated: dimension N of argument attention_mask.",
    "E     Function: Data2VecTextModel.forward",
    "E       Declared: contract of Data2VecTextModel (data2vec_contracts/contracts/text.py)",
    "E       Argument attention_mask",
    'E         Contract: Shaped[Tensor, "B N"]',
    "E         Actual value: Tensor(int64, shape=(2, 6))",
    "E         Dimension N: expected 7, actual 6",
    "E         N was bound by: argument input_ids, axis 1",
    "E       Other bindings:",
    "E         D     = 32  (config.hidden_size)",
    "E         V     = 99  (config.vocab_size)",
    "E         K     = 2   (config.num_labels)",
    "E         heads = 4   (config.num_attention_heads)",
    "E         B     = 2   (argument input_ids, axis 0)",
]


def test_a_violation_is_a_short_failure_report(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_bad_mask=BAD_MASK)
    result = pytester.runpytest("--shape-contracts", "-ra")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            *REPORT,
            "=*= data2vec-contracts coverage =*=",
            "*",
            "FAILED test_bad_mask.py::test_bad_mask - data2vec_contracts.ShapeContract*",
        ],
        consecutive=False,
    )
    # nothing from torch's Module.__call__, the wrappers or pytest between the test line and the message
    start = result.outlines.index("test_bad_mask.py:8: in test_bad_mask")
    assert result.outlines[start : start + len(REPORT) - 1] == REPORT[1:]


def test_without_the_plugin_options_the_failure_is_pytests_own(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_bad_mask=BAD_MASK)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*/torch/nn/modules/module.py:*: in _wrapped_call_impl"])


def test_tb_native_is_left_alone(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_bad_mask=BAD_MASK)
    result = pytester.runpytest("--shape-contracts", "--tb=native")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["Traceback (most recent call last):", '  File "*/torch/nn/modules/module.py"*'])


def test_a_violation_in_a_fixture_fails_the_test_instead_of_erroring(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_fixture="""
        import pytest
        import torch


        @pytest.fixture
        def features(data2vec_model):
            model = data2vec_model("vision")
            return model(pixel_values=torch.zeros(3, 32, 32)).last_hidden_state


        @pytest.fixture(scope="module")
        def module_features(data2vec_model_module):
            return data2vec_model_module


        @pytest.fixture(scope="module")
        def data2vec_model_module():
            from data2vec_contracts.plugin._tiny import tiny_model

            return tiny_model("vision")(pixel_values=torch.zeros(3, 32, 32))


        def test_uses_features(features):
            pass


        def test_uses_module_features(module_features):
            pass


        def test_again_module_features(module_features):
            pass
        """
    )
    result = pytester.runpytest("--shape-contracts", "-ra")
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(
        [
            "*_ test_uses_features _*",
            "test_fixture.py:8: in features",
            "    return model(pixel_values=torch.zeros(3, 32, 32)).last_hidden_state",
            "E   data2vec_contracts.ShapeContractError: Shape contract violated: *",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "FAILED test_fixture.py::test_uses_features - data2vec_contracts.Sha*",
            "FAILED test_fixture.py::test_uses_module_features - data2vec_contrac*",
            "FAILED test_fixture.py::test_again_module_features - data2vec_contra*",
        ]
    )
    # without the plugin's options, pytest's own rule: an exception in a fixture is an error
    pytester.runpytest().assert_outcomes(errors=3)


def test_an_expected_violation_passes_and_other_failures_are_untouched(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        import torch

        from data2vec_contracts import ShapeContractError


        def test_expected(data2vec_model):
            model = data2vec_model("audio", "ForCTC")
            with pytest.raises(ShapeContractError, match="rank of argument input_values"):
                model(input_values=torch.zeros(1000))


        def test_plain_assertion():
            assert [1, 2] == [1, 3]


        def test_other_error(data2vec_model):
            data2vec_model("text")(input_ids=torch.randint(2, 99, (2, 7)))
            raise RuntimeError("not a shape problem")
        """
    )
    result = pytester.runpytest("--shape-contracts")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*_ test_plain_assertion _*",
            "",
            "    def test_plain_assertion():",
            ">       assert [1, 2] == [1, 3]",
            "E       assert [1, 2] == [1, 3]",
        ]
    )
    result.stdout.fnmatch_lines(
        ['>       raise RuntimeError("not a shape problem")', "E       RuntimeError: not a shape problem"]
    )
