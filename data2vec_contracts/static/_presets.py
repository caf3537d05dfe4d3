"""Full-size configs by name (``audio-large``), local config files and model folders, and class selection.

Sources, nothing is downloaded:

* ``*-base`` are the transformers Config defaults (``Data2VecTextConfig()`` and so on), which is what
  the Data2Vec base checkpoints were converted with apart from tokenizer-specific fields (see the
  shapes reference, §5).
* ``*-large`` change the transformer to hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
  intermediate_size=4096 (the data2vec large models of Baevski et al. 2022, "data2vec: A General
  Framework for Self-supervised Learning", Table 5 and the fairseq ``large`` configs).
* ``audio-large`` keeps the conv feature encoder of the base model: 7 layers of 512 channels with kernels
  (10, 3, 3, 3, 3, 2, 2) and strides (5, 2, 2, 2, 2, 2, 2), 5 positional conv layers; it sets
  ``conv_bias=True``, as in the ``facebook/data2vec-audio-large`` config.json (recalled, not downloaded;
  the conv bias changes no shape). So T = (S - 400)//320 + 1 for both sizes.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "PRESETS",
    "Preset",
    "Target",
    "config_class",
    "head_names",
    "load_config",
    "resolve_class",
    "resolve_target",
]

_LARGE = {"hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16, "intermediate_size": 4096}
_CONFIGS = {"text": "Data2VecTextConfig", "audio": "Data2VecAudioConfig", "vision": "Data2VecVisionConfig"}
_PREFIX = {"text": "Data2VecText", "audio": "Data2VecAudio", "vision": "Data2VecVision"}
_MODEL_TYPES = {"data2vec-text": "text", "data2vec-audio": "audio", "data2vec-vision": "vision"}


@dataclass(frozen=True)
class Preset:
    """A named full-size config: its modality, the fields that differ from the defaults, and their source."""

    name: str
    modality: str
    overrides: tuple[tuple[str, Any], ...]
    source: str

    def config(self) -> Any:
        return config_class(self.modality)(**dict(self.overrides))


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("text-base", "text", (), "Data2VecTextConfig() defaults"),
        Preset("text-large", "text", tuple(_LARGE.items()), "Data2VecTextConfig(hidden 1024, 24 layers, 16 heads)"),
        Preset("audio-base", "audio", (), "Data2VecAudioConfig() defaults"),
        Preset(
            "audio-large",
            "audio",
            (*_LARGE.items(), ("conv_bias", True)),
            "Data2VecAudioConfig(hidden 1024, 24 layers, 16 heads; base conv stack, conv_bias)",
        ),
        Preset("vision-base", "vision", (), "Data2VecVisionConfig() defaults"),
        Preset(
            "vision-large", "vision", tuple(_LARGE.items()), "Data2VecVisionConfig(hidden 1024, 24 layers, 16 heads)"
        ),
    )
}


@dataclass(frozen=True)
class Target:
    """A config and the Data2Vec class chosen for it (``audio-base:ForCTC``)."""

    config: Any
    cls: type
    modality: str
    source: str

    @property
    def class_name(self) -> str:
        return self.cls.__name__


def config_class(modality: str) -> Any:
    import transformers

    return getattr(transformers, _CONFIGS[modality])


def modality_of(config: Any) -> str:
    for modality, name in _CONFIGS.items():
        if type(config).__name__ == name:
            return modality
    raise ValueError(
        f"not a Data2Vec config: {type(config).__name__} (expected Data2VecTextConfig, Data2VecAudioConfig or "
        "Data2VecVisionConfig)"
    )


def head_names(modality: str) -> list[str]:
    from ..contracts import CONTRACTS

    prefix = _PREFIX[modality]
    return [n.removeprefix(prefix) for n in CONTRACTS if n.startswith(prefix)]


def resolve_class(modality: str, head: str | None) -> type:
    """``ForCTC``, ``Data2VecAudioForCTC`` or ``None`` (the base model) to the transformers class."""
    import transformers

    from ..contracts import CONTRACTS

    name = head or "Model"
    full = name if name.startswith("Data2Vec") else f"{_PREFIX[modality]}{name}"
    if full not in CONTRACTS or not full.startswith(_PREFIX[modality]):
        raise ValueError(f"unknown {modality} class {name!r}; choose one of {', '.join(head_names(modality))}")
    return getattr(transformers, full)  # type: ignore[no-any-return]


def load_config(spec: Any) -> tuple[Any, str]:
    """A Data2Vec config from a preset name, a ``config.json`` path, a saved model folder or a config object."""
    if not isinstance(spec, (str, os.PathLike)):
        modality_of(spec)
        return spec, f"{type(spec).__name__} object"
    text = os.fspath(spec)
    preset = PRESETS.get(text)
    if preset is not None:
        return preset.config(), f"preset {preset.name} ({preset.source})"
    path = Path(text)
    if path.is_dir():
        path = path / "config.json"
    if not path.is_file():
        raise ValueError(
            f"{text!r} is neither a preset ({', '.join(PRESETS)}) nor a config.json file or a saved model folder"
        )
    data = json.loads(path.read_text())
    modality = _MODEL_TYPES.get(data.get("model_type", ""))
    if modality is None:
        raise ValueError(f"{path} has model_type {data.get('model_type')!r}, not a Data2Vec model type")
    return config_class(modality).from_dict(data), str(path)


def _split(spec: str) -> tuple[str, str | None]:
    base, sep, head = spec.rpartition(":")
    if sep and (head == "Model" or head.startswith(("For", "Data2Vec"))):
        return base, head
    return spec, None


def resolve_target(spec: Any, head: str | None = None) -> Target:
    """``audio-base``, ``audio-base:ForCTC``, ``path/config.json:ForCTC`` or a config object, to a config and class.

    Without a class, a saved model folder uses its ``architectures`` entry; otherwise the base model.
    """
    if isinstance(spec, (str, os.PathLike)):
        text, named = _split(os.fspath(spec))
        head = head or named
        config, source = load_config(text)
    else:
        config, source = load_config(spec)
    modality = modality_of(config)
    if head is None:
        archs = [a for a in (getattr(config, "architectures", None) or []) if a.startswith(_PREFIX[modality])]
        head = archs[0] if archs else None
    return Target(config, resolve_class(modality, head), modality, source)
