"""The generic shape checker: jaxtyping annotations to specs, one dimension scope per call, and the messages.

It knows torch and jaxtyping, and nothing of Data2Vec: hints about known model mistakes come in through a
:data:`HintProvider`. The pipeline of a check: ``_expr`` (size expressions) → ``_specs`` (annotations to specs) →
``_scope`` (bindings, rules, constraints) → ``_check`` (values against specs) → ``_messages`` (the one message builder)
and ``_errors`` (the two exception classes); ``_function`` compiles a function's annotations into a plan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from ._check import check_tensor as check_tensor
    from ._check import check_value as check_value
    from ._check import dtype_name as dtype_name
    from ._errors import ContractDefinitionError as ContractDefinitionError
    from ._errors import ShapeContractError as ShapeContractError
    from ._expr import Compare as Compare
    from ._expr import Const as Const
    from ._expr import Expr as Expr
    from ._expr import Sym as Sym
    from ._expr import as_expr as as_expr
    from ._expr import maximum as maximum
    from ._expr import minimum as minimum
    from ._expr import parse_expr as parse_expr
    from ._function import PINNED as PINNED
    from ._function import DimSource as DimSource
    from ._function import FunctionContract as FunctionContract
    from ._function import FunctionPlan as FunctionPlan
    from ._function import PaddingSide as PaddingSide
    from ._function import Param as Param
    from ._function import ParamKind as ParamKind
    from ._function import UnresolvedAnnotationWarning as UnresolvedAnnotationWarning
    from ._function import declared_at as declared_at
    from ._function import resolve_path as resolve_path
    from ._messages import Problem as Problem
    from ._messages import Violation as Violation
    from ._messages import describe_value as describe_value
    from ._messages import render as render
    from ._scope import Constraint as Constraint
    from ._scope import HintProvider as HintProvider
    from ._scope import Rule as Rule
    from ._scope import Scope as Scope
    from ._scope import check_acyclic as check_acyclic
    from ._specs import Dim as Dim
    from ._specs import DimKind as DimKind
    from ._specs import MappingSpec as MappingSpec
    from ._specs import OtherSpec as OtherSpec
    from ._specs import SeqSpec as SeqSpec
    from ._specs import Spec as Spec
    from ._specs import TensorSpec as TensorSpec
    from ._specs import TupleSpec as TupleSpec
    from ._specs import UnionSpec as UnionSpec
    from ._specs import contains_array as contains_array
    from ._specs import parse_hint as parse_hint
    from ._specs import tensor_spec as tensor_spec
    from ._table import Table as Table
    from ._trace import CompiledShapeContractError as CompiledShapeContractError
    from ._trace import callable_key as callable_key
    from ._trace import constant as constant
    from ._trace import dynamo_tracing as dynamo_tracing
    from ._trace import own_code as own_code
    from ._trace import registered as registered
    from ._trace import tracing as tracing

# names load on first use: importing the errors (the pytest plugin does) must not import torch
_EXPORTS = {
    "callable_key": "._trace",
    "registered": "._trace",
    "Table": "._table",
    "CompiledShapeContractError": "._trace",
    "constant": "._trace",
    "dynamo_tracing": "._trace",
    "own_code": "._trace",
    "tracing": "._trace",
    "Compare": "._expr",
    "Const": "._expr",
    "Constraint": "._scope",
    "ContractDefinitionError": "._errors",
    "Dim": "._specs",
    "DimKind": "._specs",
    "DimSource": "._function",
    "Expr": "._expr",
    "FunctionContract": "._function",
    "FunctionPlan": "._function",
    "HintProvider": "._scope",
    "MappingSpec": "._specs",
    "OtherSpec": "._specs",
    "PINNED": "._function",
    "Param": "._function",
    "PaddingSide": "._function",
    "ParamKind": "._function",
    "UnresolvedAnnotationWarning": "._function",
    "Problem": "._messages",
    "Rule": "._scope",
    "Scope": "._scope",
    "SeqSpec": "._specs",
    "ShapeContractError": "._errors",
    "Spec": "._specs",
    "Sym": "._expr",
    "TensorSpec": "._specs",
    "TupleSpec": "._specs",
    "UnionSpec": "._specs",
    "Violation": "._messages",
    "as_expr": "._expr",
    "check_acyclic": "._scope",
    "check_tensor": "._check",
    "check_value": "._check",
    "contains_array": "._specs",
    "declared_at": "._function",
    "describe_value": "._messages",
    "dtype_name": "._check",
    "maximum": "._expr",
    "minimum": "._expr",
    "parse_expr": "._expr",
    "parse_hint": "._specs",
    "render": "._messages",
    "resolve_path": "._function",
    "tensor_spec": "._specs",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
