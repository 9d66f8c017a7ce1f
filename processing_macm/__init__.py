"""M-ACM processing: video decoding, motion from human pose, and `MACMProcessor` (registered with
AutoProcessor on import). Never imports `modeling_macm`: this folder is also shipped as remote code."""

from .processing_macm import CHAT_TEMPLATE, DEFAULT_PROMPT, MOTION_TOKEN, VIDEO_TOKEN, MACMProcessor
from .video_io import VideoInfo, VideoReadError, iter_frames, probe_video, read_video, write_video

MACMProcessor.register_for_auto_class("AutoProcessor")


def __getattr__(name):
    # Deprecated: tokenizer training moved to `train.tokenizer` (it is not part of processing).
    if name == "train_tokenizer":
        import warnings

        from train.tokenizer import train_tokenizer

        warnings.warn(
            "`processing_macm.train_tokenizer` moved to `train.tokenizer.train_tokenizer`; the old name will be removed.",
            FutureWarning,
            stacklevel=2,
        )
        return train_tokenizer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CHAT_TEMPLATE",
    "DEFAULT_PROMPT",
    "MACMProcessor",
    "MOTION_TOKEN",
    "VIDEO_TOKEN",
    "VideoInfo",
    "VideoReadError",
    "iter_frames",
    "probe_video",
    "read_video",
    "write_video",
]
