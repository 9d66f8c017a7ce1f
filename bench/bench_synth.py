"""HMI-Synth throughput: clips per hour on this machine, without and with MediaPipe tracks, and MB per clip.

    python bench/bench_synth.py --num-clips 40 --num-workers 2 [--version 2] [--no-tracks]

The machine's load average is printed beside the timings: on a shared machine it says how much of the
cores the benchmark really had.

Tracks are computed as `macm build --extract-motion` would: `extract_motion(video, backend="mediapipe",
max_fps=None)` on every frame, one process per core.
"""

import argparse
import json
import multiprocessing
import os
import tempfile
import time
from pathlib import Path


def _track(path: str) -> float:
    from processing_macm.pose_backends import extract_motion

    track = extract_motion(path, backend="mediapipe", max_fps=None, progress=False)
    return float(track.valid.mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-clips", type=int, default=40)
    parser.add_argument("--num-workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--version", type=int, default=2)
    parser.add_argument("--no-tracks", action="store_true", help="time rendering only")
    args = parser.parse_args()

    from dataset_scripts.synth import composition, generate_dataset
    from dataset_scripts.synth.body import load_model

    load_model()  # builds anny's cache once if missing, so it is not timed
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        out = generate_dataset(
            Path(tmp) / "synth",
            args.num_clips,
            args.seed,
            args.size,
            num_workers=args.num_workers,
            progress=False,
            version=args.version,
        )
        render_s = time.perf_counter() - start
        load_render = os.getloadavg()[0]
        rows = [json.loads(line) for line in (out / "metadata.jsonl").read_text().splitlines()]
        videos = sorted(str(p) for p in (out / "videos").glob("*.mp4"))
        size_mb = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 1e6
        if not args.no_tracks:
            start = time.perf_counter()
            with multiprocessing.get_context("spawn").Pool(args.num_workers) as pool:
                found = pool.map(_track, videos, chunksize=1)
            track_s = time.perf_counter() - start
    n = args.num_clips
    seconds = sum(row["duration"] for row in rows)
    print(
        f"HMI-Synth v{args.version}, clips: {n} ({seconds / n:.1f} s of video each), workers: {args.num_workers}, "
        f"load average {load_before:.1f} before, {load_render:.1f} after rendering"
    )
    print(f"composition: {composition(rows)}")
    print(f"render only:          {3600 * n / render_s:7.0f} clips/h ({render_s:.1f} s, includes worker start-up)")
    print(f"size on disk: {size_mb / n:.3f} MB per clip (video + joints + metadata)")
    if args.no_tracks:
        return
    print(f"MediaPipe tracks:     {3600 * n / track_s:7.0f} clips/h ({track_s:.1f} s)")
    print(
        f"render + tracks:      {3600 * n / (render_s + track_s):7.0f} clips/h "
        f"-> 2,000 clips in {2000 * (render_s + track_s) / n / 60:.0f} min"
    )
    print(f"person found by MediaPipe: {100 * sum(found) / len(found):.1f}% of frames (mean over clips)")


if __name__ == "__main__":
    main()
