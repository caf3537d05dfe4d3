"""The public surface: the exported names are pinned, each resolves, the error classes present
themselves as ``data2vec_contracts.*``, and importing the package costs nothing (no torch)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import data2vec_contracts

EXPORTED = [
    "BatchIndependenceError",
    "CompiledShapeContractError",
    "ContractDefinitionError",
    "DistinctSizesError",
    "ExpectedField",
    "GridConsistencyError",
    "MaskForwardingError",
    "PaddingInvarianceError",
    "PatchLocalityError",
    "ProbeResult",
    "ProbeViolation",
    "ShapeContractError",
    "TrimInvarianceError",
    "auto_probe",
    "checked",
    "contract",
    "disabled",
    "enforce",
    "expected_shapes",
    "frame_mask",
    "is_checked",
    "masked_mean_pool",
    "num_frames",
    "num_tokens",
    "pinned_dims",
    "probe",
    "tokens_to_grid",
    "unchecked",
]


def test_all_is_pinned() -> None:
    assert data2vec_contracts.__all__ == EXPORTED


@pytest.mark.parametrize("name", EXPORTED)
def test_each_name_resolves_and_is_documented(name: str) -> None:
    value = getattr(data2vec_contracts, name)
    assert value is not None
    assert (value.__doc__ or "").strip(), f"{name} has no docstring"
    assert name in dir(data2vec_contracts)


def test_star_import_gives_exactly_the_public_names() -> None:
    namespace: dict[str, object] = {}
    exec("from data2vec_contracts import *", namespace)
    assert sorted(k for k in namespace if k != "__builtins__") == EXPORTED


def test_error_classes_live_in_the_package() -> None:
    from data2vec_contracts import ContractDefinitionError, ShapeContractError

    assert ShapeContractError.__module__ == "data2vec_contracts"
    assert ContractDefinitionError.__module__ == "data2vec_contracts"
    assert ShapeContractError.__qualname__ == "ShapeContractError"
    assert repr(ShapeContractError("x")) == "ShapeContractError('x')"


def test_every_exported_exception_lives_in_the_package() -> None:
    errors = [n for n in EXPORTED if isinstance(v := getattr(data2vec_contracts, n), type) and issubclass(v, Exception)]
    assert "ShapeContractError" in errors
    assert "ContractDefinitionError" in errors
    assert {n: getattr(data2vec_contracts, n).__module__ for n in errors} == dict.fromkeys(errors, "data2vec_contracts")


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="module 'data2vec_contracts' has no attribute 'nope'"):
        data2vec_contracts.nope  # noqa: B018


def test_import_does_not_import_torch() -> None:
    code = textwrap.dedent(
        """
        import sys
        import data2vec_contracts
        heavy = sorted(m for m in ("torch", "transformers", "jaxtyping", "beartype", "numpy") if m in sys.modules)
        print(",".join(heavy) or "none")
        data2vec_contracts.disabled  # a name whose module needs no torch loads none
        print("torch" in sys.modules)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.split() == ["none", "False"]
