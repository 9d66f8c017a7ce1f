"""The Gradio Space as a user sees it: time from upload to the first caption token and to the full
caption for a 10 s clip, and throughput with concurrent users, over HTTP with gradio_client against
the app launched in this process on 127.0.0.1.

    python bench/bench_space.py --model PATH [--video CLIP] [--users 4] [--max-new-tokens 96]

Without --video, an HMI-Synth example clip shipped with the Space is looped to 10 s.
"""

import argparse
import os
import socket
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np


def ten_second_clip(out_dir: Path) -> str:
    from processing_macm import read_video, write_video
    from space.app import EXAMPLES_DIR

    frames, info = read_video(sorted(EXAMPLES_DIR.glob("*.mp4"))[0])
    repeats = int(np.ceil(10 * info.fps / len(frames)))
    return str(
        write_video(out_dir / "ten_seconds.mp4", np.concatenate([frames] * repeats)[: round(10 * info.fps)], info.fps)
    )


def timed_request(client, video: str, settings: list) -> tuple[float, float, str]:
    """Seconds from submitting (the upload included) to the first caption text and to the full caption."""
    from gradio_client import handle_file

    start = time.perf_counter()
    job = client.submit(handle_file(video), *settings, api_name="/caption")
    first = None
    while not job.done():
        if first is None and any(output[0] for output in job.outputs()):
            first = time.perf_counter() - start
        time.sleep(0.005)
    caption = job.result()[0]
    total = time.perf_counter() - start
    return first if first is not None else total, total, caption


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=os.environ.get("MACM_MODEL", "macm"))
    parser.add_argument("--video", default=None, help="the clip to caption (default: an example looped to 10 s)")
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3, help="single-user requests timed (after one warm-up)")
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--decoding", choices=["greedy", "msd"], default="greedy")
    args = parser.parse_args(argv)

    from gradio_client import Client

    from processing_macm import probe_video
    from space import app

    app.MODEL_PATH = args.model
    captioner = app.load_captioner(args.model)
    processor = captioner.processor
    settings = [
        True,
        args.decoding,
        app.MSD_ALPHA_DEFAULT,
        0.2,
        2.0,
        processor.num_frames,
        processor.num_keyframes,
        "",
        args.max_new_tokens,
    ]
    with tempfile.TemporaryDirectory() as tmp, socket.socket() as sock:
        video = args.video or ten_second_clip(Path(tmp))
        info = probe_video(video)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        _, url, _ = app.demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
        try:
            client = Client(url, verbose=False)
            print(
                f"model {args.model} ({processor.motion_representation}), clip {info.duration:.1f} s {info.width}x{info.height} "
                f"@ {info.fps:g} fps, {processor.num_frames} frames, {args.decoding}, max {args.max_new_tokens} new tokens, "
                f"{os.cpu_count()} CPU cores"
            )
            timed_request(client, video, settings)  # warm-up: pose model, first-call allocations
            single = [timed_request(client, video, settings) for _ in range(args.repeats)]
            first = statistics.median(s[0] for s in single)
            total = statistics.median(s[1] for s in single)
            print(
                f"1 user : upload -> first caption token {first:.2f} s, -> full caption {total:.2f} s (median of {args.repeats})"
            )

            start = time.perf_counter()
            with ThreadPoolExecutor(args.users) as pool:
                results = list(pool.map(lambda _: timed_request(client, video, settings), range(args.users)))
            wall = time.perf_counter() - start
            latencies = sorted(r[1] for r in results)
            same = all(r[2] == single[0][2] for r in results)
            print(
                f"{args.users} users: all done in {wall:.2f} s = {args.users / wall * 60:.1f} captions/min; "
                f"latency min {latencies[0]:.2f} s, max {latencies[-1]:.2f} s; captions identical to 1-user: {same}"
            )
        finally:
            app.demo.close()


if __name__ == "__main__":
    main()
