"""Evaluation throughput of `macm eval` with the tiny test model: clips/s, generation vs metric time.

    .venv/bin/python bench/bench_eval.py [--clips 16] [--batch-size 4] [--max-new-tokens 32]

Builds the tiny random MACM of the test suite (tests/conftest.py) and a dataset of `--clips` small
synthetic clips with stored motion tracks and a ground-truth program each, then runs the evaluation
once video-only with greedy decoding and once as published (motion + MSD + farthest-pose keyframes).
Captions only (no QA, no judge): generation is the model's cost, "metrics" is pycocoevalcap +
rouge-score + motion accuracy (mostly JVM start-up for the PTB tokenizer and METEOR), "report" the
table and chart.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the suite's tiny model and clips
from utils import CORPUS, moving_square_frames, tiny_config, tiny_model, tiny_processor  # noqa: E402

from dataset_scripts.build import write_parquet  # noqa: E402
from dataset_scripts.card import write_card  # noqa: E402
from dataset_scripts.schema import empty_row, track_to_row  # noqa: E402
from processing_macm import write_video  # noqa: E402
from processing_macm.motion_track import MEDIAPIPE_LANDMARK_NAMES, NUM_JOINTS, MotionTrack  # noqa: E402
from train.evaluate import RunConfig, evaluate  # noqa: E402
from train.tokenizer import train_tokenizer  # noqa: E402

PROGRAM = [
    {
        "action": "raise_arm",
        "side": "left",
        "limb": "arm",
        "count": 2,
        "speed": "slow",
        "direction": "overhead",
        "start": 0.0,
        "end": 1.2,
    }
]


def make_dataset(root: Path, clips: int, frames: int) -> Path:

    (root / "videos").mkdir(parents=True)
    rng = np.random.default_rng(0)
    rows = []
    for i in range(clips):
        write_video(root / f"videos/c{i}.mp4", moving_square_frames(frames, size=64, seed=i % 8), fps=10)
        points = len(MEDIAPIPE_LANDMARK_NAMES)
        keypoints = np.concatenate([rng.uniform(8, 56, (frames, points, 2)), np.ones((frames, points, 1))], axis=-1)
        track = MotionTrack(
            10.0, (64, 64), keypoints, rng.normal(0, 0.3, (frames, NUM_JOINTS, 3)), np.ones(frames, bool), "smpl"
        )
        rows.append(empty_row(
            id=f"c{i}", video=f"videos/c{i}.mp4", caption=CORPUS[i % 3], motion=track_to_row(track),
            ground_truth={"joints_3d": np.zeros((frames, NUM_JOINTS, 3), np.float32), "program": json.dumps(PROGRAM)},
            source="bench", license="cc0",
        ))  # fmt: skip
    (root / "data").mkdir()
    write_parquet(root / "data/test-00000-of-00001.parquet", rows)
    write_card(root, "written by hand")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=16)
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    args = parser.parse_args()
    from macm_cli.captioner import MACMCaptioner

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tokenizer = train_tokenizer(CORPUS * 4, vocab_size=400)
        config = tiny_config(tokenizer)
        tiny_model(config).save_pretrained(tmp / "model")
        tiny_processor(tokenizer, config).save_pretrained(tmp / "model")
        captioner = MACMCaptioner.from_pretrained(tmp / "model")
        dataset = make_dataset(tmp / "bench", args.clips, args.frames)
        print(
            f"{args.clips} clips of {args.frames} frames (64x64), batch {args.batch_size}, <= {args.max_new_tokens} new tokens"
        )
        runs = (
            RunConfig("vision-only greedy", use_motion=False, decoding="greedy"),
            RunConfig("motion + MSD + farthest"),
        )
        for run in runs:
            start = time.perf_counter()
            metrics = evaluate(captioner, dataset, tmp / run.slug, (run,), batch_size=args.batch_size,
                               max_new_tokens=args.max_new_tokens, with_qa=False)[run.name]  # fmt: skip
            total = time.perf_counter() - start
            t = metrics["timings"]
            other = total - t["generation_s"] - t["metrics_s"] - t["judge_s"]
            print(
                f"{run.name:<24} {args.clips / total:5.2f} clips/s end to end ({total:.1f} s): generation {t['generation_s']:.1f} s "
                f"({args.clips / t['generation_s']:.2f} clips/s), metrics {t['metrics_s']:.1f} s, "
                f"loading + report {other:.1f} s; failed {metrics['num_failed']}"
            )


if __name__ == "__main__":
    main()
