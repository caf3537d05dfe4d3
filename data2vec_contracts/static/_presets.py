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

import difflib
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
        heads = head_names(modality)
        raise ValueError(
            f"unknown {modality} class {name!r}; choose one of {', '.join(heads)}{_did_you_mean(name, heads)}"
        )
    return getattr(transformers, full)  # type: ignore[no-any-return]


def _did_you_mean(name: str, choices: list[str]) -> str:
    """``"; did you mean ForCTC?"`` for a near miss (case-insensitive first), else ``""``."""
    short = name.removeprefix("Data2Vec").removeprefix("Text").removeprefix("Audio").removeprefix("Vision")
    same_case = [c for c in choices if c.lower() in (name.lower(), short.lower(), "for" + short.lower())]
    close = same_case or difflib.get_close_matches(short, choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


#: int fields that a config may also give per axis, ``[height, width]``
_PER_AXIS = ("image_size", "patch_size")


def _expected_kind(name: str, value: Any, default: Any) -> str | None:
    """What a config.json field must be, judged by the type of its default; ``None`` if ``value`` fits."""
    if default is None:
        return None
    if value is None:
        return None if name.endswith("_token_id") else "not null"
    if isinstance(default, bool):
        return None if isinstance(value, bool) else "true or false"
    if isinstance(default, int):
        if _is_int(value) or (name in _PER_AXIS and isinstance(value, list) and all(_is_int(v) for v in value)):
            return None
        return "an integer"
    if isinstance(default, float):
        return None if isinstance(value, (int, float)) and not isinstance(value, bool) else "a number"
    if isinstance(default, str):
        return None if isinstance(value, str) else "a string"
    if isinstance(default, (list, tuple)):
        if not isinstance(value, list):
            return "a list"
        if default and all(_is_int(d) for d in default) and not all(_is_int(v) for v in value):
            return "a list of integers"
        return None
    if isinstance(default, dict):
        return None if isinstance(value, dict) else "an object"
    return None


def _check_fields(path: Path, data: dict[str, Any], cls: Any) -> None:
    """A field of the wrong type (``"hidden_size": "big"``) fails here, naming the file and the field, instead
    of deep inside transformers or torch when the model is built."""
    defaults = cls()
    for name, value in data.items():
        if name.startswith("_"):
            continue
        try:
            default = getattr(defaults, name)
        except Exception:  # a field this version of the config does not know: transformers keeps it as is
            continue
        wanted = _expected_kind(name, value, default)
        if wanted is not None:
            raise ValueError(
                f"{path}: field {name!r} is {value!r} ({_describe(value)}), but {cls.__name__} expects "
                f"{wanted} (its default is {default!r}); correct the field, or delete it to use the default"
            )


def _read_json(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: cannot read it ({type(error).__name__}: {error})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{path}: not valid JSON ({error.msg} at line {error.lineno}, column {error.colno}); "
            "a config.json is one JSON object, as save_pretrained writes it"
        ) from None
    if not isinstance(data, dict):
        raise ValueError(
            f'{path}: expected a JSON object of config fields ({{"model_type": "data2vec-text", ...}}), '
            f"got {_describe(data)}"
        )
    return data


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
        if not (path / "config.json").is_file():
            raise ValueError(
                f"{path} is a folder without a config.json; give a saved model folder (save_pretrained writes "
                "config.json into it) or the path of a config.json file"
            )
        path = path / "config.json"
    if not path.is_file():
        raise ValueError(
            f"{text!r} is neither a preset ({', '.join(PRESETS)}) nor a config.json file or a saved model folder"
        )
    data = _read_json(path)
    model_type = data.get("model_type")
    modality = _MODEL_TYPES.get(model_type) if isinstance(model_type, str) else None
    if modality is None:
        raise ValueError(
            f"{path} is not a Data2Vec config (expected model_type {', '.join(_MODEL_TYPES)}): "
            f"it has model_type {model_type!r}, not a Data2Vec model type"
        )
    cls = config_class(modality)
    _check_fields(path, data, cls)
    try:
        config = cls.from_dict(data)
    except Exception as error:
        first = (str(error).strip().splitlines() or [""])[0]
        raise ValueError(
            f"{path}: transformers cannot read it as {cls.__name__}: {type(error).__name__}: {first}"
        ) from None
    return config, str(path)


def _split(spec: str) -> tuple[str, str | None]:
    """``audio-base:ForCTC`` → (``audio-base``, ``ForCTC``); after a preset or an existing path any suffix is a
    class name (``audio-base:CTC`` is an unknown class, with a suggestion, not an unknown file)."""
    base, sep, head = spec.rpartition(":")
    if sep and (head == "Model" or head.startswith(("For", "Data2Vec")) or base in PRESETS or Path(base).exists()):
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
