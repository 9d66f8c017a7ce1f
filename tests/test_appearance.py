"""Clothing colours read where the track puts the clothes (`macm_cli/appearance.py`), on frames made here."""

import numpy as np
import pytest

from dataset_scripts.synth.body import PALETTE
from macm_cli.appearance import clothing_colours, colour_name, ground_colours, names_colours
from processing_macm.motion_track import MEDIAPIPE_LANDMARK_NAMES, NUM_JOINTS, MotionTrack
from processing_macm.video_io import write_video

POINTS = {  # (x, y) in a 96 x 128 frame: a person standing, facing the camera
    "left_shoulder": (58, 30), "right_shoulder": (38, 30), "left_hip": (56, 66), "right_hip": (40, 66),
    "left_knee": (56, 96), "right_knee": (40, 96),
}  # fmt: skip


def person_frames(num_frames: int = 10) -> np.ndarray:
    """`[T, 128, 96, 3]`: a green scene, a red shirt over the torso and blue trousers over the thighs."""
    frames = np.zeros((num_frames, 128, 96, 3), np.uint8)
    frames[:] = PALETTE["green"]
    frames[:, 28:68, 36:61] = PALETTE["red"]
    frames[:, 64:110, 36:61] = PALETTE["blue"]
    return frames


def person_track(num_frames: int = 10, fps: float = 10.0, hips_visible: bool = True) -> MotionTrack:
    keypoints = np.zeros((num_frames, len(MEDIAPIPE_LANDMARK_NAMES), 3), np.float32)
    for name, (x, y) in POINTS.items():
        keypoints[:, MEDIAPIPE_LANDMARK_NAMES.index(name)] = (x, y, 0.9)
    if not hips_visible:
        keypoints[:, [MEDIAPIPE_LANDMARK_NAMES.index(f"{side}_hip") for side in ("left", "right")], 2] = 0.1
    return MotionTrack(
        fps=fps,
        frame_size=(96, 128),
        keypoints_2d=keypoints,
        joints_3d=np.zeros((num_frames, NUM_JOINTS, 3), np.float32),
        valid=np.ones(num_frames, bool),
        backend="mediapipe",
    )


@pytest.mark.parametrize("name", list(PALETTE))
def test_each_palette_colour_is_named_itself_lit_or_in_shade(name):
    assert colour_name(PALETTE[name]) == name
    assert colour_name(tuple(0.6 * value for value in PALETTE[name])) == name  # shading darkens, the hue stays


def test_a_colour_is_not_brightened_out_of_range():
    assert colour_name((160, 100, 100)) == "pink"  # brightened 2.5 times it would clip to near white


def test_colours_read_where_the_track_puts_the_clothes(tmp_path):
    frames, track = person_frames(), person_track()
    assert clothing_colours(frames, track, 10.0) == {"shirt": "red", "trousers": "blue"}
    video = write_video(tmp_path / "person.mp4", person_frames(30), fps=30.0)  # decoded: 3 frames a track frame
    assert clothing_colours(video, track, 30.0) == {"shirt": "red", "trousers": "blue"}
    # The hips unseen (a head-and-shoulders shot): the shirt is read on the chest below the shoulders, no trousers.
    assert clothing_colours(frames, person_track(hips_visible=False), 10.0) == {"shirt": "red"}
    frames[:, 44:68] = PALETTE["green"]  # the shirt's lower part is not the chest's
    assert clothing_colours(frames, person_track(hips_visible=False), 10.0) == {"shirt": "red"}
    frames[:, 28:44] = PALETTE["green"]
    assert clothing_colours(frames, person_track(hips_visible=False), 10.0) == {"shirt": "green"}
    nobody = MotionTrack.empty(10, 10.0, (96, 128), "mediapipe")
    assert clothing_colours(frames, nobody, 10.0) == {}


def test_the_caption_gets_the_colours_read():
    caption = "The video shows a person in a blue shirt and green trousers standing on a tiles floor."
    assert names_colours(caption) and not names_colours("The person stands still.")  # a caption to read colours for
    assert ground_colours(caption, {"shirt": "orange", "trousers": "black"}) == (
        "The video shows a person in an orange shirt and black trousers standing on a tiles floor."
    )
    assert ground_colours(caption, {"trousers": "grey"}) == (
        "The video shows a person in a blue shirt and grey trousers standing on a tiles floor."
    )
    seen_from_the_chest = "The video shows a person in a yellow shirt, seen from the chest up."
    assert ground_colours(seen_from_the_chest, {}) == seen_from_the_chest
    assert ground_colours("The person squats twice.", {"shirt": "red"}) == "The person squats twice."
