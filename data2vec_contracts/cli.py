"""``data2vec-contracts``: the shapes of a Data2Vec model, meta-device checks and proofs, from the shell.

Exit codes: 0 everything holds; 1 a contract is violated, a proof fails, or the target itself fails (the user's
pipeline, the module it is in, or the model raises); 2 the command line is wrong (unknown preset or class, bad
``--dim``, a config file that is not a Data2Vec config, a target that cannot be found). Every error is one line on
stderr that says what is wrong and what to do, never a traceback (a contract violation prints its full report).
When the reader of the output goes away (``| head``), the command stops quietly with 141, as a command ended by
SIGPIPE does.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import importlib
import importlib.util
import inspect
import json
import os
import re
import sys
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

__all__ = ["main"]

OK, FAILED, USAGE = 0, 1, 2
BROKEN_PIPE = 128 + 13  # what a shell reports for a command ended by SIGPIPE
PROG = "data2vec-contracts"

_EPILOG = """\
examples:
  data2vec-contracts shapes audio-base --batch 2 --samples 16000
  data2vec-contracts shapes audio-base:ForCTC --samples 48000
  data2vec-contracts shapes path/to/config.json:ForSequenceClassification --seq-len 128
  data2vec-contracts check mypkg.pipeline:embed --preset text-large --dim B=8 --dim N=510
  data2vec-contracts prove mypkg.pipeline:embed --preset text-base --dim B=1..64 --dim N=2..510
  data2vec-contracts presets

targets: a preset (text-base, text-large, audio-base, audio-large, vision-base, vision-large), a
config.json path or a saved model folder, each optionally with a class (audio-base:ForCTC), or a
@contract pipeline function as module:function (with --preset or --config).

exit codes: 0 ok, 1 contract violated, proof failed or the target itself failed, 2 usage error.
"""

_HEAD = re.compile(r"^(Model|For\w+|Data2Vec\w+)$")
_CLASS = re.compile(r"^Data2Vec(Text|Audio|Vision)(Model|For\w+)$")


class _Usage(Exception):
    """Our command line is wrong (exit 2); ``prog`` is the (sub)command whose arguments are wrong."""

    def __init__(self, message: str, prog: str | None = None) -> None:
        super().__init__(message)
        self.prog = prog


class _Failed(Exception):
    """The target itself failed (exit 1)."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line (no usage block) and lets ``main`` return 2."""

    def error(self, message: str) -> NoReturn:
        raise _Usage(f"{message} (see {self.prog} --help)", self.prog)


def _size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


_DIM = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(\d+)(?:\.\.(\d+))?$")
_SIGNED = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=([+-]?\d+)(?:\.\.([+-]?\d+))?$")


def _dim(text: str) -> tuple[str, int | tuple[int, int]]:
    match = _DIM.match(text.strip())
    if match is None:
        signed = _SIGNED.match(text.strip())
        if signed is not None:  # a sign: say so, instead of "expected NAME=VALUE"
            name = signed.group(1)
            raise argparse.ArgumentTypeError(
                f"{text!r}: sizes cannot be negative; give a positive size such as {name}=2 or a range such as "
                f"{name}=1..64"
            )
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE or NAME=LOW..HIGH (e.g. B=1..64), got {text!r}")
    name, lo, hi = match.group(1), int(match.group(2)), match.group(3)
    if lo < 1 or (hi is not None and int(hi) < 1):
        raise argparse.ArgumentTypeError(f"{text!r}: a size is at least 1; e.g. {name}=1..64")
    if hi is None:
        return name, lo
    if int(hi) < lo:
        raise argparse.ArgumentTypeError(
            f"{text!r}: the range {lo}..{hi} is empty; write LOW..HIGH with LOW <= HIGH, e.g. {name}={hi}..{lo}"
        )
    return name, (lo, int(hi))


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Shapes, meta-device checks and symbolic proofs for Hugging Face Data2Vec models "
        "and the pipelines built on them. Nothing is downloaded; full-size models run on the meta device.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="{shapes,check,prove,presets}")

    shapes = sub.add_parser(
        "shapes",
        help="print every input and output field of a model: the first thing to run",
        description="Print every input and output field with its symbolic shape, concrete "
        "shape, dtype and the config fields behind each dimension (meta device, no weights).",
    )
    shapes.add_argument("target", help="preset or config path, optionally :Class (audio-base:ForCTC)")
    shapes.add_argument("--batch", type=_size, help="B (default 2)")
    shapes.add_argument("--seq-len", type=_size, help="text tokens N (default 128)")
    shapes.add_argument("--num-choices", type=_size, help="text choices C (ForMultipleChoice; default 2)")
    shapes.add_argument("--samples", type=_size, help="audio samples S (default 16000)")
    shapes.add_argument("--height", type=_size, help="image height H (default config.image_size)")
    shapes.add_argument("--width", type=_size, help="image width W (default config.image_size)")
    shapes.add_argument("--mask", action="store_true", help="also pass an attention_mask")
    shapes.add_argument("--hidden-states", action="store_true", help="output_hidden_states=True")
    shapes.add_argument("--json", action="store_true", help="print JSON instead of a table")

    for name, help_text in (
        ("check", "run a model or a @contract pipeline on the meta device with every contract checked"),
        ("prove", "prove with torch.export that the outputs keep their contract for every size in ranges"),
    ):
        cmd = sub.add_parser(name, help=help_text, description=help_text + ".")
        cmd.add_argument("target", help="module:function (a @contract pipeline), or a preset/config[:Class]")
        cmd.add_argument(
            "--preset",
            "--config",
            dest="config",
            metavar="CONFIG",
            help="the config: a preset (text-large) or a config.json path / model folder",
        )
        dim_help = "a size, NAME=VALUE (repeatable)" if name == "check" else "a range, NAME=LOW..HIGH (repeatable)"
        cmd.add_argument("--dim", type=_dim, action="append", default=[], help=dim_help)
        cmd.add_argument("--json", action="store_true", help="print JSON")
        if name == "check":
            cmd.add_argument("--mask", action="store_true", help="also pass an attention_mask (model targets)")
        else:
            cmd.add_argument("--quiet", action="store_true", help="no progress on stderr")
            cmd.add_argument(
                "--no-close-gaps",
                action="store_true",
                help="do not export the sizes the first export leaves out (B = 1, T = 1) separately",
            )
            cmd.add_argument(
                "--no-concrete",
                action="store_true",
                help="do not check the sizes the proof misses concretely on the meta device",
            )

    presets = sub.add_parser("presets", help="list the built-in configs")
    presets.add_argument("--json", action="store_true", help="print JSON")
    return parser


# -- output ----------------------------------------------------------------------------------------------
def _emit(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    print(json.dumps(data, indent=2, default=str) if args.json else text)
    sys.stdout.flush()  # a reader that went away shows here, inside main, not at interpreter exit


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in str(text).strip().splitlines() if part.strip())


def _error(args: argparse.Namespace | None, message: str, code: int, command: str | None = None) -> int:
    """One line on stderr (and, with --json, the same as JSON on stdout); returns the exit code."""
    command = command or (f"{PROG} {args.command}" if args is not None else PROG)
    line = _one_line(message)
    if args is not None and getattr(args, "json", False):
        print(json.dumps({"ok": False, "error": line, "exit_code": code}, indent=2))
        sys.stdout.flush()
    print(f"{command}: error: {line}", file=sys.stderr)
    return code


def _violation(args: argparse.Namespace, exc: Exception) -> int:
    from . import ShapeContractError

    data: dict[str, Any] = {"ok": False, "error": str(exc)}
    if isinstance(exc, ShapeContractError) and exc.violation is not None:
        facts = dataclasses.asdict(exc.violation)
        data["violation"] = {k: v for k, v in facts.items() if k != "bindings"}
    if args.json:
        print(json.dumps(data, indent=2, default=str))
        sys.stdout.flush()
    else:
        print(str(exc), file=sys.stderr)
    return FAILED


# -- targets -----------------------------------------------------------------------------------------------
def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0].strip()}" if lines else type(exc).__name__


def _is_config(text: str, presets: Mapping[str, Any]) -> bool:
    return text in presets or Path(text).exists()


def _not_a_config(text: str, presets: Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(text, list(presets), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]}?" if close else ""
    return f"{text!r} is neither a preset ({', '.join(presets)}) nor a config.json file or a saved model folder{hint}"


def _split_config(text: str) -> tuple[str, str | None]:
    """``text-base:ForCTC`` → (``text-base``, ``ForCTC``); ``text-base`` → (``text-base``, ``None``)."""
    base, sep, tail = text.rpartition(":")
    if sep and base and _HEAD.match(tail):
        return base, tail
    return text, None


def _shapes_target(spec: str, presets: Mapping[str, Any]) -> tuple[str, str | None]:
    """``shapes`` takes a model: a preset or config path, optionally with a class. Returns (target, config)
    for ``check``: ``audio-base:CTC`` becomes (``CTC``, ``audio-base``), so an unknown class is reported as one."""
    base, sep, tail = spec.rpartition(":")
    if _is_config(spec, presets):
        return spec, None
    if sep and _is_config(base, presets):
        return (spec, None) if _HEAD.match(tail) else (tail, base)
    if sep and base and not _HEAD.match(tail):
        raise _Usage(
            f"shapes takes a preset or a config.json path, optionally with a class (audio-base:ForCTC), not "
            f"{spec!r}; to run a pipeline function use: {PROG} check {spec} --preset text-base"
        )
    raise _Usage(_not_a_config(base if sep else spec, presets))


def _load_function(spec: str) -> Any:
    """``module:function`` → the object, with one-line errors: 2 when it cannot be found, 1 when importing the
    user's module raises."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise _Usage(f"{spec!r}: name a pipeline function as module:function, e.g. mypkg.pipeline:embed")
    if "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, "")  # the folder the command runs in, as for python -m
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing and (module_name == missing or module_name.startswith(missing + ".")):
            raise _Usage(
                f"cannot import {module_name!r} (from {spec!r}): no module named {missing!r}; run the command in "
                "the folder that contains it, or install its package"
            ) from None
        raise _Failed(
            f"importing {module_name} failed: {_first_line(exc)} (a module that {module_name} imports is not installed)"
        ) from None
    except Exception as exc:
        raise _Failed(
            f"importing {module_name} failed: {_first_line(exc)}{_where(exc, None)} (an error in the module "
            "itself; import it in Python to see the traceback)"
        ) from None
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            names = sorted(n for n, v in vars(obj).items() if callable(v) and not n.startswith("_"))
            close = difflib.get_close_matches(part, names, n=1, cutoff=0.6)
            hint = f"; did you mean {module_name}:{close[0]}?" if close else ""
            raise _Usage(f"{module_name!r} has no attribute {attr!r}{hint}") from None
    if not callable(obj):
        raise _Usage(
            f"{spec} is {type(obj).__name__!r}, not a function: name a @contract pipeline function (module:function)"
        )
    return obj


def _annotated_class(fn: Any) -> tuple[str, str] | None:
    """(parameter, class name) of the first parameter annotated with one of the Data2Vec classes."""
    target = inspect.unwrap(fn)
    try:
        hints: dict[str, Any] = typing.get_type_hints(target)
    except Exception:  # unresolvable forward references: read the annotations as written
        hints = dict(getattr(target, "__annotations__", {}))
    for name, hint in hints.items():
        if name == "return":
            continue
        text = hint if isinstance(hint, str) else getattr(hint, "__name__", "")
        text = text.rpartition(".")[2]
        if _CLASS.match(text):
            return name, text
    return None


def _check_model_annotation(label: str, fn: Any, config: str, presets: Mapping[str, Any]) -> None:
    """A pipeline that takes a head (``model: Data2VecTextForSequenceClassification``) needs that class in the
    config spec (``text-base:ForSequenceClassification``); the base model would only fail inside it."""
    found = _annotated_class(fn)
    if found is None:
        return
    param, wanted = found
    match = _CLASS.match(wanted)
    assert match is not None
    modality, head = match.group(1).lower(), match.group(2)
    base, given = _split_config(config)
    if base in presets and presets[base].modality != modality:
        same = ", ".join(n for n, p in presets.items() if p.modality == modality)
        raise _Usage(
            f"{label} takes a {wanted} (its argument {param!r}) but {base} is a {presets[base].modality} config; "
            f"use {'an' if modality == 'audio' else 'a'} {modality} preset ({same}), e.g. --preset "
            f"{same.split(', ')[0]}:{head}"
        )
    if given is None and base not in presets:
        return  # a config file: its "architectures" entry may choose the class
    given_head = (given or "Model").removeprefix(f"Data2Vec{match.group(1)}")
    if given_head != head:
        raise _Usage(
            f"{label} takes a {wanted} (its argument {param!r}) but --preset {config} builds "
            f"Data2Vec{match.group(1)}{given_head}; use --preset {base}:{head}"
        )


def _resolve(args: argparse.Namespace, presets: Mapping[str, Any]) -> tuple[Any, Any, Any]:
    """(target, config, pipeline function or None) for ``check`` / ``prove``."""
    spec, config = args.target, args.config
    base, sep, tail = spec.rpartition(":")
    if not sep:  # a preset, a config path or a class name (ForCTC --preset audio-base)
        if config is not None and _is_config(spec, presets):
            raise _Usage(f"{spec} is a config already; give the config once: drop --preset {config}")
        if config is None and not _is_config(spec, presets):
            if _HEAD.match(spec):
                raise _Usage(f"give the config of {spec} with --preset (e.g. --preset audio-base) or --config PATH")
            raise _Usage(_not_a_config(spec, presets))
        return spec, config, None
    if _is_config(base, presets):  # a model: preset or path with a class
        if config is not None:
            raise _Usage(
                f"{spec} names its config already; drop --preset {config}, or give the class alone: {tail} "
                f"--preset {config}"
            )
        # audio-base:CTC goes through the class lookup (with its did-you-mean), not the module import
        return (spec, None, None) if _HEAD.match(tail) else (tail, base, None)
    if _HEAD.match(tail) and not _importable(base):
        raise _Usage(_not_a_config(base, presets))  # text-bsae:ForCTC
    fn = _load_function(spec)
    if isinstance(fn, type):  # a class, e.g. transformers:Data2VecAudioForCTC
        return fn, config, None
    if config is None:
        raise _Usage(
            f"{spec} is a pipeline: give the config it runs on with --preset (e.g. --preset text-base) or "
            "--config path/to/config.json"
        )
    config_base, _ = _split_config(config)
    if not _is_config(config_base, presets):
        raise _Usage(f"--preset {config}: " + _not_a_config(config_base, presets))
    _check_model_annotation(spec, fn, config, presets)
    return fn, config, fn


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _where(exc: BaseException, files: set[str] | None) -> str:
    """`` (in embed, mypkg/pipeline.py:12)``: the innermost frame in ``files`` (without: the innermost frame that
    is not data2vec-contracts' own or frozen import machinery: the user's line)."""
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append((tb.tb_frame.f_code, tb.tb_lineno))
        tb = tb.tb_next
    if isinstance(exc, SyntaxError) and exc.filename:
        return f" ({_shown(exc.filename)}:{exc.lineno})"
    ours = os.path.realpath(os.path.dirname(__file__)) + os.sep
    for code, line in reversed(frames):
        path = os.path.realpath(code.co_filename)
        wanted = path in files if files is not None else not path.startswith(ours) and not path.startswith("<")
        if wanted:
            return f" (in {code.co_name}, {_shown(code.co_filename)}:{line})"
    return ""


def _shown(path: str) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return path


def _source_files(fn: Any) -> set[str]:
    if fn is None:
        return set()
    try:
        source = inspect.getsourcefile(inspect.unwrap(fn))
    except TypeError:
        return set()
    return {os.path.realpath(source)} if source else set()


def _failed_in_target(exc: BaseException, fn: Any) -> str | None:
    """Who raised ``exc`` if it is not ours: the user's pipeline (its frames are on the traceback) or
    transformers (building or running the model). ``None``: raised by data2vec-contracts itself."""
    files = _source_files(fn)
    transformers_dir = None
    module = sys.modules.get("transformers")
    if module is not None and getattr(module, "__file__", None):
        transformers_dir = os.path.realpath(os.path.dirname(module.__file__ or ""))
    tb = exc.__traceback__
    in_transformers = None
    while tb is not None:
        code = tb.tb_frame.f_code
        path = os.path.realpath(code.co_filename)
        if path in files:
            return "pipeline"
        if in_transformers is None and transformers_dir and path.startswith(transformers_dir + os.sep):
            in_transformers = getattr(code, "co_qualname", code.co_name)
        tb = tb.tb_next
    return f"transformers:{in_transformers}" if in_transformers else None


_MISSING_ARGS = re.compile(r"^(check|prove)\(\) cannot supply argument\(s\) (.+?) of (\S+): pass")
_PY_DIMS = re.compile(r"dims=\{'(\w+)': \((\d+), (\d+)\)\}")


def _cli_words(message: str, args: argparse.Namespace) -> str:
    """Static's Python-API advice in command-line words (``args={...}`` and ``dims={...}`` are not options)."""
    missing = _MISSING_ARGS.match(message)
    if missing:
        names = missing.group(2)
        return (
            f"{args.target} needs argument(s) {names} that the command line cannot give (it passes the model or "
            f"config and the contract's tensors): give {names} a default value in the function, or call "
            f"data2vec_contracts.static.{missing.group(1)}(fn, {args.config!r}, args={{...}}) from Python"
        )
    return _PY_DIMS.sub(lambda m: f"--dim {m.group(1)}={m.group(2)}..{m.group(3)}", message)


def _run(args: argparse.Namespace) -> int:
    from . import ContractDefinitionError, ShapeContractError
    from .static import PRESETS, check, prove, render_check, render_proof

    if args.command == "presets":
        data = {
            n: {"modality": p.modality, "source": p.source, "fields": dict(p.overrides)} for n, p in PRESETS.items()
        }
        text = "\n".join(f"{n:<13} {p.source}" for n, p in PRESETS.items())
        _emit(args, data, text)
        return OK
    fn = None
    try:
        if args.command == "shapes":
            target, config = _shapes_target(args.target, PRESETS)
            words = ("batch", "seq_len", "num_choices", "samples", "height", "width")
            sizes = {w: getattr(args, w) for w in words if getattr(args, w) is not None}
            result = check(
                target, config, mask=args.mask, output_hidden_states=True if args.hidden_states else None, **sizes
            )
            _emit(args, result.to_json(), render_check(result))
            return OK
        dims = dict(args.dim)
        if args.command == "check":
            bad = [k for k, v in dims.items() if not isinstance(v, int)]
            if bad:
                raise _Usage(f"check takes sizes (--dim {bad[0]}=8), not ranges; ranges are for prove")
        target, config, fn = _resolve(args, PRESETS)
        if args.command == "check":
            result = check(target, config, mask=args.mask, **dims)
            _emit(args, result.to_json(), render_check(result) + "\nOK: every contract held")
            return OK
        proof = prove(
            target,
            config,
            dims,
            progress=not args.quiet and not args.json,
            check_uncovered=not args.no_concrete,
            close_gaps=not args.no_close_gaps,
        )
        _emit(args, proof.to_json(), render_proof(proof))
        return OK if proof.ok else FAILED
    except BrokenPipeError:
        raise
    except ShapeContractError as exc:
        return _violation(args, exc)
    except _Usage as exc:
        return _error(args, str(exc), USAGE)
    except _Failed as exc:
        return _error(args, str(exc), FAILED)
    except ContractDefinitionError as exc:
        return _error(args, f"{args.target}: the contract itself is malformed: {_first_line(exc)}", FAILED)
    except Exception as exc:
        who = _failed_in_target(exc, fn)
        if who == "pipeline":
            return _error(
                args,
                f"{args.target} failed: {_first_line(exc)}{_where(exc, _source_files(fn))}; the pipeline itself "
                "raised it, not the command line (call it in Python to see the traceback)",
                FAILED,
            )
        if who is not None:
            return _error(
                args,
                f"the model failed inside transformers ({who.partition(':')[2]}): {_first_line(exc)}; check the "
                "config's fields and the sizes",
                FAILED,
            )
        if isinstance(exc, (ValueError, TypeError, LookupError, ImportError)):
            return _error(args, _cli_words(str(exc), args), USAGE)
        return _error(
            args,
            f"{_first_line(exc)} (raised inside data2vec-contracts: please report it with this command line)",
            FAILED,
        )


def _quiet_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the interpreter's last flush does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (captured in tests)
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok; 1 violation, failed proof or a failing target;
    2 usage error; 141 when the reader of the output went away)."""
    parser = _parser()
    args = None
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help exits 0
            return int(exc.code or 0) if isinstance(exc.code, (int, type(None))) else USAGE
        except _Usage as exc:
            return _error(None, str(exc), USAGE, exc.prog)
        return _run(args)
    except BrokenPipeError:
        _quiet_stdout()
        return BROKEN_PIPE
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
