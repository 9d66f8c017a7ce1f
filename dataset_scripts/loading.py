"""Loading an HMI dataset folder with `datasets`, past a caching pitfall of datasets 5.2.

`load_dataset(folder)` caches its Arrow copy under the folder's name and a hash that does not follow
the files: after a rebuild (or for another folder of the same name) it serves the old rows, and checks
the new split sizes against the old ones. Here each load's cache is a folder named after the dataset's
files (path, size and modification time of README.md and every Parquet shard), so a changed dataset
gets a fresh copy and an unchanged one is read back from its cache, by any number of processes at once.
"""

import hashlib
from pathlib import Path

from .schema import require_datasets


def files_fingerprint(dataset_dir) -> str:
    """16 hex digits over the relative path, size and mtime of README.md and every `*.parquet` below."""
    root = Path(dataset_dir)
    digest = hashlib.sha1()
    for path in sorted([root / "README.md", *root.rglob("*.parquet")]):
        if path.is_file():
            stat = path.stat()
            digest.update(f"{path.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def load_hmi_split(dataset_dir, split: str, streaming: bool = False, cache_root=None):
    """`datasets.load_dataset(dataset_dir, split=split)` with the cache under `cache_root` (default: the
    datasets cache) in a folder per content. Streaming reads the files as they are, with no cache."""
    datasets = require_datasets()
    if not (Path(dataset_dir) / "README.md").is_file():
        raise FileNotFoundError(f"{dataset_dir} is not an HMI dataset folder (no README.md with `configs:`); build one with `macm build`.")
    if streaming:
        return datasets.load_dataset(str(dataset_dir), split=split, streaming=True)
    cache_dir = Path(cache_root or datasets.config.HF_DATASETS_CACHE) / "hmi" / files_fingerprint(dataset_dir)
    return datasets.load_dataset(str(dataset_dir), split=split, cache_dir=str(cache_dir))


__all__ = ["files_fingerprint", "load_hmi_split"]
