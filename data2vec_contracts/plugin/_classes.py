"""The 15 Data2Vec classes by modality and head, named without importing torch or transformers."""

from __future__ import annotations

import difflib

__all__ = ["CLASS_NAMES", "HEADS", "MODALITIES", "class_name", "modality_and_head"]

HEADS: dict[str, tuple[str, ...]] = {
    "text": (
        "Model",
        "ForCausalLM",
        "ForMaskedLM",
        "ForSequenceClassification",
        "ForTokenClassification",
        "ForQuestionAnswering",
        "ForMultipleChoice",
    ),
    "audio": ("Model", "ForCTC", "ForSequenceClassification", "ForAudioFrameClassification", "ForXVector"),
    "vision": ("Model", "ForImageClassification", "ForSemanticSegmentation"),
}
MODALITIES: tuple[str, ...] = tuple(HEADS)
CLASS_NAMES: tuple[str, ...] = tuple(f"Data2Vec{m.capitalize()}{h}" for m, heads in HEADS.items() for h in heads)


def _did_you_mean(word: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def class_name(modality: object, head: object, who: str) -> str:
    """``Data2Vec{Modality}{head}``, or a ``ValueError`` that says which names exist."""
    if not isinstance(modality, str) or modality not in HEADS:
        hint = _did_you_mean(modality.lower(), MODALITIES) if isinstance(modality, str) else ""
        raise ValueError(f"{who}: unknown modality {modality!r}{hint}; choose one of 'text', 'audio', 'vision'")
    heads = HEADS[modality]
    if not isinstance(head, str) or head not in heads:
        hint = _did_you_mean(head, heads) if isinstance(head, str) else ""
        raise ValueError(f"{who}: {modality} has no head {head!r}{hint}; the {modality} heads are {', '.join(heads)}")
    return f"Data2Vec{modality.capitalize()}{head}"


def modality_and_head(name: str) -> tuple[str, str]:
    """``"Data2VecAudioForCTC"`` → ``("audio", "ForCTC")``."""
    for modality, heads in HEADS.items():
        prefix = f"Data2Vec{modality.capitalize()}"
        if name.startswith(prefix) and name[len(prefix) :] in heads:
            return modality, name[len(prefix) :]
    raise KeyError(name)
