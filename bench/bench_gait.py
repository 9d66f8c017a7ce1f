"""Walks against runs, in the numbers the kinematic pathway reads: root speed and leg-joint speed (m/s,
median over clips) of an HMI dataset's single-action walk and run clips (HMI-Synth programs) beside
the real-footage pedestrians (vtest.avi crops, tracked here with MediaPipe).

    python bench/bench_gait.py --dataset hmi-synth-v2 [--split train] [--cache DIR] [--pedestrians 12]

Where the real walkers' numbers sit nearer the synthetic runs than the walks, a model trained on the
synthetic clips calls them runs.
"""

import argparse
import sys
import tempfile

import numpy as np

from dataset_scripts.loading import load_hmi_split
from dataset_scripts.schema import program_from_row, row_to_track
from processing_macm.kinematic import kinematic_features
from processing_macm.motion_track import SMPL_JOINT_NAMES
from train.real_footage import build_clips, load_labels

LEGS = [i for i, name in enumerate(SMPL_JOINT_NAMES) if name.split("_")[-1] in ("knee", "ankle", "foot")]


def speeds(track) -> tuple[float, float] | None:
    """Mean root speed and mean leg-joint speed over the track's valid frames at 10 fps (version 2 features)."""
    features, valid = kinematic_features(track, 10.0, version=2)
    if valid.sum() < 10:
        return None
    seen = features[valid]
    legs = np.linalg.norm(seen[:, 66:132].reshape(-1, len(SMPL_JOINT_NAMES), 3)[:, LEGS], axis=-1)
    return float(np.linalg.norm(seen[:, 198:201], axis=1).mean()), float(legs.mean())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True, help="HMI-Synth folder (rows with programs and tracks)")
    parser.add_argument("--split", default="train")
    parser.add_argument("--cache", default=None, help="folder for the real clips (bench_real.py's --cache)")
    parser.add_argument("--pedestrians", type=int, default=12, help="how many vtest pedestrian clips to track")
    args = parser.parse_args(argv)
    from processing_macm.pose_backends import extract_motion

    groups = {"synthetic walk": [], "synthetic run": []}
    for row in load_hmi_split(args.dataset, args.split):
        program = program_from_row(row)
        if program and len(program) == 1 and program[0]["action"] in ("walk", "run") and row["motion"] is not None:
            measured = speeds(row_to_track(row["motion"]))
            if measured:
                groups[f"synthetic {program[0]['action']}"].append(measured)
    pedestrians = [clip for clip in load_labels() if clip["kind"] == "pedestrian"][: args.pedestrians]
    with tempfile.TemporaryDirectory() as scratch:
        paths = build_clips(pedestrians, args.cache or scratch)
        tracks = [extract_motion(paths[clip["id"]], max_fps=10.0, progress=False) for clip in pedestrians]
    groups["vtest pedestrians"] = [m for m in map(speeds, tracks) if m]
    print("| clips | n | root speed (m/s) | leg-joint speed (m/s) |\n|---|---:|---:|---:|")
    for name, values in groups.items():
        root, legs = np.median(values, axis=0) if values else (float("nan"), float("nan"))
        print(f"| {name} | {len(values)} | {root:.2f} | {legs:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
