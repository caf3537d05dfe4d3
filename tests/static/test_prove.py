"""``static.prove``: symbolic proofs for text, audio (with and without adapter), vision and pipelines,
planted pipeline bugs, and the proven formulas against real forward calls."""

from __future__ import annotations

from typing import Any

import pytest
import sympy
import torch

from data2vec_contracts.static import ProofResult, prove
from data2vec_contracts.static._symbolic import compare
from tests._models import TRANSFORMERS_5, tiny_config, tiny_model
from tests.static import pipelines


def _tiny(modality: str, **overrides: Any) -> Any:
    return tiny_config(modality, num_hidden_layers=1, **overrides)


def _axes(result: ProofResult) -> list[tuple[str, int, str, str, str]]:
    return [(a.field, a.axis, a.contract, a.found, a.status) for a in result.axes]


@pytest.fixture(scope="module")
def text_proof() -> ProofResult:
    return prove("Model", _tiny("text"), {"B": (1, 16), "N": (2, 512)})


AUDIO_STEPS: list[str] = []


@pytest.fixture(scope="module")
def audio_proof() -> ProofResult:
    AUDIO_STEPS.clear()
    return prove("ForCTC", _tiny("audio"), {"B": (1, 8), "S": (2, 100_000)}, progress=AUDIO_STEPS.append)


@pytest.fixture(scope="module")
def vision_proof() -> ProofResult:
    return prove("Model", _tiny("vision"), {"B": (1, 4), "H": (8, 64), "W": (8, 64)})


# how far torch.export alone lets N go: transformers 4.x guards N on the position table's buffers
_EXPORT_N = 512 if TRANSFORMERS_5 else 64


def test_text_proof_and_the_limit_export_misses(text_proof: ProofResult) -> None:
    assert text_proof.ok
    assert text_proof.requested == {"B": (1, 16), "N": (2, 512)}
    assert text_proof.proven == {"B": (1, 16), "N": (2, 62)}
    assert _axes(text_proof) == [
        ("last_hidden_state", 0, "B", "B", "proved"),
        ("last_hidden_state", 1, "N", "N", "proved"),
        ("last_hidden_state", 2, "D = 32 (config.hidden_size)", "32", "proved"),
        ("pooler_output", 0, "B", "B", "proved"),
        ("pooler_output", 1, "D = 32 (config.hidden_size)", "32", "proved"),
    ]
    assert text_proof.of("limit") == [
        "N <= 62 (config.max_position_embeddings=64 - config.pad_token_id=1 - 1): the sequence is longer than the "
        "position table: positions start at pad_token_id + 1, so at most 62 tokens fit; truncate (tokenizer(..., "
        f"truncation=True, max_length=62)). torch.export alone accepts N up to {_EXPORT_N}: it checks shapes, not "
        "the values used as indices."
    ]
    assert text_proof.of("closed") == [
        "B = 1: the first export traced only B in 2..16 (B = 1: torch.export specialises size-1 dimensions); a "
        "separate export proved every output there"
    ]
    assert text_proof.of("uncovered") == ["only the plain forward was exported (no attention_mask, flags or labels)"]


def test_audio_proof_guard_relation_and_size_one_frames(audio_proof: ProofResult) -> None:
    assert audio_proof.ok
    assert audio_proof.proven == {"B": (1, 8), "S": (29, 100_000)}
    assert _axes(audio_proof) == [
        ("logits", 0, "B", "B", "proved"),
        ("logits", 1, "T = (S - 29)//16 + 1", "((S - 5)//8 - 3)//2 + 1", "proved"),
        ("logits", 2, "V = 20 (config.vocab_size)", "20", "proved"),
    ]
    assert audio_proof.axes[1].method == "quasi-polynomial identity, 32 points cover every period"
    assert audio_proof.of("guard") == [
        "S >= 29 (the receptive field of the conv stack): audio shorter than the receptive field makes no frame: "
        "pad every waveform to at least 29 samples."
    ]
    assert audio_proof.of("relation") == [
        "T = ((S - 5)//8 - 3)//2 + 1, the contract's T = (S - 29)//16 + 1, for every S in 45..100000"
    ]
    assert audio_proof.of("closed") == [
        "B = 1: the first export traced only B in 2..8 (B = 1: torch.export specialises size-1 dimensions); a "
        "separate export proved every output there",
        "S in 29..44: the first export traced only S in 45..100000 (at S=29: T = 1; at S=44: T = 1: torch.export "
        "specialises size-1 dimensions); a separate export proved every output there",
    ]
    assert audio_proof.of("uncovered") == ["only the plain forward was exported (no attention_mask, flags or labels)"]


def test_a_proof_reports_progress(audio_proof: ProofResult) -> None:
    steps = AUDIO_STEPS
    assert steps[0] == "building Data2VecAudioForCTC on the meta device"
    assert steps[1] == "exporting Data2VecAudioForCTC with B in 1..8, S in 2..100000 (example {'B': 2, 'S': 16000})"
    assert steps[2].startswith("exported in ")
    assert "logits axis 1: T = (S - 29)//16 + 1 vs ((S - 5)//8 - 3)//2 + 1" in steps
    assert "closing a gap: a separate export for B = 1, S in 29..44" in steps
    assert "  exporting Data2VecAudioForCTC with B in 1..1, S in 29..44 (example {'B': 1, 'S': 44})" in steps
    assert steps[-1].startswith("done in ")
    assert steps[-1].endswith(" s: proved")


def test_audio_proof_with_the_default_adapter() -> None:
    result = prove(
        "Model",
        _tiny("audio", add_adapter=True, output_hidden_size=24),
        {"B": (2, 4), "S": (29, 20_000)},
        check_uncovered=False,
        close_gaps=False,
    )
    assert result.ok
    assert [(a.field, a.axis, a.contract, a.status) for a in result.axes] == [
        ("last_hidden_state", 0, "B", "proved"),
        ("last_hidden_state", 1, "Ta = (T - 1)//8 + 1", "proved"),
        ("last_hidden_state", 2, "Dp = 24 (config.output_hidden_size)", "proved"),
        ("extract_features", 0, "B", "proved"),
        ("extract_features", 1, "T = (S - 29)//16 + 1", "proved"),
        ("extract_features", 2, "F = 16 (config.conv_dim[-1])", "proved"),
    ]
    assert result.axes[1].found == "((S - 5)//8 - 3)//16 + 1"  # torch.export merged the three adapter layers
    # one expression per derived length: its sympy form is the contract's, so the periodicity argument applies
    assert result.axes[1].method == "quasi-polynomial identity, 512 points cover every period"


def test_adapter_with_a_wide_kernel_is_guarded_by_the_contract() -> None:
    # adapter_kernel_size=5 with padding 1 needs T + 2 >= 5 at every adapter layer: the contract states it as a
    # guard (T >= 27, so S >= 445), and the proof covers exactly the sizes the code can take.
    result = prove(
        "Model",
        _tiny("audio", add_adapter=True, adapter_kernel_size=5, adapter_stride=3),
        {"B": (2, 4), "S": (29, 5000)},
        close_gaps=False,
    )
    assert result.ok
    assert result.proven == {"B": (2, 4), "S": (445, 5000)}
    assert result.of("error") == []
    assert result.of("guard") == [
        "S >= 445: T >= 27 (each adapter layer needs T + 2 >= config.adapter_kernel_size=5): the adapter's "
        "convolution is wider than the frames: pad every waveform to at least 445 samples."
    ]


def test_vision_proof(vision_proof: ProofResult) -> None:
    assert vision_proof.ok
    assert vision_proof.proven == {"B": (1, 4), "H": (8, 64), "W": (8, 64)}
    assert _axes(vision_proof)[1] == ("last_hidden_state", 1, "Nv = 1 + h*w", "(H//8)*(W//8) + 1", "proved")
    assert vision_proof.of("relation") == [
        "Nv = (H//8)*(W//8) + 1, the contract's Nv = 1 + h*w, for every H in 8..64, W in 8..64"
    ]
    assert vision_proof.of("specialisation") == []


def test_segmentation_is_limited_to_the_patch_grid_of_the_config_image_size() -> None:
    """transformers runs every size that floors to the 4x4 patch grid of image_size=32 (H, W in 32..39), so the proof
    covers exactly those; the contract's guard says why (torch.export alone would accept any size)."""
    dims = {"B": (2, 4), "H": (8, 64), "W": (8, 64)}
    result = prove("ForSemanticSegmentation", tiny_config("vision"), dims)  # out_indices need 2 layers
    assert result.ok
    assert result.proven == {"B": (2, 4), "H": (32, 39), "W": (32, 39)}
    assert result.of("specialisation") == []
    grid = "H//8 == 4 and W//8 == 4 (the patch grid of config.image_size=32): the segmentation head reshapes tokens"
    assert [text.split(": ", 1)[0] for text in result.of("guard")] == ["H >= 32", "W >= 32"]
    assert all(text.split(": ", 1)[1].startswith(grid) for text in result.of("guard"))
    assert [a.found for a in result.axes] == ["B", "2", "16", "4*((H//8)*(W//8)//4)"]


@pytest.mark.parametrize("samples", [45, 46, 60, 61, 77, 1000, 4321, 16000])
def test_proven_audio_formula_matches_real_forward_calls(audio_proof: ProofResult, samples: int) -> None:
    model = tiny_model("audio", "ForCTC", num_hidden_layers=1)
    formula = audio_proof.axes[1].found
    with torch.no_grad():
        logits = model(input_values=torch.zeros(2, samples)).logits
    assert logits.shape[1] == eval(formula, {"__builtins__": {}}, {"S": samples})


@pytest.mark.parametrize(("height", "width"), [(8, 8), (15, 64), (32, 40), (63, 9), (64, 64)])
def test_proven_vision_formula_matches_real_forward_calls(vision_proof: ProofResult, height: int, width: int) -> None:
    model = tiny_model("vision", num_hidden_layers=1)
    formula = vision_proof.axes[1].found
    with torch.no_grad():
        tokens = model(pixel_values=torch.zeros(2, 3, height, width)).last_hidden_state
    assert tokens.shape[1] == eval(formula, {"__builtins__": {}}, {"H": height, "W": width})


# -- pipelines ---------------------------------------------------------------------------------------
def test_pipeline_with_a_mask_is_proved_and_says_what_the_trace_fixed() -> None:
    result = prove(
        pipelines.text_embed, _tiny("text"), {"B": (1, 8), "N": (2, 62)}, check_uncovered=False, close_gaps=False
    )
    assert result.ok
    assert result.kind == "pipeline"
    assert _axes(result) == [
        ("return value", 0, "B", "B", "proved"),
        ("return value", 1, "D = 32 (model.config.hidden_size)", "32", "proved"),
    ]
    assert result.of("uncovered")[-1] == "attention_mask: traced with all ones; other mask values were not traced"


def test_pipeline_relation_for_a_dimension_the_contract_leaves_free() -> None:
    result = prove(
        "tests.static.pipelines:audio_frames", _tiny("audio"), {"B": (2, 4), "S": (45, 50_000)}, close_gaps=False
    )
    assert result.ok
    assert result.of("relation") == ["T = ((S - 5)//8 - 3)//2 + 1 (return value axis 1; the contract leaves it free)"]


@pytest.mark.parametrize(
    ("pipeline", "modality", "dims", "difference"),
    [
        (
            pipelines.bug_drop_token,
            "text",
            {"B": (2, 8), "N": (2, 62)},
            "return value axis 1: the contract says N, the code gives N - 1; at N=2 that is 1, not 2",
        ),
        (
            pipelines.bug_pool_wrong_axis,
            "text",
            {"B": (2, 8), "N": (2, 62)},
            "return value axis 1: the contract says D = 32 (model.config.hidden_size), the code gives N; at N=2 "
            "that is 2, not 32",
        ),
        (
            pipelines.bug_frames_formula,
            "audio",
            {"B": (2, 8), "S": (45, 50_000)},
            "return value axis 1: the contract says T = S//16, the code gives ((S - 5)//8 - 3)//2 + 1; at S=48 "
            "that is 2, not 3",
        ),
        (
            pipelines.bug_grid_with_cls,
            "vision",
            {"B": (2, 4), "H": (8, 64), "W": (8, 64)},
            "return value axis 3: the contract says D = 32 (model.config.hidden_size), the code gives "
            "(32*(H//8)*(W//8) + 32)//((H//8)*(W//8)); at H=8, W=8 that is 64, not 32",
        ),
    ],
    ids=["drop-token", "pool-axis", "frames-formula", "grid-with-cls"],
)
def test_planted_pipeline_bugs_fail_the_proof(pipeline: Any, modality: str, dims: Any, difference: str) -> None:
    result = prove(pipeline, _tiny(modality), dims, check_uncovered=False)
    assert not result.ok
    assert result.of("difference") == [difference]
    assert [a.status for a in result.axes].count("differs") == 1


# -- the comparison itself -------------------------------------------------------------------------------
def test_compare_proves_nested_floors_over_a_huge_range_and_finds_counterexamples() -> None:
    from torch.utils._sympy.functions import FloorDiv

    s = sympy.Symbol("S", integer=True)
    nested = FloorDiv(FloorDiv(s - 5, 8) - 3, 2) + 1  # what torch.export gives for convs (5, 4), (3, 2), (3, 2)
    closed = sympy.floor((s - 29) / 16) + 1  # the contract: R = 29, P = 16

    def contract(point: Any) -> int:
        return (point["S"] - 29) // 16 + 1

    verdict = compare(nested, contract, closed, {"S": (45, 10**12)}, ("S",))
    assert (verdict.status, verdict.method) == ("proved", "quasi-polynomial identity, 32 points cover every period")
    off = compare(nested, lambda p: (p["S"] - 29) // 16, None, {"S": (45, 1000)}, ("S",))
    assert (off.status, off.counterexample, off.found_value, off.contract_value) == ("differs", {"S": 45}, 2, 1)
    shifted = compare(
        nested, lambda p: (p["S"] - 28) // 16 + 1, sympy.floor((s - 28) / 16) + 1, {"S": (45, 10**12)}, ("S",)
    )
    assert (shifted.status, shifted.counterexample) == ("differs", {"S": 60})
    sampled = compare(sympy.Max(s, 7), lambda p: max(p["S"], 7), None, {"S": (1, 10**9)}, ("S",))
    assert sampled.status == "sampled"
    assert sampled.method == "agreed at 2003 sampled sizes, not exhaustive"


def test_a_guard_on_a_derived_dimension_names_the_input_bound() -> None:
    result = prove("ForXVector", _tiny("audio"), {"B": (2, 4), "S": (2, 5000)}, check_uncovered=False, close_gaps=False)
    assert result.ok
    assert result.proven == {"B": (2, 4), "S": (269, 5000)}
    assert result.of("guard") == [
        "S >= 269: Tx >= 2 frames after the TDNN (std of one frame is NaN): the waveform is too short for "
        "ForXVector: the TDNN drops frames and pooling needs at least 2."
    ]
    assert [(a.field, a.contract, a.found) for a in result.axes] == [
        ("logits", "B", "B"),
        ("logits", "X = 12 (config.xvector_output_dim)", "12"),
        ("embeddings", "B", "B"),
        ("embeddings", "X = 12 (config.xvector_output_dim)", "12"),
    ]


def test_a_pipeline_that_reads_mask_values_cannot_be_proved_and_says_why() -> None:
    result = prove(pipelines.audio_pooled, _tiny("audio"), {"B": (2, 4), "S": (29, 5000)})
    assert not result.ok
    assert result.proven == {}
    assert result.of("error") == [
        "torch.export failed with sizes B in 2..4, S in 29..5000: GuardOnDataDependentSymNode: Could not extract "
        "specialized integer from data-dependent expression u0; the code turns tensor values into sizes (mask "
        "lengths via .item() / .tolist()), which a symbolic trace cannot follow, so no size is proved: check such "
        "pipelines with static.check at the sizes you use"
    ]
    assert result.of("uncovered") == ["at the example sizes B=2, S=5000 a concrete meta-device check passed"]


# -- proofs against concrete checks ----------------------------------------------------------------------
def _check_outcome(pipeline: Any, modality: str, sizes: dict[str, int]) -> str:
    from data2vec_contracts import ShapeContractError
    from data2vec_contracts.static import check

    try:
        check(pipeline, _tiny(modality), **sizes)
    except ShapeContractError as exc:
        return f"violation: {exc.violation.function if exc.violation else '?'}"
    return "ok"


@pytest.mark.parametrize(
    ("pipeline", "modality", "asked", "limit"),
    [
        # the tiny text model's position table holds 62 tokens: the proof must stop there (4.x exports N <= 64 only)
        (pipelines.text_embed, "text", {"B": (1, 4), "N": (2, 64)}, ("N", 62)),
        (pipelines.text_states, "text", {"B": (1, 4), "N": (2, 64)}, ("N", 62)),
        # the conv stack needs 29 samples for a frame (the tiny config's receptive field); the proof starts there
        (pipelines.audio_frames, "audio", {"B": (1, 4), "S": (2, 3000)}, ("S", 29)),
        (pipelines.vision_grid, "vision", {"B": (2, 4), "H": (8, 64), "W": (8, 64)}, None),
    ],
    ids=["text-embed", "text-states", "audio-frames", "vision-grid"],
)
def test_a_proof_agrees_with_check_at_its_ends_and_at_sampled_sizes(
    pipeline: Any, modality: str, asked: dict[str, tuple[int, int]], limit: tuple[str, int] | None
) -> None:
    """Issue 11: a pipeline's proof includes the constraints of the Data2Vec contracts it reaches. Every size of the
    proved range passes ``check`` (its ends and sampled sizes); every asked size outside it is rejected by one."""
    result = prove(pipeline, _tiny(modality), asked)
    assert result.ok, result.findings
    if limit is not None:
        name, bound = limit
        lo, hi = result.proven[name]
        assert bound in (lo, hi)
        assert any(f"{name} {'<=' if bound == hi else '>='} {bound}" in g for g in result.of("guard"))
    rng = __import__("random").Random(0)
    for name, (lo, hi) in result.proven.items():
        others = {k: min(max(2, v[0]), v[1]) for k, v in result.proven.items() if k != name}
        inside = sorted({lo, hi, *(rng.randint(lo, hi) for _ in range(3))})
        for value in inside:
            assert _check_outcome(pipeline, modality, {**others, name: value}) == "ok", (name, value)
        alo, ahi = asked[name]
        outside = sorted({v for v in (alo, lo - 1, hi + 1, ahi) if alo <= v <= ahi and not lo <= v <= hi})
        for value in outside:
            assert _check_outcome(pipeline, modality, {**others, name: value}).startswith("violation"), (name, value)
