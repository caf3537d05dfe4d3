"""Dense patch features and a segmentation-style head on Data2VecVisionModel.

``patch_feature_map`` turns an image batch into a (B, h, w, D) grid of patch features (CLS dropped,
row-major, any H and W that are multiples of the patch size, square or not); ``SegmentationHead`` is a
1x1 convolution over that grid, upsampled back to the input resolution.
"""

from ._features import patch_feature_map, patches_to_grid
from ._segmentation import SegmentationHead, segment, segmentation_loss

__all__ = ["SegmentationHead", "patch_feature_map", "patches_to_grid", "segment", "segmentation_loss"]
