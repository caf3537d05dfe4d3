"""The text pipeline on a tiny random-weight Data2VecTextModel (D=32): shapes and real outcomes."""

from __future__ import annotations

import pytest
import torch
from jaxtyping import Float, Int
from text_pipeline import SentenceClassifier, classification_loss, embed_sentences, mean_pool, pad_batch
from torch import Tensor
from transformers import Data2VecTextModel

from data2vec_contracts import PaddingInvarianceError, ShapeContractError, contract, probe
from data2vec_contracts.instrument import contract_of
from data2vec_contracts.plugin import ShapeContractRecorder

SENTENCES = [[5, 17, 42, 8, 2], [9, 33, 2], [3, 4, 5, 6, 7, 8, 2]]


def test_pad_batch_right_pads_ids_and_mask() -> None:
    input_ids, attention_mask = pad_batch([[5, 6, 7], [8, 9]], pad_token_id=1)
    assert input_ids.tolist() == [[5, 6, 7], [8, 9, 1]]
    assert attention_mask.tolist() == [[1, 1, 1], [1, 1, 0]]
    assert input_ids.dtype == attention_mask.dtype == torch.long


def test_pad_batch_rejects_an_empty_sentence() -> None:
    with pytest.raises(ValueError, match="no empty sequence"):
        pad_batch([[5, 6], []], pad_token_id=1)


def test_embeddings_are_one_hidden_size_vector_per_sentence(text_model: Data2VecTextModel) -> None:
    input_ids, attention_mask = pad_batch(SENTENCES, text_model.config.pad_token_id)
    assert input_ids.shape == (3, 7)
    embeddings = embed_sentences(text_model, input_ids, attention_mask)
    assert embeddings.shape == (3, 32)
    assert embeddings.dtype == torch.float32


def test_a_sentence_embeds_the_same_alone_and_in_a_padded_batch(text_model: Data2VecTextModel) -> None:
    batch = embed_sentences(text_model, *pad_batch(SENTENCES, text_model.config.pad_token_id))
    for row, sentence in enumerate(SENTENCES):
        alone = embed_sentences(text_model, *pad_batch([sentence], text_model.config.pad_token_id))
        assert alone.shape == (1, 32)
        torch.testing.assert_close(alone[0], batch[row], atol=1e-5, rtol=1e-5)


def test_mean_pool_averages_real_tokens_only() -> None:
    hidden_states = torch.arange(2 * 3 * 2, dtype=torch.float32).reshape(2, 3, 2)
    attention_mask = torch.tensor([[1, 1, 1], [1, 0, 0]])
    pooled = mean_pool(hidden_states, attention_mask)
    assert pooled.tolist() == [[2.0, 3.0], [6.0, 7.0]]
    hidden_states[1, 1:] = 1e6  # padding positions: must not move the mean
    assert mean_pool(hidden_states, attention_mask).tolist() == [[2.0, 3.0], [6.0, 7.0]]


def test_classifier_head_is_built_from_the_model_config(text_model: Data2VecTextModel) -> None:
    classifier = SentenceClassifier(text_model, num_labels=4).eval()
    assert (classifier.head.in_features, classifier.head.out_features) == (32, 4)
    logits = classifier(*pad_batch(SENTENCES, text_model.config.pad_token_id))
    assert logits.shape == (3, 4)


def test_classifier_learns_a_toy_task(text_model: Data2VecTextModel) -> None:
    # Class 0 sentences use tokens 10..19, class 1 sentences tokens 60..69; lengths differ, so padding is exercised.
    sentences = [[10, 11, 12], [13, 14, 15, 16, 17], [60, 61], [62, 63, 64, 65, 66, 67]]
    labels = torch.tensor([0, 0, 1, 1])
    input_ids, attention_mask = pad_batch(sentences, text_model.config.pad_token_id)
    torch.manual_seed(0)
    classifier = SentenceClassifier(text_model, num_labels=2)
    for p in classifier.encoder.parameters():
        p.requires_grad_(False)
    optimizer = torch.optim.Adam(classifier.head.parameters(), lr=0.1)
    with torch.no_grad():
        first = classification_loss(classifier(input_ids, attention_mask), labels).item()
    for _ in range(30):
        optimizer.zero_grad()
        loss = classification_loss(classifier(input_ids, attention_mask), labels)
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        logits = classifier(input_ids, attention_mask)
    assert classification_loss(logits, labels).item() < first / 2
    assert logits.argmax(dim=-1).tolist() == [0, 0, 1, 1]


def test_a_mask_of_the_wrong_length_is_a_contract_violation(text_model: Data2VecTextModel) -> None:
    input_ids, attention_mask = pad_batch(SENTENCES, text_model.config.pad_token_id)
    with pytest.raises(ShapeContractError) as info:
        embed_sentences(text_model, input_ids, attention_mask[:, :-1])
    declared = contract_of(embed_sentences).declared
    assert str(info.value).splitlines() == [
        "Shape contract violated: dimension N of argument attention_mask.",
        "  Function: text_pipeline._embedding.embed_sentences",
        f"    Declared: {declared}",
        "    Argument attention_mask",
        '      Contract: Int[Tensor, "B N"]',
        "      Actual value: Tensor(int64, shape=(3, 6))",
        "      Dimension N: expected 7, actual 6",
        "      N was bound by: argument input_ids, axis 1",
        "    Other bindings:",
        "      D = 32  (model.config.hidden_size)",
        "      B = 3   (argument input_ids, axis 0)",
    ]


@pytest.mark.shape_contracts(dims={"D": 32})
def test_one_classifier_call_checks_the_model_and_every_pipeline_step(
    text_model: Data2VecTextModel, shape_contract_recorder: ShapeContractRecorder
) -> None:
    input_ids, attention_mask = pad_batch(SENTENCES, text_model.config.pad_token_id)
    SentenceClassifier(text_model, num_labels=4).eval()(input_ids, attention_mask)
    assert shape_contract_recorder.contracts() == [
        "text_pipeline._batching.pad_batch",
        "Data2VecTextModel",
        "text_pipeline._embedding.mean_pool",
        "text_pipeline._embedding.embed_sentences",
        "text_pipeline._classifier.SentenceClassifier.forward",
    ]
    assert shape_contract_recorder.dims("B") == {3}
    assert shape_contract_recorder.dims("N") == {7}
    assert shape_contract_recorder.dims("D") == {32}
    assert shape_contract_recorder.dims("K", "SentenceClassifier.forward") == {4}


def test_embeddings_pass_the_contract_probes(text_model: Data2VecTextModel) -> None:
    # probe() re-runs embed_sentences on variants its contract says must not matter: each sentence alone and
    # in another order (batch independence), extra padding on the right and on the left and other ids at
    # padded positions (padding invariance, from masks={"attention_mask": "N"}), distinct sizes, each sentence with
    # its own padding trimmed (trim), and that the mask reaches the model (mask).
    result = probe(embed_sentences, text_model, *pad_batch(SENTENCES, text_model.config.pad_token_id))
    assert result.checked == ("batch", "padding", "sizes", "trim", "mask")
    assert set(result.skipped) == {"grid", "locality"}
    assert result.max_deviation["batch"] < 1e-5
    assert result.max_deviation["padding"] < 1e-5


@contract(masks={"attention_mask": "N"})
def unmasked_mean_pool(
    hidden_states: Float[Tensor, "B N D"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B D"]:
    """The classic bug with the right shape: the mean runs over padding too."""
    return hidden_states.mean(dim=1)


def test_the_probe_catches_pooling_that_averages_padding_in(text_model: Data2VecTextModel) -> None:
    input_ids, attention_mask = pad_batch(SENTENCES, text_model.config.pad_token_id)
    hidden_states = text_model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    assert unmasked_mean_pool(hidden_states, attention_mask).shape == (3, 32)  # every shape check passes
    probe(mean_pool, hidden_states, attention_mask)  # the pipeline's own pooling is padding-invariant
    added_on_the_right = (
        r"Padding invariance: 3 masked-out positions added on the right of N \(attention_mask\) change it"
    )
    with pytest.raises(PaddingInvarianceError, match=added_on_the_right):
        probe(unmasked_mean_pool, hidden_states, attention_mask)
