"""data2vec_contracts.strategies: valid inputs for each modality, run through real tiny models."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from torch import nn

from data2vec_contracts import num_frames, num_tokens, probe
from data2vec_contracts.contracts import receptive_field
from data2vec_contracts.strategies import audio_batches, image_batches, text_batches

from . import _pipelines as P

FEW = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TEXT_CONFIG = P.text_model().config
AUDIO_CONFIG = P.audio_model().config
VISION_CONFIG = P.vision_model().config


def _sides(mask: torch.Tensor) -> set[str]:
    """Which padding each row shows: 'right' (1...10...0), 'left' (0...01...1) or 'none'."""
    found = set()
    for row in mask.tolist():
        if all(row):
            found.add("none")
        elif row == sorted(row, reverse=True):
            found.add("right")
        elif row == sorted(row):
            found.add("left")
        else:
            found.add("holes")
    return found


@pytest.mark.parametrize("side", ["right", "left"])
def test_text_batches_are_valid_and_padded_on_one_side(text: nn.Module, side: str) -> None:
    @FEW
    @given(text_batches(TEXT_CONFIG, max_batch=3, max_len=12, padding=side))
    def run(batch: dict[str, torch.Tensor]) -> None:
        ids, mask = batch["input_ids"], batch["attention_mask"]
        assert ids.shape == mask.shape
        assert 1 <= ids.shape[0] <= 3
        assert 1 <= ids.shape[1] <= 12
        assert int(ids.min()) >= 0
        assert int(ids.max()) < TEXT_CONFIG.vocab_size
        assert bool((ids[mask == 0] == TEXT_CONFIG.pad_token_id).all())
        assert bool((ids[mask == 1] != TEXT_CONFIG.pad_token_id).all())
        assert _sides(mask) <= {side, "none"}
        assert bool(mask.all(dim=1).any())  # padded to the longest row
        out = text(**batch).last_hidden_state
        assert out.shape == (*ids.shape, 32)

    with torch.no_grad():
        run()


def test_text_batches_feed_property_tests_of_a_pipeline(text: nn.Module) -> None:
    @settings(max_examples=4, deadline=None)
    @given(text_batches(TEXT_CONFIG, min_batch=2, max_batch=3, max_len=10, padding="either"))
    def run(batch: dict[str, torch.Tensor]) -> None:
        result = probe(P.sentence_embedding, text, **batch, properties=["batch", "padding"])
        assert result.checked == ("batch", "padding")

    run()


def test_audio_batches_start_at_the_receptive_field_off_the_stride(audio: nn.Module) -> None:
    r, stride = receptive_field(AUDIO_CONFIG)
    assert (r, stride) == (29, 16)

    @FEW
    @given(audio_batches(AUDIO_CONFIG, max_batch=3, max_samples=200))
    def run(batch: dict[str, torch.Tensor]) -> None:
        values, mask = batch["input_values"], batch["attention_mask"]
        b, s = values.shape
        assert r <= s <= 200
        assert s % stride != 0
        lengths = mask.sum(dim=1)
        assert bool((lengths >= r).all())
        assert bool((lengths % stride != 0).all())
        assert _sides(mask) <= {"right", "none"}
        assert bool((values[mask == 0] == 0).all())
        out = audio(values, attention_mask=mask).last_hidden_state
        assert out.shape == (b, num_frames(AUDIO_CONFIG, s), 32)

    with torch.no_grad():
        run()


def test_image_batches_are_non_square_multiples_of_the_patch(vision: nn.Module) -> None:
    @FEW
    @given(image_batches(VISION_CONFIG, max_batch=2, max_patches=4))
    def run(batch: dict[str, torch.Tensor]) -> None:
        pixels = batch["pixel_values"]
        b, c, h, w = pixels.shape
        assert c == 3
        assert h % 8 == 0
        assert w % 8 == 0
        assert h != w
        assert 8 <= min(h, w) <= max(h, w) <= 32
        out = vision(pixel_values=pixels).last_hidden_state
        assert out.shape == (b, num_tokens(VISION_CONFIG, h, w), 32)

    with torch.no_grad():
        run()


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: text_batches(TEXT_CONFIG, max_len=63), "max_len=63 exceeds the longest text input of this config"),
        (lambda: text_batches(TEXT_CONFIG, padding="middle"), "padding must be 'right', 'left', 'either' or 'none'"),
        (lambda: audio_batches(AUDIO_CONFIG, min_samples=28), "min_samples=28 is below the receptive field"),
        (lambda: audio_batches(AUDIO_CONFIG, padding="left"), "Data2Vec audio reads only the count of kept samples"),
        (lambda: image_batches(VISION_CONFIG, max_patches=1), "non-square images need max_patches >= 2"),
    ],
)
def test_impossible_requests_are_refused(build: object, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build()  # type: ignore[operator]
