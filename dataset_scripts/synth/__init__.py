"""HMI-Synth: synthetic human-motion clips with exact ground truth (`macm synth -o DIR --num-clips N`).

Each clip: an anny body performing a 2-4 action motion program, rendered with OpenCV and written as
DIR/videos/<id>.mp4, its SMPL-order joints as DIR/joints/<id>.npy [T, 22, 3], and one line of
DIR/metadata.jsonl with the program, captions at the three HMI levels and QA pairs. Generation is
deterministic for a seed and resumable: clips whose files exist are not rendered again.
"""

import argparse
import json
import multiprocessing
import os
from pathlib import Path

import numpy as np

from .grammar import VOCABULARY, captions, parse_caption, qa_pairs
from .splits import HELD_OUT_PAIRS, assign_split

FPS_CHOICES = (10, 12, 15)
PROGRAM_KEYS = ("action", "side", "limb", "count", "speed", "direction", "start", "end")
CARD_TEMPLATE = Path(__file__).with_name("README.md")


def clip_id(seed: int, index: int) -> str:
    return f"synth{seed}_{index:06d}"


def make_clip(out_dir: Path, seed: int, index: int, size: int) -> dict:
    """Sample, pose and (unless its files already exist) render one clip; return its metadata row."""
    from .body import pose_body, sample_body
    from .programs import animate, sample_program
    from .render import fit_camera, render_clip, sample_camera
    from processing_macm.video_io import write_video

    name = clip_id(seed, index)
    scene_rng, text_rng, pixel_rng = (np.random.default_rng([seed, index, k]) for k in range(3))
    program = sample_program(scene_rng)
    body = sample_body(scene_rng)
    camera = sample_camera(scene_rng, size)
    fps = int(scene_rng.choice(FPS_CHOICES))
    angles, yaw, offset = animate(program, fps)
    vertices, faces, parts, joints = pose_body(body, angles, yaw, offset)  # joints [T, 22, 3]
    camera = fit_camera(camera, vertices)
    video, joints_path = out_dir / "videos" / f"{name}.mp4", out_dir / "joints" / f"{name}.npy"
    if not (video.exists() and joints_path.exists()):
        partial = joints_path.with_suffix(".tmp.npy")
        np.save(partial, joints)
        os.replace(partial, joints_path)
        # The video is written last and atomically, so its presence marks a complete clip.
        write_video(video, render_clip(vertices, faces, parts, body, camera, pixel_rng), fps=fps)
    num_frames = len(joints)
    row = {
        "id": name,
        "split": assign_split(program, name),
        "video": f"videos/{name}.mp4",
        "joints": f"joints/{name}.npy",
        "fps": fps,
        "num_frames": num_frames,
        "duration": round(num_frames / fps, 3),
        **captions(program, body, camera, text_rng),
        "qa": qa_pairs(program, body, camera, text_rng),
        "program": [{k: step[k] for k in PROGRAM_KEYS} for step in program],
        "body": body,
        "camera": camera,
        "source": "hmi-synth",
        "license": "CC0-1.0",
    }
    return row


def _make_clip_star(args) -> dict:
    return make_clip(*args)


def generate_dataset(out_dir, num_clips: int, seed: int = 0, size: int = 256, num_workers: int | None = None,
                     progress: bool = True) -> Path:
    """Write `num_clips` clips, metadata.jsonl and the README card to `out_dir`; return its path."""
    from tqdm.auto import tqdm

    if num_clips < 1:
        raise ValueError(f"num_clips must be at least 1, got {num_clips}.")
    if size < 64 or size % 2:
        raise ValueError(f"size must be an even number of pixels >= 64 (H.264 needs even sizes), got {size}.")
    out_dir = Path(out_dir)
    for sub in ("videos", "joints"):
        (out_dir / sub).mkdir(parents=True, exist_ok=True)
    num_workers = num_workers or os.cpu_count() or 1
    jobs = [(out_dir, seed, index, size) for index in range(num_clips)]
    bar = dict(total=num_clips, desc="HMI-Synth clips", unit="clip", disable=not progress)
    if num_workers == 1:
        rows = [make_clip(*job) for job in tqdm(jobs, **bar)]
    else:
        # spawn: anny and torch are never initialised in the parent, and forked torch state is fragile.
        with multiprocessing.get_context("spawn").Pool(num_workers) as pool:
            rows = list(tqdm(pool.imap(_make_clip_star, jobs, chunksize=1), **bar))
    partial = out_dir / "metadata.jsonl.tmp"
    with open(partial, "w") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(partial, out_dir / "metadata.jsonl")
    write_card(out_dir, rows, seed)
    return out_dir


def write_card(out_dir: Path, rows: list[dict], seed: int) -> None:
    splits = {s: sum(r["split"] == s for r in rows) for s in ("train", "validation", "test")}
    seconds = sum(r["duration"] for r in rows)
    header = (
        "---\nlicense: cc0-1.0\npretty_name: HMI-Synth\ntask_categories:\n- video-text-to-text\n"
        "tags:\n- human-motion\n- synthetic\n---\n"
    )
    stats = (
        f"\n## This copy\n\nSeed {seed}: {len(rows)} clips ({seconds / 60:.1f} minutes); "
        f"train {splits['train']}, validation {splits['validation']}, test {splits['test']}.\n"
        f"Held-out ordered action pairs (test only): "
        + ", ".join(f"{a} → {b}" for a, b in sorted(HELD_OUT_PAIRS)) + ".\n"
    )
    (out_dir / "README.md").write_text(header + CARD_TEMPLATE.read_text() + stats)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="macm synth", description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", required=True, help="output directory")
    parser.add_argument("--num-clips", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=256, help="frame width and height in pixels")
    parser.add_argument("--num-workers", type=int, default=None, help="processes (default: one per core)")
    args = parser.parse_args(argv)
    if args.num_clips < 1:
        parser.error(f"--num-clips must be at least 1, got {args.num_clips}")
    out = generate_dataset(args.output, args.num_clips, args.seed, args.size, args.num_workers)
    print(f"wrote {args.num_clips} clips to {out}")
    return 0


__all__ = ["VOCABULARY", "generate_dataset", "main", "make_clip", "parse_caption"]
