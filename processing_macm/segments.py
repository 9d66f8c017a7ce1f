"""Long videos as a timeline: a pose track cut into segments at movement boundaries, and the timeline
written as text, SubRip or WebVTT.

A model reads at most `motion_max_frames / motion_fps` seconds of motion (12.8 s for the embedded
model). A longer video is cut where the movement changes (the person stops, or other limbs start
moving) into segments of 2-10 s, the span M-ACM's curation cuts its videos into (Song et al. 2025,
"HMI dataset"); each segment is then captioned on its own. Boundaries are change points of the mean
of a per-body-part speed signal, found with `ruptures` (Truong et al., "Selective review of offline
change point detection methods", Signal Processing 2020) by penalised kernel change-point detection.
"""

import math
import os
import re
from collections.abc import Iterator

import numpy as np

from .motion_track import PER_FRAME_FIELDS, SMPL_JOINT_NAMES, MotionTrack
from .video_io import iter_frames

MIN_SECONDS, MAX_SECONDS = 2.0, 10.0
# Joint speed per body part: the mean speed of its joints (pelvis-centred, so whole-body travel shows
# in the legs that carry it, not as motion of every joint).
BODY_PARTS = {
    "torso & head": ("spine1", "spine2", "spine3", "neck", "head", "left_collar", "right_collar"),
    "left arm": ("left_shoulder", "left_elbow", "left_wrist"),
    "right arm": ("right_shoulder", "right_elbow", "right_wrist"),
    "left leg": ("left_hip", "left_knee", "left_ankle", "left_foot"),
    "right leg": ("right_hip", "right_knee", "right_ankle", "right_foot"),
}
SMOOTH_SECONDS = 1.0  # one repetition of most actions: a wave's back and forth reads as one level
STILL_SPEED = 0.05  # m/s; the log below treats speeds under this alike, so pose jitter makes no boundary
PENALTY = 1.0  # per boundary, in (log speed)² · seconds; chosen with `bench/bench_long.py boundaries` (seed 21)


def motion_window(processor) -> float:
    """Seconds of motion the model reads at once: `motion_max_frames / motion_fps` of its processor."""
    return processor.motion_max_frames / processor.motion_fps


def segment_bounds(window: float) -> tuple[float, float]:
    """`(min_seconds, max_seconds)`: 2-10 s, shortened to fit a model whose window is under 10 s."""
    max_seconds = min(MAX_SECONDS, window)
    return min(MIN_SECONDS, max_seconds / 2), max_seconds


def split_span(start: float, end: float, max_seconds: float) -> list[tuple[float, float]]:
    """`[start, end)` in the fewest equal pieces of at most `max_seconds`."""
    count = max(1, math.ceil((end - start) / max_seconds - 1e-9))
    edges = np.linspace(start, end, count + 1)
    return list(zip(edges[:-1].tolist(), edges[1:].tolist()))


def movement_signal(track: MotionTrack) -> np.ndarray:
    """`[T, 6]` per-frame log speed of each of `BODY_PARTS`, smoothed over `SMOOTH_SECONDS`, and
    whether the person is seen (a person leaving the frame is a boundary too)."""
    index = {name: i for i, name in enumerate(SMPL_JOINT_NAMES)}
    joints = track.joints_3d - track.joints_3d[:, :1]  # [T, 22, 3]
    speeds = np.zeros((track.num_frames, len(BODY_PARTS)), np.float32)  # [T, 5] m/s
    if track.num_frames > 1:
        joint_speed = np.linalg.norm(np.diff(joints, axis=0), axis=-1) * track.fps  # [T-1, 22]
        parts = np.stack([joint_speed[:, [index[n] for n in names]].mean(1) for names in BODY_PARTS.values()], 1)
        both = track.valid[1:] & track.valid[:-1]
        speeds[1:] = np.where(both[:, None], parts, 0.0)
        speeds[0] = speeds[1]
    signal = np.concatenate([np.log(speeds + STILL_SPEED), track.valid[:, None].astype(np.float32)], axis=1)
    width = max(1, int(round(SMOOTH_SECONDS * track.fps)))
    kernel = np.ones(width) / width
    padded = np.pad(signal, ((width // 2, width - 1 - width // 2), (0, 0)), mode="edge")
    return np.stack([np.convolve(padded[:, c], kernel, mode="valid") for c in range(signal.shape[1])], 1)


def movement_segments(
    track: MotionTrack, min_seconds: float = MIN_SECONDS, max_seconds: float = MAX_SECONDS, penalty: float = PENALTY
) -> list[tuple[int, int]]:
    """`[(first, stop)]` track-frame ranges covering the whole track, cut at movement boundaries, each
    `min_seconds` to `max_seconds` long (a track shorter than `min_seconds` is one range).

    Change points of the mean of `movement_signal`, by PELT with a linear kernel (least squares), as in
    `ruptures.KernelCPD`; the penalty per boundary scales with the signal's noise, estimated from its
    frame-to-frame differences, so it does not depend on the units of the speeds. Ranges still longer
    than `max_seconds` (a long stretch of one movement) are split into equal pieces.
    """
    import ruptures

    if not 0 < 2 * min_seconds <= max_seconds:
        raise ValueError(f"Need 0 < 2 * min_seconds <= max_seconds, got {min_seconds} and {max_seconds}.")
    num_frames, fps = track.num_frames, track.fps
    min_size = max(2, int(round(min_seconds * fps)))
    bounds = [0, num_frames]
    if num_frames >= 2 * min_size:
        # Squared error in log-speed units times seconds, so that the penalty does not depend on the frame rate.
        signal = movement_signal(track).astype(np.float64) / math.sqrt(fps)  # [T, 6]
        # A boundary is kept where it lowers that error by more than `penalty`: between two 2 s stretches,
        # when the mean log speed differs by about sqrt(penalty) (a factor e^1 = 2.7 in speed for 1.0).
        detector = ruptures.KernelCPD(kernel="linear", min_size=min_size, jump=max(1, int(fps // 5)))
        bounds = [0] + detector.fit(signal).predict(pen=penalty)
    # Split in whole frames, so that no piece exceeds the model's window after rounding.
    max_size = int(max_seconds * fps + 1e-6)
    ranges = []
    for first, stop in zip(bounds[:-1], bounds[1:]):
        edges = np.linspace(first, stop, math.ceil((stop - first) / max_size) + 1).round().astype(int)
        ranges += list(zip(edges[:-1].tolist(), edges[1:].tolist()))
    return ranges


def segment_frames(video, wanted: list[np.ndarray]) -> Iterator[tuple[int, dict[int, np.ndarray]]]:
    """Yields `(k, {video frame index: frame [H, W, 3]})` for each segment k, in order, as soon as decoding
    has passed the last of its `wanted[k]` indices. `video` is a path (decoded once, as a stream; only
    wanted frames are kept, so memory is bounded by the segments not yet consumed) or frames `[N, H, W, 3]`."""
    if not isinstance(video, (str, os.PathLike)):
        frames = np.asarray(video)
        for k, indices in enumerate(wanted):
            yield k, {int(i): frames[min(int(i), len(frames) - 1)] for i in indices}
        return
    wanting: dict[int, list[int]] = {}  # video frame index -> segments that want it
    for k, indices in enumerate(wanted):
        for i in indices:
            wanting.setdefault(int(i), []).append(k)
    lasts = [int(max(indices)) for indices in wanted]
    kept: list[dict] = [{} for _ in wanted]
    done, last = 0, None
    for index, _, frame in iter_frames(video):
        last = frame
        for k in wanting.get(index, ()):
            kept[k][index] = frame
        while done < len(wanted) and index >= lasts[done]:
            yield done, kept[done]
            kept[done], done = {}, done + 1
        if done == len(wanted):
            return
    # Header frame counts can overstate what decodes (truncated files): the last decoded frame stands in.
    for k in range(done, len(wanted)):
        yield k, {int(i): kept[k].get(int(i), last) for i in wanted[k]}


def slice_track(track: MotionTrack, first: int, stop: int) -> MotionTrack:
    """Frames `first:stop` of `track` as a track of their own (per-frame arrays sliced, the rest shared)."""
    arrays = {
        name: getattr(track, name)[first:stop] if getattr(track, name) is not None else None
        for name in PER_FRAME_FIELDS
    }
    return MotionTrack(
        fps=track.fps, frame_size=track.frame_size, backend=track.backend, betas=track.betas,
        mesh_faces=track.mesh_faces, camera_intrinsics=track.camera_intrinsics, **arrays,
    )  # fmt: skip


def summarize(captions: list[str]) -> str:
    """The whole video in one caption, by a rule (no model): the opening sentence of the first segment, then the
    first sentence of each segment, in order, joined by "Then". Where most segments open alike (the embedded
    model opens with the scene: "The video shows a person in ..."), that opening is said once and each segment
    gives its next sentence instead; order words ("First,", "Finally,") are dropped and a repeat is left out."""
    split = [[part.strip().rstrip(".") for part in caption.split(". ") if part.strip()] for caption in captions]
    split = [sentences for sentences in split if sentences]
    if not split:
        return ""
    openings = [" ".join(sentences[0].split()[:4]) for sentences in split]
    scene = max(set(openings), key=openings.count)
    repeated_scene = openings.count(scene) > len(split) / 2
    lead = [split[0][0]] if repeated_scene else []
    actions = []
    for sentences, opening in zip(split, openings):
        sentence = sentences[1] if repeated_scene and opening == scene and len(sentences) > 1 else sentences[0]
        sentence = re.sub(r"^(first|then|next|after that|finally),?\s+", "", sentence, flags=re.IGNORECASE)
        if sentence not in lead and (not actions or sentence != actions[-1]):
            actions.append(sentence)
    actions = (
        [actions[0][:1].upper() + actions[0][1:]] + [f"Then {a[:1].lower() + a[1:]}" for a in actions[1:]]
        if actions
        else []
    )
    return " ".join(f"{sentence}." for sentence in lead + actions)


# --- the timeline as text and subtitles --------------------------------------------------------------


def clock(seconds: float) -> str:
    """`mm:ss` (`h:mm:ss` from an hour on)."""
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def timeline_lines(segments: list[dict]) -> list[str]:
    """`[mm:ss–mm:ss] caption` per segment."""
    return [f"[{clock(s['start'])}–{clock(s['end'])}] {s['caption']}" for s in segments]


def to_srt(segments: list[dict]) -> str:
    """The segments as SubRip text, one cue each."""
    from datetime import timedelta

    import srt

    cues = [
        srt.Subtitle(i + 1, timedelta(seconds=s["start"]), timedelta(seconds=s["end"]), s["caption"] or "…")
        for i, s in enumerate(segments)
    ]
    return srt.compose(cues)


def to_vtt(segments: list[dict]) -> str:
    """The segments as WebVTT text, one cue each."""
    import webvtt

    def stamp(seconds: float) -> str:
        milliseconds = int(round(seconds * 1000))
        hours, rest = divmod(milliseconds, 3_600_000)
        minutes, rest = divmod(rest, 60_000)
        return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"

    document = webvtt.WebVTT(
        captions=[webvtt.Caption(stamp(s["start"]), stamp(s["end"]), s["caption"] or "…") for s in segments]
    )
    return document.content


__all__ = [
    "BODY_PARTS", "MAX_SECONDS", "MIN_SECONDS", "clock", "motion_window", "movement_segments",
    "movement_signal", "segment_bounds", "segment_frames", "slice_track", "split_span", "summarize", "timeline_lines", "to_srt", "to_vtt",
]  # fmt: skip
