"""Tiny Data2Vec models for the test suite: random weights, built in milliseconds, always in eval mode.

Use these instead of writing configs by hand::

    from tests._models import tiny_inputs, tiny_labels, tiny_model

    model = tiny_model("audio", "ForCTC", add_adapter=True)    # config overrides as keywords
    inputs = tiny_inputs(model, batch=2, samples=1000)
    loss = model(**inputs, **tiny_labels(model, inputs)).loss   # valid labels for any head

``CLASSES`` lists the 15 (modality, head) pairs; ``scenarios()`` lists 234 named forward calls
(every class under every flag combination, config variants, bf16, CPU autocast, training mode), each a
:class:`Scenario` with ``build()`` and ``run(model)``.

Sizes of the tiny configs (all three: D=32, L=2, 4 heads):

* text: V=99, max_position_embeddings=64, pad_token_id=1, so at most 62 tokens.
* audio: conv kernels (5, 3, 3), strides (4, 2, 2): receptive field R=29, step P=16, so
  ``T = (S - 29)//16 + 1`` (S=1000 -> 61); F=16, V=20, X=12; XVector needs T >= 16 (S >= 269).
* vision: image_size=32, patch_size=8, 3 channels: 32x32 -> 17 tokens; segmentation logits 16x16.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy
import torch
import transformers

from data2vec_contracts.plugin._classes import HEADS, MODALITIES
from data2vec_contracts.plugin._tiny import TINY

__all__ = [
    "CACHE_FIELD",
    "CLASSES",
    "HEADS",
    "MODALITIES",
    "TRANSFORMERS_5",
    "Scenario",
    "model_class",
    "only_transformers_5",
    "output_shapes",
    "scenarios",
    "session_enforced",
    "tiny_config",
    "tiny_inputs",
    "tiny_labels",
    "tiny_model",
]


#: transformers 5.x is installed (4.x differs in measured ways: data2vec_contracts/contracts/_compat.py).
TRANSFORMERS_5: bool = int(transformers.__version__.split(".")[0]) >= 5
#: the name of the text cache (argument and output field): ``cache`` in 5.x, ``past_key_values`` in 4.x.
CACHE_FIELD: str = "cache" if TRANSFORMERS_5 else "past_key_values"


def only_transformers_5(feature: str) -> Any:
    """Skip a test of a feature transformers 4.x does not have."""
    import pytest

    return pytest.mark.skipif(not TRANSFORMERS_5, reason=f"transformers 4.x has no {feature}")


#: The 15 (modality, head) pairs.
CLASSES: tuple[tuple[str, str], ...] = tuple((m, h) for m in MODALITIES for h in HEADS[m])

_PREFIX = {"text": "Data2VecText", "audio": "Data2VecAudio", "vision": "Data2VecVision"}

_TINY = TINY  # the configs of the plugin's data2vec_model fixture: one definition of "tiny"


def _check_modality(modality: str) -> None:
    if modality not in _PREFIX:
        raise ValueError(f"modality must be one of {', '.join(MODALITIES)}, got {modality!r}")


def tiny_config(modality: str, **overrides: Any) -> Any:
    """A tiny ``Data2Vec{Text,Audio,Vision}Config``; keywords override fields (``num_labels=3``,
    ``attn_implementation="eager"``, ``add_adapter=True``, ...)."""
    _check_modality(modality)
    cls = getattr(transformers, f"{_PREFIX[modality]}Config")
    return cls(**{**_TINY[modality], **overrides})


def model_class(modality: str, head: str = "Model") -> type[torch.nn.Module]:
    """The transformers class, e.g. ``model_class("audio", "ForCTC") is Data2VecAudioForCTC``."""
    _check_modality(modality)
    if head not in HEADS[modality]:
        raise ValueError(f"{modality} has no head {head!r}; choose one of {', '.join(HEADS[modality])}")
    return getattr(transformers, f"{_PREFIX[modality]}{head}")  # type: ignore[no-any-return]


def tiny_model(
    modality: str,
    head: str = "Model",
    *,
    add_pooling_layer: bool | None = None,
    dtype: torch.dtype | None = None,
    seed: int = 0,
    cls: type[torch.nn.Module] | None = None,
    **overrides: Any,
) -> Any:
    """A tiny Data2Vec model in eval mode with seeded random weights.

    ``add_pooling_layer`` goes to the constructor of the text / vision ``Model``; ``dtype`` converts
    the parameters (``torch.bfloat16``); ``cls`` builds a subclass of the head instead (tests that
    tamper with outputs); other keywords override config fields.
    """
    config = tiny_config(modality, **overrides)
    build = cls if cls is not None else model_class(modality, head)
    kwargs = {} if add_pooling_layer is None else {"add_pooling_layer": add_pooling_layer}
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = build(config, **kwargs)
    if dtype is not None:
        model = model.to(dtype)
    return model.eval()


def tiny_inputs(
    model: Any,
    *,
    batch: int = 2,
    seq_len: int = 7,
    num_choices: int = 3,
    samples: int = 1000,
    height: int | None = None,
    width: int | None = None,
    seed: int = 0,
) -> dict[str, torch.Tensor]:
    """Valid keyword inputs for ``model``: ``input_ids`` (B, N) or (B, C, N), ``input_values``
    (B, S) in the model's dtype, or ``pixel_values`` (B, 3, H, W) (default config.image_size)."""
    config = model.config
    gen = torch.Generator().manual_seed(seed)
    name = type(model).__name__
    if hasattr(config, "max_position_embeddings"):
        shape = (batch, num_choices, seq_len) if "MultipleChoice" in _base_name(model) else (batch, seq_len)
        # ids from 2 up: 0 is <s>, 1 is the padding id, which would shift the default positions
        return {"input_ids": torch.randint(2, config.vocab_size, shape, generator=gen)}
    if hasattr(config, "conv_kernel"):
        dtype = next(model.parameters()).dtype
        return {"input_values": torch.randn(batch, samples, generator=gen).to(dtype)}
    if hasattr(config, "image_size"):
        h = height if height is not None else config.image_size
        w = width if width is not None else config.image_size
        pixels = torch.randn(batch, config.num_channels, h, w, generator=gen)
        # transformers 5.x casts pixel_values to the model's dtype; 4.x needs them in it
        return {"pixel_values": pixels if TRANSFORMERS_5 else pixels.to(next(model.parameters()).dtype)}
    raise TypeError(f"tiny_inputs() takes a Data2Vec model, got {name}")


def session_enforced() -> bool:
    """True when the whole session checks the 15 classes (``enforce()``, pytest ``--shape-contracts``)."""
    return any(hasattr(model_class(m, h).__dict__["forward"], "__data2vec_contract__") for m, h in CLASSES)


def _base_name(model: Any) -> str:
    for base in type(model).__mro__:
        if base.__name__.startswith("Data2Vec") and base.__module__.startswith("transformers."):
            return base.__name__
    return type(model).__name__


def output_shapes(output: Any) -> dict[str, Any]:
    """The shapes of a forward output in the form of ``expected_shapes(...)[field].shape``: a tensor
    gives its shape, a tuple or list of tensors a tuple of shapes (None for None items), a cache None.
    Fields that are None are left out, like ``ModelOutput.keys()``."""
    return {name: _shape(value) for name, value in output.items()}


def _shape(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return tuple(value.shape)
    if isinstance(value, (tuple, list)):
        return tuple(None if v is None else tuple(v.shape) for v in value)
    return None


# -- labels -------------------------------------------------------------------------------------
def tiny_labels(model: Any, inputs: dict[str, torch.Tensor], kind: str = "default", seed: int = 1) -> dict[str, Any]:
    """Valid label keywords for a head and its inputs (``{}`` for a base ``Model``).

    ``kind`` selects the text SequenceClassification losses: ``default`` (class ids, cross-entropy),
    ``multilabel`` (float (B, K), BCE); with num_labels=1 the default is float (B,) regression (MSE).
    """
    gen = torch.Generator().manual_seed(seed)
    name = _base_name(model)
    config = model.config
    k = int(config.num_labels)
    first = next(iter(inputs.values()))
    b = int(first.shape[0])
    if name.endswith("Model"):
        return {}
    if name.startswith("Data2VecText"):
        n = int(first.shape[-1])
        if name.endswith(("CausalLM", "MaskedLM")):
            return {"labels": torch.randint(0, config.vocab_size, (b, n), generator=gen)}
        if name.endswith("TokenClassification"):
            return {"labels": torch.randint(0, k, (b, n), generator=gen)}
        if name.endswith("MultipleChoice"):
            return {"labels": torch.randint(0, int(first.shape[1]), (b,), generator=gen)}
        if name.endswith("QuestionAnswering"):
            return {
                "start_positions": torch.randint(0, n, (b,), generator=gen),
                "end_positions": torch.randint(0, n, (b,), generator=gen),
            }
        if kind == "multilabel":
            return {"labels": torch.randint(0, 2, (b, k), generator=gen).float()}
        if k == 1:
            return {"labels": torch.randn(b, generator=gen)}
        return {"labels": torch.randint(0, k, (b,), generator=gen)}
    if name.startswith("Data2VecAudio"):
        from data2vec_contracts.contracts import num_frames

        if name.endswith("ForCTC"):
            return {"labels": torch.randint(1, config.vocab_size, (b, 3), generator=gen)}
        if name.endswith("AudioFrameClassification"):
            t = num_frames(config, int(first.shape[-1]))
            ids = torch.randint(0, k, (b, t), generator=gen)
            return {"labels": torch.nn.functional.one_hot(ids, k).float()}
        return {"labels": torch.randint(0, k, (b,), generator=gen)}
    if name.endswith("SemanticSegmentation"):
        return {"labels": torch.randint(0, k, (b, config.image_size, config.image_size), generator=gen)}
    return {"labels": torch.randint(0, max(k, 1), (b,), generator=gen)}


# -- scenarios ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scenario:
    """One forward call of one tiny model: class, config, sizes, flags, labels, precision, mode.

    ``scenarios()`` lists the combinations the contract tests run; ``build()`` makes the model,
    ``kwargs(model)`` the call's keywords, ``run(model)`` the call (under CPU autocast, seeded).
    """

    id: str
    modality: str
    head: str
    config: tuple[tuple[str, Any], ...] = ()
    sizes: tuple[tuple[str, int], ...] = ()
    flags: tuple[tuple[str, Any], ...] = ()
    labels: str | None = None
    add_pooling_layer: bool | None = None
    dtype: torch.dtype | None = None
    autocast: bool = False
    train: bool = False
    seed: int = 0

    @property
    def config_dict(self) -> dict[str, Any]:
        return dict(self.config)

    @property
    def returns_tuple(self) -> bool:
        """``return_dict=False`` as a call flag or in the config."""
        flag = self.call_flags.get("return_dict", self.config_dict.get("return_dict"))
        return flag is False

    @property
    def size_kwargs(self) -> dict[str, int]:
        return dict(self.sizes)

    @property
    def call_flags(self) -> dict[str, Any]:
        return dict(self.flags)

    def build(self, cls: type[torch.nn.Module] | None = None) -> Any:
        model = tiny_model(
            self.modality, self.head, add_pooling_layer=self.add_pooling_layer, dtype=self.dtype, cls=cls,
            **dict(self.config),
        )
        return model.train() if self.train else model

    def kwargs(self, model: Any) -> dict[str, Any]:
        inputs = tiny_inputs(model, **self.size_kwargs)
        labels = tiny_labels(model, inputs, self.labels) if self.labels else {}
        flags = {k: (v.clone() if isinstance(v, torch.Tensor) else v) for k, v in self.flags}
        return {**inputs, **labels, **flags}

    def run(self, model: Any) -> Any:
        kwargs = self.kwargs(model)
        state = numpy.random.get_state()  # SpecAugment (audio, training mode) draws from numpy
        try:
            numpy.random.seed(self.seed)
            with torch.random.fork_rng():
                torch.manual_seed(self.seed)
                if self.autocast:
                    with torch.autocast("cpu", dtype=torch.bfloat16):
                        return model(**kwargs)
                return model(**kwargs)
        finally:
            numpy.random.set_state(state)


def _sc(modality: str, head: str, tag: str, **fields: Any) -> Scenario:
    for name in ("config", "sizes", "flags"):
        if name in fields:
            fields[name] = tuple(fields[name].items())
    return Scenario(f"{modality}-{head}-{tag}", modality, head, **fields)


def _sizes(modality: str, head: str) -> tuple[dict[str, int], dict[str, int]]:
    """An edge size and an ordinary one for each class."""
    if modality == "text":
        if head == "ForMultipleChoice":
            return {"seq_len": 5, "num_choices": 2}, {"seq_len": 3, "num_choices": 4}
        return {"seq_len": 1}, {"seq_len": 62}  # 62 = the longest text the position table takes
    if modality == "audio":
        if head == "ForXVector":
            return {"samples": 269}, {"samples": 1001}  # 269: T=16, two frames left after the TDNN
        return {"samples": 29}, {"samples": 1001}  # 29 = the receptive field (one frame); 1001 % 16 != 0
    if head == "ForSemanticSegmentation":
        return {"height": 32, "width": 32}, {"height": 32, "width": 32}
    return {"height": 8, "width": 8}, {"height": 40, "width": 24}


def scenarios() -> list[Scenario]:
    """Every class under every flag combination, plus the config variants of the contracts."""
    found: list[Scenario] = []
    eager = {"attn_implementation": "eager"}
    for modality, head in CLASSES:
        edge, size = _sizes(modality, head)
        found += [
            _sc(modality, head, "B1-edge", sizes={"batch": 1, **edge}),
            _sc(modality, head, "B3", sizes={"batch": 3, **size}),
            _sc(modality, head, "hidden-attn-sdpa", sizes={"batch": 2, **size},
                flags={"output_hidden_states": True, "output_attentions": True}),
            _sc(modality, head, "hidden-select", sizes={"batch": 2, **size}, flags={"output_hidden_states": [1, -1]}),
            _sc(modality, head, "hidden-int2", sizes={"batch": 2, **size}, flags={"output_hidden_states": 2}),
            _sc(modality, head, "hidden-0", sizes={"batch": 2, **size}, flags={"output_hidden_states": 0}),
            _sc(modality, head, "eager", config=eager, sizes={"batch": 2, **size},
                flags={"output_hidden_states": True, "output_attentions": True}),
            _sc(modality, head, "tuple", config=eager, sizes={"batch": 2, **edge},
                flags={"output_hidden_states": True, "output_attentions": True, "return_dict": False}),
            _sc(modality, head, "config-flags", config={**eager, "output_hidden_states": True},
                sizes={"batch": 1, **size}),
        ]
        if head != "Model":
            found.append(_sc(modality, head, "labels", sizes={"batch": 2, **size}, labels="default"))
            found.append(_sc(modality, head, "labels-tuple", sizes={"batch": 2, **edge}, labels="default",
                             flags={"return_dict": False}))
    text, audio, vision = {"batch": 2, "seq_len": 7}, {"batch": 2, "samples": 1000}, {"batch": 2}
    hidden = {"output_hidden_states": True}
    decoder = {"is_decoder": True}
    found += [
        # text
        _sc("text", "Model", "no-pooler", add_pooling_layer=False, sizes=text, flags=hidden),
        _sc("text", "Model", "no-pooler-tuple", add_pooling_layer=False, sizes=text, flags={"return_dict": False}),
        _sc("text", "Model", "decoder", config=decoder, sizes=text),
        _sc("text", "Model", "decoder-all", config={**decoder, **eager}, sizes=text,
            flags={"output_hidden_states": True, "output_attentions": True}),
        _sc("text", "Model", "decoder-tuple", config={**decoder, **eager}, sizes=text,
            flags={"output_hidden_states": True, "output_attentions": True, "return_dict": False}),
        _sc("text", "ForCausalLM", "decoder-tuple", config={**decoder, **eager}, sizes=text, labels="default",
            flags={"output_hidden_states": True, "output_attentions": True, "return_dict": False}),
        _sc("text", "ForMaskedLM", "config-return-dict", config={"return_dict": False}, sizes=text),
        _sc("text", "ForCausalLM", "decoder", config=decoder, sizes=text, flags=hidden),
        _sc("text", "ForCausalLM", "decoder-no-cache", config=decoder, sizes=text, flags={"use_cache": False}),
        _sc("text", "ForCausalLM", "decoder-labels", config=decoder, sizes=text, labels="default"),
        _sc("text", "ForCausalLM", "keep-int", config=decoder, sizes=text, flags={"logits_to_keep": 2}),
        _sc("text", "ForCausalLM", "keep-more-than-N", config=decoder, sizes=text, flags={"logits_to_keep": 9}),
        _sc("text", "ForCausalLM", "keep-index", config=decoder, sizes=text,
            flags={"logits_to_keep": torch.tensor([0, 3, 6])}),
        _sc("text", "ForCausalLM", "keep-index-2d", config=decoder, sizes=text,
            flags={"logits_to_keep": torch.tensor([[0, 1], [5, 6]])}),
        _sc("text", "ForCausalLM", "keep-bool", config=decoder, sizes=text,
            flags={"logits_to_keep": torch.tensor([[True] * 3 + [False] * 4, [False] * 6 + [True]])}),
        _sc("text", "ForSequenceClassification", "regression", config={"num_labels": 1}, sizes=text, labels="default"),
        _sc("text", "ForSequenceClassification", "multilabel", config={"num_labels": 3}, sizes=text,
            labels="multilabel"),
        _sc("text", "ForTokenClassification", "K5", config={"num_labels": 5}, sizes=text, labels="default"),
        # audio
        _sc("audio", "Model", "adapter-k3", config={"add_adapter": True, "output_hidden_size": 24}, sizes=audio,
            flags=hidden),
        _sc("audio", "Model", "adapter-k5-s3", config={"add_adapter": True, "adapter_kernel_size": 5,
            "adapter_stride": 3, "num_adapter_layers": 2}, sizes={"batch": 2, "samples": 381}, flags=hidden),
        _sc("audio", "ForCTC", "adapter-k3", config={"add_adapter": True}, sizes=audio, flags=hidden),
        _sc("audio", "ForCTC", "adapter-k5", config={"add_adapter": True, "adapter_kernel_size": 5}, sizes=audio),
        _sc("audio", "ForCTC", "adapter-k3-labels", config={"add_adapter": True}, sizes=audio, labels="default"),
        _sc("audio", "ForAudioFrameClassification", "K4", config={"num_labels": 4}, sizes=audio, labels="default"),
        _sc("audio", "ForXVector", "K7", config={"num_labels": 7}, sizes=audio, labels="default"),
        _sc("audio", "ForXVector", "adapter", config={"add_adapter": True}, sizes={"batch": 2, "samples": 2300},
            flags=hidden, labels="default"),  # the TDNN runs on the 18 frames after the adapter
        _sc("audio", "ForSequenceClassification", "weighted-layer-sum", config={"use_weighted_layer_sum": True},
            sizes=audio, flags=hidden),
        _sc("audio", "ForAudioFrameClassification", "weighted-layer-sum", config={"use_weighted_layer_sum": True},
            sizes=audio, labels="default"),
        _sc("audio", "ForXVector", "weighted-layer-sum", config={"use_weighted_layer_sum": True}, sizes=audio,
            flags={"output_hidden_states": [-1]}),
        # vision
        _sc("vision", "Model", "pooler-mean", add_pooling_layer=True, sizes={"batch": 2, "height": 35, "width": 17},
            flags=hidden),
        _sc("vision", "Model", "pooler-cls", add_pooling_layer=True, config={"use_mean_pooling": False},
            sizes=vision, flags={"return_dict": False}),
        _sc("vision", "Model", "no-pooler-tuple", sizes=vision, flags={"return_dict": False}),
        _sc("vision", "ForImageClassification", "non-divisible", sizes={"batch": 2, "height": 35, "width": 17}),
        _sc("vision", "ForImageClassification", "K0", config={"num_labels": 0}, sizes=vision),
        _sc("vision", "ForSemanticSegmentation", "K5", config={"num_labels": 5}, sizes={"batch": 1},
            labels="default"),
        _sc("vision", "ForImageClassification", "relative-bias", config={"use_relative_position_bias": True,
            "use_absolute_position_embeddings": True}, sizes={"batch": 2, "height": 40, "width": 24}),
        _sc("vision", "Model", "shared-relative-bias", config={"use_shared_relative_position_bias": True},
            sizes={"batch": 1, "height": 24, "width": 48}, flags=hidden),
    ]
    every = {"output_hidden_states": True, "output_attentions": True}
    for modality, head in CLASSES:
        # per-field dtypes differ: a bf16 model gives bf16 losses for most heads; CPU autocast keeps the text
        # and vision residual stream (last_hidden_state, hidden_states) in fp32 and casts the rest to bf16
        sizes = {"text": {**text, "num_choices": 3}, "audio": audio, "vision": vision}[modality]
        labels = "default" if head != "Model" else None
        found.append(_sc(modality, head, "bf16", config=eager, sizes=sizes, flags=every, dtype=torch.bfloat16,
                         labels=labels))
        found.append(_sc(modality, head, "autocast", config=eager, sizes=sizes, flags=every, autocast=True,
                         labels=labels))
    for seed in range(4):
        found.append(_sc("audio", "Model", f"train-layerdrop-{seed}", train=True, seed=seed,
                         config={**eager, "layerdrop": 0.5, "num_hidden_layers": 3}, sizes=audio,
                         flags={"output_hidden_states": True, "output_attentions": True}))
    for seed in range(3):
        found.append(_sc("audio", "ForSequenceClassification", f"train-layerdrop-select-{seed}", train=True,
                         seed=seed, config={"layerdrop": 0.5, "num_hidden_layers": 3}, sizes=audio,
                         flags={"output_hidden_states": [1, -1]}))
    found.append(_sc("audio", "ForCTC", "train-adapter-layerdrop", train=True, seed=1,
                     config={"layerdrop": 0.5, "add_adapter": True}, sizes=audio, flags=hidden))
    return found
