"""The vision pipeline on a tiny random-weight Data2VecVisionModel (D=32, 8x8 patches): shapes and outcomes."""

from __future__ import annotations

import pytest
import torch
from jaxtyping import Float
from torch import Tensor
from transformers import Data2VecVisionModel
from vision_pipeline import SegmentationHead, patch_feature_map, patches_to_grid, segment, segmentation_loss

import data2vec_contracts
from data2vec_contracts import GridConsistencyError, ShapeContractError, contract, probe
from data2vec_contracts.instrument import contract_of
from data2vec_contracts.plugin import ShapeContractRecorder


@pytest.mark.parametrize(("height", "width"), [(32, 32), (32, 48), (48, 16)])
def test_feature_map_is_the_row_major_patch_grid(vision_model: Data2VecVisionModel, height: int, width: int) -> None:
    pixel_values = torch.randn(2, 3, height, width)
    grid = patch_feature_map(vision_model, pixel_values)
    h, w = height // 8, width // 8
    assert grid.shape == (2, h, w, 32)
    tokens = vision_model(pixel_values=pixel_values).last_hidden_state
    assert tokens.shape == (2, 1 + h * w, 32)
    for i in range(h):
        for j in range(w):
            torch.testing.assert_close(grid[:, i, j], tokens[:, 1 + i * w + j])
    torch.testing.assert_close(grid, data2vec_contracts.tokens_to_grid(tokens, h, w))


def test_each_grid_cell_sees_its_own_patch(vision_model: Data2VecVisionModel) -> None:
    # At layer 0 (the patch embeddings, before any attention) a pixel change reaches only its patch's cell,
    # so this pins the layout: row i, column j of the grid is the patch at pixels [8i:8i+8, 8j:8j+8].
    pixel_values = torch.randn(1, 3, 32, 48)
    changed = pixel_values.clone()
    changed[:, :, 16:24, 40:48] += 1.0  # the patch in grid row 2, column 5
    before = patch_feature_map(vision_model, pixel_values, layer=0)
    after = patch_feature_map(vision_model, changed, layer=0)
    moved = (after - before).abs().amax(dim=-1)[0] > 1e-6
    assert moved.shape == (4, 6)
    assert moved.nonzero().tolist() == [[2, 5]]


def test_segmentation_logits_are_at_input_resolution(vision_model: Data2VecVisionModel) -> None:
    head = SegmentationHead(vision_model.config.hidden_size, num_classes=3)
    logits = segment(vision_model, head, torch.randn(2, 3, 32, 48))
    assert logits.shape == (2, 3, 32, 48)


def test_segmentation_head_learns_a_left_right_split(vision_model: Data2VecVisionModel) -> None:
    torch.manual_seed(0)
    # Class 1 on the right half (bright), class 0 on the left half (dark); the split falls between patches.
    pixel_values = torch.randn(4, 3, 32, 48) * 0.1
    pixel_values[..., 24:] += 1.0
    labels = torch.zeros(4, 32, 48, dtype=torch.long)
    labels[..., 24:] = 1
    head = SegmentationHead(vision_model.config.hidden_size, num_classes=2)
    optimizer = torch.optim.Adam(head.parameters(), lr=0.05)
    with torch.no_grad():
        features = patch_feature_map(vision_model, pixel_values)
        first = segmentation_loss(head(features, 32, 48), labels).item()
    for _ in range(40):
        optimizer.zero_grad()
        loss = segmentation_loss(head(features, 32, 48), labels)
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        logits = segment(vision_model, head, pixel_values)
    assert segmentation_loss(logits, labels).item() < first / 2
    accuracy = (logits.argmax(dim=1) == labels).float().mean().item()
    assert accuracy > 0.9


def test_tokens_with_the_cls_token_are_not_a_grid(vision_model: Data2VecVisionModel) -> None:
    tokens = vision_model(pixel_values=torch.randn(2, 3, 32, 48)).last_hidden_state
    with pytest.raises(ShapeContractError) as info:
        patches_to_grid(tokens, 4, 6)
    declared = contract_of(patches_to_grid).declared
    assert str(info.value).splitlines() == [
        "Shape contract violated: dimension h*w of argument patches.",
        "  Function: vision_pipeline._features.patches_to_grid",
        f"    Declared: {declared}",
        "    Argument patches",
        '      Contract: Float[Tensor, "B h*w D"]',
        "      Actual value: Tensor(float32, shape=(2, 25, 32))",
        "      Dimension h*w: expected 24 (= h*w with h=4, w=6), actual 25",
        "      h*w was bound by: h: argument grid_height; w: argument grid_width",
        "    Other bindings:",
        "      h = 4  (argument grid_height)",
        "      w = 6  (argument grid_width)",
        "      B = 2  (argument patches, axis 0)",
        "  Hint: Data2Vec vision returns 1 + h*w tokens with the CLS token at index 0; drop it with x[:, 1:] "
        "before reshaping to the (B, h, w, D) grid (data2vec_contracts.tokens_to_grid does this).",
    ]


def test_one_segment_call_checks_the_model_and_every_pipeline_step(
    vision_model: Data2VecVisionModel, shape_contract_recorder: ShapeContractRecorder
) -> None:
    head = SegmentationHead(vision_model.config.hidden_size, num_classes=3)
    segment(vision_model, head, torch.randn(2, 3, 32, 48))
    assert shape_contract_recorder.contracts() == [
        "Data2VecVisionModel",
        "vision_pipeline._features.patches_to_grid",
        "vision_pipeline._features.patch_feature_map",
        "vision_pipeline._segmentation.SegmentationHead.forward",
        "vision_pipeline._segmentation.segment",
    ]
    assert shape_contract_recorder.dims("Nv", "Data2VecVisionModel") == {25}
    assert shape_contract_recorder.dims("h") == {4}
    assert shape_contract_recorder.dims("w") == {6}
    assert shape_contract_recorder.dims("K", "segment") == {3}


def test_feature_map_passes_the_contract_probes(vision_model: Data2VecVisionModel) -> None:
    # Each image alone and in another order gives the same map; other sizes (B=1, no two dims equal) still fit;
    # a change inside one patch moves only that patch's cell of the map (locality).
    result = probe(patch_feature_map, vision_model, torch.randn(2, 3, 32, 48))
    assert result.checked == ("batch", "sizes", "locality")
    assert set(result.skipped) == {"padding", "grid", "trim", "mask"}
    assert result.max_deviation["batch"] < 1e-5


@contract(dims={"h": "grid_height", "w": "grid_width"}, where={"N": "1 + h*w"})
def grid_dropping_the_last_token(
    tokens: Float[Tensor, "B N D"], grid_height: int, grid_width: int
) -> Float[Tensor, "B h w D"]:
    """A bug with the right shape: x[:, :-1] keeps CLS and drops the last patch, so every cell is shifted."""
    return tokens[:, :-1].reshape(tokens.shape[0], grid_height, grid_width, tokens.shape[-1])


def test_the_probe_catches_a_grid_that_keeps_cls(vision_model: Data2VecVisionModel) -> None:
    tokens = vision_model(pixel_values=torch.randn(2, 3, 32, 48)).last_hidden_state
    assert grid_dropping_the_last_token(tokens, 4, 6).shape == (2, 4, 6, 32)  # every shape check passes
    assert "grid" in probe(data2vec_contracts.tokens_to_grid, tokens, 4, 6).checked
    cell_0_0 = (
        r"grid cell \(h, w\) = \(0, 0\) of example 0 comes from token 0 of tokens where it should come from token 1"
    )
    with pytest.raises(GridConsistencyError, match=cell_0_0):
        probe(grid_dropping_the_last_token, tokens, 4, 6)
