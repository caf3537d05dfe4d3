"""A segmentation-style head: 1x1 convolution over the patch grid, upsampled to the image size."""

from __future__ import annotations

import torch
from jaxtyping import Float, Int
from torch import Tensor, nn
from transformers import Data2VecVisionModel

from data2vec_contracts import contract

from ._features import patch_feature_map


class SegmentationHead(nn.Module):
    """Per-patch class scores from a (B, h, w, D) feature map, bilinearly upsampled to (B, K, H, W)."""

    def __init__(self, hidden_size: int, num_classes: int) -> None:
        super().__init__()
        self.classifier = nn.Conv2d(hidden_size, num_classes, kernel_size=1)

    @contract(
        dims={"D": "self.classifier.in_channels", "K": "self.classifier.out_channels", "H": "height", "W": "width"}
    )
    def forward(self, features: Float[Tensor, "B h w D"], height: int, width: int) -> Float[Tensor, "B K H W"]:
        patch_logits = self.classifier(features.permute(0, 3, 1, 2))  # (B, K, h, w)
        return nn.functional.interpolate(patch_logits, size=(height, width), mode="bilinear", align_corners=False)


@contract(dims={"K": "head.classifier.out_channels"})
def segment(
    model: Data2VecVisionModel, head: SegmentationHead, pixel_values: Float[Tensor, "B C H W"]
) -> Float[Tensor, "B K H W"]:
    """Class logits for every pixel of the input, at the input resolution."""
    features = patch_feature_map(model, pixel_values)
    return head(features, pixel_values.shape[-2], pixel_values.shape[-1])


@contract
def segmentation_loss(logits: Float[Tensor, "B K H W"], labels: Int[Tensor, "B H W"]) -> Float[Tensor, ""]:
    """Mean per-pixel cross-entropy."""
    return torch.nn.functional.cross_entropy(logits, labels)
