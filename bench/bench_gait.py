"""Walks against runs, in the numbers the kinematic pathway reads: root speed, leg-joint speed (m/s) and
seconds a step (medians over clips) of an HMI dataset's single-action walk and run clips (HMI-Synth
programs) beside the real-footage pedestrians (vtest.avi crops, tracked here with MediaPipe). A second
table sets the leg and arm speeds of the rendered joints (the clips' ground truth) beside MediaPipe's, per
action.

    python bench/bench_gait.py --dataset hmi-synth-v2 [--split train] [--cache DIR] [--pedestrians 12]

Where the real walkers' numbers sit nearer the synthetic runs than the walks, a model trained on the
synthetic clips calls them runs. Where MediaPipe's speeds differ from the rendered ones, the size of a
movement in the features is the estimator's, not the body's (the reason for `perturb_tracks`).
"""

import argparse
import sys
import tempfile

import numpy as np

from dataset_scripts.loading import load_hmi_split
from dataset_scripts.schema import program_from_row, row_to_track
from processing_macm.kinematic import kinematic_features
from processing_macm.motion_track import SMPL_JOINT_NAMES, MotionTrack
from train.real_footage import build_clips, load_labels

LEGS = [i for i, name in enumerate(SMPL_JOINT_NAMES) if name.split("_")[-1] in ("knee", "ankle", "foot")]
ARMS = [i for i, name in enumerate(SMPL_JOINT_NAMES) if name.split("_")[-1] in ("elbow", "wrist")]
ANKLES = [SMPL_JOINT_NAMES.index(f"{side}_ankle") for side in ("left", "right")]
TRACKED = 0.8  # the share of frames with the person found for a clip to count in the second table


def speeds(track) -> tuple[float, float] | None:
    """Mean root speed and mean leg-joint speed over the track's valid frames at 10 fps (version 2 features)."""
    features, valid = kinematic_features(track, 10.0, version=2)
    if valid.sum() < 10:
        return None
    seen = features[valid]
    legs = np.linalg.norm(seen[:, 66:132].reshape(-1, len(SMPL_JOINT_NAMES), 3)[:, LEGS], axis=-1)
    return float(np.linalg.norm(seen[:, 198:201], axis=1).mean()), float(legs.mean())


def step_seconds(track) -> float | None:
    """Seconds a step: half the period of the ankles' separation along its main axis (one stride), the first
    autocorrelation peak at least 0.4 s in and at least 0.8 of the highest one."""
    seen = track.joints_3d[track.valid]
    if len(seen) < 12:
        return None
    separation = seen[:, ANKLES[0]] - seen[:, ANKLES[1]]  # [T', 3]
    separation -= separation.mean(0)
    signal = separation @ np.linalg.svd(separation, full_matrices=False)[2][0]
    correlation = np.correlate(signal, signal, "full")[len(signal) - 1 :]
    lags = [
        lag
        for lag in range(max(2, round(0.4 * track.fps)), len(signal) // 2)
        if correlation[lag - 1] < correlation[lag] >= correlation[lag + 1] and correlation[lag] > 0
    ]
    if not lags:
        return None
    highest = max(correlation[lag] for lag in lags)
    return next(lag for lag in lags if correlation[lag] >= 0.8 * highest) / track.fps / 2


def gait(track) -> tuple[float, float, float] | None:
    """(root speed, leg-joint speed, seconds a step), or None where the track cannot tell."""
    measured, step = speeds(track), step_seconds(track)
    return (*measured, step) if measured and step else None


def limb_speeds(track) -> tuple[float, float] | None:
    """Mean leg-joint and arm-joint speed (version 1 features: every joint, seen or not, moves as tracked)."""
    features, valid = kinematic_features(track, 10.0, version=1)
    if valid.sum() < 10:
        return None
    velocity = features[valid][:, 66:132].reshape(-1, len(SMPL_JOINT_NAMES), 3)
    return tuple(float(np.linalg.norm(velocity[:, joints], axis=-1).mean()) for joints in (LEGS, ARMS))


def rendered_track(row, tracked: MotionTrack) -> MotionTrack:
    """The clip's ground-truth joints as a track over the same time span as MediaPipe's."""
    joints = np.asarray(row["ground_truth"]["joints_3d"], np.float32)  # [T, 22, 3]
    fps = len(joints) / (tracked.num_frames / tracked.fps)
    keypoints = np.ones((len(joints), len(SMPL_JOINT_NAMES), 3), np.float32)
    return MotionTrack(fps, tracked.frame_size, keypoints, joints, np.ones(len(joints), bool), backend="rendered")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True, help="HMI-Synth folder (rows with programs and tracks)")
    parser.add_argument("--split", default="train")
    parser.add_argument("--cache", default=None, help="folder for the real clips (bench_real.py's --cache)")
    parser.add_argument("--pedestrians", type=int, default=12, help="how many vtest pedestrian clips to track")
    args = parser.parse_args(argv)
    from processing_macm.pose_backends import extract_motion

    groups, limbs = {"synthetic walk": [], "synthetic run": []}, {}
    for row in load_hmi_split(args.dataset, args.split):
        program = program_from_row(row)
        if not program or len(program) != 1 or row["motion"] is None:
            continue
        action, track = program[0]["action"], row_to_track(row["motion"])
        measured = gait(track) if action in ("walk", "run") else None
        if measured:
            groups[f"synthetic {action}"].append(measured)
        if track.valid.mean() >= TRACKED and row["ground_truth"]["joints_3d"] is not None:
            pair = limb_speeds(rendered_track(row, track)), limb_speeds(track)
            if all(pair):
                limbs.setdefault(action, []).append([*pair[0], *pair[1]])
    pedestrians = [clip for clip in load_labels() if clip["kind"] == "pedestrian"][: args.pedestrians]
    with tempfile.TemporaryDirectory() as scratch:
        paths = build_clips(pedestrians, args.cache or scratch)
        tracks = [extract_motion(paths[clip["id"]], max_fps=10.0, progress=False) for clip in pedestrians]
    groups["vtest pedestrians"] = [m for m in map(gait, tracks) if m]
    print("| clips | n | root speed (m/s) | leg-joint speed (m/s) | seconds a step |\n|---|---:|---:|---:|---:|")
    for name, values in groups.items():
        root, legs, step = np.median(values, axis=0) if values else (float("nan"),) * 3
        print(f"| {name} | {len(values)} | {root:.2f} | {legs:.2f} | {step:.2f} |")
    print(
        f"\nSingle-action clips tracked in >= {TRACKED:.0%} of frames, median joint speed (m/s), rendered vs MediaPipe:"
    )
    print(
        "| action | n | legs, rendered | legs, MediaPipe | arms, rendered | arms, MediaPipe |\n|---|---:|---:|---:|---:|---:|"
    )
    for action, values in sorted(limbs.items()):
        legs, arms, tracked_legs, tracked_arms = np.median(values, axis=0)
        print(f"| {action} | {len(values)} | {legs:.2f} | {tracked_legs:.2f} | {arms:.2f} | {tracked_arms:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
