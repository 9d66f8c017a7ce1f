"""What the pose estimate costs the motion encoder: a fresh encoder and heads (motion pretraining,
train/motion_pretrain.py) trained and scored on an HMI-Synth dataset's MediaPipe tracks, then again on the same
clips and frames with the rendered bodies' joints in place of MediaPipe's 3D landmarks (and every joint seen).
Prints the window accuracy of each head on validation and test, side by side.

    python bench/bench_pose_gap.py --dataset hmi-synth [--steps 1500] [--model macm] [--feature-version 3]

The dataset must be built from `macm synth` with `--extract-motion` (rows with a track, a program and the rendered
joints, `ground_truth.joints_3d`). The encoder's size and features are `--model`'s; its weights are not used.
`--feature-version 3` gives the fresh encoder version 3's features (version 2 plus the image-plane pose, normalised
on the train split; train/feature_upgrade.py); the rendered rows keep MediaPipe's 2D keypoints (the rendered 2D
joints are not stored), so only their 3D joints change.

`--write-rendered DIR` writes instead the dataset's `--split` with the rendered joints as an HMI folder of its own
(the videos linked), for `macm eval --dataset DIR`: what a model's captions would be with a perfect 3D pose.
"""

import argparse
import copy
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from dataset_scripts.build import write_parquet
from dataset_scripts.card import write_card
from dataset_scripts.loading import load_hmi_split
from modeling_macm import MACMForConditionalGeneration
from processing_macm import MACMProcessor
from train.feature_upgrade import upgrade_kinematic_features
from train.motion_pretrain import evaluate_windows, motion_examples, pretrain_motion_encoder


def with_rendered_joints(row: dict) -> dict:
    """The row with its track's 3D joints replaced by the rendered ones at the track's frames (the track runs at
    the estimation rate, the rendered joints at the video's) and every keypoint seen; rows without either as is."""
    motion, rendered = row["motion"], row["ground_truth"]["joints_3d"]
    if motion is None or rendered is None:
        return row
    rendered = np.asarray(rendered, np.float32)  # [T_video, 22, 3]
    num_frames = len(motion["valid"])
    frames = np.minimum(np.arange(num_frames) * len(rendered) // num_frames, len(rendered) - 1)
    keypoints = np.array(motion["keypoints_2d"], np.float32)
    keypoints[..., 2] = 1.0
    return row | {"motion": motion | {"joints_3d": rendered[frames], "keypoints_2d": keypoints}}


def window_accuracy(config, processor, splits: dict, steps: int, seed: int, version: int | None = None) -> dict:
    """Trains a fresh model's motion encoder and heads on `splits["train"]`, on kinematic features of `version` (None:
    the config's); the window accuracy on the other splits."""
    torch.manual_seed(seed)
    model = MACMForConditionalGeneration(copy.deepcopy(config))  # new weights; only the motion encoder and heads train
    if version not in (None, config.kinematic_feature_version):
        processor = copy.deepcopy(processor)
        upgrade_kinematic_features(model, processor, version, splits["train"])
    pretrain_motion_encoder(model, processor, splits["train"], steps=steps, side_labels="left_right", seed=seed)
    encoder, heads = model.model.motion_encoder, model.model.motion_heads
    return {
        split: evaluate_windows(
            encoder, heads, motion_examples(rows, processor, mirror=False, side_labels="left_right")
        )
        for split, rows in splits.items()
        if split != "train"
    }


def write_rendered(dataset: Path, split: str, out: Path) -> None:
    """`split` of `dataset` with the rendered joints, as an HMI folder at `out` (which must not exist)."""
    if out.exists():
        raise SystemExit(f"{out} exists; choose a new folder.")
    rows = [with_rendered_joints(dict(row)) for row in load_hmi_split(str(dataset), split)]
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))  # renamed to `out` when complete
    try:
        (staging / "data").mkdir()
        os.symlink((dataset / "videos").resolve(), staging / "videos")
        write_parquet(staging / "data" / f"{split}-00000-of-00001.parquet", rows)
        write_card(
            staging, f"python bench/bench_pose_gap.py --dataset {dataset} --split {split} --write-rendered {out}"
        )
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    print(f"{len(rows)} rows of {dataset} ({split}) with the rendered joints: {out}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True, help="an HMI-Synth folder built with --extract-motion")
    parser.add_argument("--model", default="macm", help="whose motion encoder size and features to use")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--feature-version", type=int, help="kinematic features of this version (default: the model's)"
    )
    parser.add_argument("--write-rendered", metavar="DIR", help="write --split with the rendered joints to DIR")
    parser.add_argument("--split", default="test", help="the split --write-rendered writes")
    args = parser.parse_args()
    if args.write_rendered:
        return write_rendered(Path(args.dataset), args.split, Path(args.write_rendered))

    config = MACMForConditionalGeneration.from_pretrained(args.model).config
    processor = MACMProcessor.from_pretrained(args.model)
    columns = ["motion", "ground_truth"]
    estimated = {
        s: list(load_hmi_split(args.dataset, s).select_columns(columns)) for s in ("train", "validation", "test")
    }
    results = {}
    for name, splits in (
        ("MediaPipe", estimated),
        ("rendered", {s: [with_rendered_joints(row) for row in rows] for s, rows in estimated.items()}),
    ):
        start = time.perf_counter()
        results[name] = window_accuracy(config, processor, splits, args.steps, args.seed, args.feature_version)
        print(f"{name}: {time.perf_counter() - start:.0f} s", flush=True)

    version = args.feature_version or config.kinematic_feature_version
    print(f"\nWindow accuracy of a fresh motion encoder ({args.steps} steps, features v{version}) on {args.dataset}\n")
    print("| 3D joints | split | clips | action | side (left/right) | count | speed |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, scores in results.items():
        for split, s in scores.items():
            print(
                f"| {name} | {split} | {s['examples']} | {s['action_accuracy']:.3f} | {s['side_lr_accuracy']:.3f} "
                f"| {s['count_accuracy']:.3f} | {s['speed_accuracy']:.3f} |"
            )


if __name__ == "__main__":
    main()
