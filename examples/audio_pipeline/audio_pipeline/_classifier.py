"""A frame-level classifier and a loss that ignores padded frames."""

from __future__ import annotations

from jaxtyping import Bool, Float, Int
from torch import Tensor, nn

from data2vec_contracts import contract


class FrameClassifier(nn.Module):
    """``Linear(hidden_size, num_labels)`` applied to every frame."""

    def __init__(self, hidden_size: int, num_labels: int) -> None:
        super().__init__()
        self.proj = nn.Linear(hidden_size, num_labels)

    @contract(dims={"D": "self.proj.in_features", "K": "self.proj.out_features"})
    def forward(self, frames: Float[Tensor, "B T D"]) -> Float[Tensor, "B T K"]:
        return self.proj(frames)


@contract(masks={"frame_mask": "T"})
def masked_frame_loss(
    logits: Float[Tensor, "B T K"], labels: Int[Tensor, "B T"], frame_mask: Bool[Tensor, "B T"]
) -> Float[Tensor, ""]:
    """Cross-entropy averaged over the real frames only; padded frames (and their labels) never count."""
    per_frame = nn.functional.cross_entropy(logits.transpose(1, 2), labels.clamp(min=0), reduction="none")
    weights = frame_mask.to(per_frame.dtype)
    return (per_frame * weights).sum() / weights.sum().clamp(min=1.0)
