"""Captions retold from the motion heads' reading of a clip (macm_cli/story.py)."""

import numpy as np
from utils import repeating_track

from macm_cli.answers import HeadsReading
from macm_cli.story import retell

INTRO = "The video shows a person in a red shirt and navy trousers standing on a tiles floor."
LABELS = {
    "action": ["walk", "wave", "squat", "jump", "stand_still"],
    "count": [str(n) for n in range(8)],
    "side": ["none", "left", "right", "both"],
    "speed": ["none", "slow", "normal", "fast"],
}


def reading(likeliest: list[str]) -> HeadsReading:
    """The heads' reading of `repeating_track` (6 s at 10 fps: squats in the first 3 s, jumps in the last 3) in
    windows of 6 frames whose likeliest actions are `likeliest`; slowly in the first half, at a steady pace in the
    second, twice (count head), on the right."""
    q = len(likeliest)
    action = np.full((q, len(LABELS["action"])), 0.02)
    action[np.arange(q), [LABELS["action"].index(a) for a in likeliest]] = 0.9
    count, side, speed = np.full((q, 8), 0.05), np.full((q, 4), 0.1), np.full((q, 4), 0.1)
    count[:, 2], side[:, 2] = 0.6, 0.7
    speed[: q // 2, 1], speed[q // 2 :, 2] = 0.7, 0.7
    probs = {"action": action, "count": count, "side": side, "speed": speed}
    return HeadsReading(probs, LABELS, [(6 * k, 6 * k + 6) for k in range(q)], repeating_track())


def test_runs_of_windows_are_read_in_order_and_short_ones_between_an_action_are_passed_over():
    read = reading(["squat", "squat", "wave", "squat", "squat", "jump", "jump", "jump", "jump", "wave"])
    assert read.runs([(2, 0.0)]) == [("squat", 0, 5), ("jump", 5, 9)]
    assert read.runs([(3, 0.0)]) == [("jump", 5, 9)]
    assert read.runs([(1, 0.0)]) == [("squat", 0, 2), ("wave", 2, 3), ("squat", 3, 5), ("jump", 5, 9), ("wave", 9, 10)]
    # The longest stretch of an action kept whatever its length (the first of equals), splitting what it is between.
    assert read.runs([(3, 0.0)], keep={"wave"}) == [("wave", 2, 3), ("jump", 5, 9)]
    assert read.runs([(2, 0.0)], keep={"wave"}) == [("squat", 0, 2), ("wave", 2, 3), ("squat", 3, 5), ("jump", 5, 9)]
    assert read.read("side", 0, 10) == "right" and read.read("side", 0, 10, among=("left", "both")) == "left"


def test_a_run_is_told_by_its_length_or_by_how_surely_the_heads_read_it():
    read = reading(["squat"] * 5 + ["jump"] * 3 + ["wave"] * 2)
    read.probs["action"][:5] = 0.2  # five squat windows read at 0.2 (a flicker between actions) ...
    read.probs["action"][:5, LABELS["action"].index("squat")] = 0.3
    assert read.runs([(5, 0.0)]) == [("squat", 0, 5)]
    assert read.runs([(5, 0.5)]) == []  # ... are not told where five need 0.5
    assert read.runs([(5, 0.5), (3, 0.6)]) == [("jump", 5, 8)]  # three sure jump windows (0.9) are
    assert read.runs([(5, 0.5), (3, 0.95)]) == []


def test_the_story_is_the_heads_runs_with_what_the_caption_says_of_them():
    read = reading(["squat", "squat", "wave", "squat", "squat", "jump", "jump", "jump", "jump", "jump"])
    caption = f"{INTRO} The person walks toward the camera, five steps, and then jumps in place twice quickly."
    # The squats and jumps the track counts (three and four) and times: a squat a second, twice the steady pace (the
    # speed head reads slow); a jump each 0.75 s, 0.83 of the steady 0.9 s (the caption says quickly).
    assert retell(caption, read, evidence=[(2, 0.0)]) == (
        f"{INTRO} The person squats down three times quickly, and then jumps four times at a steady pace."
    )
    # A count the track does not measure: the caption's where it gives one, else the count head's.
    assert retell("The person waves the left arm five times.", reading(["wave"] * 5)) == (
        "The person waves the left arm five times at a steady pace."
    )
    assert (
        retell("The person waves.", reading(["wave"] * 5)) == "The person waves the right arm twice at a steady pace."
    )
    # Order words where the caption had them; the wave's side is the caption's, its count and pace the heads'.
    ordered = (
        f"{INTRO} First, the person jumps once. Then the person claps twice. Finally, the person waves the left arm."
    )
    assert retell(ordered, reading(["squat"] * 4 + ["stand_still"] * 2 + ["wave"] * 4), evidence=[(2, 0.0)]) == (
        f"{INTRO} First, the person squats down twice quickly. Then the person stands still. Finally, the person waves "
        "the left arm twice at a steady pace."
    )


def test_an_action_the_caption_names_stays_where_the_heads_read_it_at_all():
    read = reading(["squat"] * 5 + ["wave"] + ["squat"] * 4)
    caption = f"{INTRO} The person waves the left arm, and then jumps."  # no window reads a jump
    assert retell(caption, read, evidence=[(4, 0.0)]) == (
        f"{INTRO} The person squats down three times quickly, then waves the left arm twice at a steady pace, and "
        "finally squats down once at a steady pace."  # the track's squats are in its first half: at least once
    )
    assert (
        retell(caption, read, evidence=[(4, 0.0)], keep_named=False)
        == f"{INTRO} The person squats down three times quickly."
    )


def test_legs_out_of_frame_are_not_told():
    cut = "The video shows a person in a red shirt, seen from the waist up."
    assert retell(f"{cut} The person waves.", reading(["squat"] * 5 + ["wave"] * 5)) == (
        f"{cut} The person waves the right arm twice at a steady pace."  # the squats the heads read: not in view
    )
    assert retell(f"{cut} The person waves.", reading(["stand_still"] * 5 + ["wave"] * 5)) == (
        f"{cut} The person stays still, and then waves the right arm twice at a steady pace."  # not "stands"
    )


def test_a_caption_without_a_story_or_runs_is_kept():
    read = reading(["squat", "wave"] * 5)
    caption = f"{INTRO} The person jumps twice."
    assert retell(caption, read, evidence=[(2, 0.0)]) == caption  # no run of two windows, no window reads a jump
    assert retell(caption, None) == caption
    assert retell("No person was found in the video.", reading(["squat"] * 10)) == "No person was found in the video."


def test_a_walk_goes_the_way_the_person_faces_while_walking_not_over_the_whole_clip():
    import dataclasses

    from processing_macm.motion_track import SMPL_JOINT_NAMES

    # Squats facing the camera for 3.6 s, then a walk facing the image's right (MediaPipe's world landmarks keep the
    # camera's axes): over the whole clip the person faces the camera most, which is what the caption was steered to.
    read = reading(["squat"] * 6 + ["walk"] * 4)
    joints = read.track.joints_3d.copy()
    for side, sign in (("left", 1), ("right", -1)):
        for part in ("hip", "shoulder"):
            index = SMPL_JOINT_NAMES.index(f"{side}_{part}")
            joints[:36, index, 0] = 0.1 * sign  # left minus right along +x: facing +z, the camera
            joints[36:, index, 2] = -0.1 * sign  # along -z: facing +x, the image's right
    read.track = dataclasses.replace(read.track, joints_3d=joints, backend="mediapipe")
    caption = f"{INTRO} The person squats down twice, and then walks toward the camera, four steps."
    told = retell(caption, read, evidence=[(2, 0.0)])
    assert "walks across the scene from left to right" in told and "toward" not in told, told


def test_a_walk_takes_the_steps_its_pace_takes_over_the_run():
    # 6 s of walk windows at a steady pace: 0.52 s a step (`GAIT_SECONDS`, 115 steps a minute), twelve steps; the
    # language model's "five steps" was its habit.
    caption = f"{INTRO} The person walks toward the camera, five steps at a steady pace."
    assert retell(caption, reading(["walk"] * 10)) == (
        f"{INTRO} The person walks toward the camera, twelve steps at a steady pace."
    )
    slowly = caption.replace("at a steady pace", "slowly")  # 0.65 s a step: nine
    assert retell(slowly, reading(["walk"] * 10)).endswith("nine steps slowly.")
    # The run widened where the heads still give the walk 0.3 (two windows before it): 4.8 s, nine steps, not seven.
    widened = reading(["stand_still"] * 2 + ["walk"] * 6 + ["stand_still"] * 2)
    widened.probs["action"][:2, LABELS["action"].index("walk")] = 0.35
    assert retell(caption, widened) == f"{INTRO} The person walks toward the camera, nine steps at a steady pace."
    # More than the grammar counts: its sixteen.
    long_walk = reading(["walk"] * 20)
    long_walk.track = repeating_track(seconds=12.0)
    assert retell(caption, long_walk).endswith("sixteen steps at a steady pace.")
