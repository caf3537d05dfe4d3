"""Size expressions: one tree gives the value, the formula people read and the sympy form, and the three agree."""

from __future__ import annotations

from typing import Any

import pytest
import sympy  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from data2vec_contracts import ContractDefinitionError
from data2vec_contracts.checker import Const, Expr, Rule, Sym, check_acyclic, minimum, parse_expr

NAMES = ("S", "T", "h")


@st.composite
def expressions(draw: st.DrawFn, depth: int = 0) -> Expr:
    """Random trees of names, integers, + - * and floor division / modulo by positive constants."""
    if depth >= 3 or draw(st.booleans()):
        return Sym(draw(st.sampled_from(NAMES))) if draw(st.booleans()) else Const(draw(st.integers(-50, 50)))
    left = draw(expressions(depth + 1))
    op = draw(st.sampled_from(["+", "-", "*", "//", "%"]))
    if op in ("//", "%"):
        divisor = draw(st.integers(1, 9))
        return left // divisor if op == "//" else left % divisor
    right = draw(expressions(depth + 1))
    return {"+": left + right, "-": left - right, "*": left * right}[op]


@settings(max_examples=300, deadline=None)
@given(expressions(), st.fixed_dictionaries({n: st.integers(-200, 5000) for n in NAMES}))
def test_value_text_and_sympy_agree(expr: Expr, values: dict[str, int]) -> None:
    """The folded tree, its printed formula (run as Python) and its sympy form give the same integer everywhere."""
    value = expr.evaluate(values)
    assert eval(expr.text(), {"__builtins__": {}}, dict(values)) == value
    symbols = {n: sympy.Symbol(n, integer=True) for n in NAMES}
    assert int(expr.sympy().subs({symbols[n]: v for n, v in values.items()})) == value


def test_a_product_with_a_floor_inside_keeps_its_parentheses() -> None:
    """Found by the test above: ``-1*((S//2)*S)`` printed as ``(-1)*S//2*S``, read by Python as ``((-1)*S)//2*S``."""
    expr = Const(-1) * ((Sym("S") // 2) * Sym("S"))
    assert expr.text() == "(-1)*(S//2*S)"
    assert eval(expr.text(), {"__builtins__": {}}, {"S": 1}) == expr.evaluate({"S": 1}) == 0
    assert (Sym("S") * (Sym("T") * Sym("h"))).text() == "S*T*h"


def test_a_conv_stack_composed_layer_by_layer_reads_as_one_floor() -> None:
    t: Expr = Sym("S")
    for k, s in zip((10, 3, 3, 3, 3, 2, 2), (5, 2, 2, 2, 2, 2, 2)):
        t = (t - k) // s + 1
    assert t.text() == "(S - 400)//320 + 1"
    assert t.names == ("S",)
    assert [t.evaluate({"S": s}) for s in (400, 719, 720, 16000)] == [1, 1, 2, 49]


def test_parsed_expressions_keep_their_text_and_fold_for_evaluation() -> None:
    expr = parse_expr("1+h*w")
    assert expr.text() == "1+h*w"
    assert expr.names == ("h", "w")
    assert expr.evaluate({"h": 4, "w": 6}) == 25
    assert parse_expr("min(4, N)").evaluate({"N": 3}) == 3
    assert minimum(4, Sym("N")).text() == "min(4, N)"
    assert parse_expr("N/2").evaluate({"N": 7}) == 3.5  # true division, as in jaxtyping


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1 + G**", "dimension expression '1 + G**' is not valid: invalid syntax"),
        ("a.b", "dimension expression 'a.b' may only use names, integers, + - * / // %, min(), max() and parentheses"),
        ("N ** 2", "dimension expression 'N ** 2' may only use names, integers, + - * / // %, min(), max() and "
         "parentheses"),
        ("f(N)", "dimension expression 'f(N)' may only use names, integers, + - * / // %, min(), max() and "
         "parentheses"),
    ],
)
def test_malformed_expressions_are_definition_errors(text: str, message: str) -> None:
    with pytest.raises(ContractDefinitionError) as info:
        parse_expr(text)
    assert str(info.value) == message


def test_relations_give_their_text_truth_and_sympy_form() -> None:
    cond = (Sym("N") + Sym("P")).le(62)
    assert cond.text() == "N + P <= 62"
    assert cond.names == ("N", "P")
    assert cond.holds({"N": 2, "P": 60})
    assert not cond.holds({"N": 3, "P": 60})
    n, p = sympy.symbols("N P", integer=True)
    assert cond.sympy() == sympy.Le(n + p, 62)


def test_cyclic_relations_are_found_before_any_call() -> None:
    rules: dict[str, Any] = {"A": Rule("A", parse_expr("B + 1")), "B": Rule("B", parse_expr("C*2")),
                             "C": Rule("C", parse_expr("A - 1"))}
    with pytest.raises(ContractDefinitionError, match=r"define A through itself \(A -> B -> C -> A\)"):
        check_acyclic(rules, "f")
    check_acyclic({"A": Rule("A", parse_expr("B + 1")), "B": Rule("B", parse_expr("C*2"))}, "f")
