"""Probes on vision pipelines over a real tiny Data2VecVisionModel (patch 8: a 32x32 image gives 1 + 4*4 tokens)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch import nn

import data2vec_contracts as dc
from data2vec_contracts import DistinctSizesError, GridConsistencyError, probe
from data2vec_contracts.instrument import contract_of

from . import _pipelines as P

GRID_HINT = (
    "  Hint: drop the CLS token with x[:, 1:] (not x[:, :-1]), reshape row-major to (B, h, w, D) and permute "
    "afterwards if channels-first is wanted (data2vec_contracts.tokens_to_grid)."
)


@pytest.fixture(scope="module")
def tokens(vision: nn.Module) -> torch.Tensor:
    with torch.no_grad():
        return vision(pixel_values=P.images(2, 32, 32)).last_hidden_state


@pytest.mark.parametrize("fn", [P.patch_grid, P.feature_map, dc.tokens_to_grid], ids=lambda f: f.__name__)
def test_correct_grids_pass(fn: Callable[..., Any], tokens: torch.Tensor) -> None:
    result = probe(fn, tokens, 4, 4)
    assert result.checked == ("batch", "sizes", "grid")
    bits = 5  # ceil(log2(17 + 1))
    assert result.calls_by_property["grid"] == 1 + 2 * bits
    assert result.skipped["padding"].startswith("no mask argument")


def test_a_grid_that_keeps_cls_and_drops_the_last_patch_is_caught(tokens: torch.Tensor) -> None:
    fn = P.patch_grid_last_dropped
    with pytest.raises(GridConsistencyError) as info:
        probe(fn, tokens, 4, 4)
    assert str(info.value) == (
        "Shape contract violated: grid consistency of return value.\n"
        "  Function: tests.probes._pipelines.patch_grid_last_dropped\n"
        f"    Declared: {contract_of(fn).declared}\n"
        "    Return value\n"
        '      Contract: Float[Tensor, "B h w D"]\n'
        "      Grid consistency: grid cell (h, w) = (0, 0) of example 0 comes from token 0 of tokens where it should "
        "come from token 1 alone (N = 1 + h*w, row-major); 32 of 32 cells are wrong\n"
        "    Other bindings:\n"
        "      B = 2   (argument tokens, axis 0)\n"
        "      N = 17  (argument tokens, axis 1)\n"
        "      D = 32  (argument tokens, axis 2)\n"
        "      h = 4   (return value, axis 1)\n"
        "      w = 4   (return value, axis 2)\n" + GRID_HINT
    )


def test_a_channels_first_map_without_the_permute_is_caught(tokens: torch.Tensor) -> None:
    caught = r"grid cell \(h, w\) = \(0, 0\) of example 0 mixes several tokens of tokens where it should come from"
    with pytest.raises(GridConsistencyError, match=caught):
        probe(P.feature_map_no_permute, tokens, 4, 4)


def test_a_column_major_grid_is_caught_even_on_square_images(tokens: torch.Tensor) -> None:
    caught = r"grid cell \(h, w\) = \(0, 1\) of example 0 comes from token 5 of tokens where it should come from"
    with pytest.raises(GridConsistencyError, match=caught):
        probe(P.patch_grid_transposed, tokens, 4, 4)


def test_grid_is_probed_on_non_square_grids(vision: nn.Module) -> None:
    with torch.no_grad():
        wide = vision(pixel_values=P.images(1, 16, 40)).last_hidden_state  # h=2, w=5
    assert "grid" in probe(P.patch_grid, wide, 2, 5).checked
    with pytest.raises(GridConsistencyError, match=r"\(h, w\) = \(0, 0\) of example 0 comes from token 0"):
        probe(P.patch_grid_last_dropped, wide, 2, 5)


def test_an_h_w_swap_hidden_by_square_images_is_caught(vision: nn.Module) -> None:
    square = P.images(2, 32, 32)
    result = probe(P.image_patches, vision, square)
    assert result.checked == ("batch", "sizes", "locality")
    assert result.calls_by_property["sizes"] == 1  # B=1 came from batch independence
    fn = P.image_patches_swapped
    with pytest.raises(DistinctSizesError) as info:
        probe(fn, vision, square)
    assert str(info.value) == (
        "Shape contract violated: distinct sizes of return value.\n"
        "  Function: tests.probes._pipelines.image_patches_swapped\n"
        f"    Declared: {contract_of(fn).declared}\n"
        "    Return value\n"
        '      Contract: Float[Tensor, "B h w D"]\n'
        "      Distinct sizes: with B=2, H=40, W=48, h=5, w=6 (no two sizes equal): the contract fails "
        "(dimension h of return value: expected 5, actual 6)\n"
        "    Other bindings:\n"
        "      D = 32  (model.config.hidden_size)\n"
        "      p = 8   (model.config.patch_size)\n"
        "      B = 2   (argument pixel_values, axis 0)\n"
        "      C = 3   (argument pixel_values, axis 1)\n"
        "      H = 32  (argument pixel_values, axis 2)\n"
        "      W = 32  (argument pixel_values, axis 3)\n"
        "      h = 4   (h = H // p with H=32, p=8; where= of the contract)\n"
        "      w = 4   (w = W // p with W=32, p=8; where= of the contract)\n"
        "  Hint: a transposition or reshape that only fits while two sizes are equal (B == N, square images); "
        "write the axes out from the contract's names."
    )
    assert isinstance(info.value.__cause__, dc.ShapeContractError)
