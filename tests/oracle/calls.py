"""Running one oracle scenario: the plain forward, the same call through ``checked(model)`` and inside ``enforce()``,
and ``expected_shapes`` where it can express the call.

A scenario (:class:`Scenario`) is a model class, config overrides, constructor arguments, input recipes, call flags,
labels and training mode. :func:`run` builds the model three times from the same seed (plain, checked, enforced),
makes the same inputs for each (every random draw is seeded) and records what each call did (:class:`Outcome`);
:class:`Result` then says whether transformers accepted the call and what our checker did with it.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy
import torch

from data2vec_contracts import ShapeContractError, checked, enforce, expected_shapes, unchecked
from tests._models import CACHE_FIELD, TRANSFORMERS_5, model_class, output_shapes, tiny_config, tiny_labels

__all__ = [
    "UNSET",
    "Level",
    "Outcome",
    "Result",
    "Scenario",
    "build",
    "compare",
    "expected_args",
    "expected_vs_real",
    "expressible",
    "make_kwargs",
    "run",
    "seeded",
]


#: The label of the level that leaves a name alone (the pairwise arrays add it to every factor).
UNSET = "-"


@dataclass(frozen=True)
class Level:
    """One value of one table name, as a patch of a scenario: config fields, constructor arguments, input recipes
    (see :func:`make_kwargs`), literal call flags, a label recipe, sizes, training mode.

    ``heads`` limits it to some heads of the modality; ``only`` to one transformers major version."""

    label: str
    config: Mapping[str, Any] = field(default_factory=dict)
    init: Mapping[str, Any] = field(default_factory=dict)
    inputs: Mapping[str, Any] = field(default_factory=dict)
    flags: Mapping[str, Any] = field(default_factory=dict)
    labels: str | None = None
    sizes: Mapping[str, int] = field(default_factory=dict)
    train: bool = False
    heads: tuple[str, ...] | None = None
    only: int | None = None

    def applies(self, head: str) -> bool:
        version = 5 if TRANSFORMERS_5 else 4
        return (self.heads is None or head in self.heads) and (self.only is None or self.only == version)


@dataclass(frozen=True)
class Scenario:
    """A forward call of one class, made of levels (``(table name, Level)``, applied in order)."""

    id: str
    modality: str
    head: str
    levels: tuple[tuple[str, Level], ...] = ()

    def _merged(self, attr: str) -> dict[str, Any]:
        """The settings of all levels; where two set the same key, the first level wins (the pairwise arrays list
        the flags first, so a level's incidental settings never hide the flag level it was paired with)."""
        merged: dict[str, Any] = {}
        for _, level in self.levels:
            for key, value in getattr(level, attr).items():
                merged.setdefault(key, value)
        return merged

    @property
    def config(self) -> dict[str, Any]:
        return self._merged("config")

    @property
    def init(self) -> dict[str, Any]:
        return self._merged("init")

    @property
    def inputs(self) -> dict[str, Any]:
        return self._merged("inputs")

    @property
    def flags(self) -> dict[str, Any]:
        return self._merged("flags")

    @property
    def sizes(self) -> dict[str, int]:
        return self._merged("sizes")

    @property
    def labels(self) -> str | None:
        return next((level.labels for _, level in self.levels if level.labels is not None), None)

    @property
    def train(self) -> bool:
        return any(level.train for _, level in self.levels)

    @property
    def names(self) -> tuple[str, ...]:
        """The table names this scenario exercises (``config.pad_token_id``, ``forward.labels``, ...)."""
        return tuple(name for name, level in self.levels if level.label != UNSET)

    def has(self, name: str, label: str | None = None) -> bool:
        return any(n == name and (label is None or level.label == label) for n, level in self.levels)

    def setting(self, name: str, default: Any = None) -> Any:
        """A config field, call flag or input recipe of this scenario, by name (call flags first)."""
        for source in (self.flags, self.inputs, self.config):
            if name in source:
                return source[name]
        return default

    def __repr__(self) -> str:
        return f"Scenario({self.id})"


# -- building and calling ---------------------------------------------------------------------------------------
_PRISTINE: dict[str, Any] = {}


def build(s: Scenario, seed: int = 0) -> Any:
    """The tiny model of a scenario, seeded, in train or eval mode: a copy of a model built once per class, config
    and constructor arguments (never called, so the copy is exactly what the constructor makes)."""
    key = repr((s.modality, s.head, sorted(s.config.items(), key=repr), sorted(s.init.items()), seed))
    pristine = _PRISTINE.get(key)
    if pristine is None:
        config = tiny_config(s.modality, **s.config)
        cls = model_class(s.modality, s.head)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            pristine = cls(config, **s.init)
        if len(_PRISTINE) > 64:
            _PRISTINE.clear()
        _PRISTINE[key] = pristine
    model = copy.deepcopy(pristine)
    return model.train() if s.train else model.eval()


def _sizes(model: Any, s: Scenario) -> dict[str, int]:
    config = model.config
    image = config.image_size if hasattr(config, "image_size") else 0
    side = image if isinstance(image, int) else tuple(image)
    base: dict[str, Any] = {"batch": 2, "seq_len": 7, "num_choices": 3, "samples": 400}
    if hasattr(config, "image_size"):
        base["height"] = side if isinstance(side, int) else side[0]
        base["width"] = side if isinstance(side, int) else side[1]
    return {**base, **s.sizes}


def make_kwargs(model: Any, s: Scenario) -> dict[str, Any]:
    """The keyword arguments of the scenario's call, drawn from a seeded generator (the same for every path).

    Input recipes (``Level.inputs``): text ``attention_mask`` in ``ones / right / left / bool / float / 4d-bool /
    4d-float``, ``token_type_ids`` in ``zeros / ones``, ``position_ids`` in ``full / row / flat``, ``inputs_embeds``,
    ``encoder_hidden_states`` (a length), ``encoder_attention_mask`` in ``ones / right``, ``head_mask`` in
    ``heads / layers``, ``prefill`` (a number of cached tokens: a first call makes the cache, and the mask covers
    cached and new tokens), ``empty_cache`` (an empty DynamicCache, as generate() passes it); audio
    ``attention_mask`` in ``ones / right / bool``, ``mask_time_indices``,
    ``input_dtype``; vision ``bool_masked_pos`` in ``bool / long``, ``head_mask``.
    """
    gen = torch.Generator().manual_seed(1234)
    config = model.config
    sizes = _sizes(model, s)
    rec = s.inputs
    b = sizes["batch"]
    kwargs: dict[str, Any] = {}
    if s.modality == "text":
        kwargs = _text_inputs(model, s, sizes, rec, gen)
    elif s.modality == "audio":
        dtype = next(model.parameters()).dtype
        values = torch.randn(b, sizes["samples"], generator=gen)
        kwargs["input_values"] = values.to(rec.get("input_dtype", dtype))
        mask = rec.get("attention_mask")
        if mask is not None:
            m = torch.ones(b, sizes["samples"], dtype=torch.long)
            if mask == "right" and b > 0:
                m[0, sizes["samples"] * 2 // 3:] = 0
                kwargs["input_values"][0, sizes["samples"] * 2 // 3:] = 0.0
            kwargs["attention_mask"] = m.bool() if mask == "bool" else m
        if rec.get("mask_time_indices"):
            from data2vec_contracts import num_frames

            t = num_frames(config, sizes["samples"])
            kwargs["mask_time_indices"] = torch.rand(b, t, generator=gen) < 0.3
    else:
        h, w = sizes["height"], sizes["width"]
        pixels = torch.randn(b, config.num_channels, h, w, generator=gen)
        if not TRANSFORMERS_5:
            pixels = pixels.to(next(model.parameters()).dtype)
        kwargs["pixel_values"] = pixels
        masked = rec.get("bool_masked_pos")
        if masked is not None:
            p = config.patch_size
            ph, pw = (p, p) if isinstance(p, int) else tuple(p)
            n = (h // ph) * (w // pw)
            values = torch.rand(b, n, generator=gen) < 0.4
            kwargs["bool_masked_pos"] = values.long() if masked == "long" else values
    if "head_mask" in rec:
        heads, layers = config.num_attention_heads, config.num_hidden_layers
        kwargs["head_mask"] = torch.ones(heads) if rec["head_mask"] == "heads" else torch.ones(layers, heads)
        kwargs["head_mask"][..., 0] = 0.0
    if s.labels is not None:
        kwargs.update(_labels(model, s, kwargs, sizes, gen))
    for key, value in s.flags.items():
        kwargs[key] = value.clone() if isinstance(value, torch.Tensor) else value
    return kwargs


def _text_inputs(model: Any, s: Scenario, sizes: dict[str, int], rec: Mapping[str, Any],
                 gen: torch.Generator) -> dict[str, Any]:
    config = model.config
    b, n, c = sizes["batch"], sizes["seq_len"], sizes["num_choices"]
    mc = s.head == "ForMultipleChoice"
    shape = (b, c, n) if mc else (b, n)
    pad = config.pad_token_id if config.pad_token_id is not None else 0
    low = 2 if config.vocab_size > 2 else 0
    ids = torch.randint(low, config.vocab_size, shape, generator=gen)
    ids[ids == pad] = (pad + 1) % config.vocab_size if pad + 1 < config.vocab_size else low
    kwargs: dict[str, Any] = {}
    mask_kind = rec.get("attention_mask")
    prefill = int(rec.get("prefill", 0))
    if mask_kind is not None:
        mask = torch.ones(shape, dtype=torch.long)
        if mask_kind in ("right", "left") and b > 0 and n > 1:
            cut = max(1, n // 3)
            if mask_kind == "right":
                mask[0, ..., n - cut:] = 0
            else:
                mask[0, ..., :cut] = 0
            ids[mask == 0] = pad
        if mask_kind == "bool":
            kwargs["attention_mask"] = mask.bool()
        elif mask_kind == "float":
            kwargs["attention_mask"] = mask.float()
        elif mask_kind == "4d-bool":
            kwargs["attention_mask"] = torch.tril(torch.ones(n, prefill + n, dtype=torch.bool), diagonal=prefill
                                                  ).expand(b, 1, n, prefill + n).clone()
        elif mask_kind == "4d-float":
            allowed = torch.tril(torch.ones(n, prefill + n, dtype=torch.bool), diagonal=prefill)
            add = torch.zeros(n, prefill + n).masked_fill(~allowed, -math.inf)
            kwargs["attention_mask"] = add.expand(b, 1, n, prefill + n).clone()
        else:
            kwargs["attention_mask"] = mask
    if rec.get("inputs_embeds"):
        kwargs["inputs_embeds"] = torch.randn(*shape, config.hidden_size, generator=gen)
    else:
        kwargs["input_ids"] = ids
    tt = rec.get("token_type_ids")
    if tt is not None:
        kwargs["token_type_ids"] = torch.zeros(shape, dtype=torch.long) if tt == "zeros" else torch.ones(shape,
                                                                                                       dtype=torch.long)
    pos = rec.get("position_ids")
    if pos is not None:
        start = pad + 1 + prefill
        row = torch.arange(start, start + n)
        kwargs["position_ids"] = {"full": row.expand(*shape).clone(), "row": row[None].clone(), "flat": row}[pos]
    ne = rec.get("encoder_hidden_states")
    if ne:
        kwargs["encoder_hidden_states"] = torch.randn(b, ne, config.hidden_size, generator=gen)
        em = rec.get("encoder_attention_mask")
        if em is not None:
            m = torch.ones(b, ne, dtype=torch.long)
            if em == "right" and b > 0:
                m[0, ne // 2:] = 0
            kwargs["encoder_attention_mask"] = m
    if rec.get("empty_cache"):  # what generate() passes on its first step: an empty DynamicCache
        from transformers import DynamicCache

        kwargs[rec.get("cache_name", CACHE_FIELD)] = DynamicCache()
    if prefill:
        first = torch.randint(low, config.vocab_size, (b, prefill), generator=gen)
        first[first == pad] = low
        with torch.no_grad():
            out = model(input_ids=first, use_cache=True, return_dict=True)
        cache = getattr(out, CACHE_FIELD)
        name = rec.get("cache_name", CACHE_FIELD)
        kwargs[name] = cache
        if "attention_mask" in kwargs and kwargs["attention_mask"].ndim == 2:
            kwargs["attention_mask"] = torch.cat([torch.ones(b, prefill, dtype=kwargs["attention_mask"].dtype),
                                                  kwargs["attention_mask"]], dim=1)
        if rec.get("cache_position"):
            kwargs["cache_position"] = torch.arange(prefill, prefill + n)
    return kwargs


def _labels(model: Any, s: Scenario, kwargs: dict[str, Any], sizes: dict[str, int],
            gen: torch.Generator) -> dict[str, Any]:
    """Label recipes: ``default`` (tests/_models.tiny_labels), and the variants users produce (see scenarios)."""
    kind = s.labels
    config = model.config
    b = sizes["batch"]
    k = max(int(config.num_labels), 1)
    if kind == "default" and s.head == "ForSemanticSegmentation":  # label maps at the input size
        return {"labels": torch.randint(0, k, (b, sizes["height"], sizes["width"]), generator=gen)}
    if kind == "default":
        first = next(v for v in kwargs.values() if isinstance(v, torch.Tensor))
        if s.modality == "text" and "input_ids" not in kwargs:
            first = kwargs["inputs_embeds"][..., 0].long()
        return tiny_labels(model, {"x": first})
    n = sizes.get("seq_len", 0)
    if kind == "ignore":  # -100 where the attention mask is 0, or the last third of the first row
        if s.modality == "audio":
            labels = torch.randint(1, config.vocab_size, (b, 5), generator=gen)
            labels[0, 3:] = -100
            return {"labels": labels}
        top = config.vocab_size if s.head in ("ForCausalLM", "ForMaskedLM") else k
        labels = torch.randint(0, top, (b, n), generator=gen)
        labels[0, n - max(1, n // 3):] = -100
        return {"labels": labels}
    if kind == "b1":
        if s.head == "ForQuestionAnswering":
            return {"start_positions": torch.randint(0, n, (b, 1), generator=gen),
                    "end_positions": torch.randint(0, n, (b, 1), generator=gen)}
        return {"labels": torch.randint(0, k, (b, 1), generator=gen)}
    if kind == "int32":
        plain = Scenario(s.id, s.modality, s.head, (("forward.labels", Level("default", labels="default")),))
        found = _labels(model, plain, kwargs, sizes, gen)
        return {key: v.to(torch.int32) for key, v in found.items()}
    if kind == "float-multilabel":
        return {"labels": torch.randint(0, 2, (b, k), generator=gen).float()}
    if kind == "regression":
        return {"labels": torch.randn(b, generator=gen)}
    if kind == "regression-b1":
        return {"labels": torch.randn(b, 1, generator=gen)}
    if kind == "start-only":
        return {"start_positions": torch.randint(0, n, (b,), generator=gen)}
    if kind == "end-only":
        return {"end_positions": torch.randint(0, n, (b,), generator=gen)}
    if kind == "out-of-vocab":
        return {"labels": torch.full((b, 3), config.vocab_size + 5)}
    if kind == "map-other-size":
        return {"labels": torch.randint(0, k, (b, 20, 24), generator=gen)}
    if kind == "frame-ids":  # (B, T) class ids: argmax over a view(-1, K) needs K columns, so (B, T) is invalid
        from data2vec_contracts import num_frames

        t = num_frames(config, sizes["samples"])
        return {"labels": torch.randint(0, k, (b, t), generator=gen)}
    raise ValueError(f"unknown label recipe {kind!r}")


@dataclass
class Outcome:
    """What one call did: its output, or the exception it raised."""

    output: Any = None
    error: BaseException | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def ours(self) -> bool:
        return isinstance(self.error, ShapeContractError)

    @property
    def headline(self) -> str:
        if self.error is None:
            return "ok"
        text = str(self.error).strip().splitlines()
        return f"{type(self.error).__name__}: {text[0] if text else ''}"[:240]


@contextlib.contextmanager
def seeded(seed: int = 7) -> Iterator[None]:
    """numpy's and torch's random state seeded for the block, restored after it."""
    state = numpy.random.get_state()
    try:
        numpy.random.seed(seed)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            yield
    finally:
        numpy.random.set_state(state)


def call(model: Any, s: Scenario, mode: str) -> Outcome:
    """Make the scenario's call on ``model`` in ``mode``: ``plain``, ``checked`` (``checked(model)`` for this call)
    or ``enforce`` (inside ``with enforce():``, which also checks the inner models of heads). The inputs and every
    random draw are seeded, so the three modes see the same call."""
    if mode == "checked":
        checked(model)
    context = enforce() if mode == "enforce" else contextlib.nullcontext()
    try:
        with context, seeded(7):
            kwargs = make_kwargs(model, s)
            return Outcome(output=model(**kwargs), kwargs=kwargs)
    except Exception as error:
        return Outcome(error=error)
    finally:
        if mode == "checked":
            unchecked(model)


# -- comparing ----------------------------------------------------------------------------------------------------
def compare(a: Any, b: Any, where: str = "output") -> str | None:
    """The first difference between two forward outputs (``None``: identical, NaNs equal)."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)):
            return f"{where}: {type(a).__name__} vs {type(b).__name__}"
        if a.shape != b.shape or a.dtype != b.dtype:
            return f"{where}: {tuple(a.shape)} {a.dtype} vs {tuple(b.shape)} {b.dtype}"
        if not torch.equal(torch.nan_to_num(a.detach(), nan=0.0), torch.nan_to_num(b.detach(), nan=0.0)) or not \
                torch.equal(a.detach().isnan(), b.detach().isnan()):
            return f"{where}: values differ"
        return None
    if hasattr(a, "layers") and hasattr(b, "layers"):  # a cache
        if len(a.layers) != len(b.layers):
            return f"{where}: {len(a.layers)} vs {len(b.layers)} cache layers"
        for i, (x, y) in enumerate(zip(a.layers, b.layers)):
            for part in ("keys", "values"):
                diff = compare(getattr(x, part, None), getattr(y, part, None), f"{where}.layers[{i}].{part}")
                if diff:
                    return diff
        return None
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        if list(a.keys()) != list(b.keys()):
            return f"{where}: keys {list(a.keys())} vs {list(b.keys())}"
        for key in a:
            diff = compare(a[key], b[key], f"{where}.{key}")
            if diff:
                return diff
        return None
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        if type(a) is not type(b) or len(a) != len(b):
            return f"{where}: {type(a).__name__}[{len(a)}] vs {type(b).__name__}[{len(b)}]"
        for i, (x, y) in enumerate(zip(a, b)):
            diff = compare(x, y, f"{where}[{i}]")
            if diff:
                return diff
        return None
    if a is None and b is None:
        return None
    if type(a) is not type(b):
        return f"{where}: {type(a).__name__} vs {type(b).__name__}"
    return None


# -- expected_shapes ----------------------------------------------------------------------------------------------
def expressible(s: Scenario) -> str | None:
    """Why ``expected_shapes`` cannot express the call (``None``: it can). It takes the sizes, the output flags,
    ``logits_to_keep``, ``use_cache``, ``return_dict``, which label arguments are given, an encoder length, a past
    length and training mode; masks, positions, token types, head masks and the input dtype change no output shape.
    What it cannot see is a value that decides validity: a padded batch longer than the position table is valid when
    every row's own tokens fit (its padding decides), and expected_shapes answers for unpadded input."""
    config = tiny_config(s.modality, **s.config)
    if s.modality == "text" and "position_ids" not in s.inputs and not s.inputs.get("inputs_embeds"):
        relative = getattr(config, "position_embedding_type", "absolute") != "absolute" and not TRANSFORMERS_5
        limit = config.max_position_embeddings - (config.pad_token_id or 0) - 1
        if not relative and s.sizes.get("seq_len", 7) + int(s.inputs.get("prefill", 0)) > limit:
            return "a padded batch longer than the position table (its padding makes it valid)"
    if s.modality == "audio" and s.train and config.add_adapter and config.layerdrop > 0:
        return "frames after the adapter under layerdrop in training (its layers drop at random: a tensor length)"
    return None


def _label_argument(s: Scenario) -> bool | str:
    """The label arguments of the call, as expected_shapes takes them."""
    if s.labels is None:
        return False
    return {"start-only": "start_positions", "end-only": "end_positions"}.get(s.labels, True)


def expected_args(s: Scenario, model: Any, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of ``expected_shapes(model, ...)`` that describe the scenario's call."""
    sizes = _sizes(model, s)
    first = kwargs.get("input_ids", kwargs.get("inputs_embeds", kwargs.get("input_values", kwargs.get("pixel_values"))))
    assert first is not None
    shape = tuple(first.shape)
    args: dict[str, Any] = {"batch": shape[0]}
    if s.modality == "text":
        args["seq_len"] = shape[2] if s.head == "ForMultipleChoice" else shape[1]
        if s.head == "ForMultipleChoice":
            args["num_choices"] = shape[1]
        if kwargs.get("encoder_hidden_states") is not None:
            args["encoder_seq_len"] = int(kwargs["encoder_hidden_states"].shape[1])
        if s.inputs.get("prefill") or s.inputs.get("empty_cache"):
            args["past_len"] = int(s.inputs.get("prefill", 0))
    elif s.modality == "audio":
        args["samples"] = shape[1]
    else:
        args["height"], args["width"] = sizes["height"], sizes["width"]
    for flag in ("output_hidden_states", "output_attentions", "use_cache", "logits_to_keep", "return_dict"):
        if flag in s.flags:
            args[flag] = s.flags[flag]
    args["labels"] = _label_argument(s)
    args["training"] = s.train
    return args


def _real_shapes(output: Any) -> list[tuple[str, Any]]:
    """The shapes of a forward output, field by field (a ``return_dict=False`` tuple item by item)."""
    if isinstance(output, tuple):
        return [(str(i), _shape(v)) for i, v in enumerate(output)]
    return list(output_shapes(output).items())


def _shape(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return tuple(value.shape)
    if isinstance(value, (tuple, list)):
        return tuple(None if v is None else tuple(v.shape) for v in value)
    return None


def _field_matches(want: Any, real: Any) -> bool:
    """An answer equals the real shape; a field whose length varies per call (``ExpectedField.length``: layerdrop in
    training) matches when the real length is in the range and every item has an answered shape, or is None where
    the answer says a skipped layer leaves one."""
    if want.length is None:
        return bool(want.shape == real)
    least, most = want.length
    if not isinstance(real, tuple) or not least <= len(real) <= most:
        return False
    shapes = {item for item in want.shape if item is not None}
    return all(item in shapes or (item is None and "None" in want.why) for item in real)


def expected_vs_real(s: Scenario, model: Any, output: Any, kwargs: Mapping[str, Any]) -> str | None:
    """``None`` when ``expected_shapes`` equals the real output shapes, else the difference (or its error)."""
    args = expected_args(s, model, kwargs)
    try:
        found = expected_shapes(model, **args)
    except Exception as error:
        return f"expected_shapes raised {type(error).__name__}: {str(error).splitlines()[0][:160]}"
    real = _real_shapes(output)
    if isinstance(output, tuple):
        want = [(str(i), field) for i, field in enumerate(found.values())]
    else:
        want = list(found.items())
    if [k for k, _ in want] != [k for k, _ in real]:
        return f"fields: expected {list(found)} real {[k for k, _ in real]}"[:400]
    diff = [f"{k}: expected {w.shape}{'' if w.length is None else f' (length {w.length})'} real {r}"
            for (k, w), (_, r) in zip(want, real) if not _field_matches(w, r)]
    return "; ".join(diff)[:400] or None


# -- one scenario -------------------------------------------------------------------------------------------------
@dataclass
class Result:
    """The three calls of a scenario and what they say about our checker."""

    scenario: Scenario
    plain: Outcome
    checked: Outcome
    enforced: Outcome
    expected: str | None = None  # the expected_shapes difference
    not_expressible: str | None = None
    unbuildable: bool = False

    @property
    def valid(self) -> bool:
        return self.plain.ok

    @property
    def false_violations(self) -> list[str]:
        if not self.valid:
            return []
        found = []
        for name, out in (("checked", self.checked), ("enforce", self.enforced)):
            if not out.ok:
                found.append(f"{name}: {out.headline}")
            else:
                diff = compare(self.plain.output, out.output)
                if diff:
                    found.append(f"{name} changed the output: {diff}")
        return found

    @property
    def not_first(self) -> list[str]:
        if self.valid or self.unbuildable:
            return []
        return [f"{name}: {out.headline} (plain: {self.plain.headline})"
                for name, out in (("checked", self.checked), ("enforce", self.enforced)) if not out.ours]

    @property
    def problems(self) -> list[str]:
        found = [*self.false_violations, *self.not_first]
        if self.expected:
            found.append(f"expected_shapes: {self.expected}")
        return found


def run(s: Scenario) -> Result:
    """Run a scenario in the three modes on one model (built once, seeded) and compare."""
    try:
        model = build(s)
    except Exception as error:
        bad = Outcome(error=error)
        return Result(s, bad, bad, bad, unbuildable=True)
    plain = call(model, s, "plain")
    result = Result(s, plain, call(model, s, "checked"), call(model, s, "enforce"))
    if plain.ok:
        result.not_expressible = expressible(s)
        if result.not_expressible is None:
            result.expected = expected_vs_real(s, model, plain.output, plain.kwargs)
    return result
