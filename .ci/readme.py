"""The README's own commands, so CI runs exactly what a newcomer copies: ``python .ci/readme.py quickstart|tests``.

``quickstart``: the first ``bash`` block of the README that installs the package (``pip install -e``);
``tests``: the first ``bash`` block that runs ``python -m pytest`` (the README says CI runs that command).
Each must be one line; anything else is an error, so a README edit cannot silently change what CI runs.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
_BLOCK = re.compile(r"^```bash\n(.*?)^```", re.DOTALL | re.MULTILINE)
_WANTED = {"quickstart": "pip install -e", "tests": "python -m pytest"}


def command(kind: str, text: str | None = None) -> str:
    """The README's one-line command of this kind."""
    text = README.read_text(encoding="utf-8") if text is None else text
    marker = _WANTED[kind]
    for block in _BLOCK.findall(text):
        if marker in block:
            lines = [line for line in block.strip().splitlines() if line.strip()]
            if len(lines) != 1:
                raise SystemExit(f"README.md: the {kind} block must be one command line, found {len(lines)} lines")
            return lines[0].strip()
    raise SystemExit(f"README.md has no bash block with {marker!r} (the {kind} command)")


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in _WANTED:
        raise SystemExit(f"usage: python .ci/readme.py {'|'.join(_WANTED)}")
    print(command(sys.argv[1]))
