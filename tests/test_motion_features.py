"""Keyframe sampling and kinematic features on synthetic bodies whose motion is known exactly."""

import numpy as np
import pytest
from conftest import tiny_config, tiny_processor

from processing_macm.keyframes import sample_keyframes
from processing_macm.kinematic import (
    KINEMATIC_FEATURE_SIZES,
    body_size_2d,
    compute_feature_stats,
    joint_visibility,
    kinematic_features,
)
from processing_macm.motion_track import MEDIAPIPE_LANDMARK_NAMES, SMPL_JOINT_NAMES, MotionTrack

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
    for version, size in ((1, 202), (2, 224)):
        features, mask = kinematic_features(track, motion_fps=10.0, version=version)
        assert features.shape == (10, KINEMATIC_FEATURE_SIZES[version]) == (10, size) and features.dtype == np.float32
        assert mask.all()
        np.testing.assert_allclose(features[:, :66].reshape(10, 22, 3), np.repeat(REST[None], 10, 0), atol=1e-5)
        np.testing.assert_allclose(features[:, 66:202], 0.0, atol=1e-4)
    np.testing.assert_allclose(features[:, 202:], 1.0)  # every joint seen
    with pytest.raises(ValueError, match=r"Unknown kinematic feature version 4; this code computes \[1, 2, 3\]"):
        kinematic_features(track, version=4)


def test_kinematic_v3_is_v2_plus_the_image_pose():
    # Facing the camera, the left arm raised in frames 10-19: in the image (x right, y up) the body's left is on the
    # right, and the torso is 0.5 units long at any distance.
    poses = arm_raise_poses(40, raised_frames=range(10, 20))
    for distance in (4.0, 8.0):
        track = make_track(poses, roots=np.tile([0.0, 0.0, -distance], (40, 1)))
        second, _ = kinematic_features(track, version=2)
        third, mask = kinematic_features(track, version=3)
        assert third.shape == (40, KINEMATIC_FEATURE_SIZES[3]) == (40, 312) and mask.all()
        np.testing.assert_array_equal(third[:, :224], second)
        image = third[:, 224:268].reshape(40, 22, 2)
        np.testing.assert_allclose(image[:, J["pelvis"]], 0.0, atol=1e-6)
        torso = (
            image[:, J["left_shoulder"]]
            + image[:, J["right_shoulder"]]
            - image[:, J["left_hip"]]
            - image[:, J["right_hip"]]
        ) / 2
        np.testing.assert_allclose(np.linalg.norm(torso, axis=-1)[:10], 0.5, atol=0.02)
        assert (
            image[0, J["right_wrist"], 0] < 0 < image[0, J["left_wrist"], 0]
        )  # the camera's view of a person facing it
        assert image[15, J["left_wrist"], 1] > 0.8 > 0.5 > image[5, J["left_wrist"], 1]  # raised: up in the image
        velocity = third[:, 268:].reshape(40, 22, 2)
        assert (
            np.abs(velocity[8:12, J["left_wrist"]]).max() > 1.0 and np.abs(velocity[:, J["right_wrist"]]).max() < 1e-4
        )


def test_kinematic_v3_holds_unseen_joints_in_the_image_too():
    poses = arm_raise_poses(40, raised_frames=[*range(5, 10), *range(15, 20), *range(25, 30)])
    track = make_track(poses)
    track.keypoints_2d[10:, J["left_wrist"], 0] = SIZE[0] + 5.0  # out of the frame from frame 10 on
    features, _ = kinematic_features(track, version=3)
    image, velocity = features[:, 224:268].reshape(40, 22, 2), features[:, 268:].reshape(40, 22, 2)
    np.testing.assert_allclose(image[10:, J["left_wrist"]], np.tile(image[9, J["left_wrist"]], (30, 1)), atol=1e-6)
    assert (velocity[10:, J["left_wrist"]] == 0).all() and np.abs(velocity[5:10, J["left_wrist"]]).max() > 1.0


def test_kinematic_v2_is_v1_plus_visibility_when_everything_is_seen():
    track = make_track(arm_raise_poses(40, raised_frames=range(10, 20)), yaws=np.linspace(0, 1, 40))
    first, first_mask = kinematic_features(track, version=1)
    second, second_mask = kinematic_features(track, version=2)
    np.testing.assert_array_equal(first_mask, second_mask)
    np.testing.assert_allclose(second[:, :202], first, atol=1e-6)


def test_unseen_joints_carry_no_motion():
    # The left arm goes up and down twice, but the left wrist is out of the frame from frame 10 on and the
    # left elbow is seen with low confidence (occluded) throughout: their guesses must not read as motion.
    poses = arm_raise_poses(40, raised_frames=[*range(5, 10), *range(15, 20), *range(25, 30)])
    track = make_track(poses)
    wrist, elbow = J["left_wrist"], J["left_elbow"]
    track.keypoints_2d[10:, wrist, 0] = SIZE[0] + 5.0
    track.keypoints_2d[:, elbow, 2] = 0.2
    assert not track.in_frame[10:, wrist].any() and track.in_frame[:10].all()
    visibility = joint_visibility(track)  # [T, 22]
    assert (visibility[:10, wrist] == 1).all() and (visibility[10:, wrist] == 0).all()
    np.testing.assert_allclose(visibility[:, elbow], 0.2)
    old, _ = kinematic_features(track, version=1)
    new, mask = kinematic_features(track, version=2)
    assert mask.all()
    velocity_old, velocity_new = old[:, 66:132].reshape(40, 22, 3), new[:, 66:132].reshape(40, 22, 3)
    acceleration_new = new[:, 132:198].reshape(40, 22, 3)
    assert np.abs(velocity_old[12:, wrist]).max() > 1.0 and np.abs(velocity_old[:, elbow]).max() > 1.0
    assert (velocity_new[10:, wrist] == 0).all() and (acceleration_new[10:, wrist] == 0).all()
    assert (velocity_new[:, elbow] == 0).all() and (acceleration_new[:, elbow] == 0).all()
    positions = new[:, :66].reshape(40, 22, 3)
    np.testing.assert_allclose(
        positions[10:, wrist], np.tile(positions[9, wrist], (30, 1)), atol=1e-6
    )  # held where last seen
    median = np.median(old[:, :66].reshape(40, 22, 3)[:, elbow], axis=0)
    np.testing.assert_allclose(positions[:, elbow], np.tile(median, (40, 1)), atol=1e-6)
    assert (
        np.abs(velocity_new[:, J["right_wrist"]]).max() == 0
        and np.abs(velocity_new[5:10, J["left_wrist"]]).max() > 1.0
    )
    np.testing.assert_allclose(new[:, 202 + wrist], visibility[:, wrist])


def test_joint_visibility_of_mediapipe_landmarks():
    # MediaPipe layout: a joint built from several landmarks is as visible as the least visible of them.
    keypoints = np.zeros((2, 33, 3), np.float32)
    keypoints[..., :2] = [100.0, 100.0]
    keypoints[..., 2] = 0.9
    keypoints[1, MEDIAPIPE_LANDMARK_NAMES.index("left_hip"), 2] = 0.1
    track = MotionTrack(
        fps=10,
        frame_size=(200, 200),
        keypoints_2d=keypoints,
        joints_3d=np.zeros((2, 22, 3)),
        valid=np.ones(2, bool),
        backend="test",
    )
    visibility = joint_visibility(track)
    np.testing.assert_allclose(visibility[0], 0.9)
    low = {name for name, value in zip(SMPL_JOINT_NAMES, visibility[1]) if value < 0.5}
    assert low == {"pelvis", "left_hip", "spine1", "spine2", "spine3"}  # those built from the left hip


def test_processor_computes_the_features_of_its_models_version(tokenizer):
    track = make_track(arm_raise_poses(20, raised_frames=range(5, 10)))
    for version, size in ((1, 202), (2, 224), (3, 312)):
        config = tiny_config(tokenizer, "kinematic", kinematic_feature_version=version, motion_feature_size=size)
        processor = tiny_processor(tokenizer, config)
        assert processor.kinematic_feature_version == version
        features, valid = processor.motion_input(track)
        assert features.shape == (20, size) and valid.all()


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
    assert none.shape == (20, 224) and not none_mask.any()


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
    with pytest.raises(ValueError, match=r"have 66 values per frame; kinematic features have \[202, 224, 312\]"):
        compute_feature_stats([np.zeros((4, 66))])
    with pytest.raises(ValueError, match=r"expected \[T, 202\] like the first"):
        compute_feature_stats([np.zeros((4, 202)), np.zeros((4, 224))])


def test_the_body_size_in_the_image_is_its_torso_or_its_shoulders_whichever_is_longer():
    keypoints = np.zeros((2, 33, 3), np.float32)
    torso = [
        MEDIAPIPE_LANDMARK_NAMES.index(name) for name in ("left_shoulder", "right_shoulder", "left_hip", "right_hip")
    ]
    keypoints[:, torso, :2] = [[40, 10], [60, 10], [45, 50], [55, 50]]  # a torso 40 px long, 20 px wide
    keypoints[1, torso[:2], 0] = [0, 100]  # from a camera above, a torso foreshortened: the shoulders 100 px apart
    np.testing.assert_allclose(body_size_2d(keypoints), [40, 100])
