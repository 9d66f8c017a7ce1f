"""Loading an HMI dataset folder with `datasets`: `load_dataset(folder)` itself, with a check that the
folder is one and that its card follows its rows (`dataset_info`, written by `card.write_card`)."""

from pathlib import Path

from processing_macm.motion_track import MotionTrack

from .schema import program_from_row, require_datasets, row_to_track


def load_hmi_split(dataset_dir, split: str, streaming: bool = False):
    """`datasets.load_dataset(dataset_dir, split=split, streaming=streaming)` of a built HMI folder."""
    card = Path(dataset_dir) / "README.md"
    if not card.is_file():
        raise FileNotFoundError(
            f"{dataset_dir} is not an HMI dataset folder (no README.md with `configs:`); build one with `macm build`."
        )
    if "\ndataset_info:" not in card.read_text(encoding="utf-8"):
        # Without it datasets 5.2 may serve an earlier build's cached rows (card.py says why).
        raise ValueError(
            f"The card of {dataset_dir} predates content-keyed cards, so `load_dataset` may return stale rows: "
            f"run `python -m dataset_scripts.card {dataset_dir}` once to rewrite it from the Parquet shards."
        )
    return require_datasets().load_dataset(str(dataset_dir), split=split, streaming=streaming)


def programmed_clips(dataset_dir, split: str, limit: int | None = None) -> list[tuple[str, MotionTrack, list[dict]]]:
    """The clips of a built HMI-Synth split (of its first `limit` rows, if given) with a program and a person in
    their stored track, as `(video path, MotionTrack, program)`."""
    rows = load_hmi_split(dataset_dir, split)
    rows = rows.select(range(min(limit, len(rows)))) if limit else rows
    clips = []
    for row in rows:
        program, track = program_from_row(row), row_to_track(row["motion"]) if row["motion"] else None
        if program and track is not None and track.has_person:
            clips.append((str(Path(dataset_dir) / row["video"]), track, program))
    return clips


__all__ = ["load_hmi_split", "programmed_clips"]
