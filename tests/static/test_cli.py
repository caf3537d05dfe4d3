"""The ``data2vec-contracts`` command line: tables, JSON, exit codes (0 ok, 1 violation or failed proof, 2 usage)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from data2vec_contracts.cli import main
from tests._models import TRANSFORMERS_5, tiny_config

AUDIO_BASE_TABLE = """\
Data2VecAudioModel  (config: preset audio-base (Data2VecAudioConfig() defaults))
run: meta device; 93,164,288 parameters; off the meta device: masked_spec_embed (3,072 bytes)
contracts checked: Data2VecAudioModel

  role    field              symbolic    shape         dtype
  input   input_values       (B, S)      (2, 16000)    float32
  output  last_hidden_state  (B, T, Dp)  (2, 49, 768)  float32
  output  extract_features   (B, T, F)   (2, 49, 512)  float32

  dimension  value  from
  B          2      the size asked for
  S          16000  the size asked for
  T          49     T = (S - 400)//320 + 1 with S=16000; conv stack config.conv_kernel=(10, 3, 3, 3, 3, 2, 2), \
config.conv_stride=(5, 2, 2, 2, 2, 2, 2)
  Dp         768    config.hidden_size
  F          512    config.conv_dim[-1]
"""


def test_shapes_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["shapes", "audio-base", "--batch", "2", "--samples", "16000"]) == 0
    assert capsys.readouterr().out == AUDIO_BASE_TABLE


def test_shapes_json_with_a_class_and_a_mask(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["shapes", "text-base:ForTokenClassification", "--seq-len", "40", "--mask", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True
    assert data["model_class"] == "Data2VecTextForTokenClassification"
    assert data["mode"] == "meta device under FakeTensorMode (attention_mask values symbolic)"
    assert [(f["role"], f["name"], f["symbolic"], f["shape"], f["dtype"]) for f in data["fields"]] == [
        ("input", "input_ids", ["B", "N"], [2, 40], "int64"),
        ("input", "attention_mask", ["B", "N"], [2, 40], "int64"),
        ("output", "logits", ["B", "N", "K"], [2, 40, 2], "float32"),
    ]
    assert data["dimensions"]["K"] == {"value": 2, "from": "config.num_labels"}


def test_shapes_of_a_config_file_with_a_class(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tiny_config("vision").save_pretrained(tmp_path)
    assert main(["shapes", f"{tmp_path / 'config.json'}:ForSemanticSegmentation", "--batch", "3"]) == 0
    out = capsys.readouterr().out
    assert "  output  logits        (B, K, Hs, Hs)  (3, 2, 16, 16)  float32" in out
    assert "  Hs         16     4*(config.image_size=32 // config.patch_size)" in out


def test_shapes_violation_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["shapes", "audio-base", "--samples", "399"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Shape contract violated: argument input_values breaks a constraint on S.\n")
    assert "      Constraint: expected S >= 400 (the receptive field of the conv stack), actual S=399\n" in err


def test_check_a_pipeline_on_a_large_preset(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["check", "tests.static.pipelines:text_embed", "--preset", "text-large", "--dim", "B=3", "--dim", "N=77"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0] == (
        "tests.static.pipelines.text_embed  (a pipeline using Data2VecTextModel; config: preset text-large "
        "(Data2VecTextConfig(hidden 1024, 24 layers, 16 heads)))"
    )
    assert "  output  return value    (B, D)    (3, 1024)  float32" in out
    assert out.endswith("OK: every contract held\n")


def test_check_a_planted_bug_exits_1_with_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "tests.static.pipelines:bug_pool_wrong_axis", "--config", "text-base", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False
    assert data["violation"]["dimension"] == "D"
    assert (data["violation"]["expected"], data["violation"]["actual"]) == ("768", "128")
    assert data["error"].startswith("Shape contract violated: dimension D of return value.\n")


def _tiny_dir(tmp_path: Path, modality: str) -> str:
    tiny_config(modality, num_hidden_layers=1).save_pretrained(tmp_path)
    return str(tmp_path)


def test_prove_a_pipeline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "prove",
        "tests.static.pipelines:text_states",
        "--config",
        _tiny_dir(tmp_path, "text"),
        "--dim",
        "B=1..64",
        "--dim",
        "N=2..512",
        "--no-concrete",
    ]
    if not TRANSFORMERS_5:
        # 4.x expands the token_type_ids buffer (max_position_embeddings=64) to N: the export itself fails
        assert main(args) == 1
        out = capsys.readouterr().out
        assert out.startswith("NOT PROVED: tests.static.pipelines.text_states  (model class Data2VecTextModel;")
        assert (
            "  - torch.export failed with sizes B in 1..64, N in 2..512: RuntimeError: expand: attempting to expand "
            "a dimension of length 64 -> s" in out
        )
        return
    assert main(args) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert (
        lines[0] == f"PROVED: tests.static.pipelines.text_states  (model class Data2VecTextModel; config: "
        f"{tmp_path / 'config.json'})"
    )
    assert lines[1] == "asked for: B in 1..64, N in 2..512"
    # the tiny model's position table holds 62 tokens: the proof stops there (B = 1 by a separate export)
    assert lines[2].startswith("proved for: B in 1..64, N in 2..62  (")
    assert (
        "  - N <= 62: Data2VecTextModel.forward (reached by the pipeline) rejects N in 63..512: expected N <= 62 "
        "(config.max_position_embeddings=64 - config.pad_token_id=1 - 1)" in lines
    )
    assert "  return value  1     N                                  N             proved (symbolic (sympy))" in lines
    assert (
        "[data2vec-contracts prove] exporting tests.static.pipelines.text_states with B in 1..64, N in 2..512"
        in captured.err
    )


def test_prove_a_planted_bug_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "prove",
        "tests.static.pipelines:bug_drop_token",
        "--config",
        _tiny_dir(tmp_path, "text"),
        "--dim",
        "B=2..8",
        "--dim",
        "N=2..62",
        "--quiet",
        "--no-concrete",
    ]
    assert main(args) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith("NOT PROVED: tests.static.pipelines.bug_drop_token")
    assert (
        "Differences between the code and the contract:\n  - return value axis 1: the contract says N, the "
        "code gives N - 1; at N=2 that is 1, not 2\n" in captured.out
    )
    assert captured.err == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["prove", "x:y", "--dim", "B=1-64"],
            "argument --dim: expected NAME=VALUE or NAME=LOW..HIGH (e.g. B=1..64), got 'B=1-64'",
        ),
        (["shapes", "audio-base", "--samples", "0"], "argument --samples: expected a positive integer, got 0"),
        (["prove", "x:y", "--dim", "N=9..2"], "argument --dim: 'N=9..2': the range 9..2 is empty"),
        (["shapes", "text-huge"], "data2vec-contracts shapes: error: 'text-huge' is neither a preset"),
        (
            ["check", "tests.static.pipelines:text_embed", "--preset", "text-base", "--dim", "B=1..4"],
            "data2vec-contracts check: error: check takes sizes (--dim B=8), not ranges; ranges are for prove",
        ),
        (
            ["check", "tests.static.pipelines:text_embed", "--preset", "text-base", "--dim", "S=4"],
            "data2vec-contracts check: error: tests.static.pipelines.text_embed has no input dimension S; its input "
            "dimensions are B, N",
        ),
        (
            ["check", "tests.static.nowhere:f", "--preset", "text-base"],
            "data2vec-contracts check: error: cannot import 'tests.static.nowhere'",
        ),
    ],
)
def test_usage_errors_exit_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_presets_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["presets", "--json"]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert data["audio-large"]["fields"] == {
        "hidden_size": 1024,
        "num_hidden_layers": 24,
        "num_attention_heads": 16,
        "intermediate_size": 4096,
        "conv_bias": True,
    }
    assert data["text-base"] == {"modality": "text", "source": "Data2VecTextConfig() defaults", "fields": {}}


def test_console_script() -> None:
    """The installed script (beside this Python, as in an activated venv, or on PATH) runs this checkout's CLI."""
    beside = Path(sys.executable).with_name("data2vec-contracts")
    exe = str(beside) if beside.exists() else shutil.which("data2vec-contracts")
    assert exe is not None, "run pip install -e . to register the console script"
    import data2vec_contracts

    env = {**os.environ, "PYTHONPATH": str(Path(data2vec_contracts.__file__).resolve().parent.parent)}
    helped = subprocess.run([exe, "--help"], capture_output=True, text=True, env=env, check=False)
    assert helped.returncode == 0
    assert "exit codes: 0 ok, 1 contract violated, proof failed or the target itself failed, 2 usage error." in (
        helped.stdout
    )
    bad = subprocess.run([exe, "shapes"], capture_output=True, text=True, env=env, check=False)
    assert bad.returncode == 2
    assert bad.stderr == (
        "data2vec-contracts shapes: error: the following arguments are required: target "
        "(see data2vec-contracts shapes --help)\n"
    )
