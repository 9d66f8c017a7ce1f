"""Motion extraction at scale: one MotionTrack `.npz` per clip under `DATASET_DIR/motion/`.

Runs the pose backend through `datasets.Dataset.map(num_proc=...)` (one clip per call, so the
processes balance by clip). Resumable: a clip whose track file exists is skipped, and every track
is written to a temporary file and renamed (`MotionTrack.save`), so an interrupted run leaves only
whole tracks and running again finishes the rest with the same result as one uninterrupted run.
Shardable: each machine extracts its own `--shard i/n` of the clips into the same layout.
"""

import contextlib
import os
import sys
from pathlib import Path

from .schema import file_stem, require_datasets

MOTION_DIR = "motion"


def track_path(dataset_dir, clip_id: str) -> Path:
    return Path(dataset_dir) / MOTION_DIR / f"{file_stem(clip_id)}.npz"


def _extract_one(item: dict, dataset_dir: str, backend: str, max_fps: float | None, **backend_options) -> dict:
    """`backend_options` go to the backend (e.g. `graphs=` that a long-lived worker reuses, see ray_executor.py)."""
    from processing_macm.pose_backends import extract_motion
    from processing_macm.video_io import VideoReadError

    try:
        video = os.path.join(dataset_dir, item["video"])
        track = extract_motion(video, backend=backend, max_fps=max_fps, progress=False, **backend_options)
    except VideoReadError as err:
        return {"motion_error": str(err)}
    track.save(track_path(dataset_dir, item["id"]))
    return {"motion_error": ""}


@contextlib.contextmanager
def _spawned_workers():
    """`Dataset.map` forks its workers (multiprocess's default on Linux), and a fork of a process that
    has already run MediaPipe dies abruptly (its inference threads do not survive a fork): make the
    map's pool spawn fresh interpreters instead, for this call only. Only then: spawned workers ran
    about 4x slower here (2 cores), so `macm build`, whose parent never runs MediaPipe, keeps fork."""
    import multiprocess

    previous = multiprocess.get_start_method(allow_none=True)
    multiprocess.set_start_method("spawn", force=True)
    try:
        yield
    finally:
        multiprocess.set_start_method(previous, force=True)


def extract_tracks(
    dataset_dir,
    clips: list[tuple[str, str]],
    num_proc: int = 1,
    backend: str = "mediapipe",
    max_fps: float | None = 10.0,
) -> dict[str, str]:
    """Writes `motion/<id>.npz` for every `(id, video path relative to dataset_dir)` that lacks one.

    Returns `{id: error}` for the clips whose video could not be read (they get no track; a rerun
    tries them again). A clip with nobody in it gets a track with no valid frame, which counts as done.
    """
    dataset_dir = Path(dataset_dir)
    (dataset_dir / MOTION_DIR).mkdir(parents=True, exist_ok=True)
    todo = [(clip_id, video) for clip_id, video in clips if not track_path(dataset_dir, clip_id).is_file()]
    if not todo:
        return {}
    ds = require_datasets()
    table = ds.Dataset.from_dict({"id": [c for c, _ in todo], "video": [v for _, v in todo]})
    # keep_in_memory: the map's result is three words per clip; no cache files to clean up.
    parallel = num_proc > 1 and len(todo) > 1
    with _spawned_workers() if parallel and "mediapipe" in sys.modules else contextlib.nullcontext():
        done = table.map(
            _extract_one,
            fn_kwargs={"dataset_dir": str(dataset_dir), "backend": backend, "max_fps": max_fps},
            num_proc=num_proc if parallel else None,
            keep_in_memory=True,
            load_from_cache_file=False,
            desc=f"motion ({backend})",
        )
    return {clip_id: error for clip_id, error in zip(done["id"], done["motion_error"]) if error}


def remove_stale_temporaries(dataset_dir) -> int:
    """Deletes the temporary files an interrupted run left in `motion/` (`.tmp-*`); returns how many.
    Call it only when no other machine writes into the same folder."""
    stale = list((Path(dataset_dir) / MOTION_DIR).glob(".tmp-*"))
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


__all__ = ["MOTION_DIR", "extract_tracks", "remove_stale_temporaries", "track_path"]
