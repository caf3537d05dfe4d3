"""Vision pipelines on tiny Data2Vec vision models (patch 8, image_size 32): grids, heads, segmentation, locality."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from jaxtyping import Float, Int
from torch import Tensor, nn

from data2vec_contracts import (
    DistinctSizesError,
    GridConsistencyError,
    PatchLocalityError,
    ShapeContractError,
    checked,
    contract,
    tokens_to_grid,
)

from . import _inputs as I
from ._cases import (
    buggy,
    call,
    correct,
)

_P = {"D": "model.config.hidden_size", "p": "model.config.patch_size"}
_HW = {"h": "H // p", "w": "W // p"}


def _backbone() -> nn.Module:
    return I.vision_model()


def _tokens(height: int, width: int) -> Tensor:
    """``last_hidden_state`` of a batch of 2 images: 1 + (H/8)(W/8) tokens, CLS first."""
    with torch.no_grad():
        return _backbone()(pixel_values=I.images(2, height, width)).last_hidden_state


# == grids from tokens ============================================================================================
@correct(lambda: call(_tokens(16, 40), 2, 5), "hand-written patch grid: drop CLS, reshape row-major (non-square)")
@contract(where={"N": "1 + h*w"})
def patch_grid(tokens: Float[Tensor, "B N D"], h: int, w: int) -> Float[Tensor, "B h w D"]:
    return tokens[:, 1:].reshape(tokens.shape[0], h, w, tokens.shape[2])


@buggy(
    lambda: call(_tokens(16, 40), 2, 5),
    "x[:, :-1] instead of x[:, 1:]: keeps CLS, drops the last patch",
    source="https://github.com/evandez/neuron-descriptions/issues/23",
    twin="patch_grid",
    expect=GridConsistencyError,
    says="comes from token 0 of tokens where it should come from token 1",
)
@contract(where={"N": "1 + h*w"})
def patch_grid_last_dropped(tokens: Float[Tensor, "B N D"], h: int, w: int) -> Float[Tensor, "B h w D"]:
    # evandez/neuron-descriptions#23: "the [CLS] is excluded through hiddens[:, :-1]? Should it be hiddens[:, 1:]?"
    return tokens[:, :-1].reshape(tokens.shape[0], h, w, tokens.shape[2])


@buggy(
    lambda: call(_tokens(16, 40), 2, 5),
    "h and w swapped in the reshape, then transposed back (column-major grid)",
    source="https://github.com/Alpha-VLLM/Lumina-DiMOO/issues/21",
    twin="patch_grid",
    expect=GridConsistencyError,
    says="where it should come from token",
)
@contract(where={"N": "1 + h*w"})
def patch_grid_transposed(tokens: Float[Tensor, "B N D"], h: int, w: int) -> Float[Tensor, "B h w D"]:
    # Alpha-VLLM/Lumina-DiMOO#21: "height, width = data_pkl['width'] // 16, data_pkl['height'] // 16 ... we
    # incorrectly reversed the height and width"
    return tokens[:, 1:].reshape(tokens.shape[0], w, h, tokens.shape[2]).transpose(1, 2)


@contract(dims={"h": "grid_height", "w": "grid_width"})
def patches_to_grid(patches: Float[Tensor, "B h*w D"], grid_height: int, grid_width: int) -> Float[Tensor, "B h w D"]:
    """The (B, h*w, D) patch tokens, CLS already dropped, as a row-major (B, h, w, D) grid (as in examples/)."""
    return patches.reshape(patches.shape[0], grid_height, grid_width, patches.shape[2])


@correct(lambda: call(_tokens(16, 40), 2, 5), "patch grid through a helper whose contract is (B, h*w, D)")
@contract(where={"N": "1 + h*w"})
def feature_grid(tokens: Float[Tensor, "B N D"], h: int, w: int) -> Float[Tensor, "B h w D"]:
    return patches_to_grid(tokens[:, 1:], h, w)


@buggy(
    lambda: call(_tokens(16, 40), 2, 5),
    "CLS token not dropped before the grid reshape",
    source="https://github.com/yitu-opensource/T2T-ViT/issues/22 (use x[:, 1:], the patch tokens, for a feature map)",
    twin="feature_grid",
    expect=ShapeContractError,
    says="h*w",
    field_="argument patches",
)
@contract(where={"N": "1 + h*w"})
def feature_grid_with_cls(tokens: Float[Tensor, "B N D"], h: int, w: int) -> Float[Tensor, "B h w D"]:
    # yitu-opensource/T2T-ViT#22: to get a feature map "you should use other 14x14 tokens, where each token
    # corresponding to one patch" -- here the CLS token goes into the grid
    return patches_to_grid(tokens, h, w)


@correct(lambda: call(_tokens(16, 40), 2, 5), "channels-first feature map with tokens_to_grid and permute")
@contract(where={"N": "1 + h*w"})
def channels_first_map(tokens: Float[Tensor, "B N D"], h: int, w: int) -> Float[Tensor, "B D h w"]:
    return tokens_to_grid(tokens, h, w).permute(0, 3, 1, 2)


@correct(
    lambda: call(_tokens(16, 40), 2, 5),
    "patch grid without where= (the relation N = 1 + h*w left implicit)",
)
@contract
def grid_without_relation(tokens: Float[Tensor, "B N D"], h: int, w: int) -> Float[Tensor, "B h w D"]:
    return tokens[:, 1:].reshape(tokens.shape[0], h, w, tokens.shape[2])


@buggy(
    lambda: call(_tokens(16, 40), 2, 5),
    "x[:, :-1] in a grid whose contract states no where= relation",
    source="https://github.com/evandez/neuron-descriptions/issues/23",
    twin="grid_without_relation",
    expect=GridConsistencyError,
    says="comes from token 0 of tokens where it should come from token 1 alone (N = 1 + h*w, row-major)",
)
@contract
def grid_without_relation_last_dropped(tokens: Float[Tensor, "B N D"], h: int, w: int) -> Float[Tensor, "B h w D"]:
    # the same report, in a helper that leaves N = 1 + h*w implicit
    return tokens[:, :-1].reshape(tokens.shape[0], h, w, tokens.shape[2])


# == grids from pixels ==============================================================================================
@correct(lambda: call(_backbone(), I.images(2, 16, 40), 2, 5), "tokens_to_grid from int h, w linked to H, W by where=")
@contract(dims=_P, where=_HW)
def pixel_grid(model: nn.Module, pixel_values: Float[Tensor, "B C H W"], h: int, w: int) -> Float[Tensor, "B h w D"]:
    return tokens_to_grid(model(pixel_values=pixel_values).last_hidden_state, h, w)


@correct(
    lambda: call(_backbone(), I.images(2, 32, 32), 4, 4),
    "hand-written grid from int h, w (no where=), square",
)
@contract(dims={"D": "model.config.hidden_size"})
def pixel_grid_given_hw(
    model: nn.Module, pixel_values: Float[Tensor, "B C H W"], h: int, w: int
) -> Float[Tensor, "B h w D"]:
    tokens = model(pixel_values=pixel_values).last_hidden_state
    return tokens[:, 1:].reshape(tokens.shape[0], h, w, tokens.shape[2])


@correct(lambda: call(_backbone(), I.images(2, 32, 32)), "patch grid sized from the pixels (h = H // p), square")
@contract(dims=_P, where=_HW)
def image_patches(model: nn.Module, pixel_values: Float[Tensor, "B C H W"]) -> Float[Tensor, "B h w D"]:
    tokens = model(pixel_values=pixel_values).last_hidden_state
    b, _, height, width = pixel_values.shape
    p = model.config.patch_size
    return tokens[:, 1:].reshape(b, height // p, width // p, -1)


@buggy(
    lambda: call(_backbone(), I.images(2, 32, 32)),
    "H and W swapped in the grid reshape (square images hide it)",
    source="https://github.com/google-coral/examples-camera/pull/50",
    twin="image_patches",
    expect=DistinctSizesError,
    says="no two sizes equal",
)
@contract(dims=_P, where=_HW)
def image_patches_swapped(model: nn.Module, pixel_values: Float[Tensor, "B C H W"]) -> Float[Tensor, "B h w D"]:
    # google-coral/examples-camera#50: "When reshaping the input tensor data height and width are swapped ... If
    # they're different (non square) setting the input tensor data will fail"
    tokens = model(pixel_values=pixel_values).last_hidden_state
    b, _, height, width = pixel_values.shape
    p = model.config.patch_size
    return tokens[:, 1:].reshape(b, width // p, height // p, -1)


@buggy(
    lambda: call(_backbone(), I.images(2, 32, 32)),
    "grid side from sqrt(N - 1): a reshape that only works for square images",
    source="https://github.com/lucidrains/vit-pytorch/issues/197",
    twin="image_patches",
    expect=DistinctSizesError,
    says="no two sizes equal",
    field_="the call",
)
@contract(dims=_P, where=_HW)
def image_patches_square_only(model: nn.Module, pixel_values: Float[Tensor, "B C H W"]) -> Float[Tensor, "B h w D"]:
    # lucidrains/vit-pytorch#197: "efficient model requires square images"
    tokens = model(pixel_values=pixel_values).last_hidden_state
    side = int((tokens.shape[1] - 1) ** 0.5)
    return tokens[:, 1:].reshape(tokens.shape[0], side, side, -1)


# == locality: features from the patch embedding ======================================================================
@correct(lambda: call(_backbone(), I.images(2, 16, 40)), "locality-respecting feature map: the patch embedding alone")
@contract(dims=_P, where=_HW)
def patch_embedding_map(model: nn.Module, pixel_values: Float[Tensor, "B C H W"]) -> Float[Tensor, "B D h w"]:
    embedded, (h, w) = model.embeddings.patch_embeddings(pixel_values)
    return embedded.transpose(1, 2).reshape(embedded.shape[0], -1, h, w)


@correct(lambda: call(_backbone(), I.images(2, 16, 40)), "hand-written patchify + the patch projection's weights")
@contract(dims=_P, where=_HW)
def patchified_features(model: nn.Module, pixel_values: Float[Tensor, "B C H W"]) -> Float[Tensor, "B h w D"]:
    projection = model.embeddings.patch_embeddings.projection
    p = model.config.patch_size
    b, c, height, width = pixel_values.shape
    patches = pixel_values.unfold(2, p, p).unfold(3, p, p)  # (B, C, h, w, p, p)
    patches = patches.permute(0, 2, 3, 1, 4, 5).reshape(b, height // p, width // p, c * p * p)
    return patches @ projection.weight.flatten(1).T + projection.bias


@buggy(
    lambda: call(_backbone(), I.images(2, 16, 40)),
    "patchify that flattens (C, h, w, p, p) without moving C: each 'patch' mixes pixels of several patches",
    source="https://github.com/gupta-abhay/pytorch-vit/issues/7",
    twin="patchified_features",
    expect=PatchLocalityError,
    says="leave grid cell (h, w) = (0, 1) of example 0 unchanged, while changes in other patches move it",
)
@contract(dims=_P, where=_HW)
def patchified_features_mixed(model: nn.Module, pixel_values: Float[Tensor, "B C H W"]) -> Float[Tensor, "B h w D"]:
    # gupta-abhay/pytorch-vit#7: "if x is in shape N,C,H,W, unrolling ends up with N,C,H//P,W//P,P,P and therefore
    # flattening ends up mixing data from different channels. It means your 'words' come from different blocks in
    # space"
    projection = model.embeddings.patch_embeddings.projection
    p = model.config.patch_size
    b, c, height, width = pixel_values.shape
    patches = pixel_values.unfold(2, p, p).unfold(3, p, p).reshape(b, height // p, width // p, c * p * p)
    return patches @ projection.weight.flatten(1).T + projection.bias


# == heads ========================================================================================================
@correct(lambda: call(I.vision_model("ForImageClassification"), I.images(2, 32, 32)), "image classification")
@contract(dims={"K": "model.config.num_labels"})
def image_class_logits(model: nn.Module, pixel_values: Float[Tensor, "B C H W"]) -> Float[Tensor, "B K"]:
    return model(pixel_values=pixel_values).logits


def _segmenter() -> nn.Module:
    return checked(I.vision_model("ForSemanticSegmentation"))


@correct(
    lambda: call(_segmenter(), I.images(2, 32, 32)),
    "segmentation logits at image_size (checked model)",
)
@contract(dims={"K": "model.config.num_labels"})
def segmentation_logits(model: nn.Module, pixel_values: Float[Tensor, "B C H W"]) -> Float[Tensor, "B K Hs Ws"]:
    return model(pixel_values=pixel_values).logits


def _labelled() -> dict[str, Tensor]:
    return {"pixel_values": I.images(2, 32, 32), "labels": I.segmentation_labels(2, 24, 40, 2)}


@correct(
    lambda: call(_segmenter(), **_labelled()),
    "segmentation logits upsampled to the label size, per-image loss",
)
@contract(dims={"K": "model.config.num_labels"})
def segmentation_loss(
    model: nn.Module, pixel_values: Float[Tensor, "B C H W"], labels: Int[Tensor, "B Hl Wl"]
) -> Float[Tensor, " B"]:
    logits = model(pixel_values=pixel_values).logits
    return pixel_loss(F.interpolate(logits, size=labels.shape[-2:], mode="bilinear", align_corners=False), labels)


@buggy(
    lambda: call(_segmenter(), **_labelled()),
    "logits upsampled to (width, height) of the label map",
    source="https://github.com/facebookarchive/caffe2/pull/898 (swap input_width and input_height in resize)",
    twin="segmentation_loss",
    expect=ShapeContractError,
    says="Hu",
    field_="argument labels",
)
@contract(dims={"K": "model.config.num_labels"})
def segmentation_loss_swapped(
    model: nn.Module, pixel_values: Float[Tensor, "B C H W"], labels: Int[Tensor, "B Hl Wl"]
) -> Float[Tensor, " B"]:
    # facebookarchive/caffe2#898: "swap input_width and input_height in skimage.transform.resize"
    logits = model(pixel_values=pixel_values).logits
    height, width = labels.shape[-2:]
    return pixel_loss(F.interpolate(logits, size=(width, height), mode="bilinear", align_corners=False), labels)


@contract
def pixel_loss(upsampled: Float[Tensor, "B K Hu Wu"], labels: Int[Tensor, "B Hu Wu"]) -> Float[Tensor, " B"]:
    """Mean cross-entropy per image over the pixels that are not 255."""
    loss = F.cross_entropy(upsampled, labels, ignore_index=255, reduction="none")
    counted = (labels != 255).to(loss.dtype)
    return (loss * counted).sum(dim=(1, 2)) / counted.sum(dim=(1, 2))
