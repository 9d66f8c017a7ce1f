"""Questions about what a clip shows of the person (`macm_cli/looks.py`): colours, framing, moving at all, travel."""

import pytest
from test_appearance import person_frames, person_track
from utils import synth_v2_scenes

from macm_cli import answers, looks
from processing_macm.motion_track import MEDIAPIPE_LANDMARK_NAMES
from train.qa_accuracy import is_correct
from train.qa_accuracy import question_kind as hmi_kind

CAPTION = (
    "The video shows a person in an orange shirt and navy trousers standing on a grey floor. First, the person "
    "squats down twice quickly. Then the person walks toward the camera, four steps at a steady pace."
)
STILL = "The person stands still."


def standing_track(height: int = 128):
    """A made person (`test_appearance.person_track`) with every landmark at the hips' and knees' height or above,
    the ankles and feet at y = 120, in a frame `height` rows high."""
    track = person_track()
    for name in ("left_ankle", "right_ankle", "left_heel", "right_heel", "left_foot_index", "right_foot_index"):
        track.keypoints_2d[:, MEDIAPIPE_LANDMARK_NAMES.index(name)] = (48, 120, 0.9)
    track.frame_size = (96, height)
    return track


@pytest.mark.parametrize(
    "question, kind",
    [
        ("What colour is the person's shirt?", "colour"),
        ("What colour are his jeans?", "colour"),
        ("What color is the shirt the person is wearing?", "colour"),
        ("What's the colour of her trousers?", "colour"),
        ("Is the person wearing a red shirt?", "colour"),
        ("Are his trousers navy?", "colour"),
        ("What is the person wearing?", "clothes"),
        ("How much of the person is visible?", "framing"),
        ("How much of her body can we see?", "framing"),
        ("Which part of the body is visible?", "framing"),
        ("Is the whole body visible?", "framing"),
        ("Are the person's legs in the frame?", "framing"),
        ("Does the person do anything other than stay still?", "moving"),
        ("Does she move at all?", "moving"),
        ("Is the person standing still?", "moving"),
        ("Is the person moving?", "moving"),
        ("Is the man in motion?", "moving"),
        ("Is the person moving toward the camera?", None),  # a direction: answers.py's
        ("Does the person move to another place in the scene?", "travel"),
        ("Does he change position?", "travel"),
        ("Does she stay in the same place?", "travel"),
        ("The person is wearing a red shirt. True or false?", "colour"),
        ("The person's trousers are navy. True or false?", "colour"),
        ("The whole body is visible. True or false?", "framing"),
        ("The person stands still throughout the clip. True or false?", "moving"),
        ("The person stays in one place. True or false?", "travel"),
        ("Both feet leave the floor at some point. True or false?", None),  # the movements': answers.py's
        ("The person uses the left leg to kick. True or false?", None),
        ("Is the man wearing a red shirt?", "colour"),  # real footage's questions name the man, the woman, ...
        ("How much of the woman's body is visible?", "framing"),
        ("Does the player stay in one place?", "travel"),
        ("The woman's legs are visible. True or false?", "framing"),
        ("How many times does the person squat?", None),
        ("Does the person squat before walking?", None),
        ("Does the person stand still before squatting?", None),  # a movement's order: answers.py's
        ("Is the person's body visible?", None),
        ("What colour is the floor?", None),
        ("Why does the person move this way?", "motive"),
        ("Why is he walking?", "motive"),
        ("What expression does the person show?", "expression"),
        ("How does she feel?", "expression"),
        ("Is the man smiling?", "expression"),
        ("What is the person holding?", "unread"),
        ("What colour is the woman's hair?", "unread"),
        ("Is the person a man or a woman?", "unread"),
        ("Does the person hold the squat?", None),
        ("Is there anyone in the video?", "present"),
        ("Can you see a person?", "present"),
        ("Are there people in the frame?", "present"),
        ("Is the person visible?", "present"),
        ("Is the man in the frame?", "present"),
        ("How many people are in the video?", "people"),
        ("How many persons can you see?", "people"),
        ("Is there more than one person?", "people"),
        ("Are there other people in the scene?", "people"),
        ("There are two people in the video. True or false?", "people"),
        ("What is the person wearing on their feet?", "unread"),
        ("What colour are his shoes?", "unread"),
        ("Is the woman wearing a hat?", "unread"),
        ("Is the person alone?", "people"),
        ("How long is the video?", "length"),
        ("Is the person happy?", "expression"),
        ("What is the weather like?", "scene"),
        ("Is it indoors or outdoors?", "scene"),
        ("What time of day is it?", "scene"),
        ("What is in the background?", "scene"),
        ("Where is this video taken?", "scene"),
        ("Is the person walking outdoors?", None),  # a movement: answers.py's
        ("Is the person visible from the waist up?", None),
        ("Is there a person walking?", None),  # a movement: answers.py's
        ("How does the person wave?", None),
        ("Does the person move their legs?", "limbs"),
        ("Does the man swing his arms?", "limbs"),
        ("What are the person's arms doing?", "limbs"),
        ("What is the person doing with their hands?", "limbs"),
        ("How does the man move his legs?", "limbs"),
        ("Are her legs still?", "limbs"),
        ("Does the person use the left leg to kick?", None),  # a side: answers.py's
        ("Does the person stop?", "stop"),
        ("Does the person stop walking?", None),  # a movement: answers.py's
        ("Is the person sitting?", "posture"),
        ("Is the man standing?", "posture"),
        ("Is the person standing in one place?", "travel"),
        ("Is the person sitting down?", "movement"),
        ("Does the man nod?", "movement"),
        ("Does she shake her head?", "movement"),
        ("Does the person stand up?", "movement"),
        ("Is the person dancing?", "movement"),
        ("Does the person sit down and squat?", None),  # names a movement it reads
        ("Is the person facing the camera?", "facing"),
        ("Is the woman looking at the camera?", "facing"),
        ("Is this guy sitting?", "posture"),
        ("Is the person facing away from the camera?", "facing"),
        ("Is the camera moving?", "camera"),
        ("Is the woman close to the camera?", "camera"),
        ("Is the video shot from above?", "camera"),
        ("How many different actions does the person perform?", "number"),
        ("How many movements are there?", "number"),
        ("In what order does the person do the actions?", "sequence"),
        ("What is the sequence of movements?", "sequence"),
        ("Does the person move their body?", "moving"),
        ("Is the man on the phone?", "unread"),
        ("How fast is the person moving?", "pace"),
        ("Is the woman moving quickly?", "pace"),
        ("Is the movement fast or slow?", "pace"),
        ("How fast does the person squat?", None),  # names a movement: answers.py's
        # "this", "that"; a guy, a lady, a kid, a pedestrian, a figure
        ("Does the lady move her legs?", "limbs"),
        ("What colour is that pedestrian's shirt?", "colour"),
        # Asked of real footage: a pace, swinging arms, stopping at some point, someone else, a height, a face.
        ("What is the person's pace?", "pace"),
        ("Are the arms swinging?", "limbs"),
        ("Does the person stop at any point?", "stop"),
        ("Does he ever stop?", "stop"),
        ("Does anyone else appear?", "people"),
        ("How tall is the person?", "unread"),
        ("Describe the person's face.", "expression"),
        ("What is the person doing?", None),  # a description: the caption (`asks_description`)
        ("Is the person in a hurry?", "pace"),
        ("Where is the person?", "scene"),  # the place; "Where is the person going?" is a direction: answers.py's
        ("Where is the person going?", None),
    ],
)
def test_question_kinds(question, kind):
    assert looks.question_kind(question) == kind
    assert looks.reads(question) == (kind is not None)


@pytest.mark.parametrize(
    "question, described",
    [
        ("What is the person doing?", True),
        ("What's the man doing in the video?", True),
        ("What is happening in this clip?", True),
        ("What's going on?", True),
        ("What action is being performed?", True),
        ("What movements does the woman make?", True),
        ("Can you describe what the person does?", True),
        ("Summarize the video.", True),
        ("Describe the person's movements in detail.", True),
        ("What does the person do first?", False),  # the first movement: answers.py's
        ("What does the person do after walking?", False),
        ("What is the person doing with their right hand?", False),  # a part of the body
        ("Describe how the person squats.", False),  # names a movement
        ("Describe the person's face.", False),
    ],
)
def test_a_request_for_the_description(question, described):
    assert looks.asks_description(question) == described


def test_how_much_of_the_body_is_in_frame():
    assert looks.framing(standing_track()) == "full"
    assert looks.framing(standing_track(height=110)) == "knees_up"  # the feet below the frame
    track = standing_track(height=90)  # the knees (y = 96) below it too
    assert looks.framing(track) == "waist_up"
    track.keypoints_2d[:, [MEDIAPIPE_LANDMARK_NAMES.index(f"{side}_hip") for side in ("left", "right")], 2] = 0.1
    assert looks.framing(track) == "head_shoulders"
    track = standing_track(height=110)
    track.keypoints_2d[:3, [MEDIAPIPE_LANDMARK_NAMES.index("left_ankle")], 1] = 100  # 3 of 10 frames show a foot
    assert looks.framing(track) == "full"
    track.keypoints_2d[2, [MEDIAPIPE_LANDMARK_NAMES.index("left_ankle")], 1] = 120
    assert looks.framing(track) == "knees_up"


def test_answers():
    question = "How much of the person is visible?"
    assert looks.answer(question, STILL, standing_track(height=90)) == (
        "The upper body, from the waist up; the legs are out of frame."
    )
    assert looks.answer(question, CAPTION, standing_track(height=90)) == "The whole body."  # the caption says so
    assert looks.answer(question, STILL) == "Not read: neither the caption nor the person's landmarks say."
    assert looks.answer("What colour is the person's shirt?", CAPTION, colours={"shirt": "red"}) == "Red."
    # In a hurry: whether a movement goes quickly.
    assert looks.answer("Is the person in a hurry?", CAPTION) == "Yes: the person squats down twice quickly."
    assert looks.answer("Is the person in a hurry?", STILL) == "No: the person stands still."
    assert looks.answer("What colour is the person's shirt?", CAPTION) == "Orange."  # without colours: the caption's
    assert looks.answer("What colour are the trousers?", CAPTION, colours={"shirt": "red"}) == (
        "Not read: the person's trousers are not seen well enough."
    )
    moving = "Does the person do anything other than stay still?"
    assert looks.answer(moving, CAPTION) == "Yes: the person squats down twice quickly."
    assert looks.answer(moving, STILL) == "No: the person stands still."
    travel = "Does the person move to another place in the scene?"
    assert looks.answer(travel, CAPTION) == "Yes: the person walks toward the camera, four steps at a steady pace."
    assert looks.answer(travel, "The person squats down twice quickly.") == "No: the person stays in one place."
    assert looks.answer("Is the person standing still?", CAPTION) == "No: the person squats down twice quickly."
    assert looks.answer("Is the person standing still?", STILL) == "Yes: the person stands still."
    assert looks.answer("Does she stay in the same place?", STILL) == "Yes: the person stays in one place."
    assert looks.answer("Is the person wearing a red shirt?", CAPTION) == "No: the shirt is orange."
    assert looks.answer("Are his trousers navy?", CAPTION) == "Yes."
    assert looks.answer("What is the person wearing?", CAPTION) == "An orange shirt and navy trousers."
    assert looks.answer("What is the person wearing?", CAPTION, colours={"trousers": "grey"}) == "Grey trousers."
    waist_up = "The video shows a person in a red shirt, seen from the waist up. The person waves."
    assert looks.answer("Is the whole body visible?", CAPTION) == "Yes: the whole body."
    assert looks.answer("Are the legs in view?", waist_up).startswith("No: the upper body, from the waist up")
    assert looks.answer("What expression does the person show?", CAPTION).startswith("Not read:")
    assert looks.answer("What is the person holding?", CAPTION).startswith("Not read:")
    # A true-or-false statement is answered as the question it states, with "True" or "False".
    assert looks.answer("The person is wearing a red shirt. True or false?", CAPTION) == "False: the shirt is orange."
    assert looks.answer("The person's trousers are navy. True or false?", CAPTION) == "True."
    assert (
        looks.answer("The person stays in one place. True or false?", STILL) == "True: the person stays in one place."
    )
    why = "Why does the person move this way?"
    assert (
        looks.answer(why, CAPTION)
        == "They are doing a sequence of movements, one after another: the person squats down twice quickly."
    )
    assert (
        looks.answer(why, "The person walks toward the camera.")
        == "They are going somewhere: the person walks toward the camera."
    )
    assert looks.answer(why, STILL) == "They are waiting; nothing in the clip shows them doing anything else."
    with pytest.raises(ValueError, match="not a question looks.answer reads"):
        looks.answer("How many times does the person squat?", CAPTION)


def test_answers_about_a_part_of_the_body_stopping_and_movements_not_read():
    legs = "Does the person move their legs?"
    assert looks.answer(legs, CAPTION) == "Yes: the person squats down twice quickly."
    assert looks.answer(legs, STILL) == "No: the person stands still."
    talking = "The video shows a person in a black shirt, seen from the chest up. The person talks, moving the head."
    assert looks.answer(legs, talking) == "Not read: the legs are out of frame (seen from the chest up)."
    waving = "The video shows a person in a red shirt, seen from the waist up. The person waves the left arm twice."
    assert looks.answer("What are the person's arms doing?", waving) == "The person waves the left arm twice."
    assert looks.answer("How does the person move their hands?", waving) == "The person waves the left arm twice."
    assert looks.answer("Does the person move their head?", waving) == "No: the person waves the left arm twice."
    assert looks.answer("Are the arms still?", waving) == "No: the person waves the left arm twice."
    # One side: that side's movements and those of both (a clap, talking).
    right_hand = "What is the person doing with their right hand?"
    assert looks.answer(right_hand, waving) == "The caption names no movement of the right arm."
    assert looks.answer("What is he doing with his left arm?", waving) == "The person waves the left arm twice."
    assert looks.answer("Does the person move their right arm?", waving) == "No: the person waves the left arm twice."
    assert looks.answer("Does she move her left hand?", waving) == "Yes: the person waves the left arm twice."
    assert looks.answer(right_hand, "The person claps three times.") == "The person claps three times."
    assert looks.answer("Are the legs still?", STILL) == "Yes: the person stands still."
    # Without a framing in the caption, the track's says whether the part is in frame.
    assert looks.answer(legs, "The person waves.", standing_track(height=90)).startswith("Not read: the legs")
    assert looks.answer(legs, "The person waves.", standing_track()) == "No: the person waves."
    stop = "Does the person stop?"
    paused = "First, the person walks toward the camera, four steps. Then the person stands still. Finally, the person squats once."
    assert looks.answer(stop, paused) == "Yes: the person walks toward the camera, four steps, then stands still."
    assert looks.answer(stop, CAPTION) == "No: the person walks toward the camera, four steps at a steady pace."
    assert looks.answer(stop, STILL) == "No: the person stands still throughout."
    assert answers.read_answer("Does the person stop walking?", paused) == "Yes."
    assert answers.read_answer("Does the person stop walking?", CAPTION) == "No."  # the walk ends the clip
    assert answers.read_answer("Does the person stop squatting?", CAPTION) == "Yes."
    assert looks.answer("Is the person sitting?", CAPTION) == looks.NOT_READ["posture"]
    for question in ("Does the person sit down?", "Does the man nod?", "Is the person dancing?"):
        assert looks.answer(question, CAPTION) == looks.NOT_READ["movement"]
        assert "walk, run, crouch" in looks.NOT_READ["movement"]  # the movements it reads, named
    assert looks.answer("Is the person facing the camera?", CAPTION) == looks.NOT_READ["facing"]
    assert looks.answer("Is the camera moving?", CAPTION) == looks.NOT_READ["camera"]
    number = "How many different actions does the person perform?"
    assert looks.answer(number, paused) == (
        "Two movements: the person walks toward the camera, four steps; then squats once."  # standing still aside
    )
    assert looks.answer(number, STILL) == "None: the person stands still."
    assert looks.answer("In what order does the person do the actions?", paused) == (
        "The person walks toward the camera, four steps; then squats once."
    )
    assert looks.answer("How fast is the person moving?", CAPTION) == "Quickly: the person squats down twice quickly."
    assert looks.answer("Is the person moving slowly?", CAPTION) == "No: the person squats down twice quickly."
    assert looks.answer("Does the person move at a steady pace?", CAPTION) == (
        "Yes: the person walks toward the camera, four steps at a steady pace."
    )
    assert looks.answer("How fast is the person moving?", STILL) == "Not at all: the person stands still."
    assert looks.answer("How fast is the person moving?", "The person waves.") == (
        "Not said: the caption gives no pace; the person waves."
    )


def test_hmi_synth_questions_answered_from_their_own_reference_caption():
    # Read from the reference caption (and its colours), HMI-Synth v2's questions about what a clip shows get their
    # reference answers; the movement questions are not looks' but `answers`' to read.
    scored, correct = 0, 0
    for body, caption, questions in synth_v2_scenes():
        colours = {"shirt": body["shirt"], "trousers": body["trousers"]}
        for qa in questions:
            kind = hmi_kind(qa)
            if kind in ("colour", "framing", "moving", "travel", "motive"):
                assert looks.question_kind(qa["question"]) == kind, qa["question"]
                scored += 1
                correct += is_correct(kind, looks.answer(qa["question"], caption, colours=colours), qa["answer"])
            elif kind is not None:
                assert not looks.reads(qa["question"]) and answers.reads(qa["question"]), qa["question"]
    assert scored > 700
    assert correct == scored


def test_the_captioner_reads_colours_from_the_video():
    from macm_cli.captioner import GLIMPSED_CAPTION, NOBODY_CAPTION, MACMCaptioner, is_read

    captioner = MACMCaptioner.from_pretrained("macm")
    question = "What colour is the person's shirt?"
    assert is_read(question) and not answers.reads(question)
    assert captioner.answer(question, CAPTION, None, person_frames(), person_track()) == "Red."  # the video's
    assert captioner.answer(question, CAPTION) == "Orange."  # no video: the caption's
    assert captioner.answer(question, NOBODY_CAPTION) == NOBODY_CAPTION
    # A glimpse still shows the person's clothes and framing, not their movements.
    video, track = person_frames(), standing_track(height=110)
    assert captioner.answer(question, GLIMPSED_CAPTION, None, video, track) == "Red."
    assert captioner.answer("What is the person wearing?", GLIMPSED_CAPTION, None, video, track) == (
        "A red shirt and blue trousers."
    )
    assert captioner.answer("How much of the person is visible?", GLIMPSED_CAPTION, None, video, track) == (
        "The body from the knees up; the feet are out of frame."
    )
    moving = "Does the person do anything other than stay still?"
    assert captioner.answer(moving, GLIMPSED_CAPTION, None, video, track) == GLIMPSED_CAPTION
    # Whether anyone is there: the track's finds, else the caption; nobody found answers with its statement.
    anyone = "Is there anyone in the video?"
    track.valid[: len(track.valid) // 2] = False
    assert (
        captioner.answer(anyone, GLIMPSED_CAPTION, None, video, track)
        == "Yes: a person is found in 50% of the frames."
    )
    assert captioner.answer(anyone, CAPTION) == "Yes."
    assert captioner.answer(anyone, NOBODY_CAPTION) == NOBODY_CAPTION
    assert looks.answer(anyone, NOBODY_CAPTION) == "No: nobody is found in the video."  # without the captioner
    # How many: one followed person is no count of the others; said so, from the track (a glimpse too).
    many = "How many people are in the video?"
    assert captioner.answer(many, GLIMPSED_CAPTION, None, video, track) == (
        "At least one: a person is found in 50% of the frames; the front end follows one person and does not count "
        "others."
    )
    assert looks.answer(many, NOBODY_CAPTION) == "None: nobody is found in the video."
    # How long: the track's 10 frames at 10 fps; without a track, not read.
    length = "How long is the clip?"
    assert captioner.answer(length, CAPTION, None, video, track) == "1.0 seconds."
    assert looks.answer(length, CAPTION).startswith("Not read: the clip's length comes from its motion")
    assert looks.answer("What is the weather like?", CAPTION).startswith("Not read: this model reads the person's")
