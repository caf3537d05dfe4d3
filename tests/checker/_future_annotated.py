"""Functions whose annotations are strings: this module uses ``from __future__ import annotations``."""

from __future__ import annotations

from jaxtyping import Float, Int
from torch import Tensor


def future_named(x: Float[Tensor, "B N"], y: Int[Tensor, " B"]) -> Float[Tensor, " B"]:
    return x.sum(1)


def future_container(xs: list[Float[Tensor, "B D"]], y: Float[Tensor, " B"]) -> tuple[Float[Tensor, " B"], int]:
    return y, len(xs)
