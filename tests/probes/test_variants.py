"""Issue 10: a probe variant is only an input the function could receive, and a variant that cannot be one is skipped
with the reason, never a violation; batch coupling and the padding side can be declared; the new properties stay
quiet where they do not apply."""

from __future__ import annotations

import pytest
import torch
from jaxtyping import Float, Int, Shaped
from torch import Tensor, nn

from data2vec_contracts import (
    BatchIndependenceError,
    PaddingInvarianceError,
    auto_probe,
    contract,
    masked_mean_pool,
    probe,
)
from tests._models import tiny_model

from . import _pipelines as P
from .corpus._all import BUGGY, CORRECT


def _mixed() -> dict[str, Tensor]:
    """A right-padded row and a left-padded row (as ``text_batches(padding="either")`` draws them)."""
    right, left = P.text_batch([5, 7]), P.text_batch([3, 7], side="left")
    return {k: torch.cat([right[k][:1], left[k][:1]]) for k in right}


# == the padding side ========================================================================================
@pytest.mark.parametrize(
    ("batch", "sides"),
    [
        (lambda: P.text_batch([5, 7]), ("right",)),
        (lambda: P.text_batch([5, 7], side="left"), ("left",)),
        (lambda: P.text_batch([7, 7]), ("right",)),  # unpadded: right, as tokenizers pad by default
        (_mixed, ("right", "left")),
    ],
    ids=["right", "left", "unpadded", "mixed"],
)
def test_padding_goes_on_the_side_the_given_rows_show(text: nn.Module, batch: object, sides: tuple[str, ...]) -> None:
    """Each side padded costs one call; the side not shown by the rows is not probed, and the notes say so."""
    result = probe(P.sentence_embedding, text, **batch())  # type: ignore[operator]
    assert result.padding_sides == {"attention_mask": sides}
    assert result.calls_by_property["padding"] == len(sides)


def test_a_declared_padding_side_wins_over_the_rows(text: nn.Module) -> None:
    """CLS at index 0 is right for right-padded rows; declared padding_side='both', the left side catches it."""
    batch = P.text_batch([5, 7])
    assert "padding" in probe(P.cls_embedding_index0, text, **batch).checked
    with pytest.raises(PaddingInvarianceError, match="added on the left of N"):
        probe(P.cls_embedding_index0, text, **batch, padding_side="both")
    with auto_probe(padding_side="both"), pytest.raises(PaddingInvarianceError, match="added on the left of N"):
        P.cls_embedding_index0(text, **batch)
    with pytest.raises(ValueError, match=r"^padding_side must be one of 'right', 'left', 'both' or None, got 'top'$"):
        probe(P.cls_embedding_index0, text, **batch, padding_side="top")


# == what added positions hold ==================================================================================
@contract
def counted_labels(
    hidden: Float[Tensor, "B N D"], attention_mask: Int[Tensor, "B N"], labels: Int[Tensor, "B N"]
) -> Float[Tensor, " B"]:
    """How many labels count (not -100), and their mean hidden norm: right only while padding holds -100."""
    counted = (labels != -100).to(hidden.dtype)
    return counted.sum(dim=1) + (hidden.norm(dim=-1) * counted).sum(dim=1) / counted.sum(dim=1).clamp(min=1)


def test_labels_take_the_ignore_index_at_added_positions() -> None:
    """With no padded position in the given call (no held value), labels still get -100 where padding is added."""
    g = torch.Generator().manual_seed(0)
    hidden, mask = torch.randn(2, 5, 4, generator=g), torch.ones(2, 5, dtype=torch.long)
    labels = torch.randint(0, 3, (2, 5), generator=g)
    result = probe(counted_labels, hidden, mask, labels)
    assert "padding" in result.checked


@contract
def sample_mean(input_values: Float[Tensor, "B S"], attention_mask: Int[Tensor, "B S"]) -> Float[Tensor, " B"]:
    """A mean that relies on the samples being zero at padded positions (as feature extractors pad them)."""
    return input_values.sum(dim=1) / attention_mask.sum(dim=1)


def test_other_values_keep_what_the_given_call_holds_at_masked_positions() -> None:
    """Zero-padded samples stay zero in every variant; samples with arbitrary padding values get other values."""
    g = torch.Generator().manual_seed(0)
    mask = torch.tensor([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]])
    values = torch.randn(2, 6, generator=g)
    result = probe(sample_mean, values * mask, mask, properties=["padding"])
    assert result.calls_by_property["padding"] == 1  # right only; zeros are held, so no other values
    with pytest.raises(PaddingInvarianceError, match="other values at the 3 masked-out positions added on the right"):
        probe(sample_mean, values, mask, properties=["padding"])  # the given call already holds other values there


def test_a_mask_nested_in_another_follows_its_padding() -> None:
    """QA: context_mask lies inside attention_mask, is not probed on its own, and holds 0 at added positions."""
    case = CORRECT["answer_span"]
    args, kwargs = case.inputs()
    result = probe(case.fn, *args, **kwargs)
    assert "padding" in result.checked
    assert result.padding_sides == {"attention_mask": ("right",)}
    assert any(note.startswith("context_mask lies inside attention_mask") for note in result.notes)


# == variants that are skipped ==================================================================================
def test_a_variant_a_data2vec_contract_rejects_is_skipped_with_the_reason() -> None:
    """Segmentation takes only its patch grid: the sizes variant 32x40 is skipped, then 33x... (it floors) runs."""
    case = CORRECT["segmentation_logits"]
    args, kwargs = case.inputs()
    result = probe(case.fn, *args, **kwargs)
    assert "sizes" in result.checked
    (skipped,) = result.skipped_variants
    assert (skipped.property, skipped.rejected_by) == ("sizes", "Data2VecVisionForSemanticSegmentation")
    assert "H//8 == 4 and W//8 == 4" in skipped.reason
    assert result.calls_by_property["sizes"] == 2


def test_a_variant_that_makes_the_inputs_disagree_is_skipped_with_the_reason() -> None:
    """Frame labels over T do not grow with the samples S: the loss raises, and the model calls show why."""
    case = CORRECT["frame_classification_loss"]
    args, kwargs = case.inputs()
    result = probe(case.fn, *args, **kwargs)
    assert "padding" not in result.checked
    reasons = [s.reason for s in result.skipped_variants if s.property == "padding"]
    assert len(reasons) == 1
    assert reasons[0].startswith("the call raises RuntimeError")
    assert "the inputs disagree: labels keeps T=61, the T of Data2VecAudioModel in the given call" in reasons[0]
    assert all(s.rejected_by is None for s in result.skipped_variants)


def test_int_arguments_that_nothing_ties_to_the_tensors_are_kept() -> None:
    """h, w with no where=: distinct sizes keeps them, varies only B, and says so."""
    case = CORRECT["grid_without_relation"]
    args, kwargs = case.inputs()
    result = probe(case.fn, *args, **kwargs)
    assert {"sizes", "grid"} <= set(result.checked)
    assert any(note.startswith("distinct sizes kept h=2, w=5: no where= relation") for note in result.notes)
    assert any(note.startswith("grid consistency: N = 1 + h*w read from the shapes") for note in result.notes)


@contract
def grid_and_copies(tokens: Float[Tensor, "B N D"]) -> Float[Tensor, "B h w K D"]:
    """A (2, 5) grid of 11 tokens, each cell twice: (h, w), (w, K) and (h, K) all fit N = c + a*b."""
    grid = tokens[:, 1:].reshape(tokens.shape[0], 2, 5, 1, tokens.shape[2])
    return grid.expand(-1, -1, -1, 2, -1)


@contract
def pair_scores(tokens: Float[Tensor, "B N D"]) -> Float[Tensor, "B C K"]:
    """Scores of 2 choices over 3 classes from 7 tokens: C*K + 1 = N, but no grid of the tokens (no D axis)."""
    return tokens[:, :6].mean(dim=-1).reshape(tokens.shape[0], 2, 3).softmax(dim=-1)


def test_a_grid_relation_the_shapes_do_not_settle_is_not_guessed() -> None:
    g = torch.Generator().manual_seed(0)
    result = probe(grid_and_copies, torch.randn(2, 11, 4, generator=g))
    assert result.skipped["grid"].startswith("the shapes fit several token-to-grid relations (N = 1 + h*w, ")
    assert "state the one meant with where=" in result.skipped["grid"]
    scores = probe(pair_scores, torch.randn(2, 7, 4, generator=g))
    assert scores.skipped["grid"].startswith("the contract maps no tokens to a grid")


def test_padding_leaks_inside_transformers_are_skipped_with_the_reason() -> None:
    """XVector pools over a TDNN frame count that ignores tdnn_dilation: not the pipeline's bug."""
    case = CORRECT["speaker_embedding"]
    args, kwargs = case.inputs()
    result = probe(case.fn, *args, **kwargs)
    for prop in ("padding", "trim"):
        assert result.skipped[prop].startswith(
            "Data2VecAudioForXVector pools the first _get_tdnn_output_lengths(...) TDNN frames of each example, "
            "a count that ignores tdnn_dilation=(1, 2, 3, 1, 1)"
        )
        assert result.skipped[prop].endswith(f"pass atol={{'{prop}': ...}} to check within a tolerance")


# == batch coupling and batch norms ==============================================================================
@contract
def whitened(features: Float[Tensor, "B D"]) -> Float[Tensor, "B D"]:
    """Batch whitening: coupled across the batch on purpose."""
    return (features - features.mean(dim=0)) / features.std(dim=0).clamp(min=1e-6)


def test_batch_coupling_is_declared_in_probe_and_auto_probe() -> None:
    features = torch.randn(4, 3, generator=torch.Generator().manual_seed(0))
    with pytest.raises(BatchIndependenceError):
        probe(whitened, features)
    result = probe(whitened, features, batch_coupled=True)
    assert result.skipped["batch"] == "declared batch-coupled (batch_coupled=True): the examples are coupled on purpose"
    assert "distinct sizes made no B=1 call: the function is declared batch-coupled" in result.notes
    with auto_probe(batch_coupled=True) as session:
        whitened(features)
    assert "batch" in session.results["tests.probes.test_variants.whitened"].skipped
    with pytest.raises(ValueError, match="batch_coupled must be True, False or None, got 'yes'"):
        probe(whitened, features, batch_coupled="yes")  # type: ignore[arg-type]


def test_a_batch_norm_in_train_mode_runs_as_given_and_gets_its_statistics_back() -> None:
    """The probe keeps the caller's BatchNorm in train mode (eval would hide the bug) and restores its buffers."""
    case = BUGGY["bn_head_argument_in_train_mode"]
    args, kwargs = case.inputs()
    head = args[1]
    before = {name: buffer.clone() for name, buffer in head.named_buffers()}
    with pytest.raises(BatchIndependenceError, match=r"\(head\.1 \(BatchNorm1d\) in train mode"):
        probe(case.fn, *args, **kwargs)
    assert all(torch.equal(before[name], buffer) for name, buffer in head.named_buffers())
    assert head.training
    assert head[1].training
    result = probe(case.fn, *args, **kwargs, batch_coupled=True)  # declared: padding still probed, as given
    assert "padding" in result.checked
    assert (
        "head.1 (BatchNorm1d) runs in train mode, as given: it normalises with the statistics of each batch, "
        "which couples the examples"
    ) in result.notes
    assert all(torch.equal(before[name], buffer) for name, buffer in head.named_buffers())


# == mask forwarding and locality: quiet where they do not apply ====================================================
@contract(dims={"D": "model.config.hidden_size"})
def embed_without_a_full_mask(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B D"]:
    """Drops an all-ones mask on purpose (nothing to mask), passes it otherwise."""
    passed = None if bool(attention_mask.all()) else attention_mask
    hidden = model(input_ids=input_ids, attention_mask=passed).last_hidden_state
    return masked_mean_pool(hidden, attention_mask)


@contract(dims={"D": "model.config.hidden_size"})
def embed_one_by_one(
    model: nn.Module, input_ids: Int[Tensor, "B N"], attention_mask: Int[Tensor, "B N"]
) -> Float[Tensor, "B D"]:
    """Each example alone, cut to its own length: no padding reaches the model, so no mask is needed."""
    rows = []
    for ids, mask in zip(input_ids, attention_mask, strict=True):
        kept = ids[mask.bool()].unsqueeze(0)
        rows.append(model(input_ids=kept).last_hidden_state.mean(dim=1))
    return torch.cat(rows)


def test_mask_forwarding_reports_only_a_padded_batch_sent_without_its_mask(text: nn.Module) -> None:
    unpadded = probe(embed_without_a_full_mask, text, **P.text_batch([7, 7]))
    assert unpadded.skipped["mask"].startswith("no mask argument masks out a position in the given call")
    assert "mask" in probe(embed_without_a_full_mask, text, **P.text_batch([5, 7])).checked
    assert "mask" in probe(embed_one_by_one, text, **P.text_batch([5, 7])).checked


@contract(dims={"D": "model.config.hidden_size", "p": "model.config.patch_size"}, where={"h": "H // p", "w": "W // p"})
def masked_patch_grid(
    model: nn.Module, pixel_values: Float[Tensor, "B C H W"], bool_masked_pos: Int[Tensor, "B P"]
) -> Float[Tensor, "B h w D"]:
    """Masked image modelling: a masked patch takes the mask token, its cell is not meant to follow its pixels."""
    tokens = model(pixel_values=pixel_values, bool_masked_pos=bool_masked_pos.bool()).last_hidden_state
    b, _, height, width = pixel_values.shape
    p = model.config.patch_size
    return tokens[:, 1:].reshape(b, height // p, width // p, -1)


def test_patch_locality_is_skipped_for_masked_image_modelling() -> None:
    model = tiny_model("vision", use_mask_token=True)
    pixels = P.images(2, 16, 40)
    masked = torch.zeros(2, 10, dtype=torch.long)
    masked[:, 1] = 1
    result = probe(masked_patch_grid, model, pixels, masked, properties=["locality"])
    assert result.skipped["locality"] == (
        "Data2VecVisionModel was called with bool_masked_pos: masked patches take the mask token, not their pixels"
    )
    unmasked = probe(P.image_patches, P.vision_model(), pixels, properties=["locality"])
    assert unmasked.checked == ("locality",)
    assert unmasked.calls_by_property["locality"] == 2 * 4  # 2*ceil(log2(2*5 + 1)) calls


def _left_padded_qa() -> dict[str, Tensor]:
    """The corpus QA batch with every row moved to the right end (left padding, pad id 1 at padded positions)."""
    batch = CORRECT["answer_span"].inputs()[1]
    n = batch["input_ids"].shape[1]
    out = {k: torch.zeros_like(v) for k, v in batch.items()}
    out["input_ids"].fill_(1)
    for i, length in enumerate(batch["attention_mask"].sum(dim=1).tolist()):
        for k, v in batch.items():
            out[k][i, n - length :] = v[i, :length]
    return out


def test_span_positions_move_with_padding_added_or_removed_on_the_left() -> None:
    """Start and end indices into a left-padded batch move by the positions added (or trimmed) on the left: right."""
    case = CORRECT["answer_span"]
    model = case.inputs()[0][0]
    result = probe(case.fn, model, **_left_padded_qa())
    assert {"padding", "trim"} <= set(result.checked)
    assert result.padding_sides == {"attention_mask": ("left",)}
    assert (
        "return value[0] holds positions along N: they move with the positions added or removed on the left"
        in result.notes
    )


def test_contract_declares_the_padding_side() -> None:
    """@contract(padding_side=...) is validated at declaration and used by probe() unless probe() says otherwise."""
    from data2vec_contracts import ContractDefinitionError, contract, probe
    from data2vec_contracts.instrument import contract_of

    def pool(x: Float[Tensor, "B N D"], attention_mask: Shaped[Tensor, "B N"]) -> Float[Tensor, "B D"]:
        keep = attention_mask.unsqueeze(-1).to(x.dtype)
        return (x * keep).sum(1) / keep.sum(1).clamp(min=1)

    with pytest.raises(ContractDefinitionError, match="padding_side= must be 'right', 'left' or 'both'"):
        contract(padding_side="middle")(pool)  # type: ignore[arg-type]
    both = contract(padding_side="both")(pool)
    declared = contract_of(both)
    assert declared is not None
    assert declared.padding_side == "both"
    x, mask = torch.randn(2, 5, 3), torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    assert probe(both, x, mask).padding_sides["attention_mask"] == ("right", "left")
    assert probe(both, x, mask, padding_side="right").padding_sides["attention_mask"] == ("right",)
