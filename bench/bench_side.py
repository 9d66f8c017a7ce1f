"""Can a side be read from the tracks at all? For every step of an HMI-Synth split that moves one arm or one
leg (a left or right raise, wave, circle, kick, lunge), whether the named side's wrist or ankle travels
further than the other one's over the step: in the rendered joints (the clips' ground truth) and in the
pose estimator's track (the dataset's `motion`), by where the camera stands (front, side or behind the
person at the clip's start).

    python bench/bench_side.py --dataset hmi-synth-v3 --synth synth-v3 [--split train]

`--synth` is the `macm synth` folder the dataset was built from: its metadata holds the cameras. Where the
tracks name the other side as often as the right one, no model trained on them can name sides from motion.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from dataset_scripts.loading import load_hmi_split
from dataset_scripts.schema import program_from_row, row_to_track
from processing_macm.motion_track import SMPL_JOINT_NAMES

END_JOINT = {"arm": "wrist", "leg": "ankle"}
VIEWS = ((60, "front"), (120, "side"), (180, "behind"))  # |camera yaw| up to this many degrees


def view(camera: dict) -> str:
    return next(name for limit, name in VIEWS if abs(camera["yaw_deg"]) <= limit)


def named_side_moves_most(joints: np.ndarray, times: np.ndarray, step: dict) -> bool | None:
    """Whether the named side's end joint travels further than the other side's over the step's frames;
    None when the step spans fewer than three of them."""
    inside = (times >= step["start"]) & (times < step["end"])
    if inside.sum() < 3:
        return None
    other = "right" if step["side"] == "left" else "left"
    ends = {side: SMPL_JOINT_NAMES.index(f"{side}_{END_JOINT[step['limb']]}") for side in (step["side"], other)}
    path = {side: np.linalg.norm(np.diff(joints[inside, j], axis=0), axis=-1).sum() for side, j in ends.items()}
    return bool(path[step["side"]] > path[other])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True, help="HMI-Synth built with `macm build --extract-motion`")
    parser.add_argument("--synth", required=True, help="the HMI-Synth folder it was built from (for the cameras)")
    parser.add_argument("--split", default="train")
    args = parser.parse_args(argv)
    lines = (Path(args.synth) / "metadata.jsonl").read_text().splitlines()
    cameras = {row["id"]: row["camera"] for row in map(json.loads, lines)}

    right = {}  # (view, source) -> [named side moved most, steps]
    for row in load_hmi_split(args.dataset, args.split):
        program, track = program_from_row(row), row_to_track(row["motion"]) if row["motion"] is not None else None
        if not program or track is None or not track.has_person or row["id"] not in cameras:
            continue
        rendered = np.asarray(row["ground_truth"]["joints_3d"], np.float32)  # [T, 22, 3] at the video's rate
        duration = track.num_frames / track.fps
        sources = {
            "rendered": (rendered, np.arange(len(rendered)) * duration / len(rendered), np.ones(len(rendered), bool)),
            "tracked": (track.joints_3d, np.arange(track.num_frames) / track.fps, track.valid),
        }
        for step in program:
            if step.get("side") not in ("left", "right") or step.get("limb") not in END_JOINT:
                continue
            for source, (joints, times, valid) in sources.items():
                outcome = named_side_moves_most(joints[valid], times[valid], step)
                if outcome is not None:
                    tally = right.setdefault((view(cameras[row["id"]]), source), [0, 0])
                    tally[0] += outcome
                    tally[1] += 1
    print("| camera | steps | named side moves most, rendered | tracked |\n|---|---:|---:|---:|")
    for _, name in VIEWS:
        (r, n), (t, m) = right.get((name, "rendered"), [0, 0]), right.get((name, "tracked"), [0, 0])
        print(f"| {name} | {m} | {r / max(n, 1):.3f} | {t / max(m, 1):.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
