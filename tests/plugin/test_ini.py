"""The ini twins in every config format pytest reads: an ini file, ``[tool.pytest.ini_options]`` and, on
pytest 9+, the native ``[tool.pytest]`` table; a TOML list or a string for the packages, no warning, our
messages for bad values."""

from __future__ import annotations

import pytest

from data2vec_contracts.plugin import SETTINGS

NATIVE_TOML = pytest.version_tuple >= (9,)
needs_native_toml = pytest.mark.skipif(not NATIVE_TOML, reason="the [tool.pytest] table is new in pytest 9.0")


def _configure(pytester: pytest.Pytester, *args: str) -> pytest.Config:
    """A configured Config with every warning an error, so a deprecation warning of pytest fails the test."""
    return pytester.parseconfigure("-p", "no:unraisableexception", "-W", "error", *args)


def _packages_of(pytester: pytest.Pytester, *args: str) -> tuple[str, ...]:
    return _configure(pytester, *args).stash[SETTINGS].packages


@pytest.mark.parametrize(
    ("table", "value"),
    [
        ("[tool.pytest.ini_options]", '["pkg", "b"]'),
        ("[tool.pytest.ini_options]", '"pkg, b"'),
        ("[tool.pytest.ini_options]", '"""\npkg,\nb\n"""'),
        ("[tool.pytest.ini_options]", '["pkg, b", "pkg"]'),
        pytest.param("[tool.pytest]", '["pkg", "b"]', marks=needs_native_toml),
        pytest.param("[tool.pytest]", '"pkg, b"', marks=needs_native_toml),
    ],
    ids=["ini-options-list", "ini-options-string", "ini-options-lines", "items-with-commas", "native-list", "native-s"],
)
def test_packages_from_pyproject(pytester: pytest.Pytester, table: str, value: str) -> None:
    """A TOML list, a comma-separated string and a multi-line string all name the same packages, without a warning
    (pytest 9.2 warned about a list given to a "string" option and the list arrived as its repr)."""
    pytester.makepyprojecttoml(f"{table}\nshape_contracts_packages = {value}\n")
    assert _packages_of(pytester) == ("pkg", "b")


@pytest.mark.parametrize(
    "text",
    [
        "shape_contracts_packages = pkg, b",
        "shape_contracts_packages =\n    pkg\n    b",
        "shape_contracts_packages = pkg,\n  b,",
    ],
    ids=["commas", "lines", "both"],
)
def test_packages_from_an_ini_file(pytester: pytest.Pytester, text: str) -> None:
    """The ini file's forms: names separated by commas, by line breaks, or both."""
    pytester.makeini(f"[pytest]\n{text}\n")
    assert _packages_of(pytester) == ("pkg", "b")


def test_packages_from_an_override(pytester: pytest.Pytester) -> None:
    """``-o shape_contracts_packages=...`` is read like the ini file."""
    assert _packages_of(pytester, "-o", "shape_contracts_packages=pkg,b") == ("pkg", "b")


def test_empty_packages_are_no_packages(pytester: pytest.Pytester) -> None:
    """An empty list or string switches nothing on."""
    pytester.makepyprojecttoml("[tool.pytest.ini_options]\nshape_contracts_packages = []\nshape_contracts = false\n")
    config = _configure(pytester)
    assert config.stash[SETTINGS].packages == ()
    assert not config.stash[SETTINGS].active


def test_a_toml_list_wraps_the_packages_in_a_real_run(pytester: pytest.Pytester) -> None:
    """End to end: a package named in a TOML list is wrapped, a shape bug in it fails its test, and the run shows
    no warning."""
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\nshape_contracts_packages = ["shapepkg"]\n')
    pytester.mkpydir("shapepkg").joinpath("core.py").write_text(
        "import torch\nfrom jaxtyping import Float\nfrom torch import Tensor\n\n\n"
        'def pool(x: Float[Tensor, "B N D"]) -> Float[Tensor, "B D"]:\n'
        "    return x.mean(dim=2)\n"
    )
    pytester.makepyfile(
        "import torch\nfrom shapepkg.core import pool\n\n\ndef test_pool():\n    pool(torch.zeros(2, 3, 4))\n"
    )
    pytester.syspathinsert()
    result = pytester.runpytest("-p", "no:unraisableexception", "-W", "error")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*packages: shapepkg (1 functions wrapped)*", "*Shape contract violated*"])
    assert "warning" not in result.stdout.str().lower()


@pytest.mark.parametrize(
    ("table", "line", "message"),
    [
        (
            "[tool.pytest.ini_options]",
            'shape_contracts = "maybe"',
            "ERROR: ini option shape_contracts: expected true or false, got 'maybe'",
        ),
        (
            "[tool.pytest.ini_options]",
            "shape_contracts_probe = 2",
            "ERROR: ini option shape_contracts_probe: expected true or false, got 2",
        ),
        pytest.param(
            "[tool.pytest]",
            'shape_contracts = "maybe"',
            "ERROR: ini option shape_contracts: expected true or false, got 'maybe'",
            marks=needs_native_toml,
        ),
        (
            "[tool.pytest.ini_options]",
            'shape_contracts_packages = ["pkg", "my-pkg"]',
            "ERROR: ini option shape_contracts_packages: 'my-pkg' is not a package name *",
        ),
        (
            "[tool.pytest.ini_options]",
            'shape_contracts_packages = ["pkg", ""]',
            "ERROR: ini option shape_contracts_packages: item 2 of the list is '', not a package name; *",
        ),
        pytest.param(
            "[tool.pytest]",
            "shape_contracts_packages = [1]",
            "ERROR: ini option shape_contracts_packages: item 1 of the list is 1, not a package name; *",
            marks=needs_native_toml,
        ),
        pytest.param(
            "[tool.pytest]",
            "shape_contracts_packages = 3",
            "ERROR: ini option shape_contracts_packages: expected a list of package names or a string *, got 3",
            marks=needs_native_toml,
        ),
    ],
    ids=["bool-string", "bool-int", "native-bool-string", "bad-name", "empty-item", "native-int-item", "native-int"],
)
def test_bad_pyproject_values_are_usage_errors(pytester: pytest.Pytester, table: str, line: str, message: str) -> None:
    """A bad value in pyproject.toml is a usage error that names the option and shows the value as written."""
    pytester.makepyprojecttoml(f"{table}\n{line}\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_a_bad_override_is_a_usage_error(pytester: pytest.Pytester) -> None:
    """``-o shape_contracts=maybe``: the same message, with the value from the command line."""
    result = pytester.runpytest("-o", "shape_contracts=maybe")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: ini option shape_contracts: expected true or false, got 'maybe'"])


@pytest.mark.parametrize("config_file", ["pytest.ini", "tox.ini", "setup.cfg"])
def test_bad_bool_in_each_ini_file(pytester: pytest.Pytester, config_file: str) -> None:
    """Each ini-style file pytest reads gives the same message with the value as written."""
    section = "tool:pytest" if config_file == "setup.cfg" else "pytest"
    pytester.path.joinpath(config_file).write_text(f"[{section}]\nshape_contracts = Maybe\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: ini option shape_contracts: expected true or false, got 'Maybe'"])
