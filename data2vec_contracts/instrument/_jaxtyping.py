"""Working beside jaxtyping: its switch turns our checks off too, and inside a checked function its idioms see the
call's dimensions.

jaxtyping keeps the dimensions of a call in a per-thread stack of memo frames (``jaxtyping._storage``); an in-body
``isinstance(x, Float[Tensor, "B D"])`` binds and compares in the top frame, and ``jaxtyping.print_bindings()``
prints it. Around the body of a checked call we push a frame seeded with the call's bindings, and afterwards take the
dimensions the body bound back into the call's scope, so the return value is checked against them. The frame API is
not public in jaxtyping (it has been the same from 0.2.36 to 0.3.11); without it, only the interop is lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from jaxtyping import config as _config

from ..checker import Scope

try:  # present in every jaxtyping release we support
    from jaxtyping import _storage as _jaxtyping_storage

    _storage: Any = _jaxtyping_storage
except ImportError:  # pragma: no cover
    _storage = None

__all__ = ["BODY", "close_frame", "open_frame", "switched_off"]

#: where a dimension first bound by an isinstance check in the function body came from
BODY = "the function body (a jaxtyping isinstance check)"
_push = getattr(_storage, "push_shape_memo", None)
_pop = getattr(_storage, "pop_shape_memo", None)
_get = getattr(_storage, "get_shape_memo", None)
AVAILABLE = _push is not None and _pop is not None and _get is not None


def switched_off() -> bool:
    """jaxtyping's own switch (``JAXTYPING_DISABLE=1`` at import, or ``jaxtyping.config.update(...)``)."""
    return bool(_config.jaxtyping_disable)


def open_frame(scope: Scope, arguments: Mapping[str, Any]) -> bool:
    """Push a jaxtyping frame holding the call's dimensions; True if one was pushed (then :func:`close_frame`)."""
    if not AVAILABLE:
        return False
    single, variadic, _pytree, _arguments = _push(dict(arguments))  # type: ignore[misc]
    groups = scope.broadcast_groups
    for name, value in scope.values.items():
        if type(value) is int:
            single[name] = value
        elif isinstance(value, tuple):
            variadic[name] = (name in groups, torch.Size(value))
    return True


def close_frame(scope: Scope) -> None:
    """Pop the frame; the dimensions the body bound (and the call had not) join the call's scope."""
    # re-read the frame: a failed isinstance check replaces its dicts
    single, variadic, _pytree, _arguments = _get()  # type: ignore[misc]
    _pop()  # type: ignore[misc]
    values = scope.values
    for name, value in single.items():
        if name not in values and not name.startswith("~~"):
            scope.bind(name, value, BODY)
    for name, (broadcast, shape) in variadic.items():
        if name not in values and not name.startswith("~~"):
            scope.bind(name, tuple(shape), BODY)
            if broadcast:
                scope.broadcast_groups.add(name)
