"""MediaPipe Pose backend: the embedded default, fully offline (the model ships inside the wheel).

Uses the legacy `solutions.pose.Pose(model_complexity=1)` API: complexities 0 and 2 and the newer
Tasks API fetch their models from the network at run time (ENVIRONMENT.md).
"""

from collections.abc import Iterable

import numpy as np

from .motion_track import MEDIAPIPE_LANDMARK_NAMES, NUM_JOINTS, SMPL_JOINT_NAMES, MotionTrack


def _smpl_from_mediapipe_matrix() -> np.ndarray:
    """`[22, 33]` weights: each SMPL joint as a fixed blend of MediaPipe landmarks.

    MediaPipe has no spine, neck or collar points, so those are placed along the pelvis -> shoulders
    -> ears line at SMPL's rest-pose proportions. An approximation, good for motion, not for anatomy.
    """
    index = {name: i for i, name in enumerate(MEDIAPIPE_LANDMARK_NAMES)}
    mid = {
        "hips": {"left_hip": 0.5, "right_hip": 0.5},
        "shoulders": {"left_shoulder": 0.5, "right_shoulder": 0.5},
        "ears": {"left_ear": 0.5, "right_ear": 0.5},
    }

    def blend(*parts):  # (weight, {landmark: weight}) pairs -> {landmark: weight}
        out = {}
        for weight, group in parts:
            for name, w in group.items():
                out[name] = out.get(name, 0.0) + weight * w
        return out

    recipes = {
        "pelvis": mid["hips"],
        "spine1": blend((0.75, mid["hips"]), (0.25, mid["shoulders"])),
        "spine2": blend((0.5, mid["hips"]), (0.5, mid["shoulders"])),
        "spine3": blend((0.25, mid["hips"]), (0.75, mid["shoulders"])),
        "neck": blend((0.8, mid["shoulders"]), (0.2, mid["ears"])),
        "head": mid["ears"],
    }
    for side in ("left", "right"):
        recipes[f"{side}_collar"] = blend((0.7, mid["shoulders"]), (0.3, {f"{side}_shoulder": 1.0}))
        recipes[f"{side}_foot"] = {f"{side}_foot_index": 1.0}
        for part in ("hip", "knee", "ankle", "shoulder", "elbow", "wrist"):
            recipes[f"{side}_{part}"] = {f"{side}_{part}": 1.0}
    matrix = np.zeros((NUM_JOINTS, len(MEDIAPIPE_LANDMARK_NAMES)), np.float32)
    for joint, name in enumerate(SMPL_JOINT_NAMES):
        for landmark, weight in recipes[name].items():
            matrix[joint, index[landmark]] = weight
    return matrix


SMPL_FROM_MEDIAPIPE = _smpl_from_mediapipe_matrix()  # [22, 33], rows sum to 1


def mediapipe_world_to_smpl_joints(world: np.ndarray) -> np.ndarray:
    """MediaPipe world landmarks `[..., 33, 3]` (metres, hip-centred, image axes: y down, z away from
    the camera) -> SMPL joints `[..., 22, 3]` (pelvis-centred, y up). Turning 180 degrees about x keeps
    the frame right-handed, and a person facing the camera then faces +z with their left on +x, as in
    SMPL's rest pose."""
    joints = np.einsum("jl,...lc->...jc", SMPL_FROM_MEDIAPIPE, world) * np.array([1.0, -1.0, -1.0], np.float32)
    return (joints - joints[..., :1, :]).astype(np.float32)


def estimate_mediapipe(
    frames: Iterable[np.ndarray],
    num_frames: int,
    fps: float,
    frame_size: tuple[int, int],
    min_confidence: float = 0.5,
    progress: bool = True,
) -> MotionTrack:
    """Runs MediaPipe Pose over `frames` (`[H, W, 3]` uint8 RGB, consecutive, at `fps`) in tracking
    mode and returns a `MotionTrack` with one entry per frame (`valid` False where nobody was found)."""
    try:
        from mediapipe.python.solutions.pose import Pose
    except ImportError as err:
        raise ImportError(
            "The MediaPipe pose backend needs mediapipe: `pip install 'macm[motion]'` "
            "(or `bash scripts/setup.sh`)."
        ) from err
    from tqdm.auto import tqdm

    width, height = frame_size
    keypoints = np.zeros((num_frames, len(MEDIAPIPE_LANDMARK_NAMES), 3), np.float32)
    joints = np.zeros((num_frames, NUM_JOINTS, 3), np.float32)
    valid = np.zeros(num_frames, bool)
    count = 0
    with Pose(
        model_complexity=1, min_detection_confidence=min_confidence, min_tracking_confidence=min_confidence
    ) as pose:
        for t, frame in enumerate(tqdm(frames, total=num_frames, desc="MediaPipe pose", unit="frame", disable=not progress)):
            if t >= num_frames:
                raise ValueError(f"Got more than the {num_frames} frames announced.")
            if frame.shape[:2] != (height, width):
                raise ValueError(f"Frame {t} is {frame.shape[1]}x{frame.shape[0]}, expected {width}x{height}.")
            result = pose.process(np.ascontiguousarray(frame))
            count = t + 1
            if result.pose_landmarks is None or result.pose_world_landmarks is None:
                continue
            image = np.array([(p.x, p.y, p.visibility) for p in result.pose_landmarks.landmark], np.float32)
            keypoints[t] = image * np.array([width, height, 1.0], np.float32)
            world = np.array([(p.x, p.y, p.z) for p in result.pose_world_landmarks.landmark], np.float32)
            joints[t] = mediapipe_world_to_smpl_joints(world)
            valid[t] = True
    # Header frame counts can overstate what decodes: keep only the frames that came.
    return MotionTrack(
        fps=fps, frame_size=frame_size, keypoints_2d=keypoints[:count], joints_3d=joints[:count],
        valid=valid[:count], backend="mediapipe",
    )  # fmt: skip


__all__ = ["SMPL_FROM_MEDIAPIPE", "estimate_mediapipe", "mediapipe_world_to_smpl_joints"]
