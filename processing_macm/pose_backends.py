"""The one way in to pose estimation: `extract_motion(video, backend=...) -> MotionTrack`.

Backends:
- "mediapipe" (default, offline, `macm[motion]`): MediaPipe Pose on the video's frames.
- "smpl" (`macm[smpl]`): SMPL parameters already estimated for this video (an `.npz`/`.pkl` from any
  HMR method), posed through the user's SMPL model files into joints and a mesh.
- "gvhmr" (`macm[smpl]`): GVHMR's result file for the video (GVHMR itself runs elsewhere: it needs
  its Hub weights and a GPU), posed the same way.
"""

import math
import os

import numpy as np

from .motion_track import MotionTrack
from .video_io import VideoReadError, iter_frames, prefetch, probe_video

BACKENDS = ("mediapipe", "smpl", "gvhmr")


def _frame_step(video_fps: float, max_fps: float | None) -> int:
    """Keep every n-th frame so the track runs at most `max_fps`, at a constant rate (a time-based
    drop on a 25 fps video at 10 fps would alternate gaps of 2 and 3 frames)."""
    if max_fps is None or video_fps <= max_fps:
        return 1
    return math.ceil(video_fps / max_fps - 1e-6)


def extract_motion(
    video,
    backend: str = "mediapipe",
    max_fps: float | None = 10.0,
    progress: bool = True,
    fps: float | None = None,
    person: int = 0,
    **kwargs,
) -> MotionTrack:
    """Estimates one person's motion in `video`.

    Args:
        video: a video file path, or decoded frames `[T, H, W, 3]` uint8 RGB (then give `fps`).
        backend: one of `BACKENDS`.
        max_fps: the highest rate to estimate at; frames are skipped evenly above it (None: every frame).
            The track's `fps` is the rate actually used.
        progress: show a tqdm bar.
        fps: the frame rate of `video` when it is an array of frames.
        person: which person to follow when there are several: 0 is the main person (the tallest in the
            frame where people are first found), 1 the next tallest, and so on (see `estimate_mediapipe`).
            An index beyond the people found raises a ValueError saying how many there were.
        **kwargs: backend options (mediapipe: `min_confidence`; smpl and gvhmr: `smpl_params` (the
            parameter file), `model_path` (the SMPL model), `gender`, `vertex_ids`).

    Returns a `MotionTrack`; one in which no frame is `valid` when nobody was found (check `has_person`).
    """
    if backend not in BACKENDS:
        raise ValueError(f"Unknown pose backend {backend!r}; choose one of {list(BACKENDS)}.")
    if person != 0 and backend != "mediapipe":
        raise ValueError(
            f"The {backend!r} backend reads one person's parameters: choosing person {person} needs 'mediapipe'."
        )
    if max_fps is not None and max_fps <= 0:
        raise ValueError(f"max_fps must be positive or None, got {max_fps}.")

    if isinstance(video, (str, os.PathLike)):
        info = probe_video(video)
        video_fps, num_video_frames, frame_size = info.fps, info.num_frames, (info.width, info.height)
        if video_fps <= 0:
            raise VideoReadError(f"{os.fspath(video)!r} declares no frame rate; re-encode it (e.g. ffmpeg -r 30).")
    else:
        video = np.asarray(video)
        if video.ndim != 4 or video.shape[-1] != 3 or video.dtype != np.uint8 or len(video) == 0:
            raise ValueError(
                f"Frames must be a non-empty uint8 array [T, H, W, 3], got {video.dtype} {list(video.shape)}."
            )
        if fps is None or fps <= 0:
            raise ValueError("Give the frame rate (`fps=`) when passing decoded frames.")
        video_fps, num_video_frames, frame_size = float(fps), len(video), (video.shape[2], video.shape[1])
    step = _frame_step(video_fps, max_fps)
    track_fps = video_fps / step

    if backend == "mediapipe":
        from .pose_mediapipe import estimate_mediapipe

        if isinstance(video, np.ndarray):
            frames = iter(video[::step])
        else:
            frames = prefetch(frame for index, _, frame in iter_frames(video) if index % step == 0)
        num_frames = math.ceil(num_video_frames / step)
        return estimate_mediapipe(
            frames, num_frames, track_fps, frame_size, person=person, progress=progress, **kwargs
        )
    from .pose_smpl import track_from_gvhmr, track_from_smpl_file

    # Both read parameters estimated elsewhere, one row per video frame; the video gives size and rate.
    read = track_from_smpl_file if backend == "smpl" else track_from_gvhmr
    return read(frame_size=frame_size, video_fps=video_fps, step=step, progress=progress, **kwargs)


__all__ = ["BACKENDS", "extract_motion"]
