"""Text pipelines on tiny Data2Vec text models: pooling, heads, losses, decoding; correct ones and real bugs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from jaxtyping import Float, Int
from torch import Tensor, nn

from data2vec_contracts import (
    BatchIndependenceError,
    DistinctSizesError,
    MaskForwardingError,
    PaddingInvarianceError,
    ShapeContractError,
    contract,
    masked_mean_pool,
)

from . import _inputs as I
from ._cases import (
    buggy,
    call,
    correct,
)

K = 3  # labels of the classification heads


def _right(lengths: list[int] | None = None) -> dict[str, Tensor]:
    return I.text_batch(lengths or [5, 8, 3])


def _left(lengths: list[int] | None = None) -> dict[str, Tensor]:
    return I.text_batch(lengths or [5, 8, 3], side="left")


def _encoder() -> nn.Module:
    return I.text_model()


def _clm() -> nn.Module:
    return I.text_model("ForCausalLM", is_decoder=True)


# == pooling ================================================================================================
@correct(lambda: call(_encoder(), **_right()), "masked mean pooling on right-padded text")
@contract(dims={"D": "model.config.hidden_size"})
def masked_mean_embedding(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B D"]:
    hidden = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    return masked_mean_pool(hidden, attention_mask)


@buggy(
    lambda: call(_encoder(), **_right()),
    "mean pooling that averages the padding in",
    source="https://github.com/huggingface/transformers/issues/17463",
    twin="masked_mean_embedding",
    expect=PaddingInvarianceError,
    says="masked-out positions added on the right of N (attention_mask) change it",
)
@contract(dims={"D": "model.config.hidden_size"})
def mean_over_padding(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B D"]:
    # huggingface/transformers#17463: "mean pooling over last_hidden_state returns different results depending on
    # the batch size" -- last_hidden_state.mean(dim=1) with the tokenizer's padding=True
    hidden = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    return hidden.mean(dim=1)


@buggy(
    lambda: call(_encoder(), **_right()),
    "attention mask received but not passed to the model (pads attended)",
    source="https://github.com/huggingface/transformers/pull/16243 (docs: incorrect output when padding tokens "
    "aren't masked)",
    twin="masked_mean_embedding",
    expect=MaskForwardingError,
    says="attention_mask masks out 8 of 24 positions of N, but Data2VecTextModel was called on its inputs "
    "(B=3, N=8) without attention_mask",
    field_="the call",
    also=(("padding", PaddingInvarianceError, "masked-out positions added on the right of N (attention_mask) change"),),
)
@contract(dims={"D": "model.config.hidden_size"})
def mask_not_passed_to_encoder(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B D"]:
    # transformers PR #16243 (troubleshooting docs): "the output hidden_state may be incorrect if the input_ids
    # include padding tokens ... because the model also attends to the padding tokens"
    hidden = model(input_ids=input_ids).last_hidden_state
    return masked_mean_pool(hidden, attention_mask)


@buggy(
    lambda: call(_encoder(), **_right()),
    "mean pooling divided by the token count of the whole batch (a sum over the batch axis)",
    source="https://github.com/StarlightSearch/EmbedAnything/issues/210",
    twin="masked_mean_embedding",
    expect=BatchIndependenceError,
    says="alone differs from example",
)
@contract(dims={"D": "model.config.hidden_size"})
def mean_pool_batch_count(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B D"]:
    # StarlightSearch/EmbedAnything#210: "Pooling::mean divided the summed token embeddings by the total of the
    # entire mask (the whole batch's tokens ...) instead of by each row's own non-padding token count"
    hidden = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum()


@correct(
    lambda: call(_encoder(), **_right()),
    "CLS pooling (index 0) on right-padded text",
)
@contract(dims={"D": "model.config.hidden_size"})
def cls_embedding(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B D"]:
    return model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state[:, 0]


@correct(lambda: call(_encoder(), **_left()), "CLS pooling at the first kept token under left padding")
@contract(dims={"D": "model.config.hidden_size"})
def first_kept_token_embedding(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B D"]:
    hidden = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    first = attention_mask.argmax(dim=1)  # sentence-transformers PR #3767's fix
    return hidden[torch.arange(hidden.shape[0]), first]


@buggy(
    lambda: call(_encoder(), **_left()),
    "CLS pooling at index 0 of a left-padded batch (reads a pad)",
    source="https://github.com/huggingface/sentence-transformers/issues/3208",
    twin="first_kept_token_embedding",
    expect=PaddingInvarianceError,
    says="added on the left of N (attention_mask) change it",
)
@contract(dims={"D": "model.config.hidden_size"})
def cls_index0_under_left_padding(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B D"]:
    # sentence-transformers#3208: "CLS token mode returns PAD tokens instead of CLS tokens when padding_side is left"
    return model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state[:, 0]


@correct(
    lambda: call(_encoder(), **_right()),
    "last-token pooling at mask.sum()-1 on right-padded text",
)
@contract(dims={"D": "model.config.hidden_size"})
def last_token_embedding(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B D"]:
    hidden = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    last = attention_mask.sum(dim=1) - 1  # right padding: the kept tokens are a prefix
    return hidden[torch.arange(hidden.shape[0]), last]


@correct(lambda: call(_encoder(), **_left()), "last-token pooling at the rightmost kept token (either padding side)")
@contract(dims={"D": "model.config.hidden_size"})
def rightmost_kept_token_embedding(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B D"]:
    hidden = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    n = attention_mask.shape[1]
    last = n - 1 - attention_mask.flip(dims=[1]).argmax(dim=1)  # the rightmost kept position (huggingface/peft#3620)
    return hidden[torch.arange(hidden.shape[0]), last]


@buggy(
    lambda: call(_encoder(), **_left()),
    "last-token index mask.sum()-1 on a left-padded batch",
    source="https://github.com/huggingface/peft/issues/3620",
    twin="rightmost_kept_token_embedding",
    expect=PaddingInvarianceError,
    says="added on the left of N (attention_mask) change it",
)
@contract(dims={"D": "model.config.hidden_size"})
def last_token_count_under_left_padding(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B D"]:
    # huggingface/peft#3620: "_pool_last_token ... derives the index as attention_mask.sum(dim=1) - 1", wrong for
    # left-padded rows
    hidden = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    last = attention_mask.sum(dim=1) - 1
    return hidden[torch.arange(hidden.shape[0]), last]


@correct(lambda: call(_encoder(), **_right()), "L2-normalised embeddings (over the feature axis)")
@contract(dims={"D": "model.config.hidden_size"})
def normalised_embedding(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B D"]:
    return F.normalize(masked_mean_embedding(model, input_ids, attention_mask), dim=-1)


@buggy(
    lambda: call(_encoder(), **_right()),
    "normalisation over the batch axis (dim=0)",
    source="https://github.com/alireza-nasiri/SoundCLR/issues/4",
    twin="normalised_embedding",
    expect=BatchIndependenceError,
    says="alone differs from example",
)
@contract(dims={"D": "model.config.hidden_size"})
def normalised_over_the_batch(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B D"]:
    # alireza-nasiri/SoundCLR#4: "You specify dim=0 for every F.normalize(). Is it normalizing along with the batch
    # size axis?"
    return F.normalize(masked_mean_embedding(model, input_ids, attention_mask), dim=0)


# == in-batch contrastive (coupled on purpose) ==============================================================
def _pairs() -> dict[str, Tensor]:
    q = I.text_batch([4, 6, 5], seed=11)
    d = I.text_batch([9, 7, 12], seed=12)
    return {
        "query_input_ids": q["input_ids"],
        "query_attention_mask": q["attention_mask"],
        "doc_input_ids": d["input_ids"],
        "doc_attention_mask": d["attention_mask"],
    }


_CONTRASTIVE = {"dims": {"D": "model.config.hidden_size"}}


def _coupled(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    """``@contract(..., batch_coupled=True)``: the examples are coupled on purpose (issue 10)."""
    return contract(**_CONTRASTIVE, name=name, batch_coupled=True)(fn)


def _info_nce(
    model: nn.Module,
    query_input_ids: Int[Tensor, "B Nq"],
    query_attention_mask: Int[Tensor, "B Nq"],
    doc_input_ids: Int[Tensor, "B Nd"],
    doc_attention_mask: Int[Tensor, "B Nd"],
) -> Float[Tensor, " B"]:
    q = F.normalize(masked_mean_embedding(model, query_input_ids, query_attention_mask), dim=-1)
    d = F.normalize(masked_mean_embedding(model, doc_input_ids, doc_attention_mask), dim=-1)
    scores = q @ d.T / 0.05  # every other document of the batch is a negative
    return F.cross_entropy(scores, torch.arange(scores.shape[0]), reduction="none")


in_batch_contrastive_loss = correct(
    lambda: call(_encoder(), **_pairs()),
    "in-batch negatives InfoNCE (batch-coupled on purpose)",
    raw=_info_nce,
    contract_kwargs=_CONTRASTIVE,
    name="in_batch_contrastive_loss",
)(_coupled(_info_nce, "in_batch_contrastive_loss"))


def _info_nce_mean_over_padding(
    model: nn.Module,
    query_input_ids: Int[Tensor, "B Nq"],
    query_attention_mask: Int[Tensor, "B Nq"],
    doc_input_ids: Int[Tensor, "B Nd"],
    doc_attention_mask: Int[Tensor, "B Nd"],
) -> Float[Tensor, " B"]:
    # coupled on purpose, and pooling over padding as in huggingface/transformers#17463
    q = F.normalize(mean_over_padding(model, query_input_ids, query_attention_mask), dim=-1)
    d = F.normalize(mean_over_padding(model, doc_input_ids, doc_attention_mask), dim=-1)
    scores = q @ d.T / 0.05
    return F.cross_entropy(scores, torch.arange(scores.shape[0]), reduction="none")


# == sentence pairs: ids not named input_ids ===================================================================
def _unpadded_queries() -> dict[str, Tensor]:
    q = I.text_batch([6, 6, 6], seed=13)  # queries of one length: the tokenizer pads nothing
    d = I.text_batch([9, 7, 12], seed=14)
    return {
        "query_ids": q["input_ids"],
        "query_mask": q["attention_mask"],
        "doc_ids": d["input_ids"],
        "doc_mask": d["attention_mask"],
    }


@correct(
    lambda: call(_encoder(), **_unpadded_queries()),
    "per-pair cosine similarity, ids named query_ids/doc_ids",
)
@contract(dims={"D": "model.config.hidden_size"})
def pair_similarity(
    model: nn.Module,
    query_ids: Int[Tensor, "B Nq"],
    query_mask: Int[Tensor, "B Nq"],
    doc_ids: Int[Tensor, "B Nd"],
    doc_mask: Int[Tensor, "B Nd"],
) -> Float[Tensor, " B"]:
    q = masked_mean_embedding(model, query_ids, query_mask)
    d = masked_mean_embedding(model, doc_ids, doc_mask)
    return F.cosine_similarity(q, d, dim=-1)


# == token classification =====================================================================================
def _tagger() -> nn.Module:
    return I.text_model("ForTokenClassification", num_labels=K)


def _tagged() -> dict[str, Tensor]:
    batch = _right()
    return {**batch, "labels": I.token_labels(batch, K)}


@correct(
    lambda: call(_tagger(), **_tagged()),
    "token classification loss, -100 labels at specials and padding",
)
@contract
def token_classification_loss(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"], labels: Int[Tensor, "B N"]
) -> Float[Tensor, ""]:
    return model(input_ids=input_ids, attention_mask=attention_mask, labels=labels).loss


@buggy(
    lambda: call(_tagger(), **_tagged()),
    "-100 labels overwritten with 0 (padding counted as class 0)",
    source="https://github.com/EleutherAI/gpt-neo/pull/45 (0 labels of padding counted in the loss)",
    twin="token_classification_loss",
    expect=PaddingInvarianceError,
    says="masked-out positions added on the right of N (attention_mask) change it",
)
@contract
def labels_clamped_to_zero(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"], labels: Int[Tensor, "B N"]
) -> Float[Tensor, ""]:
    # EleutherAI/gpt-neo#45: "0's in the labels should not be counted in the loss" -- here -100 is clamped to 0 to
    # get rid of "IndexError: Target -100 is out of bounds" in a metric, and the clamped labels reach the loss
    return model(input_ids=input_ids, attention_mask=attention_mask, labels=labels.clamp(min=0)).loss


@correct(lambda: call(_tagger(), **_right()), "token classification predictions (argmax per token)")
@contract
def token_predictions(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Int[Tensor, "B N"]:
    return model(input_ids=input_ids, attention_mask=attention_mask).logits.argmax(dim=-1)


class Tagger(nn.Module):
    """A tagger head: an LSTM over the encoder states, then a linear layer."""

    def __init__(self, hidden: int, labels: int, batch_first: bool) -> None:
        super().__init__()
        with torch.random.fork_rng():
            torch.manual_seed(4)
            self.lstm = nn.LSTM(hidden, hidden, batch_first=batch_first)
            self.out = nn.Linear(hidden, labels)


@correct(
    lambda: call(_encoder(), Tagger(32, K, batch_first=True), **_right()),
    "LSTM tagger head, batch_first=True",
)
@contract(dims={"K": "head.out.out_features"})
def lstm_tagger(
    model: nn.Module, head: Tagger, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B N K"]:
    hidden = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    states, _ = head.lstm(hidden)  # forward LSTM: padding on the right never reaches kept positions
    return head.out(states)


@buggy(
    lambda: call(_encoder(), Tagger(32, K, batch_first=False), **_right()),
    "LSTM built without batch_first=True on (B, N, D) states",
    source="https://discuss.pytorch.org/t/lstm-change-batch-first-true-loss-does-not-decrease/62364",
    twin="lstm_tagger",
    expect=BatchIndependenceError,
    says="alone differs from example",
    probe_kwargs={"properties": ["batch"]},
)
@contract(dims={"K": "head.out.out_features"})
def lstm_tagger_sequence_first(
    model: nn.Module, head: Tagger, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B N K"]:
    # discuss.pytorch.org/t/62364: batch_first changed on the LSTM without changing the tensors' layout; the LSTM
    # then runs along the batch axis
    hidden = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    states, _ = head.lstm(hidden)
    return head.out(states)


# == QA =======================================================================================================
def _qa() -> nn.Module:
    return I.text_model("ForQuestionAnswering", num_labels=2)


def _qa_batch() -> dict[str, Tensor]:
    return I.qa_batch(question=[3, 5, 2], context=[6, 9, 4])


@correct(
    lambda: call(_qa(), **_qa_batch()),
    "QA span extraction: argmax and softmax inside the context mask",
)
@contract
def answer_span(
    model: nn.Module,
    input_ids: Int[Tensor, "B N"],
    attention_mask: Int[Tensor, "B N"],
    context_mask: Int[Tensor, "B N"],
) -> tuple[Int[Tensor, " B"], Int[Tensor, " B"], Float[Tensor, " B"]]:
    out = model(input_ids=input_ids, attention_mask=attention_mask)
    outside = context_mask == 0
    start_p = out.start_logits.masked_fill(outside, float("-inf")).softmax(dim=1)
    end_p = out.end_logits.masked_fill(outside, float("-inf")).softmax(dim=1)
    start = start_p.argmax(dim=1)
    positions = torch.arange(input_ids.shape[1]).unsqueeze(0)
    end = end_p.masked_fill(positions < start.unsqueeze(1), 0.0).argmax(dim=1)
    rows = torch.arange(input_ids.shape[0])
    return start, end, start_p[rows, start] * end_p[rows, end]


@buggy(
    lambda: call(_qa(), **_qa_batch()),
    "QA answer confidence from a softmax over the whole padded sequence",
    source="https://github.com/huggingface/transformers/pull/5429 (mask the padding & question before applying the "
    "softmax to extract the answer)",
    twin="answer_span",
    expect=PaddingInvarianceError,
    says="masked-out positions added on the right of N (attention_mask) change it",
    field_="return value[2]",
)
@contract
def answer_span_softmax_over_padding(
    model: nn.Module,
    input_ids: Int[Tensor, "B N"],
    attention_mask: Int[Tensor, "B N"],
    context_mask: Int[Tensor, "B N"],
) -> tuple[Int[Tensor, " B"], Int[Tensor, " B"], Float[Tensor, " B"]]:
    # transformers PR #5429: "Actually mask the padding & question **before** applying the softmax to extract
    # answer"; here the probabilities are normalised over every position, padding included
    out = model(input_ids=input_ids, attention_mask=attention_mask)
    outside = context_mask == 0
    start_p, end_p = out.start_logits.softmax(dim=1), out.end_logits.softmax(dim=1)
    start = start_p.masked_fill(outside, 0.0).argmax(dim=1)
    positions = torch.arange(input_ids.shape[1]).unsqueeze(0)
    end = end_p.masked_fill(outside | (positions < start.unsqueeze(1)), 0.0).argmax(dim=1)
    rows = torch.arange(input_ids.shape[0])
    return start, end, start_p[rows, start] * end_p[rows, end]


# == language modelling =======================================================================================
def _lm_batch() -> dict[str, Tensor]:
    batch = _right()
    return {**batch, "labels": batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)}


@correct(
    lambda: call(_clm(), **_lm_batch()),
    "causal-LM loss with HF's internal label shift, -100 at padding",
)
@contract
def causal_lm_loss(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"], labels: Int[Tensor, "B N"]
) -> Float[Tensor, ""]:
    return model(input_ids=input_ids, attention_mask=attention_mask, labels=labels).loss


@buggy(
    lambda: call(_clm(), **_right()),
    "labels = input_ids with the pad tokens left in (loss on padding)",
    source="https://github.com/huggingface/transformers/issues/32832",
    twin="causal_lm_loss",
    expect=PaddingInvarianceError,
    says="masked-out positions added on the right of N (attention_mask) change it",
)
@contract
def causal_lm_loss_on_padding(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, ""]:
    # huggingface/transformers#32832: "we train LLMs by batched inputs which results in pad tokens in batches. Those
    # pad tokens should be neglected for loss computation" -- labels=input_ids keeps them
    return model(input_ids=input_ids, attention_mask=attention_mask, labels=input_ids).loss


@contract
def token_nll(logits: Float[Tensor, "B T V"], targets: Int[Tensor, "B T"]) -> Float[Tensor, " B"]:
    """Mean negative log-likelihood per example over the targets that are not -100."""
    nll = F.cross_entropy(logits.transpose(1, 2), targets, ignore_index=-100, reduction="none")
    counted = (targets != -100).to(nll.dtype)
    return (nll * counted).sum(dim=1) / counted.sum(dim=1).clamp(min=1)


@correct(lambda: call(_clm(), **_right()), "per-example causal-LM loss, shifted by hand")
@contract(dims={"V": "model.config.vocab_size"})
def per_example_lm_loss(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, " B"]:
    logits = model(input_ids=input_ids, attention_mask=attention_mask).logits
    # position t predicts token t+1; count it only where both are real tokens (right or left padding)
    counted = (attention_mask[:, 1:] == 1) & (attention_mask[:, :-1] == 1)
    return token_nll(logits[:, :-1], input_ids[:, 1:].masked_fill(~counted, -100))


@buggy(
    lambda: call(_clm(), **_right()),
    "logits shifted for next-token prediction, labels not",
    source="https://github.com/huggingface/transformers/pull/404 (LM loss computed without shifting)",
    twin="per_example_lm_loss",
    expect=ShapeContractError,
    says="T",
    field_="argument targets",
)
@contract(dims={"V": "model.config.vocab_size"})
def lm_loss_labels_not_shifted(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, " B"]:
    # transformers PR #404: GPT/GPT-2 "computed the cross-entropy without shifting"; here the logits are shifted and
    # the labels are forgotten
    logits = model(input_ids=input_ids, attention_mask=attention_mask).logits
    return token_nll(logits[:, :-1], input_ids.masked_fill(attention_mask == 0, -100))


def _mlm() -> nn.Module:
    return I.text_model("ForMaskedLM")


@correct(
    lambda: call(_mlm(), **I.mlm_batch([5, 8, 3])),
    "MLM loss, labels -100 except at <mask> positions",
)
@contract
def mlm_loss(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"], labels: Int[Tensor, "B N"]
) -> Float[Tensor, ""]:
    return model(input_ids=input_ids, attention_mask=attention_mask, labels=labels).loss


# == decoding (the pipeline really receives left padding) =======================================================
@correct(
    lambda: call(_clm(), **_left()),
    "next-token logits at position -1 of a left-padded batch (generation)",
)
@contract(dims={"V": "model.config.vocab_size"})
def next_token_logits(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B V"]:
    return model(input_ids=input_ids, attention_mask=attention_mask).logits[:, -1]


@buggy(
    lambda: call(_clm(), **_right()),
    "next-token logits at position -1 of a right-padded batch (reads a pad)",
    source="https://github.com/karpathy/nanoGPT/issues/253",
    twin="next_token_logits",
    expect=PaddingInvarianceError,
    says="masked-out positions added on the right of N (attention_mask) change it",
)
@contract(dims={"V": "model.config.vocab_size"})
def next_token_logits_right_padded(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B V"]:
    # karpathy/nanoGPT#253: "if ... each sequence is of a different length (and is therefore padded,) then you're
    # returning the logits corresponding to the padding idx"
    return model(input_ids=input_ids, attention_mask=attention_mask).logits[:, -1]


# == sequence-level heads =====================================================================================
def _classifier(**overrides: object) -> nn.Module:
    return I.text_model("ForSequenceClassification", **{"num_labels": K, **overrides})


@correct(
    lambda: call(_classifier(), **_right()),
    "sequence classification head (reads token 0)",
)
@contract(dims={"K": "model.config.num_labels"})
def sequence_class_logits(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B K"]:
    return model(input_ids=input_ids, attention_mask=attention_mask).logits


@correct(
    lambda: call(_classifier(num_labels=1), **_right()),
    "regression head (num_labels=1), logits.squeeze(-1)",
)
@contract
def regression_score(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, " B"]:
    return model(input_ids=input_ids, attention_mask=attention_mask).logits.squeeze(-1)


def _regressor() -> nn.Module:
    with torch.random.fork_rng():
        torch.manual_seed(5)
        return nn.Linear(32, 1)


def _regression_targets() -> dict[str, Tensor]:
    return {**_right(), "targets": torch.tensor([0.3, -1.2, 2.0])}


@correct(
    lambda: call(_encoder(), _regressor(), **_regression_targets()),
    "per-example squared error of a regression head on pooled features",
)
@contract
def regression_loss(
    model: nn.Module,
    head: nn.Linear,
    input_ids: Int[Tensor, "B N"],
    attention_mask: Int[Tensor, "B N"],
    targets: Float[Tensor, " B"],
) -> Float[Tensor, " B"]:
    predicted = head(masked_mean_embedding(model, input_ids, attention_mask)).squeeze(-1)
    return (predicted - targets) ** 2


@buggy(
    lambda: call(_encoder(), _regressor(), **_regression_targets()),
    "(B, 1) predictions against (B,) targets: the squared error broadcasts to (B, B)",
    source="https://github.com/sktime/sktime/issues/10931",
    twin="regression_loss",
    expect=BatchIndependenceError,
    says="alone differs from example",
)
@contract
def regression_loss_broadcast(
    model: nn.Module,
    head: nn.Linear,
    input_ids: Int[Tensor, "B N"],
    attention_mask: Int[Tensor, "B N"],
    targets: Float[Tensor, " B"],
) -> Float[Tensor, " B"]:
    # sktime#10931: "self._criterion(y_pred, outputs) broadcasts (B, 1) against (B,) into a (B, B) all-pairs matrix"
    predicted = head(masked_mean_embedding(model, input_ids, attention_mask))  # (B, 1)
    return ((predicted - targets) ** 2).mean(dim=-1)


@correct(lambda: call(_encoder(), _regressor(), **_right()), "regression scores, squeeze(-1)")
@contract
def regression_scores(
    model: nn.Module, head: nn.Linear, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, " B"]:
    return head(masked_mean_embedding(model, input_ids, attention_mask)).squeeze(-1)


@buggy(
    lambda: call(_encoder(), _regressor(), **_right()),
    "squeeze() that also drops the batch axis when B == 1",
    source="https://github.com/open-edge-platform/anomalib/issues/2883",
    twin="regression_scores",
    expect=DistinctSizesError,
    says="B=1",
)
@contract
def regression_scores_squeezed(
    model: nn.Module, head: nn.Linear, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, " B"]:
    # anomalib#2883: ".squeeze() ... leads to an undesired bug when ANY batch has batch_size=1"
    return head(masked_mean_embedding(model, input_ids, attention_mask)).squeeze()


def _multilabel_head() -> nn.Module:
    with torch.random.fork_rng():
        torch.manual_seed(6)
        return nn.Linear(32, 4)


def _multilabel_batch() -> dict[str, Tensor]:
    return {**_right(), "labels": torch.tensor([[1.0, 0, 1, 0], [0, 0, 0, 1], [1, 1, 0, 0]])}


@correct(lambda: call(_encoder(), _multilabel_head(), **_multilabel_batch()), "multi-label head, BCE per example")
@contract(dims={"K": "head.out_features"})
def multilabel_loss(
    model: nn.Module,
    head: nn.Linear,
    input_ids: Int[Tensor, "B N"],
    attention_mask: Int[Tensor, "B N"],
    labels: Float[Tensor, "B K"],
) -> Float[Tensor, " B"]:
    logits = head(masked_mean_embedding(model, input_ids, attention_mask))
    return F.binary_cross_entropy_with_logits(logits, labels, reduction="none").mean(dim=-1)


# == a head sized for the base model ===========================================================================
@contract(dims={"D": "head.in_features", "K": "head.out_features"})
def head_logits(head: nn.Linear, features: Float[Tensor, "B D"]) -> Float[Tensor, "B K"]:
    return head(features)


def _head(width: int) -> nn.Linear:
    with torch.random.fork_rng():
        torch.manual_seed(7)
        return nn.Linear(width, K)


def _large_encoder() -> nn.Module:
    return I.text_model(hidden_size=64, intermediate_size=74)


@correct(
    lambda: call(_large_encoder(), _head(_large_encoder().config.hidden_size), **_right()),
    "a linear head sized from model.config.hidden_size",
)
@contract
def classify(
    model: nn.Module, head: nn.Linear, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B K"]:
    hidden = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    return head_logits(head, masked_mean_pool(hidden, attention_mask))


@buggy(
    lambda: call(_large_encoder(), _head(32), **_right()),
    "a head sized for the base model (D=32 here, 768 in real life) on the large one (64 / 1024)",
    source="https://github.com/studio-ousia/luke/issues/49 (size mismatches, 1024 vs 768)",
    twin="classify",
    expect=ShapeContractError,
    says="D",
    field_="argument features",
    name="base_head_on_large_model",
)
@contract
def classify_base_head(
    model: nn.Module, head: nn.Linear, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B K"]:
    # studio-ousia/luke#49: "size mismatch ... torch.Size([1024, 1024]) from checkpoint, the shape in current model
    # is torch.Size([768, 768])" -- the head was built for the base hidden size
    return classify(model, head, input_ids, attention_mask)


# == BatchNorm heads ============================================================================================
def _bn_head(train: bool) -> nn.Module:
    with torch.random.fork_rng():
        torch.manual_seed(8)
        head = nn.Sequential(nn.Linear(32, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, K))
    head.train(train)
    if not train:  # running statistics as after training
        head[1].running_mean.uniform_(-0.1, 0.1)
        head[1].running_var.uniform_(0.5, 1.5)
    return head


@correct(lambda: call(_encoder(), _bn_head(train=False), **_right()), "BatchNorm head in eval mode")
@contract(dims={"K": "head.3.out_features"})
def bn_head_scores(
    model: nn.Module, head: nn.Sequential, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B K"]:
    return head(masked_mean_embedding(model, input_ids, attention_mask))


SCORER = _bn_head(train=True)  # built at import, never put in eval mode: the bug


@buggy(
    lambda: call(_encoder(), **_right()),
    "a module-level BatchNorm head never put in eval mode",
    source="https://discuss.pytorch.org/t/what-does-model-eval-do-for-batchnorm-layer/7146",
    twin="bn_head_scores",
    expect=BatchIndependenceError,
    says="differs from example",
)
@contract
def bn_head_left_in_train_mode(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B K"]:
    # discuss.pytorch.org/t/7146: "If I just need to test one image, the BN layer will affect the result because
    # of the change of batch size?" -- "When evaluating you should use eval() mode"
    return SCORER(masked_mean_embedding(model, input_ids, attention_mask))


@buggy(
    lambda: call(_encoder(), _bn_head(train=True), **_right()),
    "a BatchNorm head passed in train mode",
    source="https://discuss.pytorch.org/t/what-does-model-eval-do-for-batchnorm-layer/7146",
    twin="bn_head_scores",
    expect=BatchIndependenceError,
    says="differs from example",
    name="bn_head_argument_in_train_mode",
)
@contract(dims={"K": "head.3.out_features"})
def bn_head_argument_scores(
    model: nn.Module, head: nn.Sequential, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B K"]:
    # the same report: the caller forgot head.eval()
    return head(masked_mean_embedding(model, input_ids, attention_mask))


# == multiple choice ============================================================================================
def _choices() -> dict[str, Tensor]:
    rows = [I.text_batch(lengths, pad_to=9, seed=20 + i) for i, lengths in enumerate([[5, 9], [7, 4], [6, 8]])]
    return {
        "input_ids": torch.stack([r["input_ids"] for r in rows]),
        "attention_mask": torch.stack([r["attention_mask"] for r in rows]),
    }


@correct(
    lambda: call(I.text_model("ForMultipleChoice"), **_choices()),
    "multiple choice (B, C, N) head",
)
@contract(masks={"attention_mask": "N"})
def choice_logits(
    model: nn.Module, input_ids: Int[Tensor, "B C N"], attention_mask: Int[Tensor, "B C N"]
) -> Float[Tensor, "B C"]:
    return model(input_ids=input_ids, attention_mask=attention_mask).logits


contrastive_loss_over_padding = buggy(
    lambda: call(_encoder(), **_pairs()),
    "in-batch InfoNCE (coupled on purpose) over mean-pooled embeddings that average the padding in",
    source="https://github.com/huggingface/transformers/issues/17463 (inside a batch-coupled loss)",
    twin="in_batch_contrastive_loss",
    expect=PaddingInvarianceError,
    says="masked-out positions added on the right of Nq (query_attention_mask) change it",
    raw=_info_nce_mean_over_padding,
    contract_kwargs=_CONTRASTIVE,
    name="contrastive_loss_over_padding",
)(_coupled(_info_nce_mean_over_padding, "contrastive_loss_over_padding"))
