"""The plugin's settings: parsed once from the command line and the ini file, frozen, kept in ``config.stash``."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["SETTINGS", "Settings", "packages_arg", "parse_packages", "settings_of"]

_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


@dataclass(frozen=True)
class Settings:
    """What the user asked for. ``active`` is False when none of the plugin's options is set."""

    enforce: bool = False
    packages: tuple[str, ...] = ()
    report: Path | None = None
    probe: bool = False

    @property
    def active(self) -> bool:
        return self.enforce or bool(self.packages) or self.report is not None or self.probe


SETTINGS = pytest.StashKey[Settings]()


def settings_of(config: pytest.Config) -> Settings:
    """The settings of this run (inactive defaults before ``pytest_configure`` ran)."""
    return config.stash.get(SETTINGS, Settings())


def parse_packages(text: str) -> tuple[str, ...]:
    """``"a, b.c"`` → ``("a", "b.c")``; a ``ValueError`` naming the bad item otherwise.

    Items are separated by commas (and, in the ini file, line breaks).
    """
    items: list[str] = []
    for line in text.splitlines() or [text]:
        line = line.strip()
        if not line:
            continue
        for position, raw in enumerate(line.removesuffix(",").split(","), start=1):
            name = raw.strip()
            if not name:
                raise ValueError(
                    f"empty package name at item {position} of {line!r}; "
                    "separate package names with single commas, e.g. mypipeline,otherpkg"
                )
            if not _DOTTED.match(name):
                raise ValueError(f"{name!r} is not a package name (dotted Python identifiers, e.g. mypipeline.models)")
            if name not in items:
                items.append(name)
    if not items:
        raise ValueError(f"no package named in {text!r}; e.g. --shape-contracts-packages=mypipeline")
    return tuple(items)


def packages_arg(text: str) -> tuple[str, ...]:
    """``type=`` of ``--shape-contracts-packages``: argparse turns the error into a usage error."""
    try:
        return parse_packages(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def report_path(value: str, base: Path, source: str) -> Path:
    """The JSON report path, resolved against ``base``; its directory must exist."""
    if not value.strip():
        raise ValueError(f"{source}: empty path; give a file name such as shape-contracts.json")
    path = Path(value).expanduser()
    path = path if path.is_absolute() else base / path
    if path.is_dir():
        raise ValueError(f"{source}: {path} is a directory; give a file name such as {path / 'shape-contracts.json'}")
    if not path.parent.is_dir():
        raise ValueError(f"{source}: directory {path.parent} does not exist (create it first, or choose another path)")
    return path


def _ini_bool(config: pytest.Config, name: str) -> bool:
    try:
        return bool(config.getini(name))
    except ValueError:
        raw = config.inicfg.get(name)
        value = getattr(raw, "value", raw)
        raise pytest.UsageError(f"ini option {name}: expected true or false, got {value!r}") from None


def parse_settings(config: pytest.Config) -> Settings:
    """Read every option once: the command line wins over the ini file. Bad values raise ``UsageError``."""
    enforce = config.getoption("shape_contracts")
    if enforce is None:
        enforce = _ini_bool(config, "shape_contracts")
    probe = config.getoption("shape_contracts_probe")
    if probe is None:
        probe = _ini_bool(config, "shape_contracts_probe")

    packages = config.getoption("shape_contracts_packages")
    if packages is None:
        text = str(config.getini("shape_contracts_packages") or "")
        try:
            packages = parse_packages(text) if text.strip() else ()
        except ValueError as error:
            raise pytest.UsageError(f"ini option shape_contracts_packages: {error}") from None

    report: Path | None = None
    cli_report = config.getoption("shape_contracts_report")
    try:
        if cli_report is not None:
            report = report_path(cli_report, config.invocation_params.dir, "--shape-contracts-report")
        else:
            text = str(config.getini("shape_contracts_report") or "")
            if text:
                base = config.inipath.parent if config.inipath is not None else config.rootpath
                report = report_path(text, base, "ini option shape_contracts_report")
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None
    return Settings(enforce=bool(enforce), packages=tuple(packages), report=report, probe=bool(probe))
