"""A planted real-world bug: the (B, S) sample mask is handed on as the (B, T) frame mask.

The copy of ``encode_frames`` below returns the waveform's attention mask next to the frame
features. Its rows count samples (1000 per row here), not the 61 frames the encoder made, so every
later masked op is wrong or crashes far from the cause. Under ``--shape-contracts`` the run fails
at the return of ``encode_frames`` with the dimension, both sizes, what bound T and the hint to
use ``frame_mask``.
"""

from __future__ import annotations

import pytest

BUGGY_PIPELINE = """
import torch
from jaxtyping import Bool, Float, Int
from torch import Tensor
from transformers import Data2VecAudioConfig, Data2VecAudioModel

from data2vec_contracts import contract
from audio_pipeline import pad_waveforms


@contract(dims={"D": "model.config.hidden_size"}, masks={"attention_mask": "S"})
def encode_frames(
    model, input_values: Float[Tensor, "B S"], attention_mask: Int[Tensor, "B S"]
) -> tuple[Float[Tensor, "B T D"], Bool[Tensor, "B T"]]:
    frames = model(input_values, attention_mask=attention_mask).last_hidden_state
    return frames, attention_mask.bool()  # BUG: a mask over samples, not frames


def test_encode_frames():
    config = Data2VecAudioConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
                                 conv_dim=(16, 16, 16), conv_kernel=(5, 3, 3), conv_stride=(4, 2, 2),
                                 num_conv_pos_embeddings=3, num_conv_pos_embedding_groups=2, vocab_size=20)
    model = Data2VecAudioModel(config).eval()
    input_values, attention_mask = pad_waveforms([torch.randn(1000), torch.randn(600), torch.randn(333)])
    frames, frame_mask = encode_frames(model, input_values, attention_mask)
    assert frames.shape[:2] == frame_mask.shape
"""


def test_using_the_sample_mask_on_frames_fails_with_the_contract_message(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_buggy_frames=BUGGY_PIPELINE)
    result = pytester.runpytest("--shape-contracts", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*Shape contract violated: dimension T of return value[[]1].",
            "*  Function: test_buggy_frames.encode_frames",
            "*      Dimension T: expected 61, actual 1000",
            "*      T was bound by: return value[[]0], axis 1",
            "*  Hint: a sample-level (B, S) audio mask was used where frames (B, T) are expected;*",
            # the coverage summary lists the violation under the test that hit it
            "violation: test_buggy_frames.py::test_encode_frames: test_buggy_frames.encode_frames, "
            "return value[[]1], dimension T",
        ]
    )
