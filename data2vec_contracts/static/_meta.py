"""``check``: run a Data2Vec class or a pipeline on the ``meta`` device with every contract checked.

No weights are allocated and nothing is computed: meta tensors carry shapes and dtypes only. Paths
that read tensor values (attention masks: Data2Vec turns them into lengths with ``.item()``) run
under ``FakeTensorMode``, where those values become symbolic; when even that cannot go on (the audio
XVector pools each row over its own length), the same class runs at a tiny width on CPU for that
path, and the result says so.
"""

from __future__ import annotations

import contextlib
import copy
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import torch

from ..checker import ShapeContractError, TensorSpec, TupleSpec
from ..instrument import CheckEvent, add_observer, checked, enforce, remove_observer
from ._report import CheckResult, Field
from ._targets import SIZE_ALIASES, Subject, describe_spec, resolve_subject

__all__ = ["check", "is_data_dependent", "tiny_config"]

_FLAG_NAMES = ("output_hidden_states", "output_attentions")


def tiny_config(config: Any) -> Any:
    """The same config at a tiny width: every field that decides a length or a count is kept."""
    tiny = copy.deepcopy(config)
    tiny.hidden_size = 32
    tiny.num_attention_heads = 4
    tiny.intermediate_size = 37
    if hasattr(tiny, "conv_dim"):
        tiny.conv_dim = tuple(16 for _ in tiny.conv_dim)
        tiny.tdnn_dim = tuple(16 for _ in tiny.tdnn_dim)
        tiny.num_conv_pos_embedding_groups = 2
        tiny.classifier_proj_size = 8
        tiny.output_hidden_size = 32 if config.output_hidden_size == config.hidden_size else 48
    return tiny


def _dtype(value: Any) -> str:
    return str(value.dtype).replace("torch.", "")


def _row(role: str, name: str, value: Any, symbolic: tuple[str, ...] | None, mode: str) -> Field:
    if isinstance(value, torch.Tensor):
        return Field(role, name, symbolic, tuple(int(s) for s in value.shape), _dtype(value), mode=mode)
    if isinstance(value, (tuple, list)):
        first = next((v for v in value if isinstance(v, torch.Tensor)), None)
        if first is None:
            return Field(role, name, symbolic, None, "-", count=len(value), mode=mode)
        return Field(
            role, name, symbolic, tuple(int(s) for s in first.shape), _dtype(first), count=len(value), mode=mode
        )
    return Field(role, name, symbolic, None, type(value).__name__, mode=mode)


def _output_rows(subject: Subject, out: Any, model: Any, mode: str) -> list[Field]:
    rows: list[Field] = []
    if subject.kind == "model":
        specs = subject.output_specs(model)
        for name, value in out.items():
            expect = specs.get(name)
            rows.append(_row("output", name, value, describe_spec(getattr(expect, "spec", None)), mode))
        return rows
    spec = subject.output_specs(model).get("return value")
    if isinstance(out, torch.Tensor):
        return [_row("output", "return value", out, describe_spec(spec), mode)]
    if isinstance(out, tuple) and isinstance(spec, TupleSpec):
        return [
            _row("output", f"return value[{i}]", v, describe_spec(s), mode)
            for i, (v, s) in enumerate(zip(out, spec.items, strict=False))
        ]
    if isinstance(out, Mapping):
        return [_row("output", f"return value.{k}", v, None, mode) for k, v in out.items()]
    return [_row("output", "return value", out, None, mode)]


def is_data_dependent(exc: Exception) -> bool:
    from torch._subclasses.fake_tensor import DataDependentOutputException, DynamicOutputShapeException
    from torch.fx.experimental.symbolic_shapes import GuardOnDataDependentSymNode

    if isinstance(exc, (GuardOnDataDependentSymNode, DataDependentOutputException, DynamicOutputShapeException)):
        return True
    text = str(exc)
    return "data-dependent" in text or "item()" in text or "meta tensors" in text


def _fake_mode() -> Any:
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.fx.experimental.symbolic_shapes import ShapeEnv

    return FakeTensorMode(shape_env=ShapeEnv(allow_scalar_outputs=True), allow_non_fake_inputs=True)


def _run(
    subject: Subject,
    model: Any,
    sizes: Mapping[str, int],
    device: str,
    forward_flags: Mapping[str, Any],
    fake: bool,
    drop: tuple[str, ...] = (),
) -> tuple[dict[str, Any], Any]:
    """Make the inputs and run once (in fake mode when asked); returns (inputs, output)."""

    def go() -> tuple[dict[str, Any], Any]:
        inputs = {k: v for k, v in subject.inputs(sizes, device, model).items() if k not in drop}
        if subject.kind == "model":
            return inputs, model(**inputs, **forward_flags)
        assert subject.fn is not None
        with enforce(), torch.device(device):
            return inputs, subject.fn(**subject.arguments(model), **inputs)

    quiet = _no_padding_warning() if device == "meta" else contextlib.nullcontext()
    with quiet:
        if not fake:
            return go()
        with _fake_mode():
            return go()


def _build(subject: Subject, config: Any, device: str) -> Any:
    if not subject.takes_model():
        return None
    with torch.device(device):
        model = subject.build_model(config)
    return checked(model) if subject.kind == "model" else model


@contextlib.contextmanager
def _no_padding_warning() -> Iterator[None]:
    """transformers 4.x text without a mask looks for padding in input_ids to warn (a value read that
    meta tensors cannot do); the warning changes no shape, so it is off while a meta run lasts."""
    from transformers import PreTrainedModel

    name = "warn_if_padding_and_no_attention_mask"
    original = PreTrainedModel.__dict__.get(name)
    if original is None:
        yield
        return
    setattr(PreTrainedModel, name, _silent)
    try:
        yield
    finally:
        setattr(PreTrainedModel, name, original)


def _silent(*args: Any, **kwargs: Any) -> None:
    return None


def check(
    target: Any,
    config: Any = None,
    *,
    mask: bool = False,
    output_hidden_states: bool | None = None,
    output_attentions: bool | None = None,
    args: Mapping[str, Any] | None = None,
    **sizes: int,
) -> CheckResult:
    """Run ``target`` on the meta device for the given sizes with every contract checked.

    ``target`` is a Data2Vec class (or its name, or a preset spec such as ``"audio-base:ForCTC"``) or
    a ``@contract`` pipeline function (or ``"module:function"``) that receives a ``model`` or a
    ``config`` argument. ``config`` is a preset (``"text-large"``), a ``config.json`` path, a saved
    model folder or a config object. ``sizes`` are dimension names (``B=2, N=128``) or the
    ``expected_shapes`` words (``batch=2, samples=16000``); missing ones take defaults. ``mask=True``
    also passes an attention mask. ``args`` gives further pipeline arguments.

    Raises :class:`~data2vec_contracts.ShapeContractError` on a violation; returns a
    :class:`CheckResult` with every field, its symbolic and concrete shape and dtype otherwise.
    """
    __tracebackhide__ = True
    named = {SIZE_ALIASES.get(k, k): v for k, v in sizes.items()}
    flags: dict[str, Any] = {"mask": True} if mask else {}
    forward_flags = {
        k: v for k, v in zip(_FLAG_NAMES, (output_hidden_states, output_attentions), strict=False) if v is not None
    }
    flags.update(forward_flags)
    subject = resolve_subject(target, config, args=args, flags=flags)
    missing = subject.unsupplied()
    if missing:
        raise ValueError(
            f"check() cannot supply argument(s) {', '.join(missing)} of {subject.name}: pass them with args={{...}}"
        )
    dims = subject.sizes(named)
    events: list[CheckEvent] = []
    add_observer(events.append)
    notes: list[str] = []
    try:
        model = _build(subject, subject.config, "meta")
        data = subject.needs_data()
        if not data:
            inputs, out = _run(subject, model, dims, "meta", forward_flags, fake=False)
            mode = "meta device"
        else:
            try:
                inputs, out = _run(subject, model, dims, "meta", forward_flags, fake=True)
                mode = f"meta device under FakeTensorMode ({', '.join(data)} values symbolic)"
            except ShapeContractError:
                raise
            except Exception as exc:
                if not is_data_dependent(exc):
                    raise
                events.clear()  # the checks of the attempt that stopped count for nothing
                inputs, out, mode, extra, model = _tiny_fallback(subject, model, dims, forward_flags, data, exc, events)
                notes += extra
    finally:
        remove_observer(events.append)
    scope = subject.scope(dims, model)
    dimensions = {k: (int(v), scope.source_text(k)) for k, v in scope.values.items() if isinstance(v, int)}
    for event in events:
        for k, v in event.dims.items():
            if isinstance(v, int) and k not in dimensions:
                dimensions[k] = (v, f"bound by {event.contract}")
    rows = [
        _row("input", n, v, describe_spec(spec), "meta")
        for n, v in inputs.items()
        for name, spec in subject.tensor_inputs()
        if name == n and isinstance(spec, TensorSpec)
    ]
    rows += _output_rows(subject, out, model, "meta")
    params = list(model.parameters()) if model is not None else []
    tensors = [*model.named_parameters(), *model.named_buffers()] if model is not None else []
    off = [(n, t) for n, t in tensors if not t.is_meta]
    return CheckResult(
        target=subject.name,
        kind=subject.kind,
        model_class=subject.cls.__name__,
        config_source=subject.config_source,
        sizes=dims,
        mode=mode,
        fields=tuple(rows),
        dimensions=dimensions,
        checked=tuple(e.contract for e in events),
        parameters=sum(p.numel() for p in params),
        off_meta=tuple(n for n, _ in off),
        off_meta_bytes=sum(t.numel() * t.element_size() for _, t in off),
        notes=tuple(notes),
    )


def _tiny_fallback(
    subject: Subject,
    model: Any,
    dims: Mapping[str, int],
    forward_flags: Mapping[str, Any],
    data: list[str],
    exc: Exception,
    events: list[CheckEvent],
) -> tuple[Any, Any, str, list[str], Any]:
    """The data path at a tiny width on CPU; for a model class also the full size on meta without it.

    Returns (inputs, output, mode, notes, the model whose shapes the result shows).
    """
    drop = tuple(data)
    reason = re.split(r"\s+\(|\.\s", str(exc).strip().splitlines()[0])[0][:160]
    tiny = tiny_config(subject.config)
    tiny_model = _build(subject, tiny, "cpu")
    kept = f"hidden_size={tiny.hidden_size} (every length-deciding config field kept)"
    if subject.kind == "pipeline":
        inputs, out = _run(subject, tiny_model, dims, "cpu", forward_flags, fake=False)
        note = (
            f"the {', '.join(drop)} path reads tensor values ({reason}); the pipeline ran for real on CPU with the "
            f"same sizes at {kept}, so the shapes above are at that width"
        )
        return inputs, out, "CPU at a tiny width (the pipeline reads mask values)", [note], tiny_model
    before = len(events)
    _, tiny_out = _run(subject, tiny_model, dims, "cpu", forward_flags, fake=False)
    tiny_checked = ", ".join(dict.fromkeys(e.contract for e in events[before:]))
    inputs, out = _run(subject, model, dims, "meta", forward_flags, fake=False, drop=drop)
    note = (
        f"the {', '.join(drop)} path reads tensor values ({reason}); it ran for real on CPU with the same "
        f"sizes at {kept}, contracts checked: {tiny_checked or 'none'}; shapes there: {_shape_text(tiny_out)}"
    )
    return inputs, out, f"meta device without {', '.join(drop)}, plus a tiny-width CPU run with it", [note], model


def _shape_text(out: Any) -> str:
    if isinstance(out, torch.Tensor):
        return str(tuple(out.shape))
    if isinstance(out, Mapping):
        return ", ".join(f"{k} {tuple(v.shape)}" for k, v in out.items() if isinstance(v, torch.Tensor))
    return type(out).__name__


Callback = Callable[[str], None]
