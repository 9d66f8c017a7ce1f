"""Augmentations of the motion pathway.

Mirroring: a clip flipped left to right is a new, exactly labelled example. The person in a mirrored clip
uses the other side of the body, so the track's left and right landmarks swap places (and their x
coordinates flip), and "left" and "right" swap in the caption and the answers. A model that names a side
by habit then pays for it in the loss half of the time. Skeleton-based action recognition augments the
same way (e.g. the horizontal flip of ST-GCN's successors).

Perturbing a track (`perturb_track`): how far a pose estimator's joints move is not what the body did. The
same walk gives legs that swing 1.8 times wider in MediaPipe's landmarks of a pedestrian in surveillance
footage than of our renders (bench/bench_gait.py), and small, blurred people jitter. A model that tells a
walk from a run by the size of the leg swing fails on footage it was not rendered with; scaling every
clip's movement by a random gain and adding per-frame noise leaves it the cues that carry over: the
rhythm, which limbs move, and the root's travel.

Following the person (`follow_person`, part of `perturb_track`): a camera that pans with a walker, or a
crop that tracks a pedestrian in surveillance footage (as the real-footage set's clips do), shows little of
the person's travel across the image; the root's travel is then mostly in the depth read from the body's
size. The vtest pedestrians' roots move 0.60 m/s in the kinematic features against 1.28 m/s for our walks
(bench/bench_gait.py); a model that needs the travel to call a walk a walk may take the legs' swing for
kicks. Keeping the hips where they are in the image for some tracks makes it read the legs' rhythm too.
"""

import dataclasses
import re

import numpy as np
import torch

from processing_macm.motion_track import MEDIAPIPE_LANDMARK_NAMES, NUM_JOINTS, SMPL_JOINT_NAMES, MotionTrack


def _swap_order(names: tuple[str, ...]) -> np.ndarray:
    """For each name, the index of its other-side twin ("left_knee" <-> "right_knee"), else itself."""
    index = {name: i for i, name in enumerate(names)}

    def twin(name: str) -> str:
        for a, b in (("left", "right"), ("right", "left")):
            if a in name:
                return name.replace(a, b)
        return name

    return np.array([index[twin(name)] for name in names])


_SWAP_2D = {
    len(MEDIAPIPE_LANDMARK_NAMES): _swap_order(MEDIAPIPE_LANDMARK_NAMES),
    NUM_JOINTS: _swap_order(SMPL_JOINT_NAMES),
}
_SWAP_3D = _swap_order(SMPL_JOINT_NAMES)
_HIPS_2D = {
    len(MEDIAPIPE_LANDMARK_NAMES): [MEDIAPIPE_LANDMARK_NAMES.index(f"{side}_hip") for side in ("left", "right")],
    NUM_JOINTS: [SMPL_JOINT_NAMES.index(f"{side}_hip") for side in ("left", "right")],
}
_SIDE_WORD = re.compile(r"\b(left|right)\b", re.IGNORECASE)


def can_mirror(track: MotionTrack | None) -> bool:
    """SMPL parameters and meshes would need their rotations reflected too: such tracks are not mirrored."""
    return track is None or not (track.has_smpl or track.has_mesh)


def mirror_track(track: MotionTrack) -> MotionTrack:
    """The track of the left-right mirrored clip: x flipped in the image and in 3D, sides relabelled."""
    if not can_mirror(track):
        raise ValueError("Mirroring a track with SMPL parameters or a mesh is not supported.")
    width = track.frame_size[0]
    keypoints = track.keypoints_2d[:, _SWAP_2D[track.keypoints_2d.shape[1]]].copy()  # [T, P, 3]
    keypoints[..., 0] = width - keypoints[..., 0]  # continuous pixel coordinates in [0, width]
    joints = track.joints_3d[:, _SWAP_3D].copy()  # [T, 22, 3]
    joints[..., 0] = -joints[..., 0]
    return dataclasses.replace(track, keypoints_2d=keypoints, joints_3d=joints)


def mirror_text(text: str) -> str:
    """Swaps the words "left" and "right", keeping their capitalisation."""

    def swap(match: re.Match) -> str:
        word = match.group(0)
        other = "right" if word.lower() == "left" else "left"
        return other.capitalize() if word[0].isupper() else other

    return _SIDE_WORD.sub(swap, text)


def mirror_frames(frames: np.ndarray) -> np.ndarray:
    """`[T, H, W, 3]` frames flipped left to right."""
    return np.ascontiguousarray(frames[:, :, ::-1])


def follow_person(track: MotionTrack, strength: float = 1.0) -> MotionTrack:
    """The track as a camera that follows the person films it: every frame's 2D keypoints shifted so that the
    hip midpoint loses `strength` (0-1) of its travel about its mean place in the image. The 3D joints, the
    visibilities and the depth that the body's size gives are kept."""
    keypoints = track.keypoints_2d.copy()  # [T, P, 3]
    centre = keypoints[:, _HIPS_2D[keypoints.shape[1]], :2].mean(axis=1)  # [T, 2]
    seen = track.valid if track.valid.any() else np.ones(track.num_frames, bool)
    keypoints[..., :2] -= strength * (centre - centre[seen].mean(axis=0))[:, None]
    return dataclasses.replace(track, keypoints_2d=keypoints)


def perturb_track(
    track: MotionTrack,
    rng: np.random.Generator,
    gain: tuple[float, float] = (0.7, 1.8),
    noise: float = 0.04,
    follow: float = 0.3,
) -> MotionTrack:
    """The track with every joint's movement about the clip's mean pose (pelvis-relative) scaled by one gain
    drawn log-uniformly from `gain`, plus Gaussian noise per frame and joint of a std drawn uniformly from
    [0, `noise`] metres; with probability `follow`, filmed by a camera that follows the person
    (`follow_person`, strength uniform in 0.6-1). The pelvis's 3D travel and the visibilities are kept."""
    joints = track.joints_3d  # [T, 22, 3]
    local = joints - joints[:, :1]
    seen = track.valid if track.valid.any() else np.ones(track.num_frames, bool)
    mean = local[seen].mean(0)  # [22, 3]
    scale = np.exp(rng.uniform(np.log(gain[0]), np.log(gain[1])))
    local = mean + scale * (local - mean) + rng.uniform(0, noise) * rng.standard_normal(local.shape)
    local[:, 0] = 0.0
    track = dataclasses.replace(track, joints_3d=(joints[:, :1] + local).astype(joints.dtype))
    return follow_person(track, rng.uniform(0.6, 1.0)) if rng.uniform() < follow else track


def jitter_motion(
    features: torch.Tensor, valid: torch.Tensor, noise: float = 0.1, frame_drop: float = 0.1, generator=None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised kinematic features `[B, T, F]` with Gaussian noise of std `noise`, and a share `frame_drop`
    of the valid frames `[B, T]` hidden, as a pose estimator that loses the person now and then would:
    against a small dataset, whose clips a model would otherwise learn to tell apart by their exact motion."""
    features = features + noise * torch.randn(features.shape, generator=generator)
    valid = valid.bool() & (torch.rand(valid.shape, generator=generator) >= frame_drop)
    return features * valid[..., None], valid


__all__ = [
    "can_mirror",
    "follow_person",
    "jitter_motion",
    "mirror_frames",
    "mirror_text",
    "mirror_track",
    "perturb_track",
]
