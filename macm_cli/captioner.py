"""The main job in a few lines: a video in, a fine-grained motion caption out.

    from macm_cli import MACMCaptioner
    captioner = MACMCaptioner.from_pretrained("macm")
    print(captioner("clip.mp4").caption)

Stages: decode the video, estimate the person's pose (MediaPipe by default), build the model inputs
(frames, keyframes with the body drawn over them or kinematic features), generate.
"""

import copy
import os
import time
from dataclasses import asdict, dataclass, field

import torch

from modeling_macm import MACMForConditionalGeneration
from processing_macm import DEFAULT_PROMPT, MACMProcessor


DEFAULT_MODEL = "macm"  # the embedded model, unless a local folder of that name exists


@dataclass
class CaptionResult:
    video: str
    caption: str
    motion_used: bool
    keyframes: list[int] = field(default_factory=list)  # track frames shown to the overlay pathway
    notice: str | None = None  # why motion was not used, when it was asked for
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage

    def to_dict(self) -> dict:
        return asdict(self)


class MACMCaptioner:
    """Holds a model, its processor and a pose backend; captions videos one by one or in batches."""

    def __init__(self, model: MACMForConditionalGeneration, processor: MACMProcessor, pose_backend: str = "mediapipe"):
        self.model = model.eval()
        self.processor = processor
        self.pose_backend = pose_backend

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike = DEFAULT_MODEL, pose_backend: str = "mediapipe", **model_kwargs):
        model = MACMForConditionalGeneration.from_pretrained(name_or_path, **model_kwargs)
        return cls(model, MACMProcessor.from_pretrained(name_or_path), pose_backend)

    def __call__(self, video, **kwargs) -> CaptionResult:
        return self.caption([video], **kwargs)[0]

    def estimate_motion(self, video):
        from processing_macm.pose_backends import extract_motion

        return extract_motion(video, backend=self.pose_backend, max_fps=self.processor.motion_fps, progress=False)

    @torch.no_grad()
    def caption(
        self,
        videos: list,
        tracks: list | None = None,
        prompt: str | None = None,
        use_motion: bool = True,
        decoding: str = "greedy",
        keyframe_sampling: str | None = None,
        max_new_tokens: int = 96,
        **generate_kwargs,
    ) -> list[CaptionResult]:
        """Captions `videos` (paths or `[T, H, W, 3]` frames) as one batch.

        Args:
            tracks: one `MotionTrack` (or None) per video; estimated with the pose backend when not given.
            prompt: the question; defaults to `DEFAULT_PROMPT`.
            use_motion: False captions from the frames alone (the video-only ablation).
            decoding: "greedy", "sample" or "msd" (Motion Synergetic Decoding).
            keyframe_sampling: "farthest" (the paper's) or "uniform"; defaults to the processor's setting.
        """
        if decoding not in ("greedy", "sample", "msd"):
            raise ValueError(f"decoding must be 'greedy', 'sample' or 'msd', got {decoding!r}.")
        processor = self.processor
        if keyframe_sampling is not None and keyframe_sampling != processor.keyframe_sampling:
            # A per-call copy, so that concurrent callers (the Space) never see each other's setting.
            processor = copy.copy(processor)
            processor.keyframe_sampling = keyframe_sampling
        timings = {}
        names = [os.fspath(v) if isinstance(v, (str, os.PathLike)) else "<frames>" for v in videos]
        if not use_motion:
            tracks = [None] * len(videos)
        elif tracks is None:
            start = time.perf_counter()
            tracks = [self.estimate_motion(video) for video in videos]
            timings["pose"] = time.perf_counter() - start
        notices = [
            None if not use_motion or (track is not None and track.has_person) else "no person was found: captioned from the video alone"
            for track in tracks
        ]
        usable = [track if track is not None and track.has_person else None for track in tracks]

        start = time.perf_counter()
        keyframes = [
            processor.keyframe_indices(t).tolist() if t is not None and processor.motion_representation == "overlay" else []
            for t in usable
        ]
        prompts = [processor.default_prompt(prompt or DEFAULT_PROMPT, with_motion=t is not None) for t in usable]
        inputs = processor(text=prompts, videos=videos, motion=usable)
        timings["decode_and_preprocess"] = time.perf_counter() - start

        start = time.perf_counter()
        inputs = inputs.to(self.model.device)
        options = dict(max_new_tokens=max_new_tokens, do_sample=decoding == "sample", **generate_kwargs)
        if decoding == "msd":
            options["motion_synergetic"] = True
        output = self.model.generate(**inputs, **options)
        new_tokens = output[:, inputs["input_ids"].shape[1] :]
        timings["generate"] = time.perf_counter() - start
        timings["new_tokens"] = int((new_tokens != processor.tokenizer.pad_token_id).sum()) / len(videos)

        texts = processor.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
        return [
            CaptionResult(name, text.strip(), track is not None, keys, notice, dict(timings))
            for name, text, track, keys, notice in zip(names, texts, usable, keyframes, notices)
        ]


__all__ = ["CaptionResult", "DEFAULT_MODEL", "MACMCaptioner"]
