"""Training throughput and peak memory of the tiny CPU recipe, video-only vs +motion, in one run.

    python bench/bench_train.py [--steps 20] [--stage align|instruct]

Each variant trains in its own process (so that peak RSS is its own) on the same tiny dataset
(tests/train_helpers.py: two of three clips carry a kinematic motion track). samples/s is the
Trainer's `train_samples_per_second` (data loading and video decoding included); eval and
checkpointing are off.
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def worker(args) -> None:
    sys.path.insert(0, str(REPO / "tests"))
    from train_helpers import TINY_ALIGN, TINY_INSTRUCT, train

    config = TINY_ALIGN if args.stage == "align" else TINY_INSTRUCT
    extra = [] if args.stage == "align" else ["--model_name_or_path", args.model]
    overrides = ["--max_steps", str(args.steps), "--eval_strategy", "no", "--eval_on_start", "false", "--save_strategy", "no",
                 "--disable_tqdm", "true", "--logging_steps", str(args.steps), "--use_motion", str(args.use_motion), *extra]  # fmt: skip
    train(config, Path(args.dataset), Path(args.out), *overrides)
    state = (
        json.loads((Path(args.out) / "trainer_state.json").read_text())
        if (Path(args.out) / "trainer_state.json").exists()
        else None
    )
    log = state["log_history"] if state else []
    samples = next((entry["train_samples_per_second"] for entry in log if "train_samples_per_second" in entry), None)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    print("RESULT " + json.dumps({"samples_per_s": samples, "peak_rss_mib": peak_mib}))


def run_variant(dataset: Path, out: Path, use_motion: bool, args) -> dict:
    command = [sys.executable, __file__, "--worker", "--dataset", str(dataset), "--out", str(out), "--use_motion", str(use_motion).lower(),
               "--steps", str(args.steps), "--stage", args.stage, "--model", str(args.model or "")]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    line = next((line for line in result.stdout.splitlines() if line.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"variant use_motion={use_motion} failed:\n{result.stderr[-3000:]}")
    return json.loads(line[len("RESULT ") :])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--stage", choices=("align", "instruct"), default="align")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dataset", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--use_motion", default="true", help=argparse.SUPPRESS)
    parser.add_argument("--model", help="instruct: the stage-1 checkpoint (default: train one first)")
    args = parser.parse_args()
    if args.worker:
        return worker(args)

    sys.path.insert(0, str(REPO / "tests"))
    from train_helpers import write_hmi_dataset

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        dataset = write_hmi_dataset(tmp / "hmi", num_train=12, num_test=2)
        if args.stage == "instruct" and not args.model:
            args.model = str(tmp / "align")
            subprocess.run([sys.executable, __file__, "--worker", "--dataset", str(dataset), "--out", args.model, "--steps", "1", "--stage", "align"], check=True, capture_output=True)  # fmt: skip
        results = {
            name: run_variant(dataset, tmp / name, use_motion, args)
            for name, use_motion in (("video-only", False), ("+motion", True))
        }
    print(f"tiny recipe, stage {args.stage}, {args.steps} steps x batch 4, CPU")
    print(f"{'variant':<12} {'samples/s':>10} {'peak RSS MiB':>13}")
    for name, result in results.items():
        print(f"{name:<12} {result['samples_per_s']:>10.2f} {result['peak_rss_mib']:>13.0f}")
    video, motion = results["video-only"], results["+motion"]
    print(f"+motion / video-only: samples/s x{motion['samples_per_s'] / video['samples_per_s']:.2f}, "
          f"peak RSS x{motion['peak_rss_mib'] / video['peak_rss_mib']:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
