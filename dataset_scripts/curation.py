"""The paper's curation (Song et al., arXiv 2510.24767, "HMI dataset") as a reusable step, with a reason for every decision.

1. Scene cuts, then 2-10 s segments: a scene shorter than 2 s is dropped, a longer one is split
   into equal segments of at most 10 s.
2. Pose filter, per segment: a single person in > 90% of frames, with >= 12 keypoints of confidence
   > 0.5, >= 2 face points, and a person box > 1/50 of the frame. The paper uses DWPose; we use
   MediaPipe Pose (offline, in its wheel) through `extract_motion`. MediaPipe finds at most one
   person per frame, so a second person is looked for by masking the first one's box and running
   pose again on what is left (our approach; the paper does not say how it counts people).
3. Movement: the mean speed of the confident keypoints, in person heights per second, must reach
   `min_movement` (the paper's threshold is unpublished; ours is a default to tune).

`macm curate VIDEO... -o OUT` writes the kept segments as clips
(OUT/videos/<video>_<k>.mp4) and OUT/curation_report.json with every kept and dropped segment.
"""

import argparse
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from processing_macm.motion_track import MEDIAPIPE_LANDMARK_NAMES
from processing_macm.segments import split_span
from processing_macm.video_io import iter_frames, write_video

# MediaPipe's first 11 landmarks are the face: nose, eyes, ears, mouth.
FACE_POINTS = list(range(MEDIAPIPE_LANDMARK_NAMES.index("mouth_right") + 1))


@dataclass(frozen=True)
class CurationConfig:
    min_seconds: float = 2.0
    max_seconds: float = 10.0
    scene_threshold: float = 0.4  # half the L1 distance of consecutive colour histograms, in [0, 1]
    scene_fps: float = 10.0  # rate at which frames are compared for cuts
    pose_fps: float = 5.0  # rate at which the pose filter looks at a segment
    single_person_ratio: float = 0.9
    min_keypoints: int = 12
    keypoint_confidence: float = 0.5
    min_face_points: int = 2
    min_box_fraction: float = 1 / 50
    min_movement: float = 0.05  # person heights per second

    def __post_init__(self):
        if not 0 < self.min_seconds <= self.max_seconds:
            raise ValueError(f"Need 0 < min_seconds <= max_seconds, got {self.min_seconds} and {self.max_seconds}.")
        if self.max_seconds < 2 * self.min_seconds:
            # Otherwise a scene just over max_seconds cannot be split into segments of min_seconds.
            raise ValueError(
                f"max_seconds ({self.max_seconds}) must be at least twice min_seconds ({self.min_seconds})."
            )


@dataclass
class Decision:
    video: str
    start: float
    end: float
    kept: bool
    reason: str
    stats: dict = field(default_factory=dict)


# --- 1. scenes and segments ------------------------------------------------------------------------


def _histogram(frame: np.ndarray) -> np.ndarray:
    """Normalised joint colour histogram (4 bins per channel) of a frame `[H, W, 3]`."""
    small = frame[:: max(1, frame.shape[0] // 64), :: max(1, frame.shape[1] // 64)] // 64  # [h, w, 3] in 0..3
    codes = (small[..., 0].astype(np.int64) * 16 + small[..., 1] * 4 + small[..., 2]).ravel()
    return np.bincount(codes, minlength=64) / codes.size


def scenes(video, config: CurationConfig = CurationConfig()) -> list[tuple[float, float]]:
    """`[(start, end)]` seconds of the shots of `video`, split where consecutive histograms differ."""
    bounds, previous, last_time, step = [0.0], None, 0.0, 1.0 / config.scene_fps
    for _, time_s, frame in iter_frames(video, max_fps=config.scene_fps):
        histogram = _histogram(frame)
        if previous is not None and 0.5 * np.abs(histogram - previous).sum() > config.scene_threshold:
            bounds.append(time_s)
        previous, last_time = histogram, time_s
    bounds.append(last_time + step)
    return list(zip(bounds[:-1], bounds[1:]))


def split_scene(start: float, end: float, config: CurationConfig) -> list[tuple[float, float]]:
    """Equal segments of at most `max_seconds`; none when the scene is shorter than `min_seconds`."""
    if end - start < config.min_seconds:
        return []
    return split_span(start, end, config.max_seconds)


# --- 2. pose filter and 3. movement -----------------------------------------------------------------


def _person_box(keypoints: np.ndarray) -> tuple[float, float, float, float]:
    """`(x0, y0, x1, y1)` around all 33 landmarks `[33, 3]` (MediaPipe places hidden ones too)."""
    return keypoints[:, 0].min(), keypoints[:, 1].min(), keypoints[:, 0].max(), keypoints[:, 1].max()


def _mask_person(frame: np.ndarray, keypoints: np.ndarray, margin: float = 0.2) -> np.ndarray:
    """The frame with the found person's box (grown by `margin` of its size) painted its median colour."""
    x0, y0, x1, y1 = _person_box(keypoints)
    dx, dy = (x1 - x0) * margin, (y1 - y0) * margin
    height, width = frame.shape[:2]
    x0, x1 = int(max(0, x0 - dx)), int(min(width, x1 + dx + 1))
    y0, y1 = int(max(0, y0 - dy)), int(min(height, y1 + dy + 1))
    masked = frame.copy()
    masked[y0:y1, x0:x1] = np.median(frame.reshape(-1, 3), axis=0).astype(np.uint8)
    return masked


def pose_statistics(frames: np.ndarray, fps: float, config: CurationConfig = CurationConfig()) -> dict:
    """Per-criterion frame ratios and the movement score of frames `[T, H, W, 3]` at `fps`."""
    from processing_macm.pose_backends import extract_motion

    track = extract_motion(frames, fps=fps, max_fps=None, progress=False)
    found = track.valid  # [T]
    masked = np.stack([_mask_person(f, k) if v else f for f, k, v in zip(frames, track.keypoints_2d, found)])
    second = extract_motion(masked, fps=fps, max_fps=None, progress=False).valid & found  # [T]

    confident = track.keypoints_2d[..., 2] > config.keypoint_confidence  # [T, 33]
    enough_points = confident.sum(1) >= config.min_keypoints
    enough_face = confident[:, FACE_POINTS].sum(1) >= config.min_face_points
    boxes = np.array([_person_box(k) for k in track.keypoints_2d])  # [T, 4]
    box_area = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)
    big_enough = box_area > config.min_box_fraction * track.frame_size[0] * track.frame_size[1]
    good = found & ~second & enough_points & enough_face & big_enough

    # Movement: keypoint displacement between consecutive good frames, in person heights per second.
    heights = np.maximum(boxes[:, 3] - boxes[:, 1], 1.0)  # [T]
    both = good[1:] & good[:-1]
    moved = np.linalg.norm(np.diff(track.keypoints_2d[..., :2], axis=0), axis=-1)  # [T-1, 33]
    pair_confident = confident[1:] & confident[:-1]
    speeds = [
        moved[t][pair_confident[t]].mean() / heights[t] * fps for t in np.flatnonzero(both) if pair_confident[t].any()
    ]
    ratio = lambda flags: round(float(flags.mean()), 3)  # noqa: E731
    return {
        "frames": len(found),
        "one_person": ratio(found & ~second),
        "no_person": ratio(~found),
        "several_people": ratio(second),
        "enough_keypoints": ratio(found & enough_points),
        "enough_face_points": ratio(found & enough_face),
        "box_big_enough": ratio(found & big_enough),
        "good": ratio(good),
        "movement": round(float(np.mean(speeds)), 4) if speeds else 0.0,
    }


def judge(stats: dict, config: CurationConfig = CurationConfig()) -> tuple[bool, str]:
    """Keep or drop from `pose_statistics`, with the first failed criterion as the reason."""
    need = config.single_person_ratio
    if stats["good"] <= need:
        failures = [
            (stats["no_person"] > 1 - need, f"no person in {stats['no_person']:.0%} of frames"),
            (stats["several_people"] > 1 - need, f"two or more people in {stats['several_people']:.0%} of frames"),
            (stats["enough_keypoints"] <= need, f"fewer than {config.min_keypoints} confident keypoints in {1 - stats['enough_keypoints']:.0%} of frames"),
            (stats["enough_face_points"] <= need, f"fewer than {config.min_face_points} face points in {1 - stats['enough_face_points']:.0%} of frames"),
            (stats["box_big_enough"] <= need, f"person box under 1/{round(1 / config.min_box_fraction)} of the frame in {1 - stats['box_big_enough']:.0%} of frames"),
        ]  # fmt: skip
        reasons = [text for failed, text in failures if failed] or [
            f"a single well-seen person in only {stats['good']:.0%} of frames"
        ]
        return False, reasons[0]
    if stats["movement"] < config.min_movement:
        return False, f"still: keypoints move {stats['movement']:.3f} person heights/s (< {config.min_movement})"
    return True, f"one person in {stats['good']:.0%} of frames, moving {stats['movement']:.3f} person heights/s"


def curate_video(video, config: CurationConfig = CurationConfig(), keep_frames: bool = False):
    """Decisions for every scene and segment of `video`. With `keep_frames`, yields `(decision,
    frames)` with the segment's frames at the video's rate for kept segments (else None)."""
    video = str(video)
    segments, decisions = [], []
    for start, end in scenes(video, config):
        pieces = split_scene(start, end, config)
        if not pieces:
            reason = f"scene of {end - start:.1f} s is shorter than {config.min_seconds:g} s"
            decisions.append(Decision(video, round(start, 3), round(end, 3), False, reason))
        segments += pieces
    yield from ((d, None) if keep_frames else d for d in decisions)

    # One streaming pass: each segment is judged as soon as the video passes its end.
    pending = iter(segments)
    current, sampled, full, next_pose = next(pending, None), [], [], 0.0
    for _, time_s, frame in iter_frames(video):
        while current is not None and time_s >= current[1] - 1e-6:
            yield _decide(video, current, sampled, full, config, keep_frames)
            current, sampled, full, next_pose = next(pending, None), [], [], current[1]
        if current is None:
            break
        if time_s >= current[0] - 1e-6:
            if keep_frames:
                full.append(frame)
            if time_s + 1e-6 >= next_pose:
                sampled.append(frame)
                next_pose = time_s + 1.0 / config.pose_fps
    if current is not None:
        yield _decide(video, current, sampled, full, config, keep_frames)


def _decide(video, segment, sampled, full, config, keep_frames):
    stats = pose_statistics(np.stack(sampled), config.pose_fps, config)
    kept, reason = judge(stats, config)
    decision = Decision(video, round(segment[0], 3), round(segment[1], 3), kept, reason, stats)
    return (decision, np.stack(full) if kept else None) if keep_frames else decision


def curate(videos, out_dir, config: CurationConfig = CurationConfig()) -> list[Decision]:
    """Curates `videos`; writes the kept segments and `curation_report.json` under `out_dir`."""
    from processing_macm.video_io import probe_video

    out_dir = Path(out_dir)
    decisions = []
    for video in tqdm([str(v) for v in videos], desc="curation", unit="video"):
        fps = probe_video(video).fps
        for index, (decision, frames) in enumerate(curate_video(video, config, keep_frames=True)):
            if frames is not None:
                clip = out_dir / "videos" / f"{Path(video).stem}_{index:03d}.mp4"
                write_video(clip, frames, fps)
                decision.stats["clip"] = str(clip.relative_to(out_dir))
            decisions.append(decision)
    report = {
        "kept": sum(d.kept for d in decisions),
        "dropped": sum(not d.kept for d in decisions),
        "segments": [asdict(d) for d in decisions],
    }
    tmp = out_dir / ".curation_report.json.tmp"
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    tmp.replace(out_dir / "curation_report.json")
    return decisions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="macm curate", description=__doc__.split("\n\n")[0])
    parser.add_argument("videos", nargs="+")
    parser.add_argument("-o", "--output", required=True, help="folder for the kept clips and curation_report.json")
    parser.add_argument("--min-movement", type=float, default=CurationConfig.min_movement)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    decisions = curate(args.videos, args.output, CurationConfig(min_movement=args.min_movement))
    for d in decisions:
        print(f"{'keep' if d.kept else 'drop'} {d.video} {d.start:.1f}-{d.end:.1f} s: {d.reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["CurationConfig", "Decision", "curate", "curate_video", "judge", "pose_statistics", "scenes", "split_scene"]
