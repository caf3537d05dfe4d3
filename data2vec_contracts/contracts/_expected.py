"""``expected_shapes``: what every output field of a Data2Vec model will be, without running it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any, NamedTuple

import torch

from ..checker import Scope
from ._lengths import image_sides
from ._plan import ModelContract, OutKind, shape_of, symbols_of
from ._registry import CONTRACTS, contract_for

__all__ = ["ExpectedField", "expected_shapes"]

Shape = tuple[int, ...]
FieldShape = Shape | tuple[Shape | None, ...] | None


class _Field(NamedTuple):
    shape: FieldShape
    symbolic: Any


class ExpectedField(_Field):
    """The concrete shape of one output field and its symbolic form: a pair, ``shape, symbolic = field``.

    A tensor field has ``shape=(2, 7, 768)`` and ``symbolic=("B", "N", "D")``; a tuple field such as
    ``hidden_states`` has a tuple of those (``None`` for slots that hold None); a cache has both None. A tuple whose
    length varies from call to call (layerdrop in training mode) has ``length=(least, most)``, its ``shape`` listing
    the most items, and ``why`` says so (also for a tuple of fixed length whose items may be None: transformers 4.x
    keeps a None slot for a layer layerdrop skipped); for every other field ``length`` is None.
    """

    length: tuple[int, int] | None
    why: str

    def __new__(
        cls, shape: FieldShape, symbolic: Any, length: tuple[int, int] | None = None, why: str = ""
    ) -> ExpectedField:
        field = super().__new__(cls, shape, symbolic)
        field.length = length
        field.why = why
        return field

    def __repr__(self) -> str:
        extra = f", length={self.length!r}, why={self.why!r}" if self.length is not None else ""
        return f"ExpectedField(shape={self.shape!r}, symbolic={self.symbolic!r}{extra})"


_MODALITY = {"Data2VecTextConfig": "Text", "Data2VecAudioConfig": "Audio", "Data2VecVisionConfig": "Vision"}


def _resolve(model_or_config: Any, head: str | None) -> tuple[ModelContract, Any, Any]:
    if isinstance(model_or_config, torch.nn.Module):
        found = contract_for(type(model_or_config))
        if found is None:
            raise TypeError(f"expected_shapes() takes a Data2Vec model or config, got {type(model_or_config).__name__}")
        return found, model_or_config.config, model_or_config
    config = model_or_config
    modality = _MODALITY.get(type(config).__name__)
    if modality is None:
        raise TypeError(
            "expected_shapes() takes a Data2Vec model or a Data2VecTextConfig / Data2VecAudioConfig / "
            f"Data2VecVisionConfig, got {type(config).__name__}"
        )
    name = head or "Model"
    full = name if name.startswith("Data2Vec") else f"Data2Vec{modality}{name}"
    if full not in CONTRACTS:
        heads = [n.removeprefix(f"Data2Vec{modality}") for n in CONTRACTS if n.startswith(f"Data2Vec{modality}")]
        raise ValueError(f"unknown head {name!r} for a {type(config).__name__}; choose one of {', '.join(heads)}")
    return CONTRACTS[full], config, None


def expected_shapes(
    model_or_config: Any,
    head: str | None = None,
    *,
    batch: int,
    seq_len: int | None = None,
    num_choices: int | None = None,
    samples: int | None = None,
    height: int | None = None,
    width: int | None = None,
    output_hidden_states: bool | int | list[int] | None = None,
    output_attentions: bool | None = None,
    labels: bool | str | Iterable[str] = False,
    add_pooling_layer: bool | None = None,
    logits_to_keep: int | torch.Tensor | None = None,
    encoder_seq_len: int | None = None,
    use_cache: bool | None = None,
    past_len: int | None = None,
    return_dict: bool | None = None,
    training: bool | None = None,
) -> dict[str, ExpectedField]:
    """The shape of every output field a forward call returns, in the order of the output class.

    Give a model, or a config plus ``head`` (``"ForCTC"`` or ``"Data2VecAudioForCTC"``; default ``"Model"``).
    Sizes: text ``seq_len`` (and ``num_choices`` for ForMultipleChoice), audio ``samples``, vision
    ``height``/``width`` (default ``config.image_size``). The flags mean what they mean to ``forward`` (``None``: the
    config's value): ``labels=True`` gives every label argument of the head, or name them (``"start_positions"``);
    ``logits_to_keep`` (ForCausalLM: an int, or the index or boolean tensor you pass); ``encoder_seq_len`` passes
    ``encoder_hidden_states`` of that length (cross-attention); ``past_len`` passes a cache already holding that many
    tokens; ``return_dict=False`` (or None with ``config.return_dict=False``) answers
    for the tuple, in its order; ``training`` (default: the model's mode) answers for training mode, where layerdrop
    makes some lengths vary (``ExpectedField.length``). Fields that would be None are left out, so the keys equal
    ``output.keys()`` of the real call (or the tuple's items).
    """
    contract, config, model = _resolve(model_or_config, head)
    args: dict[str, Any] = {
        "output_hidden_states": output_hidden_states,
        "output_attentions": output_attentions,
        "use_cache": use_cache,
        "return_dict": return_dict,
    }
    if contract.modality == "text":
        args["input_ids"] = True  # the call expected_shapes describes: positions continue after a cache's tokens
    for name in _label_names(contract, labels):
        args[name] = True
    if logits_to_keep is not None:
        kept = logits_to_keep
        args["logits_to_keep"] = kept if isinstance(kept, torch.Tensor) else _natural("logits_to_keep", kept)
    if encoder_seq_len is not None:
        args["encoder_hidden_states"] = True
    if past_len is not None:
        args[contract.cache_argument or "past_key_values"] = True
    mode = training if training is not None else bool(model.training) if model is not None else False
    view = contract.view(config, args, mode, model)
    if add_pooling_layer is not None:
        view = dataclasses.replace(view, pooled=add_pooling_layer)
    plan = contract.compile(view)
    scope: Scope = plan.new_scope()
    sizes = _sizes(contract, config, batch, seq_len, num_choices, samples, height, width)
    if encoder_seq_len is not None:
        sizes["Ne"] = _positive("encoder_seq_len", encoder_seq_len)
    if past_len is not None:
        sizes["P"] = _natural("past_len", past_len)
    for name, value in sizes.items():
        scope.bind(name, value, f"expected_shapes({_ARG[name]}={value})")
    for call_dim in contract.call_dims:  # sizes read from non-tensor arguments (the positions logits_to_keep keeps)
        size = call_dim.size(args)
        if size is not None and call_dim.name not in scope.values:
            scope.bind(call_dim.name, size, call_dim.source)
    scope.check_constraints(plan.constraints)
    for call_check in plan.call_checks:  # configs and calls transformers cannot run (values are not known here)
        if not call_check.reads_values:
            call_check.apply(scope, {})
    as_tuple = return_dict is False or (return_dict is None and getattr(config, "return_dict", True) is False)
    fields = plan.tuple_fields if as_tuple else tuple(name for name, _ in plan.outputs)
    outputs = dict(plan.outputs)
    result: dict[str, ExpectedField] = {}
    for name in fields:
        out = outputs[name]
        if out.kind is OutKind.NONE:
            if as_tuple:  # a slot the tuple keeps for a None (transformers 4.x: the pooler)
                result[name] = ExpectedField(None, None)
            continue
        if out.kind is OutKind.TENSOR:
            assert out.spec is not None
            try:
                shape = shape_of(out.spec, scope)
            except ValueError as error:
                raise ValueError(f"expected_shapes(): {error} ({out.why})" if out.why else str(error)) from None
            result[name] = ExpectedField(shape, symbols_of(out.spec))
        elif out.kind is OutKind.EMPTY:
            result[name] = ExpectedField((), ())
        elif out.kind is OutKind.OBJECT:
            result[name] = ExpectedField(None, None)
        else:
            n = out.length if out.length >= 0 else out.max_length
            specs = out.items if out.items is not None else (out.spec,) * n
            keep = [out.present is None or i in out.present for i in range(n)]
            # a length that varies per call, or (4.x layerdrop) slots that may hold None: answered as a range
            length = (out.min_length, out.max_length) if out.length < 0 else (n, n) if out.optional else None
            result[name] = ExpectedField(
                tuple(shape_of(sp, scope) if k and sp is not None else None for k, sp in zip(keep, specs)),
                tuple(symbols_of(sp) if k and sp is not None else None for k, sp in zip(keep, specs)), length,
                out.why if length is not None else "",
            )
    return result


def _label_names(contract: ModelContract, labels: bool | str | Iterable[str]) -> list[str]:
    if labels is False:
        return []
    if labels is True:
        return list(contract.label_arguments)
    names = [labels] if isinstance(labels, str) else list(labels)
    unknown = [n for n in names if n not in contract.label_arguments]
    if unknown:
        raise ValueError(
            f"expected_shapes(): {contract.class_name} takes no label argument {unknown[0]!r}; its label arguments "
            f"are {', '.join(contract.label_arguments) or 'none'}"
        )
    return names


_ARG = {
    "B": "batch", "N": "seq_len", "C": "num_choices", "S": "samples", "H": "height", "W": "width",
    "Ne": "encoder_seq_len", "P": "past_len",
}


def _positive(name: str, value: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"expected_shapes(): {name} must be a positive int, got {value!r}")
    return value


def _natural(name: str, value: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"expected_shapes(): {name} must be an int >= 0, got {value!r}")
    return value


def _sizes(contract: ModelContract, config: Any, batch: int, seq_len: int | None, num_choices: int | None,
           samples: int | None, height: int | None, width: int | None) -> dict[str, int]:
    sizes = {"B": _positive("batch", batch)}
    if contract.modality == "text":
        sizes["N"] = _positive("seq_len", seq_len)
        if contract.class_name.endswith("ForMultipleChoice"):
            sizes["C"] = _positive("num_choices", num_choices)
    elif contract.modality == "audio":
        sizes["S"] = _positive("samples", samples)
    else:
        image_h, image_w = image_sides(config)
        sizes["H"] = _positive("height", height if height is not None else image_h)
        sizes["W"] = _positive("width", width if width is not None else image_w)
    return sizes
