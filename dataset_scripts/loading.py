"""Loading an HMI dataset folder with `datasets`: `load_dataset(folder)` itself, with a check that the
folder is one and that its card follows its rows (`dataset_info`, written by `card.write_card`)."""

from pathlib import Path

from .schema import require_datasets


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


__all__ = ["load_hmi_split"]
