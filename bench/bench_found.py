"""How often the person is found: a split's stored tracks (made when the dataset was built, by the pose
backend of that day) against tracks extracted again with today's, clip by clip.

    python bench/bench_found.py --dataset DIR [--split test] [--max-fps 10] [--num-proc 2] [--write DIR]

Prints, for both: the mean share of frames with the person found, the clips found in at least half of their
frames (the captioner describes those, see `SEEN_AT_LEAST`) and in under a tenth; then the clips that changed
most. --write makes an HMI folder of the split's rows with the new tracks (videos linked, not copied), for
`macm eval --dataset DIR --split SPLIT`.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from dataset_scripts.extract_motion import extract_tracks, track_path
from macm_cli.captioner import SEEN_AT_LEAST
from processing_macm.motion_track import MotionTrack


def summary(found: dict[str, float]) -> str:
    shares = np.array(list(found.values()))
    return (
        f"found in {shares.mean():.1%} of the frames on average; in >= {SEEN_AT_LEAST:.0%} of them: "
        f"{(shares >= SEEN_AT_LEAST).sum()} clips; under 10%: {(shares < 0.1).sum()} clips"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True, help="an HMI folder built with --extract-motion")
    parser.add_argument("--split", default="test")
    parser.add_argument("--max-fps", type=float, default=10.0, help="as `macm build --max-fps` (default 10)")
    parser.add_argument("--num-proc", type=int, default=1)
    parser.add_argument("--write", help="an HMI folder for the split's rows with the new tracks")
    args = parser.parse_args()

    import pyarrow.parquet as pq

    shards = sorted((Path(args.dataset) / "data").glob(f"{args.split}-*.parquet"))
    rows = [row for path in shards for row in pq.read_table(path).to_pylist()]  # read once, for --write too
    stored = {row["id"]: float(np.mean(row["motion"]["valid"])) for row in rows if row["motion"] is not None}
    if not stored:
        sys.exit(f"{args.dataset} ({args.split}) holds no tracks: build it with `macm build ... --extract-motion`.")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(args.write or scratch)
        start = time.perf_counter()
        errors = extract_tracks(folder, [(row["id"], str(Path(args.dataset) / row["video"])) for row in rows
                                         if row["id"] in stored], args.num_proc, max_fps=args.max_fps)  # fmt: skip
        seconds = time.perf_counter() - start
        now = {
            key: float(MotionTrack.load(track_path(folder, key)).valid.mean()) for key in stored if key not in errors
        }
    stored = {key: stored[key] for key in now}
    print(f"{args.dataset} ({args.split}), {len(now)} clips, max_fps {args.max_fps}:")
    print(f"  stored tracks: {summary(stored)}")
    print(f"  extracted now: {summary(now)} ({seconds:.0f} s, {args.num_proc} process(es))")
    for key, error in errors.items():
        print(f"  {key}: not read ({error})")
    changed = sorted(now, key=lambda key: -abs(now[key] - stored[key]))
    print("  most changed: " + ", ".join(f"{key} {stored[key]:.0%} -> {now[key]:.0%}" for key in changed[:10]))
    if args.write:
        write_dataset(Path(args.dataset), args.split, rows, Path(args.write))
        print(f"  wrote {args.write} ({args.split}, the new tracks)")


def write_dataset(source: Path, split: str, rows: list[dict], out: Path) -> None:
    """`out` as an HMI folder: `source`'s `split` `rows` with the tracks under `out/motion/` (rows without one, whose
    video could not be read, are left out), its other splits and its videos linked, and a card of its own: the card
    keys `load_dataset`'s cache (`dataset_scripts/card.py`), so a copied one would serve an earlier run's rows."""
    from dataset_scripts.build import write_parquet
    from dataset_scripts.card import write_card
    from dataset_scripts.schema import track_to_row

    rows = [{**row, "motion": track_to_row(MotionTrack.load(track_path(out, row["id"])))} for row in rows
            if track_path(out, row["id"]).is_file()]  # fmt: skip
    (out / "data").mkdir(exist_ok=True)
    for path in [source / "videos", *(source / "data").glob("*.parquet")]:
        link = out / path.relative_to(source)
        if not path.name.startswith(f"{split}-") and not link.exists():
            link.symlink_to(path.resolve())
    write_parquet(out / "data" / f"{split}-00000-of-00001.parquet", rows)
    write_card(out, " ".join(["python", *sys.argv]))


if __name__ == "__main__":
    main()
