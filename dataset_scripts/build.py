"""`macm build SOURCE --format hmi-bench|jsonl|synth -o DATASET_DIR`: an HMI-format dataset.

Output layout (loadable with `datasets.load_dataset(DATASET_DIR)`, offline or streamed):
    DATASET_DIR/README.md                               card with `configs:` per split (card.py)
    DATASET_DIR/data/<split>-<i>-of-<n>.parquet         typed rows (schema.py); one file per split and shard
    DATASET_DIR/videos/<id>.<ext>                       the clips, referenced by relative path
    DATASET_DIR/motion/<id>.npz                         MotionTrack per clip (`--extract-motion`)
    DATASET_DIR/build_report[-<i>-of-<n>].json          what was built, every problem with its item;
                                                        written first with `complete: false`, so that an
                                                        interrupted build is known as ours and resumes

Every file is written to a temporary name and renamed, so an interrupted build leaves no partial
file under a final name; running it again redoes only what is missing. `--shard i/n` builds every
n-th clip from the i-th, so that n machines can split one source: each writes its own Parquet shard
and tracks, and the folders merge by copying.

The output folder is someone's disk: a build writes into a new or empty folder, or updates an earlier
build (one holding a `build_report*.json`); any other non-empty folder is refused unless `overwrite`
is given. Even then a build only writes the files named above and deletes only Parquet shards of its
own naming: foreign files are never touched.
"""

import argparse
import json
import re
import shlex
import shutil
import sys
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from processing_macm.atomic import atomic_path

from .card import write_card
from .sources import FORMATS, SourceError, read_source

ROWS_PER_WRITE = 256  # rows encoded per Parquet write: bounds memory when tracks are long
_SHARD_FILE = re.compile(r"^(?P<split>.+)-\d{5}-of-(?P<count>\d{5})$")  # data/<split>-<i>-of-<n>.parquet


class BuildError(RuntimeError):
    """A build that stopped on purpose (`--strict` with problems); the message lists them."""


@dataclass
class BuildReport:
    dataset_dir: str
    shard: tuple[int, int]
    rows: dict[str, int] = field(default_factory=dict)  # per split, in this shard
    problems: list[str] = field(default_factory=list)
    motion_errors: dict[str, str] = field(default_factory=dict)
    motion_retries: dict[str, str] = field(default_factory=dict)  # `--executor ray`: clips whose worker died
    complete: bool = False  # False while the build runs (and after an interruption)

    def summary(self) -> str:
        lines = [
            f"built {sum(self.rows.values())} clips {self.rows} into {self.dataset_dir} (shard {self.shard[0]}/{self.shard[1]})"
        ]
        if self.problems:
            lines.append(f"{len(self.problems)} problem(s), those items were skipped:")
            lines += [f"  - {problem}" for problem in self.problems]
        if self.motion_errors:
            lines.append(f"{len(self.motion_errors)} clip(s) without motion (rerun to retry):")
            lines += [f"  - {clip_id}: {error}" for clip_id, error in self.motion_errors.items()]
        if self.motion_retries:
            lines.append(f"{len(self.motion_retries)} clip(s) retried:")
            lines += [f"  - {clip_id}: {what}" for clip_id, what in self.motion_retries.items()]
        return "\n".join(lines)


def parse_shard(text: str) -> tuple[int, int]:
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"--shard takes i/n (e.g. 0/4), got {text!r}") from err
    if not 0 <= index < count:
        raise argparse.ArgumentTypeError(f"--shard i/n needs 0 <= i < n, got {text!r}")
    return index, count


def _write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _copy_video(src: Path, dst: Path) -> None:
    """Copies unless `dst` already holds a file of the same size (an earlier run copied it)."""
    if dst.is_file() and dst.stat().st_size == src.stat().st_size:
        return
    with atomic_path(dst) as tmp:
        shutil.copyfile(src, tmp)


def write_parquet(path: Path, rows: list[dict]) -> None:
    """Rows as one Parquet file with the HMI features in its metadata (so types survive a load)."""
    import pyarrow.parquet as pq

    from .schema import hmi_features, require_datasets

    features = hmi_features()
    # The schema comes from the features, not the first rows: a shard may have no rows.
    with atomic_path(path) as tmp, pq.ParquetWriter(tmp, features.arrow_schema) as writer:
        for start in range(0, len(rows), ROWS_PER_WRITE):
            chunk = rows[start : start + ROWS_PER_WRITE]
            writer.write_table(require_datasets().Dataset.from_list(chunk, features=features).data.table)


def check_output_dir(dataset_dir: Path, overwrite: bool = False) -> None:
    """Refuses a non-empty `dataset_dir` that is not an earlier build, unless `overwrite`."""
    if dataset_dir.exists() and not dataset_dir.is_dir():
        raise BuildError(f"Output {str(dataset_dir)!r} is a file, not a folder; choose another -o.")
    if overwrite or not dataset_dir.is_dir() or next(dataset_dir.glob("build_report*.json"), None):
        return
    foreign = sorted(path.name for path in dataset_dir.iterdir())
    if foreign:
        shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
        raise BuildError(
            f"Output folder {str(dataset_dir)!r} is not empty ({shown}) and is not an earlier `macm build`: "
            "choose a new or empty folder with -o, or pass --overwrite to write into it (files the build "
            "does not write are left alone)."
        )


def _remove_other_shardings(data_dir: Path, splits, count: int) -> None:
    """Shards of an earlier build with another shard count or of splits that are gone would be picked
    up by the card's globs: remove them. Files not named like our shards are not ours: kept."""
    for path in data_dir.glob("*.parquet"):
        match = _SHARD_FILE.match(path.stem)
        if match and (match["split"] not in splits or match["count"] != f"{count:05d}"):
            path.unlink()


def build(
    source,
    fmt: str,
    dataset_dir="hmi",
    extract_motion: bool = False,
    num_proc: int = 1,
    shard: tuple[int, int] = (0, 1),
    strict: bool = False,
    video_root=None,
    license: str | None = None,
    backend: str = "mediapipe",
    max_fps: float | None = 10.0,
    command: str = "",
    overwrite: bool = False,
    executor: str = "local",
    ray_address: str | None = None,
) -> BuildReport:
    """Builds (or completes) an HMI dataset from `source`; see the module docstring for the layout."""
    check_output_dir(Path(dataset_dir), overwrite)
    read = read_source(source, fmt, video_root=video_root, license=license)
    if strict and read.problems:
        raise BuildError(
            f"--strict: {len(read.problems)} problem(s) in {source}:\n" + "\n".join(f"  - {p}" for p in read.problems)
        )
    dataset_dir = Path(dataset_dir)
    index, count = shard
    report = BuildReport(str(dataset_dir), shard, problems=[str(p) for p in read.problems])
    report_path = dataset_dir / (
        "build_report.json" if count == 1 else f"build_report-{index:05d}-of-{count:05d}.json"
    )
    _write_text(report_path, json.dumps(asdict(report), indent=2) + "\n")

    by_split: dict[str, list] = defaultdict(list)
    for clip in read.clips:
        by_split[clip.split].append(clip)
    mine = {split: clips[index::count] for split, clips in by_split.items()}

    from .schema import file_stem

    for clip in tqdm([c for clips in mine.values() for c in clips], desc="videos", unit="clip"):
        src = Path(clip.row["video"])
        relative = f"videos/{file_stem(clip.row['id'])}{src.suffix.lower()}"
        _copy_video(src, dataset_dir / relative)
        clip.row["video"] = relative

    if extract_motion:
        from processing_macm.motion_track import MotionTrack

        from .extract_motion import extract_tracks, remove_stale_temporaries, track_path
        from .schema import track_to_row

        if count == 1:
            remove_stale_temporaries(dataset_dir)
        mine_rows = [clip.row for clips in mine.values() for clip in clips]
        clips = [(r["id"], r["video"]) for r in mine_rows]
        if executor == "ray":
            from .ray_executor import extract_tracks_ray

            report.motion_errors, report.motion_retries = extract_tracks_ray(
                dataset_dir, clips, backend, max_fps, ray_address
            )
        else:
            report.motion_errors = extract_tracks(dataset_dir, clips, num_proc, backend, max_fps)
        for row in mine_rows:
            if row["id"] not in report.motion_errors:
                row["motion"] = track_to_row(MotionTrack.load(track_path(dataset_dir, row["id"])))

    data_dir = dataset_dir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    _remove_other_shardings(data_dir, set(by_split), count)
    for split, clips in mine.items():
        write_parquet(data_dir / f"{split}-{index:05d}-of-{count:05d}.parquet", [clip.row for clip in clips])
        report.rows[split] = len(clips)

    write_card(dataset_dir, command)
    report.complete = True
    _write_text(report_path, json.dumps(asdict(report), indent=2) + "\n")
    return report


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="macm build", description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="HMI-Bench folder, .jsonl/.json file, or HMI-Synth folder")
    parser.add_argument("--format", required=True, choices=FORMATS, dest="fmt")
    parser.add_argument(
        "-o", "--output", default="hmi", help="dataset folder (default ./hmi, so `load_dataset('hmi')` finds it)"
    )
    parser.add_argument("--extract-motion", action="store_true", help="estimate a MotionTrack per clip (resumable)")
    parser.add_argument("--num-proc", type=int, default=1, help="processes for motion extraction")
    parser.add_argument(
        "--executor", choices=("local", "ray"), default="local",
        help="motion extraction on this machine (--num-proc processes) or on Ray: one actor per CPU (`macm[scale]`)",
    )  # fmt: skip
    parser.add_argument("--ray-address", help="--executor ray: the cluster's address (default: a local Ray instance)")
    parser.add_argument(
        "--shard", type=parse_shard, default=(0, 1), metavar="I/N", help="build only shard I of N (one per machine)"
    )
    parser.add_argument(
        "--strict", action="store_true", help="stop, writing nothing, if any source item has a problem"
    )
    parser.add_argument(
        "--video-root", help="jsonl: folder the video paths are relative to (default: the file's folder)"
    )
    parser.add_argument("--license", help="licence to record for every clip (default: the source's, else 'unknown')")
    parser.add_argument("--backend", default="mediapipe", help="pose backend for --extract-motion")
    parser.add_argument("--max-fps", type=float, default=10.0, help="highest rate motion is estimated at")
    parser.add_argument(
        "--overwrite", action="store_true",
        help="write into a non-empty folder that is not an earlier build (only the build's own files are replaced)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.num_proc < 1:
        parser.error(f"--num-proc must be >= 1, got {args.num_proc}")
    if args.executor == "ray" and not args.extract_motion:
        parser.error("--executor ray runs motion extraction: add --extract-motion")
    if args.executor == "ray" and args.num_proc > 1:
        parser.error("--num-proc is the local executor's; Ray runs one actor per CPU of the cluster")
    if args.ray_address and args.executor != "ray":
        parser.error("--ray-address needs --executor ray")
    if args.ray_address:
        from .ray_executor import check_address

        check_address(args.ray_address)  # before any copying
    command = "macm build " + shlex.join(argv)
    try:
        report = build(
            args.source, args.fmt, args.output, extract_motion=args.extract_motion, num_proc=args.num_proc,
            shard=args.shard, strict=args.strict, video_root=args.video_root, license=args.license,
            backend=args.backend, max_fps=args.max_fps, command=command, overwrite=args.overwrite,
            executor=args.executor, ray_address=args.ray_address,
        )  # fmt: skip
    except (SourceError, BuildError) as err:
        print(f"macm build: error: {err}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0


__all__ = ["BuildError", "BuildReport", "build", "check_output_dir", "main", "parse_shard", "write_parquet"]
