"""Probes on audio pipelines over real tiny Data2VecAudioModels (receptive field 29, stride 16)."""

from __future__ import annotations

import pytest
from torch import nn

from data2vec_contracts import BatchIndependenceError, PaddingInvarianceError, probe
from data2vec_contracts.instrument import contract_of
from tests._models import TRANSFORMERS_5

from . import _pipelines as P

LEAK = (
    "Data2Vec audio with num_conv_pos_embeddings=3 > 1 leaks padded frames into kept frames through its "
    "positional convolutions (reference §6.3), so correct pipelines are not padding-invariant; "
    "pass atol={'padding': ...} to check within a tolerance"
)
RIGHT_ONLY = (
    "left padding not probed: Data2Vec audio reads only the count of kept samples, so its masks must be "
    "right-padded (reference §2)"
)


def test_padding_is_skipped_with_the_reason_when_positional_convs_leak(audio: nn.Module) -> None:
    result = probe(P.utterance_embedding, audio, **P.audio_batch([700, 1000]))
    assert result.checked == ("batch", "sizes", "mask")
    assert result.skipped["padding"] == LEAK
    assert result.skipped["trim"] == LEAK.replace("'padding'", "'trim'")
    assert "padding" not in result.calls_by_property


# measured deviations of the tiny model: random weights differ between transformers 4.x and 5.x
# (keys: False for 4.x, True for 5.x)
_BY = {
    "leak": {True: r"0\.11", False: r"0\.18"},
    "mean": {True: "0.4 > 1.1e-05", False: "0.37 > 1.4e-05"},
    "batch": {True: r"0\.058 > 1\.4e-05", False: r"0\.13 > 1\.3e-05"},
}


def test_the_leak_is_real_a_stated_tolerance_checks_it_anyway(audio: nn.Module) -> None:
    # the correct pipeline moves by about 0.1 when padding is added: why the probe skips by default
    caught = r"250 masked-out positions added on the right of S \(attention_mask\) change it by "
    caught += _BY["leak"][TRANSFORMERS_5]
    with pytest.raises(PaddingInvarianceError, match=caught):
        probe(P.utterance_embedding, audio, **P.audio_batch([700, 1000]), atol={"padding": 1e-5})
    result = probe(P.utterance_embedding, audio, **P.audio_batch([700, 1000]), atol={"padding": 0.5})
    assert "padding" in result.checked
    assert 0.01 < result.max_deviation["padding"] < 0.5


def test_masked_frame_pooling_is_padding_invariant_without_the_leak(audio_no_leak: nn.Module) -> None:
    result = probe(P.utterance_embedding, audio_no_leak, **P.audio_batch([700, 1000]))
    assert result.checked == ("batch", "padding", "sizes", "trim", "mask")
    # right only (never left for audio); the samples are zero at every padded position, so no other values
    assert result.calls_by_property["padding"] == 1
    assert RIGHT_ONLY in result.notes
    assert result.max_deviation["padding"] < 1e-5


def test_averaging_padded_frames_in_is_caught(audio_no_leak: nn.Module) -> None:
    fn = P.utterance_embedding_mean_all
    with pytest.raises(PaddingInvarianceError) as info:
        probe(fn, audio_no_leak, **P.audio_batch([700, 1000]))
    assert str(info.value) == (
        "Shape contract violated: padding invariance of return value.\n"
        "  Function: tests.probes._pipelines.utterance_embedding_mean_all\n"
        f"    Declared: {contract_of(fn).declared}\n"
        "    Return value\n"
        '      Contract: Float[Tensor, "B D"]\n'
        "      Padding invariance: 250 masked-out positions added on the right of S (attention_mask) change it "
        f"by {_BY['mean'][TRANSFORMERS_5]}\n"
        "    Other bindings:\n"
        "      D = 32    (model.config.hidden_size)\n"
        "      B = 2     (argument input_values, axis 0)\n"
        "      S = 1000  (argument input_values, axis 1)\n"
        "  Hint: padded positions reach the result: pool with the mask (data2vec_contracts.masked_mean_pool), and "
        "under left padding read the first kept token, not index 0."
    )


def test_batch_first_attention_passes_and_sequence_first_attention_is_caught(audio: nn.Module) -> None:
    batch = P.audio_batch([700, 1000])
    assert "batch" in probe(P.attended_utterance, audio, P.FramePool(32, batch_first=True), **batch).checked
    caught = r"example 0 alone differs from example 0 in a batch of 2 by " + _BY["batch"][TRANSFORMERS_5]
    with pytest.raises(BatchIndependenceError, match=caught):
        probe(P.attended_utterance, audio, P.FramePool(32, batch_first=False), **batch)
