"""The helpers against real tiny models: ``masked_mean_pool``, ``tokens_to_grid``, ``frame_mask``,
``num_frames`` and ``num_tokens``."""

from __future__ import annotations

from typing import Any

import pytest
import torch
import transformers
from torch import Tensor

from data2vec_contracts import (
    ShapeContractError,
    frame_mask,
    masked_mean_pool,
    num_frames,
    num_tokens,
    tokens_to_grid,
)
from data2vec_contracts.contracts import HINTS
from tests._models import tiny_config, tiny_inputs, tiny_model


# -- masked_mean_pool -----------------------------------------------------------------------------
def _manual_mean(hidden: Tensor, lengths: list[int]) -> Tensor:
    rows = [hidden[b, :n].mean(0) if n else torch.zeros(hidden.shape[-1]) for b, n in enumerate(lengths)]
    return torch.stack(rows)


@pytest.mark.parametrize("mask_dtype", [torch.long, torch.bool, torch.float32, torch.int32])
def test_masked_mean_pool_ignores_padding(mask_dtype: torch.dtype) -> None:
    lengths = [7, 3, 1, 5]
    hidden = torch.randn(4, 7, 6)
    mask = torch.zeros(4, 7, dtype=mask_dtype)
    for b, n in enumerate(lengths):
        mask[b, :n] = 1
    pooled = masked_mean_pool(hidden, mask)
    torch.testing.assert_close(pooled, _manual_mean(hidden, lengths))
    # whatever sits in the padding never enters the mean
    poisoned = hidden.clone()
    for b, n in enumerate(lengths):
        poisoned[b, n:] = 1e6
    torch.testing.assert_close(masked_mean_pool(poisoned, mask), pooled)


def test_masked_mean_pool_all_padding_row_gives_zeros() -> None:
    hidden = torch.randn(3, 5, 4)
    mask = torch.tensor([[1, 1, 0, 0, 0], [0, 0, 0, 0, 0], [1, 1, 1, 1, 1]])
    pooled = masked_mean_pool(hidden, mask)
    assert torch.equal(pooled[1], torch.zeros(4))
    assert torch.isfinite(pooled).all()
    torch.testing.assert_close(pooled[0], hidden[0, :2].mean(0))


def test_masked_mean_pool_on_a_real_text_model_with_padding() -> None:
    model = tiny_model("text")
    ids = torch.randint(2, 99, (2, 6))
    mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]])
    hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
    torch.testing.assert_close(masked_mean_pool(hidden, mask), _manual_mean(hidden, [6, 3]))


def test_masked_mean_pool_rejects_a_mask_of_another_length() -> None:
    with pytest.raises(ShapeContractError) as info:
        masked_mean_pool(torch.zeros(2, 61, 4), torch.ones(2, 1000))
    assert (info.value.field, info.value.dimension) == ("argument attention_mask", "N")


# -- tokens_to_grid --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def vision() -> Any:
    return tiny_model("vision")


@pytest.mark.parametrize(("height", "width"), [(40, 24), (24, 40), (35, 17), (8, 16), (32, 32)])
def test_tokens_to_grid_matches_the_reshape_of_a_real_model(vision: Any, height: int, width: int) -> None:
    out = vision(**tiny_inputs(vision, batch=2, height=height, width=width)).last_hidden_state
    h, w = height // 8, width // 8
    assert out.shape == (2, 1 + h * w, 32)
    grid = tokens_to_grid(out, h, w)
    assert grid.shape == (2, h, w, 32)
    assert torch.equal(grid, out[:, 1:].reshape(2, h, w, 32))


def test_each_grid_cell_is_the_token_of_its_patch(vision: Any) -> None:
    """Change the pixels of one patch: in the embedding output only that patch's grid cell moves."""
    height, width, p = 40, 24, 8
    pixels = tiny_inputs(vision, batch=1, height=height, width=width)["pixel_values"]
    base = tokens_to_grid(vision(pixel_values=pixels, output_hidden_states=True).hidden_states[0], 5, 3)
    for i, j in [(0, 0), (0, 2), (3, 1), (4, 2)]:
        changed = pixels.clone()
        changed[:, :, i * p : (i + 1) * p, j * p : (j + 1) * p] += 1.0
        grid = tokens_to_grid(vision(pixel_values=changed, output_hidden_states=True).hidden_states[0], 5, 3)
        moved = (grid - base).abs().amax(dim=-1)[0] > 1e-6
        expected = torch.zeros(5, 3, dtype=torch.bool)
        expected[i, j] = True
        assert torch.equal(moved, expected), (i, j)


def test_tokens_to_grid_wrong_h_w_raises(vision: Any) -> None:
    out = vision(**tiny_inputs(vision, batch=2, height=40, width=24)).last_hidden_state  # h=5, w=3
    for h, w in [(5, 4), (40, 24), (4, 4), (0, 3)]:
        with pytest.raises(ShapeContractError) as info:
            tokens_to_grid(out, h, w)
        assert info.value.violation is not None
        assert (info.value.dimension, info.value.violation.actual) == ("N", "16")
        assert info.value.violation.expected == str(1 + h * w)


def test_tokens_to_grid_cannot_tell_swapped_h_and_w(vision: Any) -> None:
    """A limit, pinned: h and w swapped give the same token count, so the contract passes and the
    grid is transposed-and-scrambled. Compute h, w as H // p, W // p from the image."""
    out = vision(**tiny_inputs(vision, batch=1, height=40, width=24)).last_hidden_state
    swapped = tokens_to_grid(out, 3, 5)
    assert swapped.shape == (1, 3, 5, 32)
    assert not torch.equal(swapped, tokens_to_grid(out, 5, 3).transpose(1, 2))


def test_tokens_to_grid_without_cls_raises_with_the_cls_hint(vision: Any) -> None:
    out = vision(**tiny_inputs(vision, batch=2, height=40, width=24)).last_hidden_state
    with pytest.raises(ShapeContractError) as info:
        tokens_to_grid(out[:, 1:], 5, 3)
    assert info.value.violation is not None
    assert info.value.violation.hint == HINTS["cls_dropped"]


def test_tokens_to_grid_non_int_sizes_are_type_violations(vision: Any) -> None:
    out = torch.zeros(1, 17, 4)
    for h in ("4", 4.0, None):
        with pytest.raises(ShapeContractError) as info:
            tokens_to_grid(out, h, 4)  # type: ignore[arg-type]
        assert info.value.field == "argument h"


# -- frame_mask --------------------------------------------------------------------------------------
def _right_padded(lengths: list[int], samples: int, dtype: torch.dtype = torch.long) -> Tensor:
    mask = torch.zeros(len(lengths), samples, dtype=dtype)
    for b, n in enumerate(lengths):
        mask[b, :n] = 1
    return mask


@pytest.mark.parametrize(
    ("lengths", "samples"),
    [([1000, 500, 29, 30, 45], 1000), ([1001, 1001], 1001), ([77, 29], 77), ([16000, 12345, 400], 16000)],
)
def test_frame_mask_counts_and_the_model_agree(lengths: list[int], samples: int) -> None:
    model = tiny_model("audio")
    config = model.config
    mask = _right_padded(lengths, samples)
    frames = frame_mask(config, mask)
    t = num_frames(config, samples)
    assert frames.shape == (len(lengths), t)
    assert frames.dtype == torch.bool
    assert frames.sum(-1).tolist() == [num_frames(config, n) for n in lengths]
    for b, n in enumerate(lengths):  # a prefix of kept frames, then padding
        assert frames[b, : num_frames(config, n)].all()
        assert not frames[b, num_frames(config, n) :].any()
    assert torch.equal(frames, model._get_feature_vector_attention_mask(t, mask))
    assert torch.equal(frame_mask(config, mask.bool()), frames)


def test_frame_mask_rows_shorter_than_the_receptive_field_have_no_frames() -> None:
    """Below R=29 samples a row makes no frame. transformers marks the whole row (or all but one
    frame) valid instead, because it indexes frame ``length - 1 = -1``; frame_mask keeps none."""
    model = tiny_model("audio")
    mask = _right_padded([1000, 28, 10, 0], 1000)
    ours = frame_mask(model.config, mask)
    assert ours.sum(-1).tolist() == [61, 0, 0, 0]
    assert model._get_feature_vector_attention_mask(61, mask).sum(-1).tolist() == [61, 61, 60, 60]


def test_frame_mask_rejects_bad_input_with_violations() -> None:
    config = tiny_config("audio")
    with pytest.raises(ShapeContractError) as info:
        frame_mask(config, [[1] * 100] * 2)  # type: ignore[arg-type]
    assert info.value.field == "argument attention_mask"
    with pytest.raises(ShapeContractError) as info:
        frame_mask(config, torch.ones(100, dtype=torch.long))
    assert info.value.violation is not None
    assert info.value.violation.problem == "rank"
    with pytest.raises(ShapeContractError) as info:
        frame_mask(None, torch.ones(2, 100, dtype=torch.long))
    assert info.value.field == "dims['T'] = _frames_from_config_conv_stack"


# -- num_frames and num_tokens against the real models --------------------------------------------------
@pytest.mark.parametrize(
    "config",
    [
        {},
        {"conv_kernel": (10, 3, 3, 3, 3, 2, 2), "conv_stride": (5, 2, 2, 2, 2, 2, 2), "conv_dim": (8,) * 7},
        {"conv_kernel": (7, 5), "conv_stride": (3, 3), "conv_dim": (16, 16)},
    ],
    ids=["tiny", "default-conv", "two-layers"],
)
def test_num_frames_equals_the_feature_encoder_over_many_sizes(config: dict[str, Any]) -> None:
    model = tiny_model("audio", **config)
    encoder = model.feature_extractor
    helper = model._get_feat_extract_output_lengths
    for samples in [*range(1, 60), 97, 128, 129, 400, 401, 719, 720, 1000, 1001, 3203, 4000]:
        expected = num_frames(model.config, samples)
        with torch.no_grad():
            try:
                real = encoder(torch.zeros(1, samples)).shape[-1]
            except RuntimeError:
                real = 0  # shorter than the receptive field: the conv stack raises
        assert expected == real, samples
        if real:
            assert int(helper(torch.tensor(samples))) == real


def test_num_frames_of_the_default_config() -> None:
    config = transformers.Data2VecAudioConfig()
    assert [num_frames(config, s) for s in (16000, 48000, 12345, 400, 399, 0)] == [49, 149, 38, 1, 0, 0]


def test_num_tokens_equals_the_real_vision_model_over_many_sizes(vision: Any) -> None:
    embeddings = vision.embeddings
    for height in (8, 9, 15, 16, 23, 31, 40):
        for width in (8, 12, 17, 24, 33):
            with torch.no_grad():
                tokens = embeddings(torch.zeros(1, 3, height, width))[0].shape[1]
            assert num_tokens(vision.config, height, width) == tokens, (height, width)
    out = vision(**tiny_inputs(vision, batch=1, height=35, width=17))
    assert out.last_hidden_state.shape[1] == num_tokens(vision.config, 35, 17) == 1 + 4 * 2


def test_num_tokens_of_full_size_configs_on_meta() -> None:
    config = transformers.Data2VecVisionConfig()
    with torch.device("meta"):
        model = transformers.Data2VecVisionModel(config)
        for (height, width), tokens in {(224, 224): 197, (384, 384): 577, (224, 320): 281}.items():
            out = model(pixel_values=torch.zeros(1, 3, height, width))
            assert out.last_hidden_state.shape[1] == num_tokens(config, height, width) == tokens
