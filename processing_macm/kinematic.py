"""Kinematic motion features: what the "kinematic" motion pathway reads instead of rendered keyframes.

Versioned (`KINEMATIC_FEATURE_VERSION`; a model stores the version it was trained on as its config's
`kinematic_feature_version`, and the normalisation statistics beside it are of that version). Per
frame, at a fixed `motion_fps`, `KINEMATIC_FEATURE_SIZES[version]` numbers:
    [0:66]    joint positions, pelvis-relative, turned into the body's facing frame   (22 x 3, m)
    [66:132]  joint velocities of those positions                                      (22 x 3, m/s)
    [132:198] joint accelerations                                                      (22 x 3, m/s^2)
    [198:201] root (pelvis) velocity in the body's facing frame                        (3, m/s)
    [201]     facing yaw rate about the vertical axis                                  (1, rad/s)
    [202:224] version 2 and later: per-joint visibility in [0, 1]                      (22)
    [224:268] version 3: the joints in the image plane, pelvis-relative, x right and y up, in units of
              half the person's median 2D torso length over the clip (about metres)     (22 x 2)
    [268:312] version 3: velocities of those image positions                           (22 x 2, 1/s)
Version 2 also stops joints the camera does not see from moving: pose estimators keep guessing
joints that are occluded or out of the frame (MediaPipe does), and the guesses wander. A joint whose
visibility is below `SEEN` holds its last seen position (its first seen one before that, its clip
median if it is never seen) and its velocity and acceleration are zero.
Version 3 adds the pose as the image shows it. A monocular estimator's 2D landmarks follow the limbs
more faithfully than its 3D ones, whose depth is a guess: a fresh encoder reads HMI-Synth's held-out test
windows better from version 3 than from version 2 (`bench/bench_pose_gap.py --feature-version 3`).
The split into a canonical pose plus root velocity and yaw rate follows HumanML3D's motion
representation (Guo et al., CVPR 2022, https://github.com/EricGuo5513/HumanML3D): "raises the left
arm" then reads the same whichever way the person faces the camera, and turning or walking shows in
the last four numbers. Facing frame: x = the body's left, y = up, z = forward.

Where the track has no root translation in metres, the root is placed by weak perspective from the
2D keypoints and the 3D body size (a pinhole camera, focal length = the larger frame side unless the
track carries camera intrinsics): approximate, but it moves the right way at the right scale.
"""

import dataclasses

import numpy as np

from .motion_track import NUM_JOINTS, PER_FRAME_FIELDS, SMPL_JOINT_NAMES, MotionTrack

KINEMATIC_FEATURE_VERSION = 2  # the newest: what models built from scratch use
KINEMATIC_FEATURE_SIZES = {
    1: 3 * NUM_JOINTS * 3 + 3 + 1,
    2: 3 * NUM_JOINTS * 3 + 3 + 1 + NUM_JOINTS,
    3: 3 * NUM_JOINTS * 3 + 3 + 1 + NUM_JOINTS + 2 * NUM_JOINTS * 2,
}  # {1: 202, 2: 224, 3: 312}
SEEN = 0.5  # a joint with at least this visibility is seen
# A person whose `motion_energy` is below this stands still. Measured with MediaPipe (body heights): one
# frame of a walker repeated 0.010 and 0.009; a man talking in a car 0.073; walking 0.25 and 0.49; arm and
# leg actions 0.27-0.64.
STILL_ENERGY = 0.05

_J = {name: i for i, name in enumerate(SMPL_JOINT_NAMES)}
# 2D keypoint indices of (left shoulder, right shoulder, left hip, right hip) per keypoint layout.
_TORSO_2D = {
    33: (11, 12, 23, 24),
    NUM_JOINTS: (_J["left_shoulder"], _J["right_shoulder"], _J["left_hip"], _J["right_hip"]),
}
_TORSO_3D = (_J["left_shoulder"], _J["right_shoulder"], _J["left_hip"], _J["right_hip"])
# Torso segments (pairs of the four points above) whose 2D / 3D length ratio gives the image scale.
_SEGMENTS = ((0, 2), (1, 3), (0, 1), (2, 3))


def _fill_gaps(values: np.ndarray, valid: np.ndarray, max_gap: int) -> tuple[np.ndarray, np.ndarray]:
    """Linearly interpolates `values [T, ...]` over runs of invalid frames of at most `max_gap` frames
    between two valid ones. Returns the filled values and the new validity `[T]`."""
    filled, mask = values.copy(), valid.copy()
    known = np.flatnonzero(valid)
    for before, after in zip(known[:-1], known[1:]):
        gap = after - before - 1
        if 0 < gap <= max_gap:
            weights = (np.arange(1, gap + 1) / (gap + 1)).reshape(-1, *[1] * (values.ndim - 1))
            filled[before + 1 : after] = (1 - weights) * values[before] + weights * values[after]
            mask[before + 1 : after] = True
    return filled, mask


def _root_positions(track: MotionTrack, keypoints: np.ndarray, joints: np.ndarray) -> np.ndarray:
    """`[T, 3]` pelvis position in camera space with y up (x right, z toward the camera), metres."""
    width, height = track.frame_size
    if track.camera_intrinsics is not None:
        focal = float(track.camera_intrinsics[0, 0])
        cx, cy = float(track.camera_intrinsics[0, 2]), float(track.camera_intrinsics[1, 2])
    else:
        focal, cx, cy = float(max(width, height)), width / 2, height / 2
    points_2d = keypoints[:, _TORSO_2D[keypoints.shape[1]], :2]  # [T, 4, 2]
    points_3d = joints[:, _TORSO_3D]  # [T, 4, 3]
    # The least foreshortened torso segment gives the scale: turning or bending only shortens 2D lengths.
    ratios = np.stack(
        [
            np.linalg.norm(points_2d[:, a] - points_2d[:, b], axis=-1)
            / np.maximum(np.linalg.norm(points_3d[:, a] - points_3d[:, b], axis=-1), 1e-3)
            for a, b in _SEGMENTS
        ],
        axis=-1,
    )  # [T, 4] pixels per metre
    depth = focal / np.maximum(ratios.max(axis=-1), 1e-3)  # [T]
    # Per-frame scale jitters by a few pixels on small people; a 5-frame running median steadies it.
    padded = np.pad(depth, 2, mode="edge")
    depth = np.median(np.lib.stride_tricks.sliding_window_view(padded, 5), axis=-1)  # [T]
    centre = points_2d[:, 2:].mean(axis=1)  # [T, 2] hip midpoint in pixels
    x = (centre[:, 0] - cx) * depth / focal
    y = -(centre[:, 1] - cy) * depth / focal
    return np.stack([x, y, -depth], axis=-1)


def _image_joints(keypoints: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """`[T, 22, 2]` the SMPL joints in the image from `keypoints [T, P, 3]` (pixels), pelvis-relative, x right and
    y up, in units of half the median torso length over the `valid [T]` frames (about metres for an adult)."""
    if keypoints.shape[1] == NUM_JOINTS:
        points = keypoints[..., :2]
    else:
        from .pose_mediapipe import SMPL_FROM_MEDIAPIPE

        points = np.einsum("jl,tlc->tjc", SMPL_FROM_MEDIAPIPE, keypoints[..., :2])  # [T, 22, 2]
    ls, rs, lh, rh = _TORSO_3D
    torso = np.linalg.norm((points[:, ls] + points[:, rs]) / 2 - (points[:, lh] + points[:, rh]) / 2, axis=-1)
    scale = max(float(np.median(torso[valid])), 1.0) / 0.5  # pixels per unit
    return (points - points[:, :1]) / scale * np.array([1.0, -1.0])


def facing_yaw(joints: np.ndarray) -> np.ndarray:
    """`[T]` yaw (rad) of the body's forward direction about +y, 0 when facing +z (in camera axes: the camera)."""
    across = (joints[:, _J["left_hip"]] - joints[:, _J["right_hip"]]) + (
        joints[:, _J["left_shoulder"]] - joints[:, _J["right_shoulder"]]
    )
    forward = np.cross(across, np.array([0.0, 1.0, 0.0]))  # [T, 3]; left x up = forward
    return np.arctan2(forward[:, 0], forward[:, 2])


def _rotate_yaw(vectors: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    """Turns `vectors [T, ..., 3]` by -yaw about +y, i.e. into the frame where the body faces +z."""
    cos, sin = np.cos(yaw), np.sin(yaw)
    shape = (-1,) + (1,) * (vectors.ndim - 2)
    cos, sin = cos.reshape(shape), sin.reshape(shape)
    x, y, z = vectors[..., 0], vectors[..., 1], vectors[..., 2]
    return np.stack([cos * x - sin * z, y, sin * x + cos * z], axis=-1)


def _resample(
    values: np.ndarray, valid: np.ndarray, source_fps: float, target_fps: float
) -> tuple[np.ndarray, np.ndarray]:
    """Linear resampling of `values [T, D]` to `target_fps`; a target frame is valid when both source
    frames it blends are."""
    num_source = len(values)
    num_target = max(1, int(round(num_source * target_fps / source_fps)))
    position = np.minimum(np.arange(num_target) * source_fps / target_fps, num_source - 1)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, num_source - 1)
    weight = (position - low)[:, None]
    resampled = (1 - weight) * values[low] + weight * values[high]
    mask = valid[low] & (valid[high] | (weight[:, 0] == 0))
    return resampled, mask


def _derivative(values: np.ndarray, fps: float) -> np.ndarray:
    if len(values) < 2:
        return np.zeros_like(values)
    return np.gradient(values, axis=0) * fps


def joint_visibility(track: MotionTrack) -> np.ndarray:
    """`[T, 22]` visibility of each SMPL joint in [0, 1]: the confidence of its 2D keypoints, 0 where
    a keypoint lies outside the frame. A joint blended from several MediaPipe landmarks (the spine,
    the neck) is as visible as the least visible of them."""
    scores = track.keypoints_2d[..., 2] * track.in_frame  # [T, P]
    if scores.shape[1] == NUM_JOINTS:
        return np.clip(scores, 0.0, 1.0)
    from .pose_mediapipe import SMPL_FROM_MEDIAPIPE

    used = SMPL_FROM_MEDIAPIPE > 0  # [22, 33]: the landmarks each joint is built from
    return np.clip(np.where(used, scores[:, None, :], np.inf).min(axis=-1), 0.0, 1.0)  # [T, 22]


def _hold_unseen(positions: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """`positions [T, 22, C]` with each joint held where `seen [T, 22]` is False: at its last seen
    position, its first seen one before that, its median over the clip when it is never seen."""
    held = positions.copy()
    frames = np.arange(len(seen))
    for joint in range(seen.shape[1]):
        known = np.flatnonzero(seen[:, joint])
        if len(known) == 0:
            held[:, joint] = np.median(positions[:, joint], axis=0)
            continue
        last = known[np.maximum(np.searchsorted(known, frames, side="right") - 1, 0)]  # [T]
        held[:, joint] = positions[last, joint]
    return held


def kinematic_features(
    track: MotionTrack, motion_fps: float = 10.0, max_gap_s: float = 1.0, version: int = KINEMATIC_FEATURE_VERSION
) -> tuple[np.ndarray, np.ndarray]:
    """Kinematic features of `track` at `motion_fps`, of feature `version` (see the module's docstring).

    Invalid frames inside the clip are interpolated across gaps of up to `max_gap_s` seconds; the
    others (the clip's ends before/after the person is seen, long gaps) are masked and zero.

    Returns `features [T', KINEMATIC_FEATURE_SIZES[version]]` float32 and `mask [T']` bool, with
    T' = round(T * motion_fps / track.fps).
    """
    if version not in KINEMATIC_FEATURE_SIZES:
        raise ValueError(
            f"Unknown kinematic feature version {version}; this code computes {list(KINEMATIC_FEATURE_SIZES)}."
        )
    if motion_fps <= 0:
        raise ValueError(f"motion_fps must be positive, got {motion_fps}.")
    if track.num_frames == 0:
        raise ValueError("Cannot compute kinematic features of a track with no frames.")
    max_gap = int(round(max_gap_s * track.fps))
    joints = track.joints_3d - track.joints_3d[:, :1]  # [T, 22, 3]
    joints, valid = _fill_gaps(joints, track.valid, max_gap)
    keypoints, _ = _fill_gaps(track.keypoints_2d, track.valid, max_gap)  # [T, P, 3]

    if not valid.any():
        num_target = max(1, int(round(track.num_frames * motion_fps / track.fps)))
        return np.zeros((num_target, KINEMATIC_FEATURE_SIZES[version]), np.float32), np.zeros(num_target, bool)
    # Unwrapping and differencing across masked frames would mix in garbage: hold the nearest valid frame.
    known = np.flatnonzero(valid)
    nearest = known[np.minimum(np.searchsorted(known, np.arange(len(valid))), len(known) - 1)]  # [T]
    joints, keypoints = joints[nearest], keypoints[nearest]

    yaw = np.unwrap(facing_yaw(joints))  # [T]
    local = _rotate_yaw(joints, yaw)  # [T, 22, 3]
    root = _root_positions(track, keypoints, joints)  # [T, 3]
    visibility, _ = _fill_gaps(joint_visibility(track), track.valid, max_gap)
    columns = [local.reshape(len(valid), -1), root, yaw[:, None], visibility[nearest]]  # [T, 92] together
    if version >= 3:
        columns.append(_image_joints(keypoints, valid).reshape(len(valid), -1))  # [T, 44]
    per_frame, mask = _resample(np.concatenate(columns, axis=1), valid, track.fps, motion_fps)  # [T', 92 (+44)]

    positions, root, yaw = per_frame[:, :66], per_frame[:, 66:69], per_frame[:, 69]
    visibility, image = per_frame[:, 70:92], per_frame[:, 92:]
    if version >= 2:
        seen = visibility >= SEEN  # [T', 22]
        positions = _hold_unseen(positions.reshape(-1, NUM_JOINTS, 3), seen).reshape(-1, 66)
    velocities = _derivative(positions, motion_fps)
    accelerations = _derivative(velocities, motion_fps)
    root_velocity = _rotate_yaw(_derivative(root, motion_fps), yaw)
    yaw_rate = _derivative(yaw, motion_fps)
    parts = [positions, velocities, accelerations, root_velocity, yaw_rate[:, None]]
    if version >= 2:
        unseen = np.repeat(~seen, 3, axis=1)  # [T', 66]
        velocities[unseen] = 0.0
        accelerations[unseen] = 0.0
        parts.append(visibility)
    if version >= 3:
        image = _hold_unseen(image.reshape(-1, NUM_JOINTS, 2), seen).reshape(-1, 2 * NUM_JOINTS)
        image_velocities = _derivative(image, motion_fps)
        image_velocities[np.repeat(~seen, 2, axis=1)] = 0.0
        parts += [image, image_velocities]
    features = np.concatenate(parts, axis=1)
    features[~mask] = 0.0
    return features.astype(np.float32), mask


def hip_centre_2d(keypoints: np.ndarray) -> np.ndarray:
    """The midpoint of the two hips `[T, 2]` (pixels) of 2D keypoints `[T, P, 3]` in either layout (P = 33 or 22)."""
    return keypoints[:, list(_TORSO_2D[keypoints.shape[1]][2:]), :2].mean(axis=1)


def body_size_2d(keypoints: np.ndarray) -> np.ndarray:
    """The body's size in the image `[T]` (pixels) of 2D keypoints `[T, P, 3]` in either layout: the larger of the
    torso's length (shoulders' midpoint to hips' midpoint) and the shoulders' width, which a camera above the person
    foreshortens less than either alone."""
    points = keypoints[:, list(_TORSO_2D[keypoints.shape[1]]), :2]  # [T, 4, 2]
    torso = np.linalg.norm(points[:, :2].mean(axis=1) - points[:, 2:].mean(axis=1), axis=-1)
    return np.maximum(torso, np.linalg.norm(points[:, 0] - points[:, 1], axis=-1))


def motion_energy(track: MotionTrack, steady: bool = False) -> float:
    """How much the person moves over the clip, in body heights: the larger of (a) the most any seen joint
    strays from its median position relative to the pelvis (90th percentile over the valid frames, in
    units of the skeleton's median height) and (b) the same for the hip centre in the image (in units of
    the 2D body's median height), which shows walking and stepping. 0 for a track with no person.

    With `steady`, (a) is at most `articulated_energy_2d`: a shaking camera makes MediaPipe's 3D landmarks jitter
    more than its 2D ones, which it moves whole (the real set's photos filmed by a shaking hand-held camera: 0.15-0.28
    in 3D against 0.08-0.13 in the image)."""
    if not track.has_person:
        return 0.0
    joints = track.joints_3d[track.valid]  # [T, 22, 3]
    seen = joint_visibility(track)[track.valid] >= SEEN  # [T, 22]
    height = max(float(np.median(joints[..., 1].max(axis=1) - joints[..., 1].min(axis=1))), 1e-3)
    strays = np.linalg.norm(joints - np.median(joints, axis=0), axis=-1) / height  # [T, 22]
    pose = float(np.percentile(np.where(seen, strays, 0.0), 90, axis=0).max())
    if steady:
        pose = min(pose, articulated_energy_2d(track))
    keypoints = track.keypoints_2d[track.valid]  # [T, P, 3]
    hips = hip_centre_2d(keypoints)  # [T, 2]
    height_2d = max(float(np.median(keypoints[..., 1].max(axis=1) - keypoints[..., 1].min(axis=1))), 1.0)
    root = float(np.percentile(np.linalg.norm(hips - np.median(hips, axis=0), axis=-1) / height_2d, 90))
    return max(pose, root)


def articulated_energy_2d(track: MotionTrack) -> float:
    """How much the body moves in the image beyond what moves it whole, in body heights: each frame's keypoints (those
    seen in most frames) are aligned to their median pose by the similarity (shift, turn, scale) that fits best, and
    the largest 90th percentile over keypoints of their distance from it is taken, in units of the median pose's
    height. A camera that shakes, pans or zooms moves the body whole and adds nothing. 0 for a track with no person."""
    if not track.has_person:
        return 0.0
    keypoints = track.keypoints_2d[track.valid]  # [T, P, 3]
    seen = np.median(keypoints[..., 2], axis=0) >= SEEN  # [P]
    if seen.sum() < 3:
        return 0.0
    points = keypoints[:, seen, 0] + 1j * keypoints[:, seen, 1]  # [T, P'] as complex numbers
    points = points - points.mean(axis=1, keepdims=True)
    median = np.median(points.real, axis=0) + 1j * np.median(points.imag, axis=0)  # [P']
    median = median - median.mean()
    scale = (np.conj(points) * median).sum(1) / np.maximum((np.abs(points) ** 2).sum(1), 1e-9)  # [T]: turn and scale
    height = max(float(np.ptp(median.imag)), 1.0)
    strays = np.abs(scale[:, None] * points - median) / height  # [T, P']
    return float(np.percentile(strays, 90, axis=0).max())


def held_still(track: MotionTrack, frame: int) -> MotionTrack:
    """`track` with every frame replaced by frame `frame` (one where the person is found): the same body in the same
    posture throughout, held still; frames without the person stay so."""
    if not track.valid[frame]:
        raise ValueError(f"Frame {frame} of the track has no person to hold still; pick one where `valid` is True.")
    held = {
        name: np.repeat(getattr(track, name)[frame : frame + 1], track.num_frames, axis=0)
        for name in PER_FRAME_FIELDS
        if name != "valid" and getattr(track, name) is not None
    }
    return dataclasses.replace(track, **held)


def mirror_feature_map(version: int = KINEMATIC_FEATURE_VERSION) -> tuple[np.ndarray, np.ndarray]:
    """`index [F]` and `sign [F]` such that `sign * features[:, index]` are the features of the left-right mirror
    image of the clip (`features` of `version`): each joint trades places with its other-side twin, and what
    points to the side flips, the x of the facing frame (the body's left) and of the image, and the yaw rate."""
    if version not in KINEMATIC_FEATURE_SIZES:
        raise ValueError(f"Unknown kinematic feature version {version}; known: {list(KINEMATIC_FEATURE_SIZES)}.")
    twin = np.array([_J[n.replace("left", "@").replace("right", "left").replace("@", "right")] for n in _J])  # [22]

    def joints(start: int, dims: int) -> tuple[np.ndarray, np.ndarray]:
        index = start + (twin[:, None] * dims + np.arange(dims)).reshape(-1)  # [22 * dims]
        return index, np.tile(np.array([-1.0] + [1.0] * (dims - 1)), NUM_JOINTS)

    blocks = [joints(start, 3) for start in (0, 66, 132)]  # positions, velocities, accelerations
    blocks.append((np.arange(198, 202), np.array([-1.0, 1.0, 1.0, -1.0])))  # root velocity, yaw rate
    if version >= 2:
        blocks.append((202 + twin, np.ones(NUM_JOINTS)))  # visibility
    if version >= 3:
        blocks += [joints(224, 2), joints(268, 2)]  # image positions and velocities
    index, sign = (np.concatenate(parts) for parts in zip(*blocks))
    return index, sign.astype(np.float32)


def compute_feature_stats(
    features: list[np.ndarray], masks: list[np.ndarray] | None = None, min_std: float = 1e-2
) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and std `[F]` float32 over the (unmasked) frames of many clips of one feature
    version, for the processor's `(x - mean) / std`. `min_std` keeps constant dimensions (the pelvis,
    always 0) finite."""
    if not features:
        raise ValueError("compute_feature_stats needs at least one feature array.")
    if masks is not None and len(masks) != len(features):
        raise ValueError(f"Got {len(features)} feature arrays but {len(masks)} masks.")
    rows = []
    size = np.shape(features[0])[-1]
    if size not in KINEMATIC_FEATURE_SIZES.values():
        raise ValueError(
            f"Feature arrays have {size} values per frame; kinematic features have {sorted(KINEMATIC_FEATURE_SIZES.values())}."
        )
    for i, array in enumerate(features):
        array = np.asarray(array, np.float64)
        if array.ndim != 2 or array.shape[1] != size:
            raise ValueError(f"Feature array {i} has shape {list(array.shape)}, expected [T, {size}] like the first.")
        rows.append(array if masks is None else array[np.asarray(masks[i], bool)])
    stacked = np.concatenate(rows)
    if len(stacked) == 0:
        raise ValueError("No unmasked frames to compute feature statistics from (no person in any clip?).")
    return stacked.mean(axis=0).astype(np.float32), np.maximum(stacked.std(axis=0), min_std).astype(np.float32)


__all__ = [
    "KINEMATIC_FEATURE_SIZES",
    "KINEMATIC_FEATURE_VERSION",
    "SEEN",
    "STILL_ENERGY",
    "articulated_energy_2d",
    "compute_feature_stats",
    "facing_yaw",
    "held_still",
    "hip_centre_2d",
    "joint_visibility",
    "kinematic_features",
    "mirror_feature_map",
    "motion_energy",
]
