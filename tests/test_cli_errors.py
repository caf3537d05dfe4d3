"""Every error of the ``data2vec-contracts`` command line is one line that says what is wrong and what to do, with
exit code 2 for a wrong command line and 1 when the target itself fails; no traceback, also through the real console
script and when the reader of ``--json`` goes away. The examples of ``--help`` all run."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from data2vec_contracts.cli import main
from tests._models import tiny_config

PIPELINE = '''\
"""Pipelines for the command-line tests; each error case names one of them."""

from typing import Any

import torch
from jaxtyping import Float, Int
from torch import Tensor
from transformers import Data2VecAudioModel, Data2VecTextForSequenceClassification

from data2vec_contracts import contract, masked_mean_pool

CONSTANT = 3


@contract(dims={"D": "model.config.hidden_size"}, masks={"attention_mask": "N"})
def embed(model: Any, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]) -> Float[Tensor, "B D"]:
    out = model(input_ids=input_ids, attention_mask=attention_mask)
    return masked_mean_pool(out.last_hidden_state, attention_mask)


@contract(dims={"K": "model.config.num_labels"})
def classify(model: Data2VecTextForSequenceClassification, input_ids: Int[Tensor, "B N"]) -> Float[Tensor, "B K"]:
    return model(input_ids=input_ids).logits


@contract(dims={"D": "model.config.hidden_size"})
def audio_frames(model: Data2VecAudioModel, input_values: Float[Tensor, "B S"]) -> Float[Tensor, "B T D"]:
    return model(input_values=input_values).last_hidden_state


@contract(dims={"D": "model.config.hidden_size"})
def broken(model: Any, input_ids: Int[Tensor, "B N"]) -> Float[Tensor, "B D"]:
    raise RuntimeError("boom\\nsecond line")


@contract(dims={"D": "model.config.hidden_size"})
def broken_value(model: Any, input_ids: Int[Tensor, "B N"]) -> Float[Tensor, "B D"]:
    states = model(input_ids=input_ids).last_hidden_state
    return states.reshape(-1, 7, 3, 11)


@contract(dims={"D": "model.config.hidden_size"})
def needs_tokenizer(model: Any, tokenizer: Any, input_ids: Int[Tensor, "B N"]) -> Float[Tensor, "B D"]:
    return model(input_ids=input_ids).last_hidden_state[:, 0]


def plain(model: Any, input_ids: Int[Tensor, "B N"]) -> Float[Tensor, "B N D"]:
    return model(input_ids=input_ids).last_hidden_state
'''


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the pipeline package, modules that fail to import, and config files good and bad."""
    root = tmp_path_factory.mktemp("cli")
    (root / "mypkg").mkdir()
    (root / "mypkg" / "__init__.py").write_text("")
    (root / "mypkg" / "pipeline.py").write_text(PIPELINE)
    (root / "raises_on_import.py").write_text('raise RuntimeError("cannot start: no GPU here")\n')
    (root / "imports_missing.py").write_text("import not_installed_dependency_xyz\n")
    (root / "bad_contract.py").write_text(
        "from typing import Any\n\nfrom jaxtyping import Int\nfrom torch import Tensor\n\n"
        "from data2vec_contracts import contract\n\n\n"
        '@contract(where={"N": "Q +"})\ndef f(model: Any, input_ids: Int[Tensor, "B N"]) -> Int[Tensor, "B N"]:\n'
        "    return input_ids\n"
    )
    # the --help example's path/to/config.json (a tiny text config with room for its 128 tokens)
    tiny_config("text", max_position_embeddings=130).save_pretrained(root / "path" / "to")
    (root / "list.json").write_text("[1, 2]")
    (root / "malformed.json").write_text('{"model_type": "data2vec-text",\n "hidden_size": 8,,}')
    typed = tiny_config("text").to_dict() | {"hidden_size": "big"}
    (root / "typed.json").write_text(json.dumps(typed))
    (root / "bert").mkdir()
    (root / "bert" / "config.json").write_text('{"model_type": "bert", "hidden_size": 8}')
    (root / "empty").mkdir()
    odd = tiny_config("text").to_dict() | {"hidden_size": 30, "num_attention_heads": 4}
    (root / "odd.json").write_text(json.dumps(odd))
    return root


@pytest.fixture
def in_workdir(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(workdir)
    monkeypatch.syspath_prepend(str(workdir))
    for name in [m for m in sys.modules if m == "mypkg" or m.startswith("mypkg.")]:
        monkeypatch.delitem(sys.modules, name)
    return workdir


# (arguments, exit code, the one line after "data2vec-contracts <command>: error: ", as an fnmatch pattern)
BAD_INPUTS: list[tuple[str, int, str]] = [
    # config files
    ("shapes list.json", 2, 'list.json: expected a JSON object of config fields ({"model_type": *}), got a list'),
    (
        "shapes typed.json",
        2,
        "typed.json: field 'hidden_size' is 'big' (a string), but Data2VecTextConfig expects an integer (its default "
        "is 768); correct the field, or delete it to use the default",
    ),
    (
        "shapes malformed.json",
        2,
        "malformed.json: not valid JSON (Expecting property name enclosed in double quotes at line 2, column *); "
        "a config.json is one JSON object, as save_pretrained writes it",
    ),
    (
        "shapes bert",
        2,
        "bert/config.json is not a Data2Vec config (expected model_type data2vec-text, data2vec-audio, "
        "data2vec-vision): it has model_type 'bert', not a Data2Vec model type",
    ),
    ("shapes empty", 2, "empty is a folder without a config.json; give a saved model folder *"),
    (
        "shapes odd.json",
        1,
        "the model failed inside transformers (*.__init__): ValueError: The hidden size (30) is not a multiple of "
        "the number of attention heads (4)*; check the config's fields and the sizes",
    ),
    # presets and classes
    (
        "shapes text-bsae",
        2,
        "'text-bsae' is neither a preset (text-base, *) nor a config.json file or a saved model "
        "folder; did you mean text-base?",
    ),
    (
        "shapes audio-base:ForCtc",
        2,
        "unknown audio class 'ForCtc'; choose one of Model, ForCTC, *; did you mean ForCTC?",
    ),
    ("shapes audio-base:CTC", 2, "unknown audio class 'CTC'; choose one of Model, ForCTC, *; did you mean ForCTC?"),
    ("check audio-base:Ctc", 2, "unknown audio class 'Ctc'; choose one of Model, ForCTC, *; did you mean ForCTC?"),
    ("check text-bsae:ForMaskedLM", 2, "'text-bsae' is neither a preset *; did you mean text-base?"),
    ("check ForCTC", 2, "give the config of ForCTC with --preset (e.g. --preset audio-base) or --config PATH"),
    ("check audio-base:ForCTC --preset audio-large", 2, "audio-base:ForCTC names its config already; drop --preset *"),
    ("check text-base --preset text-large", 2, "text-base is a config already; give the config once: *"),
    (
        "shapes mypkg.pipeline:embed",
        2,
        "shapes takes a preset or a config.json path, optionally with a class (audio-base:ForCTC), not "
        "'mypkg.pipeline:embed'; to run a pipeline function use: data2vec-contracts check mypkg.pipeline:embed "
        "--preset text-base",
    ),
    # the pipeline and its module
    (
        "check mypkg.pipeline:classify --preset text-base",
        2,
        "mypkg.pipeline:classify takes a Data2VecTextForSequenceClassification (its argument 'model') but --preset "
        "text-base builds Data2VecTextModel; use --preset text-base:ForSequenceClassification",
    ),
    (
        "check mypkg.pipeline:audio_frames --preset text-large",
        2,
        "mypkg.pipeline:audio_frames takes a Data2VecAudioModel (its argument 'model') but text-large is a text "
        "config; use an audio preset (audio-base, audio-large), e.g. --preset audio-base:Model",
    ),
    (
        "check nowhere_pkg.mod:f --preset text-base",
        2,
        "cannot import 'nowhere_pkg.mod' (from 'nowhere_pkg.mod:f'): no module named 'nowhere_pkg'; run the command "
        "in the folder that contains it, or install its package",
    ),
    (
        "check raises_on_import:f --preset text-base",
        1,
        "importing raises_on_import failed: RuntimeError: cannot start: no GPU here (in <module>, "
        "raises_on_import.py:1) (an error in the module itself; import it in Python to see the traceback)",
    ),
    (
        "check imports_missing:f --preset text-base",
        1,
        "importing imports_missing failed: ModuleNotFoundError: No module named 'not_installed_dependency_xyz' "
        "(a module that imports_missing imports is not installed)",
    ),
    (
        "check bad_contract:f --preset text-base",
        1,
        "importing bad_contract failed: ContractDefinitionError: *'Q +'* (in <module>, bad_contract.py:9) (an error "
        "in the module itself; import it in Python to see the traceback)",
    ),
    (
        "check mypkg.pipeline:embedd --preset text-base",
        2,
        "'mypkg.pipeline' has no attribute 'embedd'; did you mean mypkg.pipeline:embed?",
    ),
    (
        "check mypkg.pipeline:CONSTANT --preset text-base",
        2,
        "mypkg.pipeline:CONSTANT is 'int', not a function: name a @contract pipeline function (module:function)",
    ),
    (
        "check mypkg.pipeline:plain --preset text-base",
        2,
        "*plain* has no contract: decorate it with @data2vec_contracts.contract*",
    ),
    (
        "check mypkg.pipeline:embed",
        2,
        "mypkg.pipeline:embed is a pipeline: give the config it runs on with --preset (e.g. --preset text-base) or "
        "--config path/to/config.json",
    ),
    (
        "check mypkg.pipeline:embed --preset text-hug",
        2,
        "--preset text-hug: 'text-hug' is neither a preset *; did you mean text-large?",
    ),
    (
        "check mypkg.pipeline:needs_tokenizer --preset text-base",
        2,
        "mypkg.pipeline:needs_tokenizer needs argument(s) tokenizer that the command line cannot give (it passes "
        "the model or config and the contract's tensors): give tokenizer a default value in the function, or call "
        "data2vec_contracts.static.check(fn, 'text-base', args={...}) from Python",
    ),
    (
        "prove mypkg.pipeline:needs_tokenizer --preset text-base",
        2,
        "mypkg.pipeline:needs_tokenizer needs argument(s) tokenizer that the command line cannot give *"
        "data2vec_contracts.static.prove(fn, 'text-base', args={...}) from Python",
    ),
    (
        "check mypkg.pipeline:broken --preset text-base",
        1,
        "mypkg.pipeline:broken failed: RuntimeError: boom (in broken, mypkg/pipeline.py:*); the pipeline itself "
        "raised it, not the command line (call it in Python to see the traceback)",
    ),
    (
        "check mypkg.pipeline:broken_value --preset text-base --dim B=2 --dim N=8",
        1,
        "mypkg.pipeline:broken_value failed: RuntimeError: shape '[-1, 7, 3, 11]' is invalid for input of size "
        "12288 (in broken_value, mypkg/pipeline.py:*); the pipeline itself raised it, not the command line *",
    ),
    # sizes and ranges
    (
        "check mypkg.pipeline:embed --preset text-base --dim B=-2",
        2,
        "argument --dim: 'B=-2': sizes cannot be "
        "negative; give a positive size such as B=2 or a range such as B=1..64 (see data2vec-contracts check --help)",
    ),
    ("prove text-base --dim N=-2..9", 2, "argument --dim: 'N=-2..9': sizes cannot be negative; *"),
    ("check text-base --dim B=0", 2, "argument --dim: 'B=0': a size is at least 1; e.g. B=1..64 (see *)"),
    (
        "check mypkg.pipeline:embed --preset text-base --dim S=4",
        2,
        "mypkg.pipeline.embed has no input dimension S; its input dimensions are B, N",
    ),
    (
        "check mypkg.pipeline:embed --preset text-base --dim B=1..4",
        2,
        "check takes sizes (--dim B=8), not ranges; ranges are for prove",
    ),
    (
        "prove mypkg.pipeline:embed --preset text-base --dim N=9..2",
        2,
        "argument --dim: 'N=9..2': the range 9..2 is empty; write LOW..HIGH with LOW <= HIGH, e.g. N=2..9 (see "
        "data2vec-contracts prove --help)",
    ),
    ("prove text-base --dim Q=1..3", 2, "Data2VecTextModel has no input dimension Q; its input dimensions are B, N"),
    ("shapes audio-base --samples 0", 2, "argument --samples: expected a positive integer, got 0 (see *)"),
    ("shapes", 2, "the following arguments are required: target (see data2vec-contracts shapes --help)"),
]


def _ids() -> list[str]:
    return [
        f"{i:02d}-{argv.split()[0]}-{argv.split()[1] if len(argv.split()) > 1 else ''}"
        for i, (argv, _, _) in enumerate(BAD_INPUTS)
    ]


@pytest.mark.usefixtures("in_workdir")
@pytest.mark.parametrize(("argv", "code", "message"), BAD_INPUTS, ids=_ids())
def test_bad_input_is_one_line(argv: str, code: int, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Each bad input: the exit code (2 our command line, 1 the target itself) and one line on stderr that names
    the problem and what to do; nothing on stdout, no traceback."""
    assert main(shlex.split(argv)) == code
    captured = capsys.readouterr()
    command = argv.split()[0]
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"data2vec-contracts {command}: error: ")
    assert _fnmatch(lines[0].removeprefix(f"data2vec-contracts {command}: error: "), message), lines[0]
    assert "Traceback" not in captured.err
    assert "args={" not in lines[0] or "from Python" in lines[0]
    assert captured.out == ""


def _fnmatch(text: str, pattern: str) -> bool:
    import fnmatch

    return fnmatch.fnmatchcase(text, pattern.replace("[", "[[]"))


def test_an_unknown_command_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """argparse's own errors lose the usage block: one line, exit 2."""
    assert main(["frobnicate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("data2vec-contracts: error: argument {shapes,check,prove,presets}: invalid choice: ")
    assert len(err.splitlines()) == 1


@pytest.mark.usefixtures("in_workdir")
def test_json_errors_are_json_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    """With --json a usage error or a failing pipeline is also a JSON object on stdout, with its exit code."""
    assert main(["check", "mypkg.pipeline:classify", "--preset", "text-base", "--json"]) == 2
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False
    assert data["exit_code"] == 2
    assert data["error"].endswith("use --preset text-base:ForSequenceClassification")
    assert main(["check", "mypkg.pipeline:broken", "--preset", "text-base", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["error"].startswith("mypkg.pipeline:broken failed: RuntimeError: boom")


@pytest.mark.usefixtures("in_workdir")
def test_the_suggested_head_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """What the head-mismatch message suggests works: the pipeline passes with the head's preset."""
    assert main(["check", "mypkg.pipeline:classify", "--preset", "text-base:ForSequenceClassification"]) == 0
    assert capsys.readouterr().out.endswith("OK: every contract held\n")


@pytest.mark.usefixtures("in_workdir")
def test_a_violation_still_prints_its_report(capsys: pytest.CaptureFixture[str]) -> None:
    """A contract violation is exit 1 with the full report (its first line says what broke), as before."""
    assert main(["check", "mypkg.pipeline:embed", "--preset", "text-large", "--dim", "B=2", "--dim", "N=512"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Shape contract violated: argument input_ids breaks a constraint on N.\n")
    assert "N <= 510 (config.max_position_embeddings=512 - config.pad_token_id=1 - 1)" in err


def _epilog_examples(capsys: pytest.CaptureFixture[str]) -> list[list[str]]:
    assert main(["--help"]) == 0
    help_text = capsys.readouterr().out
    epilog = help_text.split("examples:\n", 1)[1].split("\n\n", 1)[0]
    return [shlex.split(line)[1:] for line in epilog.splitlines() if line.strip().startswith("data2vec-contracts ")]


@pytest.mark.usefixtures("in_workdir")
def test_every_example_of_the_help_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """Each example line of ``--help`` exits 0, in a folder with ``mypkg/pipeline.py`` (a @contract ``embed``) and
    ``path/to/config.json``, the names the examples use."""
    examples = _epilog_examples(capsys)
    assert len(examples) >= 5
    for argv in examples:
        if argv[0] == "prove":
            argv = [*argv, "--quiet"]
        code = main(argv)
        captured = capsys.readouterr()
        assert code == 0, (argv, captured.err)


def _console_script() -> str:
    beside = Path(sys.executable).with_name("data2vec-contracts")
    found = str(beside) if beside.exists() else shutil.which("data2vec-contracts")
    assert found is not None, "run pip install -e . to register the console script"
    return found


def test_the_console_script_reports_one_line(workdir: Path) -> None:
    """A real run of the installed console script: a failing pipeline is exit 1 and one line, no traceback."""
    run = subprocess.run(
        [_console_script(), "check", "mypkg.pipeline:broken", "--preset", "text-base"],
        capture_output=True,
        text=True,
        cwd=workdir,
        env=_environ(workdir),
        check=False,
        timeout=300,
    )
    assert run.returncode == 1, run.stderr
    assert run.stderr.splitlines() == [
        "data2vec-contracts check: error: mypkg.pipeline:broken failed: RuntimeError: boom (in broken, "
        f"mypkg/pipeline.py:{_line_of('raise RuntimeError')}); the pipeline itself raised it, not the command line "
        "(call it in Python to see the traceback)"
    ]
    usage = subprocess.run(
        [_console_script(), "shapes", "text-bsae"],
        capture_output=True,
        text=True,
        env=_environ(),
        check=False,
        timeout=300,
    )
    assert usage.returncode == 2
    assert len(usage.stderr.splitlines()) == 1
    assert usage.stderr.startswith("data2vec-contracts shapes: error: 'text-bsae' is neither a preset")


def _line_of(text: str) -> int:
    return next(i for i, line in enumerate(PIPELINE.splitlines(), start=1) if text in line)


def _environ(*paths: Path) -> dict[str, str]:
    """The environment of the console script, importing this checkout's package (the one under test) first."""
    import os

    import data2vec_contracts

    repo = Path(data2vec_contracts.__file__).resolve().parent.parent
    return {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in (repo, *paths))}


def test_a_closed_pipe_is_quiet() -> None:
    """``data2vec-contracts presets --json | head -0``: the reader is gone before the first write; the command
    stops with 141 (as a command ended by SIGPIPE) and prints no BrokenPipeError."""
    proc = subprocess.Popen(
        [_console_script(), "shapes", "audio-base", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_environ(),
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    proc.stdout.close()  # the reader goes away before the command writes anything
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 141, err
    assert err == ""


def test_a_pipe_closed_by_head_is_quiet(tmp_path: Path) -> None:
    """The shell's own pipe into ``head -1``: one line comes out, no traceback, no 'Exception ignored'."""
    if shutil.which("head") is None or shutil.which("bash") is None:
        pytest.skip("needs bash and head")
    script = f"{shlex.quote(_console_script())} shapes audio-base --json | head -1"
    run = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env=_environ(), check=False, timeout=300
    )
    assert run.stdout == "{\n"
    assert run.stderr == ""
    assert run.returncode == 0  # head's status, the last of the pipe
