"""jaxtyping idioms inside and around a ``@contract`` function, side by side with ``@jaxtyped(typechecker=beartype)``:
in-body ``isinstance`` against the call's bindings, ``jaxtyping.print_bindings()``, jaxtyping's off switch
(``JAXTYPING_DISABLE=1`` read at import, ``jaxtyping.config.update("jaxtyping_disable", True)`` read per call),
the ``Declared:`` line of a function already wrapped by jaxtyping or beartype, and a decorated dataclass.
Each runs under both decorators and must give the same result."""

import contextlib
import dataclasses
import functools
import inspect
import io
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jaxtyping
import pytest
import torch
from beartype import beartype
from jaxtyping import Float, Int, TypeCheckError, jaxtyped
from torch import Tensor

from data2vec_contracts import ShapeContractError, contract

Decorator = Callable[[Any], Any]
REFERENCE: Decorator = jaxtyped(typechecker=beartype)
ROOT = Path(__file__).resolve().parents[2]



def t(*shape: int, dtype: torch.dtype = torch.float32) -> Tensor:
    return torch.zeros(shape, dtype=dtype)


# -- in-body isinstance ---------------------------------------------------------------------------
def _sees_bindings(x: Float[Tensor, "B D"], same: Tensor, other: Tensor) -> tuple[bool, bool]:
    array = Float[Tensor, "B D"]
    return isinstance(same, array), isinstance(other, array)  # type: ignore[arg-type]


def test_in_body_isinstance_sees_the_dimensions_bound_by_the_arguments() -> None:
    """``isinstance(v, Float[Tensor, "B D"])`` in the body is True for a (B, D) value, False for another size."""
    args = (t(2, 3), t(2, 3), t(4, 3))
    expected = REFERENCE(_sees_bindings)(*args)
    assert expected == (True, False)
    assert contract(_sees_bindings)(*args) == expected


def _binds_in_body(x: Float[Tensor, "B N"], hidden: Tensor, out: Tensor) -> Float[Tensor, "B H"]:
    assert isinstance(hidden, Float[Tensor, "B H"])  # type: ignore[arg-type]  # binds H for the return check
    return out


def _outcome(decorate: Decorator, fn: Callable[..., Any], *args: Any) -> str:
    try:
        decorate(fn)(*args)
    except (ShapeContractError, TypeCheckError):
        return "reject"
    return "accept"


def test_in_body_isinstance_binds_for_the_return_check() -> None:
    """A dimension bound by an ``isinstance`` in the body (H) is checked against the return value."""
    args = (t(2, 5), t(2, 4), t(2, 7))  # the body binds H=4, the return has H=7
    expected = _outcome(REFERENCE, _binds_in_body, *args)
    assert expected == "reject"
    assert _outcome(contract, _binds_in_body, *args) == expected


def _inner(y: Float[Tensor, " M"], probe: Tensor) -> bool:
    return isinstance(probe, Float[Tensor, " N"])  # type: ignore[arg-type]


def test_in_body_isinstance_does_not_see_the_callers_jaxtyped_scope() -> None:
    """Inside a ``@contract`` function called from a jaxtyped function, the caller's N (2) is not in scope."""

    def caller(decorated_inner: Callable[..., bool]) -> Callable[..., bool]:
        @REFERENCE
        def outer(x: Float[Tensor, " N"]) -> bool:
            return decorated_inner(t(3), t(5))

        return outer

    expected = caller(REFERENCE(_inner))(t(2))
    assert expected is True  # a new scope: N is free
    assert caller(contract(_inner))(t(2)) is expected


# -- print_bindings -------------------------------------------------------------------------------
def _prints(x: Float[Tensor, "B D"], y: Float[Tensor, "*batch D"], n: int) -> None:
    jaxtyping.print_bindings()


def _printed(decorate: Decorator) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        decorate(_prints)(t(2, 3), t(4, 5, 3), 1)
    return out.getvalue()




def test_print_bindings_prints_the_calls_bindings() -> None:
    """``jaxtyping.print_bindings()`` in the body prints the same text as under jaxtyped (B, D and *batch)."""
    expected = _printed(REFERENCE)
    assert expected.splitlines()[1:] == ["B=2", "D=3", "batch=torch.Size([4, 5])"]
    assert _printed(contract) == expected


# -- jaxtyping's off switch -----------------------------------------------------------------------
def _mismatch(x: Float[Tensor, " B"], y: Float[Tensor, " B"]) -> None:
    pass


@contextlib.contextmanager
def _jaxtyping_disabled() -> Iterator[None]:
    before = jaxtyping.config.jaxtyping_disable
    jaxtyping.config.update("jaxtyping_disable", True)
    try:
        yield
    finally:
        jaxtyping.config.update("jaxtyping_disable", before)


def test_jaxtyping_reads_its_switch_at_each_call() -> None:
    """jaxtyping exposes the switch as ``jaxtyping.config.jaxtyping_disable``, read by each jaxtyped call
    (0.3.11 _decorator.py:526, 0.2.36 :544), so a function decorated before the switch is switched off too."""
    decorated = REFERENCE(_mismatch)
    assert jaxtyping.config.jaxtyping_disable is False
    with pytest.raises(TypeCheckError):
        decorated(t(2), t(3))
    with _jaxtyping_disabled():
        assert jaxtyping.config.jaxtyping_disable is True
        decorated(t(2), t(3))


def test_jaxtyping_config_switch_turns_contract_checks_off() -> None:
    """``jaxtyping.config.update("jaxtyping_disable", True)`` switches ``@contract`` checks off, as jaxtyped's."""
    checked = contract(_mismatch)
    with _jaxtyping_disabled():
        REFERENCE(_mismatch)(t(2), t(3))
        checked(t(2), t(3))


_ENV_SCRIPT = textwrap.dedent(
    """
    import os
    import jaxtyping, torch
    from beartype import beartype
    from jaxtyping import Float, jaxtyped
    from torch import Tensor
    from data2vec_contracts import contract

    def f(x: Float[Tensor, " B"], y: Float[Tensor, " B"]) -> None:
        pass

    def outcome(decorate):
        try:
            decorate(f)(torch.zeros(2), torch.zeros(3))
        except TypeError:
            return "reject"
        return "accept"

    print(jaxtyping.config.jaxtyping_disable, outcome(jaxtyped(typechecker=beartype)), outcome(contract))
    os.environ["JAXTYPING_DISABLE"] = "0"  # read once, at import: changing it now does nothing
    print(jaxtyping.config.jaxtyping_disable)
    """
)


@functools.cache
def _run_with_jaxtyping_disabled() -> list[str]:
    """One subprocess for both tests: it imports torch, which takes seconds."""
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "JAXTYPING_DISABLE": "1"}
    environ.pop("DATA2VEC_CONTRACTS", None)
    done = subprocess.run(
        [sys.executable, "-c", _ENV_SCRIPT], env=environ, capture_output=True, text=True, timeout=300, check=True
    )
    return done.stdout.split()


def test_jaxtyping_reads_its_environment_variable_at_import() -> None:
    """``JAXTYPING_DISABLE=1`` is read once, when jaxtyping is imported (_config.py:21 ``_JaxtypingConfig``)."""
    disabled, reference, _ours, after = _run_with_jaxtyping_disabled()
    assert (disabled, reference, after) == ("True", "accept", "True")


def test_jaxtyping_disable_environment_variable_turns_contract_checks_off() -> None:
    """With ``JAXTYPING_DISABLE=1`` in the environment ``@contract`` checks nothing, like jaxtyped."""
    _, reference, ours, _ = _run_with_jaxtyping_disabled()
    assert ours == reference == "accept"


# -- the Declared: line of an already wrapped function --------------------------------------------
def _where(fn: Callable[..., Any]) -> str:
    """The user's file:line, in the form of the Declared: line (a path relative to the working directory)."""
    code = inspect.unwrap(fn).__code__
    return f"{os.path.relpath(code.co_filename)}:{code.co_firstlineno}"


def _declared(fn: Callable[..., Any]) -> str:
    with pytest.raises(ShapeContractError) as info:
        fn(t(2, dtype=torch.long))
    assert info.value.violation is not None
    return str(info.value.violation.declared)


@contract
def plain_fn(x: Float[Tensor, " B"]) -> None:
    pass


@contract
@jaxtyped(typechecker=beartype)
def jaxtyped_fn(x: Float[Tensor, " B"]) -> None:
    pass


@contract
@beartype
def beartype_fn(x: Float[Tensor, " B"]) -> None:
    pass


def test_declared_line_of_a_plain_function() -> None:
    """The reference form: the Declared: line of an unwrapped function is its file:line."""
    assert _declared(plain_fn) == _where(plain_fn)
    assert _where(plain_fn).startswith(os.path.relpath(__file__) + ":")


@pytest.mark.parametrize("fn", [jaxtyped_fn, beartype_fn], ids=["jaxtyped", "beartype"])
def test_declared_line_of_a_function_under_jaxtyped_or_beartype(fn: Callable[..., Any]) -> None:
    """``@contract`` over ``@jaxtyped(typechecker=beartype)`` or ``@beartype``: Declared: is the user's file:line."""
    assert _declared(fn) == _where(fn)
    assert _where(fn).startswith(os.path.relpath(__file__) + ":")


# -- a decorated dataclass ------------------------------------------------------------------------
def _dataclass() -> type:
    @dataclasses.dataclass
    class Example:
        hidden: Float[Tensor, "B D"]
        mask: Int[Tensor, " B"]

    return Example


def test_a_decorated_dataclass_stays_a_class() -> None:
    """``@jaxtyped(typechecker=beartype)`` on a dataclass returns the class itself; ``@contract`` should too."""
    reference = REFERENCE(_dataclass())
    assert isinstance(reference, type)
    assert isinstance(reference(t(2, 3), t(2, dtype=torch.long)), reference)
    ours = contract(_dataclass())
    assert isinstance(ours, type)
