"""Benchmark of `macm build --extract-motion --executor ray` against `--num-proc 2` on the same clips:
clips/s of each, the Ray executor's overhead, the start-up of a local Ray instance and the memory of
one pose actor.

    python bench/bench_ray.py --synth DIR [--clips 40] [--small 10]

Takes the videos of an HMI-Synth folder (`macm synth` output) in turn under `--clips` ids (a jsonl
source in a scratch folder). Each extraction is a fresh `macm build` process, as a user runs it
(process start included; for Ray also the start of its local instance and its actors). A second run
on the first `--small` clips splits each executor's time into start-up and per-clip time, which is
what a large dataset sees. The load average is printed beside each figure: on a shared machine it
says how much the timings are inflated.
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
    parser.add_argument(
        "--small", type=int, default=10, help="a second, smaller run: separates start-up from per-clip time"
    )
    args = parser.parse_args()

    rows = [json.loads(line) for line in (Path(args.synth) / "metadata.jsonl").read_text().splitlines()]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "src").mkdir()
        items = []
        for i in range(args.clips):
            video = Path(args.synth) / rows[i % len(rows)]["video"]
            if not (tmp / "src" / video.name).exists():
                shutil.copyfile(video, tmp / "src" / video.name)
            items.append({"id": f"clip{i:03d}", "video": video.name, "caption": "x"})
        seconds = sum(rows[i % len(rows)]["duration"] for i in range(args.clips))
        print(
            f"{args.clips} clips ({len(rows)} videos in turn), {seconds:.0f} s of video, motion at <= 10 fps, {os.cpu_count()} CPUs"
        )
        print(f"local Ray instance start-up: {ray_start_seconds():.2f} s ({load()})")

        executors = {"--num-proc 2": ["--num-proc", "2"], "--executor ray": ["--executor", "ray"]}
        times, actor_rss = {}, 0
        for count in (args.small, args.clips):
            source = tmp / "src" / f"items-{count}.jsonl"
            source.write_text("".join(json.dumps(item) + "\n" for item in items[:count]))
            for name, options in executors.items():
                out = tmp / f"{name.split()[-1]}-{count}"
                times[name, count], rss = timed_build(
                    source, out, options, watch="_PoseWorker" if "ray" in name else None
                )
                actor_rss = max(actor_rss, rss)
                rate = count / times[name, count]
                print(f"{name:<15} {count:>3} clips: {rate:.3f} clips/s ({times[name, count]:.1f} s; {load()})")
        local, ray = (times[name, args.clips] for name in executors)
        print(f"Ray overhead on {args.clips} clips: {100 * (ray / local - 1):+.1f}% of the time")
        # Two sizes give a line: time = start-up + clips x per-clip time.
        per_clip = {}
        for name in executors:
            per_clip[name] = (times[name, args.clips] - times[name, args.small]) / (args.clips - args.small)
            print(f"{name:<15} start-up {times[name, args.small] - args.small * per_clip[name]:.1f} s, then "
                  f"{per_clip[name]:.2f} s per clip ({per_clip[name] * os.cpu_count():.2f} CPU-s per clip)")  # fmt: skip
        local, ray = per_clip.values()
        print(f"Ray overhead per clip once started (clips/s of a large build): {100 * (ray / local - 1):+.1f}%")
        print(f"peak RSS of one pose actor: {actor_rss / 2**20:.0f} MiB")
        for folder in ("motion", "data"):
            size = sum(path.stat().st_size for path in (tmp / f"ray-{args.clips}" / folder).iterdir())
            print(f"{folder}/: {size / args.clips / 2**10:.0f} KiB per clip")


if __name__ == "__main__":
    main()
