"""Merges built HMI datasets into one: every split's shards side by side, the clips' files under one folder
and a new card, so `load_dataset(OUT)` serves the rows of all of them.

    macm merge hmi4 hmi5 hmi6 -o hmi456

Files are hard links to the inputs' (no copy, no extra disk) where the output is on the same file system,
copies otherwise. Clip ids and file paths must not repeat across the inputs: a repeat is refused, naming it.
The output is written beside its target and renamed when complete, so a failed merge leaves nothing that looks
finished.
"""

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from .card import _SHARD, write_card

_DATA = "data"


class MergeError(ValueError):
    pass


def _shards(dataset: Path) -> dict[str, list[Path]]:
    """`{split: [shard, ...]}` of a built dataset, from its `data/<split>-xxxxx-of-xxxxx.parquet` files."""
    shards: dict[str, list[Path]] = {}
    for path in sorted((dataset / _DATA).glob("*.parquet")):
        match = _SHARD.match(path.stem)
        if match:
            shards.setdefault(match["split"], []).append(path)
    if not shards:
        raise MergeError(f"{str(dataset)!r} has no data/<split>-*.parquet shards: is it a `macm build` output?")
    return shards


def _clip_files(dataset: Path) -> list[Path]:
    """The files a dataset's rows point to (videos, motion, ...): everything but its card, report and tables."""
    return [
        path.relative_to(dataset)
        for path in sorted(dataset.rglob("*"))
        if path.is_file() and path.parts[len(dataset.parts)] != _DATA and path.parent != dataset
    ]


def _place(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:  # another file system (or no hard links there): the same bytes, copied
        shutil.copyfile(source, target)


def merge(datasets, output) -> Path:
    """Writes the merge of `datasets` (built HMI folders) to the new folder `output`; returns its card."""
    import pyarrow.parquet as pq

    datasets, output = [Path(d) for d in datasets], Path(output)
    if len(datasets) < 2:
        raise MergeError("Give at least two datasets to merge.")
    if output.exists():
        raise MergeError(f"{str(output)!r} exists; choose a new folder with -o.")
    repeated = [d for i, d in enumerate(datasets) if d.resolve() in {e.resolve() for e in datasets[:i]}]
    if repeated:
        raise MergeError(f"{str(repeated[0])!r} is given twice; name each dataset once.")
    inside = [d for d in datasets if output.resolve().is_relative_to(d.resolve())]
    if inside:
        raise MergeError(f"{str(output)!r} is inside the input {str(inside[0])!r}; write the merge elsewhere.")
    shards = {dataset: _shards(dataset) for dataset in datasets}
    files = {dataset: _clip_files(dataset) for dataset in datasets}
    owner: dict[tuple[str, str], Path] = {}  # ("clip id" or "file", name) -> the dataset it comes from
    for dataset, splits in shards.items():
        ids = (
            i for paths in splits.values() for p in paths for i in pq.read_table(p, columns=["id"])["id"].to_pylist()
        )
        for key in [*(("clip id", i) for i in ids), *(("file", str(f)) for f in files[dataset])]:
            if key in owner:
                both = f"in both {str(owner[key])!r} and {str(dataset)!r}"
                where = f"twice in {str(dataset)!r}" if owner[key] == dataset else both
                raise MergeError(
                    f"The {key[0]} {key[1]!r} is {where}; merged datasets need distinct clip ids and file names "
                    "(e.g. HMI-Synth drawn with different --seed)."
                )
            owner[key] = dataset
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}-", dir=output.parent))
    try:
        for split in sorted({split for splits in shards.values() for split in splits}):
            parts = [path for splits in shards.values() for path in splits.get(split, [])]
            for index, path in enumerate(parts):
                _place(path, staging / _DATA / f"{split}-{index:05d}-of-{len(parts):05d}.parquet")
        for dataset, relatives in files.items():
            for relative in relatives:
                _place(dataset / relative, staging / relative)
        write_card(staging, "macm merge " + " ".join(str(d) for d in datasets) + f" -o {output}")
        staging.rename(output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return output / "README.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="macm merge", description=__doc__.split("\n\n")[0])
    parser.add_argument("datasets", nargs="+", help="built HMI dataset folders (`macm build` outputs)")
    parser.add_argument("-o", "--output", required=True, help="the merged dataset's folder (must not exist)")
    args = parser.parse_args(argv)
    try:
        card = merge(args.datasets, args.output)
    except MergeError as err:
        parser.error(str(err))
    print(card)
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["MergeError", "main", "merge"]
