"""Motion-detail accuracy of captions against HMI-Synth programs."""

import numpy as np
import pytest

from train.motion_accuracy import match_steps, motion_accuracy, step_tallies


def step(action, side=None, count=None, speed="normal"):
    return {"action": action, "side": side, "count": count, "speed": speed}


PROGRAM = [step("raise_arm", "left", 2, "slow"), step("jump", None, 3), step("wave", "right", 4, "fast")]


def test_exact_reproduction_scores_everything():
    tallies = step_tallies([dict(s) for s in PROGRAM], PROGRAM)
    assert tallies == {
        "action_recall": [3, 3], "action_precision": [3, 3], "side": [2, 2], "count": [3, 3],
        "speed": [3, 3], "order": [2, 2], "exact": [1, 1],
    }  # fmt: skip


def test_wrong_side_count_order_and_extra_action():
    predicted = [step("wave", "left", 4, "slow"), step("raise_arm", "left", 1, "slow"), step("squat", None, 1)]
    tallies = step_tallies(predicted, PROGRAM)
    assert tallies["action_recall"] == [2, 3]  # jump missing
    assert tallies["action_precision"] == [2, 3]  # squat invented
    assert tallies["side"] == [1, 2]  # wave on the wrong side
    assert tallies["count"] == [1, 2]  # raise_arm once instead of twice
    assert tallies["speed"] == [1, 2]  # wave slow instead of fast
    assert tallies["order"] == [0, 1]  # raise_arm then wave in the program, the other way round here
    assert tallies["exact"] == [0, 1]


def test_repeated_actions_pair_in_order_and_empty_caption():
    program = [step("jump", count=1), step("wave", "left", 2), step("jump", count=3)]
    assert match_steps([step("jump", count=3), step("jump", count=1)], program) == [(0, 0), (2, 1)]
    assert step_tallies([], program)["action_recall"] == [0, 3]
    assert step_tallies([], program)["order"] == [0, 0]


def test_corpus_accuracy_from_synth_captions():
    """Round trip through the synthetic grammar: its own captions are exact; edited ones lose exactly
    the facts that were changed."""
    from dataset_scripts.synth.grammar import captions
    from dataset_scripts.synth.programs import sample_program

    rng = np.random.default_rng(3)
    programs = [sample_program(rng) for _ in range(8)]
    texts = [captions(p, {"shirt": "red", "trousers": "blue"}, {"floor": "wooden"}, rng)["caption"] for p in programs]
    perfect = motion_accuracy(list(zip(texts, programs)))
    assert perfect["exact"] == 1.0 and perfect["action_recall"] == 1.0 and perfect["num_items"] == 8

    program = [step("raise_arm", "left", 2, "slow"), step("kick", "right", 1, "slow")]
    wrong = "First, the person raises the right arm twice slowly. Finally, the person kicks the right leg three times quickly."
    result = motion_accuracy([(wrong, program)])
    assert result["action_recall"] == 1.0 and result["order"] == 1.0
    assert result["side"] == 0.5 and result["count"] == 0.5 and result["speed"] == 0.5 and result["exact"] == 0.0
    assert result["checked"]["side"] == 2


def test_unchecked_aspect_is_none_not_a_score():
    result = motion_accuracy([("The person jumps.", [step("jump", speed=None)])])
    assert result["side"] is None and result["count"] is None and result["speed"] is None
    assert result["action_recall"] == 1.0


@pytest.mark.parametrize("caption", ["", "The person smiles at the camera."])
def test_caption_without_actions(caption):
    result = motion_accuracy([(caption, PROGRAM)])
    assert result["action_recall"] == 0.0 and result["action_precision"] is None and result["exact"] == 0.0


def test_standing_still_is_an_action_of_its_own():
    """HMI-Synth v2 programs have idle steps: "stands still" is right for them and wrong elsewhere."""
    assert (
        motion_accuracy([("The person stands still.", [step("stand_still", side=None, count=None, speed=None)])])[
            "action_recall"
        ]
        == 1.0
    )
    assert motion_accuracy([("The person stands still.", PROGRAM)])["action_precision"] == 0.0
