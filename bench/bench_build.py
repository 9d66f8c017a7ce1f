"""Benchmark of `macm build`: motion-extraction clips/s with num_proc 1 vs 2 (and the scaling ratio),
and build time per 100 clips (without motion).

    python bench/bench_build.py [--clips 8] [--synth DIR]

Renders `--clips` HMI-Synth clips (or reuses `--synth DIR`). Each extraction is a fresh
`macm build --extract-motion --num-proc N` process, as a user runs it; the 100-clip build reads a
jsonl that points at those videos in turn under 100 ids.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dataset_scripts.build import build


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--synth", help="an existing HMI-Synth folder to use instead of rendering")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.synth:
            synth = Path(args.synth)
        else:
            from dataset_scripts.synth import generate_dataset

            synth = generate_dataset(tmp / "synth", args.clips, seed=0, size=256, num_workers=2, progress=False)
        rows = [json.loads(line) for line in (synth / "metadata.jsonl").read_text().splitlines()]
        seconds = sum(row["duration"] for row in rows)
        print(f"{len(rows)} clips, {seconds:.1f} s of video, {rows[0]['fps']} fps source, motion at <= 10 fps")

        rates = {}
        for num_proc in (1, 2):
            out = tmp / f"hmi-{num_proc}"
            build(synth, "synth", out)  # copy videos first, so that the timing is extraction only
            command = [sys.executable, "-m", "macm_cli", "build", str(synth), "--format", "synth", "-o", str(out), "--extract-motion", "--num-proc", str(num_proc)]  # fmt: skip
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            elapsed = time.perf_counter() - start
            rates[num_proc] = len(rows) / elapsed
            print(
                f"motion extraction num_proc={num_proc}: {rates[num_proc]:.2f} clips/s ({elapsed:.1f} s, process start included)"
            )
        print(f"scaling 2 vs 1 processes: x{rates[2] / rates[1]:.2f}")

        videos = [str((synth / row["video"]).resolve()) for row in rows]
        items = tmp / "items.jsonl"
        items.write_text(
            "".join(
                json.dumps({"id": f"clip{i:03d}", "video": videos[i % len(videos)], "caption": "x"}) + "\n"
                for i in range(100)
            )
        )
        start = time.perf_counter()
        build(items, "jsonl", tmp / "hmi")
        print(f"build, 100 clips (copy videos + Parquet + card, no motion): {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
