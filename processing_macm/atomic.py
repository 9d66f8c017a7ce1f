"""Writes that never leave a partial file under the final name: write to a temporary file beside the
target (same filesystem), rename it over the target when complete, remove it on failure."""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# mkstemp creates owner-only files; finished files get the permissions a plain `open` would give.
_UMASK = os.umask(0)
os.umask(_UMASK)


@contextmanager
def atomic_path(path) -> Iterator[Path]:
    """Yields a temporary path to write; on leaving the block it becomes `path` (or is removed on error)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    os.close(handle)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


__all__ = ["atomic_path"]
