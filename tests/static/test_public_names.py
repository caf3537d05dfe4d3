"""The public names of ``data2vec_contracts.static``: the subpackage only re-exports."""

from __future__ import annotations

import data2vec_contracts.static as static


def test_public_names_are_pinned() -> None:
    assert static.__all__ == [
        "PRESETS",
        "AxisProof",
        "CheckResult",
        "Field",
        "Finding",
        "ProofResult",
        "check",
        "prove",
        "render_check",
        "render_proof",
    ]
    for name in static.__all__[1:]:
        assert getattr(static, name).__module__ == "data2vec_contracts.static"
    assert sorted(static.PRESETS) == sorted(f"{m}-{s}" for m in ("text", "audio", "vision") for s in ("base", "large"))
