"""The known causes of oracle failures, and the calls our checker rejects on purpose; measured on transformers 4.57
and 5.24.

Each :class:`Cause` is one distinct defect of data2vec_contracts, or one transformers behaviour our checker cannot
pre-empt precisely (a documented limit), with the versions it shows on, the kind of failure, the line of the
transformers modeling source that explains the real behaviour, and a predicate over scenarios.
``tests/oracle/test_scenarios.py`` marks every scenario a cause applies to ``xfail(strict=True)`` with the cause's
reason, so a fix turns the scenario XPASS (a failure) until the cause is removed here; ``python -m tests.oracle`` lists
problems no cause explains and causes that predicted a problem which did not happen, so the predicates stay exact.

Each :class:`Deliberate` is a call transformers runs that our contract rejects on purpose because its result is
garbage; the scenarios it applies to assert our ShapeContractError, with the hint that says why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from tests._models import TRANSFORMERS_5, tiny_config
from tests.oracle.calls import Scenario

__all__ = ["CAUSES", "DELIBERATE", "WORKFLOW_CAUSES", "Cause", "Deliberate", "Kind", "WorkflowCause", "causes_for",
           "deliberate_for"]

#: false violation: transformers runs the call, our checker raises; expected_shapes: its answer differs from the
#: real shapes (or it raises); not first: transformers raises, and our ShapeContractError does not come first.
Kind = Literal["false violation", "expected_shapes", "not first"]

_MAJOR = 5 if TRANSFORMERS_5 else 4


@dataclass(frozen=True)
class Cause:
    id: str
    kinds: tuple[Kind, ...]
    summary: str
    source: str  # the transformers line that shows the real behaviour
    ours: str  # where our code goes wrong, or why it cannot pre-empt the failure
    raw: Callable[[Scenario], bool]
    versions: tuple[int, ...] = (4, 5)

    def applies(self, s: Scenario) -> bool:
        """Whether the cause shows in this scenario on the installed transformers."""
        return _MAJOR in self.versions and _config(s) is not None and self.raw(s)

    @property
    def reason(self) -> str:
        return f"[{self.id}] {self.summary} (transformers: {self.source}; ours: {self.ours})"


@dataclass(frozen=True)
class Deliberate:
    """A call transformers runs and our contract rejects on purpose: ``hint`` is a part of the message that says why."""

    id: str
    summary: str
    source: str
    hint: str
    raw: Callable[[Scenario], bool]

    def applies(self, s: Scenario) -> bool:
        return _config(s) is not None and self.raw(s)


_CONFIGS: dict[str, Any] = {}


def _config(s: Scenario) -> Any:
    key = repr((s.modality, sorted(s.config.items(), key=repr)))
    if key not in _CONFIGS:
        try:
            _CONFIGS[key] = tiny_config(s.modality, **s.config)
        except Exception:  # a config transformers refuses: no call runs, no cause applies
            _CONFIGS[key] = None
    return _CONFIGS[key]


def _cfg(s: Scenario, name: str) -> Any:
    """A field of the scenario's config (None for a field the modality does not have)."""
    return getattr(_config(s), name, None)


def _size(s: Scenario, name: str) -> int:
    default = {"batch": 2, "seq_len": 7, "num_choices": 3, "samples": 400}
    if name in ("height", "width") and s.modality == "vision":
        image = _cfg(s, "image_size")
        side = image if isinstance(image, int) else image[0 if name == "height" else 1]
        return int(s.sizes.get(name, side))
    return int(s.sizes.get(name, default.get(name, 0)))


def _frames(s: Scenario) -> int:
    from data2vec_contracts import num_frames

    return num_frames(_config(s), _size(s, "samples"))


# -- predicates ---------------------------------------------------------------------------------------------------
def _audio_rejected_first(s: Scenario) -> bool:
    """An audio call our input checks reject before the model runs (so no later failure of the model shows)."""
    c = _config(s)
    t = _frames(s)
    if _size(s, "batch") == 0 or t < 1:
        return True
    if s.train and getattr(c, "apply_spec_augment", True) and (
        (c.mask_time_prob > 0 and c.mask_time_length > t) or (c.mask_feature_prob > 0 and c.mask_feature_length
                                                              > c.hidden_size)
    ):
        return True
    tdnn = sum(d * (k - 1) for k, d in zip(c.tdnn_kernel, c.tdnn_dilation))
    return s.head == "ForXVector" and t - tdnn < 2  # with use_weighted_layer_sum the TDNN reads the conv frames


def _weighted_sum_layerdrop(s: Scenario) -> bool:
    return (s.modality == "audio" and s.train and 0 < float(_cfg(s, "layerdrop")) < 1
            and bool(_cfg(s, "use_weighted_layer_sum")) and int(_cfg(s, "num_hidden_layers")) > 0
            and s.head in ("ForSequenceClassification", "ForAudioFrameClassification", "ForXVector")
            and not _audio_rejected_first(s))


CAUSES: tuple[Cause, ...] = (
    Cause("audio-weighted-sum-layerdrop-5x", ("not first",),
          "transformers 5.x: use_weighted_layer_sum with layerdrop in training stacks only the states of the layers "
          "that ran, so whenever layerdrop drops a layer the L+1 layer weights do not broadcast (RuntimeError; "
          "a transformers bug). Whether a call fails depends on the layers drawn, so our checker cannot pre-empt it "
          "precisely: it rejects layerdrop >= 1 (every layer dropped) and lets 0 < layerdrop < 1 through",
          "modeling_data2vec_audio.py: hidden_states = (hidden_states * norm_weights.view(-1, 1, 1)).sum(dim=1)",
          "contracts/audio.py _class_checks: a documented limit (README)", _weighted_sum_layerdrop, versions=(5,)),
)


def _seg_other_grid(s: Scenario) -> bool:
    if s.head != "ForSemanticSegmentation" or _size(s, "batch") == 0:
        return False
    p, image = _cfg(s, "patch_size"), _cfg(s, "image_size")
    if not isinstance(p, int) or not isinstance(image, int):
        return False
    h, w, side = _size(s, "height") // p, _size(s, "width") // p, image // p
    return (h, w) != (side, side) and h * w == side * side


DELIBERATE: tuple[Deliberate, ...] = (
    Deliberate(
        "vision-segmentation-other-grid",
        "segmentation at a size whose patch count equals image_size's but whose grid differs (16x64 with image 32, "
        "patch 8: a 2x8 grid reshaped to 4x4) runs in transformers and gives a scrambled layout; the contract "
        "accepts only sizes with the image_size patch grid",
        "modeling_data2vec_vision.py: x[:, 1:, :].permute(0, 2, 1).reshape(batch_size, -1, patch_resolution, "
        "patch_resolution)",
        "when the patch count matches, give a scrambled layout",
        _seg_other_grid,
    ),
)


def causes_for(s: Scenario) -> list[Cause]:
    """The known causes that apply to a scenario on the installed transformers."""
    return [c for c in CAUSES if c.applies(s)]


def deliberate_for(s: Scenario) -> list[Deliberate]:
    """The deliberate rejections that apply to a scenario."""
    return [d for d in DELIBERATE if d.applies(s)]


@dataclass(frozen=True)
class WorkflowCause:
    """A defect only a multi-call workflow shows (tests/oracle/test_workflows.py), not a single scenario."""

    id: str
    summary: str
    source: str
    ours: str
    versions: tuple[int, ...] = (4, 5)

    @property
    def reason(self) -> str:
        return f"[{self.id}] {self.summary} (transformers: {self.source}; ours: {self.ours})"


#: None today: every workflow of tests/oracle/test_workflows.py passes on 4.x and 5.x.
WORKFLOW_CAUSES: dict[str, WorkflowCause] = {}
