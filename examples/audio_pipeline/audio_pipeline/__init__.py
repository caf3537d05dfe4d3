"""Frame-level classification of padded waveforms on Data2VecAudioModel.

``pad_waveforms`` right-pads raw waveforms into ``input_values`` plus a (B, S) sample mask;
``encode_frames`` runs the encoder and returns the (B, T, D) frame features with the matching
(B, T) frame mask; ``FrameClassifier`` scores every frame and ``masked_frame_loss`` averages only
over real frames.
"""

from ._batching import pad_waveforms
from ._classifier import FrameClassifier, masked_frame_loss
from ._encoding import encode_frames

__all__ = ["FrameClassifier", "encode_frames", "masked_frame_loss", "pad_waveforms"]
