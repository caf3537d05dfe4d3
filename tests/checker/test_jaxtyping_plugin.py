"""``--shape-contracts-packages`` over code written for jaxtyping + beartype: annotations ``@contract`` cannot wrap
today (a dict of arrays, a Union of arrays) must never abort the session, and a function already wrapped by
``@jaxtyped(typechecker=beartype)`` or by jaxtyping's import hook (``--jaxtyping-packages``) is reported at the
user's file:line."""

import json

import pytest

NESTED = {
    "nested_pkg/__init__.py": "",
    "nested_pkg/mod.py": """
from jaxtyping import Float, Int
from torch import Tensor


def by_key(batch: dict[str, Int[Tensor, "B N"]], hidden: Float[Tensor, "B N D"]) -> Float[Tensor, "B D"]:
    return hidden.mean(1)


def either(x: Float[Tensor, "B D"] | Float[Tensor, "B N D"]) -> Float[Tensor, "B D"]:
    return x if x.ndim == 2 else x.mean(1)


def plain(x: Float[Tensor, "B D"], y: Float[Tensor, "B D"]) -> Float[Tensor, "B D"]:
    return x + y
""",
}

NESTED_TESTS = """
import json

import pytest
import torch

import nested_pkg.mod as mod
from data2vec_contracts import ShapeContractError

NAMES = ("by_key", "either", "plain")


def wrapped(name):
    return hasattr(getattr(mod, name), "__shape_contract__")


def test_record_what_was_wrapped():
    with open("wrapped.json", "w") as out:
        json.dump({f"nested_pkg.mod.{name}": wrapped(name) for name in NAMES}, out)


def test_plain_is_checked():
    with pytest.raises(ShapeContractError):
        mod.plain(torch.zeros(2, 3), torch.zeros(3, 3))


def test_by_key_is_checked_or_left_as_it_was():
    hidden = torch.zeros(2, 3, 4)
    assert mod.by_key({"a": torch.zeros(2, 3, dtype=torch.long)}, hidden).shape == (2, 4)
    bad = {"a": torch.zeros(5, 3, dtype=torch.long)}  # B=5 against hidden's B=2
    if wrapped("by_key"):
        with pytest.raises(ShapeContractError):
            mod.by_key(bad, hidden)
    else:
        assert mod.by_key(bad, hidden).shape == (2, 4)


def test_either_is_checked_or_left_as_it_was():
    assert mod.either(torch.zeros(2, 3)).shape == (2, 3)
    assert mod.either(torch.zeros(2, 5, 3)).shape == (2, 3)
    bad = torch.zeros(2, 3, dtype=torch.long)  # not a Float
    if wrapped("either"):
        with pytest.raises(ShapeContractError):
            mod.either(bad)
    else:
        assert mod.either(bad).shape == (2, 3)
"""


def _write(pytester: pytest.Pytester, files: dict[str, str]) -> None:
    for path, text in files.items():
        (pytester.path / path).parent.mkdir(exist_ok=True)
        (pytester.path / path).write_text(text)
    pytester.syspathinsert()


def test_functions_that_cannot_be_wrapped_never_abort_the_session(pytester: pytest.Pytester) -> None:
    """A dict of arrays and a Union of arrays: each is checked, or listed in the header with the reason and left
    as it was; the session runs its tests either way."""
    _write(pytester, NESTED)
    pytester.makepyfile(test_nested=NESTED_TESTS)
    result = pytester.runpytest_subprocess("--shape-contracts-packages=nested_pkg", "-p", "no:cacheprovider")
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.assert_outcomes(passed=4)
    wrapped = json.loads((pytester.path / "wrapped.json").read_text())
    assert wrapped["nested_pkg.mod.plain"] is True
    lines = result.stdout.lines
    header = lines[: next(i for i, line in enumerate(lines) if line.startswith("collected"))]
    for name, done in wrapped.items():
        if not done:  # listed with a reason (the line says more than the name)
            assert any(name in line and len(line.strip()) > len(name) + 10 for line in header), (name, header)


DECORATED = {
    "wrapped_pkg/__init__.py": "",
    "wrapped_pkg/mod.py": """from beartype import beartype
from jaxtyping import Float, jaxtyped
from torch import Tensor


@jaxtyped(typechecker=beartype)
def pool(x: Float[Tensor, "B N D"]) -> Float[Tensor, "B D"]:
    return x.mean(1)
""",
}
HOOKED = {
    "hooked_pkg/__init__.py": "",
    "hooked_pkg/mod.py": """from jaxtyping import Float
from torch import Tensor


def pool(x: Float[Tensor, "B N D"]) -> Float[Tensor, "B D"]:
    return x.mean(1)
""",
}
CALL = """
import torch


def test_pool():
    from {package}.mod import pool

    pool(torch.zeros(2, 3))  # rank 2 for "B N D"
"""


@pytest.mark.parametrize(
    ("files", "options", "declared"),
    [
        pytest.param(DECORATED, ["--shape-contracts-packages=wrapped_pkg"], "wrapped_pkg/mod.py:6", id="jaxtyped"),
        pytest.param(
            HOOKED,
            ["--jaxtyping-packages=hooked_pkg,beartype.beartype", "--shape-contracts-packages=hooked_pkg"],
            "hooked_pkg/mod.py:5",
            id="jaxtyping-import-hook",
        ),
    ],
)
def test_declared_line_of_a_jaxtyped_function_wrapped_by_the_plugin(
    pytester: pytest.Pytester, files: dict[str, str], options: list[str], declared: str
) -> None:
    """The plugin wraps a function that jaxtyping already wraps; the violation names the user's file:line."""
    _write(pytester, files)
    package = next(iter(files)).split("/")[0]
    pytester.makepyfile(test_call=CALL.format(package=package))
    result = pytester.runpytest_subprocess(*options, "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E   data2vec_contracts.ShapeContractError: Shape contract violated: rank of argument x.",
            f"E     Function: {package}.mod.pool",
            f"E       Declared: {declared}",
        ]
    )
