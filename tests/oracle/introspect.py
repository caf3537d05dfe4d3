"""What the installed transformers says a Data2Vec model takes: config fields, forward arguments, constructor arguments.

Everything here is read from transformers itself (``inspect.signature``, the config classes and instances, the
modeling sources), never from our contracts, so that :mod:`tests.oracle.classification` can be checked against it:
a field or argument that a new transformers release adds shows up here and fails the completeness tests.

* :func:`config_fields` — for one modality: the config class's own fields (dataclass fields in 5.x, ``__init__``
  parameters in 4.x), every attribute an instance holds (the inherited ``PretrainedConfig`` ones included), the
  properties of the config classes, and every ``config.<name>`` the Data2Vec modeling sources read.
* :func:`forward_arguments` — for one class: the named parameters of ``forward``, and what its ``**kwargs``
  accept (the keys of ``Unpack[TransformersKwargs]`` and the arguments its decorators consume).
* :func:`init_arguments` — for one class: the constructor parameters after ``config``.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import transformers

from tests._models import CLASSES, TRANSFORMERS_5, model_class

__all__ = [
    "DECORATOR_ARGUMENTS",
    "GENERIC_CONFIG_READS",
    "MODALITY_FILES",
    "Argument",
    "all_forward_arguments",
    "config_class",
    "config_fields",
    "forward_arguments",
    "init_arguments",
    "modeling_source",
    "public_name",
    "source_of",
    "transformers_root",
]

MODALITY_FILES: dict[str, tuple[str, ...]] = {
    "text": ("models/data2vec/modeling_data2vec_text.py", "models/data2vec/configuration_data2vec_text.py"),
    "audio": ("models/data2vec/modeling_data2vec_audio.py", "models/data2vec/configuration_data2vec_audio.py"),
    "vision": ("models/data2vec/modeling_data2vec_vision.py", "models/data2vec/configuration_data2vec_vision.py"),
}

#: Config attributes that transformers' generic forward machinery reads from any model's config (not named in the
#: Data2Vec sources): ``(name, file, snippet)``; the snippet is where it is read, and must exist in the installed
#: version for the entry to count (5.x decorators; 4.x has none of them).
GENERIC_CONFIG_READS: tuple[tuple[str, str, str], ...] = (
    ("is_causal", "utils/generic.py", 'getattr(self.config, "is_causal", None)'),
    ("output_cross_attentions", "utils/output_capturing.py", 'getattr(self.config, f"output_{k}", False)'),
    ("tie_last_hidden_states", "utils/output_capturing.py", "tie_last_hidden_states"),
)

#: Keyword arguments that a decorator of ``forward`` consumes before the body sees ``**kwargs`` (5.x), by the
#: decorator's name as it appears in the source of ``forward``.
DECORATOR_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "can_return_tuple": ("return_dict",),
    "capture_outputs": ("return_dict", "output_attentions", "output_hidden_states"),
    "merge_with_config_defaults": ("use_cache", "is_causal", "debug_io", "debug_io_dir", "prune_layers"),
    "filter_output_hidden_states": ("output_hidden_states",),
}

_PRIVATE_TO_PUBLIC = {
    "_output_attentions": "output_attentions",
    "_attn_implementation_internal": "_attn_implementation",
    "_attn_implementation_autoset": "_attn_implementation",
    "_experts_implementation_internal": "_experts_implementation",
    "_name_or_path": "name_or_path",
}


def transformers_root() -> Path:
    return Path(transformers.__file__).parent


@functools.cache
def modeling_source(relative: str) -> str:
    """The text of a file of the installed transformers package (``""`` when it does not exist)."""
    path = transformers_root() / relative
    return path.read_text(encoding="utf-8") if path.exists() else ""


def source_of(modality: str) -> str:
    return "\n".join(modeling_source(f) for f in MODALITY_FILES[modality])


def config_class(modality: str) -> type:
    return getattr(transformers, f"Data2Vec{modality.capitalize()}Config")  # type: ignore[no-any-return]


def public_name(name: str) -> str:
    """The name a private instance attribute stands for (``_output_attentions`` -> ``output_attentions``)."""
    return _PRIVATE_TO_PUBLIC.get(name, name)


def _own_fields(cls: type) -> set[str]:
    if dataclasses.is_dataclass(cls):
        return {f.name for f in dataclasses.fields(cls)}
    params = inspect.signature(cls.__init__).parameters.values()  # type: ignore[misc]
    return {p.name for p in params if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}


def _properties(cls: type) -> set[str]:
    found: set[str] = set()
    for base in cls.__mro__:
        if base is object:
            continue
        found |= {name for name, value in vars(base).items() if isinstance(value, property)}
    return {n for n in found if not n.startswith("__")}


_READ = re.compile(r"config\.([A-Za-z_][A-Za-z0-9_]*)|getattr\((?:self\.)?config,\s*\"([A-Za-z_][A-Za-z0-9_]*)\"")


def _read_by_modeling(modality: str) -> set[str]:
    text = modeling_source(MODALITY_FILES[modality][0])
    return {a or b for a, b in _READ.findall(text)}


@functools.cache
def config_fields(modality: str) -> dict[str, str]:
    """Every config name a Data2Vec model of ``modality`` has or reads, mapped to where it was found
    (``field``, ``attribute``, ``property``, ``read by modeling``, ``read by transformers``)."""
    cls = config_class(modality)
    found: dict[str, str] = {}
    for name in sorted(_own_fields(cls)):
        found.setdefault(name, "field")
    for name in sorted(vars(cls())):
        found.setdefault(public_name(name), "attribute")
    for name in sorted(_properties(cls)):
        found.setdefault(name, "property")
    for name in sorted(_read_by_modeling(modality)):
        found.setdefault(name, "read by modeling")
    for name, file, snippet in GENERIC_CONFIG_READS:
        if snippet in modeling_source(file):
            found.setdefault(name, "read by transformers")
    return found


@dataclass(frozen=True)
class Argument:
    """One argument a forward call accepts: named in the signature, or accepted through ``**kwargs``."""

    name: str
    via: str  # "signature", "kwargs: TransformersKwargs", "decorator: can_return_tuple", "deprecated alias"
    default: Any = None


def _decorators(fn: Any) -> list[str]:
    try:
        src = inspect.getsource(fn)
    except (OSError, TypeError):
        return []
    lines = []
    for line in src.splitlines():
        stripped = line.strip()
        if stripped.startswith("def "):
            break
        if stripped.startswith("@"):
            lines.append(stripped)
    return lines


def forward_arguments(cls: type) -> dict[str, Argument]:
    """The arguments ``cls.forward`` takes, by name (``self`` left out)."""
    fn = cls.forward  # type: ignore[attr-defined]
    found: dict[str, Argument] = {}
    for p in list(inspect.signature(fn).parameters.values())[1:]:
        if p.kind is p.VAR_KEYWORD:
            annotation = p.annotation
            if typing.get_origin(annotation) is typing.Unpack:
                typed = typing.get_args(annotation)[0]
                for key in sorted(typed.__required_keys__ | typed.__optional_keys__):
                    found.setdefault(key, Argument(key, f"kwargs: {typed.__name__}"))
            else:
                found[f"**{p.name}"] = Argument(f"**{p.name}", "untyped kwargs")
            continue
        if p.kind is p.VAR_POSITIONAL:
            continue
        found[p.name] = Argument(p.name, "signature", None if p.default is p.empty else p.default)
    for line in _decorators(fn):
        name = re.match(r"@([A-Za-z_]+)", line)
        if name is None:
            continue
        for arg in DECORATOR_ARGUMENTS.get(name.group(1), ()):
            found.setdefault(arg, Argument(arg, f"decorator: {name.group(1)}"))
        alias = re.match(r'@deprecate_kwarg\("([a-z_]+)"', line)
        if alias is not None:
            found.setdefault(alias.group(1), Argument(alias.group(1), "deprecated alias"))
    return found


def all_forward_arguments() -> dict[str, dict[str, Argument]]:
    """:func:`forward_arguments` of each of the 15 classes, by class name."""
    return {model_class(m, h).__name__: forward_arguments(model_class(m, h)) for m, h in CLASSES}


def init_arguments(cls: type) -> dict[str, Any]:
    """The constructor parameters of ``cls`` after ``config``, with their defaults."""
    params = list(inspect.signature(cls.__init__).parameters.values())[2:]  # type: ignore[misc]
    return {p.name: (None if p.default is p.empty else p.default) for p in params
            if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}


def version_major() -> int:
    return 5 if TRANSFORMERS_5 else 4
