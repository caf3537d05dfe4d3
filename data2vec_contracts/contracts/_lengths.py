"""The derived lengths of Data2Vec, with the config fields they read.

Audio frames come from the conv feature encoder (no padding): ``T = (S - R)//P + 1`` for
``S >= R``, where ``R`` is the receptive field and ``P`` the product of the strides. The adapter
(Conv1d with padding 1 and GLU) maps ``T -> (T + 2 - k)//s + 1`` per layer. Vision has
``1 + (H//p)(W//p)`` tokens. Text positions start at ``pad_token_id + 1``.
"""

from __future__ import annotations

import math
from typing import Any

from ..checker import Expr, Sym

__all__ = [
    "adapter_expr",
    "adapter_frames",
    "adapter_min_frames",
    "image_side",
    "image_sides",
    "max_text_length",
    "num_frames",
    "num_tokens",
    "patch_sides",
    "patch_size",
    "receptive_field",
    "samples_expr",
    "segmentation_size",
    "xvector_frames",
]


def _conv(config: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    return tuple(int(k) for k in config.conv_kernel), tuple(int(s) for s in config.conv_stride)


def receptive_field(config: Any) -> tuple[int, int]:
    """``(R, P)``: the fewest samples that give one frame, and the samples per frame step."""
    kernels, strides = _conv(config)
    r, jump = kernels[0], strides[0]
    for k, s in zip(kernels[1:], strides[1:]):
        r += (k - 1) * jump
        jump *= s
    return r, math.prod(strides)


def samples_expr(config: Any, samples: Expr | None = None) -> Expr:
    """Frames T of the conv stack as one expression of the samples, ``(S - R)//P + 1`` (valid for ``S >= R``)."""
    t = Sym("S") if samples is None else samples
    for k, s in zip(*_conv(config)):
        t = (t - k) // s + 1
    return t


def adapter_expr(config: Any, frames: Expr) -> Expr:
    """Frames after the adapter as one expression of ``frames`` (each layer ``(T + 2 - k)//s + 1``)."""
    k, stride = int(config.adapter_kernel_size), int(config.adapter_stride)
    t = frames
    for _ in range(int(config.num_adapter_layers)):
        t = (t + 2 - k) // stride + 1
    return t


def num_frames(config: Any, samples: int) -> int:
    """Frames T the conv feature encoder makes from ``samples`` audio samples (0 below the receptive field)."""
    t = int(samples)
    for k, s in zip(*_conv(config)):
        if t < k:
            return 0
        t = (t - k) // s + 1
    return t


def adapter_frames(config: Any, frames: int) -> int:
    """Frames T' after the adapter (``add_adapter=True``); ``frames`` itself without one."""
    if not getattr(config, "add_adapter", False):
        return int(frames)
    return _adapter_path(config, frames)[-1]


def adapter_min_frames(config: Any) -> int:
    """The fewest conv frames every adapter layer (Conv1d, padding 1) can take: each needs ``T + 2 >= k``."""
    k = int(config.adapter_kernel_size)
    t = 1
    while any(f + 2 < k for f in _adapter_path(config, t)[:-1]):
        t += 1
    return t


def _adapter_path(config: Any, frames: int) -> list[int]:
    """The frames entering each adapter layer, then the frames the last one makes."""
    k, stride = int(config.adapter_kernel_size), int(config.adapter_stride)
    path = [int(frames)]
    for _ in range(int(config.num_adapter_layers)):
        path.append((path[-1] + 2 - k) // stride + 1)
    return path


def xvector_frames(config: Any, frames: int) -> int:
    """Frames left after the XVector TDNN layers (dilated, unpadded convolutions)."""
    return int(frames) - sum(int(d) * (int(k) - 1) for k, d in zip(config.tdnn_kernel, config.tdnn_dilation))


def num_tokens(config: Any, height: int, width: int) -> int:
    """Vision tokens: the CLS token plus one per patch, ``1 + (H//p)(W//p)``."""
    ph, pw = patch_sides(config)
    return 1 + (int(height) // ph) * (int(width) // pw)


def segmentation_size(config: Any) -> int:
    """Side of the segmentation logits: ``4 * (image_size // patch_size)``, whatever the input size."""
    return 4 * (image_sides(config)[0] // patch_sides(config)[0])


def max_text_length(config: Any) -> int:
    """The longest text input: ``max_position_embeddings - pad_token_id - 1`` (positions start after pad)."""
    pad = config.pad_token_id if config.pad_token_id is not None else 0
    return int(config.max_position_embeddings) - int(pad) - 1


def _pair(value: Any) -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def patch_sides(config: Any) -> tuple[int, int]:
    """``config.patch_size`` as (height, width): configs may hold an int or a pair."""
    return _pair(config.patch_size)


def image_sides(config: Any) -> tuple[int, int]:
    """``config.image_size`` as (height, width): configs may hold an int or a pair."""
    return _pair(config.image_size)


def patch_size(config: Any) -> int:
    """The patch height (``config.patch_size`` may hold a pair)."""
    return patch_sides(config)[0]


def image_side(config: Any) -> int:
    """The image height of the config (``config.image_size`` may hold a pair)."""
    return image_sides(config)[0]
