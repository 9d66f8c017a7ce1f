"""Whether the person moves in the scene, from the pixels (`macm_cli/scene.py`): a picture shaken by a hand-held camera
stays still, a part of the person moving against it does not."""

import cv2
import numpy as np
from test_appearance import person_track

from macm_cli.scene import SCENE_STILL, scene_motion
from processing_macm.video_io import write_video
from train.real_footage import handheld

FRAMES = 30


def textured_scene(seed: int = 0) -> np.ndarray:
    """`[384, 288, 3]`: blurred noise, full of corners; three times `person_track`'s 96 x 128 frame."""
    noise = np.random.default_rng(seed).integers(0, 256, (384, 288, 3)).astype(np.uint8)
    return cv2.GaussianBlur(noise, (0, 0), 2.0)


def with_swinging_patch(scene: np.ndarray, amplitude_px: float) -> list[np.ndarray]:
    """`scene` with a patch of another texture over the person's torso (x 114-174, y 100-200 of 288 x 384) that swings
    left and right by `amplitude_px`, one period over the clip."""
    patch = textured_scene(seed=1)[:100, :60]
    frames = []
    for t in range(FRAMES):
        frame = scene.copy()
        x = 114 + int(round(amplitude_px * np.sin(2 * np.pi * t / FRAMES)))
        frame[100:200, x : x + 60] = patch
        frames.append(frame)
    return frames


def test_a_shaken_still_picture_does_not_move_in_the_scene(tmp_path):
    track = person_track(num_frames=FRAMES)
    shaken = handheld([textured_scene()] * FRAMES, seed=0, shake_px=2.0)
    assert np.abs(shaken[0].astype(int) - shaken[-1]).mean() > 10  # the picture moves
    video = write_video(tmp_path / "shaken.mp4", shaken, fps=10)  # H.264 on top of the shake's noise
    assert scene_motion(str(video), track, 10.0) < SCENE_STILL
    assert scene_motion(np.stack(shaken), track, 10.0) < SCENE_STILL  # frames as well as a path


def test_a_part_of_the_person_moving_against_the_picture_moves(tmp_path):
    track = person_track(num_frames=FRAMES)
    swinging = handheld(with_swinging_patch(textured_scene(), amplitude_px=6), seed=0, shake_px=2.0)
    moved = scene_motion(str(write_video(tmp_path / "swing.mp4", swinging, fps=10)), track, 10.0)
    assert moved > 3 * SCENE_STILL  # 6 px of 198 (the box's height): 0.03 body heights


def test_nothing_to_follow_is_none():
    flat = np.full((FRAMES, 384, 288, 3), 128, np.uint8)  # no corners
    assert scene_motion(flat, person_track(num_frames=FRAMES), 10.0) is None
    one = person_track(num_frames=FRAMES)
    one.valid[1:] = False  # the person in one frame only
    assert scene_motion(np.stack([textured_scene()] * FRAMES), one, 10.0) is None
