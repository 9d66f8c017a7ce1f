"""MediaPipe's 2D landmarks against the joints the renderer drew: how well the pose estimate reads each camera.

    python bench/bench_pose_2d.py --dataset hmi12 --synth synth12 --size 192 [--split validation --split test]
        [--stride 4] [--limit N]

--dataset: an HMI-Synth dataset built with its tracks (`macm build --extract-motion`); --synth: the `macm synth`
folder it was built from (its metadata holds the cameras), drawn with `--size`. Each clip's joints are posed and
framed again from its seed (`synth.image_joints`; a camera unlike the metadata's stops the bench: another `--size`).
Every `--stride`-th frame of the stored track is scored on the twelve limb joints (shoulders, elbows, wrists, hips,
knees, ankles) the frame shows: `found` (a landmark given), `PCK` (within a tenth of the person's height in the image:
the vertical extent of their joints, the tallest over the clip), `PCK either side` (the same with each left/right
pair matched either way round: where the limbs are, whatever they are called) and `swaps` (of the pairs standing
that tenth apart, those whose landmarks lie nearer the other side's joints). Two readings: the track as stored
(MediaPipe as the backend follows the person) and MediaPipe's landmark model on the square around the true joints
(the region a perfect tracker would give it). By camera: in front (within 55 degrees of the person's front), beside
or behind, and the held-out regime (behind and high, `splits.held_out_camera`: test only); and by the person's height.
"""

import argparse
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
from tqdm import tqdm

from dataset_scripts.loading import load_hmi_split
from dataset_scripts.schema import row_to_track
from dataset_scripts.synth import image_joints
from dataset_scripts.synth.body import JOINT_NAMES
from dataset_scripts.synth.splits import held_out_camera
from processing_macm.motion_track import MEDIAPIPE_LANDMARK_NAMES
from processing_macm.pose_mediapipe import _cut, _LandmarkModel  # the backend's own crop and landmark model
from processing_macm.video_io import read_video

PARTS = ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")
RENDERED = [JOINT_NAMES.index(f"{side[0]}_{part}") for part in PARTS for side in ("left", "right")]
LANDMARKS = [MEDIAPIPE_LANDMARK_NAMES.index(f"{side}_{part}") for part in PARTS for side in ("left", "right")]
TOLERANCE = 0.1  # of the person's height in the image
FRONT_DEG = 55.0
READINGS = ("tracked", "true crop")
GROUPS = ("in front", "beside or behind", "held out (behind, high)")
SIZES = ((30, "under 30 px"), (60, "30-60 px"), (100, "60-100 px"), (np.inf, "100 px or more"))


def regime(camera: dict) -> str:
    if held_out_camera(camera):
        return GROUPS[2]
    return GROUPS[0] if abs(camera["yaw_deg"]) <= FRONT_DEG else GROUPS[1]


def size_group(height: float) -> str:
    return next(name for below, name in SIZES if height < below)


def score(tally: Counter, points: np.ndarray | None, truth: np.ndarray, inside: np.ndarray, tolerance: float):
    """Adds one frame's landmarks `points [12, 2]` (None: nobody found) against the true joints `truth [12, 2]`."""
    tally["joints"] += int(inside.sum())
    if points is None:
        return
    error = np.linalg.norm(points - truth, axis=-1)  # [12]
    either = error.copy()
    for left in range(0, len(PARTS) * 2, 2):
        pair = [left, left + 1]
        crossed = np.linalg.norm(points[pair] - truth[pair[::-1]], axis=-1)
        either[pair] = crossed if crossed.sum() < error[pair].sum() else error[pair]
        if inside[pair].all() and np.linalg.norm(truth[left] - truth[left + 1]) > tolerance:
            tally["pairs"] += 1
            tally["swaps"] += int(crossed.sum() < error[pair].sum())
    tally["found"] += int(inside.sum())
    tally["hits"] += int(((error < tolerance) & inside).sum())
    tally["hits_either"] += int(((either < tolerance) & inside).sum())


def on_true_crop(model: _LandmarkModel, frame: np.ndarray, joints: np.ndarray) -> np.ndarray | None:
    """MediaPipe's limb landmarks `[12, 2]` (frame pixels) read on the square around `joints [22, 2]`, or None."""
    low, high = joints.min(0), joints.max(0)
    square = np.array([*(low + high) / 2, max((high - low).max() * 1.5, 16.0)])
    crop, (x0, y0, side) = _cut(frame, square)
    found = model(crop)
    return None if found is None else found[0][LANDMARKS, :2] * side + (x0, y0)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True, help="a built HMI-Synth dataset with tracks")
    parser.add_argument("--synth", required=True, help="the `macm synth` folder it was built from")
    parser.add_argument("--size", type=int, default=256, help="the draw's `macm synth --size` (default 256)")
    parser.add_argument("--split", action="append", help="splits to score (default: validation and test)")
    parser.add_argument("--stride", type=int, default=4, help="score every N-th frame of the track")
    parser.add_argument("--limit", type=int, help="at most this many clips a split")
    args = parser.parse_args(argv)
    metadata = {}
    for line in (Path(args.synth) / "metadata.jsonl").read_text().splitlines():
        row = json.loads(line)
        metadata[row["id"]] = row
    model, tallies, clips, frames_scored, untracked = _LandmarkModel(), {}, Counter(), Counter(), 0
    for split in args.split or ["validation", "test"]:
        rows = load_hmi_split(args.dataset, split)
        rows = rows.select(range(min(args.limit, len(rows)))) if args.limit else rows
        for row in tqdm(rows, desc=f"{split} clips", unit="clip"):
            drawn = re.fullmatch(r"synth(\d+)_(\d+)", row["id"])
            if drawn is None or row["id"] not in metadata:
                raise ValueError(
                    f"{row['id']} is not a clip of {args.synth}: pass the folder the dataset was built from."
                )
            camera = metadata[row["id"]]["camera"]
            uv, posed = image_joints(int(drawn[1]), int(drawn[2]), args.size, metadata[row["id"]]["synth_version"])
            if posed != camera:
                raise ValueError(
                    f"{row['id']} frames differently from its metadata when drawn at --size {args.size}: pass the "
                    f"size {args.synth} was drawn with."
                )
            track = row_to_track(row["motion"]) if row["motion"] is not None else None
            if track is None:
                untracked += 1  # its extraction failed (`build_report.json` says why)
                continue
            frames, info = read_video(Path(args.dataset) / row["video"])
            height = np.ptp(uv[..., 1], axis=-1).max()  # the person's tallest extent in the image
            groups = (regime(camera), size_group(height), "all")
            clips.update(groups)
            for t in range(0, len(track.valid), args.stride):
                f = min(round(t / track.fps * info.fps), len(frames) - 1)
                truth = uv[f, RENDERED]  # [12, 2]
                inside = (truth >= 0).all(-1) & (truth[:, 0] < camera["width"]) & (truth[:, 1] < camera["height"])
                tracked = track.keypoints_2d[t, LANDMARKS, :2] if track.valid[t] else None
                for reading, points in zip(READINGS, (tracked, on_true_crop(model, frames[f], uv[f]))):
                    for group in groups:
                        score(
                            tallies.setdefault((group, reading), Counter()), points, truth, inside, TOLERANCE * height
                        )
                frames_scored.update(groups)
    if untracked:
        print(f"{untracked} clips without a track left out")
    for title, names in (("camera", GROUPS), ("person's height", [name for _, name in SIZES])):
        print(f"\n| {title} | clips | frames | reading | found | PCK | PCK either side | swaps |")
        print("|---|---:|---:|---|---:|---:|---:|---:|")
        for group in (*names, "all"):
            for reading in READINGS:
                t = tallies.get((group, reading))
                if t is None:
                    continue
                joints, pairs = max(t["joints"], 1), max(t["pairs"], 1)
                print(
                    f"| {group} | {clips[group]} | {frames_scored[group]} | {reading} | {t['found'] / joints:.3f} "
                    f"| {t['hits'] / joints:.3f} | {t['hits_either'] / joints:.3f} | {t['swaps'] / pairs:.3f} "
                    f"({t['pairs']}) |"
                )


if __name__ == "__main__":
    main()
