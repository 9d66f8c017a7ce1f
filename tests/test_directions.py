"""A walk's direction as the camera sees it, from the track's facing (macm_cli/directions.py)."""

import numpy as np
import pytest
import torch

from macm_cli.directions import TravelDirectionLogitsProcessor, travel_phrase
from processing_macm.motion_track import SMPL_JOINT_NAMES, MotionTrack
from train.augment import mirror_track

J = {name: i for i, name in enumerate(SMPL_JOINT_NAMES)}


def facing_track(yaw_deg: list[float], backend: str = "mediapipe", sizes: list[float] | None = None) -> MotionTrack:
    """A body whose hips and shoulders face `yaw_deg` (0: the camera, +90: the image's right), one frame each, its
    torso `sizes` pixels long in the image (all keypoints at the centre if not given)."""
    joints = np.zeros((len(yaw_deg), 22, 3), np.float32)
    for t, yaw in enumerate(np.radians(yaw_deg)):
        left = np.array([np.cos(yaw), 0.0, -np.sin(yaw)])  # the body's left: forward = left x up
        for side, sign in (("left", 1), ("right", -1)):
            joints[t, J[f"{side}_hip"]] = 0.1 * sign * left
            joints[t, J[f"{side}_shoulder"]] = 0.18 * sign * left + [0, 0.5, 0]
    keypoints = np.concatenate([np.full((len(yaw_deg), 33, 2), 24.0), np.ones((len(yaw_deg), 33, 1))], -1)
    for t, size in enumerate(sizes or []):  # shoulders (11, 12) above the hips (23, 24), half as wide as the torso
        top, bottom = 24 - size / 2, 24 + size / 2
        keypoints[t, [11, 12, 23, 24], :2] = [[20, top], [28, top], [22, bottom], [26, bottom]]
    return MotionTrack(
        fps=10, frame_size=(48, 48), keypoints_2d=keypoints, joints_3d=joints, valid=np.ones(len(yaw_deg), bool),
        backend=backend,
    )  # fmt: skip


@pytest.mark.parametrize(
    "yaw, phrase",
    [
        (0, "toward the camera"),
        (180, "away from the camera"),
        (-175, "away from the camera"),
        (88, "across the scene from left to right"),
        (-95, "across the scene from right to left"),
        (40, "diagonally toward the camera"),
        (130, "diagonally away from the camera"),
        (-130, "diagonally away from the camera"),  # to the image's left: the phrase names no side
        (-40, "diagonally toward the camera"),
    ],
)
def test_the_facing_names_the_direction(yaw, phrase):
    assert travel_phrase(facing_track([yaw] * 8)) == phrase


def test_a_few_flipped_frames_do_not_move_it_and_the_mirror_swaps_it():
    walk = facing_track([90] * 7 + [-90] * 3)  # MediaPipe takes the back for the front in 3 frames
    assert travel_phrase(walk) == "across the scene from left to right"
    assert travel_phrase(mirror_track(walk)) == "across the scene from right to left"


@pytest.mark.parametrize(
    "yaw, sizes, phrase",
    [
        (0, [30 - t for t in range(9)], "away from the camera"),  # a back taken for a front: the body shrinks
        (40, [30 - t for t in range(9)], "diagonally away from the camera"),
        (85, [30 - t for t in range(9)], "across the scene from left to right"),  # the lateral part is kept
        (180, [20 + t for t in range(9)], "toward the camera"),
        (0, [20 + t for t in range(9)], "toward the camera"),  # the size agrees with the facing
        (0, [20, 20.2, 20, 19.9, 20, 20.1, 20, 19.8, 20], "toward the camera"),  # a size that barely changes
    ],
)
def test_the_size_in_the_image_reflects_a_facing_that_goes_the_other_way(yaw, sizes, phrase):
    assert travel_phrase(facing_track([yaw] * 9, sizes=sizes)) == phrase


@pytest.mark.parametrize(
    "step, sizes, phrase",
    [
        (20, [20] * 9, "across the scene from left to right"),  # 6 body sizes across, no growth
        (-20, [20] * 9, "across the scene from right to left"),
        (20, [20 + t for t in range(9)], "diagonally toward the camera"),  # as far toward the camera as across
        (-20, [28 - t for t in range(9)], "diagonally away from the camera"),
        (5, [20] * 9, "toward the camera"),  # 1.5 body sizes: the facing's (a camera following the person)
    ],
)
def test_hips_that_cross_the_frame_name_the_direction_whatever_the_facing(step, sizes, phrase):
    walk = facing_track([0] * 9, sizes=sizes)  # MediaPipe's facing: toward the camera
    walk.keypoints_2d[..., 0] += 200 + step * np.arange(9)[:, None]  # [T, P]: the hips cross a 640 x 480 frame
    walk.frame_size = (640, 480)
    assert travel_phrase(walk) == phrase


def test_hips_that_jump_to_another_person_are_read_by_the_facing():
    walk = facing_track([0] * 9, sizes=[20] * 9)
    walk.keypoints_2d[5:, :, 0] += 160  # the front end takes up someone 8 body sizes away: no walk across
    walk.frame_size = (640, 480)
    assert travel_phrase(walk) == "toward the camera"


def test_tracks_without_camera_axes_or_a_person_are_not_read():
    assert travel_phrase(facing_track([90] * 8, backend="gvhmr")) is None
    assert travel_phrase(None) is None
    assert travel_phrase(MotionTrack.empty(4, 10, (48, 48), "mediapipe")) is None


TOWARD, AWAY, CAMERA, FROM, THE = 10, 13, 12, 14, 11
PHRASES = {"toward the camera": [TOWARD, THE, CAMERA], "away from the camera": [AWAY, FROM, THE, CAMERA]}


def _scores(top: int) -> torch.Tensor:
    scores = torch.zeros(1, 20)
    scores[0, top] = 4.0
    return scores


def test_a_phrase_started_is_the_measured_one_and_is_finished():
    processor = TravelDirectionLogitsProcessor(PHRASES, ["toward the camera"], prompt_length=2)
    start = processor(torch.tensor([[1, 2, 5]]), _scores(AWAY))  # the model starts "away"
    assert int(start.argmax()) == TOWARD and start[0, AWAY] == -torch.inf
    assert start[0, TOWARD] == pytest.approx(float(_scores(AWAY)[0, [TOWARD, AWAY]].logsumexp(0)))
    assert int(processor(torch.tensor([[1, 2, 5, TOWARD]]), _scores(3)).argmax()) == THE
    assert int(processor(torch.tensor([[1, 2, 5, TOWARD, THE]]), _scores(3)).argmax()) == CAMERA
    done = torch.tensor([[1, 2, 5, TOWARD, THE, CAMERA]])
    assert torch.equal(processor(done, _scores(3)), _scores(3))  # finished: the model goes on
    assert torch.equal(processor(torch.tensor([[1, 2, 5]]), _scores(3)), _scores(3))  # no phrase started


def test_rows_without_a_direction_are_left_alone():
    processor = TravelDirectionLogitsProcessor(PHRASES, [None, "away from the camera"], prompt_length=1)
    scores = processor(torch.tensor([[1, 5], [1, 5]]), torch.cat([_scores(TOWARD), _scores(TOWARD)]))
    assert int(scores[0].argmax()) == TOWARD and int(scores[1].argmax()) == AWAY
