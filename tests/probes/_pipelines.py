"""Pipelines written the way users write them, each correct one next to a real-world bug of the same shape.

Every function here has the right output shape; the buggy ones compute the wrong numbers. The tiny
models are real Data2Vec models with random weights (D=32), built once per test module.
"""

from __future__ import annotations

import torch
import transformers
from jaxtyping import Float, Int
from torch import Tensor, nn

from data2vec_contracts import contract, frame_mask, masked_mean_pool

_SMALL = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 37}
TEXT = {**_SMALL, "vocab_size": 99, "max_position_embeddings": 64}
AUDIO = {
    **_SMALL,
    "conv_dim": (16, 16, 16),
    "conv_kernel": (5, 3, 3),
    "conv_stride": (4, 2, 2),
    "num_conv_pos_embeddings": 3,
    "num_conv_pos_embedding_groups": 2,
    "vocab_size": 20,
}
VISION = {**_SMALL, "image_size": 32, "patch_size": 8}


def text_model() -> transformers.Data2VecTextModel:
    torch.manual_seed(0)
    return transformers.Data2VecTextModel(transformers.Data2VecTextConfig(**TEXT)).eval()


def audio_model(**overrides: object) -> transformers.Data2VecAudioModel:
    torch.manual_seed(0)
    return transformers.Data2VecAudioModel(transformers.Data2VecAudioConfig(**{**AUDIO, **overrides})).eval()


def vision_model() -> transformers.Data2VecVisionModel:
    torch.manual_seed(0)
    return transformers.Data2VecVisionModel(transformers.Data2VecVisionConfig(**VISION)).eval()


def text_batch(lengths: list[int], n: int | None = None, side: str = "right") -> dict[str, Tensor]:
    """Token ids (pad id 1 at padded positions, as a tokenizer does) and the mask, padded to the longest."""
    n = n or max(lengths)
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(2, 99, (len(lengths), n), generator=g)
    pos = torch.arange(n).expand(len(lengths), n)
    kept = torch.tensor(lengths).unsqueeze(1)
    mask = pos < kept if side == "right" else pos >= n - kept
    return {"input_ids": ids.masked_fill(~mask, 1), "attention_mask": mask.long()}


def audio_batch(lengths: list[int]) -> dict[str, Tensor]:
    s = max(lengths)
    g = torch.Generator().manual_seed(2)
    mask = torch.arange(s).expand(len(lengths), s) < torch.tensor(lengths).unsqueeze(1)
    values = torch.randn(len(lengths), s, generator=g).masked_fill(~mask, 0.0)
    return {"input_values": values, "attention_mask": mask.long()}


def images(batch: int, height: int, width: int) -> Tensor:
    return torch.randn(batch, 3, height, width, generator=torch.Generator().manual_seed(3))


# -- text: pooling ---------------------------------------------------------------------------------
@contract(dims={"D": "model.config.hidden_size"})
def sentence_embedding(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B D"]:
    hidden = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    return masked_mean_pool(hidden, attention_mask)


@contract(dims={"D": "model.config.hidden_size"})
def sentence_embedding_mean_all(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B D"]:
    hidden = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    return hidden.mean(dim=1)  # BUG: averages the padding in


@contract(dims={"D": "model.config.hidden_size"})
def cls_embedding(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B D"]:
    hidden = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    first = attention_mask.argmax(dim=1)  # the first kept token: <s> on either padding side
    return hidden[torch.arange(hidden.shape[0]), first]


@contract(dims={"D": "model.config.hidden_size"})
def cls_embedding_index0(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B D"]:
    hidden = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    return hidden[:, 0]  # BUG: a pad token under left padding


# -- text: mixing the batch ------------------------------------------------------------------------
@contract(dims={"D": "model.config.hidden_size"})
def centred_embedding(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B D"]:
    pooled = sentence_embedding(model, input_ids, attention_mask)
    return pooled - pooled.mean(dim=-1, keepdim=True)


@contract(dims={"D": "model.config.hidden_size"})
def centred_embedding_over_batch(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B D"]:
    pooled = sentence_embedding(model, input_ids, attention_mask)
    return pooled - pooled.mean(dim=0, keepdim=True)  # BUG: a mean over the batch axis


class TaggerHead(nn.Module):
    """An LSTM over the token states, as people put on top of an encoder."""

    def __init__(self, hidden: int, batch_first: bool) -> None:
        super().__init__()
        torch.manual_seed(4)
        self.lstm = nn.LSTM(hidden, hidden, batch_first=batch_first)  # batch_first=False is the BUG


@contract(dims={"D": "model.config.hidden_size"})
def token_features(
    model: nn.Module, head: TaggerHead, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B N D"]:
    hidden = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    out, _ = head.lstm(hidden)
    return out


@contract(dims={"D": "model.config.hidden_size"})
def sentence_embedding_wrong_count(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B D"]:
    hidden = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=0)  # BUG: counts over the batch; fits only while B == N


# -- audio -----------------------------------------------------------------------------------------
class FramePool(nn.Module):
    """Self-attention over the frames before pooling."""

    def __init__(self, hidden: int, batch_first: bool) -> None:
        super().__init__()
        torch.manual_seed(5)
        self.attn = nn.MultiheadAttention(hidden, 4, batch_first=batch_first)


@contract(dims={"D": "model.config.hidden_size"})
def utterance_embedding(
    model: nn.Module, input_values: Float[Tensor, "B S"], attention_mask: Int[Tensor, "B S"]
) -> Float[Tensor, "B D"]:
    hidden = model(input_values, attention_mask=attention_mask).last_hidden_state
    return masked_mean_pool(hidden, frame_mask(model.config, attention_mask))


@contract(dims={"D": "model.config.hidden_size"})
def utterance_embedding_mean_all(
    model: nn.Module, input_values: Float[Tensor, "B S"], attention_mask: Int[Tensor, "B S"]
) -> Float[Tensor, "B D"]:
    hidden = model(input_values, attention_mask=attention_mask).last_hidden_state
    return hidden.mean(dim=1)  # BUG: averages the padded frames in


@contract(dims={"D": "model.config.hidden_size"})
def attended_utterance(
    model: nn.Module, pool: FramePool, input_values: Float[Tensor, "B S"], attention_mask: Int[Tensor, "B S"]
) -> Float[Tensor, "B D"]:
    hidden = model(input_values, attention_mask=attention_mask).last_hidden_state
    frames = frame_mask(model.config, attention_mask)
    if pool.attn.batch_first:
        mixed, _ = pool.attn(hidden, hidden, hidden, key_padding_mask=~frames)
    else:
        mixed, _ = pool.attn(hidden, hidden, hidden)  # BUG: sequence-first attention on (B, T, D)
    return masked_mean_pool(mixed, frames)


# -- vision ----------------------------------------------------------------------------------------
@contract(where={"N": "1 + h*w"})
def patch_grid(tokens: Float[Tensor, "B N D"], h: int, w: int) -> Float[Tensor, "B h w D"]:
    return tokens[:, 1:].reshape(tokens.shape[0], h, w, tokens.shape[2])


@contract(where={"N": "1 + h*w"})
def patch_grid_last_dropped(tokens: Float[Tensor, "B N D"], h: int, w: int) -> Float[Tensor, "B h w D"]:
    return tokens[:, :-1].reshape(tokens.shape[0], h, w, tokens.shape[2])  # BUG: keeps CLS, drops a patch


@contract(where={"N": "1 + h*w"})
def feature_map(tokens: Float[Tensor, "B N D"], h: int, w: int) -> Float[Tensor, "B D h w"]:
    return tokens[:, 1:].reshape(tokens.shape[0], h, w, tokens.shape[2]).permute(0, 3, 1, 2)


@contract(where={"N": "1 + h*w"})
def feature_map_no_permute(tokens: Float[Tensor, "B N D"], h: int, w: int) -> Float[Tensor, "B D h w"]:
    return tokens[:, 1:].reshape(tokens.shape[0], tokens.shape[2], h, w)  # BUG: channels scrambled


@contract(where={"N": "1 + h*w"})
def patch_grid_transposed(tokens: Float[Tensor, "B N D"], h: int, w: int) -> Float[Tensor, "B h w D"]:
    return tokens[:, 1:].reshape(tokens.shape[0], w, h, tokens.shape[2]).transpose(1, 2)  # BUG: column-major


@contract(dims={"D": "model.config.hidden_size", "p": "model.config.patch_size"}, where={"h": "H // p", "w": "W // p"})
def image_patches(model: nn.Module, pixel_values: Float[Tensor, "B C H W"]) -> Float[Tensor, "B h w D"]:
    tokens = model(pixel_values=pixel_values).last_hidden_state
    b, _, height, width = pixel_values.shape
    p = model.config.patch_size
    return tokens[:, 1:].reshape(b, height // p, width // p, -1)


@contract(dims={"D": "model.config.hidden_size", "p": "model.config.patch_size"}, where={"h": "H // p", "w": "W // p"})
def image_patches_swapped(model: nn.Module, pixel_values: Float[Tensor, "B C H W"]) -> Float[Tensor, "B h w D"]:
    tokens = model(pixel_values=pixel_values).last_hidden_state
    b, _, height, width = pixel_values.shape
    p = model.config.patch_size
    return tokens[:, 1:].reshape(b, width // p, height // p, -1)  # BUG: h and w swapped; square images hide it


# -- text: per-token outputs -----------------------------------------------------------------------
@contract(dims={"D": "model.config.hidden_size"})
def token_states(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> tuple[Float[Tensor, "B N D"], Float[Tensor, "B D"]]:
    hidden = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    return hidden, masked_mean_pool(hidden, attention_mask)


@contract(dims={"D": "model.config.hidden_size"})
def token_states_centred(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> tuple[Float[Tensor, "B N D"], Float[Tensor, "B D"]]:
    hidden = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    centred = hidden - hidden.mean(dim=1, keepdim=True)  # BUG: the sequence mean counts the padding
    return centred, masked_mean_pool(hidden, attention_mask)
