"""The plugin's settings: parsed once from the command line and the ini file, frozen, kept in ``config.stash``."""

from __future__ import annotations

import argparse
import re
import sys
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


def _raw_ini_value(config: pytest.Config, name: str) -> object:
    """The value of ini option ``name`` as the user wrote it (for messages), ``None`` if not found.

    Public API only, the same on every pytest: the last ``-o name=value``, else the config file read again
    (``[tool.pytest.ini_options]`` or ``[tool.pytest]`` of a TOML file, ``[pytest]`` / ``[tool:pytest]`` of an
    ini file). pytest's own ``Config.inicfg`` is deprecated since pytest 9.
    """
    overrides = config.getoption("override_ini", None) or []
    for item in reversed(overrides):
        key, sep, value = str(item).partition("=")
        if sep and key.strip() == name:
            return value
    path = config.inipath
    if path is None:
        return None
    try:
        if path.suffix == ".toml":
            if sys.version_info >= (3, 11):
                import tomllib
            else:  # pragma: no cover - pytest itself depends on tomli there
                import tomli as tomllib
            table = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {}).get("pytest", {})
            ini_options = table.get("ini_options", {})
            return ini_options[name] if name in ini_options else table.get(name)
        import iniconfig

        parsed = iniconfig.IniConfig(str(path))
        for section in ("pytest", "tool:pytest"):
            if section in parsed and name in parsed[section]:
                return parsed[section][name]
    except Exception:  # a file pytest itself could read; if we cannot, the message goes without the value
        return None
    return None


def _ini_bool(config: pytest.Config, name: str) -> bool:
    """A boolean ini option; a bad value is a usage error that names the option, on every pytest version
    (pytest 8 raises ``ValueError('invalid truth value ...')``, pytest 9 a ``UsageError`` or, for a TOML
    value of the wrong type, a ``TypeError``; neither names the option)."""
    try:
        value = config.getini(name)
    except (ValueError, TypeError, pytest.UsageError):
        value = _raw_ini_value(config, name)
        shown = "" if value is None else f", got {value!r}"
        raise pytest.UsageError(f"ini option {name}: expected true or false{shown}") from None
    return bool(value)


def _ini_packages(config: pytest.Config) -> tuple[str, ...]:
    """``shape_contracts_packages`` from the config file: a TOML list of names, or a string of names
    separated by commas or line breaks (an ini file, or a TOML string)."""
    name = "shape_contracts_packages"
    try:
        value = config.getini(name)
    except (ValueError, TypeError, pytest.UsageError):  # pytest 9's [tool.pytest] table: a TOML string
        value = _raw_ini_value(config, name)
    try:
        if value is None or value == "" or value == []:
            return ()
        if isinstance(value, str):
            return parse_packages(value) if value.strip() else ()
        if not isinstance(value, (list, tuple)):
            raise ValueError(
                f"expected a list of package names or a string of names separated by commas, got {value!r}"
            )
        items: list[str] = []
        for position, item in enumerate(value, start=1):
            if not isinstance(item, str) or not item.strip():
                raise ValueError(
                    f"item {position} of the list is {item!r}, not a package name; "
                    'give names as strings, e.g. ["mypipeline", "otherpkg"]'
                )
            items += [n for n in parse_packages(item) if n not in items]
        return tuple(items)
    except ValueError as error:
        raise pytest.UsageError(f"ini option {name}: {error}") from None


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
        packages = _ini_packages(config)

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
