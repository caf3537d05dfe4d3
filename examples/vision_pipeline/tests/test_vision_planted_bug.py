"""A planted real-world bug: the vision tokens are reshaped to the grid without dropping CLS.

Data2Vec vision returns 1 + h*w tokens, CLS first. The copy of ``patch_feature_map`` below hands all
of them to ``patches_to_grid``. Without contracts this ends in torch's "shape '[2, 4, 6, 32]' is
invalid for input of size 1600"; under ``--shape-contracts`` it fails at the pipeline's own
contract with the dimension, both sizes, what bound them and the CLS hint.
"""

from __future__ import annotations

import pytest

BUGGY_PIPELINE = """
import torch
from jaxtyping import Float
from torch import Tensor
from transformers import Data2VecVisionConfig, Data2VecVisionModel

from data2vec_contracts import contract
from vision_pipeline import patches_to_grid


@contract(dims={"D": "model.config.hidden_size", "p": "model.config.patch_size"}, where={"h": "H // p", "w": "W // p"})
def patch_feature_map(model, pixel_values: Float[Tensor, "B C H W"]) -> Float[Tensor, "B h w D"]:
    tokens = model(pixel_values=pixel_values).last_hidden_state
    p = model.config.patch_size
    return patches_to_grid(tokens, pixel_values.shape[-2] // p, pixel_values.shape[-1] // p)  # BUG: CLS kept


def test_feature_map():
    config = Data2VecVisionConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
                                  image_size=32, patch_size=8, out_indices=(1, 2, 2, 3))
    model = Data2VecVisionModel(config).eval()
    grid = patch_feature_map(model, torch.randn(2, 3, 32, 48))
    assert grid.shape == (2, 4, 6, 32)
"""


def test_keeping_the_cls_token_fails_with_the_contract_message(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_buggy_grid=BUGGY_PIPELINE)
    result = pytester.runpytest("--shape-contracts", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    # fnmatch patterns: "*" is a wildcard and "[[]" a literal "[".
    result.stdout.fnmatch_lines(
        [
            "*Shape contract violated: dimension h*w of argument patches.",
            "*  Function: vision_pipeline._features.patches_to_grid",
            "*      Dimension h*w: expected 24 (= h*w with h=4, w=6), actual 25",
            "*      h*w was bound by: h: argument grid_height; w: argument grid_width",
            "*  Hint: Data2Vec vision returns 1 + h*w tokens with the CLS token at index 0; drop it with x[[]:, 1:]*",
            # the coverage summary lists the violation under the test that hit it
            "violation: test_buggy_grid.py::test_feature_map: vision_pipeline._features.patches_to_grid, "
            "argument patches, dimension h[*]w",
        ]
    )
