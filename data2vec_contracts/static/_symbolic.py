"""Size expressions: torch.export's sympy on one side, the contract on the other, and a proof they agree.

A size expression built from integers, names, ``+``, ``*`` and floor division / modulo by constants
is a *quasi-polynomial*: on each residue class of its inputs modulo a period P it is a polynomial of
degree at most d in each input. Two of them that agree on (d + 1)·P consecutive values of every input
agree everywhere, so checking that grid is a proof, however large the range. Anything else is
checked exhaustively when the range is small enough, and sampled (and reported as such) otherwise.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

import sympy  # type: ignore[import-untyped]

__all__ = ["Verdict", "compare", "fmt", "from_torch", "python_function"]


def _floordiv_types() -> Any:
    from torch.utils._sympy.functions import FloorDiv

    return (FloorDiv,)


def from_torch(expr: Any, names: Mapping[Any, str]) -> sympy.Expr:
    """A torch.export size expression with its ``s0``-style symbols renamed to contract names."""
    expr = sympy.sympify(expr)
    return expr.xreplace({s: sympy.Symbol(names.get(s, str(s)), integer=True) for s in expr.free_symbols})


def _to_floor(expr: sympy.Expr) -> sympy.Expr:
    """Torch's ``FloorDiv``/``Mod`` as plain sympy ``floor``, so sympy can simplify it."""
    fd = _floordiv_types()

    def walk(e: Any) -> Any:
        if not e.args:
            return e
        args = [walk(a) for a in e.args]
        if isinstance(e, fd):
            return sympy.floor(args[0] / args[1])
        if type(e).__name__ in ("PythonMod", "Mod") and len(args) == 2:
            return args[0] - args[1] * sympy.floor(args[0] / args[1])
        return e.func(*args)

    return walk(expr)


def python_function(expr: sympy.Expr, names: tuple[str, ...]) -> Callable[..., int]:
    """A Python function of the named sizes, exact: rationals stay ``Fraction``, floor division stays integer.

    (sympy's and torch's printers write ``-26/27`` as a float division, and a float floor is off by one at exact
    integer boundaries.)
    """
    code = _code(sympy.sympify(expr))
    fn = eval(
        f"lambda {', '.join(names) or '_unused=0'}: {code}",
        {"_F": Fraction, "_floor": math.floor, "_ceil": math.ceil, "min": min, "max": max},
    )
    return fn  # type: ignore[no-any-return]


def _code(e: Any) -> str:
    """Python source for a size expression (integers, rationals, names, + * **, floor, FloorDiv, Mod, Min, Max)."""
    name = type(e).__name__
    if e.is_Integer:
        return str(int(e))
    if e.is_Rational:
        return f"_F({int(e.p)}, {int(e.q)})"
    if e.is_Symbol:
        return str(e)
    args = [_code(a) for a in e.args]
    if e.is_Add:
        return "(" + " + ".join(args) + ")"
    if e.is_Mul:
        return "(" + "*".join(args) + ")"
    if e.is_Pow and e.exp.is_Integer and e.exp >= 0:
        return f"({args[0]})**{int(e.exp)}"
    if isinstance(e, sympy.floor) or name == "FloorToInt":
        return f"_floor({args[0]})"
    if isinstance(e, sympy.ceiling) or name == "CeilToInt":
        return f"_ceil({args[0]})"
    if name == "FloorDiv":
        return f"(({args[0]}) // ({args[1]}))"
    if name in ("Mod", "PythonMod"):
        return f"(({args[0]}) % ({args[1]}))"
    if name == "Identity":
        return args[0]
    if name == "Min":
        return f"min({', '.join(args)})"
    if name == "Max":
        return f"max({', '.join(args)})"
    raise ValueError(f"no exact Python form for {name} in {e}")


# -- quasi-polynomial structure ---------------------------------------------------------------
def _period_degree(expr: sympy.Expr, var: sympy.Symbol) -> tuple[int, int] | None:
    """(period, degree) of ``expr`` in ``var``, or ``None`` when it is not a quasi-polynomial."""
    fd = _floordiv_types()
    e = expr
    if e.is_Integer or e.is_Symbol:
        return 1, 1 if e == var else 0
    if e.is_Rational:
        return 1, 0
    if isinstance(e, fd) or type(e).__name__ in ("PythonMod", "Mod"):
        num, den = e.args
        if not den.is_Integer or den <= 0:
            return None
        inner = _period_degree(num, var)
        if inner is None:
            return None
        return inner[0] * int(den), inner[1]
    if isinstance(e, sympy.floor):
        inner = _period_degree(e.args[0], var)
        if inner is None:
            return None
        dens = [sympy.fraction(c)[1] for c in e.args[0].atoms(sympy.Rational)]
        mult = math.lcm(*[int(d) for d in dens]) if dens else 1
        return inner[0] * mult, inner[1]
    if e.is_Add or e.is_Mul:
        found = [_period_degree(a, var) for a in e.args]
        parts = [p for p in found if p is not None]
        if len(parts) != len(found):
            return None
        period = math.lcm(*[p[0] for p in parts])
        degrees = [p[1] for p in parts]
        return period, max(degrees) if e.is_Add else sum(degrees)
    if e.is_Pow and e.exp.is_Integer and e.exp > 0:
        inner = _period_degree(e.base, var)
        return None if inner is None else (inner[0], inner[1] * int(e.exp))
    return None


@dataclass(frozen=True)
class Verdict:
    status: Literal["proved", "differs", "sampled"]
    method: str
    counterexample: dict[str, int] | None = None
    found_value: int | None = None
    contract_value: int | None = None


def compare(
    found: sympy.Expr,
    contract: Callable[[Mapping[str, int]], int],
    contract_expr: sympy.Expr | None,
    ranges: Mapping[str, tuple[int, int]],
    variables: tuple[str, ...],
    budget: int = 200_000,
    samples: int = 2_000,
) -> Verdict:
    """Is ``found`` (from torch.export) equal to the contract for every integer point of ``ranges``?"""
    names = tuple(v for v in variables if v in ranges)
    try:
        f_found = python_function(found, names)
    except ValueError as exc:
        return Verdict("sampled", f"not compared: {exc}")
    try:
        f_expr = python_function(contract_expr, names) if contract_expr is not None else None
    except ValueError:
        f_expr = contract_expr = None

    def contract_fast(point: Mapping[str, int]) -> int:
        return int(f_expr(**point)) if f_expr is not None else int(contract(point))

    def differs(points: Any) -> Verdict | None:
        for values in points:
            point = dict(zip(names, values, strict=False))
            a, b = int(f_found(**point)), int(contract_fast(point))
            if a != b:
                b_true = int(contract(point))
                return Verdict("differs", "counterexample", point, a, b_true)
        return None

    if not names:
        bad = differs([()])
        return bad or Verdict("proved", "constant")
    # (a) sympy says the difference is zero
    if contract_expr is not None:
        try:
            if sympy.simplify(_to_floor(found) - _to_floor(contract_expr)) == 0:
                bad = differs(_corners(names, ranges))
                return bad or Verdict("proved", "symbolic (sympy)")
        except Exception:
            pass
    box = math.prod(ranges[n][1] - ranges[n][0] + 1 for n in names)
    # (b) quasi-polynomial identity on (d+1)·P consecutive values of each variable
    if contract_expr is not None:
        grid = _quasi_grid(found, contract_expr, names, ranges)
        if grid is not None and math.prod(len(g) for g in grid) <= budget:
            bad = differs(itertools.product(*grid))
            if bad is not None:
                return bad
            size = math.prod(len(g) for g in grid)
            if size < box:
                return Verdict("proved", f"quasi-polynomial identity, {size} points cover every period")
            return Verdict("proved", f"exhaustive, all {box} sizes")
    # (c) every point
    if box <= budget:
        bad = differs(itertools.product(*[range(ranges[n][0], ranges[n][1] + 1) for n in names]))
        return bad or Verdict("proved", f"exhaustive, all {box} sizes")
    # (d) a sample: not a proof
    rng = random.Random(0)
    pts = list(_corners(names, ranges))
    pts += [tuple(rng.randint(*ranges[n]) for n in names) for _ in range(samples)]
    bad = differs(pts)
    return bad or Verdict("sampled", f"agreed at {len(pts)} sampled sizes, not exhaustive")


def _corners(names: tuple[str, ...], ranges: Mapping[str, tuple[int, int]]) -> list[tuple[int, ...]]:
    sides = [sorted({ranges[n][0], min(ranges[n][0] + 1, ranges[n][1]), ranges[n][1]}) for n in names]
    return list(itertools.product(*sides))


def _quasi_grid(
    a: sympy.Expr, b: sympy.Expr, names: tuple[str, ...], ranges: Mapping[str, tuple[int, int]]
) -> list[range] | None:
    grid = []
    for n in names:
        var = sympy.Symbol(n, integer=True)
        pa, pb = _period_degree(a, var), _period_degree(b, var)
        if pa is None or pb is None:
            return None
        period = math.lcm(pa[0], pb[0])
        degree = max(pa[1], pb[1])
        lo, hi = ranges[n]
        grid.append(range(lo, min(hi, lo + (degree + 1) * period - 1) + 1))
    return grid


# -- printing ---------------------------------------------------------------------------------
def fmt(expr: Any) -> str:
    """``((S//80 - 3)//2 - 1)//2 + 1``: sizes the way people write them."""
    e: Any = sympy.sympify(expr)
    fd = _floordiv_types()
    if isinstance(e, fd):
        num, den = e.args
        left = f"({fmt(num)})" if num.is_Add else fmt(num)
        right = fmt(den) if den.is_Atom else f"({fmt(den)})"
        return f"{left}//{right}"
    if e.is_Add:
        terms = sorted(e.args, key=lambda t: (t.is_number, str(t)))
        out = fmt(terms[0])
        for t in terms[1:]:
            if (t.is_number and t < 0) or (t.is_Mul and t.args[0].is_number and t.args[0] < 0):
                out += f" - {fmt(-t)}"
            else:
                out += f" + {fmt(t)}"
        return out
    if e.is_Mul:
        return "*".join(f"({fmt(a)})" if a.is_Add or isinstance(a, fd) else fmt(a) for a in e.args)
    return str(e)
