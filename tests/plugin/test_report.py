"""The coverage summary (one line; the table with -v or after a violation), the JSON report, and the
merge over pytest-xdist workers."""

from __future__ import annotations

import json

import pytest

TEXT = """
import torch
from jaxtyping import Float
from torch import Tensor

from data2vec_contracts import contract


@contract
def first_token(x: Float[Tensor, "B N D"]) -> Float[Tensor, "B D"]:
    return x[:, 0]


def test_text(data2vec_model):
    out = data2vec_model("text", "ForSequenceClassification")(input_ids=torch.randint(2, 99, (2, 7)))
    assert out.logits.shape == (2, 2)


def test_pool():
    first_token(torch.zeros(2, 5, 8))
    first_token(torch.zeros(4, 5, 8))
"""

AUDIO = """
import torch


def test_audio(data2vec_model):
    out = data2vec_model("audio", "ForCTC")(input_values=torch.zeros(3, 1000))
    assert out.logits.shape == (3, 61, 20)


def test_audio_again(data2vec_model):
    data2vec_model("audio", "ForCTC")(input_values=torch.zeros(1, 600))
"""

NEVER = [
    "Data2VecTextForCausalLM",
    "Data2VecTextForMaskedLM",
    "Data2VecTextForTokenClassification",
    "Data2VecTextForQuestionAnswering",
    "Data2VecTextForMultipleChoice",
    "Data2VecAudioForSequenceClassification",
    "Data2VecAudioForAudioFrameClassification",
    "Data2VecAudioForXVector",
    "Data2VecVisionModel",
    "Data2VecVisionForImageClassification",
    "Data2VecVisionForSemanticSegmentation",
]

TEXT_DIMS = {"D": [32], "V": [99], "K": [2], "heads": [4], "B": [2], "N": [7]}
AUDIO_DIMS = {
    "D": [32],
    "F": [16],
    "V": [20],
    "K": [2],
    "X": [12],
    "heads": [4],
    "Dp": [32],
    "B": [1, 3],
    "S": [600, 1000],
    "T": [36, 61],
}
EXPECTED_JSON = {
    "version": 1,
    "checks": 8,
    "contracts": {
        "Data2VecAudioForCTC": {"kind": "model", "calls": 2, "dims": AUDIO_DIMS},
        "Data2VecAudioModel": {"kind": "model", "calls": 2, "dims": AUDIO_DIMS},
        "Data2VecTextForSequenceClassification": {"kind": "model", "calls": 1, "dims": TEXT_DIMS},
        "Data2VecTextModel": {"kind": "model", "calls": 1, "dims": TEXT_DIMS},
        "test_text.first_token": {"kind": "function", "calls": 2, "dims": {"B": [2, 4], "N": [5], "D": [8]}},
    },
    "data2vec_classes": {
        "exercised": [
            "Data2VecTextModel",
            "Data2VecTextForSequenceClassification",
            "Data2VecAudioModel",
            "Data2VecAudioForCTC",
        ],
        "never": NEVER,
    },
    "violations": [],
}


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_text=TEXT, test_audio=AUDIO)
    return pytester


def test_one_line_when_every_check_passed(suite: pytest.Pytester) -> None:
    result = suite.runpytest("--shape-contracts")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        [
            "data2vec-contracts: 8 checks passed (5 contracts; 4 of 15 Data2Vec classes exercised; -v for the table)",
            "=* 4 passed in *",
        ],
        consecutive=True,
    )
    assert "data2vec-contracts coverage" not in result.stdout.str()


@pytest.mark.usefixtures("unenforced")
def test_without_enforce_only_checked_models_and_functions_count(suite: pytest.Pytester) -> None:
    result = suite.runpytest("--shape-contracts-report=out.json")
    result.stdout.fnmatch_lines(
        ["data2vec-contracts: 5 checks passed (3 contracts; 2 of 15 Data2Vec classes exercised; -v for the table)"]
    )


def test_the_table_with_v(suite: pytest.Pytester) -> None:
    result = suite.runpytest("--shape-contracts", "-v")
    result.stdout.fnmatch_lines(
        [
            "=* data2vec-contracts coverage =*",
            "contract                               kind      calls  dimension values",
            "Data2VecAudioForCTC                    model         2  D=32  F=16  V=20  K=2  X=12  heads=4  Dp=32"
            "  B=1,3  S=600,1000  T=36,61",
            "Data2VecAudioModel                     model         2  D=32  F=16  V=20  K=2  X=12  heads=4  Dp=32"
            "  B=1,3  S=600,1000  T=36,61",
            "Data2VecTextForSequenceClassification  model         1  D=32  V=99  K=2  heads=4  B=2  N=7",
            "Data2VecTextModel                      model         1  D=32  V=99  K=2  heads=4  B=2  N=7",
            "test_text.first_token                  function      2  B=2,4  N=5  D=8",
            "",
            "8 checks passed, 0 violations; 4 of 15 Data2Vec classes exercised",
            "never exercised: Data2VecTextForCausalLM, Data2VecTextForMaskedLM,",
            "  Data2VecTextForTokenClassification, Data2VecTextForQuestionAnswering,",
            "  Data2VecTextForMultipleChoice, Data2VecAudioForSequenceClassification,",
            "  Data2VecAudioForAudioFrameClassification, Data2VecAudioForXVector,",
            "  Data2VecVisionModel, Data2VecVisionForImageClassification,",
            "  Data2VecVisionForSemanticSegmentation",
            "To cover Data2VecTextForCausalLM, call it in a test: the data2vec_model fixture builds it "
            '(data2vec_model("text", "ForCausalLM")).',
            "=* 4 passed in *",
        ],
        consecutive=True,
    )


def test_the_table_after_a_violation_even_without_v(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_bad="""
        import torch


        def test_good(data2vec_model):
            data2vec_model("vision")(pixel_values=torch.zeros(2, 3, 32, 32))


        def test_bad(data2vec_model):
            data2vec_model("vision")(pixel_values=torch.zeros(2, 1, 32, 32))
        """
    )
    result = pytester.runpytest("--shape-contracts-report=out.json")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "=* data2vec-contracts coverage =*",
            "contract             kind   calls  dimension values",
            "Data2VecVisionModel  model      1  D=32  K=2  heads=4  Cin=3  p=8  Hs=16  B=2  H=32  W=32  h=4  w=4"
            "  Nv=17",
            "",
            "1 check passed, 1 violation; 1 of 15 Data2Vec classes exercised",
            "never exercised: Data2VecTextModel, *",
        ],
        consecutive=True,
    )
    result.stdout.fnmatch_lines(
        [
            "*, Data2VecVisionForSemanticSegmentation",
            "violation: test_bad.py::test_bad: Data2VecVisionModel.forward, argument pixel_values, dimension Cin",
            "To cover Data2VecTextModel, call it in a test: the data2vec_model fixture builds it "
            '(data2vec_model("text", "Model")).',
            "data2vec-contracts: JSON report written to out.json",
        ],
        consecutive=True,
    )
    report = json.loads((pytester.path / "out.json").read_text())
    assert report["violations"] == [
        {
            "test": "test_bad.py::test_bad",
            "function": "Data2VecVisionModel.forward",
            "field": "argument pixel_values",
            "problem": "dimension",
            "dimension": "Cin",
            "expected": "3",
            "actual": "1",
        }
    ]


def test_the_json_report(suite: pytest.Pytester) -> None:
    result = suite.runpytest("--shape-contracts", "--shape-contracts-report=out.json")
    result.stdout.fnmatch_lines(["data2vec-contracts: JSON report written to out.json"])
    assert json.loads((suite.path / "out.json").read_text()) == EXPECTED_JSON


def test_xdist_workers_check_and_the_report_merges(suite: pytest.Pytester) -> None:
    result = suite.runpytest_subprocess(
        "-n", "2", "--dist", "loadfile", "-v", "-p", "no:cacheprovider",
        "--shape-contracts", "--shape-contracts-report=merged.json",
    )  # fmt: skip
    result.assert_outcomes(passed=4)
    assert {"[gw0]", "[gw1]"} <= {word for line in result.outlines for word in line.split() if word.startswith("[gw")}
    result.stdout.fnmatch_lines(
        [
            "data2vec-contracts: checking 15 Data2Vec classes + @contract functions; report: merged.json",
            "=* data2vec-contracts coverage =*",
            "contract * kind * calls  dimension values",
            "Data2VecAudioForCTC * model * 2  *  B=1,3  S=600,1000  T=36,61",
            "*",
            "*",
            "*",
            "test_text.first_token * function * 2  B=2,4  N=5  D=8",
            "",
            "8 checks passed, 0 violations; 4 of 15 Data2Vec classes exercised",
        ]
    )
    assert json.loads((suite.path / "merged.json").read_text()) == EXPECTED_JSON


def test_merging_sums_calls_and_unites_values() -> None:
    from data2vec_contracts.instrument import CheckEvent
    from data2vec_contracts.plugin._coverage import Coverage

    worker_a, worker_b, merged = Coverage(), Coverage(), Coverage()
    worker_a(CheckEvent("Data2VecTextModel", "model", {"B": 2, "N": 7}, True))
    worker_b(CheckEvent("Data2VecTextModel", "model", {"B": 3, "N": 7}, True))
    worker_b(CheckEvent("pipe.grid", "function", {"batch": (2, 3)}, True))
    for worker in (worker_a, worker_b):
        merged.merge(json.loads(json.dumps(worker.to_data())))  # through JSON, as execnet and the report do
    assert merged.to_data()["contracts"] == {
        "Data2VecTextModel": {"kind": "model", "calls": 2, "dims": {"B": [2, 3], "N": [7]}},
        "pipe.grid": {"kind": "function", "calls": 1, "dims": {"batch": [[2, 3]]}},
    }
    assert merged.to_data()["data2vec_classes"]["exercised"] == ["Data2VecTextModel"]


def test_works_without_xdist_installed_or_loaded(suite: pytest.Pytester) -> None:
    result = suite.runpytest("-p", "no:xdist", "--shape-contracts")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["data2vec-contracts: 8 checks passed (5 contracts; *"])
