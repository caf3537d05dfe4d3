"""A compiled pipeline of three ``@contract`` functions (audio frames, an encoder, masked pooling) and the counts of
a ``torch.compile`` run: shared by the compile tests (tests/instrument/test_compile.py) and the compile benchmarks
(benchmarks/_figures.py), so both measure the same pipeline."""

from __future__ import annotations

import torch
from jaxtyping import Float, Shaped
from torch import Tensor
from torch._dynamo.utils import clear_compilation_metrics, counters, get_compilation_metrics

from data2vec_contracts import contract

__all__ = ["LENGTHS", "compile_counts", "encode", "frames", "pipeline", "pool", "reset_compiler", "waves"]

LENGTHS = (16000, 16320, 17000, 18000, 20000, 24000)  # samples: six frame counts T
W_CONV = torch.randn(8, 1, 400, generator=torch.Generator().manual_seed(0)) * 0.05
W_LIN = torch.randn(16, 8, generator=torch.Generator().manual_seed(1)) * 0.1


@contract(where={"T": "(S - 400)//320 + 1"}, dims={"C": 8})
def frames(wave: Float[Tensor, "B S"]) -> Float[Tensor, "B T C"]:
    return torch.nn.functional.conv1d(wave[:, None, :], W_CONV, stride=320).transpose(1, 2)


@contract(dims={"C": 8, "D": 16})
def encode(feats: Float[Tensor, "B T C"], mask: Shaped[Tensor, "B T"]) -> Float[Tensor, "B T D"]:
    return torch.nn.functional.gelu(feats @ W_LIN.T) * mask[..., None]


@contract(dims={"D": 16})
def pool(hidden: Float[Tensor, "B T D"], mask: Shaped[Tensor, "B T"]) -> Float[Tensor, "B D"]:
    m = mask[..., None].to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1)


def pipeline(wave: Tensor, mask: Tensor) -> Tensor:
    return pool(encode(frames(wave), mask), mask)


def waves(samples: int, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """A batch of two waves of ``samples`` samples and the frame mask that matches them."""
    return torch.randn(2, samples, generator=generator), torch.ones(2, (samples - 400) // 320 + 1)


def reset_compiler() -> None:
    """Forget every compiled graph and every count, so :func:`compile_counts` counts from here."""
    torch._dynamo.reset()
    counters.clear()
    clear_compilation_metrics()


def compile_counts() -> tuple[int, int, int]:
    """(graphs, graph breaks, recompiles) since the last :func:`reset_compiler`."""
    metrics = get_compilation_metrics()
    return (
        counters["stats"]["unique_graphs"],
        sum(counters["graph_break"].values()),
        sum(1 for m in metrics if m.recompile_reason),
    )
