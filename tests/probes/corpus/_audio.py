"""Audio pipelines on tiny Data2Vec audio models (receptive field 29 samples, stride 16): correct ones and real bugs."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from jaxtyping import Float, Int
from torch import Tensor, nn

from data2vec_contracts import (
    BatchIndependenceError,
    MaskForwardingError,
    PaddingInvarianceError,
    ShapeContractError,
    TrimInvarianceError,
    contract,
    frame_mask,
    masked_mean_pool,
)

from . import _inputs as I
from ._cases import (
    buggy,
    call,
    correct,
)

LENGTHS = [700, 1000, 450]


def _clips(pad_to: int | None = None) -> dict[str, Tensor]:
    return I.audio_batch(LENGTHS, pad_to=pad_to)


def _encoder() -> nn.Module:
    return I.audio_model()


def _leaky_encoder() -> nn.Module:
    """The tiny default: num_conv_pos_embeddings=3, whose positional convolutions leak padding (reference §6.3)."""
    return I.audio_model(num_conv_pos_embeddings=3)


# == utterance embeddings =======================================================================================
@correct(lambda: call(_encoder(), **_clips()), "utterance embedding: masked mean over the frame mask")
@contract(dims={"D": "model.config.hidden_size"})
def utterance_embedding(
    model: nn.Module, input_values: Float[Tensor, "B S"], attention_mask: Int[Tensor, "B S"]
) -> Float[Tensor, "B D"]:
    hidden = model(input_values, attention_mask=attention_mask).last_hidden_state
    return masked_mean_pool(hidden, frame_mask(model.config, attention_mask))


@buggy(
    lambda: call(_encoder(), **_clips()),
    "the (B, S) sample mask reused on (B, T) frames",
    source="https://github.com/huggingface/transformers/issues/25307 (the frame-level mask is not returned)",
    twin="utterance_embedding",
    expect=ShapeContractError,
    says="N",
    field_="argument attention_mask",
)
@contract(dims={"D": "model.config.hidden_size"})
def sample_mask_on_frames(
    model: nn.Module, input_values: Float[Tensor, "B S"], attention_mask: Int[Tensor, "B S"]
) -> Float[Tensor, "B D"]:
    # huggingface/transformers#25307: "the first few convolution layers affect the attention mask ... I need access
    # to the updated attention mask" -- without it, the sample mask goes on the frames
    hidden = model(input_values, attention_mask=attention_mask).last_hidden_state
    return masked_mean_pool(hidden, attention_mask)


@correct(
    lambda: call(_leaky_encoder(), **_clips()),
    "utterance embedding on a model whose positional convs leak padding (num_conv_pos_embeddings=3)",
    name="utterance_embedding_leaky_model",
)
@contract(dims={"D": "model.config.hidden_size"})
def utterance_embedding_leaky_model(
    model: nn.Module, input_values: Float[Tensor, "B S"], attention_mask: Int[Tensor, "B S"]
) -> Float[Tensor, "B D"]:
    return utterance_embedding(model, input_values, attention_mask)


@buggy(
    lambda: call(_leaky_encoder(), **_clips()),
    "attention mask received but not passed to the audio model (positional-conv leak model)",
    source="https://github.com/huggingface/transformers/pull/10117 (batched inference needs the attention_mask)",
    twin="utterance_embedding_leaky_model",
    expect=MaskForwardingError,
    says="attention_mask masks out 850 of 3000 positions of S, but Data2VecAudioModel was called on its inputs "
    "(B=3, S=1000) without attention_mask",
    field_="the call",
)
@contract(dims={"D": "model.config.hidden_size"})
def audio_mask_not_passed(
    model: nn.Module, input_values: Float[Tensor, "B S"], attention_mask: Int[Tensor, "B S"]
) -> Float[Tensor, "B D"]:
    # transformers PR #10117: padded batches only give the unpadded results when the attention_mask reaches the model
    hidden = model(input_values).last_hidden_state
    return masked_mean_pool(hidden, frame_mask(model.config, attention_mask))


@correct(
    lambda: call(_encoder(), **_clips(pad_to=1200)),
    "utterance embedding of clips padded to a fixed length (padding='max_length')",
    name="fixed_length_utterance_embedding",
)
@contract(dims={"D": "model.config.hidden_size"})
def fixed_length_utterance_embedding(
    model: nn.Module, input_values: Float[Tensor, "B S"], attention_mask: Int[Tensor, "B S"]
) -> Float[Tensor, "B D"]:
    return utterance_embedding(model, input_values, attention_mask)


@buggy(
    lambda: call(_encoder(), **_clips(pad_to=1200)),
    "frame count as samples // inputs_to_logits_ratio (one frame too many), clips padded to a fixed length",
    source="https://github.com/mkunes/w2v2_audioFrameClassification/issues/4 (the output is one frame shorter than "
    "samples / 320)",
    twin="fixed_length_utterance_embedding",
    expect=TrimInvarianceError,
    says="example 0 alone with its padding removed (S: 1200 -> 700) differs from example 0 of the padded batch",
)
@contract(dims={"D": "model.config.hidden_size"})
def frames_from_the_stride(
    model: nn.Module, input_values: Float[Tensor, "B S"], attention_mask: Int[Tensor, "B S"]
) -> Float[Tensor, "B D"]:
    # mkunes/w2v2_audioFrameClassification#4: "output 50 values per one second ... The entire output will be one
    # value shorter" -- samples // ratio counts one padded frame of every clip in
    hidden = model(input_values, attention_mask=attention_mask).last_hidden_state
    frames = attention_mask.sum(dim=1) // model.config.inputs_to_logits_ratio
    kept = torch.arange(hidden.shape[1]).unsqueeze(0) < frames.unsqueeze(1)
    return masked_mean_pool(hidden, kept)


class FramePool(nn.Module):
    """Self-attention over the frames before pooling."""

    def __init__(self, hidden: int, batch_first: bool) -> None:
        super().__init__()
        with torch.random.fork_rng():
            torch.manual_seed(5)
            self.attn = nn.MultiheadAttention(hidden, 4, batch_first=batch_first)


@correct(lambda: call(_encoder(), FramePool(32, batch_first=True), **_clips()), "attention pooling, batch_first MHA")
@contract(dims={"D": "model.config.hidden_size"})
def attended_utterance(
    model: nn.Module, pool: FramePool, input_values: Float[Tensor, "B S"], attention_mask: Int[Tensor, "B S"]
) -> Float[Tensor, "B D"]:
    hidden = model(input_values, attention_mask=attention_mask).last_hidden_state
    frames = frame_mask(model.config, attention_mask)
    mixed, _ = pool.attn(hidden, hidden, hidden, key_padding_mask=~frames)
    return masked_mean_pool(mixed, frames)


@buggy(
    lambda: call(_encoder(), FramePool(32, batch_first=False), **_clips()),
    "nn.MultiheadAttention built without batch_first=True on (B, T, D) frames",
    source="https://github.com/om-ai-lab/OmDet/issues/19",
    twin="attended_utterance",
    expect=BatchIndependenceError,
    says="alone differs from example",
)
@contract(dims={"D": "model.config.hidden_size"})
def attended_utterance_sequence_first(
    model: nn.Module, pool: FramePool, input_values: Float[Tensor, "B S"], attention_mask: Int[Tensor, "B S"]
) -> Float[Tensor, "B D"]:
    # om-ai-lab/OmDet#19: "Shouldn't this MultiHeadAttention be initialized with batch_first=True, as the inputs ...
    # are of the shape (batch_size, ...)? This causes inconsistencies when using the model for batch inference."
    hidden = model(input_values, attention_mask=attention_mask).last_hidden_state
    frames = frame_mask(model.config, attention_mask)
    mixed, _ = pool.attn(hidden, hidden, hidden)  # attends across the batch axis
    return masked_mean_pool(mixed, frames)


# == heads ======================================================================================================
@correct(lambda: call(I.audio_model("ForSequenceClassification"), **_clips()), "audio sequence classification")
@contract(dims={"K": "model.config.num_labels"})
def audio_class_logits(
    model: nn.Module, input_values: Float[Tensor, "B S"], attention_mask: Int[Tensor, "B S"]
) -> Float[Tensor, "B K"]:
    return model(input_values, attention_mask=attention_mask).logits


def _audio_head() -> nn.Linear:
    with torch.random.fork_rng():
        torch.manual_seed(9)
        return nn.Linear(32, 4)


@correct(
    lambda: call(_encoder(), _audio_head(), **_clips()),
    "audio sequence classification: own head on frames pooled with frame_mask",
)
@contract(dims={"K": "head.out_features"})
def audio_class_from_frames(
    model: nn.Module, head: nn.Linear, input_values: Float[Tensor, "B S"], attention_mask: Int[Tensor, "B S"]
) -> Float[Tensor, "B K"]:
    hidden = model(input_values, attention_mask=attention_mask).last_hidden_state
    return head(masked_mean_pool(hidden, frame_mask(model.config, attention_mask)))


@buggy(
    lambda: call(I.audio_model("ForSequenceClassification"), **_clips()),
    "audio classification head called without the mask: it averages the padded frames in",
    source="https://github.com/huggingface/transformers/pull/10117 (reference §6.4: the masked mean needs the mask)",
    twin="audio_class_logits",
    expect=MaskForwardingError,
    says="Data2VecAudioForSequenceClassification was called on its inputs (B=3, S=1000) without attention_mask",
    field_="the call",
    also=(("padding", PaddingInvarianceError, "masked-out positions added on the right of S (attention_mask) change"),),
)
@contract(dims={"K": "model.config.num_labels"})
def audio_class_logits_without_mask(
    model: nn.Module, input_values: Float[Tensor, "B S"], attention_mask: Int[Tensor, "B S"]
) -> Float[Tensor, "B K"]:
    # transformers PR #10117: "correctly setting returning attention_mask"; without it the head's mean over T
    # includes every padded frame
    return model(input_values).logits


def _xvector() -> nn.Module:
    """initializer_range=0.2 makes the TDNN activations of order 1, as in a trained model; with the default 0.02
    they are ~1e-4 and every difference hides under the probe's atol of 1e-5."""
    return I.audio_model("ForXVector", initializer_range=0.2)


@correct(
    lambda: call(_xvector(), **_clips()),
    "XVector embeddings with the attention mask",
)
@contract(dims={"X": "model.config.xvector_output_dim"})
def speaker_embedding(
    model: nn.Module, input_values: Float[Tensor, "B S"], attention_mask: Int[Tensor, "B S"]
) -> Float[Tensor, "B X"]:
    return model(input_values, attention_mask=attention_mask).embeddings


def _ctc_batch() -> dict[str, Tensor]:
    return {**_clips(), "labels": I.ctc_labels(3, [9, 14, 5], 20)}


@correct(lambda: call(I.audio_model("ForCTC"), **_ctc_batch()), "CTC loss of the head (labels -100-padded)")
@contract
def ctc_model_loss(
    model: nn.Module,
    input_values: Float[Tensor, "B S"],
    attention_mask: Int[Tensor, "B S"],
    labels: Int[Tensor, "B L"],
) -> Float[Tensor, ""]:
    return model(input_values, attention_mask=attention_mask, labels=labels).loss


@correct(lambda: call(I.audio_model("ForCTC"), **_ctc_batch()), "per-utterance CTC loss, frame lengths from the mask")
@contract
def ctc_loss_per_utterance(
    model: nn.Module,
    input_values: Float[Tensor, "B S"],
    attention_mask: Int[Tensor, "B S"],
    labels: Int[Tensor, "B L"],
) -> Float[Tensor, " B"]:
    logits = model(input_values, attention_mask=attention_mask).logits
    log_probs = F.log_softmax(logits, dim=-1).transpose(0, 1)  # (T, B, V) for ctc_loss
    frames = frame_mask(model.config, attention_mask).sum(dim=1)
    targets = labels >= 0
    return F.ctc_loss(
        log_probs,
        labels.clamp(min=0),
        frames,
        targets.sum(dim=1),
        blank=model.config.pad_token_id,
        reduction="none",
        zero_infinity=True,
    )


@buggy(
    lambda: call(I.audio_model("ForCTC"), **_ctc_batch()),
    "CTC input lengths = the padded frame count for every clip",
    source="https://github.com/huggingface/transformers/pull/10145 (retrieve loss input_lengths from attention_mask)",
    twin="ctc_loss_per_utterance",
    expect=PaddingInvarianceError,
    says="masked-out positions added on the right of S (attention_mask) change it",
)
@contract
def ctc_loss_full_lengths(
    model: nn.Module,
    input_values: Float[Tensor, "B S"],
    attention_mask: Int[Tensor, "B S"],
    labels: Int[Tensor, "B L"],
) -> Float[Tensor, " B"]:
    # transformers PR #10145: "retrieve loss input_lengths from attention_mask" -- here every clip gets all T frames
    logits = model(input_values, attention_mask=attention_mask).logits
    log_probs = F.log_softmax(logits, dim=-1).transpose(0, 1)
    frames = torch.full((logits.shape[0],), logits.shape[1], dtype=torch.long)
    targets = labels >= 0
    return F.ctc_loss(
        log_probs,
        labels.clamp(min=0),
        frames,
        targets.sum(dim=1),
        blank=model.config.pad_token_id,
        reduction="none",
        zero_infinity=True,
    )


def _framed() -> dict[str, Tensor]:
    model = I.audio_model("ForAudioFrameClassification")
    clips = _clips()
    return {**clips, "labels": I.frame_labels(model, clips)}


@correct(
    lambda: call(I.audio_model("ForAudioFrameClassification"), **_framed()),
    "frame classification: masked per-frame loss with (B, T, K) labels",
)
@contract
def frame_classification_loss(
    model: nn.Module,
    input_values: Float[Tensor, "B S"],
    attention_mask: Int[Tensor, "B S"],
    labels: Float[Tensor, "B T K"],
) -> Float[Tensor, " B"]:
    logits = model(input_values, attention_mask=attention_mask).logits
    frames = frame_mask(model.config, attention_mask).to(logits.dtype)
    nll = F.cross_entropy(logits.transpose(1, 2), labels.argmax(dim=-1), reduction="none")
    return (nll * frames).sum(dim=1) / frames.sum(dim=1)


@correct(
    lambda: call(I.audio_model("ForAudioFrameClassification"), **_clips()),
    "frame classification: per-frame predictions",
)
@contract
def frame_predictions(
    model: nn.Module, input_values: Float[Tensor, "B S"], attention_mask: Int[Tensor, "B S"]
) -> Int[Tensor, "B T"]:
    return model(input_values, attention_mask=attention_mask).logits.argmax(dim=-1)
