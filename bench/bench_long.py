"""Long videos: time and peak memory of `macm caption` by clip length, a folder of clips against pose alone,
and how well segments match known action boundaries.

    python bench/bench_long.py lengths [--seconds 1 10 60 600]
    python bench/bench_long.py folder [--num-clips 20]
    python bench/bench_long.py boundaries [--num-videos 4 --clips-per-video 10 --seed 21 --penalties 0.5 1 2 4 8]

lengths: an HMI-Synth example clip of the Space (256², 15 fps) looped to each length, captioned by one
`macm caption --json` process: its wall time, its pose time (from `timings`), the ratio, its peak RSS
(VmHWM) and the number of segments.
folder: `macm caption FOLDER --json` over N 10 s clips (one model load) against MediaPipe pose alone on
the same clips in one process, in clips per minute.
boundaries: fresh HMI-Synth clips (a seed the embedded model was not trained on) stitched end to end at
one frame rate, so every action's start and end is known; for each stitched video, the mean distance
from each predicted boundary to the nearest true one (precision side) and from each true boundary to the
nearest predicted one (recall side), in seconds, and the fraction of segments whose caption names
(`grammar.parse_caption`) the action that fills most of the segment.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_caption import PEAK_RSS_WRAPPER  # noqa: E402


def looped_clip(path: Path, seconds: float) -> str:
    """A Space example (256², 15 fps) looped to `seconds`, written frame by frame (never all in memory)."""
    from processing_macm import read_video, write_video
    from space.app import EXAMPLES_DIR

    frames, info = read_video(sorted(EXAMPLES_DIR.glob("*.mp4"))[0])
    total = round(seconds * info.fps)
    return str(write_video(path, (frames[t % len(frames)] for t in range(total)), info.fps))


def run_caption(args: list[str]) -> tuple[float, float, list[dict]]:
    """Wall seconds, peak RSS (MB) and the JSON lines of one `macm caption ... --json` process."""
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", PEAK_RSS_WRAPPER, "caption", *args, "--json"], capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"`macm caption {' '.join(args)}` failed:\n{result.stderr[-2000:]}")
    peak_kib = int(next(line for line in result.stderr.splitlines() if line.startswith("VmHWM:")).split()[1])
    return wall, peak_kib / 1024, [json.loads(line) for line in result.stdout.splitlines()]


def bench_lengths(seconds: list[float], work: Path) -> None:
    print("| clip | wall s | pose s | wall / pose | peak RSS MB | segments |")
    print("|---|---|---|---|---|---|")
    for length in seconds:
        clip = looped_clip(work / f"loop_{length:g}s.mp4", length)
        wall, peak, (result,) = run_caption([clip])
        pose = result["timings"]["pose"]
        print(
            f"| {length:g} s | {wall:.1f} | {pose:.1f} | {wall / pose:.2f} | {peak:.0f} | {len(result['segments'])} |",
            flush=True,
        )


def bench_folder(num_clips: int, work: Path) -> None:
    from processing_macm.pose_backends import extract_motion

    folder = work / "folder"
    folder.mkdir()
    clip = looped_clip(folder / "clip_000.mp4", 10)
    for k in range(1, num_clips):
        (folder / f"clip_{k:03d}.mp4").write_bytes(Path(clip).read_bytes())
    start = time.perf_counter()
    for path in sorted(folder.glob("*.mp4")):
        extract_motion(path, max_fps=10.0, progress=False)
    pose = time.perf_counter() - start
    wall, peak, results = run_caption([str(folder)])
    assert len(results) == num_clips
    print(f"{num_clips} clips of 10 s: macm caption FOLDER {num_clips / wall * 60:.1f} clips/min ({wall:.1f} s, peak {peak:.0f} MB); "
          f"pose alone {num_clips / pose * 60:.1f} clips/min ({pose:.1f} s); ratio {pose / wall:.2f}")  # fmt: skip


def stitch(rows: list[dict], root: Path, out: Path, fps: float = 15.0) -> tuple[list[tuple[float, float, str]], float]:
    """Clips end to end at `fps` (nearest earlier frame of each); returns `[(start, end, action)]` and the length."""
    from processing_macm import read_video, write_video

    actions, offset, frames = [], 0.0, []
    for row in rows:
        clip, info = read_video(root / row["video"])
        count = round(len(clip) / info.fps * fps)
        frames += [clip[min(int(t * info.fps / fps), len(clip) - 1)] for t in range(count)]
        actions += [(offset + step["start"], offset + step["end"], step["action"]) for step in row["program"]]
        offset += count / fps
    write_video(out, frames, fps)
    return actions, offset


def boundary_errors(starts: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Mean seconds from each predicted boundary to the nearest true one, and from each true one to the nearest predicted."""
    if len(starts) == 0:
        return float("nan"), float("nan")
    distances = np.abs(starts[:, None] - truth[None])  # [predicted, true]
    return float(distances.min(1).mean()), float(distances.min(0).mean())


def bench_boundaries(num_videos: int, clips_per_video: int, seed: int, penalties: list[float], work: Path) -> None:
    from dataset_scripts.synth import generate_dataset
    from dataset_scripts.synth.grammar import parse_caption
    from macm_cli.captioner import MACMCaptioner
    from processing_macm.segments import PENALTY, movement_segments

    # Version 1: the clips the embedded model was trained on (fixed 256² frames, so they stitch).
    root = generate_dataset(work / "synth", num_clips=num_videos * clips_per_video, seed=seed, size=256, num_workers=1,
                            progress=False, version=1)  # fmt: skip
    rows = [json.loads(line) for line in (root / "metadata.jsonl").read_text().splitlines()]
    captioner = MACMCaptioner.from_pretrained("macm")
    errors = {penalty: [] for penalty in penalties}
    default, named, total, lengths, counts = [], 0, 0, [], []
    for v in range(num_videos):
        video = work / f"stitched_{v}.mp4"
        actions, length = stitch(rows[v * clips_per_video : (v + 1) * clips_per_video], root, video)
        truth = np.array(sorted({a for a, _, _ in actions if a > 0} | {b for _, b, _ in actions if b < length - 0.05}))
        track = captioner.estimate_motion(str(video))
        for penalty in penalties:
            ranges = movement_segments(track, penalty=penalty)
            errors[penalty].append(
                (*boundary_errors(np.array([first for first, _ in ranges[1:]]) / track.fps, truth), len(ranges))
            )
        result = captioner(str(video), tracks=[track])
        default.append(boundary_errors(np.array([s["start"] for s in result.segments[1:]]), truth))
        for segment in result.segments:
            overlap = {}
            for a, b, action in actions:
                overlap[action] = overlap.get(action, 0.0) + max(
                    0.0, min(b, segment["end"]) - max(a, segment["start"])
                )
            named += max(overlap, key=overlap.get) in {found["action"] for found in parse_caption(segment["caption"])}
            total += 1
        lengths.append(length)
        counts.append((len(result.segments), len(actions), len(truth)))
        print(
            f"video {v}: {length:.1f} s, {len(actions)} actions, {len(result.segments)} segments; summary: {result.caption[:200]}",
            flush=True,
        )
    print(f"{num_videos} stitched videos of {np.mean(lengths):.1f} s on average ({clips_per_video} HMI-Synth v1 clips each, seed {seed}); "
          f"{np.mean([c[1] for c in counts]):.1f} actions, {np.mean([c[2] for c in counts]):.1f} true boundaries per video")  # fmt: skip
    for penalty, rows_ in errors.items():
        rows_ = np.array(rows_)
        print(f"  penalty {penalty:g}: predicted -> nearest true {np.nanmean(rows_[:, 0]):.2f} s, true -> nearest predicted "
              f"{np.nanmean(rows_[:, 1]):.2f} s, {rows_[:, 2].mean():.1f} segments per video")  # fmt: skip
    default = np.array(default)
    print(f"  default penalty {PENALTY:g}, as captioned: predicted -> nearest true {np.nanmean(default[:, 0]):.2f} s, "
          f"true -> nearest predicted {np.nanmean(default[:, 1]):.2f} s, {np.mean([c[0] for c in counts]):.1f} segments per video")  # fmt: skip
    print(f"  segments whose caption names the action that fills most of them: {named}/{total} = {named / total:.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=["lengths", "folder", "boundaries"])
    parser.add_argument("--seconds", type=float, nargs="+", default=[1, 10, 60])
    parser.add_argument("--num-clips", type=int, default=20)
    parser.add_argument("--num-videos", type=int, default=4)
    parser.add_argument("--clips-per-video", type=int, default=10)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument(
        "--penalties",
        type=float,
        nargs="+",
        default=[0.5, 1, 2, 4, 8],
        help="boundaries: segmentation penalties to compare",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.part == "lengths":
            bench_lengths(args.seconds, work)
        elif args.part == "folder":
            bench_folder(args.num_clips, work)
        else:
            bench_boundaries(args.num_videos, args.clips_per_video, args.seed, args.penalties, work)


if __name__ == "__main__":
    main()
