"""Options (one group, each with an ini twin), parsing them once into the frozen settings, the marker
registration, and the report header."""

from __future__ import annotations

from pathlib import Path

import pytest

from ._markers import MARKER_HELP
from ._session import package_count, package_skips
from ._settings import SETTINGS, packages_arg, parse_settings, settings_of

__all__ = ["pytest_addoption", "pytest_configure", "pytest_report_header", "shown_path"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("data2vec-contracts", "data2vec-contracts: shape contracts of Data2Vec models")
    group.addoption(
        "--shape-contracts",
        action="store_true",
        default=None,
        dest="shape_contracts",
        help="check every call of the 15 Data2Vec model classes for the whole session (ini: shape_contracts)",
    )
    group.addoption(
        "--shape-contracts-packages",
        type=packages_arg,
        default=None,
        metavar="PKG[,PKG...]",
        dest="shape_contracts_packages",
        help="wrap every jaxtyping-annotated function and method of these packages with @contract, also when "
        "they were imported already (ini: shape_contracts_packages)",
    )
    group.addoption(
        "--shape-contracts-report",
        default=None,
        metavar="PATH",
        dest="shape_contracts_report",
        help="write the contract coverage (contracts, calls, dimension values, classes never exercised, "
        "violations) as JSON to PATH (ini: shape_contracts_report)",
    )
    group.addoption(
        "--shape-contracts-probe",
        action="store_true",
        default=None,
        dest="shape_contracts_probe",
        help=(
            "probe the first call of each @contract function in each test with the arguments the test passed "
            "(batch independence, padding invariance, distinct sizes, grid consistency) (ini: shape_contracts_probe)"
        ),
    )
    parser.addini("shape_contracts", "same as --shape-contracts", type="bool", default=False)
    # linelist: a TOML list arrives as a list, an ini value or a TOML string as text (commas or lines), with no
    # deprecation warning on any pytest (pytest 9 warns when a "string" option is given a list)
    parser.addini(
        "shape_contracts_packages",
        "same as --shape-contracts-packages: a TOML list, or names separated by commas or lines",
        type="linelist",
        default=[],
    )
    parser.addini("shape_contracts_report", "same as --shape-contracts-report (relative to the ini file)", default="")
    parser.addini("shape_contracts_probe", "same as --shape-contracts-probe", type="bool", default=False)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    config.stash[SETTINGS] = parse_settings(config)


def shown_path(config: pytest.Config, path: Path) -> str:
    """A path as the user would type it: relative to the invocation directory when inside it."""
    try:
        return str(path.relative_to(config.invocation_params.dir))
    except ValueError:
        return str(path)


def pytest_report_header(config: pytest.Config) -> str | list[str] | None:
    settings = settings_of(config)
    if not settings.active:
        return None
    from ..instrument import ENV_VAR, env_enabled

    if not env_enabled():
        return f"data2vec-contracts: switched off by {ENV_VAR}=0 (nothing is checked)"
    what = "15 Data2Vec classes + @contract functions" if settings.enforce else "checked() models + @contract functions"
    parts = [f"checking {what}"]
    if settings.packages:
        count = package_count(config)
        wrapped = "" if count is None else f" ({count} functions wrapped)"
        parts.append(f"packages: {', '.join(settings.packages)}{wrapped}")
    if settings.report is not None:
        parts.append(f"report: {shown_path(config, settings.report)}")
    if settings.probe:
        parts.append("probes: on")
    lines = ["data2vec-contracts: " + "; ".join(parts)]
    lines += [f"data2vec-contracts: not wrapped, left as it was: {name} ({why})" for name, why in package_skips(config)]
    return lines
