"""A catalogue of bad input, at the model level and the function level.

Each case gets exactly one of: a ``ShapeContractError`` (which problem, which field), the model's
or torch's own error (which type, which words, raised from which package), or a valid result.
Never an internal crash of the checker: no AttributeError, KeyError or IndexError raised from
data2vec_contracts code.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from jaxtyping import Float, Int
from torch import Tensor

from data2vec_contracts import (
    ShapeContractError,
    checked,
    contract,
    frame_mask,
    masked_mean_pool,
    tokens_to_grid,
)
from tests._models import TRANSFORMERS_5, tiny_config, tiny_model

Outcome = tuple[Any, ...]


def _origin(exc: BaseException) -> str:
    path = traceback.extract_tb(exc.__traceback__)[-1].filename.replace("\\", "/")
    for package in ("data2vec_contracts", "transformers", "torch"):
        if f"/{package}/" in path:
            return package
    return path


def outcome(call: Callable[[], Any]) -> Outcome:
    """("ok", shape) | ("violation", problem, field, dimension) | (error type, first words, package)."""
    try:
        out = call()
    except ShapeContractError as err:
        problem = err.violation.problem if err.violation is not None else None
        return ("violation", problem, err.field, err.dimension)
    except Exception as exc:
        return (type(exc).__name__, str(exc).splitlines()[0][:40], _origin(exc))
    first = getattr(out, "last_hidden_state", out)
    return ("ok", tuple(first.shape))


def violation(problem: str, field: str, dimension: str | None = None) -> Outcome:
    return ("violation", problem, field, dimension)


def error(kind: str, words: str, package: str) -> Outcome:
    """The model's, torch's or a helper body's own error: its type, first words and package."""
    return (kind, words[:40], package)


@pytest.fixture(scope="module")
def models() -> dict[str, Any]:
    return {m: checked(tiny_model(m)) for m in ("text", "audio", "vision")}


ids = torch.randint(2, 99, (2, 7), generator=torch.Generator().manual_seed(0))
wave = torch.randn(2, 1000, generator=torch.Generator().manual_seed(0))
pixels = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))

MODEL_CASES: list[tuple[str, str, dict[str, Any], Outcome]] = [
    # text: input_ids (B, N) int
    (
        "None",
        "text",
        {"input_ids": None},
        error("ValueError", "You must specify exactly one of input_ids or inputs_embeds", "transformers")
        if TRANSFORMERS_5
        else error("ValueError", "You have to specify either input_ids or inputs_embeds", "transformers"),
    ),
    ("list", "text", {"input_ids": ids.tolist()}, violation("type", "argument input_ids")),
    ("numpy", "text", {"input_ids": ids.numpy()}, violation("type", "argument input_ids")),
    ("python-int", "text", {"input_ids": 5}, violation("type", "argument input_ids")),
    ("rank-0", "text", {"input_ids": torch.tensor(5)}, violation("rank", "argument input_ids")),
    ("rank-1", "text", {"input_ids": ids[0]}, violation("rank", "argument input_ids")),
    ("rank-3", "text", {"input_ids": ids[None]}, violation("rank", "argument input_ids")),
    ("float-ids", "text", {"input_ids": ids.float()}, violation("dtype", "argument input_ids")),
    ("bool-ids", "text", {"input_ids": ids.bool()}, violation("dtype", "argument input_ids")),
    ("uint8-ids", "text", {"input_ids": ids.to(torch.uint8)}, violation("dtype", "argument input_ids")),
    # int16 is an Int to jaxtyping, but the embedding takes only int32 / int64: the contract says so
    ("int16-ids", "text", {"input_ids": ids.short()}, violation("dtype", "argument input_ids")),
    ("int32-ids", "text", {"input_ids": ids.int()}, ("ok", (2, 7, 32))),
    # empty batches and sequences fail inside transformers' attention (reshape of 0 elements, or an IndexError in
    # 4.x); our constraint B >= 1, N >= 1 comes first
    ("zero-batch", "text", {"input_ids": ids[:0]}, violation("constraint", "argument input_ids", "B, N")),
    ("zero-length", "text", {"input_ids": ids[:, :0]}, violation("constraint", "argument input_ids", "B, N")),
    (
        "too-long",
        "text",
        {"input_ids": torch.randint(2, 99, (2, 63))},
        violation("constraint", "argument input_ids", "N"),
    ),
    ("non-contiguous", "text", {"input_ids": ids.t().contiguous().t()}, ("ok", (2, 7, 32))),
    ("expanded", "text", {"input_ids": ids[:1].expand(3, 7)}, ("ok", (3, 7, 32))),
    # transformers 4.x looks for padding in the ids to warn about a missing mask (a value read)
    (
        "meta-ids",
        "text",
        {"input_ids": ids.to("meta")},
        ("ok", (2, 7, 32))
        if TRANSFORMERS_5
        else error("RuntimeError", "Tensor.item() cannot be called on meta tensors", "torch"),
    ),
    (
        "mask-list",
        "text",
        {"input_ids": ids, "attention_mask": [[1] * 7] * 2},
        violation("type", "argument attention_mask"),
    ),
    (
        "mask-length",
        "text",
        {"input_ids": ids, "attention_mask": torch.ones(2, 6)},
        violation("dimension", "argument attention_mask", "N"),
    ),
    (
        "mask-int32",
        "text",
        {"input_ids": ids, "attention_mask": torch.ones(2, 7, dtype=torch.int32)},
        ("ok", (2, 7, 32)),
    ),
    # audio: input_values (B, S) in the parameter dtype
    ("None", "audio", {"input_values": None}, violation("type", "argument input_values")),
    ("list", "audio", {"input_values": wave.tolist()}, violation("type", "argument input_values")),
    ("numpy", "audio", {"input_values": wave.numpy()}, violation("type", "argument input_values")),
    ("rank-1", "audio", {"input_values": wave[0]}, violation("rank", "argument input_values")),
    ("rank-3", "audio", {"input_values": wave[:, None]}, violation("rank", "argument input_values")),
    ("float64", "audio", {"input_values": wave.double()}, violation("dtype", "argument input_values")),
    ("bfloat16", "audio", {"input_values": wave.bfloat16()}, violation("dtype", "argument input_values")),
    ("int", "audio", {"input_values": wave.long()}, violation("dtype", "argument input_values")),
    ("complex", "audio", {"input_values": wave.to(torch.complex64)}, violation("dtype", "argument input_values")),
    ("zero-batch", "audio", {"input_values": wave[:0]}, violation("constraint", "argument input_values", "B")),
    ("zero-samples", "audio", {"input_values": wave[:, :0]}, violation("constraint", "argument input_values", "S")),
    (
        "below-receptive-field",
        "audio",
        {"input_values": wave[:, :28]},
        violation("constraint", "argument input_values", "S"),
    ),
    ("non-contiguous", "audio", {"input_values": wave.t().contiguous().t()}, ("ok", (2, 61, 32))),
    ("expanded", "audio", {"input_values": wave[:1].expand(3, 1000)}, ("ok", (3, 61, 32))),
    (
        "meta",
        "audio",
        {"input_values": wave.to("meta")},
        error("RuntimeError", "Tensor on device cpu is not on the expected device meta!", "torch"),
    ),
    (
        "mask-numpy",
        "audio",
        {"input_values": wave, "attention_mask": np.ones((2, 1000))},
        violation("type", "argument attention_mask"),
    ),
    (
        "mask-length",
        "audio",
        {"input_values": wave, "attention_mask": torch.ones(2, 999, dtype=torch.long)},
        violation("dimension", "argument attention_mask", "S"),
    ),
    ("mask-float", "audio", {"input_values": wave, "attention_mask": torch.ones(2, 1000)}, ("ok", (2, 61, 32))),
    # vision: pixel_values (B, 3, H, W) float
    ("None", "vision", {"pixel_values": None}, violation("type", "argument pixel_values")),
    ("list", "vision", {"pixel_values": pixels.tolist()}, violation("type", "argument pixel_values")),
    ("numpy", "vision", {"pixel_values": pixels.numpy()}, violation("type", "argument pixel_values")),
    ("rank-3", "vision", {"pixel_values": pixels[0]}, violation("rank", "argument pixel_values")),
    ("rank-5", "vision", {"pixel_values": pixels[None]}, violation("rank", "argument pixel_values")),
    ("int-pixels", "vision", {"pixel_values": pixels.long()}, violation("dtype", "argument pixel_values")),
    ("uint8-pixels", "vision", {"pixel_values": pixels.to(torch.uint8)}, violation("dtype", "argument pixel_values")),
    ("bool-pixels", "vision", {"pixel_values": pixels > 0}, violation("dtype", "argument pixel_values")),
    # 5.x casts pixel_values to the parameter dtype; 4.x does not, so the contract checks the dtype
    (
        "float64",
        "vision",
        {"pixel_values": pixels.double()},
        ("ok", (2, 17, 32)) if TRANSFORMERS_5 else violation("dtype", "argument pixel_values"),
    ),
    ("channels", "vision", {"pixel_values": pixels[:, :2]}, violation("dimension", "argument pixel_values", "Cin")),
    ("zero-batch", "vision", {"pixel_values": pixels[:0]}, violation("constraint", "argument pixel_values", "B")),
    (
        "zero-height",
        "vision",
        {"pixel_values": pixels[:, :, :0]},
        violation("constraint", "argument pixel_values", "H, W"),
    ),
    (
        "smaller-than-a-patch",
        "vision",
        {"pixel_values": pixels[:, :, :7]},
        violation("constraint", "argument pixel_values", "H, W"),
    ),
    ("non-contiguous", "vision", {"pixel_values": pixels.permute(0, 1, 3, 2)}, ("ok", (2, 17, 32))),
    ("expanded", "vision", {"pixel_values": pixels[:1].expand(3, 3, 32, 32)}, ("ok", (3, 17, 32))),
    (
        "meta",
        "vision",
        {"pixel_values": pixels.to("meta")},
        error("RuntimeError", "Tensor on device meta is not on the expected device cpu!", "torch"),
    ),
]


@pytest.mark.parametrize(
    ("modality", "kwargs", "expected"),
    [case[1:] for case in MODEL_CASES],
    ids=[f"{case[1]}-{case[0]}" for case in MODEL_CASES],
)
def test_model_bad_input(models: dict[str, Any], modality: str, kwargs: dict[str, Any], expected: Outcome) -> None:
    with torch.no_grad():
        assert outcome(lambda: models[modality](**kwargs)) == expected


# -- function level -------------------------------------------------------------------------------------
@contract
def score(x: Float[Tensor, "B N"], ids: Int[Tensor, " B"]) -> Float[Tensor, " B"]:
    return x.sum(-1) + ids


x = torch.randn(2, 3)
i = torch.ones(2, dtype=torch.long)
hidden = torch.randn(2, 5, 4)
mask = torch.ones(2, 5)
samples = torch.ones(2, 100, dtype=torch.long)
audio_config = tiny_config("audio")

FUNCTION_CASES: list[tuple[str, Callable[[], Any], Outcome]] = [
    ("None", lambda: score(None, i), violation("type", "argument x")),
    ("list", lambda: score(x.tolist(), i), violation("type", "argument x")),
    ("numpy", lambda: score(x.numpy(), i), violation("type", "argument x")),
    ("str", lambda: score("ab", i), violation("type", "argument x")),
    ("dict", lambda: score({}, i), violation("type", "argument x")),
    ("python-int", lambda: score(x, 3), violation("type", "argument ids")),
    ("rank-0", lambda: score(torch.tensor(1.0), i), violation("rank", "argument x")),
    ("rank-1", lambda: score(x[0], i), violation("rank", "argument x")),
    ("int-for-float", lambda: score(x.long(), i), violation("dtype", "argument x")),
    ("float-ids", lambda: score(x, i.float()), violation("dtype", "argument ids")),
    ("bool-ids", lambda: score(x, i.bool()), violation("dtype", "argument ids")),
    ("int32-ids", lambda: score(x, i.int()), ("ok", (2,))),
    ("zero-batch", lambda: score(x[:0], i[:0]), ("ok", (0,))),
    ("zero-length", lambda: score(x[:, :0], i), ("ok", (2,))),
    ("non-contiguous", lambda: score(torch.randn(3, 2).t(), i), ("ok", (2,))),
    ("expanded", lambda: score(x[:1].expand(2, 3), i), ("ok", (2,))),
    ("meta", lambda: score(x.to("meta"), i.to("meta")), ("ok", (2,))),
    # masked_mean_pool
    ("pool-None-mask", lambda: masked_mean_pool(hidden, None), violation("type", "argument attention_mask")),
    ("pool-list", lambda: masked_mean_pool(hidden.tolist(), mask), violation("type", "argument hidden_states")),
    ("pool-numpy-mask", lambda: masked_mean_pool(hidden, mask.numpy()), violation("type", "argument attention_mask")),
    ("pool-int-hidden", lambda: masked_mean_pool(hidden.long(), mask), violation("dtype", "argument hidden_states")),
    ("pool-rank", lambda: masked_mean_pool(hidden[0], mask), violation("rank", "argument hidden_states")),
    ("pool-zero-batch", lambda: masked_mean_pool(hidden[:0], mask[:0]), ("ok", (0, 4))),
    ("pool-zero-length", lambda: masked_mean_pool(hidden[:, :0], mask[:, :0]), ("ok", (2, 4))),
    ("pool-expanded", lambda: masked_mean_pool(hidden[:1].expand(2, 5, 4), mask), ("ok", (2, 4))),
    (
        "pool-non-contiguous",
        lambda: masked_mean_pool(hidden.transpose(0, 1).contiguous().transpose(0, 1), mask),
        ("ok", (2, 4)),
    ),
    ("pool-meta", lambda: masked_mean_pool(hidden.to("meta"), mask.to("meta")), ("ok", (2, 4))),
    ("pool-int32-mask", lambda: masked_mean_pool(hidden, mask.int()), ("ok", (2, 4))),
    # tokens_to_grid
    ("grid-None", lambda: tokens_to_grid(None, 2, 2), violation("type", "argument tokens")),
    ("grid-numpy", lambda: tokens_to_grid(np.zeros((2, 5, 4)), 2, 2), violation("type", "argument tokens")),
    (
        "grid-int",
        lambda: tokens_to_grid(torch.zeros(2, 5, 4, dtype=torch.long), 2, 2),
        violation("dtype", "argument tokens"),
    ),
    ("grid-negative", lambda: tokens_to_grid(torch.zeros(2, 5, 4), -2, -2), violation("type", "dims['h'] = h")),
    ("grid-float-size", lambda: tokens_to_grid(torch.zeros(2, 5, 4), 2.0, 2), violation("type", "argument h")),
    ("grid-zero-batch", lambda: tokens_to_grid(torch.zeros(0, 5, 4), 2, 2), ("ok", (0, 2, 2, 4))),
    ("grid-zero-patches", lambda: tokens_to_grid(torch.zeros(2, 1, 4), 0, 3), ("ok", (2, 0, 3, 4))),
    ("grid-meta", lambda: tokens_to_grid(torch.zeros(2, 5, 4, device="meta"), 2, 2), ("ok", (2, 2, 2, 4))),
    # frame_mask
    ("frames-None", lambda: frame_mask(audio_config, None), violation("type", "argument attention_mask")),
    ("frames-numpy", lambda: frame_mask(audio_config, samples.numpy()), violation("type", "argument attention_mask")),
    ("frames-rank", lambda: frame_mask(audio_config, samples[None]), violation("rank", "argument attention_mask")),
    (
        "frames-text-config",
        lambda: frame_mask(tiny_config("text"), samples),
        violation("type", "dims['T'] = _frames_from_config_conv_stack"),
    ),
    (
        "frames-no-config",
        lambda: frame_mask(None, samples),
        violation("type", "dims['T'] = _frames_from_config_conv_stack"),
    ),
    ("frames-zero-samples", lambda: frame_mask(audio_config, samples[:, :0]), ("ok", (2, 0))),
    ("frames-zero-batch", lambda: frame_mask(audio_config, samples[:0]), ("ok", (0, 5))),
    ("frames-bool", lambda: frame_mask(audio_config, samples.bool()), ("ok", (2, 5))),
    ("frames-int32", lambda: frame_mask(audio_config, samples.int()), ("ok", (2, 5))),
    ("frames-float", lambda: frame_mask(audio_config, samples.float()), ("ok", (2, 5))),
    # the mask's lengths are data: a meta tensor has none (torch's own error, in the helper body)
    (
        "frames-meta",
        lambda: frame_mask(audio_config, samples.to("meta")),
        error("NotImplementedError", "Cannot copy out of meta tensor; no data!", "data2vec_contracts"),
    ),
]


@pytest.mark.parametrize(("call", "expected"), [c[1:] for c in FUNCTION_CASES], ids=[c[0] for c in FUNCTION_CASES])
def test_function_bad_input(call: Callable[[], Any], expected: Outcome) -> None:
    assert outcome(call) == expected


def test_no_case_crashes_inside_the_checker(models: dict[str, Any]) -> None:
    """The whole catalogue again, as one invariant: nothing escapes as a checker crash."""
    calls = [lambda m=m, k=k: models[m](**k) for _, m, k, _ in MODEL_CASES] + [c[1] for c in FUNCTION_CASES]
    for call in calls:
        result = outcome(call)
        assert not (result[0] in {"AttributeError", "KeyError", "IndexError"} and result[-1] == "data2vec_contracts")
