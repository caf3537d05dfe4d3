"""Options and ini twins: parsed once into frozen settings, bad values are precise usage errors, the header."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from data2vec_contracts.plugin import SETTINGS, Settings


def _configure(pytester: pytest.Pytester, *args: str) -> pytest.Config:
    """A configured Config; without the unraisable-exception plugin, whose unconfigure runs gc.collect() five
    times (seconds, with torch loaded)."""
    return pytester.parseconfigure("-p", "no:unraisableexception", *args)


def test_help_lists_the_options_in_one_group(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(
        [
            "data2vec-contracts: shape contracts of Data2Vec models:",
            "  --shape-contracts *check every call of the 15 Data2Vec model classes*",
            "  --shape-contracts-packages=PKG[,PKG...]",
            "  --shape-contracts-report=PATH",
            "  --shape-contracts-probe",
        ]
    )
    result.stdout.fnmatch_lines(["  shape_contracts (bool):*", "  shape_contracts_packages (linelist):*"])
    result.stdout.fnmatch_lines(["  shape_contracts_report (string):*", "  shape_contracts_probe (bool):*"])


def test_no_option_gives_inactive_default_settings(pytester: pytest.Pytester) -> None:
    config = _configure(pytester)
    assert config.stash[SETTINGS] == Settings()
    assert not config.stash[SETTINGS].active


def test_every_option_is_parsed_once_into_frozen_settings(pytester: pytest.Pytester) -> None:
    config = _configure(
        pytester,
        "--shape-contracts",
        "--shape-contracts-packages= mypipeline , other.pkg,mypipeline",
        "--shape-contracts-report=out.json",
        "--shape-contracts-probe",
    )
    settings = config.stash[SETTINGS]
    assert settings == Settings(
        enforce=True, packages=("mypipeline", "other.pkg"), report=pytester.path / "out.json", probe=True
    )
    assert settings.active
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.enforce = False  # type: ignore[misc]


def test_ini_twins(pytester: pytest.Pytester) -> None:
    (pytester.path / "reports").mkdir()
    pytester.makeini(
        """
        [pytest]
        shape_contracts = true
        shape_contracts_packages =
            mypipeline,
            otherpkg, third
        shape_contracts_report = reports/coverage.json
        shape_contracts_probe = yes
        """
    )
    config = _configure(pytester)
    assert config.stash[SETTINGS] == Settings(
        enforce=True,
        packages=("mypipeline", "otherpkg", "third"),
        report=pytester.path / "reports" / "coverage.json",
        probe=True,
    )


def test_the_command_line_wins_over_the_ini_file(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makeini(
        """
        [pytest]
        shape_contracts = false
        shape_contracts_packages = fromini
        shape_contracts_report = ini.json
        """
    )
    config = _configure(
        pytester,
        "--shape-contracts",
        "--shape-contracts-packages=fromcli",
        f"--shape-contracts-report={tmp_path / 'cli.json'}",
    )
    assert config.stash[SETTINGS] == Settings(enforce=True, packages=("fromcli",), report=tmp_path / "cli.json")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--shape-contracts-packages=a,,b"],
            "*argument --shape-contracts-packages: empty package name at item 2 of 'a,,b'; "
            "separate package names with single commas, e.g. mypipeline,otherpkg",
        ),
        (
            ["--shape-contracts-packages="],
            "*argument --shape-contracts-packages: no package named in ''; e.g. --shape-contracts-packages=mypipeline",
        ),
        (
            ["--shape-contracts-packages=my-pipeline"],
            "*argument --shape-contracts-packages: 'my-pipeline' is not a package name "
            "(dotted Python identifiers, e.g. mypipeline.models)",
        ),
        (
            ["--shape-contracts-report=missing/out.json"],
            "ERROR: --shape-contracts-report: directory */missing does not exist "
            "(create it first, or choose another path)",
        ),
        (
            ["--shape-contracts-report=."],
            "ERROR: --shape-contracts-report: * is a directory; give a file name such as */shape-contracts.json",
        ),
        (
            ["--shape-contracts-report="],
            "ERROR: --shape-contracts-report: empty path; give a file name such as shape-contracts.json",
        ),
    ],
    ids=["empty-item", "empty-list", "not-a-name", "missing-dir", "a-directory", "empty-path"],
)
def test_bad_option_values_are_usage_errors(pytester: pytest.Pytester, args: list[str], message: str) -> None:
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


@pytest.mark.parametrize(
    ("ini", "message"),
    [
        ("shape_contracts = maybe", "ERROR: ini option shape_contracts: expected true or false, got 'maybe'"),
        ("shape_contracts_probe = 2", "ERROR: ini option shape_contracts_probe: expected true or false, got '2'"),
        (
            "shape_contracts_packages = a, ,b",
            "ERROR: ini option shape_contracts_packages: empty package name at item 2 of 'a, ,b'; *",
        ),
        (
            "shape_contracts_report = nowhere/out.json",
            "ERROR: ini option shape_contracts_report: directory */nowhere does not exist *",
        ),
    ],
    ids=["bool", "probe-bool", "empty-package", "missing-dir"],
)
def test_bad_ini_values_are_usage_errors(pytester: pytest.Pytester, ini: str, message: str) -> None:
    pytester.makeini(f"[pytest]\n{ini}\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_an_unknown_package_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--shape-contracts-packages=no_such_package_here")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: --shape-contracts-packages: ModuleNotFoundError: No module named 'no_such_package_here'"]
    )


@pytest.mark.parametrize(
    ("args", "header"),
    [
        (
            ["--shape-contracts"],
            "data2vec-contracts: checking 15 Data2Vec classes + @contract functions",
        ),
        (
            ["--shape-contracts-report=out.json"],
            "data2vec-contracts: checking checked() models + @contract functions; report: out.json",
        ),
        (
            ["--shape-contracts", "--shape-contracts-probe"],
            "data2vec-contracts: checking 15 Data2Vec classes + @contract functions; probes: on",
        ),
    ],
    ids=["enforce", "report", "probe"],
)
def test_the_report_header_says_what_is_checked(pytester: pytest.Pytester, args: list[str], header: str) -> None:
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest(*args)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([header])
    assert sum("data2vec-contracts:" in line for line in result.outlines if "checking" in line) == 1


def test_the_header_says_when_the_environment_switched_checks_off(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATA2VEC_CONTRACTS", "0")
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest("--shape-contracts")
    result.stdout.fnmatch_lines(["data2vec-contracts: switched off by DATA2VEC_CONTRACTS=0 (nothing is checked)"])
