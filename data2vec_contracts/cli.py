"""``data2vec-contracts``: the shapes of a Data2Vec model, meta-device checks and proofs, from the shell.

Exit codes: 0 everything holds, 1 a contract is violated or a proof fails, 2 the command line is wrong
(unknown preset, bad ``--dim``, a target that cannot be imported).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["main"]

OK, FAILED, USAGE = 0, 1, 2

_EPILOG = """\
examples:
  data2vec-contracts shapes audio-base --batch 2 --samples 16000
  data2vec-contracts shapes audio-base:ForCTC --samples 48000
  data2vec-contracts shapes path/to/config.json:ForSequenceClassification --seq-len 128
  data2vec-contracts check mypkg.pipeline:embed --preset text-large --dim B=8 --dim N=512
  data2vec-contracts prove mypkg.pipeline:embed --preset text-base --dim B=1..64 --dim N=2..512

targets: a preset (text-base, text-large, audio-base, audio-large, vision-base, vision-large), a
config.json path or a saved model folder, each optionally with a class (audio-base:ForCTC), or a
@contract pipeline function as module:function (with --preset or --config).

exit codes: 0 ok, 1 contract violated or proof failed, 2 usage error.
"""


def _size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


_DIM = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(\d+)(?:\.\.(\d+))?$")


def _dim(text: str) -> tuple[str, int | tuple[int, int]]:
    match = _DIM.match(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE or NAME=LOW..HIGH (e.g. B=1..64), got {text!r}")
    name, lo, hi = match.group(1), int(match.group(2)), match.group(3)
    if hi is None:
        return name, lo
    if int(hi) < lo:
        raise argparse.ArgumentTypeError(f"{text!r}: the range {lo}..{hi} is empty")
    return name, (lo, int(hi))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="data2vec-contracts",
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


def _emit(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    print(json.dumps(data, indent=2, default=str) if args.json else text)


def _violation(args: argparse.Namespace, exc: Exception) -> int:
    from . import ShapeContractError

    data: dict[str, Any] = {"ok": False, "error": str(exc)}
    if isinstance(exc, ShapeContractError) and exc.violation is not None:
        data["violation"] = {k: v for k, v in exc.violation.__dict__.items() if k != "bindings"}
    if args.json:
        print(json.dumps(data, indent=2, default=str))
    else:
        print(str(exc), file=sys.stderr)
    return FAILED


def _run(args: argparse.Namespace) -> int:
    from . import ShapeContractError
    from .static import PRESETS, check, prove
    from .static._report import render_check, render_proof

    if args.command == "presets":
        data = {
            n: {"modality": p.modality, "source": p.source, "fields": dict(p.overrides)} for n, p in PRESETS.items()
        }
        text = "\n".join(f"{n:<13} {p.source}" for n, p in PRESETS.items())
        _emit(args, data, text)
        return OK
    try:
        if args.command == "shapes":
            words = ("batch", "seq_len", "num_choices", "samples", "height", "width")
            sizes = {w: getattr(args, w) for w in words if getattr(args, w) is not None}
            result = check(
                args.target, mask=args.mask, output_hidden_states=True if args.hidden_states else None, **sizes
            )
            _emit(args, result.to_json(), render_check(result))
            return OK
        dims = dict(args.dim)
        if args.command == "check":
            bad = [k for k, v in dims.items() if not isinstance(v, int)]
            if bad:
                raise ValueError(f"check takes sizes (--dim {bad[0]}=8), not ranges; ranges are for prove")
            result = check(args.target, args.config, mask=args.mask, **dims)
            _emit(args, result.to_json(), render_check(result) + "\nOK: every contract held")
            return OK
        proof = prove(
            args.target,
            args.config,
            dims,
            progress=not args.quiet and not args.json,
            check_uncovered=not args.no_concrete,
            close_gaps=not args.no_close_gaps,
        )
        _emit(args, proof.to_json(), render_proof(proof))
        return OK if proof.ok else FAILED
    except ShapeContractError as exc:
        return _violation(args, exc)
    except (ValueError, TypeError, ImportError, KeyError) as exc:
        print(f"data2vec-contracts {args.command}: error: {exc}", file=sys.stderr)
        return USAGE
    except RuntimeError as exc:
        return _violation(args, exc)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 violation or failed proof, 2 usage error)."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help exits 0, errors exit 2
        return int(exc.code or 0)
    return _run(args)


if __name__ == "__main__":
    sys.exit(main())
