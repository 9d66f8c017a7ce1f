"""The README.md dataset card of a built HMI dataset: YAML `configs:` naming one Parquet glob per split
(what makes `load_dataset(DATASET_DIR)` work without a loading script, which datasets 4 removed), the
features, provenance and licence per source, and how to publish and load it from the Hub.

The card is written from the Parquet shards on disk (`write_card`): its `dataset_info` block carries
the rows per split, the bytes and a SHA-256 over the shards, so the card's metadata changes whenever
the rows do. datasets 5.2 keys its cache of a local folder on the folder's name and a hash of the
card's metadata (`Hasher.hash({"dataset_infos": ..., "builder_configs": ...})` in
`LocalDatasetModuleFactory.get_module`), not on the data files: without this block `load_dataset`
serves an earlier build's rows after a rebuild, or for another folder of the same name. After merging
the folders of a `--shard i/n` build, `python -m dataset_scripts.card DATASET_DIR` rewrites the card
from the merged shards.
"""

import hashlib
import re
import sys
from collections import Counter
from pathlib import Path

_FEATURES = """\
| column | type | content |
|---|---|---|
| `id` | string | unique clip id |
| `video` | string | clip path relative to the dataset folder (`videos/<id>.mp4`); decode with `processing_macm.video_io.read_video(os.path.join(DATASET_DIR, row["video"]))` |
| `caption` | string | the clip's caption |
| `captions` | struct or null | HMI's three levels: `fine` / `contextual` lists of `{start, end, text}` (seconds), `summary` |
| `qa` | list | `{question, answer, type: "open" or "true_false", dimension}` |
| `motion` | struct or null | a MotionTrack: `fps`, `frame_size` (w, h), `keypoints_2d` [T, 33, 3] (pixels + confidence), `joints_3d` [T, 22, 3] (SMPL order, metres, pelvis-centred, y up), `valid` [T], `backend`, optional SMPL `global_orient`, `body_pose`, `betas`, `transl`; `dataset_scripts.schema.row_to_track(row)` rebuilds it |
| `ground_truth` | struct or null | HMI-Synth only: `joints_3d` [T, 22, 3] (the rendered body's SMPL joints), `program` (the generating motion program, JSON; `dataset_scripts.schema.program_from_row(row)`) and `synth_version` (HMI-Synth release, 1-4) |
| `source`, `license` | string | provenance and licence of the clip and its text |
"""

_USAGE = """\
## Load

```python
from datasets import load_dataset

ds = load_dataset("{name}")                       # from the folder that contains this card
ds = load_dataset("{name}", streaming=True)       # the same rows, streamed
```
Videos are stored as files under `videos/` and referenced by relative path (not `datasets.Video()`:
its decoding needs torchcodec). Loading from the Hub therefore means taking a snapshot of the repo:

```python
from huggingface_hub import snapshot_download

local = snapshot_download("USER/{name}", repo_type="dataset")
ds = load_dataset(local)
```

## Publish

Upload the whole folder (Parquet shards, `videos/`, this card), not only the tables:

```bash
hf upload USER/{name} {name} . --repo-type dataset
# or: huggingface_hub.HfApi().upload_folder(folder_path="{name}", repo_id="USER/{name}", repo_type="dataset")
```
`ds.push_to_hub("USER/{name}")` also works but uploads the tables alone: the `video` paths then point
at files that are not in the repo.
"""


def _yaml_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dataset_card(
    name: str,
    split_counts: dict[str, int],
    sources: dict[tuple[str, str], int],
    build_command: str,
    split_bytes: dict[str, int] | None = None,
    fingerprint: str = "",
) -> str:
    """Markdown with a YAML header.

    Args:
        name: the dataset folder's name.
        split_counts: rows per split.
        sources: `{(source, license): rows}`.
        build_command: the `macm build` command line that made it (provenance).
        split_bytes: Parquet bytes per split (`dataset_info`; default 0).
        fingerprint: SHA-256 over the Parquet shards, in `dataset_info`'s description.
    """
    split_bytes = split_bytes or {}
    licenses = sorted({license.lower() for _, license in sources})
    lines = ["---", "license:"] + [f"- {_yaml_quote(license)}" for license in licenses]
    lines += [
        "task_categories:", "- video-text-to-text", "tags:", "- human-motion", "- video-captioning", "- hmi",
        "configs:", "- config_name: default", "  data_files:",
    ]  # fmt: skip
    for split in sorted(split_counts):
        lines += [f"  - split: {split}", f"    path: data/{split}-*-of-*.parquet"]
    lines += [
        "dataset_info:",
        f"  description: {_yaml_quote(f'HMI-format rows; Parquet shards sha256:{fingerprint}')}",
    ]
    lines += ["  splits:"]
    for split in sorted(split_counts):
        lines += [
            f"  - name: {split}",
            f"    num_bytes: {split_bytes.get(split, 0)}",
            f"    num_examples: {split_counts[split]}",
        ]
    total = sum(split_bytes.values())
    lines += [f"  download_size: {total}", f"  dataset_size: {total}"]
    lines += ["---", "", f"# {name}", ""]
    lines += [
        'Human-motion video captions in the HMI format of M-ACM ("Towards Fine-Grained Human Motion Video',
        'Captioning", Song et al., ACM MM 2025), built with',
        "",
        f"```bash\n{build_command}\n```",
        "",
        "## Splits",
        "",
        "| split | clips |",
        "|---|---|",
    ]
    lines += [f"| {split} | {count} |" for split, count in sorted(split_counts.items())]
    lines += ["", "## Provenance and licences", "", "| source | licence | clips |", "|---|---|---|"]
    lines += [f"| {source} | {license} | {count} |" for (source, license), count in sorted(sources.items())]
    lines += [
        "",
        "Each row's `source` and `license` columns say the same per clip. Clips keep the licence of the",
        "video and text they come from; check it before redistributing.",
        "",
        "## Features",
        "",
        _FEATURES,
        _USAGE.format(name=name),
    ]
    return "\n".join(lines)


def source_counts(rows) -> dict[tuple[str, str], int]:
    return dict(Counter((row["source"], row["license"]) for row in rows))


_SHARD = re.compile(r"^(?P<split>.+)-\d{5}-of-\d{5}$")  # data/<split>-<i>-of-<n>.parquet, as build writes


def write_card(dataset_dir, build_command: str) -> Path:
    """(Re)writes `dataset_dir/README.md` from the Parquet shards in `dataset_dir/data`."""
    import pyarrow.parquet as pq

    from processing_macm.atomic import atomic_path

    dataset_dir = Path(dataset_dir)
    counts, sizes, sources = Counter(), Counter(), Counter()
    digest = hashlib.sha256()
    for path in sorted((dataset_dir / "data").glob("*.parquet")):
        match = _SHARD.match(path.stem)
        if not match:
            continue  # not a shard of ours
        table = pq.read_table(path, columns=["source", "license"])
        counts[match["split"]] += table.num_rows
        sizes[match["split"]] += path.stat().st_size
        sources.update(zip(table.column("source").to_pylist(), table.column("license").to_pylist()))
        digest.update(path.name.encode() + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    card = dataset_card(
        dataset_dir.resolve().name, dict(counts), dict(sources), build_command, dict(sizes), digest.hexdigest()
    )
    target = dataset_dir / "README.md"
    with atomic_path(target) as tmp:
        tmp.write_text(card, encoding="utf-8")
    return target


def _build_command(card_path: Path) -> str:
    """The provenance line of an existing card, kept when the card is rewritten after a merge."""
    if card_path.is_file():
        match = re.search(r"```bash\n(.*?)\n```", card_path.read_text(encoding="utf-8"), re.DOTALL)
        if match:
            return match.group(1)
    return "merged shards"


def main(argv: list[str] | None = None) -> int:
    """`python -m dataset_scripts.card DATASET_DIR`: the card of merged shard folders."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or not (Path(argv[0]) / "data").is_dir():
        print("usage: python -m dataset_scripts.card DATASET_DIR (a folder with data/*.parquet)", file=sys.stderr)
        return 2
    print(write_card(argv[0], _build_command(Path(argv[0]) / "README.md")))
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["dataset_card", "main", "source_counts", "write_card"]
