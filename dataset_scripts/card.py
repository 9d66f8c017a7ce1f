"""The README.md dataset card of a built HMI dataset: YAML `configs:` naming one Parquet glob per split
(what makes `load_dataset(DATASET_DIR)` work without a loading script, ENVIRONMENT.md), the
features, provenance and licence per source, and how to publish and load it from the Hub.

The card is a pure function of the rows, so that every `--shard i/n` writes the same one.
"""

from collections import Counter

_FEATURES = """\
| column | type | content |
|---|---|---|
| `id` | string | unique clip id |
| `video` | string | clip path relative to the dataset folder (`videos/<id>.mp4`); decode with `processing_macm.video_io.read_video(os.path.join(DATASET_DIR, row["video"]))` |
| `caption` | string | the clip's caption |
| `captions` | struct or null | HMI's three levels: `fine` / `contextual` lists of `{start, end, text}` (seconds), `summary` |
| `qa` | list | `{question, answer, type: "open" or "true_false", dimension}` |
| `motion` | struct or null | a MotionTrack: `fps`, `frame_size` (w, h), `keypoints_2d` [T, 33, 3] (pixels + confidence), `joints_3d` [T, 22, 3] (SMPL order, metres, pelvis-centred, y up), `valid` [T], `backend`, optional SMPL `global_orient`, `body_pose`, `betas`, `transl`; `dataset_scripts.schema.row_to_track(row)` rebuilds it |
| `ground_truth` | struct or null | HMI-Synth only: `joints_3d` [T, 22, 3] (the rendered body's SMPL joints) and `program` (the generating motion program, JSON; `dataset_scripts.schema.program_from_row(row)`) |
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


def dataset_card(name: str, split_counts: dict[str, int], sources: dict[tuple[str, str], int], build_command: str) -> str:
    """Markdown with a YAML header.

    Args:
        name: the dataset folder's name.
        split_counts: rows per split.
        sources: `{(source, license): rows}`.
        build_command: the `macm build` command line that made it (provenance).
    """
    licenses = sorted({license.lower() for _, license in sources})
    lines = ["---", "license:"] + [f"- {_yaml_quote(license)}" for license in licenses]
    lines += [
        "task_categories:", "- video-text-to-text", "tags:", "- human-motion", "- video-captioning", "- hmi",
        "configs:", "- config_name: default", "  data_files:",
    ]  # fmt: skip
    for split in sorted(split_counts):
        lines += [f"  - split: {split}", f"    path: data/{split}-*.parquet"]
    lines += ["---", "", f"# {name}", ""]
    lines += [
        "Human-motion video captions in the HMI format of M-ACM (\"Towards Fine-Grained Human Motion Video",
        "Captioning\", Song et al., ACM MM 2025), built with",
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


__all__ = ["dataset_card", "source_counts"]
