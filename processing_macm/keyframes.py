"""Pose-driven keyframe sampling (M-ACM, Song et al. 2025, Sec. "keyframe sampling").

The paper takes as first keyframe the frame whose pose is farthest on average from all others, then
"the frame farthest from the previous keyframe". Read literally the second rule bounces between two
frames, so each next keyframe here is the frame farthest from *all* keyframes chosen so far
(farthest-point sampling), which is what the rule is for: poses that differ from each other.
"""

import numpy as np

from .motion_track import MotionTrack
from .video_io import sample_frame_indices

# Among frames whose poses are (nearly) equally far, prefer the one far in time, so a still clip
# gets keyframes spread over it rather than bunched at its start.
_TIME_TIEBREAK = 1e-3


def normalized_poses(track: MotionTrack) -> np.ndarray:
    """`[T, 66]` pelvis-centred 3D joints divided by the body's size, so that distances compare
    poses, not people or their distance to the camera."""
    joints = track.joints_3d - track.joints_3d[:, :1]  # [T, 22, 3]
    scale = np.linalg.norm(joints, axis=-1).mean(axis=-1, keepdims=True)  # [T, 1]
    return (joints.reshape(len(joints), -1) / np.maximum(scale, 1e-6)).astype(np.float32)


def sample_keyframes(track: MotionTrack, num_keyframes: int) -> np.ndarray:
    """`num_keyframes` sorted track-frame indices chosen by the farthest-pose rule among valid frames.

    Frames with no pose are used only when there are too few valid ones, spread uniformly; a track
    with no person at all gets uniform sampling. Indices repeat only when the track is shorter than
    `num_keyframes`.
    """
    if num_keyframes < 1:
        raise ValueError(f"num_keyframes must be at least 1, got {num_keyframes}.")
    if track.num_frames == 0:
        raise ValueError("Cannot sample keyframes from a track with no frames.")
    if num_keyframes >= track.num_frames:
        return sample_frame_indices(track.num_frames, num_keyframes)
    candidates = np.flatnonzero(track.valid)
    if len(candidates) <= num_keyframes:
        missing = np.flatnonzero(~track.valid)
        fill = (
            missing[sample_frame_indices(len(missing), num_keyframes - len(candidates))]
            if len(candidates) < num_keyframes
            else []
        )
        return np.sort(np.concatenate([candidates, fill])).astype(np.int64)

    poses = normalized_poses(track)[candidates]  # [n, 66]
    squared = (poses**2).sum(axis=1)  # [n]; |a-b|^2 = |a|^2 + |b|^2 - 2ab keeps memory at [n, n]
    distances = np.sqrt(np.maximum(squared[:, None] + squared[None] - 2 * poses @ poses.T, 0.0))  # [n, n]
    times = candidates / max(track.num_frames - 1, 1)
    time_gaps = np.abs(times[:, None] - times[None])  # [n, n]
    chosen = [int(np.argmax(distances.mean(axis=1) + _TIME_TIEBREAK * time_gaps.mean(axis=1)))]
    nearest = distances[chosen[0]] + _TIME_TIEBREAK * time_gaps[chosen[0]]  # [n] distance to the chosen set
    for _ in range(num_keyframes - 1):
        nearest[chosen] = -np.inf
        chosen.append(int(np.argmax(nearest)))
        nearest = np.minimum(nearest, distances[chosen[-1]] + _TIME_TIEBREAK * time_gaps[chosen[-1]])
    return np.sort(candidates[chosen]).astype(np.int64)


__all__ = ["normalized_poses", "sample_keyframes"]
