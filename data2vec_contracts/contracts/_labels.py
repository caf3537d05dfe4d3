"""The labels each loss takes: dtype families, the label forms of sequence / image classification by
``config.problem_type``, and the value checks of class ids.

Measured on transformers 4.57 and 5.x (both the same): cross-entropy takes int64 or uint8 targets ("expected target
dtype to be Long or Byte"), ``one_hot`` (XVector's AM-softmax) and the causal LM loss (which pads labels with -100)
take int64 only; int32 labels fail in every loss but CTC.
"""

from __future__ import annotations

from typing import Any

from jaxtyping import AbstractDtype, Float, Shaped
from torch import Tensor

from ._values import within

__all__ = ["ClassIds", "Long", "class_ids", "classification_labels", "classification_problem"]


class Long(AbstractDtype):
    """int64: what ``one_hot`` and the causal LM loss take (and what ``.long()`` makes)."""

    dtypes = ["int64"]  # noqa: RUF012 - jaxtyping reads a class attribute


class ClassIds(AbstractDtype):
    """The targets cross-entropy takes: int64 or uint8 ("expected target dtype to be Long or Byte")."""

    dtypes = ["int64", "uint8"]  # noqa: RUF012 - jaxtyping reads a class attribute


_AUTO_IDS: Any = Long[Tensor, " B"] | Long[Tensor, "B 1"]  # int32 ids take the cross-entropy path and fail there
_IDS: Any = ClassIds[Tensor, " B"] | ClassIds[Tensor, "B 1"]
_REGRESSION_ONE = Shaped[Tensor, "B ..."]  # MSE of the squeezed logits and labels, any dtype
_REGRESSION = Shaped[Tensor, "#B #K"] | Shaped[Tensor, " #K"] | Shaped[Tensor, ""]  # MSE broadcasts with (B, K)
_MULTI = {"K": Float[Tensor, "B K"], "D": Float[Tensor, "B D"]}  # BCE: the logits' shape


def classification_problem(config: Any) -> str:
    """The loss a sequence / image classification head picks: ``config.problem_type``, or, when None, regression for
    one label, and for more the labels' dtype decides (``"auto"``: int64 / int32 ids are single-label, anything
    else multi-label); with ``num_labels=0`` the (B, D) features are the logits and the loss is multi-label."""
    problem = getattr(config, "problem_type", None)
    if problem is not None:
        return str(problem)
    k = int(config.num_labels)
    return "regression" if k == 1 else "auto" if k > 1 else "multi_label_classification"


def classification_labels(config: Any, logits: str = "K") -> Any:
    """The labels of Data2VecTextForSequenceClassification / Data2VecVisionForImageClassification under ``config``;
    ``logits``: the last axis of the logits (``"D"`` when num_labels=0 makes them the features)."""
    problem = classification_problem(config)
    if problem == "regression":
        return _REGRESSION_ONE if int(config.num_labels) == 1 else _REGRESSION
    if problem == "single_label_classification":
        return _IDS
    if problem == "multi_label_classification":
        return _MULTI[logits]
    return _AUTO_IDS | _MULTI[logits]


def class_ids(argument: str, upper: str, hint: str, ignore: int | None = -100) -> Any:
    """Class ids in ``[0, upper)`` (``ignore``: the loss's ignore index, -100 for cross-entropy)."""
    return within(argument, upper, what=argument, hint=hint, ignore=ignore)
