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
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch
from torch.nn.utils.rnn import pad_sequence

from modeling_macm import MACMForConditionalGeneration
from processing_macm import DEFAULT_PROMPT, MACMProcessor, VideoReadError, probe_video
from processing_macm.kinematic import STILL_ENERGY, held_still, motion_energy
from processing_macm.motion_track import MotionTrack
from processing_macm.overlay import render_overlay
from processing_macm.segments import (
    motion_window,
    movement_segments,
    segment_bounds,
    segment_frames,
    slice_track,
    split_span,
    summarize,
)
from processing_macm.video_io import sample_frame_indices

from . import appearance, looks
from .answers import HeadsReading, read_answer, read_heads, reads
from .counts import count_processor
from .directions import direction_processor
from .grounding import clip_evidence, generate_grounded
from .scene import SCENE_STILL, scene_motion
from .story import retell

DEFAULT_MODEL = "macm"  # the embedded model, unless a local folder of that name exists
NOBODY_CAPTION = "No person was found in the video."
STILL_CAPTION = "The person stands still."
GLIMPSED_CAPTION = "The person is seen in too few frames to describe their movements."
SHORT_CAPTION = "The clip is too short to describe the person's movements."
# A clip shorter than this (a person found who moves) is stated rather than described: the shortest step of an
# HMI-Synth program (one jump or one side step, 0.9 s at a steady pace) is longer, and so is every clip the model
# was trained on. A 0.3 s cut of vtest.avi's walkers was "kicks the right leg twice" (session 26).
SHORTEST_SECONDS = 1.0
SPARSE_CAPTION = "The video has too few frames a second to describe the person's movements."
# A video with fewer frames a second than this (a person found who moves) is stated rather than described: a walking
# step takes 0.43-0.65 s (programs.GAIT_SECONDS), so frames half a second apart cannot follow it. The real set's
# vtest-00 walker resampled to 6, 4 and 3 fps was still captioned walking, at 2 fps "turns around to the right
# slowly", and 6 s of vtest.avi at 1 fps "lunges ..., turns around ..., stands still" (session 26).
LOWEST_FPS = 3.0
# The share of frames in which the person must be found for the model to describe their movements. On HMI-Synth
# v4 validation (`hmi8`, 109 clips, tracked with a person search tried in session 17 and reverted), the clips whose
# person is found in fewer frames are tiny distant figures whose landmarks are noise: 2 of the 20 actions named for
# them were in the clip, against 100 of 178 at 50% or more.
SEEN_AT_LEAST = 0.5
# A person who moves little (`motion_energy` under POSTURE_ENERGY body heights) and whose main action the motion
# heads read as strongly (within POSTURE_MARGIN) on the clip `held_still` at each of POSTURE_MOMENTS (fractions of
# the frames where the person is found) is described as still: the heads read the posture, not a movement. Real
# photos filmed with a shaking hand-held camera (bench/real_footage) were read as their posture suggests (a man
# holding a ball: talk 0.96-1.0; a footballer mid-kick: wave 0.97-0.99), MediaPipe's jitter above STILL_ENERGY.
# Chosen on HMI-Synth v4 `hmi9` train and validation (unseen by the embedded weights): idle clips stated still 29
# -> 53 of 94, clips with an action 4 -> 13 of 459; 0.2 would state 20 of these for 60 idle, 0.1 9 for 47.
# The energy is read `steady` (session 31): the hand-held footballer's 3D landmarks jitter by 0.28 body heights,
# his body in the image by 0.13. On `hmi9e` validation, `hmi10` validation and 250 `hmi9` train clips idle clips
# stated still went 25 -> 29 of 58, clips with an action stayed 16 of 356; on both test splits 6 -> 8 of 22 and
# 2 -> 3 of 246.
POSTURE_ENERGY = 0.15
POSTURE_MARGIN = 0.05
POSTURE_MOMENTS = (0.25, 0.5, 0.75)
# The captions given instead of the model's (`_stated_caption`, `MACMCaptioner._statement`); those that say the
# person's movements are not described answer any question about them as well.
UNDESCRIBED_CAPTIONS = (NOBODY_CAPTION, GLIMPSED_CAPTION, SHORT_CAPTION, SPARSE_CAPTION)
STATED_CAPTIONS = (*UNDESCRIBED_CAPTIONS, STILL_CAPTION)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")


@dataclass
class CaptionResult:
    video: str
    caption: str
    motion_used: bool
    keyframes: list[int] = field(default_factory=list)  # track frames shown to the overlay pathway
    notice: str | None = None  # why motion was not used, when it was asked for
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    # [{start, end, caption}] in seconds: one per segment of a video longer than the model's motion window
    # (`caption` is then a summary of them), the whole clip for a shorter one.
    segments: list[dict] = field(default_factory=list)
    described: str | None = None  # the caption an answer was read from (see `answers`)

    def to_dict(self) -> dict:
        return asdict(self)


class MACMCaptioner:
    """Holds a model, its processor and a pose backend; captions videos one by one or in batches."""

    def __init__(self, model: MACMForConditionalGeneration, processor: MACMProcessor, pose_backend: str = "mediapipe"):
        self.model = model.eval()
        self.processor = processor
        self.pose_backend = pose_backend

    @classmethod
    def from_pretrained(
        cls, name_or_path: str | os.PathLike = DEFAULT_MODEL, pose_backend: str = "mediapipe", **model_kwargs
    ):
        from . import check_pretrained

        check_pretrained(name_or_path)  # a missing folder or an unreachable Hub id: one clear error, at once
        model = MACMForConditionalGeneration.from_pretrained(name_or_path, **model_kwargs)
        return cls(model, MACMProcessor.from_pretrained(name_or_path), pose_backend)

    def __call__(self, video, **kwargs) -> CaptionResult:
        return self.caption([video], **kwargs)[0]

    def estimate_motion(self, video, progress: bool = False, person: int = 0):
        from processing_macm.pose_backends import extract_motion

        # A still image (one frame) has no frame rate of its own, and needs none.
        fps = self.processor.motion_fps if isinstance(video, np.ndarray) and len(video) == 1 else None
        return extract_motion(
            video,
            backend=self.pose_backend,
            max_fps=self.processor.motion_fps,
            progress=progress,
            fps=fps,
            person=person,
        )

    @torch.no_grad()
    def caption(
        self,
        videos: list,
        tracks: list | None = None,
        prompt: str | None = None,
        use_motion: bool = True,
        decoding: str = "grounded",
        keyframe_sampling: str | None = None,
        max_new_tokens: int = 96,
        batch_size: int = 2,
        progress: bool = False,
        person: int = 0,
        ground_directions: bool = True,
        ground_counts: bool = True,
        ground_story: bool = True,
        ground_colours: bool = True,
        answers: str = "read",
        **generate_kwargs,
    ) -> list[CaptionResult]:
        """Captions `videos` (paths or `[T, H, W, 3]` frames) as one batch.

        A video longer than the model's motion window (`motion_max_frames / motion_fps` seconds) is cut
        into 2-10 s segments at movement boundaries of its pose track (equal pieces without one), each
        captioned, `batch_size` at a time; its `caption` is then `summarize` of theirs (see `segments`).

        Honest outputs (with motion): a video in which nobody is found is captioned `NOBODY_CAPTION`
        (`motion_used` False), one whose person is found in fewer than `SEEN_AT_LEAST` of the frames
        `GLIMPSED_CAPTION`, and a person who does not move (`motion_energy` below `STILL_ENERGY`: a
        still image, a one-frame video, someone standing still) or barely moves (see POSTURE_ENERGY) only as the
        whole picture does (a camera shaking: `scene.py`) or in a way the motion heads read from the posture alone
        `STILL_CAPTION`, and one who moves in a clip shorter than
        `SHORTEST_SECONDS` `SHORT_CAPTION`, in a video of fewer than `LOWEST_FPS` frames a second `SPARSE_CAPTION`;
        the model is not run for them and `notice` says which rule fired; in a long video the same rules give each
        segment its caption.
        An image file (PNG, JPEG, ...) is read as a one-frame video.

        Args:
            tracks: one `MotionTrack` (or None) per video; estimated with the pose backend when not given.
            prompt: the question; defaults to `DEFAULT_PROMPT`. A request for the clip's description in other words
                ("What is the person doing?", `looks.asks_description`) is captioned with `DEFAULT_PROMPT`.
            answers: "read" answers a question about the person's movements (a count, a side, a speed, a
                direction, what comes next, a true/false statement: `answers.reads`) from the motion heads' reading
                of the clip and the caption the model writes (`described`; see `answer`); "generate" gives every
                question to the model, as other questions are.
            use_motion: False captions from the frames alone (the video-only ablation).
            decoding: "grounded" (greedy, unless the caption names an action the motion heads do not see: then
                the best supported of sampled ones, `grounding.py`; its story then retold as the heads read the
                clip, `ground_story`), "greedy", "sample" or "msd" (Motion Synergetic Decoding).
            keyframe_sampling: "farthest" (the paper's) or "uniform"; defaults to the processor's setting.
            batch_size: segments of a long video captioned in one `generate` call (on CPU more only costs memory:
                README, Long videos).
            progress: show tqdm bars (on stderr) for pose estimation and for segments.
            person: whom to follow when there are several (0: the main person; see `extract_motion`).
            ground_directions: a walk's direction as the camera sees it, where the model names one, is the one
                the track's facing gives (`directions.py`; MediaPipe tracks, any decoding but MSD).
            ground_counts: the count of squats or bends, where the model names one, is the one the track's peaks
                give (`counts.py`; models with motion heads, any decoding but MSD).
            ground_story: with grounded decoding, the caption's story is retold as the motion heads read the clip
                (`story.py`); False keeps the language model's.
            ground_colours: the colours the caption gives the shirt and the trousers are those the video shows where
                the track puts them (`appearance.py`; MediaPipe tracks).
            generate_kwargs: to `generate`, e.g. `ground_sides=False` for sides named by the language model,
                `ground_gait=False` for a walk or a run named by it.
        """
        if isinstance(videos, (str, os.PathLike, np.ndarray)):
            raise TypeError(
                f"caption() takes a list of videos, got one {type(videos).__name__}: pass [video], or call the "
                "captioner itself on one video (captioner(video) returns its CaptionResult)."
            )
        if decoding not in ("grounded", "greedy", "sample", "msd"):
            raise ValueError(f"decoding must be 'grounded', 'greedy', 'sample' or 'msd', got {decoding!r}.")
        if answers not in ("read", "generate"):
            raise ValueError(f"answers must be 'read' or 'generate', got {answers!r}.")
        processor = self.processor
        if keyframe_sampling is not None and keyframe_sampling != processor.keyframe_sampling:
            # A per-call copy, so that concurrent callers (the Space) never see each other's setting.
            processor = copy.copy(processor)
            processor.keyframe_sampling = keyframe_sampling
        timings = {}
        names = [os.fspath(v) if isinstance(v, (str, os.PathLike)) else "<frames>" for v in videos]
        videos = [_read_image(v) if _is_image(v) else v for v in videos]  # an image: a one-frame video [1, H, W, 3]
        if not use_motion:
            tracks = [None] * len(videos)
        elif tracks is None:
            start = time.perf_counter()
            tracks = [self.estimate_motion(video, progress=progress, person=person) for video in videos]
            timings["pose"] = time.perf_counter() - start
        if prompt is not None and answers == "read" and looks.asks_description(prompt):
            prompt = None  # "What is the person doing?": the caption, written with the prompt the model knows
        if prompt is not None and answers == "read" and is_read(prompt):
            described = self.caption(
                videos, tracks, None, use_motion, decoding, keyframe_sampling, max_new_tokens, batch_size, progress,
                person, ground_directions, ground_counts, ground_story, ground_colours, **generate_kwargs,
            )  # fmt: skip
            return [
                replace(
                    result,
                    video=name,
                    caption=self.answer(
                        prompt, result.caption, self.heads_reading(result.caption, track), video, track
                    ),
                    timings={**timings, **result.timings},
                    described=result.caption,
                )
                for name, result, video, track in zip(names, described, videos, tracks)
            ]
        notices = [
            None
            if not use_motion or (track is not None and track.has_person)
            else "no person was found: captioned from the video alone"
            for track in tracks
        ]
        usable = [track if track is not None and track.has_person else None for track in tracks]
        options = dict(prompt=prompt, decoding=decoding, max_new_tokens=max_new_tokens, **generate_kwargs)
        options["ground_directions"] = ground_directions
        options["ground_counts"] = ground_counts
        options["ground_story"] = ground_story

        durations = [_duration(video, track) for video, track in zip(videos, tracks)]
        results: list[CaptionResult | None] = [None] * len(videos)
        for i, track in enumerate(tracks):
            stated = self._statement(processor, track, videos[i]) if use_motion and track is not None else None
            if stated is not None:
                whole = (
                    []
                    if durations[i] is None
                    else [{"start": 0.0, "end": round(durations[i], 3), "caption": stated[0]}]
                )
                results[i] = CaptionResult(
                    names[i], stated[0], track.has_person, [], stated[1], dict(timings, new_tokens=0), whole
                )
        short = [
            i for i, d in enumerate(durations) if results[i] is None and (d is None or _within_window(processor, d))
        ]
        if short:
            texts, keyframes, stages = self._generate(
                processor, [videos[i] for i in short], [usable[i] for i in short], **options
            )
            for i, text, keys in zip(short, texts, keyframes):
                whole = (
                    [] if durations[i] is None else [{"start": 0.0, "end": round(durations[i], 3), "caption": text}]
                )
                results[i] = CaptionResult(
                    names[i], text, usable[i] is not None, keys, notices[i], {**timings, **stages}, whole
                )
        for i in [i for i in range(len(videos)) if results[i] is None]:
            results[i] = self._caption_segments(
                processor,
                videos[i],
                usable[i],
                durations[i],
                names[i],
                notices[i],
                timings,
                batch_size,
                progress,
                options,
            )
        if ground_colours:
            results = [
                _with_colours(result, video, track, duration) if track is not None else result
                for result, video, track, duration in zip(results, videos, usable, durations)
            ]
        return results

    def _caption_segments(
        self, processor, video, track, duration, name, notice, timings, batch_size, progress, options
    ):
        """A video longer than the motion window: cut into segments (at movement boundaries of `track`, else
        into equal pieces) and captioned `batch_size` segments at a time, as one streaming decode reaches them."""
        from tqdm.auto import tqdm

        start = time.perf_counter()
        min_seconds, max_seconds = segment_bounds(motion_window(processor))
        if track is not None:
            ranges = movement_segments(track, min_seconds, max_seconds)  # [(first, stop)] track frames
            spans = [(first / track.fps, stop / track.fps) for first, stop in ranges]
            parts = [slice_track(track, first, stop) for first, stop in ranges]
        else:
            spans = split_span(0.0, duration, max_seconds)
            ranges, parts = [(0, 0)] * len(spans), [None] * len(spans)
        # A stretch with nobody in it, a person seen in too few of its frames or one who does not move: stated as for
        # a whole video.
        captions = [None if part is None else (self._statement(processor, part) or (None,))[0] for part in parts]
        parts = [part if part is not None and part.has_person else None for part in parts]
        if isinstance(video, (str, os.PathLike)):
            info = probe_video(video)
            video_fps, num_video_frames = info.fps, info.num_frames
        else:
            video_fps, num_video_frames = len(video) / duration, len(video)

        def frame_at(seconds: float) -> int:
            return min(int(seconds * video_fps + 1e-6), num_video_frames - 1)

        overlay = processor.motion_representation == "overlay"
        keys = [processor.keyframe_indices(p) if overlay and p is not None else np.zeros(0, np.int64) for p in parts]
        # Per segment, the video frames it needs: `num_frames` spread over it, then those under its keyframes.
        wanted = []
        for (begin, end), part_keys in zip(spans, keys):
            first = frame_at(begin)
            count = max(1, min(int(round(end * video_fps)), num_video_frames) - first)
            under_keys = [frame_at(begin + key / track.fps) for key in part_keys]
            wanted.append(
                np.concatenate([first + sample_frame_indices(count, processor.num_frames), under_keys]).astype(
                    np.int64
                )
            )
        timings = {**timings, "segmentation": time.perf_counter() - start}

        batch, stages = [], []  # batch: (segment index, frames, motion)

        def flush():
            if not batch:
                return
            texts, _, stage = self._generate(
                processor, [clip for _, clip, _ in batch], [item for _, _, item in batch], **options
            )
            for (k, _, _), text in zip(batch, texts):
                captions[k] = text
            stages.append((stage, len(batch)))
            batch.clear()

        with tqdm(total=len(spans), desc="captioning segments", unit="segment", disable=not progress) as bar:
            for k, frames in segment_frames(video, wanted):
                images = [frames[int(i)] for i in wanted[k]]
                clip, item = np.stack(images[: processor.num_frames]), parts[k]  # [N, H, W, 3]
                if item is not None and overlay:
                    under_keys = images[processor.num_frames :]
                    item = np.stack([render_overlay(image, item, int(key)) for image, key in zip(under_keys, keys[k])])
                if captions[k] is None:
                    batch.append((k, clip, item))
                if len(batch) == batch_size or k == len(spans) - 1:
                    flush()
                bar.update(1)
        for stage in ("decode_and_preprocess", "generate"):
            timings[stage] = sum(times[stage] for times, _ in stages)
        timings["new_tokens"] = sum(times["new_tokens"] * n for times, n in stages) / len(spans)  # stated: 0
        segments = [
            {"start": round(a, 3), "end": round(b, 3), "caption": text} for (a, b), text in zip(spans, captions)
        ]
        keyframes = [int(first + key) for (first, _), part_keys in zip(ranges, keys) for key in part_keys]
        used = any(part is not None for part in parts)
        return CaptionResult(name, summarize(captions), used, keyframes, notice, timings, segments)

    def heads_reading(self, caption: str, track: MotionTrack | None) -> HeadsReading | None:
        """The motion heads' reading of `track` that questions about a clip captioned `caption` are answered from
        (`answer`; one for all of a clip's questions): None without a track, for a caption stated rather than
        described, and for a track longer than the motion window (its answers come from the summary caption)."""
        if track is None or caption in STATED_CAPTIONS:
            return None
        if not _within_window(self.processor, _duration(None, track)):
            return None
        return read_heads(self.model, self.processor, track)

    def answer(
        self,
        question: str,
        caption: str,
        reading: HeadsReading | None = None,
        video=None,
        track: MotionTrack | None = None,
        colours: dict[str, str] | None = None,
    ) -> str:
        """The answer to `question` (one that `is_read`) about a clip captioned `caption`, with the motion heads'
        `reading` of it (`heads_reading`), the `video` (a path or frames) and its `track`: a question about what the
        clip shows of the person is `looks.answer`ed (a colour from `colours`, else read from `video` where `track`
        puts the clothes, `clothing_colours`; without them, the caption's), any other `answers.read_answer`ed. A
        caption saying that nobody was found, that the person is glimpsed or that the clip is too short or too sparse
        answers any question but the person's looks (`looks.SEEN`), which are read wherever the track finds them."""
        kind = looks.question_kind(question)
        seen = kind in looks.SEEN and track is not None and track.has_person
        if caption in UNDESCRIBED_CAPTIONS and not seen:
            return caption
        if kind is not None:
            if kind in looks.COLOURED and colours is None and video is not None and track is not None:
                colours = self.clothing_colours(video, track)
            return looks.answer(question, caption, track, colours)
        return read_answer(question, caption, reading)

    @staticmethod
    def clothing_colours(video, track: MotionTrack) -> dict[str, str]:
        """`appearance.clothing_colours` of `video` (a path, or frames as long as `track`) where `track` puts the
        clothes: one read for all of a clip's colour questions (`answer(..., colours=)`)."""
        return appearance.clothing_colours(video, track, _video_fps(video, _duration(None, track)))

    def _statement(self, processor, track: MotionTrack, video=None) -> tuple[str, str] | None:
        """`_stated_caption` of `track`, else `STILL_CAPTION` where a person who barely moves (see POSTURE_ENERGY)
        moves in the `video`'s picture (a path or frames; a long video's segments are given none) only as the whole
        picture does (`scene.scene_motion` under `SCENE_STILL`) or the motion heads read only the posture; None for a
        track to describe."""
        stated = _stated_caption(track)
        if (
            stated is not None
            or self.model.model.motion_heads is None
            or processor.motion_representation != "kinematic"
        ):
            return stated
        energy = motion_energy(track, steady=True)
        if energy >= POSTURE_ENERGY or not _within_window(processor, _duration(None, track)):
            return None  # a long video's posture is read segment by segment
        moved = None if video is None else scene_motion(video, track, _video_fps(video, _duration(None, track)))
        if moved is not None and moved < SCENE_STILL:
            return (
                STILL_CAPTION,
                f"still: the person barely moves (steady motion energy {energy:.3f} < {POSTURE_ENERGY} body heights) "
                f"and moves in the picture only as the whole picture does ({moved:.4f} < {SCENE_STILL} body heights)",
            )
        found = np.flatnonzero(track.valid)
        held = [held_still(track, found[int(moment * (len(found) - 1))]) for moment in POSTURE_MOMENTS]
        features, valid = zip(*(processor.motion_input(item) for item in (track, *held)))
        device = self.model.device
        evidence = clip_evidence(self.model, torch.stack(features).to(device), torch.stack(valid).to(device))
        action = int(evidence[0].argmax())  # evidence: [1 + moments, A], the clip as filmed, then held still
        filmed, held_least = evidence[0, action], evidence[1:, action].min()
        if (evidence[1:].argmax(-1) != action).any() or held_least < filmed - POSTURE_MARGIN:
            return None
        name = self.model.config.motion_head_labels["action"][action]
        return (
            STILL_CAPTION,
            f"still: the person barely moves (steady motion energy {energy:.3f} < {POSTURE_ENERGY} body heights) and the motion "
            f"heads read their posture, held still, as they read the clip ({name}: {held_least:.2f} held, "
            f"{filmed:.2f} as filmed)",
        )

    def _generate(
        self,
        processor,
        videos,
        motion,
        prompt,
        decoding,
        max_new_tokens,
        ground_directions,
        ground_counts,
        ground_story,
        **generate_kwargs,
    ):
        """Captions of one batch: `videos` (paths or frames), `motion` (tracks, overlay keyframe images or None).
        Returns the texts, the overlay keyframes of each track, and the seconds per stage."""
        timings = {}
        start = time.perf_counter()
        keyframes = [
            processor.keyframe_indices(t).tolist()
            if isinstance(t, MotionTrack) and processor.motion_representation == "overlay"
            else []
            for t in motion
        ]
        prompts = [processor.default_prompt(prompt or DEFAULT_PROMPT, with_motion=t is not None) for t in motion]
        inputs = processor(text=prompts, videos=videos, motion=motion)
        timings["decode_and_preprocess"] = time.perf_counter() - start

        start = time.perf_counter()
        inputs = inputs.to(self.model.device)
        options = dict(max_new_tokens=max_new_tokens, do_sample=decoding == "sample", **generate_kwargs)
        if decoding == "msd":
            options["motion_synergetic"] = True
        else:
            grounding = [
                direction_processor(processor.tokenizer, motion, inputs["input_ids"].shape[1])
                if ground_directions
                else None,
                count_processor(self.model, processor, motion, inputs) if ground_counts else None,
            ]
            options["logits_processor"] = [*options.get("logits_processor", []), *filter(None, grounding)]
        if decoding == "grounded":
            chosen = generate_grounded(self.model, processor.tokenizer, inputs, **options)
            new_tokens = pad_sequence(chosen, batch_first=True, padding_value=processor.tokenizer.pad_token_id)
        else:
            new_tokens = self.model.generate(**inputs, **options)[:, inputs["input_ids"].shape[1] :]
        texts = [text.strip() for text in processor.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]
        if decoding == "grounded" and ground_story:  # the story as the motion heads read it (story.py)
            texts = [
                retell(text, read_heads(self.model, processor, t) if isinstance(t, MotionTrack) else None)
                for text, t in zip(texts, motion)
            ]
        timings["generate"] = time.perf_counter() - start
        timings["new_tokens"] = int((new_tokens != processor.tokenizer.pad_token_id).sum()) / len(videos)
        return texts, keyframes, timings


def _is_image(video) -> bool:
    return isinstance(video, (str, os.PathLike)) and os.path.splitext(os.fspath(video))[1].lower() in IMAGE_SUFFIXES


def _read_image(path) -> np.ndarray:
    """An image file as one RGB frame `[1, H, W, 3]` uint8."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))[None]
    except FileNotFoundError as err:
        raise VideoReadError(f"Image not found: {os.fspath(path)!r}.") from err
    except (UnidentifiedImageError, OSError) as err:
        raise VideoReadError(f"{os.fspath(path)!r} is not a readable image ({err}).") from err


def _stated_caption(track: MotionTrack) -> tuple[str, str] | None:
    """(caption, notice) for a track the model should not describe: nobody in it, a person found in fewer than
    `SEEN_AT_LEAST` of its frames, a person who does not move, a clip shorter than `SHORTEST_SECONDS` or one of
    fewer than `LOWEST_FPS` frames a second; None otherwise."""
    if not track.has_person:
        return NOBODY_CAPTION, "no person: nobody was found in the video, so no actions are described"
    seen = float(track.valid.mean())
    if seen < SEEN_AT_LEAST:
        return (
            GLIMPSED_CAPTION,
            f"glimpsed: the person was found in {seen:.0%} of the frames (under {SEEN_AT_LEAST:.0%}), too few to "
            "describe their movements",
        )
    energy = motion_energy(track)
    if energy < STILL_ENERGY:
        return (
            STILL_CAPTION,
            f"still: the person does not move (motion energy {energy:.3f} < {STILL_ENERGY} body heights)",
        )
    seconds = track.num_frames / track.fps
    if seconds < SHORTEST_SECONDS:
        return (
            SHORT_CAPTION,
            f"short: the clip lasts {seconds:.2f} s (under {SHORTEST_SECONDS:g} s), too short to show a movement",
        )
    if track.fps < LOWEST_FPS:
        return (
            SPARSE_CAPTION,
            f"sparse: the video runs at {track.fps:.2g} fps (under {LOWEST_FPS:g}), too few frames to follow a movement",
        )
    return None


def _within_window(processor, seconds: float) -> bool:
    """Whether a clip of `seconds` fits the model's motion window (and is read whole rather than in segments)."""
    return seconds <= motion_window(processor) + 1e-6


def _with_colours(result: CaptionResult, video, track: MotionTrack, duration: float) -> CaptionResult:
    """`result` with its captions' clothing colours those `video` shows where `track` puts the clothes (and the
    seconds that took, `timings["colours"]`); as it is, without reading the video, where no caption names them."""
    if not any(map(appearance.names_colours, [result.caption, *(s["caption"] for s in result.segments)])):
        return result
    start = time.perf_counter()
    colours = appearance.clothing_colours(video, track, _video_fps(video, duration))
    segments = [
        {**segment, "caption": appearance.ground_colours(segment["caption"], colours)} for segment in result.segments
    ]
    timings = {**result.timings, "colours": time.perf_counter() - start}
    return replace(
        result, caption=appearance.ground_colours(result.caption, colours), segments=segments, timings=timings
    )


def _video_fps(video, duration: float) -> float:
    """Frames a second of `video`: its header's for a file, its frames over `duration` (seconds) for frames."""
    return probe_video(video).fps if isinstance(video, (str, os.PathLike)) else len(video) / duration


def is_read(question: str) -> bool:
    """Whether `MACMCaptioner.caption(prompt=question)` reads the answer (`answers.reads`, `looks.reads`) rather than
    having the model generate one."""
    return reads(question) or looks.reads(question)


def _duration(video, track) -> float | None:
    """Seconds of `video`: its track's length, else its header's; None for frames without a track."""
    if track is not None:
        return track.num_frames / track.fps
    if isinstance(video, (str, os.PathLike)):
        return probe_video(video).duration
    return None


__all__ = [
    "CaptionResult",
    "DEFAULT_MODEL",
    "GLIMPSED_CAPTION",
    "LOWEST_FPS",
    "MACMCaptioner",
    "NOBODY_CAPTION",
    "SHORTEST_SECONDS",
    "SHORT_CAPTION",
    "SPARSE_CAPTION",
    "STATED_CAPTIONS",
    "STILL_CAPTION",
    "UNDESCRIBED_CAPTIONS",
    "is_read",
]
