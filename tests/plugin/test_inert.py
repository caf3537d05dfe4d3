"""Inert unless asked: no heavy imports, and a run without our options is a run without the plugin."""

from __future__ import annotations

import re
import sys

import pytest

SUITE = """
import sys

import pytest

from data2vec_contracts import ShapeContractError


def test_passes():
    assert 1 + 1 == 2


def test_fails():
    assert [1, 2] == [1, 3]


def test_raises_a_violation():
    raise ShapeContractError("Shape contract violated: planted by the test.")


def test_expects_a_violation():
    with pytest.raises(ShapeContractError):
        raise ShapeContractError("Shape contract violated: on purpose.")


@pytest.fixture
def broken():
    raise ShapeContractError("Shape contract violated: in a fixture.")


def test_with_a_broken_fixture(broken):
    pass


def test_imported_neither_torch_nor_transformers():
    assert "torch" not in sys.modules
    assert "transformers" not in sys.modules
"""


def _comparable(lines: list[str]) -> list[str]:
    """Output lines without timings and without the ``plugins:`` line (it names the plugins loaded)."""
    out = []
    for line in lines:
        if line.startswith("plugins:"):
            continue
        out.append(re.sub(r" in \d+\.\d+s", " in <time>", line))
    return out


def test_importing_the_plugin_imports_neither_torch_nor_transformers(pytester: pytest.Pytester) -> None:
    code = (
        "import sys, pytest, data2vec_contracts.plugin; "
        "print(sorted(m for m in ('torch', 'transformers', 'jaxtyping', 'beartype', 'numpy') if m in sys.modules))"
    )
    result = pytester.run(sys.executable, "-c", code)
    assert result.ret == 0
    assert result.outlines == ["[]"]


def test_a_session_without_options_is_a_session_without_the_plugin(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE)
    with_plugin = pytester.runpytest_subprocess("-ra", "-p", "no:cacheprovider")
    without = pytester.runpytest_subprocess("-ra", "-p", "no:cacheprovider", "-p", "no:data2vec_contracts")
    with_plugin.assert_outcomes(passed=3, failed=2, errors=1)
    without.assert_outcomes(passed=3, failed=2, errors=1)
    assert _comparable(with_plugin.outlines) == _comparable(without.outlines)
    assert with_plugin.errlines == without.errlines
    assert not any("data2vec-contracts" in line for line in _comparable(with_plugin.outlines))
    assert any(line.startswith("plugins:") and "data2vec" in line for line in with_plugin.outlines)
