"""M-ACM processing: video decoding, motion from human pose, and `MACMProcessor` (registered with
AutoProcessor on import). Never imports `modeling_macm`: this folder is also shipped as remote code."""

from transformers import AutoProcessor

from .processing_macm import CHAT_TEMPLATE, DEFAULT_PROMPT, MACMProcessor
from .tokenization_macm import train_tokenizer
from .video_io import VideoInfo, VideoReadError, iter_frames, probe_video, read_video, write_video


MACMProcessor.register_for_auto_class("AutoProcessor")

__all__ = [
    "CHAT_TEMPLATE",
    "DEFAULT_PROMPT",
    "MACMProcessor",
    "VideoInfo",
    "VideoReadError",
    "iter_frames",
    "probe_video",
    "read_video",
    "train_tokenizer",
    "write_video",
]
