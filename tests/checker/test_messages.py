"""Golden tests: whole messages, exactly as users read them.

Every message is pinned in full (headline, function, where it is declared, the field, the contract,
the value, expected versus actual, what bound the dimension, the other bindings, the hint). The
"Declared" line is the only computed part: it holds this file's path relative to the working
directory and the line of the decorator.
"""

from __future__ import annotations

import inspect
import os
from typing import Any

import numpy as np
import pytest
import torch
import transformers
from jaxtyping import Float, Shaped
from torch import Tensor

from data2vec_contracts import ShapeContractError, checked, contract, frame_mask, masked_mean_pool, tokens_to_grid
from data2vec_contracts.checker import Violation, describe_value, render
from data2vec_contracts.contracts import HINTS, hint_for
from tests._models import TRANSFORMERS_5, only_transformers_5, tiny_config, tiny_inputs, tiny_model


def declared(fn: Any) -> str:
    fn = inspect.unwrap(fn)
    return f"{os.path.relpath(inspect.getsourcefile(fn) or '')}:{inspect.getsourcelines(fn)[1]}"


def message_of(call: Any) -> str:
    with pytest.raises(ShapeContractError) as info:
        call()
    return str(info.value)


@contract(name="demo.pool")
def pool(hidden: Float[Tensor, "B N D"], mask: Shaped[Tensor, "B N"]) -> Float[Tensor, "B D"]:
    return hidden.mean(1)


@contract(name="demo.grid", where={"N": "1 + G*G"})
def grid(tokens: Float[Tensor, "B N D"], fmap: Float[Tensor, "B E G G"]) -> Float[Tensor, "B D"]:
    return tokens[:, 0]


@contract(name="demo.strip")
def strip(tokens: Float[Tensor, "B 1+P D"], patches: Float[Tensor, "B P E"]) -> Float[Tensor, "B P D"]:
    return tokens[:, 1:]


@contract(name="demo.head", dims={"D": "model.config.hidden_size"})
def head(model: Any, pooled: Float[Tensor, "B D"]) -> Float[Tensor, " B"]:
    return pooled.sum(-1)


# -- the kinds of violation ---------------------------------------------------------------------
def test_dimension_mismatch_bound_by_an_argument() -> None:
    assert message_of(lambda: pool(torch.zeros(2, 7, 4), torch.ones(3, 7))) == f"""\
Shape contract violated: dimension B of argument mask.
  Function: demo.pool
    Declared: {declared(pool)}
    Argument mask
      Contract: Shaped[Tensor, "B N"]
      Actual value: Tensor(float32, shape=(3, 7))
      Dimension B: expected 2, actual 3
      B was bound by: argument hidden, axis 0
    Other bindings:
      N = 7  (argument hidden, axis 1)
      D = 4  (argument hidden, axis 2)"""


def test_dtype() -> None:
    assert message_of(lambda: pool(torch.zeros(2, 7, 4, dtype=torch.int64), torch.ones(2, 7))) == f"""\
Shape contract violated: dtype of argument hidden.
  Function: demo.pool
    Declared: {declared(pool)}
    Argument hidden
      Contract: Float[Tensor, "B N D"]
      Actual value: Tensor(int64, shape=(2, 7, 4))
      Dtype: expected Float, actual int64"""


def test_rank() -> None:
    assert message_of(lambda: pool(torch.zeros(2, 7), torch.ones(2, 7))) == f"""\
Shape contract violated: rank of argument hidden.
  Function: demo.pool
    Declared: {declared(pool)}
    Argument hidden
      Contract: Float[Tensor, "B N D"]
      Actual value: Tensor(float32, shape=(2, 7))
      Rank: expected 3 dims (B N D), actual 2 dims (2, 7)"""


def test_where_relation() -> None:
    assert message_of(lambda: grid(torch.zeros(2, 17, 4), torch.zeros(2, 5, 3, 3))) == f"""\
Shape contract violated: dimension N of argument tokens.
  Function: demo.grid
    Declared: {declared(grid)}
    Argument tokens
      Dimension N: expected 10 (from N = 1 + G*G with G=3; where= of the contract), actual 17
      N was bound by: argument tokens, axis 1
    Other bindings:
      B = 2  (argument tokens, axis 0)
      D = 4  (argument tokens, axis 2)
      E = 5  (argument fmap, axis 1)
      G = 3  (argument fmap, axis 2)"""


def test_expression() -> None:
    assert message_of(lambda: strip(torch.zeros(2, 16, 4), torch.zeros(2, 16, 8))) == f"""\
Shape contract violated: dimension 1+P of argument tokens.
  Function: demo.strip
    Declared: {declared(strip)}
    Argument tokens
      Contract: Float[Tensor, "B 1+P D"]
      Actual value: Tensor(float32, shape=(2, 16, 4))
      Dimension 1+P: expected 17 (= 1+P with P=16), actual 16
      1+P was bound by: P: argument patches, axis 1
    Other bindings:
      B = 2   (argument tokens, axis 0)
      D = 4   (argument tokens, axis 2)
      P = 16  (argument patches, axis 1)
      E = 8   (argument patches, axis 2)
  Hint: {HINTS["cls_dropped"]}"""


def test_dims_config_field() -> None:
    model = tiny_model("text")
    assert message_of(lambda: head(model, torch.zeros(2, 48))) == f"""\
Shape contract violated: dimension D of argument pooled.
  Function: demo.head
    Declared: {declared(head)}
    Argument pooled
      Contract: Float[Tensor, "B D"]
      Actual value: Tensor(float32, shape=(2, 48))
      Dimension D: expected 32, actual 48
      D was bound by: model.config.hidden_size
    Other bindings:
      B = 2  (argument pooled, axis 0)"""


def test_type_list_where_a_tensor_is_expected() -> None:
    assert message_of(lambda: pool([[0.0] * 4] * 2, torch.ones(2, 7))) == f"""\
Shape contract violated: type of argument hidden.
  Function: demo.pool
    Declared: {declared(pool)}
    Argument hidden
      Contract: Float[Tensor, "B N D"]
      Type: expected a Tensor, actual list[list[0.0, 0.0, 0.0, 0.0], list[0.0, 0.0, 0.0, 0.0]]"""


def test_type_numpy_array_where_a_tensor_is_expected() -> None:
    assert message_of(lambda: pool(np.zeros((2, 7, 4), dtype=np.float32), torch.ones(2, 7))) == f"""\
Shape contract violated: type of argument hidden.
  Function: demo.pool
    Declared: {declared(pool)}
    Argument hidden
      Contract: Float[Tensor, "B N D"]
      Type: expected a Tensor, actual ndarray(float32, shape=(2, 7, 4))"""


def test_default_function_name_is_module_and_qualname() -> None:
    @contract
    def local(x: Float[Tensor, " N"], y: Float[Tensor, " N"]) -> None:
        return None

    first = message_of(lambda: local(torch.zeros(2), torch.zeros(3))).splitlines()[1]
    where = "tests.checker.test_messages.test_default_function_name_is_module_and_qualname.<locals>.local"
    assert first == f"  Function: {where}"


# -- each Data2Vec hint, from the mistake that causes it --------------------------------------------
@contract(name="demo.attach")
def attach(patches: Float[Tensor, "B h*w D"], fmap: Float[Tensor, "B E h w"]) -> Float[Tensor, "B h w D"]:
    return patches.reshape(patches.shape[0], fmap.shape[2], fmap.shape[3], -1)


@contract(name="demo.classifier", dims={"D": "config.hidden_size"})
def classifier(config: Any, pooled: Float[Tensor, "B D"]) -> Float[Tensor, "B D"]:
    return pooled


@contract(name="demo.last_attention")
def last_attention(attentions: tuple[Float[Tensor, "B H N N"], Float[Tensor, "B H N N"]]) -> Float[Tensor, "B H N N"]:
    return attentions[-1]


@contract(name="demo.per_choice")
def per_choice(logits: Float[Tensor, "B C"], states: Float[Tensor, "B N D"]) -> Float[Tensor, "B C D"]:
    return states[:, :1].expand(-1, logits.shape[1], -1)


@pytest.fixture(scope="module")
def vision_tokens() -> Tensor:
    model = tiny_model("vision")
    with torch.no_grad():
        return model(**tiny_inputs(model, batch=2, height=32, width=24)).last_hidden_state  # (2, 1 + 4*3, 32)


def test_hint_cls_kept(vision_tokens: Tensor) -> None:
    assert message_of(lambda: attach(vision_tokens, torch.zeros(2, 5, 4, 3))) == f"""\
Shape contract violated: dimension h*w of argument patches.
  Function: demo.attach
    Declared: {declared(attach)}
    Argument patches
      Contract: Float[Tensor, "B h*w D"]
      Actual value: Tensor(float32, shape=(2, 13, 32))
      Dimension h*w: expected 12 (= h*w with h=4, w=3), actual 13
      h*w was bound by: h: argument fmap, axis 2; w: argument fmap, axis 3
    Other bindings:
      B = 2   (argument patches, axis 0)
      D = 32  (argument patches, axis 2)
      E = 5   (argument fmap, axis 1)
      h = 4   (argument fmap, axis 2)
      w = 3   (argument fmap, axis 3)
  Hint: Data2Vec vision returns 1 + h*w tokens with the CLS token at index 0; drop it with x[:, 1:] before \
reshaping to the (B, h, w, D) grid (data2vec_contracts.tokens_to_grid does this)."""


def test_hint_cls_dropped(vision_tokens: Tensor) -> None:
    assert message_of(lambda: tokens_to_grid(vision_tokens[:, 1:], 4, 3)) == f"""\
Shape contract violated: dimension N of argument tokens.
  Function: data2vec_contracts.tokens_to_grid
    Declared: {declared(tokens_to_grid)}
    Argument tokens
      Contract: Float[Tensor, "B N D"]
      Actual value: Tensor(float32, shape=(2, 12, 32))
      Dimension N: expected 13, actual 12
      N was bound by: N = 1 + h*w with h=4, w=3; where= of the contract
    Other bindings:
      h = 4  (argument h)
      w = 3  (argument w)
      B = 2  (argument tokens, axis 0)
  Hint: this looks like the CLS token was already dropped: the full Data2Vec vision sequence has 1 + h*w \
tokens (CLS at index 0)."""


def test_hint_sample_mask_on_frames() -> None:
    model = checked(tiny_model("audio"))
    samples = torch.ones(2, 1000, dtype=torch.bool)  # the (B, S) mask, given where (B, T) frames belong
    call = lambda: model(input_values=torch.randn(2, 1000), mask_time_indices=samples)  # noqa: E731
    assert message_of(call) == """\
Shape contract violated: dimension T of argument mask_time_indices.
  Function: Data2VecAudioModel.forward
    Declared: contract of Data2VecAudioModel (data2vec_contracts/contracts/audio.py)
    Argument mask_time_indices
      Contract: Bool[Tensor, "B T"]
      Actual value: Tensor(bool, shape=(2, 1000))
      Dimension T: expected 61, actual 1000
      T was bound by: T = (S - 29)//16 + 1 with S=1000; conv stack config.conv_kernel=(5, 3, 3), \
config.conv_stride=(4, 2, 2)
    Other bindings:
      D     = 32    (config.hidden_size)
      F     = 16    (config.conv_dim[-1])
      V     = 20    (config.vocab_size)
      K     = 2     (config.num_labels)
      X     = 12    (config.xvector_output_dim)
      heads = 4     (config.num_attention_heads)
      Dp    = 32    (config.hidden_size)
      B     = 2     (argument input_values, axis 0)
      S     = 1000  (argument input_values, axis 1)
  Hint: a sample-level (B, S) audio mask was used where frames (B, T) are expected; downsample it with \
data2vec_contracts.frame_mask(config, attention_mask) (T = frames of each row's length)."""


def test_hint_sample_mask_in_masked_mean_pool() -> None:
    model = tiny_model("audio")
    wave, samples = torch.randn(2, 1000), torch.ones(2, 1000, dtype=torch.long)
    frames = model(input_values=wave, attention_mask=samples).last_hidden_state  # (2, 61, 32)
    assert message_of(lambda: masked_mean_pool(frames, samples)) == f"""\
Shape contract violated: dimension N of argument attention_mask.
  Function: data2vec_contracts.masked_mean_pool
    Declared: {declared(masked_mean_pool)}
    Argument attention_mask
      Contract: Shaped[Tensor, "B N"]
      Actual value: Tensor(int64, shape=(2, 1000))
      Dimension N: expected 61, actual 1000
      N was bound by: argument hidden_states, axis 1
    Other bindings:
      B = 2   (argument hidden_states, axis 0)
      D = 32  (argument hidden_states, axis 2)
  Hint: {HINTS["sample_mask"]}"""
    assert masked_mean_pool(frames, frame_mask(model.config, samples)).shape == (2, 32)


def test_no_audio_hint_for_a_long_text_mask() -> None:
    model = checked(tiny_model("text"))
    with pytest.raises(ShapeContractError) as info:
        model(input_ids=torch.randint(2, 99, (2, 5)), attention_mask=torch.ones(2, 60))
    assert info.value.violation is not None
    assert info.value.dimension == "N"
    assert info.value.violation.hint is None


def test_hint_base_versus_large_hidden_size() -> None:
    base = transformers.Data2VecTextConfig()  # the full-size default: hidden_size 768
    assert message_of(lambda: classifier(base, torch.zeros(2, 1024))) == f"""\
Shape contract violated: dimension D of argument pooled.
  Function: demo.classifier
    Declared: {declared(classifier)}
    Argument pooled
      Contract: Float[Tensor, "B D"]
      Actual value: Tensor(float32, shape=(2, 1024))
      Dimension D: expected 768, actual 1024
      D was bound by: config.hidden_size
    Other bindings:
      B = 2  (argument pooled, axis 0)
  Hint: hidden size 1024 (large) where 768 (base) is expected: a large-size tensor or head meets a base-size \
model; build the head from the model's config (config.hidden_size) instead of a hard-coded size."""


@only_transformers_5("sdpa attention for text (text is always eager)")
def test_hint_sdpa_attentions_text_empty_tuple() -> None:
    model = tiny_model("text")  # sdpa, the default
    attentions = model(**tiny_inputs(model), output_attentions=True).attentions
    assert attentions == ()
    assert message_of(lambda: last_attention(attentions)) == f"""\
Shape contract violated: type of argument attentions.
  Function: demo.last_attention
    Declared: {declared(last_attention)}
    Argument attentions
      Contract: tuple[Float[Tensor, "B H N N"], Float[Tensor, "B H N N"]]
      Type: expected a tuple of 2, actual ()
  Hint: {HINTS["sdpa"]}"""


def test_hint_sdpa_attentions_vision_nones() -> None:
    # transformers 4.x: vision falls back to eager and returns maps; audio gives the Nones there
    model = tiny_model("vision" if TRANSFORMERS_5 else "audio")
    attentions = model(**tiny_inputs(model), output_attentions=True).attentions
    assert attentions == (None, None)
    assert message_of(lambda: last_attention(attentions)) == f"""\
Shape contract violated: type of argument attentions[0].
  Function: demo.last_attention
    Declared: {declared(last_attention)}
    Argument attentions[0]
      Contract: Float[Tensor, "B H N N"]
      Type: expected a Tensor, actual None
  Hint: with attn_implementation='sdpa' output_attentions=True returns no attention weights (an empty tuple, \
or None for every layer); build the model with attn_implementation='eager' to get them."""


def test_hint_multiple_choice_flattened_batch() -> None:
    model = tiny_model("text", "ForMultipleChoice")
    out = model(**tiny_inputs(model, batch=2, num_choices=3, seq_len=5), output_hidden_states=True)
    assert message_of(lambda: per_choice(out.logits, out.hidden_states[-1])) == f"""\
Shape contract violated: dimension B of argument states.
  Function: demo.per_choice
    Declared: {declared(per_choice)}
    Argument states
      Contract: Float[Tensor, "B N D"]
      Actual value: Tensor(float32, shape=(6, 5, 32))
      Dimension B: expected 2, actual 6
      B was bound by: argument logits, axis 0
    Other bindings:
      C = 3  (argument logits, axis 1)
  Hint: Data2VecTextForMultipleChoice returns hidden_states and attentions with the flattened batch B*C, not B; \
reshape them to (B, C, ...) first."""


def _violation(**facts: Any) -> Violation:
    base = {"function": "f", "field": "output field logits", "problem": "dimension", "expected": "2", "actual": "12"}
    return Violation(**{**base, **facts})


def test_hint_rules_for_model_contexts_and_their_limits() -> None:
    context = {"config": tiny_config("audio"), "class": "Data2VecAudioForXVector"}
    assert hint_for(_violation(dimension="K"), {"X": 12}, context) == HINTS["xvector"]
    assert hint_for(_violation(dimension="K"), {"X": 12}, None) is None  # only for a model contract
    seg = _violation(dimension="Hs", expected="16", actual="32")
    assert hint_for(seg, {"Hs": 16}, {"class": "x"}) == HINTS["segmentation"]
    # an off-by-one on a small square is not a CLS token; on a patch grid of 4x4 or more it may be
    assert hint_for(_violation(dimension="D", expected="4", actual="5"), {}, None) is None
    assert hint_for(_violation(dimension="N", expected="196", actual="197"), {}, None) == HINTS["cls"]
    assert hint_for(_violation(problem="dtype", expected="Float", actual="int64"), {}, None) is None


# -- messages stay short -----------------------------------------------------------------------------
@contract(name="demo.takes_anything")
def takes_anything(x: Float[Tensor, "B N D"], label: str) -> None:
    return None


@pytest.mark.parametrize(
    "value",
    [
        torch.randn(1000, 1000),
        torch.nn.Linear(1000, 1000),
        np.ones((1000, 1000)),
        [[1.0] * 1000] * 1000,
        [[[[[0.5] * 10] * 10] * 10] * 10] * 10,
        "x" * 10_000,
        {"a": torch.randn(1000, 1000)},
    ],
    ids=["tensor", "module", "ndarray", "nested-list", "deeply-nested", "long-str", "dict"],
)
def test_messages_never_print_data_or_long_reprs(value: Any) -> None:
    for call in (lambda: takes_anything(value, "ok"), lambda: takes_anything(torch.zeros(1, 2, 3), value)):
        try:
            call()
        except ShapeContractError as err:
            text = str(err)
        else:
            assert isinstance(value, str)  # a str label is valid in the second call
            continue
        assert len(text.splitlines()) < 40
        assert len(text) < 1500
        assert max(len(line) for line in text.splitlines()) < 300
        assert "tensor(" not in text
        assert "1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0" not in text


def test_describe_value() -> None:
    assert describe_value(torch.zeros(2, 3, dtype=torch.bfloat16)) == "Tensor(bfloat16, shape=(2, 3))"
    assert describe_value(torch.zeros(2, 3, device="meta")) == "Tensor(float32, shape=(2, 3), device=meta)"
    assert describe_value(torch.nn.Parameter(torch.zeros(4))) == "Parameter(float32, shape=(4,))"
    assert describe_value(np.zeros(3, dtype=np.int32)) == "ndarray(int32, shape=(3,))"
    assert describe_value(None) == "None"
    assert describe_value((torch.zeros(1),)) == "(Tensor(float32, shape=(1,)),)"
    assert describe_value(()) == "()"
    assert describe_value(list(range(10))) == "list[0, 1, 2, 3, 4, 5, ... (10 items)]"
    assert describe_value("y" * 100) == "'" + "y" * 56 + "..."
    assert describe_value(object()) == "<builtins.object object>"
    assert describe_value([[1, 2], [3, [4, 5]]]) == "list[list[1, 2], list[3, list[... (2 items)]]]"
    long = describe_value([[1.0] * 1000] * 1000)
    assert len(long) < 220
    assert long.endswith(" ... (1000 items)")


def test_render_without_optional_parts() -> None:
    v = Violation(function="f", field="argument x", problem="rank", expected="2 dims", actual="1 dims")
    assert render(v) == "Shape contract violated: rank of argument x.\n  Function: f\n    Argument x\n" \
        "      Rank: expected 2 dims, actual 1 dims"
