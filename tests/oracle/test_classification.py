"""The classification table covers every config field and argument of the installed transformers, and its citations
are real: a transformers release that adds a name, or rewrites a line the table cites, fails here."""

from __future__ import annotations

import re

import pytest

from tests._models import CLASSES, MODALITIES, model_class
from tests.oracle import classification as C
from tests.oracle.introspect import (
    config_fields,
    forward_arguments,
    init_arguments,
    modeling_source,
    source_of,
)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _file(cite: C.Cite) -> str:
    name = cite[0]
    return f"models/data2vec/{name}" if name.startswith(("modeling_data2vec", "configuration_data2vec")) else name


def _found(cite: C.Cite) -> bool:
    return _norm(cite[1]) in _norm(modeling_source(_file(cite)))


@pytest.mark.parametrize("modality", MODALITIES)
def test_every_config_name_is_classified(modality: str) -> None:
    """Each field, attribute, property and modeling read of the installed config has an entry."""
    missing = {n: where for n, where in config_fields(modality).items() if C.config_entry(modality, n) is None}
    assert not missing, f"unclassified {modality} config names (add them to tests/oracle/classification.py): {missing}"


@pytest.mark.parametrize(("modality", "head"), CLASSES, ids=[f"{m}-{h}" for m, h in CLASSES])
def test_every_forward_argument_is_classified(modality: str, head: str) -> None:
    """Each named parameter of forward, and each name its **kwargs accepts, has an entry."""
    cls = model_class(modality, head)
    missing = {n: a.via for n, a in forward_arguments(cls).items() if C.forward_entry(modality, n) is None}
    assert not missing, f"unclassified arguments of {cls.__name__}.forward: {missing}"


@pytest.mark.parametrize(("modality", "head"), CLASSES, ids=[f"{m}-{h}" for m, h in CLASSES])
def test_every_constructor_argument_is_classified(modality: str, head: str) -> None:
    cls = model_class(modality, head)
    missing = [n for n in init_arguments(cls) if n not in C.INIT]
    assert not missing, f"unclassified constructor arguments of {cls.__name__}: {missing}"


def _entries() -> list[tuple[str, str, C.Entry]]:
    found = [("base", n, e) for n, e in C.BASE_CONFIG.items()]
    found += [(m, n, e) for m, table in C.CONFIG.items() for n, e in table.items()]
    found += [(f"forward:{m}", n, e) for m, table in C.FORWARD.items() for n, e in table.items()]
    found += [("init", n, e) for n, e in C.INIT.items()]
    return found


def _in_installed(scope: str, name: str) -> bool:
    """Whether the installed transformers has the name at all (entries for the other major version are kept)."""
    if scope == "init":
        return any(name in init_arguments(model_class(m, h)) for m, h in CLASSES)
    if scope.startswith("forward:"):
        modality = scope.split(":")[1]
        return any(name in forward_arguments(model_class(m, h)) for m, h in CLASSES if m == modality)
    modalities = MODALITIES if scope == "base" else (scope,)
    return any(name in config_fields(m) for m in modalities)


def test_citations_exist_in_the_installed_sources() -> None:
    """Every entry with a citation has at least one cited snippet in the installed modeling source (for the names
    the installed version has)."""
    stale = []
    for scope, name, entry in _entries():
        if entry.cite and _in_installed(scope, name) and not any(_found(c) for c in entry.cite):
            stale.append(f"{scope}.{name}: {[c[1] for c in entry.cite]}")
    assert not stale, "citations not found in the installed transformers:\n" + "\n".join(stale)


def test_uncited_none_entries_are_not_read_by_the_modeling_code() -> None:
    """An entry of kind NONE without a citation claims the Data2Vec modeling sources never read the name."""
    read = []
    for scope, name, entry in _entries():
        if not entry.is_none or entry.cite or scope == "init" or name.startswith("**"):
            continue
        modalities = MODALITIES if scope == "base" else (scope.split(":")[-1],)
        for m in modalities:
            # an inherited entry is shadowed where the modality has its own
            if scope == "base" and name in C.CONFIG[m]:
                continue
            text = modeling_source(f"models/data2vec/modeling_data2vec_{m}.py")
            pattern = rf"\b{name}\b" if scope.startswith("forward:") else rf"config\.{name}\b|config,\s*\"{name}\""
            if re.search(pattern, text):
                read.append(f"{scope}.{name} ({m})")
    assert not read, f"NONE entries without a citation that the modeling code does read: {read}"


def test_every_modality_source_is_installed() -> None:
    for modality in MODALITIES:
        assert "class Data2Vec" in source_of(modality)


def test_the_effect_kinds_are_an_enum() -> None:
    """Kinds are Effect members, and NONE never mixes with another kind."""
    for _, _, entry in _entries():
        assert all(isinstance(e, C.Effect) for e in entry.effects)
        assert entry.reason
    with pytest.raises(ValueError, match="NONE alone"):
        C.Entry((C.Effect.NONE, C.Effect.SHAPE), "x")
