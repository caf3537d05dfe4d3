"""``expected_shapes``: what every output field of a Data2Vec model will be, without running it."""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import torch

from ..checker import Scope
from ._lengths import image_sides
from ._plan import ModelContract, OutKind, shape_of, symbols_of
from ._registry import CONTRACTS, contract_for

__all__ = ["ExpectedField", "expected_shapes"]

Shape = tuple[int, ...]
FieldShape = Shape | tuple[Shape | None, ...] | None


class ExpectedField(NamedTuple):
    """The concrete shape of one output field and its symbolic form.

    A tensor field has ``shape=(2, 7, 768)`` and ``symbolic=("B", "N", "D")``; a tuple field such as
    ``hidden_states`` has a tuple of those (``None`` for slots that hold None); a cache has both None.
    """

    shape: FieldShape
    symbolic: Any


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
    labels: bool = False,
    add_pooling_layer: bool | None = None,
) -> dict[str, ExpectedField]:
    """The shape of every output field a forward call returns, in the order of the output class.

    Give a model, or a config plus ``head`` (``"ForCTC"`` or ``"Data2VecAudioForCTC"``; default
    ``"Model"``). Sizes: text ``seq_len`` (and ``num_choices`` for ForMultipleChoice), audio
    ``samples``, vision ``height``/``width`` (default ``config.image_size``). The flags mean what they
    mean to ``forward`` (``None``: the config's value). Fields that would be None are left out, so
    the keys equal ``output.keys()`` of the real call.
    """
    contract, config, model = _resolve(model_or_config, head)
    args: dict[str, Any] = {"output_hidden_states": output_hidden_states, "output_attentions": output_attentions}
    if labels:
        args["labels"] = args["start_positions"] = args["end_positions"] = True
    training = bool(model.training) if model is not None else False
    view = contract.view(config, args, training, model)
    if add_pooling_layer is not None:
        view = dataclasses.replace(view, pooled=add_pooling_layer)
    plan = contract.compile(view)
    scope: Scope = plan.new_scope()
    sizes = _sizes(contract, config, batch, seq_len, num_choices, samples, height, width)
    for name, value in sizes.items():
        scope.bind(name, value, f"expected_shapes({_ARG[name]}={value})")
    scope.check_constraints(plan.constraints)
    result: dict[str, ExpectedField] = {}
    for name, out in plan.outputs:
        if out.kind is OutKind.NONE:
            continue
        if out.kind is OutKind.TENSOR:
            assert out.spec is not None
            result[name] = ExpectedField(shape_of(out.spec, scope), symbols_of(out.spec))
        elif out.kind is OutKind.EMPTY:
            result[name] = ExpectedField((), ())
        elif out.kind is OutKind.OBJECT:
            result[name] = ExpectedField(None, None)
        else:
            n = out.length if out.length >= 0 else out.max_length
            one = shape_of(out.spec, scope) if out.spec is not None else None
            sym = symbols_of(out.spec) if out.spec is not None else None
            keep = [out.present is None or i in out.present for i in range(n)]
            result[name] = ExpectedField(
                tuple(one if k else None for k in keep), tuple(sym if k else None for k in keep)
            )
    order = {f: i for i, f in enumerate(contract.fields)}
    return dict(sorted(result.items(), key=lambda kv: order[kv[0]]))


_ARG = {"B": "batch", "N": "seq_len", "C": "num_choices", "S": "samples", "H": "height", "W": "width"}


def _positive(name: str, value: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"expected_shapes(): {name} must be a positive int, got {value!r}")
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
