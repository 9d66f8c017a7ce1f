"""M-ACM processing: video decoding, motion from human pose, and `MACMProcessor` (registered with
AutoProcessor where it is defined). Never imports `modeling_macm`: this folder is also shipped as remote code.

`MACMProcessor` and its prompt constants load on first use, so that motion extraction (build workers, Ray
actors) reads videos and poses without importing transformers (about 4 s per process)."""

import importlib

from .video_io import VideoInfo, VideoReadError, iter_frames, probe_video, read_video, write_video

_PROCESSOR_NAMES = ("CHAT_TEMPLATE", "DEFAULT_PROMPT", "MOTION_TOKEN", "VIDEO_TOKEN", "MACMProcessor")


def __getattr__(name):
    if name in _PROCESSOR_NAMES:
        return getattr(importlib.import_module(".processing_macm", __name__), name)
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
