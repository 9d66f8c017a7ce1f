"""Answers read from a caption and from the motion heads' reading of a clip (macm_cli/answers.py)."""

import json

import numpy as np
import pytest
from test_appearance import person_track
from utils import repeating_track, synth_v2_scenes

from macm_cli.answers import (
    LIMB_JOINTS,
    UNNAMED,
    UNSEEN,
    HeadsReading,
    asked_actions,
    question_kind,
    read_answer,
    reads,
)
from macm_cli.looks import framing
from processing_macm.motion_track import MEDIAPIPE_LANDMARK_NAMES, SMPL_JOINT_NAMES
from train.qa_accuracy import is_correct
from train.qa_accuracy import question_kind as hmi_kind

CAPTION = (
    "The video shows a person in a red shirt standing on a tiles floor. The person waves the left arm three times "
    "quickly. Then the person squats down twice at a steady pace. Finally, the person walks diagonally away from the "
    "camera, ten steps slowly."
)


@pytest.mark.parametrize(
    "question, answer",
    [
        ("How many times does the person wave?", "Three times."),
        ("How many times does the person squat?", "Twice."),
        ("How many steps does the person take while doing the walk?", "Ten steps."),
        ("How many times does the person jump?", "None: the caption names no jump."),
        ("Which arm does the person use to wave?", "The left arm."),
        ("Which leg does the person use to kick?", "The caption names no kick."),
        ("How fast does the person squat?", "At a steady pace."),
        ("How fast is the person walking?", "Slowly."),
        ("Does the person squat quickly or slowly?", "At a steady pace."),
        ("What does the person do right after they wave?", "The person squats down twice at a steady pace."),
        ("What does the person do before they squat?", "The person waves the left arm three times quickly."),
        (
            "What does the person do right after they walk?",
            "Nothing: the walk is the last movement the caption names.",
        ),
        ("In which direction does the person walk, as the camera sees it?", "Diagonally away from the camera."),
        ("The person uses the right arm to wave. True or false?", "False."),
        ("The person uses the left arm to wave. True or false?", "True."),
        ("Both feet leave the floor at some point. True or false?", "False."),
        ("Does the person squat?", "Yes."),
        ("Does the person squat before waving?", "No."),
        ("Does the person wave before squatting?", "Yes."),
        ("Does the person do anything other than stay still?", "Yes."),
        ("Is the person walking diagonally away from the camera?", "Yes."),
        ("Is she walking toward the camera?", "No."),
        ("How many steps does the person take?", "Ten steps."),
        ("Does the person squat twice?", "Yes."),
        ("Does the person squat once?", "No."),
        ("Does the person wave more than twice?", "Yes."),
        ("Does the person wave at least four times?", "No."),
        ("Does the person take fewer than 12 steps?", "Yes."),
        ("The person jumps twice. True or false?", "False."),  # no jump: none
        ("What does the person do first?", "The person waves the left arm three times quickly."),
        ("What does the person do at the end?", "The person walks diagonally away from the camera, ten steps slowly."),
        # The same kinds asked other ways.
        ("How often does the person squat?", "Twice."),
        ("Count the waves.", "Three times."),
        ("What is the number of times the person squats?", "Twice."),
        ("Number of squats?", "Twice."),
        ("Does the person use the left or the right arm to wave?", "The left arm."),
        ("What hand is waving?", "The left arm."),
        ("Is the person's left arm raised?", "No."),
        ("What is the walking speed?", "Slowly."),
        ("What happens first?", "The person waves the left arm three times quickly."),
        ("What does the person do in the middle?", "The person squats down twice at a steady pace."),
        (
            "What is the person doing at the end?",
            "The person walks diagonally away from the camera, ten steps slowly.",
        ),
        ("Does the person squat or jump?", "The person squats."),  # which of them
        ("Is the person walking or waving?", "The person walks and waves."),
        ("Does the person jump or kick?", "Neither: the caption names no jump or kick."),
        ("The person squats or jumps. True or false?", "True."),  # a statement: either
        ("Where is the woman going?", "Diagonally away from the camera."),
        ("Does the person turn?", "No."),
        ("Is the person moving diagonally away from the camera?", "Yes."),  # any walk or run that way
        ("Is he heading toward the camera?", "No."),
        ("Is the person moving away from the camera?", "Yes."),  # diagonally away is away
        ("Does the person turn their head?", "No."),  # looking around
        ("What is the pace of the squats?", "At a steady pace."),
        ("Which way does the person walk?", "Diagonally away from the camera."),
        ("Where did she walk?", "Diagonally away from the camera."),
        ("What happens after the squats?", "The person walks diagonally away from the camera, ten steps slowly."),
        ("What do they do before walking?", "The person squats down twice at a steady pace."),
        ("What is the first thing the person does?", "The person waves the left arm three times quickly."),
        ("What was the final movement?", "The person walks diagonally away from the camera, ten steps slowly."),
        ("Do they jump at any point?", "No."),
        ("Is it true that the person waves with the left arm?", "Yes."),
        ("Is she walking towards the camera?", "No."),  # "towards": was any walk, "Yes."
        ("Does the person walk from left to right?", "No."),  # across the scene
        (
            "Is the person walking to the left?",
            "Not said: the caption gives the walk as going diagonally away from the camera, not to which side.",
        ),
        ("Does the person stop walking?", "No."),  # nothing after the walk
        ("Does the person stop squatting?", "Yes."),
        # A pace asked yes or no: the caption's speed of that action.
        ("Does the person walk slowly?", "Yes."),
        ("Does the person squat quickly?", "No."),  # at a steady pace
        ("Is the person waving fast?", "Yes."),
        ("The person squats at a steady pace. True or false?", "True."),
        ("Does the person jump quickly?", "No."),  # no jump
        ("Is the wave fast?", "Yes."),
        ("Are the squats slow?", "No."),
        # One action after another, and what comes next, asked other ways.
        ("Does the person squat after waving?", "Yes."),
        ("Does the person wave after squatting?", "No."),
        ("Does the squat come before the walk?", "Yes."),
        ("Is the walk before the wave?", "No."),
        ("What does the person do immediately after they wave?", "The person squats down twice at a steady pace."),
        ("What comes next after the squats?", "The person walks diagonally away from the camera, ten steps slowly."),
        # Which of two comes first or last.
        ("Which happens first, the squat or the wave?", "The wave."),
        ("What comes last, waving or walking?", "The walk."),
        ("Does the person squat or wave first?", "The wave."),
        ("Which action does the person do first, the jump or the squat?", "The squat. The caption names no jump."),
        ("Which comes first, the jump or the kick?", "Neither: the caption names no jump or kick."),
        # Asked of the movement rather than the person.
        ("Is the wave done with the right arm?", "No."),
        ("Are the squats performed twice?", "Yes."),
        ("Are the squats fast or slow?", "At a steady pace."),
        ("Is the walk quick or slow?", "Slowly."),
        ("Which action comes first?", "The person waves the left arm three times quickly."),
        ("What movement is done last?", "The person walks diagonally away from the camera, ten steps slowly."),
    ],
)
def test_answers_read_from_a_caption(question, answer):
    assert reads(question)
    assert read_answer(question, CAPTION) == answer


def test_when_an_action_happens_is_where_the_heads_read_it():
    reading, caption = heads_reading(), "The person walks toward the camera. Then the person waves."
    assert question_kind("When does the man jump?") == question_kind("How long does she squat?") == "when"
    assert read_answer("When does the person squat?", caption, reading) == f"From 0.0 s to 3.0 s{UNNAMED}"
    assert read_answer("How long does the person jump?", caption, reading) == (
        f"For 3.0 seconds, from 3.0 s to 6.0 s{UNNAMED}"
    )
    assert read_answer("At what time does the person wave?", caption, reading) == "From 4.0 s to 5.0 s."
    assert read_answer("When does the person kick?", caption, reading) == "The caption names no kick."
    assert read_answer("When does the person walk?", caption, reading) == (  # named, but read nowhere
        "Not timed: the caption names the walk, but the motion heads do not find it."
    )
    assert not reads("How long is the video?")  # the clip's length: looks.py's


def test_a_way_to_one_side_is_read_from_a_walk_across_the_scene():
    across = "The person walks across the scene from right to left, six steps at a steady pace."
    assert read_answer("Is the person walking to the left?", across) == "Yes."
    assert read_answer("Does the man walk leftwards?", across) == "Yes."
    assert read_answer("Is the person walking to the right?", across) == "No."
    assert read_answer("Is the person walking from right to left?", across) == "Yes."
    assert read_answer("Is the person walking to the left?", "The person walks toward the camera.") == "No."
    assert read_answer("Does the person turn around to the left?", "The person turns around to the left.") == "Yes."
    for question in ("Which way does the person turn?", "Does the person turn left or right?"):  # not a travel's
        assert read_answer(question, "The person turns around to the left slowly.") == "To the left."
    stepping = "The person steps sideways to the right, three steps quickly."
    assert read_answer("In which direction does the person step sideways?", stepping) == "To the right."
    assert read_answer("Is the person moving to the left?", across) == "Yes."  # no walk named: the caption's
    assert read_answer("Is she heading to the right?", across) == "No."
    running = "The person squats twice. Then the person runs across the scene from left to right, nine steps quickly."
    assert read_answer("Is the man going to the right?", running) == "Yes."
    assert read_answer("Is the person moving to the left?", "The person stands still.") == "No."


def test_a_detail_the_caption_leaves_out_is_not_made_up():
    caption = "The person waves the right arm. Then the person walks toward the camera."
    assert read_answer("How many times does the person wave?", caption) == (
        "Not said: the caption names the wave without its count."
    )
    assert (
        read_answer("How fast does the person walk?", caption)
        == "Not said: the caption names the walk without its speed."
    )
    assert (
        read_answer("Does the person wave twice?", caption)
        == "Not said: the caption names the wave without its count."
    )
    assert read_answer("Does the person do anything other than stand still?", "The person stands still.") == "No."
    assert read_answer("What does the person do last?", "The person stands still.") == (
        "Nothing: the caption names no movement."
    )


def test_questions_it_does_not_read_are_left_to_the_model():
    for question in (
        "What colour is the person's shirt?",
        "Why does the person move this way?",
        "How many people are there?",  # a count, but of no action
        "Describe the person's movements in detail.",
    ):
        assert not reads(question), question
    with pytest.raises(ValueError, match="not a question read_answer reads"):
        read_answer("What colour is the person's shirt?", CAPTION)
    assert question_kind("How quickly does she squat?") == "speed"
    assert question_kind("What does the man do right after he squats?") == "order"  # real footage's people
    assert question_kind("Does the woman wave twice?") == "yes_no"
    assert question_kind("Does this guy wave twice?") == "yes_no"  # "this" or "that" person, a guy, a lady, a kid
    assert asked_actions("Which leg is lifted?") == [] and not reads("Which leg is lifted?")  # not a raised arm
    assert asked_actions("Does the person lift the left leg?") == []
    assert asked_actions("Does she lift her left hand?") == asked_actions("Is the left arm raised?") == ["raise_arm"]
    assert asked_actions("Which arm does the person use to raise arm, and does she clap after squatting?") == [
        "raise_arm",
        "clap",
        "squat",
    ]


def test_hmi_synth_questions_answered_from_their_own_reference_caption():
    # Read from the reference caption, every HMI-Synth v2 question of a scored kind gets its reference answer,
    # except where the caption does not state the fact (counts and speeds of some actions, an idle pause's order).
    scored, correct = 0, 0
    for _, caption, questions in synth_v2_scenes():
        for qa in questions:
            kind = hmi_kind(qa)
            if kind not in ("count", "side", "speed", "order", "direction", "true_false"):
                continue  # no kind, or a question about what the clip shows (tests/test_looks.py)
            assert reads(qa["question"]), qa["question"]
            scored += 1
            correct += is_correct(kind, read_answer(qa["question"], caption), qa["answer"])
    assert scored > 500
    assert correct / scored > 0.97, correct / scored


def test_macm_ask_answers_from_the_caption(tmp_path, capsys):
    from macm_cli import main as macm

    video = "examples/walk.mp4"
    common = ["--json", "--max-new-tokens", "40"]
    assert macm(["caption", video, *common]) == 0
    caption = json.loads(capsys.readouterr().out)["caption"]
    question = "How many times does the person squat?"
    assert macm(["ask", video, question, *common]) == 0
    asked = json.loads(capsys.readouterr().out)
    # A walk: the heads do not see a squat either, so the caption answers (no count is made up).
    assert asked["described"] == caption and asked["caption"] == read_answer(question, caption)
    assert asked["caption"] == "None: the caption names no squat."
    assert macm(["ask", video, question, "--answers", "generate", *common]) == 0
    generated = json.loads(capsys.readouterr().out)
    assert generated["described"] is None and generated["caption"] != asked["caption"]
    # Asked for the description in other words, the caption, written with the prompt the model was trained on.
    assert macm(["ask", video, "What is the person doing in the video?", *common]) == 0
    described = json.loads(capsys.readouterr().out)
    assert described["caption"] == caption and described["described"] is None


def heads_reading(side: str = "right") -> HeadsReading:
    """The heads' reading of `repeating_track` (6 s at 10 fps; squats in the first 3 s, jumps in the last 3) in six
    one-second windows: squat in windows 0-2, jump in 3-5 (slowly, then quickly), a faint wave in window 4, twice
    (count head), on `side`."""
    labels = {
        "action": ["walk", "wave", "squat", "jump", "stand_still"],
        "count": [str(n) for n in range(8)],
        "side": ["none", "left", "right", "both"],
        "speed": ["none", "slow", "normal", "fast"],
    }
    action = np.full((6, 5), 0.02)
    action[:3, 2], action[3:, 3], action[4, 1] = 0.9, 0.8, 0.12
    count, side_probs, speed = np.full((6, 8), 0.05), np.full((6, 4), 0.1), np.full((6, 4), 0.1)
    count[:, 2] = 0.6
    side_probs[:, labels["side"].index(side)] = 0.7
    speed[:3, 1], speed[3:, 3] = 0.7, 0.7
    probs = {"action": action, "count": count, "side": side_probs, "speed": speed}
    return HeadsReading(probs, labels, [(10 * q, 10 * q + 10) for q in range(6)], repeating_track())


def test_the_heads_answer_for_the_action_asked_about():
    # The caption names neither the squats nor the jumps, and a wave without its count or side.
    reading, caption = heads_reading(), "The person walks toward the camera. Then the person waves."
    assert reading.span("squat") == (0, 3) and reading.span("jump") == (3, 6)
    assert reading.span("wave") is None and reading.span("wave", named=True) == (4, 5)  # faint: seen where named
    assert reading.span("walk", named=True) is None  # read nowhere at SEEN
    for question, answer in (  # the squats and the jumps are the heads' alone, and the answers say so (UNNAMED)
        ("How many times does the person squat?", f"Three times{UNNAMED}"),  # the track's peaks in its windows
        ("How many times does the person jump?", f"Four times{UNNAMED}"),
        ("How many times does the person wave?", "Twice."),  # the count head: the track does not count waves
        # The track's speed: a squat a second, twice the steady pace (the speed head reads "slow"); a jump each
        # 0.75 s, 0.83 of the steady 0.9 s (the head: "fast").
        ("How fast does the person squat?", f"Quickly{UNNAMED}"),
        ("How fast does the person jump?", f"At a steady pace{UNNAMED}"),
        ("How fast does the person wave?", "Quickly."),  # the speed head: the track does not count waves
        ("What does the person do right after they squat?", f"The person jumps{UNNAMED}"),
        ("What does the person do before they jump?", f"The person squats{UNNAMED}"),
        (
            "What does the person do right after they jump?",
            f"Nothing: the jump is the last movement the motion shows{UNNAMED}",
        ),
        ("Which arm does the person use to wave?", "The right arm."),
        ("The person uses the left arm to wave. True or false?", "False."),
        ("The person uses the right arm to wave. True or false?", "True."),
        ("Does she wave with her right hand?", "Yes."),
        ("Is the person waving the left arm?", "No."),
        ("In which direction does the person walk?", "Toward the camera."),  # directions: the caption's
        ("Does the person jump?", "No."),  # whether an action happens: the caption's
        ("Does the person squat three times?", "Yes."),  # a statement of a count: the count read
        ("Does the person jump more than four times?", "No."),
    ):
        assert read_answer(question, caption, reading) == answer, question
    assert read_answer("How many times does the person wave?", "The person waves five times.", reading) == (
        "Five times."  # a count the track does not measure, which the caption names
    )
    assert read_answer("How fast does the person wave?", "The person waves slowly.", reading) == "Slowly."  # named
    # A countable action's speed is the track's where it measures one, the caption's speed or not.
    assert read_answer("How fast does the person jump?", "The person jumps slowly.", reading) == "At a steady pace."
    assert read_answer("How many times does the person clap?", caption, reading) == "None: the caption names no clap."
    # Named by the question alone, the faint wave is read where the heads read it, and the answer says how faintly;
    # a statement of its count takes such a count as none. An action read nowhere at SEEN gets no count.
    walk = "The person walks toward the camera."
    faint = ", if at all: the motion barely shows the movement asked about."
    assert read_answer("How many times does the person wave?", walk, reading) == f"Twice{faint}"
    assert read_answer("Which arm does the person use to wave?", walk, reading) == f"The right arm{faint}"
    assert read_answer("The person uses the right arm to wave. True or false?", walk, reading) == f"True{faint}"
    assert read_answer("Does the person wave twice?", walk, reading) == "No."
    # The same faint wave where the track never sees an elbow or a wrist (a head-and-shoulders shot; the features hold
    # unseen joints still, so what the heads read there is not the arm): the caption's answer.
    armless = heads_reading()
    armless.track.keypoints_2d[:, [SMPL_JOINT_NAMES.index(name) for name in LIMB_JOINTS["arm"]], 2] = 0.1
    assert read_answer("How many times does the person wave?", walk, armless) == "None: the caption names no wave."
    assert read_answer("Which arm does the person use to wave?", walk, armless) == "The caption names no wave."
    assert read_answer("How many times does the person jump?", walk, armless) == f"Four times{UNNAMED}"  # no limb
    assert read_answer("How many steps does the person take?", "The person squats.", reading) == (
        "None: the caption names no walk."
    )
    # A wave read nowhere at SEEN: a question that takes it as done is read where it comes closest, and says so; a
    # count may be none.
    unseen = heads_reading()
    unseen.probs["action"][4, 1] = 0.05
    assert read_answer("Which arm does the person use to wave?", walk, unseen) == f"The right arm{UNSEEN}"
    assert read_answer("What does the person do right after they wave?", walk, unseen) == f"The person jumps{UNSEEN}"
    assert read_answer("The person uses the left arm to wave. True or false?", walk, unseen) == f"False{UNSEEN}"
    assert read_answer("How many times does the person wave?", walk, unseen) == "None: the caption names no wave."
    # Asked yes or no, its side is the caption's "No." as whether it happens is: not "Yes, if at all: ... not show".
    assert read_answer("Does she wave with her right hand?", walk, unseen) == "No."
    assert read_answer("Is the person waving the left arm?", walk, unseen) == "No."
    # A walk the caption does not name, read nowhere: its speed where the heads come closest, unless the clip leaves
    # the legs out of frame (a talking head, `looks.framing`), or a wave's arms: then the caption's.
    talk = "The person talks, moving the head as they speak."
    assert read_answer("How fast is the person walking?", talk, unseen) == f"Slowly{UNSEEN}"
    unseen.track = person_track(num_frames=60, hips_visible=False)  # the shoulders alone: the knees hidden below
    unseen.track.keypoints_2d[:, [MEDIAPIPE_LANDMARK_NAMES.index(f"{s}_knee") for s in ("left", "right")], 2] = 0.1
    assert framing(unseen.track) == "head_shoulders"
    assert read_answer("How fast is the person walking?", talk, unseen) == "The caption names no walk."
    assert read_answer("Which arm does the person use to wave?", walk, unseen) == "The caption names no wave."
    assert read_answer("Which leg does the person use to walk?", caption, heads_reading("left")) == (
        "Not said: the caption names the walk without its side."  # a walk has no side to read
    )


def test_what_comes_next_is_what_the_following_windows_read_most():
    # Right after the squats one window reads a wave as its likeliest (a passing movement between two actions); the
    # jumps fill the windows after it: they come next. Before the jumps, the squats, wave or not.
    reading = heads_reading()
    reading.probs["action"][3] = (0.02, 0.5, 0.02, 0.3, 0.02)
    walk = "The person walks toward the camera."
    after, before = "What does the person do right after they squat?", "What does the person do before they jump?"
    assert read_answer(after, walk, reading) == f"The person jumps{UNNAMED}"
    assert read_answer(before, walk, reading) == f"The person squats{UNNAMED}"
    # Only the squat and standing still after it: nothing follows, however the other actions are read beside them.
    reading.probs["action"][3:] = (0.02, 0.3, 0.02, 0.05, 0.6)
    assert read_answer(after, walk, reading) == f"Nothing: the squat is the last movement the motion shows{UNNAMED}"


def test_one_heads_reading_a_clip_and_none_for_what_is_not_described():
    from macm_cli import MACMCaptioner
    from macm_cli.captioner import NOBODY_CAPTION, STILL_CAPTION

    captioner = MACMCaptioner.from_pretrained("macm")
    track = repeating_track()  # 6 s: within the embedded model's 12.8 s motion window
    reading = captioner.heads_reading("The person squats.", track)
    assert reading.probs["action"].shape == (len(reading.frames), len(reading.labels["action"]))
    assert reading.track is track and reading.frames[0][0] == 0
    assert captioner.heads_reading(STILL_CAPTION, track) is None  # stated still: its answers are the caption's
    assert captioner.heads_reading("The person squats.", None) is None
    long_track = repeating_track(seconds=20.0)  # answered from the summary of its segments' captions
    assert captioner.heads_reading("The person squats.", long_track) is None
    assert captioner.answer("How many times does the person squat?", NOBODY_CAPTION, reading) == NOBODY_CAPTION
