"""Benchmark of `macm build --extract-motion --executor ray` against `--num-proc 2` on the same clips:
clips/s of each, the Ray executor's overhead, the start-up of a local Ray instance and the memory of
one pose actor.

    python bench/bench_ray.py --synth DIR [--clips 40]

Takes the videos of an HMI-Synth folder (`macm synth` output) in turn under `--clips` ids (a jsonl
source in a scratch folder). Each extraction is a fresh `macm build` process, as a user runs it
(process start included; for Ray also the start of its local instance). The load average is printed
beside each figure: on a shared machine it says how much the timings are inflated.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil


def timed_build(source: Path, out: Path, options: list[str], watch: str | None = None) -> tuple[float, int]:
    """Seconds of one `macm build --extract-motion` process, and the peak RSS (bytes) of any one of its
    descendants whose command line holds `watch` (0 without it)."""
    command = [sys.executable, "-m", "macm_cli", "build", str(source), "--format", "jsonl", "-o", str(out), "--extract-motion", *options]  # fmt: skip
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak, stop = [0], threading.Event()

    def sample():
        while not stop.wait(0.5):
            try:
                children = psutil.Process(process.pid).children(recursive=True)
            except psutil.NoSuchProcess:
                return
            for child in children:
                try:
                    if watch in " ".join(child.cmdline()):
                        peak[0] = max(peak[0], child.memory_info().rss)
                except psutil.Error:
                    pass

    sampler = threading.Thread(target=sample, daemon=True)
    if watch:
        sampler.start()
    _, stderr = process.communicate()
    elapsed = time.perf_counter() - start
    stop.set()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{stderr[-3000:]}")
    return elapsed, peak[0]


def ray_start_seconds() -> float:
    """A fresh process: `ray.init` of a local instance (no dashboard) until it answers."""
    code = (
        "import time, ray; t = time.perf_counter(); ray.init(include_dashboard=False); print(time.perf_counter() - t)"
    )
    return float(
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()[-1]
    )


def load() -> str:
    return "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--synth", required=True, help="an HMI-Synth folder (its videos are used)")
    parser.add_argument("--clips", type=int, default=40)
    args = parser.parse_args()

    rows = [json.loads(line) for line in (Path(args.synth) / "metadata.jsonl").read_text().splitlines()]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        items = []
        for i in range(args.clips):
            video = Path(args.synth) / rows[i % len(rows)]["video"]
            if not (tmp / "src" / video.name).exists():
                (tmp / "src").mkdir(exist_ok=True)
                shutil.copyfile(video, tmp / "src" / video.name)
            items.append({"id": f"clip{i:03d}", "video": video.name, "caption": "x"})
        source = tmp / "src" / "items.jsonl"
        source.write_text("".join(json.dumps(item) + "\n" for item in items))
        seconds = sum(rows[i % len(rows)]["duration"] for i in range(args.clips))
        print(
            f"{args.clips} clips ({len(rows)} distinct videos), {seconds:.0f} s of video, motion at <= 10 fps, {os.cpu_count()} CPUs"
        )

        print(f"local Ray instance start-up: {ray_start_seconds():.2f} s ({load()})")
        local_s, _ = timed_build(source, tmp / "local", ["--num-proc", "2"])
        print(f"--num-proc 2:     {args.clips / local_s:.3f} clips/s ({local_s:.1f} s; {load()})")
        ray_s, actor_rss = timed_build(source, tmp / "ray", ["--executor", "ray"], watch="_PoseWorker")
        print(f"--executor ray:   {args.clips / ray_s:.3f} clips/s ({ray_s:.1f} s, Ray's start included; {load()})")
        print(f"Ray overhead: {100 * (ray_s / local_s - 1):+.1f}% of the time")
        print(f"per clip on one CPU (Ray, one actor per CPU): {ray_s * os.cpu_count() / args.clips:.2f} s")
        print(f"peak RSS of one pose actor: {actor_rss / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
