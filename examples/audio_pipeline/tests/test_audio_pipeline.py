"""The audio pipeline on a tiny random-weight Data2VecAudioModel (D=32, T = (S - 29)//16 + 1): shapes and outcomes."""

from __future__ import annotations

import math

import pytest
import torch
from audio_pipeline import FrameClassifier, encode_frames, masked_frame_loss, pad_waveforms
from transformers import Data2VecAudioModel

import data2vec_contracts
from data2vec_contracts import ShapeContractError, probe
from data2vec_contracts.instrument import contract_of
from data2vec_contracts.plugin import ShapeContractRecorder

LENGTHS = [1000, 600, 333]


def frames_of(samples: int) -> int:
    return (samples - 29) // 16 + 1


def waveforms(lengths: list[int]) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    return [torch.randn(n, generator=generator) for n in lengths]


def test_pad_waveforms_right_pads_with_a_sample_mask() -> None:
    input_values, attention_mask = pad_waveforms([torch.ones(4), torch.full((2,), 2.0)])
    assert input_values.tolist() == [[1.0, 1.0, 1.0, 1.0], [2.0, 2.0, 0.0, 0.0]]
    assert attention_mask.tolist() == [[1, 1, 1, 1], [1, 1, 0, 0]]


def test_frames_and_frame_mask_follow_the_conv_stack(audio_model: Data2VecAudioModel) -> None:
    input_values, attention_mask = pad_waveforms(waveforms(LENGTHS))
    assert input_values.shape == (3, 1000)
    frames, mask = encode_frames(audio_model, input_values, attention_mask)
    assert frames.shape == (3, 61, 32)
    assert mask.shape == (3, 61)
    assert mask.dtype == torch.bool
    assert mask.sum(dim=1).tolist() == [frames_of(n) for n in LENGTHS] == [61, 36, 20]
    for row, n in enumerate(LENGTHS):  # a prefix of real frames, then padding
        assert mask[row, : frames_of(n)].all()
        assert not mask[row, frames_of(n) :].any()
    assert data2vec_contracts.num_frames(audio_model.config, 1000) == 61


def test_frame_classifier_scores_every_frame(audio_model: Data2VecAudioModel) -> None:
    frames, _ = encode_frames(audio_model, *pad_waveforms(waveforms(LENGTHS)))
    logits = FrameClassifier(audio_model.config.hidden_size, num_labels=5)(frames)
    assert logits.shape == (3, 61, 5)


def test_masked_loss_ignores_padded_frames() -> None:
    torch.manual_seed(0)
    logits = torch.randn(2, 6, 3)
    labels = torch.randint(0, 3, (2, 6))
    mask = torch.tensor([[True] * 6, [True, True, True, False, False, False]])
    loss = masked_frame_loss(logits, labels, mask)
    kept = mask.nonzero(as_tuple=True)
    torch.testing.assert_close(loss, torch.nn.functional.cross_entropy(logits[kept], labels[kept]))
    logits[1, 3:] = 1e4  # garbage in padded frames must not move the loss
    labels[1, 3:] = -100
    torch.testing.assert_close(masked_frame_loss(logits, labels, mask), loss)


def test_frame_classifier_learns_tone_versus_noise(audio_model: Data2VecAudioModel) -> None:
    # Each waveform is a loud 0.1-cycles-per-sample tone, then quiet noise; frames are labelled by which part
    # their centre falls in. Rows have different lengths, so padded frames are present and must be ignored.
    torch.manual_seed(0)
    lengths, split = [1000, 800, 640], 320
    waves = []
    for n in lengths:
        t = torch.arange(n, dtype=torch.float32)
        wave = torch.randn(n) * 0.05
        wave[:split] = torch.sin(2 * math.pi * 0.1 * t[:split])
        waves.append(wave)
    input_values, attention_mask = pad_waveforms(waves)
    with torch.no_grad():
        frames, mask = encode_frames(audio_model, input_values, attention_mask)
    centres = torch.arange(frames.shape[1]) * 16 + 14  # centre sample of each frame's 29-sample receptive field
    labels = (centres >= split).long().expand(len(lengths), -1).clone()
    labels[~mask] = -100
    head = FrameClassifier(audio_model.config.hidden_size, num_labels=2)
    optimizer = torch.optim.Adam(head.parameters(), lr=0.05)
    with torch.no_grad():
        first = masked_frame_loss(head(frames), labels, mask).item()
    for _ in range(60):
        optimizer.zero_grad()
        loss = masked_frame_loss(head(frames), labels, mask)
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        logits = head(frames)
    assert masked_frame_loss(logits, labels, mask).item() < first / 2
    accuracy = (logits.argmax(dim=-1) == labels)[mask].float().mean().item()
    assert accuracy > 0.9


def test_the_sample_mask_is_not_a_frame_mask(audio_model: Data2VecAudioModel) -> None:
    input_values, attention_mask = pad_waveforms(waveforms(LENGTHS))
    frames, _ = encode_frames(audio_model, input_values, attention_mask)
    logits = FrameClassifier(32, num_labels=2)(frames)
    labels = torch.zeros(3, 61, dtype=torch.long)
    with pytest.raises(ShapeContractError) as info:
        masked_frame_loss(logits, labels, attention_mask.bool())
    declared = contract_of(masked_frame_loss).declared
    assert str(info.value).splitlines() == [
        "Shape contract violated: dimension T of argument frame_mask.",
        "  Function: audio_pipeline._classifier.masked_frame_loss",
        f"    Declared: {declared}",
        "    Argument frame_mask",
        '      Contract: Bool[Tensor, "B T"]',
        "      Actual value: Tensor(bool, shape=(3, 1000))",
        "      Dimension T: expected 61, actual 1000",
        "      T was bound by: argument logits, axis 1",
        "    Other bindings:",
        "      B = 3  (argument logits, axis 0)",
        "      K = 2  (argument logits, axis 2)",
        "  Hint: a sample-level (B, S) audio mask was used where frames (B, T) are expected; downsample it with "
        "data2vec_contracts.frame_mask(config, attention_mask) (T = frames of each row's length).",
    ]


def test_one_training_step_checks_the_model_and_every_pipeline_step(
    audio_model: Data2VecAudioModel, shape_contract_recorder: ShapeContractRecorder
) -> None:
    input_values, attention_mask = pad_waveforms(waveforms(LENGTHS))
    frames, mask = encode_frames(audio_model, input_values, attention_mask)
    logits = FrameClassifier(audio_model.config.hidden_size, num_labels=5)(frames)
    masked_frame_loss(logits, torch.zeros(3, 61, dtype=torch.long), mask).backward()
    assert shape_contract_recorder.contracts() == [
        "audio_pipeline._batching.pad_waveforms",
        "Data2VecAudioModel",
        "data2vec_contracts.frame_mask",
        "audio_pipeline._encoding.encode_frames",
        "audio_pipeline._classifier.FrameClassifier.forward",
        "audio_pipeline._classifier.masked_frame_loss",
    ]
    assert shape_contract_recorder.dims("S") == {1000}
    assert shape_contract_recorder.dims("T") == {61}
    assert shape_contract_recorder.dims("K", "masked_frame_loss") == {5}


def test_masked_loss_and_encoder_pass_the_contract_probes(audio_model: Data2VecAudioModel) -> None:
    torch.manual_seed(0)
    logits, labels = torch.randn(2, 6, 3), torch.randint(0, 3, (2, 6))
    mask = torch.tensor([[True] * 6, [True, True, True, False, False, False]])
    # More masked-out frames (right, left) or other values in them leave the loss exactly unchanged.
    loss_result = probe(masked_frame_loss, logits, labels, mask)
    assert loss_result.checked == ("padding", "sizes")
    assert loss_result.max_deviation["padding"] == 0.0
    # The encoder is batch-independent and forwards its mask to the model ("mask"); padding invariance is skipped
    # with a reason, because Data2Vec audio with num_conv_pos_embeddings > 1 leaks padded frames into kept ones (not
    # this pipeline's fault).
    encoder_result = probe(encode_frames, audio_model, *pad_waveforms(waveforms(LENGTHS)))
    assert encoder_result.checked == ("batch", "sizes", "mask")
    assert "num_conv_pos_embeddings=3 > 1 leaks padded frames" in encoder_result.skipped["padding"]
