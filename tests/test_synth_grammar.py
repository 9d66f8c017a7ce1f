"""HMI-Synth programs, captions, QA and splits: fast, no rendering."""

import hashlib
import json
import re

import numpy as np
import pytest

from dataset_scripts.synth import composition, sample_scene_v2
from dataset_scripts.synth.grammar import (
    CHEST_UP_VERBS,
    CUT_VERBS,
    FRAMINGS,
    VERBS,
    VOCABULARY,
    captions,
    captions_v2,
    describe_step,
    parse_caption,
    qa_pairs,
    qa_pairs_v2,
    split_story,
    story,
)
from dataset_scripts.synth.programs import (
    ACTION_SPECS,
    ACTIONS_V1,
    DIRECTIONS,
    IDLE,
    MAX_SECONDS,
    TRAVEL_DIRECTIONS,
    UPPER_BODY,
    animate,
    non_idle,
    sample_program,
)
from dataset_scripts.synth.splits import HELD_OUT_PAIRS, assign_split, held_out_camera

BODY = {"shirt": "red", "trousers": "navy"}
CAMERA = {"floor": "wood"}
DIMENSIONS = {
    "Details of Movements",
    "Character Attributes",
    "Motivation and Reason",
    "Micro-expressions and Emotions",
    "Interaction with the Environment",
}
STEP_KEYS = ("action", "side", "limb", "count", "speed")
# Words that claim something about legs, feet or the floor: never said of a person framed without them.
LEG_WORDS = re.compile(
    r"\b(legs?|foot|feet|knees?|floor|walk\w*|run\w*|jog\w*|steps?|kick\w*|lunge\w*|jump\w*|"
    r"squat\w*|crouch\w*|stand\w*|trousers)\b"
)


def _v2_scenes(n: int, seed: int = 0):
    """n version-2 scenes with their captions and QA, sampled exactly as `macm synth` does."""
    for index in range(n):
        program, body, camera, _, _ = sample_scene_v2(np.random.default_rng([seed, index, 0]), 256)
        text_rng = np.random.default_rng([seed, index, 1])
        text = captions_v2(program, body, camera, text_rng)
        yield program, camera, text, qa_pairs_v2(program, body, camera, text_rng)


def _expected(program: list[dict]) -> list[dict]:
    return [{k: step[k] for k in STEP_KEYS} for step in program]


@pytest.mark.parametrize("seed", range(300))
def test_parse_caption_recovers_program(seed):
    rng = np.random.default_rng(seed)
    program = sample_program(rng)
    text = captions(program, BODY, CAMERA, rng)["caption"]
    assert parse_caption(text) == _expected(program), text


def test_parse_caption_recovers_v2_programs():
    for program, _, text, _ in _v2_scenes(400):
        assert parse_caption(text["caption"]) == _expected(program), text["caption"]


def test_split_story_reads_back_every_v2_caption():
    for program, _, text, _ in _v2_scenes(400):
        intro, clauses, ordered = split_story(text["caption"])
        assert intro.startswith("The video shows") and f"{intro} {story(clauses, ordered)}" == text["caption"]
        if non_idle(program):  # a clause a step
            assert [parse_caption(clause)[0]["action"] for clause in clauses] == [s["action"] for s in program]
    assert split_story("The person waves twice, then jumps once.") == ("", ["waves twice, then jumps once"], False)
    assert split_story("First, the person jumps. Then the person claps. The end.") is None
    assert split_story("No person was found in the video.") is None


@pytest.mark.parametrize("action", VOCABULARY)
def test_every_phrase_of_every_action_parses_back(action):
    """Each verb phrase the generator can write (cut-framing ones too) reads back as its action."""
    limb, sides, counts, _ = ACTION_SPECS[action]
    direction = (list(TRAVEL_DIRECTIONS) if action in ("walk", "run") else DIRECTIONS.get(action, [None]))[0]
    step = {
        "action": action,
        "side": sides[-1],
        "limb": limb,
        "count": counts[1] if counts else None,
        "speed": None if action in (IDLE, "talk", "look_around", "crouch") else "fast",
        "direction": direction,
    }
    for verb in VERBS[action] + CUT_VERBS.get(action, ()) + CHEST_UP_VERBS.get(action, ()):
        framing = "head_shoulders" if verb in CHEST_UP_VERBS.get(action, ()) else "full"

        class Pick:  # the generator's random choice, made to write this phrase
            def choice(self, options, verb=verb):
                return verb if verb in options else options[0]

        text = f"The person {describe_step(step, Pick(), framing)}."
        assert verb.split()[0] in text and parse_caption(text) == _expected([step]), text


@pytest.mark.parametrize("action", ["walk", "run", "step_sideways"])
def test_a_single_step_is_one_step(action):
    limb, _, _, _ = ACTION_SPECS[action]
    direction = (list(TRAVEL_DIRECTIONS) if action in ("walk", "run") else DIRECTIONS[action])[0]
    step = {"action": action, "side": None, "limb": limb, "count": 1, "speed": "slow", "direction": direction}
    for verb in VERBS[action]:

        class Pick:
            def choice(self, options, verb=verb):
                return verb if verb in options else options[0]

        text = f"The person {describe_step(step, Pick())}."
        assert "one step" in text and "one steps" not in text, text
        assert parse_caption(text) == _expected([step]), text


def test_parse_caption_reads_variants_stillness_and_nothing():
    assert parse_caption("A man waves his right hand 3 times quickly, then jumps twice.") == [
        {"action": "wave", "side": "right", "limb": "arm", "count": 3, "speed": "fast"},
        {"action": "jump", "side": None, "limb": "body", "count": 2, "speed": None},
    ]
    assert [s["action"] for s in parse_caption("A person stands still.")] == [IDLE]
    talk, run = parse_caption("She is talking, then runs away, twelve steps.")
    assert (talk["action"], talk["count"], run["action"], run["count"]) == ("talk", None, "run", 12)
    assert parse_caption("There is nobody in the video.") == []


def test_programs_are_well_formed():
    for seed in range(200):
        program = sample_program(np.random.default_rng(seed))
        assert 2 <= len(program) <= 4
        assert 2.0 <= program[-1]["end"] <= MAX_SECONDS
        assert all(a["action"] != b["action"] for a, b in zip(program, program[1:]))
        assert all(step["action"] in ACTIONS_V1 for step in program)
        assert all(a["end"] == b["start"] for a, b in zip(program, program[1:]))
        angles, yaw, offset = animate(program, fps=12)
        assert offset.shape == (len(yaw), 3) and all(len(v) == len(yaw) for v in angles.values())


def test_v1_programs_captions_and_qa_unchanged():
    """Version 1 stays reproducible: the first 200 seeds' programs, captions and QA hash to the value the
    generator gave before version 2 existed."""
    out = []
    for seed in range(200):
        rng = np.random.default_rng(seed)
        program = sample_program(rng)
        out.append([program, captions(program, BODY, CAMERA, rng), qa_pairs(program, BODY, CAMERA, rng)])
    digest = hashlib.sha256(json.dumps(out).encode()).hexdigest()
    assert digest == "1c3878fa980c9b9c275b433e318a4fc4be0cfd44a0d126e29d16dfef115e170b"


def test_all_actions_sampled():
    assert {s["action"] for seed in range(300) for s in sample_program(np.random.default_rng(seed))} == set(ACTIONS_V1)
    assert {s["action"] for program, *_ in _v2_scenes(400) for s in program} == set(VOCABULARY)


def test_v2_composition():
    """Over 400 clips: at least 10% idle, 25% single-action and 15% cut framings; 1-4 steps of 2-10 s;
    a framing without the legs only ever gets upper-body actions."""
    scenes = list(_v2_scenes(400))
    parts = composition([{"program": p, "camera": c} for p, c, _, _ in scenes])
    assert parts["idle"] >= 0.10 and parts["single"] >= 0.25 and parts["cut"] >= 0.15, parts
    for program, camera, _, _ in scenes:
        assert 1 <= len(program) <= 4 and 2.0 <= program[-1]["end"] <= MAX_SECONDS
        assert all(a["end"] == b["start"] for a, b in zip(program, program[1:]))
        assert program[-1]["action"] != IDLE or len(program) == 1  # a pause only separates actions
        if camera["framing"] != "full":
            assert {s["action"] for s in program} <= set(UPPER_BODY), program
        assert 0.5 <= camera["height_m"] <= 8.0 and -180 <= camera["yaw_deg"] <= 180
        assert min(camera["height"], camera["width"]) >= 144


def test_v2_captions_say_only_what_is_visible():
    seen = set()
    for program, camera, text, qa in _v2_scenes(400):
        caption, framing = text["caption"], camera["framing"]
        seen.add(framing)
        story = caption.split(". ", 1)[1]
        if not non_idle(program):
            assert "still" in story and len(re.findall(r"\.", story)) == 1, caption
        elif len(program) == 1:  # one action: one sentence, no order words
            assert len(re.findall(r"\.", story)) == 1, caption
            assert not re.search(r"First|Then|Finally|After that", story), caption
        if framing != "full":
            assert FRAMINGS[framing][0] in caption
            answers = [q["question"] + " " + q["answer"] for q in qa if q["dimension"] != "Character Attributes"]
            words = " ".join([caption.replace(FRAMINGS[framing][0], ""), text["captions"]["summary"], *answers])
            if framing == "head_shoulders":  # the hands are below the frame when they gesture
                assert "gestur" not in caption and "hands" not in caption.replace("claps both hands", ""), caption
            if framing == "knees_up":  # the trousers show down to the knees
                words = words.replace("trousers", "")
            assert not LEG_WORDS.search(words.lower()), (LEG_WORDS.search(words.lower()), caption)
            assert not any("trousers" in q["question"] for q in qa) or framing == "knees_up"
    assert seen == set(FRAMINGS)


def test_qa_types_and_dimensions():
    rng = np.random.default_rng(0)
    program = sample_program(rng)
    qa = qa_pairs(program, BODY, CAMERA, rng)
    assert {q["dimension"] for q in qa} == DIMENSIONS
    assert {q["type"] for q in qa} == {"open", "true_false"}
    assert all(q["answer"] in ("True", "False") for q in qa if q["type"] == "true_false")
    for _, _, _, qa in _v2_scenes(50):
        assert {q["dimension"] for q in qa} == DIMENSIONS
        assert all(q["answer"] in ("True", "False") for q in qa if q["type"] == "true_false")


def test_held_out_compositions_only_in_test():
    assert 0 < len(HELD_OUT_PAIRS) < 30
    splits = {}
    for seed in range(1000):
        program = sample_program(np.random.default_rng(seed))
        split = assign_split(program, f"clip{seed}")
        splits[split] = splits.get(split, 0) + 1
        pairs = set(zip([s["action"] for s in program], [s["action"] for s in program][1:]))
        assert (split == "test") == bool(pairs & HELD_OUT_PAIRS)
    assert set(splits) == {"train", "validation", "test"}
    assert splits["train"] > splits["test"] > 50


def test_v2_split_holds_out_orders_and_a_camera_regime():
    """Test gets every held-out order and every camera from behind and high; train sees cameras from
    behind and high cameras, never both at once."""
    splits, train_cameras = {}, []
    for index, (program, camera, _, _) in enumerate(_v2_scenes(1000, seed=3)):
        split = assign_split(program, f"clip{index}", camera)
        splits[split] = splits.get(split, 0) + 1
        actions = [s["action"] for s in non_idle(program)]
        held_out = bool(set(zip(actions, actions[1:])) & HELD_OUT_PAIRS) or held_out_camera(camera)
        assert (split == "test") == held_out
        if split == "train":
            train_cameras.append(camera)
    behind = [abs(c["yaw_deg"]) > 135 for c in train_cameras]
    high = [c["height_m"] >= 3 for c in train_cameras]
    assert sum(behind) > 50 and sum(high) > 50 and not any(b and h for b, h in zip(behind, high))
    assert splits["train"] > splits["test"] > 80 and splits["validation"] > 50


def test_v2_walks_and_runs_go_where_the_caption_says():
    """The direction a caption names ("toward the camera", "across the scene from left to right", ...)
    is the direction the body travels relative to the camera, checked on the second half of each walk
    or run (the first step may turn into the heading)."""
    checked = set()
    for index in range(600):
        program, _, camera, fps, idle = sample_scene_v2(np.random.default_rng([0, index, 0]), 256)
        if not any(step["action"] in ("walk", "run") for step in program):
            continue
        _, _, offset = animate(program, fps, idle)
        yaw = np.radians(camera["yaw_deg"])
        to_camera, image_right = np.array([np.sin(yaw), np.cos(yaw)]), np.array([np.cos(yaw), -np.sin(yaw)])
        for step in program:
            if step["action"] not in ("walk", "run"):
                continue
            middle, last = (int(round(t * fps)) for t in ((step["start"] + step["end"]) / 2, step["end"]))
            move = offset[last - 1, [0, 2]] - offset[middle, [0, 2]]
            angle = np.degrees(np.arctan2(move @ image_right, move @ to_camera))
            low, high = TRAVEL_DIRECTIONS[step["direction"]]
            assert abs((angle - (low + high) / 2 + 180) % 360 - 180) <= (high - low) / 2 + 10, (step, angle)
            checked.add(step["direction"])
    assert checked == set(TRAVEL_DIRECTIONS)
