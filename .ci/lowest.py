"""Constraints that pin every direct requirement of pyproject.toml to the OLDEST release it allows.

``python .ci/lowest.py [EXTRA ...]`` prints ``name==version`` lines for ``pip install -c``: the project's
dependencies and those of the named extras (default: ``test``). The versions come from the registry through
pip (``pip index versions``, which leaves out yanked releases); dependencies of dependencies stay free (pip
takes the newest they allow), as for a user who has old versions of what we name.

torch is the exception: CI installs the CPU build of torch 2.13.0 that lies on disk (any other torch is a
multi-GB CUDA download), so torch's lower bound in pyproject must be exactly the version CI can test.
Run it with the venv's python: it uses the ``packaging`` that pip vendors.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from pip._vendor.packaging.requirements import Requirement
from pip._vendor.packaging.version import Version

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
TORCH_ON_DISK = Version("2.13.0")


def requirements(extras: list[str]) -> list[Requirement]:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    texts = list(project.get("dependencies", []))
    for extra in extras:
        texts += project.get("optional-dependencies", {})[extra]
    seen: dict[str, Requirement] = {}
    for text in texts:
        req = Requirement(text)
        name = req.name.lower()
        if name in seen:
            seen[name].specifier &= req.specifier
        else:
            seen[name] = req
    return list(seen.values())


def released(name: str) -> list[Version]:
    out = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", name], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"^Available versions: (.+)$", out, re.MULTILINE)
    if match is None:
        raise SystemExit(f"lowest.py: pip index versions {name} listed no versions:\n{out}")
    return [Version(v.strip()) for v in match.group(1).split(",")]


def oldest(req: Requirement) -> Version:
    if req.name.lower() == "torch":
        if TORCH_ON_DISK not in req.specifier or any(
            s.operator in (">=", "==", "~=") and Version(s.version) < TORCH_ON_DISK for s in req.specifier
        ):
            raise SystemExit(
                f"lowest.py: pyproject asks for {req}; CI can only test the torch {TORCH_ON_DISK} CPU build on disk "
                f"(older torch on PyPI is a CUDA build of several GB), so the lower bound must be >={TORCH_ON_DISK}"
            )
        return TORCH_ON_DISK
    allowed = sorted(v for v in released(req.name) if not v.is_prerelease and v in req.specifier)
    if not allowed:
        raise SystemExit(f"lowest.py: no release of {req.name} satisfies {req.specifier}")
    return allowed[0]


def main() -> None:
    extras = sys.argv[1:] or ["test"]
    for req in requirements(extras):
        print(f"{req.name}=={oldest(req)}")


if __name__ == "__main__":
    main()
