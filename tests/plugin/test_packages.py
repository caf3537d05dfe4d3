"""``--shape-contracts-packages``: annotated functions and methods of a package checked without decorators,
also when the package was imported before the plugin ran (by a conftest), and everything put back."""

from __future__ import annotations

import sys
from typing import Any

import pytest

PACKAGE = {
    "mypipe/__init__.py": "from mypipe.pool import mean_pool\n",
    "mypipe/pool.py": """
from jaxtyping import Float, Int
from torch import Tensor


def mean_pool(hidden: Float[Tensor, "B N D"], mask: Int[Tensor, "B N"]) -> Float[Tensor, "B D"]:
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1)


def helper(x):
    return x
""",
    "mypipe/heads.py": """
from __future__ import annotations

from jaxtyping import Float
from torch import Tensor

from mypipe.pool import mean_pool


class Head:
    def __call__(self, hidden: Float[Tensor, "B N D"]) -> Float[Tensor, "B D"]:
        return hidden[:, 0]

    @staticmethod
    def first(hidden: Float[Tensor, "B N D"]) -> Float[Tensor, "B D"]:
        return hidden[:, 0]

    @classmethod
    def last(cls, hidden: Float[Tensor, "B N D"]) -> Float[Tensor, "B D"]:
        return hidden[:, -1]


def embed(hidden, mask):
    return mean_pool(hidden, mask)
""",
    "mypipe/lazy.py": """
from jaxtyping import Float
from torch import Tensor


def squeeze_last(x: Float[Tensor, "B N 1"]) -> Float[Tensor, "B N"]:
    return x[..., 0]
""",
}

CONFTEST = """
import pytest
import torch

from mypipe.pool import mean_pool  # imported before the plugin wraps anything


@pytest.fixture
def pooled():
    return mean_pool(torch.zeros(2, 3, 4), torch.ones(2, 3))  # a float mask: breaks Int[Tensor, "B N"]
"""

TESTS = """
import pytest
import torch

import mypipe
import mypipe.heads
from data2vec_contracts import ShapeContractError


def test_through_the_conftest_name(pooled):
    pass


def test_through_the_package_attribute():
    with pytest.raises(ShapeContractError, match="dimension N of argument mask"):
        mypipe.mean_pool(torch.zeros(2, 3, 4), torch.ones(2, 5, dtype=torch.long))


def test_through_the_name_imported_in_another_module():
    with pytest.raises(ShapeContractError, match="dimension N of argument mask"):
        mypipe.heads.embed(torch.zeros(2, 3, 4), torch.ones(2, 5, dtype=torch.long))


def test_methods_static_and_class_methods():
    for fn in (mypipe.heads.Head(), mypipe.heads.Head.first, mypipe.heads.Head.last):
        with pytest.raises(ShapeContractError, match="rank of argument hidden"):
            fn(torch.zeros(2, 3))


def test_a_module_nobody_imported():
    import mypipe.lazy

    with pytest.raises(ShapeContractError, match="dimension axis 2 of argument x"):
        mypipe.lazy.squeeze_last(torch.zeros(2, 3, 2))


def test_good_calls_pass_and_are_recorded(shape_contract_recorder):
    mypipe.heads.embed(torch.zeros(2, 3, 4), torch.ones(2, 3, dtype=torch.long))
    assert shape_contract_recorder.contracts() == ["mypipe.pool.mean_pool"]
    assert mypipe.pool.helper(5) == 5 and not hasattr(mypipe.pool.helper, "__shape_contract__")
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    for path, text in PACKAGE.items():
        (pytester.path / path).parent.mkdir(exist_ok=True)
        (pytester.path / path).write_text(text)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_pipeline=TESTS)
    pytester.syspathinsert()
    return pytester


def test_a_package_imported_by_a_conftest_is_checked(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess("--shape-contracts-packages=mypipe", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=5, failed=1)
    result.stdout.fnmatch_lines(
        [
            "data2vec-contracts: checking checked() models + @contract functions; "
            "packages: mypipe (5 functions wrapped)",
            "*_ test_through_the_conftest_name _*",
            "conftest.py:9: in pooled",
            '    return mean_pool(torch.zeros(2, 3, 4), torch.ones(2, 3))  # a float mask: breaks Int[Tensor, "B N"]',
            "E   data2vec_contracts.ShapeContractError: Shape contract violated: dtype of argument mask.",
            "E     Function: mypipe.pool.mean_pool",
        ]
    )


def test_without_the_option_nothing_is_wrapped(project: pytest.Pytester) -> None:
    result = project.runpytest()
    result.assert_outcomes(passed=1, failed=5)


class _KeepModules:
    """Keeps the inner session's modules once the plugin unconfigured (pytester drops them right after the run)."""

    modules: dict[str, Any]

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self) -> None:
        self.modules = {name: sys.modules[name] for name in ("mypipe", "mypipe.pool", "mypipe.heads", "mypipe.lazy")}
        self.modules["conftest"] = sys.modules["conftest"]


def test_the_ini_twin_and_exact_restoration(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\nshape_contracts_packages = mypipe\n")
    keep = _KeepModules()
    result = project.runpytest(plugins=[keep])
    result.assert_outcomes(passed=5, failed=1)
    pool, heads, lazy = (keep.modules[f"mypipe.{name}"] for name in ("pool", "heads", "lazy"))
    originals = [pool.mean_pool, heads.Head.__dict__["first"].__func__, heads.Head.__dict__["last"].__func__]
    originals += [heads.Head.__dict__["__call__"], lazy.squeeze_last]
    assert [hasattr(fn, "__shape_contract__") for fn in originals] == [False] * 5
    assert heads.mean_pool is pool.mean_pool is keep.modules["mypipe"].mean_pool is keep.modules["conftest"].mean_pool
