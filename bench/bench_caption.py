"""End-to-end caption latency of a 10 s clip with the embedded model, stage by stage, and peak memory:
with motion and with `--no-motion`, side by side in one run.

    python bench/bench_caption.py [--video CLIP] [--model macm] [--decoding greedy] [--repeats 3]

In process (median of --repeats, after a warm-up): pose (MediaPipe track), decode and preprocess (PyAV
frames → processor), generate (prefill and every new token; the encoders are inside it), colours (the clothes'
colours read from the frames, with motion) and, timed on
their own, the encoders (vision tower and motion pathway on the processed inputs). Whole command: one
`macm caption --json` subprocess each way, its wall time (imports and model loading included) and its
peak RSS (VmHWM, which starts afresh at exec; the rusage of a child also counts the memory of the
parent it was forked from). Without --video, an HMI-Synth example clip of the Space is looped to 10 s.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_space import ten_second_clip  # noqa: E402

# Runs `macm` in this interpreter and prints its peak resident set size on the way out.
PEAK_RSS_WRAPPER = """
import atexit, runpy, sys
def report():
    with open("/proc/self/status") as status:
        print(next(line for line in status if line.startswith("VmHWM:")).strip(), file=sys.stderr)
atexit.register(report)
sys.argv[0] = "macm"
runpy.run_module("macm_cli", run_name="__main__")
"""


def command_run(video: str, model: str, decoding: str, use_motion: bool) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one `macm caption --json` process."""
    args = ["caption", video, "--json", "--model", model, "--decoding", decoding] + (
        [] if use_motion else ["--no-motion"]
    )
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", PEAK_RSS_WRAPPER, *args], capture_output=True, text=True,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})  # fmt: skip
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"`macm {' '.join(args)}` failed:\n{result.stderr[-2000:]}")
    peak_kib = int(next(line for line in result.stderr.splitlines() if line.startswith("VmHWM:")).split()[1])
    return wall, peak_kib / 1024


def encoder_seconds(captioner, video: str, track) -> float:
    """The vision tower (and motion pathway when `track` is given) on processed inputs, alone."""
    import torch

    processor, model = captioner.processor, captioner.model.model
    inputs = processor(text=processor.default_prompt(with_motion=track is not None), videos=video, motion=track)
    start = time.perf_counter()
    with torch.no_grad():
        model.get_video_features(inputs["pixel_values_videos"])
        if track is not None:
            model.get_motion_features(
                inputs.get("motion_pixel_values"), inputs.get("motion_features"), inputs.get("motion_attention_mask")
            )
    return time.perf_counter() - start


def stage_times(captioner, video: str, decoding: str, use_motion: bool, repeats: int) -> dict[str, float]:
    track = captioner.estimate_motion(video) if use_motion else None
    runs = []
    for _ in range(repeats + 1):  # the first is a warm-up
        result = captioner(video, use_motion=use_motion, decoding=decoding)
        runs.append({**result.timings, "encoders": encoder_seconds(captioner, video, track)})
    return {key: statistics.median(run[key] for run in runs[1:]) for key in runs[0]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", default=None, help="the clip (default: a Space example looped to 10 s)")
    parser.add_argument("--model", default="macm")
    parser.add_argument("--decoding", choices=["greedy", "msd", "grounded"], default="greedy")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    import torch

    from macm_cli import MACMCaptioner
    from processing_macm import probe_video

    with tempfile.TemporaryDirectory() as tmp:
        video = args.video or ten_second_clip(Path(tmp))
        info = probe_video(video)
        print(f"clip: {info.num_frames / info.fps:.1f} s, {info.width}x{info.height} at {info.fps:g} fps; "
              f"model {args.model}, {args.decoding} decoding, torch threads {torch.get_num_threads()}")  # fmt: skip
        captioner = MACMCaptioner.from_pretrained(args.model)
        rows = {}
        for use_motion in (True, False):
            stages = stage_times(captioner, video, args.decoding, use_motion, args.repeats)
            wall, peak = command_run(video, args.model, args.decoding, use_motion)
            rows["motion" if use_motion else "no-motion"] = {**stages, "command_wall": wall, "peak_rss_mb": peak}

    keys = [
        "pose",
        "decode_and_preprocess",
        "encoders",
        "generate",
        "colours",
        "new_tokens",
        "command_wall",
        "peak_rss_mb",
    ]
    print("| stage | " + " | ".join(rows) + " | ratio |")
    print("|---|" + "---|" * (len(rows) + 1))
    for key in keys:
        values = [rows[name].get(key, 0.0) for name in rows]
        ratio = f"{values[0] / values[1]:.2f}×" if values[1] else "–"
        unit = "" if key in ("new_tokens", "peak_rss_mb") else " s"
        print(f"| {key} | " + " | ".join(f"{v:.3f}{unit}" if unit else f"{v:.0f}" for v in values) + f" | {ratio} |")


if __name__ == "__main__":
    main()
