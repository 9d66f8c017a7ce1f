"""HMI-Synth: synthetic human-motion clips with exact ground truth (`macm synth -o DIR --num-clips N`).

Each clip: an anny body performing a motion program, rendered with OpenCV and written as
DIR/videos/<id>.mp4, its SMPL-order joints as DIR/joints/<id>.npy [T, 22, 3], and one line of
DIR/metadata.jsonl with the program, captions at the three HMI levels and QA pairs. Version 2 has idle
and single-action clips, cameras all around the person, cut framings, photographs and degradations.
Version 3 is version 2 with a natural gait: walkers and runners bend the knee of the leg that swings
forward and step as far as their hips reach (version 2 marched in short steps, and real pedestrians'
legs moved 1.8 times faster than its walkers', bench/bench_gait.py). Version 4 (the default) is version 3
with walks and runs at people's cadences (`programs.GAIT_SECONDS`: a walk steps every 0.43-0.65 s, a run
every 0.28-0.36 s; in version 3 a fast walk stepped faster than a slow run). `--version 1` to
`--version 3` reproduce the earlier releases (joints and frames up to the floating point of the CPU).
Generation is deterministic for a seed and version, and resumable: clips whose files exist are not
rendered again.
"""

import argparse
import functools
import json
import multiprocessing
import os
from pathlib import Path

import numpy as np

from .grammar import VOCABULARY, captions, captions_v2, parse_caption, qa_pairs, qa_pairs_v2
from .programs import IDLE, non_idle
from .render import FRAMING_P
from .splits import BEHIND_DEG, HIGH_M, assign_split, held_out_pairs

VERSIONS = (1, 2, 3, 4)
FPS_CHOICES = (10, 12, 15)
FPS_CHOICES_V2 = (10, 12, 15, 20, 24, 25, 30)
PROGRAM_KEYS = ("action", "side", "limb", "count", "speed", "direction", "start", "end")
CARD_TEMPLATE = Path(__file__).with_name("README.md")
# A clip over one of OpenCV's sample photographs (render.PHOTOS) carries the photograph's licence too.
PHOTO_LICENSE = "CC0-1.0 AND Apache-2.0 AND BSD-3-Clause"


def clip_id(seed: int, index: int) -> str:
    return f"synth{seed}_{index:06d}"


def _scene_v1(scene_rng: np.random.Generator, size: int):
    """Version 1: program, body, camera (distance fitted to the posed body) and posed body of one clip."""
    from .body import pose_body, sample_body
    from .programs import animate, sample_program
    from .render import fit_camera, sample_camera

    program = sample_program(scene_rng)
    body = sample_body(scene_rng)
    camera = sample_camera(scene_rng, size)
    fps = int(scene_rng.choice(FPS_CHOICES))
    angles, yaw, offset = animate(program, fps)
    vertices, faces, parts, joints, world_joints = pose_body(body, angles, yaw, offset)  # joints [T, 22, 3]
    return program, body, fit_camera(camera, vertices), fps, (vertices, faces, parts, joints, world_joints), None


def sample_scene_v2(
    scene_rng: np.random.Generator, size: int, human_cadence: bool = False
) -> tuple[list[dict], dict, dict, int, dict]:
    """Version 2, symbolic only (no posing, fast): framing first (a framing without the legs gets an
    upper-body program), then program, body, camera, frame rate, breathing and sway; walks and runs
    are aimed relative to the camera (and timed as people's in version 4, `human_cadence`).
    Returns (program, body, camera, fps, idle)."""
    from .body import sample_body
    from .programs import TRAVEL, aim_travel, sample_idle, sample_program_v2
    from .render import sample_camera_v2

    framing = str(scene_rng.choice(list(FRAMING_P), p=list(FRAMING_P.values())))
    program = sample_program_v2(scene_rng, upper_body=framing != "full", human_cadence=human_cadence)
    body = sample_body(scene_rng)
    camera = sample_camera_v2(scene_rng, size, framing, travels=any(s["action"] in TRAVEL for s in program))
    fps = int(scene_rng.choice(FPS_CHOICES_V2))
    idle = sample_idle(scene_rng)
    camera["yaw_deg"] = aim_travel(program, camera["yaw_deg"], scene_rng)
    return program, body, camera, fps, idle


def _scene_v2(scene_rng: np.random.Generator, size: int, natural_gait: bool = False, human_cadence: bool = False):
    """Versions 2, 3 (`natural_gait`) and 4 (and `human_cadence`): the sampled scene, posed, with the camera
    placed around the posed body."""
    from .body import pose_body
    from .programs import animate
    from .render import place_camera

    program, body, camera, fps, idle = sample_scene_v2(scene_rng, size, human_cadence)
    angles, yaw, offset = animate(program, fps, idle, natural_gait)
    vertices, faces, parts, joints, world_joints = pose_body(body, angles, yaw, offset)
    camera, rotations = place_camera(camera, vertices, world_joints, fps, scene_rng)
    return program, body, camera, fps, (vertices, faces, parts, joints, world_joints), rotations


def image_joints(seed: int, index: int, size: int, version: int = 4) -> tuple[np.ndarray, dict]:
    """Where the renderer drew the joints of clip `index` of the draw `seed`: pixels `[T, 22, 2]` (x right, y down,
    SMPL order; through the camera's centre as its metadata rounds it, to the millimetre), the scene posed and framed
    again as `make_clip` did it (nothing is rendered), and its camera, which the caller checks against the clip's
    metadata (a draw made with another `size` frames its clips differently)."""
    from .render import _project

    if version == 1:
        raise ValueError("Version 1 clips have no camera path to project through: image joints need version 2-4.")
    scene_rng = np.random.default_rng([seed, index, 0])
    _, _, camera, _, (*_, world_joints), rotations = _scene_v2(scene_rng, size, version >= 3, version >= 4)
    uv, _ = _project(world_joints, rotations, np.array(camera["centre"]), camera["focal_px"])
    return uv + np.array([camera["width"], camera["height"]]) / 2, camera


def make_clip(out_dir: Path, seed: int, index: int, size: int, version: int = 4) -> dict:
    """Sample, pose and (unless its files already exist) render one clip; return its metadata row."""
    from processing_macm.video_io import write_video

    from .render import render_clip, render_clip_v2

    name = clip_id(seed, index)
    scene_rng, text_rng, pixel_rng = (np.random.default_rng([seed, index, k]) for k in range(3))
    scene = (
        _scene_v1
        if version == 1
        else functools.partial(_scene_v2, natural_gait=version >= 3, human_cadence=version >= 4)
    )
    program, body, camera, fps, (vertices, faces, parts, joints, _), rotations = scene(scene_rng, size)
    video, joints_path = out_dir / "videos" / f"{name}.mp4", out_dir / "joints" / f"{name}.npy"
    if not (video.exists() and joints_path.exists()):
        partial = joints_path.with_suffix(".tmp.npy")
        np.save(partial, joints)
        os.replace(partial, joints_path)
        if version == 1:
            frames = render_clip(vertices, faces, parts, body, camera, pixel_rng)
        else:
            frames = render_clip_v2(vertices, faces, parts, body, camera, rotations, fps, pixel_rng)
        # The video is written last and atomically, so its presence marks a complete clip.
        write_video(video, frames, fps=fps)
    num_frames = len(joints)
    describe, ask = (captions, qa_pairs) if version == 1 else (captions_v2, qa_pairs_v2)
    row = {
        "id": name,
        "split": assign_split(program, name, None if version == 1 else camera),
        "video": f"videos/{name}.mp4",
        "joints": f"joints/{name}.npy",
        "fps": fps,
        "num_frames": num_frames,
        "duration": round(num_frames / fps, 3),
        **describe(program, body, camera, text_rng),
        "qa": ask(program, body, camera, text_rng),
        "program": [{k: step[k] for k in PROGRAM_KEYS} for step in program],
        "body": body,
        "camera": camera,
        "source": "hmi-synth",
        "license": PHOTO_LICENSE if camera.get("photo") or camera.get("floor_photo") else "CC0-1.0",
        "synth_version": version,
    }
    return row


def _make_clip_star(args) -> dict:
    return make_clip(*args)


def generate_dataset(
    out_dir,
    num_clips: int,
    seed: int = 0,
    size: int = 256,
    num_workers: int | None = None,
    progress: bool = True,
    version: int = 4,
) -> Path:
    """Write `num_clips` clips, metadata.jsonl and the README card to `out_dir`; return its path.
    `size`: frame width and height in version 1, the largest frame height in later versions."""
    from tqdm.auto import tqdm

    if num_clips < 1:
        raise ValueError(f"num_clips must be at least 1, got {num_clips}.")
    if size < 64 or size % 2:
        raise ValueError(f"size must be an even number of pixels >= 64 (H.264 needs even sizes), got {size}.")
    if version not in VERSIONS:
        raise ValueError(f"version must be one of {VERSIONS}, got {version!r}.")
    out_dir = Path(out_dir)
    for sub in ("videos", "joints"):
        (out_dir / sub).mkdir(parents=True, exist_ok=True)
    num_workers = num_workers or os.cpu_count() or 1
    jobs = [(out_dir, seed, index, size, version) for index in range(num_clips)]
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
    write_card(out_dir, rows, seed, version)
    return out_dir


def composition(rows: list[dict]) -> dict[str, float]:
    """Fractions of clips with no action (idle only), one action, and a framing that cuts the body."""

    def fraction(test) -> float:
        return round(sum(map(test, rows)) / len(rows), 3)

    return {
        "idle": fraction(lambda r: not non_idle(r["program"])),
        "single": fraction(lambda r: len(r["program"]) == 1 and r["program"][0]["action"] != IDLE),
        "cut": fraction(lambda r: r["camera"].get("framing", "full") != "full"),
    }


def write_card(out_dir: Path, rows: list[dict], seed: int, version: int = 4) -> None:
    splits = {s: sum(r["split"] == s for r in rows) for s in ("train", "validation", "test")}
    seconds = sum(r["duration"] for r in rows)
    # Version 2's photographs are Apache-2.0 AND BSD-3-Clause (see the card), so its folder is "other".
    header = (
        f"---\nlicense: {'cc0-1.0' if version == 1 else 'other'}\npretty_name: HMI-Synth\ntask_categories:\n"
        "- video-text-to-text\ntags:\n- human-motion\n- synthetic\n---\n"
    )
    stats = (
        f"\n## This copy\n\nHMI-Synth version {version}, seed {seed}: {len(rows)} clips ({seconds / 60:.1f} minutes); "
        f"train {splits['train']}, validation {splits['validation']}, test {splits['test']}.\n"
        f"Held-out ordered action pairs (test only): "
        + ", ".join(f"{a} → {b}" for a, b in held_out_pairs(version))
        + ".\n"
    )
    if version >= 2:
        parts = composition(rows)
        stats += (
            f"Held-out camera regime (test only): within {BEHIND_DEG:.0f}° of straight behind the person and "
            f"at least {HIGH_M:.0f} m high. Idle clips {parts['idle']:.1%}, single-action clips "
            f"{parts['single']:.1%}, framings that cut the body {parts['cut']:.1%}.\n"
        )
    (out_dir / "README.md").write_text(header + CARD_TEMPLATE.read_text() + stats)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="macm synth", description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", required=True, help="output directory")
    parser.add_argument("--num-clips", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--size",
        type=int,
        default=256,
        help="version 1: frame width and height; later versions: largest frame height (pixels)",
    )
    parser.add_argument(
        "--version",
        type=int,
        default=4,
        choices=VERSIONS,
        help="4 (default): version 3 with walks and runs at people's cadences; 3: version 2 with a natural gait; "
        "2: idle and single actions, any camera, cut framings, photographs; 1: the first release",
    )
    parser.add_argument("--num-workers", type=int, default=None, help="processes (default: one per core)")
    args = parser.parse_args(argv)
    if args.num_clips < 1:
        parser.error(f"--num-clips must be at least 1, got {args.num_clips}")
    out = generate_dataset(args.output, args.num_clips, args.seed, args.size, args.num_workers, version=args.version)
    print(f"wrote {args.num_clips} HMI-Synth v{args.version} clips to {out}")
    return 0


__all__ = [
    "VERSIONS",
    "VOCABULARY",
    "composition",
    "generate_dataset",
    "main",
    "make_clip",
    "parse_caption",
    "sample_scene_v2",
]
