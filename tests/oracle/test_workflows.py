"""Workflows users run on Data2Vec, each plain vs ``checked(model)`` vs ``with enforce():``.

A valid workflow must give identical results in the three modes (generated sequences, logits, losses, gradients,
updated weights); an invalid one must fail with our ShapeContractError first. Where today's checker gets it wrong,
the test is ``xfail(strict=True)`` with the cause (tests/oracle/known.py, ``CAUSES`` or ``WORKFLOW_CAUSES``).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from typing import Any

import pytest
import torch

from data2vec_contracts import checked, enforce
from tests._models import CACHE_FIELD, CLASSES, TRANSFORMERS_5, tiny_inputs, tiny_labels, tiny_model
from tests.oracle.calls import Outcome, compare, seeded
from tests.oracle.known import CAUSES, WORKFLOW_CAUSES

pytestmark = pytest.mark.usefixtures("unpatched_classes")

_CAUSE = {c.id: c for c in CAUSES}


def _xfail(cause: str, *, only: int | None = None) -> Any:
    """xfail(strict) for a known cause, on one transformers major version or both (none is in use today: every
    workflow passes; keep it for the next cause a workflow shows)."""
    reason = _CAUSE[cause].reason if cause in _CAUSE else WORKFLOW_CAUSES[cause].reason
    condition = True if only is None else ((5 if TRANSFORMERS_5 else 4) == only)
    return pytest.mark.xfail(condition, strict=True, reason=reason)


def three_ways(build: Callable[[], Any], work: Callable[[Any], Any]) -> dict[str, Outcome]:
    """Run ``work(model)`` on a fresh model (same seed) plain, through checked(model), and inside enforce()."""
    found = {}
    for mode in ("plain", "checked", "enforce"):
        model = build()
        if mode == "checked":
            model = checked(model)
        context = enforce() if mode == "enforce" else contextlib.nullcontext()
        try:
            with context, seeded():
                found[mode] = Outcome(output=work(model))
        except Exception as error:
            found[mode] = Outcome(error=error)
    return found


def assert_same(outcomes: dict[str, Outcome]) -> Any:
    """The workflow is valid in transformers, and checked / enforce() give exactly the same results."""
    plain = outcomes["plain"]
    assert plain.ok, f"the workflow itself fails in transformers: {plain.headline}"
    for mode in ("checked", "enforce"):
        out = outcomes[mode]
        assert out.ok, f"{mode}: {out.headline}"
        diff = compare(plain.output, out.output)
        assert diff is None, f"{mode} changed the result: {diff}"
    return plain.output


def assert_ours_first(outcomes: dict[str, Outcome]) -> None:
    """The workflow is invalid in transformers, and our ShapeContractError comes first in both checked modes."""
    plain = outcomes["plain"]
    assert not plain.ok, "the workflow is valid in transformers"
    for mode in ("checked", "enforce"):
        assert outcomes[mode].ours, f"{mode}: {outcomes[mode].headline} (plain: {plain.headline})"


# -- text generation and the cache ------------------------------------------------------------------------------
def _lm(attn: str = "sdpa", **config: Any) -> Any:
    if not TRANSFORMERS_5 and attn == "sdpa":
        attn = "eager"  # 4.x Data2VecText has eager attention only
    return tiny_model("text", "ForCausalLM", is_decoder=True, attn_implementation=attn, **config)


def _left_padded(batch: int = 3, n: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(3)
    ids = torch.randint(3, 99, (batch, n), generator=gen)
    mask = torch.ones(batch, n, dtype=torch.long)
    mask[0, :2] = 0
    mask[1, :1] = 0
    ids[mask == 0] = 1  # pad_token_id
    return ids, mask


_GENERATE = {
    "greedy": {"do_sample": False, "num_beams": 1},
    "sample": {"do_sample": True, "num_beams": 1, "top_k": 10},
    "beam": {"do_sample": False, "num_beams": 2},
    "beam-sample": {"do_sample": True, "num_beams": 2, "top_k": 10},
}


def _generate(model: Any, inputs: dict[str, torch.Tensor], mode: dict[str, Any], **extra: Any) -> Any:
    out = model.generate(**inputs, **mode, max_new_tokens=4, pad_token_id=1, eos_token_id=None,
                         return_dict_in_generate=True, output_scores=True, **extra)
    return {"sequences": out.sequences, "scores": tuple(out.scores)}


@pytest.mark.parametrize("attn", ["eager", "sdpa"])
@pytest.mark.parametrize("mode", list(_GENERATE))
def test_generate_left_padded(mode: str, attn: str) -> None:
    """generate() of ForCausalLM on a left-padded batch: every step after the first passes a cache and an attention
    mask over cached and new tokens."""
    ids, mask = _left_padded()
    assert_same(three_ways(lambda: _lm(attn), lambda m: _generate(m, {"input_ids": ids, "attention_mask": mask},
                                                                  _GENERATE[mode])))


@pytest.mark.parametrize("mode", ["greedy", "beam"])
def test_generate_from_inputs_embeds(mode: str) -> None:
    """generate(inputs_embeds=...): the first step embeds, the next ones feed ids with the cache."""
    ids, mask = _left_padded()
    embeds = torch.randn(ids.shape[0], ids.shape[1], 32, generator=torch.Generator().manual_seed(4))
    assert_same(three_ways(_lm, lambda m: _generate(m, {"inputs_embeds": embeds, "attention_mask": mask},
                                                    _GENERATE[mode])))


@pytest.mark.skipif(not TRANSFORMERS_5, reason="transformers 4.x has no logits_to_keep")
def test_generate_with_logits_to_keep() -> None:
    """generate() asks the model for the last position's logits only (logits_to_keep=1) at every step."""
    ids, mask = _left_padded()
    assert_same(three_ways(_lm, lambda m: _generate(m, {"input_ids": ids, "attention_mask": mask},
                                                    _GENERATE["greedy"], logits_to_keep=1)))


@pytest.mark.skipif(not TRANSFORMERS_5, reason="transformers 4.x has no logits_to_keep")
def test_logits_to_keep_forward_matches_the_full_logits() -> None:
    """A forward with logits_to_keep=1 returns the last position of the full logits (no cache involved)."""
    ids, mask = _left_padded()

    def work(model: Any) -> Any:
        full = model(ids, attention_mask=mask).logits
        last = model(ids, attention_mask=mask, logits_to_keep=1).logits
        torch.testing.assert_close(last, full[:, -1:])
        return last

    assert_same(three_ways(_lm, work))


def _cache_loop(model: Any, *, steps: int = 3, output_attentions: bool = False, name: str = CACHE_FIELD,
                mask: bool = True) -> dict[str, Any]:
    """The manual decoding loop: prefill, then one token per step with the cache and a growing attention mask."""
    ids, attention = _left_padded()
    kwargs: dict[str, Any] = {"attention_mask": attention} if mask else {}
    out = model(ids, use_cache=True, output_attentions=output_attentions, **kwargs)
    logits, maps = [out.logits[:, -1]], []
    cache = getattr(out, CACHE_FIELD)
    for _ in range(steps):
        nxt = out.logits[:, -1:].argmax(-1)
        attention = torch.cat([attention, torch.ones(attention.shape[0], 1, dtype=attention.dtype)], dim=1)
        kwargs = {"attention_mask": attention} if mask else {}
        out = model(nxt, use_cache=True, output_attentions=output_attentions, **{name: cache}, **kwargs)
        cache = getattr(out, CACHE_FIELD)
        logits.append(out.logits[:, -1])
        if output_attentions:
            maps.append(tuple(a.shape for a in out.attentions))
    return {"logits": torch.stack(logits, 1), "maps": tuple(maps)}


def test_manual_cache_loop_with_a_growing_mask() -> None:
    """The KV-cache loop users write: the attention mask covers the cached tokens and the new one."""
    assert_same(three_ways(_lm, _cache_loop))


def test_manual_cache_loop_without_a_mask() -> None:
    """The same loop without an attention mask: only the cache carries the past."""
    assert_same(three_ways(_lm, lambda m: _cache_loop(m, mask=False)))


def test_cache_steps_with_attention_maps() -> None:
    """With eager attention each cached step returns maps of (B, heads, 1, P+1): the keys include the past."""
    out = assert_same(three_ways(lambda: _lm("eager"), lambda m: _cache_loop(m, output_attentions=True,
                                                                            mask=False)))
    p = 6
    assert out["maps"][0] == ((3, 4, 1, p + 1),) * 2


@pytest.mark.skipif(not TRANSFORMERS_5, reason="past_key_values is the 4.x name of the argument")
def test_deprecated_past_key_values_name() -> None:
    """transformers 5.x still takes past_key_values= (renamed to cache by deprecate_kwarg)."""
    assert_same(three_ways(_lm, lambda m: _cache_loop(m, name="past_key_values")))


@pytest.mark.skipif(not TRANSFORMERS_5, reason="past_key_values is the 4.x name of the argument")
def test_deprecated_past_key_values_name_without_a_mask() -> None:
    assert_same(three_ways(_lm, lambda m: _cache_loop(m, name="past_key_values", mask=False)))


# -- training -----------------------------------------------------------------------------------------------------
def _train_step(model: Any, inputs: dict[str, Any], labels: dict[str, Any], loss_of: Callable[[Any], Any] | None = None,
                ) -> dict[str, Any]:
    model.train()
    model.gradient_checkpointing_enable()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    out = model(**inputs, **labels)
    loss = out.loss if loss_of is None else loss_of(out)
    loss.backward()
    grads = tuple(p.grad.clone() for p in model.parameters() if p.grad is not None)
    optimizer.step()
    return {"loss": loss.detach(), "grads": grads, "weights": tuple(p.detach().clone() for p in model.parameters())}


def _train_inputs(modality: str, head: str) -> tuple[Callable[[], Any], dict[str, Any], dict[str, Any]]:
    config = {"is_decoder": True} if head == "ForCausalLM" else {}
    probe = tiny_model(modality, head, **config)
    inputs = tiny_inputs(probe, batch=3, samples=1200)
    labels = tiny_labels(probe, inputs) if head != "Model" else {}
    return (lambda: tiny_model(modality, head, **config)), inputs, labels


@pytest.mark.filterwarnings("ignore::UserWarning:torch")
@pytest.mark.parametrize(("modality", "head"), CLASSES, ids=[f"{m}-{h}" for m, h in CLASSES])
def test_training_step_with_gradient_checkpointing(modality: str, head: str) -> None:
    """A training step (loss.backward(), an optimizer step) with gradient_checkpointing_enable() in train mode:
    same loss, gradients and updated weights. Base models train on the mean of their first output."""
    build, inputs, labels = _train_inputs(modality, head)
    loss_of = None if labels else (lambda out: out[0].float().pow(2).mean())
    assert_same(three_ways(build, lambda m: _train_step(m, inputs, labels, loss_of)))


@pytest.mark.filterwarnings("ignore::UserWarning:torch")
def test_causal_lm_training_without_labels_under_gradient_checkpointing() -> None:
    """ForCausalLM (is_decoder=True) trained on a loss of the logits (no labels): gradient checkpointing in training
    turns use_cache off (5.x merge_with_config_defaults, 4.x the encoder), so there is no cache in the output."""
    build, inputs, _ = _train_inputs("text", "ForCausalLM")
    out = assert_same(three_ways(build, lambda m: _train_step(m, inputs, {}, lambda o: o.logits.pow(2).mean())))
    assert torch.isfinite(out["loss"])


@pytest.mark.parametrize("adapter", [False, True], ids=["no-adapter", "adapter"])
@pytest.mark.parametrize("seed", range(3))
def test_audio_layerdrop_in_training(adapter: bool, seed: int) -> None:
    """Audio layerdrop > 0 in train mode (the adapter's layers drop too): the three modes draw the same layers."""

    def build() -> Any:
        return tiny_model("audio", "ForCTC", layerdrop=0.5, num_hidden_layers=4, add_adapter=adapter,
                          attn_implementation="eager", seed=seed).train()

    inputs = {"input_values": torch.randn(2, 1200, generator=torch.Generator().manual_seed(seed))}
    out = assert_same(three_ways(build, lambda m: m(**inputs, output_hidden_states=True, output_attentions=True)))
    assert len(out.hidden_states) <= 5


# -- labels the Hugging Face collators make ------------------------------------------------------------------------
def _tokenizer() -> Any:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": 4, **{f"w{i}": i for i in range(5, 99)}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                   unk_token="<unk>", mask_token="<mask>")


_SENTENCES = ["w5 w6 w7 w8 w9", "w10 w11 w12", "w13 w14 w15 w16 w17 w18 w19"]


def _encoded() -> list[dict[str, Any]]:
    tok = _tokenizer()
    return [dict(tok(s)) for s in _SENTENCES]


def test_data_collator_with_padding_labels() -> None:
    """DataCollatorWithPadding: right-padded ids and (B,) labels for ForSequenceClassification."""
    from transformers import DataCollatorWithPadding

    features = [{**f, "label": i % 2} for i, f in enumerate(_encoded())]
    batch = dict(DataCollatorWithPadding(_tokenizer(), return_tensors="pt")(features))
    assert batch["labels"].shape == (3,)
    assert_same(three_ways(lambda: tiny_model("text", "ForSequenceClassification"), lambda m: m(**batch)))


def test_data_collator_for_token_classification_labels() -> None:
    """DataCollatorForTokenClassification: (B, N) labels padded with -100."""
    from transformers import DataCollatorForTokenClassification

    features = [{**f, "labels": [i % 2] * len(f["input_ids"])} for i, f in enumerate(_encoded())]
    batch = dict(DataCollatorForTokenClassification(_tokenizer(), return_tensors="pt")(features))
    assert (batch["labels"] == -100).any()
    assert_same(three_ways(lambda: tiny_model("text", "ForTokenClassification"), lambda m: m(**batch)))


@pytest.mark.parametrize("mlm", [True, False], ids=["mlm", "clm"])
def test_data_collator_for_language_modeling_labels(mlm: bool) -> None:
    """DataCollatorForLanguageModeling: MLM labels (-100 where not masked) for ForMaskedLM, CLM labels (the ids,
    -100 at padding) for ForCausalLM."""
    from transformers import DataCollatorForLanguageModeling

    with seeded(11):
        collator = DataCollatorForLanguageModeling(_tokenizer(), mlm=mlm, mlm_probability=0.3, return_tensors="pt")
        batch = dict(collator(_encoded()))
    head = "ForMaskedLM" if mlm else "ForCausalLM"
    config = {} if mlm else {"is_decoder": True}
    assert batch["labels"].shape == batch["input_ids"].shape
    assert_same(three_ways(lambda: tiny_model("text", head, **config), lambda m: m(**batch)))


def test_ctc_labels_padded_with_minus_100() -> None:
    """The CTC pattern of the Hugging Face speech examples (DataCollatorCTCWithPadding): padded waveforms with an
    attention mask, and (B, L) labels with -100 where the transcript ends."""
    gen = torch.Generator().manual_seed(5)
    lengths = [1200, 900, 700]
    values = torch.zeros(3, max(lengths))
    mask = torch.zeros(3, max(lengths), dtype=torch.long)
    for i, n in enumerate(lengths):
        values[i, :n] = torch.randn(n, generator=gen)
        mask[i, :n] = 1
    labels = torch.randint(1, 20, (3, 6), generator=gen)
    labels[1, 4:] = -100
    labels[2, 3:] = -100
    assert_same(three_ways(lambda: tiny_model("audio", "ForCTC"),
                           lambda m: m(values, attention_mask=mask, labels=labels)))


@pytest.mark.parametrize("shape", [(3,), (3, 1)], ids=["B", "B1"])
@pytest.mark.parametrize("head", ["ForSequenceClassification", "ForXVector"])
def test_audio_classification_labels(head: str, shape: tuple[int, ...]) -> None:
    """Audio sequence classification / XVector labels (B,) and (B, 1) (transformers' own training tests use (B, 1));
    both are flattened by the model."""
    labels = torch.randint(0, 2, shape, generator=torch.Generator().manual_seed(6))
    values = torch.randn(3, 1200, generator=torch.Generator().manual_seed(7))
    assert_same(three_ways(lambda: tiny_model("audio", head), lambda m: m(values, labels=labels)))


def test_question_answering_with_only_start_positions() -> None:
    """QA with only start_positions (a half-labelled batch): transformers computes no loss."""
    model = tiny_model("text", "ForQuestionAnswering")
    inputs = tiny_inputs(model)
    assert_same(three_ways(lambda: tiny_model("text", "ForQuestionAnswering"),
                           lambda m: m(**inputs, start_positions=torch.tensor([1, 2]))))


# -- masks, positions, sizes --------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["bool-lower-triangular", "additive-float"])
def test_four_d_attention_masks(kind: str) -> None:
    """4-D attention masks: a boolean lower-triangular (B, 1, N, N) mask, and an additive float one (0 / -inf).
    transformers 5.x takes them as they are; 4.x rejects them (ValueError), where our error must come first."""
    ids = torch.randint(3, 99, (2, 7), generator=torch.Generator().manual_seed(8))
    lower = torch.tril(torch.ones(7, 7, dtype=torch.bool))
    mask = lower if kind.startswith("bool") else torch.zeros(7, 7).masked_fill(~lower, -math.inf)
    mask = mask.expand(2, 1, 7, 7).clone()
    outcomes = three_ways(lambda: tiny_model("text", "ForMaskedLM"), lambda m: m(ids, attention_mask=mask))
    assert_same(outcomes) if TRANSFORMERS_5 else assert_ours_first(outcomes)


def test_one_d_position_ids() -> None:
    """1-D position_ids (N,) broadcast over the batch (token_type_ids given: 5.x gathers them by position)."""
    ids = torch.randint(3, 99, (2, 7), generator=torch.Generator().manual_seed(9))
    positions = torch.arange(2, 9)
    types = torch.zeros(2, 7, dtype=torch.long)
    assert_same(three_ways(lambda: tiny_model("text", "Model"),
                           lambda m: m(ids, position_ids=positions, token_type_ids=types)))


def test_padded_length_above_the_position_table() -> None:
    """A left-padded row of 64 tokens (the table holds 62 positions): its 42 real tokens take positions 2..43 and
    the pads keep the padding position, so the call is valid."""
    ids = torch.randint(3, 99, (1, 64), generator=torch.Generator().manual_seed(10))
    mask = torch.ones(1, 64, dtype=torch.long)
    mask[0, :22] = 0
    ids[mask == 0] = 1
    assert_same(three_ways(lambda: tiny_model("text", "ForTokenClassification"),
                           lambda m: m(ids, attention_mask=mask)))


def test_vision_pair_patch_size() -> None:
    """patch_size=(8, 4): (32//8) * (32//4) = 32 patches, 33 tokens."""
    out = assert_same(three_ways(lambda: tiny_model("vision", patch_size=(8, 4)),
                                 lambda m: m(torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1)))))
    assert out.last_hidden_state.shape == (2, 33, 32)


def test_vision_pair_image_size() -> None:
    """image_size=(32, 48) at its own size: 4 * 6 = 24 patches, 25 tokens."""
    out = assert_same(three_ways(lambda: tiny_model("vision", image_size=(32, 48)),
                                 lambda m: m(torch.randn(2, 3, 32, 48, generator=torch.Generator().manual_seed(1)))))
    assert out.last_hidden_state.shape == (2, 25, 32)


@pytest.mark.parametrize("size", [(35, 35), (39, 33)])
def test_segmentation_at_sizes_with_the_same_patch_grid(size: tuple[int, int]) -> None:
    """Segmentation at 35x35 or 39x33 (image_size 32, patch 8): the patch grid is 4x4, as at 32x32."""
    pixels = torch.randn(1, 3, *size, generator=torch.Generator().manual_seed(2))
    assert_same(three_ways(lambda: tiny_model("vision", "ForSemanticSegmentation"), lambda m: m(pixels)))


def test_bool_masked_pos_as_long() -> None:
    """bool_masked_pos as a long 0/1 tensor (what masking generators often return)."""
    pixels = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    masked = (torch.rand(2, 16, generator=torch.Generator().manual_seed(4)) < 0.4).long()
    assert_same(three_ways(lambda: tiny_model("vision", use_mask_token=True),
                           lambda m: m(pixels, bool_masked_pos=masked)))


@pytest.mark.parametrize("modality", ["text", "audio", "vision"])
def test_zero_layers(modality: str) -> None:
    """num_hidden_layers=0 with output_hidden_states=True (5.x text/audio return (); 4.x and vision one state)."""
    inputs = tiny_inputs(tiny_model(modality, num_hidden_layers=0))
    assert_same(three_ways(lambda: tiny_model(modality, num_hidden_layers=0),
                           lambda m: m(**inputs, output_hidden_states=True)))


def test_ctc_loss_reduction_none() -> None:
    """ctc_loss_reduction="none": a (B,) loss, one per utterance."""
    model = tiny_model("audio", "ForCTC", ctc_loss_reduction="none")
    inputs = tiny_inputs(model)
    labels = tiny_labels(model, inputs)
    out = assert_same(three_ways(lambda: tiny_model("audio", "ForCTC", ctc_loss_reduction="none"),
                                 lambda m: m(**inputs, **labels)))
    assert out.loss.shape == (2,)


@pytest.mark.parametrize(("modality", "head"), [("text", "ForMaskedLM"), ("text", "ForSequenceClassification"),
                                                ("audio", "ForSequenceClassification"), ("audio", "ForXVector"),
                                                ("vision", "ForImageClassification")])
def test_int32_labels_where_the_loss_needs_int64(modality: str, head: str) -> None:
    """int32 labels: the loss raises a RuntimeError in transformers; our error should come first."""
    model = tiny_model(modality, head)
    inputs = tiny_inputs(model)
    labels = {k: v.to(torch.int32) for k, v in tiny_labels(model, inputs).items()}
    assert_ours_first(three_ways(lambda: tiny_model(modality, head), lambda m: m(**inputs, **labels)))


@pytest.mark.parametrize(("modality", "head"), [("text", "Model"), ("audio", "Model"), ("vision", "Model")])
def test_empty_batch(modality: str, head: str) -> None:
    """B = 0: transformers fails in the attention reshape; our error should come first."""
    model = tiny_model(modality, head)
    inputs = tiny_inputs(model, batch=0)
    assert_ours_first(three_ways(lambda: tiny_model(modality, head), lambda m: m(**inputs)))


# -- the call patterns of transformers' own Data2Vec tests ---------------------------------------------------------
def test_decoder_past_with_cross_attention_and_a_partly_masked_step() -> None:
    """The pattern of transformers' decoder past-key-values test: a decoder with cross-attention (encoder states and
    their mask), a first call with use_cache, then three new tokens with the cache and a mask over all 7 + 3 tokens
    whose new part has zeros; the cached step's hidden states must equal the uncached ones."""
    gen = torch.Generator().manual_seed(12)
    ids = torch.randint(2, 99, (3, 7), generator=gen)
    mask = torch.ones(3, 7, dtype=torch.long)
    encoder = torch.randn(3, 5, 32, generator=gen)
    encoder_mask = torch.randint(0, 2, (3, 5), generator=gen)
    new = torch.randint(2, 99, (3, 3), generator=gen)
    new_mask = torch.cat([mask, torch.randint(0, 2, (3, 3), generator=gen)], dim=1)

    def work(model: Any) -> Any:
        cross = {"encoder_hidden_states": encoder, "encoder_attention_mask": encoder_mask}
        past = getattr(model(ids, attention_mask=mask, use_cache=True, **cross), CACHE_FIELD)
        full = model(torch.cat([ids, new], 1), attention_mask=new_mask, output_hidden_states=True, **cross)
        step = model(new, attention_mask=new_mask, output_hidden_states=True, **{CACHE_FIELD: past}, **cross)
        torch.testing.assert_close(step.hidden_states[0], full.hidden_states[0][:, -3:], atol=1e-3, rtol=1e-3)
        return step.hidden_states

    assert_same(three_ways(lambda: _lm("eager", add_cross_attention=True), work))


@pytest.mark.parametrize("head", ["ForSequenceClassification", "ForXVector"])
def test_audio_classifier_training_as_transformers_tests_it(head: str) -> None:
    """The pattern of transformers' audio sequence-classifier and XVector training tests: train mode, the base model
    frozen, zero-padded waveforms without a mask, (B, 1) labels, loss.backward()."""
    values = torch.randn(3, 1024, generator=torch.Generator().manual_seed(13))
    for i, n in enumerate([256, 512, 1024]):
        values[i, n:] = 0.0
    labels = torch.randint(0, 2, (3, 1), generator=torch.Generator().manual_seed(14))

    def work(model: Any) -> Any:
        model.train()
        model.freeze_base_model()
        loss = model(values, labels=labels).loss
        loss.backward()
        return {"loss": loss.detach(), "grads": tuple(p.grad for p in model.parameters() if p.grad is not None)}

    assert_same(three_ways(lambda: tiny_model("audio", head, mask_time_prob=0.5, mask_time_length=2), work))


def test_ctc_training_as_transformers_tests_it() -> None:
    """The pattern of transformers' CTC training test: train mode, the feature encoder frozen, ctc_zero_infinity,
    labels with -100 past each utterance's frames."""
    values = torch.randn(3, 1024, generator=torch.Generator().manual_seed(15))
    for i, n in enumerate([256, 512, 1024]):
        values[i, n:] = 0.0
    labels = torch.randint(1, 20, (3, 50), generator=torch.Generator().manual_seed(16))
    labels[0, 12:] = -100
    labels[1, 28:] = -100

    def work(model: Any) -> Any:
        model.train()
        model.freeze_feature_encoder()
        loss = model(values, labels=labels).loss
        loss.backward()
        return {"loss": loss.detach(), "grads": tuple(p.grad for p in model.parameters() if p.grad is not None)}

    assert_same(three_ways(lambda: tiny_model("audio", "ForCTC", ctc_zero_infinity=True, mask_time_prob=0.5,
                                              mask_time_length=2), work))


@pytest.mark.skipif(TRANSFORMERS_5, reason="transformers 5.x has no prune_heads()")
@pytest.mark.parametrize("modality", ["text", "vision"])
def test_prune_heads_then_attentions(modality: str) -> None:
    """transformers 4.x model.prune_heads({0: [0], 1: [1, 2]}) (its head-pruning tests): layer 0 keeps 3 heads, layer
    1 keeps 2."""
    inputs = tiny_inputs(tiny_model(modality))

    def work(model: Any) -> Any:
        model.prune_heads({0: [0], 1: [1, 2]})
        return model(**inputs, output_attentions=True)

    out = assert_same(three_ways(lambda: tiny_model(modality, attn_implementation="eager"), work))
    assert [a.shape[1] for a in out.attentions] == [3, 2]


def test_generate_without_a_decoder_config() -> None:
    """generate() on ForCausalLM built without is_decoder (transformers' own generation tests do this): generate
    passes a cache; 4.x hands it back unused, 5.x fills it, and the following steps pass a mask over P+N tokens."""
    ids, mask = _left_padded()
    build = lambda: tiny_model("text", "ForCausalLM", attn_implementation="eager")  # noqa: E731
    assert_same(three_ways(build, lambda m: _generate(m, {"input_ids": ids, "attention_mask": mask},
                                                      _GENERATE["greedy"])))


def test_segmentation_at_another_grid_of_the_same_size_is_rejected_on_purpose() -> None:
    """16x64 pixels with image_size 32 and patch 8 make a 2x8 patch grid: 16 patches, as many as the 4x4 grid of
    image_size. transformers reshapes them to 4x4 anyway (modeling_data2vec_vision.py: ``reshape(batch_size, -1,
    patch_resolution, patch_resolution)``) and runs, but every feature map is a scrambled layout of the image, so the
    logits are garbage. Our contract rejects the call on purpose, before the model runs, and its hint says why."""
    pixels = torch.randn(1, 3, 16, 64, generator=torch.Generator().manual_seed(2))
    outcomes = three_ways(lambda: tiny_model("vision", "ForSemanticSegmentation"), lambda m: m(pixels))
    assert outcomes["plain"].ok
    assert outcomes["plain"].output.logits.shape == (1, 2, 16, 16)
    for mode in ("checked", "enforce"):
        error = outcomes[mode].error
        assert outcomes[mode].ours, f"{mode}: {outcomes[mode].headline}"
        assert "breaks a constraint on H, W" in str(error)
        assert "when the patch count matches, give a scrambled layout" in str(error)
