"""Size expressions: one tree per derived dimension, from which its value, its display formula and its sympy form come.

An :class:`Expr` is built by parsing (``parse_expr("1 + h*w")``, the grammar of jaxtyping's symbolic dimensions and of
``where=``) or with Python operators (``(Sym("S") - 400) // 320 + 1``). Building folds constants and nested floor
divisions (``((X)//a + c)//b`` becomes ``(X + c*a)//(a*b)``, exact for integers), so a conv stack composed layer by
layer reads ``(S - 400)//320 + 1``. Evaluation runs a Python function generated once per expression (no ``eval`` per
call).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Union

from ._errors import ContractDefinitionError
from ._trace import dynamo_tracing

__all__ = ["Compare", "Const", "Expr", "Sym", "as_expr", "maximum", "minimum", "parse_expr", "parse_names"]

Op = Literal["+", "-", "*", "//", "%", "/"]
Relation = Literal["<=", ">=", "==", "<", ">", "!="]
ExprLike = Union["Expr", int]

_PRECEDENCE: dict[str, int] = {"+": 1, "-": 1, "*": 2, "//": 2, "%": 2, "/": 2}


class Expr:
    """An integer size expression. Subclasses: :class:`Const`, :class:`Sym`, ``_Bin``, ``_Call``."""

    __slots__ = ("_fn", "_text", "names", "source")
    names: tuple[str, ...]
    source: str | None  # the text it was parsed from, shown as written

    def __init__(self, names: tuple[str, ...], source: str | None = None) -> None:
        self.names = names
        self.source = source
        self._fn: Callable[[Mapping[str, Any]], Any] | None = None
        self._text: str | None = None

    # -- the three views ------------------------------------------------------------------------
    def evaluate(self, values: Mapping[str, Any]) -> Any:
        """The value under ``values`` (every name bound); ints stay ints (``/`` gives a float, as in jaxtyping).

        Symbolic sizes (while torch traces) give a symbolic result: nothing is forced to an int. While dynamo traces,
        the tree is walked (a generated function stored on a plan cannot be called there).
        """
        if dynamo_tracing():
            return self._walk(values)
        fn = self._fn
        if fn is None:
            fn = self._fn = _compile(self)
        return fn(values)

    def prepare(self) -> Expr:
        """Build the evaluating function now (dynamo cannot trace ``compile``): plans call it for every expression."""
        if self._fn is None:
            self._fn = _compile(self)
        return self

    def text(self) -> str:
        """The formula people read: the source text when parsed, else ``(S - 400)//320 + 1`` style."""
        if self.source is not None:
            return self.source
        text = self._text
        if text is None:
            text = self._text = self._print(0)
        return text

    def sympy(self, env: Mapping[str, Any] | None = None) -> Any:
        """The sympy form; names map through ``env`` (default: integer symbols)."""
        import sympy  # type: ignore[import-untyped]

        return self._sympy(sympy, env or {})

    # -- building -------------------------------------------------------------------------------
    def __add__(self, other: ExprLike) -> Expr:
        return _bin("+", self, as_expr(other))

    def __radd__(self, other: int) -> Expr:
        return _bin("+", as_expr(other), self)

    def __sub__(self, other: ExprLike) -> Expr:
        return _bin("-", self, as_expr(other))

    def __rsub__(self, other: int) -> Expr:
        return _bin("-", as_expr(other), self)

    def __mul__(self, other: ExprLike) -> Expr:
        return _bin("*", self, as_expr(other))

    def __rmul__(self, other: int) -> Expr:
        return _bin("*", as_expr(other), self)

    def __floordiv__(self, other: ExprLike) -> Expr:
        return _bin("//", self, as_expr(other))

    def __mod__(self, other: ExprLike) -> Expr:
        return _bin("%", self, as_expr(other))

    def le(self, other: ExprLike) -> Compare:
        return Compare(self, "<=", as_expr(other))

    def ge(self, other: ExprLike) -> Compare:
        return Compare(self, ">=", as_expr(other))

    def eq(self, other: ExprLike) -> Compare:
        return Compare(self, "==", as_expr(other))

    def gt(self, other: ExprLike) -> Compare:
        return Compare(self, ">", as_expr(other))

    def substitute(self, mapping: Mapping[str, ExprLike]) -> Expr:
        """The expression with names replaced (by other expressions or constants), folded again."""
        raise NotImplementedError

    def constant(self) -> int | None:
        return None

    # -- per node ---------------------------------------------------------------------------------
    def _walk(self, values: Mapping[str, Any]) -> Any:
        raise NotImplementedError

    def _code(self) -> str:
        raise NotImplementedError

    def _print(self, parent: int) -> str:
        raise NotImplementedError

    def _sympy(self, sympy: Any, env: Mapping[str, Any]) -> Any:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"Expr({self.text()!r})"


class Const(Expr):
    __slots__ = ("value",)

    def __init__(self, value: int, source: str | None = None) -> None:
        super().__init__((), source)
        self.value = value

    def substitute(self, mapping: Mapping[str, ExprLike]) -> Expr:
        return self

    def constant(self) -> int:
        return self.value

    def _walk(self, values: Mapping[str, Any]) -> Any:
        return self.value

    def _code(self) -> str:
        return repr(self.value)

    def _print(self, parent: int) -> str:
        return str(self.value) if self.value >= 0 or parent == 0 else f"({self.value})"

    def _sympy(self, sympy: Any, env: Mapping[str, Any]) -> Any:
        return sympy.Integer(self.value)


class Sym(Expr):
    __slots__ = ("name",)

    def __init__(self, name: str, source: str | None = None) -> None:
        super().__init__((name,), source)
        self.name = name

    def substitute(self, mapping: Mapping[str, ExprLike]) -> Expr:
        found = mapping.get(self.name)
        return self if found is None else as_expr(found)

    def _walk(self, values: Mapping[str, Any]) -> Any:
        return values[self.name]

    def _code(self) -> str:
        return f"v[{self.name!r}]"

    def _print(self, parent: int) -> str:
        return self.name

    def _sympy(self, sympy: Any, env: Mapping[str, Any]) -> Any:
        found = env.get(self.name)
        return found if found is not None else sympy.Symbol(self.name, integer=True)


class _Bin(Expr):
    __slots__ = ("left", "op", "right")

    def __init__(self, op: Op, left: Expr, right: Expr, source: str | None = None) -> None:
        super().__init__(tuple(dict.fromkeys((*left.names, *right.names))), source)
        self.op: Op = op
        self.left = left
        self.right = right

    def substitute(self, mapping: Mapping[str, ExprLike]) -> Expr:
        return _bin(self.op, self.left.substitute(mapping), self.right.substitute(mapping))

    def _walk(self, values: Mapping[str, Any]) -> Any:
        a, b, op = self.left._walk(values), self.right._walk(values), self.op
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "//":
            return a // b
        if op == "%":
            return a % b
        return a / b

    def _code(self) -> str:
        return f"({self.left._code()} {self.op} {self.right._code()})"

    def _print(self, parent: int) -> str:
        mine = _PRECEDENCE[self.op]
        left = self.left._print(mine)
        # on the right, equal precedence needs parentheses except in a + (b - c) and a*(b*c): a*(b//c) != a*b//c
        same_ok = self.op == "+" or (self.op == "*" and _product(self.right))
        right = self.right._print(mine + (0 if same_ok else 1))
        if self.op == "+" and isinstance(self.right, Const) and self.right.value < 0:
            text = f"{left} - {-self.right.value}"
        elif self.op in ("+", "-", "%"):
            text = f"{left} {self.op} {right}"
        else:
            text = f"{left}{self.op}{right}"
        return f"({text})" if mine < parent else text

    def _sympy(self, sympy: Any, env: Mapping[str, Any]) -> Any:
        a, b = self.left._sympy(sympy, env), self.right._sympy(sympy, env)
        if self.op == "+":
            return a + b
        if self.op == "-":
            return a - b
        if self.op == "*":
            return a * b
        if self.op == "//":
            return sympy.floor(a / b)
        if self.op == "%":
            return sympy.Mod(a, b)
        return a / b


class _Call(Expr):
    __slots__ = ("args", "fn")

    def __init__(self, fn: Literal["min", "max"], args: tuple[Expr, ...], source: str | None = None) -> None:
        super().__init__(tuple(dict.fromkeys(n for a in args for n in a.names)), source)
        self.fn: Literal["min", "max"] = fn
        self.args = args

    def substitute(self, mapping: Mapping[str, ExprLike]) -> Expr:
        return _call(self.fn, tuple(a.substitute(mapping) for a in self.args))

    def _walk(self, values: Mapping[str, Any]) -> Any:
        parts = [a._walk(values) for a in self.args]
        return min(parts) if self.fn == "min" else max(parts)

    def _code(self) -> str:
        return f"{self.fn}({', '.join(a._code() for a in self.args)})"

    def _print(self, parent: int) -> str:
        return f"{self.fn}({', '.join(a._print(0) for a in self.args)})"

    def _sympy(self, sympy: Any, env: Mapping[str, Any]) -> Any:
        parts = [a._sympy(sympy, env) for a in self.args]
        return sympy.Min(*parts) if self.fn == "min" else sympy.Max(*parts)


def as_expr(value: ExprLike) -> Expr:
    if isinstance(value, Expr):
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"a size expression takes ints and expressions, got {value!r}")
    return Const(value)


def _bin(op: Op, left: Expr, right: Expr) -> Expr:
    """A binary node, folded: constants, ``x + 0``, ``x*1``, constant chains and nested floor divisions."""
    a, b = left.constant(), right.constant()
    if a is not None and b is not None and not (op in ("//", "%", "/") and b == 0):
        value = {"+": a + b, "-": a - b, "*": a * b, "//": a // b if b else 0, "%": a % b if b else 0}.get(op)
        if value is not None:
            return Const(value)
    if op == "-" and b is not None:
        return _bin("+", left, Const(-b))
    if op == "+":
        if b == 0:
            return left
        if a == 0:
            return right
        if b is not None and isinstance(left, _Bin) and left.op == "+" and left.right.constant() is not None:
            return _bin("+", left.left, Const(int(left.right.constant() or 0) + b))  # (x + c) + d
    if op == "*" and b == 1:
        return left
    if op == "*" and a == 1:
        return right
    if op == "//" and b is not None and b > 0:
        if b == 1:
            return left
        inner = left
        offset = 0
        if isinstance(inner, _Bin) and inner.op == "+" and inner.right.constant() is not None:
            offset = int(inner.right.constant() or 0)
            inner = inner.left
        if isinstance(inner, _Bin) and inner.op == "//" and (d := inner.right.constant()) is not None and d > 0:
            # floor(floor(x/d) + c)/b) == floor((x + c*d) / (d*b)) for integers x, c and d, b > 0
            return _bin("//", _bin("+", inner.left, Const(offset * d)), Const(d * b))
    return _Bin(op, left, right)


def _call(fn: Literal["min", "max"], args: tuple[Expr, ...]) -> Expr:
    values = [a.constant() for a in args]
    known = [v for v in values if v is not None]
    if len(known) == len(values):
        return Const(min(known) if fn == "min" else max(known))
    return _Call(fn, args)


def minimum(*args: ExprLike) -> Expr:
    return _call("min", tuple(as_expr(a) for a in args))


def maximum(*args: ExprLike) -> Expr:
    return _call("max", tuple(as_expr(a) for a in args))


def _compile(expr: Expr) -> Callable[[Mapping[str, Any]], Any]:
    code = compile(f"lambda v: {expr._code()}", f"<dimension {expr.text()}>", "eval")
    fn: Callable[[Mapping[str, Any]], Any] = eval(code, {"__builtins__": {}, "min": min, "max": max})
    return fn


@dataclass(frozen=True, slots=True)
class Compare:
    """A relation between two size expressions (``N <= 510``): its truth, its text and its sympy form."""

    left: Expr
    rel: Relation
    right: Expr
    names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(dict.fromkeys((*self.left.names, *self.right.names))))
        self.left.prepare()
        self.right.prepare()

    def holds(self, values: Mapping[str, Any]) -> bool:
        a, b = self.left.evaluate(values), self.right.evaluate(values)
        rel = self.rel
        if rel == "<=":
            return bool(a <= b)
        if rel == ">=":
            return bool(a >= b)
        if rel == "==":
            return bool(a == b)
        if rel == "<":
            return bool(a < b)
        if rel == ">":
            return bool(a > b)
        return bool(a != b)

    def text(self) -> str:
        return f"{self.left.text()} {self.rel} {self.right.text()}"

    def substitute(self, mapping: Mapping[str, ExprLike]) -> Compare:
        return Compare(self.left.substitute(mapping), self.rel, self.right.substitute(mapping))

    def sympy(self, env: Mapping[str, Any] | None = None) -> Any:
        import sympy

        a, b = self.left.sympy(env), self.right.sympy(env)
        return {"<=": sympy.Le, ">=": sympy.Ge, "==": sympy.Eq, "<": sympy.Lt, ">": sympy.Gt, "!=": sympy.Ne}[
            self.rel
        ](a, b)


# -- parsing ----------------------------------------------------------------------------------------
_OPS: dict[type, Op] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.FloorDiv: "//", ast.Mod: "%", ast.Div: "/"}


def parse_expr(text: str) -> Expr:
    """Parse a dimension expression (``1+h*w``, ``(S-400)//320+1``, ``min(4, N)``); it keeps ``text`` for display."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ContractDefinitionError(f"dimension expression {text!r} is not valid: {exc.msg}") from None
    expr = _from_ast(tree.body, text)
    expr.source = text
    return expr


def _from_ast(node: ast.AST, text: str) -> Expr:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return Const(node.value)
    if isinstance(node, ast.Name):
        return Sym(node.id)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return _bin("-", Const(0), _from_ast(node.operand, text))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd):
        return _from_ast(node.operand, text)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        op = _OPS[type(node.op)]
        left, right = _from_ast(node.left, text), _from_ast(node.right, text)
        return _Bin(op, left, right) if op == "/" else _bin(op, left, right)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("min", "max")
        and node.args
        and not node.keywords
    ):
        fn: Literal["min", "max"] = "min" if node.func.id == "min" else "max"
        return _call(fn, tuple(_from_ast(a, text) for a in node.args))
    raise ContractDefinitionError(
        f"dimension expression {text!r} may only use names, integers, + - * / // %, min(), max() and parentheses"
    )


def parse_names(text: str) -> tuple[str, ...]:
    """The names an expression reads, in order of appearance."""
    return parse_expr(text).names


def _product(expr: Expr) -> bool:
    """Whether ``expr`` is a product of factors with no ``//``, ``/`` or ``%`` at its top level: only such a product
    may lose its parentheses on the right of ``*`` (``a*(b*c)`` is ``a*b*c``; ``a*(b//2*c)`` is not ``a*b//2*c``)."""
    if not isinstance(expr, _Bin) or expr.op != "*":
        return False
    return all(not isinstance(side, _Bin) or _product(side) for side in (expr.left, expr.right))
