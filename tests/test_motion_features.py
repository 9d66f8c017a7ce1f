"""Keyframe sampling and kinematic features on synthetic bodies whose motion is known exactly."""

import numpy as np
import pytest

from processing_macm.keyframes import sample_keyframes
from processing_macm.kinematic import KINEMATIC_FEATURE_SIZE, compute_feature_stats, kinematic_features
from processing_macm.motion_track import SMPL_JOINT_NAMES, MotionTrack

J = {name: i for i, name in enumerate(SMPL_JOINT_NAMES)}
# SMPL-like rest pose, pelvis at the origin, body frame: x = the body's left, y = up, z = forward.
REST = np.array([
    [0, 0, 0], [0.09, -0.08, 0], [-0.09, -0.08, 0], [0, 0.1, 0], [0.1, -0.48, 0], [-0.1, -0.48, 0],
    [0, 0.23, 0], [0.1, -0.88, 0], [-0.1, -0.88, 0], [0, 0.3, 0], [0.1, -0.93, 0.12], [-0.1, -0.93, 0.12],
    [0, 0.5, 0], [0.07, 0.42, 0], [-0.07, 0.42, 0], [0, 0.6, 0.03], [0.18, 0.44, 0], [-0.18, 0.44, 0],
    [0.44, 0.44, 0], [-0.44, 0.44, 0], [0.68, 0.44, 0], [-0.68, 0.44, 0],
], np.float32)  # fmt: skip
SIZE, FOCAL = (640, 480), 640.0


def yaw_matrix(yaw):
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def make_track(poses, yaws=None, roots=None, fps=10.0, valid=None):
    """Track of `poses [T, 22, 3]` (body frame) turned by `yaws [T]` and placed at `roots [T, 3]`
    (camera space, y up, z toward the camera); keypoints are the joints projected (P = 22)."""
    num_frames = len(poses)
    yaws = np.zeros(num_frames) if yaws is None else yaws
    roots = np.tile([0.0, 0.0, -4.0], (num_frames, 1)) if roots is None else roots
    joints = np.stack([pose @ yaw_matrix(yaw).T for pose, yaw in zip(poses, yaws)])  # [T, 22, 3]
    camera = (joints + roots[:, None]) * [1, -1, -1]  # OpenCV axes
    pixels = camera[..., :2] / camera[..., 2:] * FOCAL + np.array(SIZE) / 2
    keypoints = np.concatenate([pixels, np.ones((num_frames, 22, 1))], axis=-1)
    valid = np.ones(num_frames, bool) if valid is None else valid
    return MotionTrack(fps=fps, frame_size=SIZE, keypoints_2d=keypoints, joints_3d=joints, valid=valid, backend="test")


def arm_raise_poses(num_frames, raised_frames):
    poses = np.repeat(REST[None], num_frames, axis=0)
    for t in raised_frames:  # left arm straight up
        poses[t, J["left_elbow"]] = [0.18, 0.70, 0]
        poses[t, J["left_wrist"]] = [0.18, 0.94, 0]
    return poses


def test_keyframes_pick_the_distinct_pose():
    track = make_track(arm_raise_poses(40, raised_frames=[23]))
    keyframes = sample_keyframes(track, 4)
    assert keyframes.dtype == np.int64 and list(keyframes) == sorted(set(keyframes)) and len(keyframes) == 4
    assert 23 in keyframes
    others = [k for k in keyframes if k != 23]
    assert np.diff(others).min() >= 10, keyframes  # the identical rest poses spread in time, not bunched


def test_keyframes_still_clip_spreads_in_time():
    keyframes = sample_keyframes(make_track(arm_raise_poses(50, [])), 5)
    assert np.diff(keyframes).min() >= 8, keyframes


def test_keyframes_fallbacks():
    valid = np.zeros(30, bool)
    assert list(sample_keyframes(make_track(arm_raise_poses(30, []), valid=valid), 3)) == [5, 15, 25]
    valid[[4, 20]] = True
    keyframes = sample_keyframes(make_track(arm_raise_poses(30, []), valid=valid), 4)
    assert {4, 20} <= set(keyframes) and len(set(keyframes)) == 4
    assert list(sample_keyframes(make_track(arm_raise_poses(3, [])), 5)) == [0, 0, 1, 2, 2]
    with pytest.raises(ValueError, match="at least 1"):
        sample_keyframes(make_track(arm_raise_poses(3, [])), 0)


def test_kinematic_shape_and_still_pose():
    track = make_track(arm_raise_poses(30, []), fps=30.0)
    features, mask = kinematic_features(track, motion_fps=10.0)
    assert features.shape == (10, KINEMATIC_FEATURE_SIZE) == (10, 202) and features.dtype == np.float32
    assert mask.all()
    np.testing.assert_allclose(features[:, :66].reshape(10, 22, 3), np.repeat(REST[None], 10, 0), atol=1e-5)
    np.testing.assert_allclose(features[:, 66:], 0.0, atol=1e-4)


def test_kinematic_is_view_invariant_and_reads_turning():
    rate = 0.5  # rad/s
    poses = arm_raise_poses(40, raised_frames=range(10, 20))
    facing_camera, _ = kinematic_features(make_track(poses))
    turning, mask = kinematic_features(make_track(poses, yaws=1.0 + rate * np.arange(40) / 10.0))
    assert mask.all()
    np.testing.assert_allclose(turning[:, :66], facing_camera[:, :66], atol=1e-4)  # same pose, any direction
    np.testing.assert_allclose(turning[:, 201], rate, atol=1e-4)
    np.testing.assert_allclose(facing_camera[:, 201], 0.0, atol=1e-6)
    assert np.abs(facing_camera[8:12, 66:132]).max() > 1.0  # the arm moving shows as velocity


def test_kinematic_root_velocity_in_facing_frame():
    # Walking to the camera's right (+x) at 1.2 m/s while facing that way (yaw 90 degrees).
    times = np.arange(30) / 10.0
    roots = np.stack([-1.5 + 1.2 * times, np.zeros(30), np.full(30, -5.0)], axis=-1)
    features, _ = kinematic_features(make_track(arm_raise_poses(30, []), yaws=np.full(30, np.pi / 2), roots=roots))
    np.testing.assert_allclose(features[:, 198:201], np.tile([0, 0, 1.2], (30, 1)), atol=0.05)


def test_kinematic_gaps_are_filled_or_masked():
    valid = np.ones(30, bool)
    valid[:3] = False  # before the person appears: masked
    valid[10:13] = False  # short gap: interpolated
    valid[17:29] = False  # 1.2 s gap at 10 fps: too long, masked
    features, mask = kinematic_features(make_track(arm_raise_poses(30, []), valid=valid))
    assert not mask[:3].any() and mask[3:17].all() and not mask[17:29].any() and mask[29]
    assert (features[~mask] == 0).all()
    none, none_mask = kinematic_features(make_track(arm_raise_poses(20, []), valid=np.zeros(20, bool)))
    assert none.shape == (20, 202) and not none_mask.any()


def test_feature_stats():
    first, second = np.random.default_rng(0).normal(3.0, 2.0, size=(2, 500, 202)).astype(np.float32)
    second[:, 0] = 0.0
    mask = np.ones(500, bool)
    mask[:250] = False
    mean, std = compute_feature_stats([first, second], [np.ones(500, bool), mask])
    assert mean.shape == std.shape == (202,) and mean.dtype == np.float32
    np.testing.assert_allclose(mean[1:], 3.0, atol=0.3)
    np.testing.assert_allclose(std[1:], 2.0, atol=0.3)
    assert compute_feature_stats([np.zeros((4, 202))])[1].min() == pytest.approx(1e-2)
    with pytest.raises(ValueError, match=r"expected \[T, 202\]"):
        compute_feature_stats([np.zeros((4, 66))])
