"""Counts of squats and bends from the pose track at generation, and the repetitions it can count (macm_cli/counts.py)."""

import dataclasses

import numpy as np
import pytest
import torch
from utils import repeating_track

from macm_cli.counts import (
    COUNT_WORDS,
    MotionCountLogitsProcessor,
    count_processor,
    count_repetitions,
    repetition_peaks,
    repetition_speed,
    window_frames,
)
from processing_macm import MACMProcessor


def test_repetitions_are_the_peaks_of_the_moving_joints_height():
    track = repeating_track()
    assert count_repetitions(track, "raise_arm", "left", 0, 60) == 2
    assert count_repetitions(track, "raise_arm", "right", 0, 60) == 1  # the right arm does not move: at least one
    assert count_repetitions(track, "squat", None, 0, 30) == 3
    assert count_repetitions(track, "jump", None, 30, 60) == 4
    assert count_repetitions(track, "kick", "left", 0, 30) == 3  # a kick reads the kicking ankle (here: the squats')
    assert count_repetitions(track, "lunge", "left", 0, 30) == 3  # a lunge, the pelvis sinking (here: the squats')
    track.valid[40:45] = False  # frames without the person are left out of the signal
    assert count_repetitions(track, "jump", None, 30, 60) == 3
    with pytest.raises(ValueError, match="'wave' is not counted from the track; countable: "):
        count_repetitions(track, "wave", "left", 0, 60)


def test_a_repetitions_speed_is_the_time_between_its_peaks():
    track = repeating_track()  # squats each second in the first 3 s (steady: 2 s), jumps each 0.75 s after (0.9 s)
    assert list(repetition_peaks(track, "squat", None, 0, 30)) == [5, 15, 25]
    assert repetition_speed(track, "squat", None, 0, 30) == "fast"
    assert repetition_speed(track, "jump", None, 30, 60) == "normal"  # 0.83 of the steady period
    assert repetition_speed(track, "squat", None, 0, 12) == "fast"  # a span too short for two squats, widened by
    # half a period each way (1 s), finds two
    slow = dataclasses.replace(track, fps=5.0)  # the same frames at half the rate: everything takes twice as long
    assert repetition_speed(slow, "squat", None, 0, 30) == "normal"
    assert repetition_speed(slow, "jump", None, 30, 60) == "slow"
    assert repetition_speed(track, "raise_arm", "right", 0, 60) is None  # the right arm does not move: no two peaks
    # Waves, claps and arm circles are timed, not counted: the left wrist's top every 3 s is a slow arm circle (1 s).
    assert list(repetition_peaks(track, "arm_circles", "left", 0, 60)) == [15, 45]
    assert repetition_speed(track, "arm_circles", "left", 0, 60) == "slow"
    with pytest.raises(ValueError, match="'arm_circles' is not counted from the track"):
        count_repetitions(track, "arm_circles", "left", 0, 60)
    assert repetition_speed(track, "walk", None, 0, 60) is None  # not timed from the track
    assert repetition_speed(track, "arm_circles", "both", 0, 60) == repetition_speed(track, "arm_circles", None, 0, 60)


def test_windows_map_to_the_track_frames_they_pool():
    assert window_frames(np.ones(20, bool), 4, rate=10.0, track_fps=20.0) == [(0, 10), (10, 20), (20, 30), (30, 40)]
    valid = np.zeros(10, bool)
    valid[[0, 1, 4, 5]] = True  # two windows of two valid frames each; the gap goes to neither
    assert window_frames(valid, 2, rate=10.0, track_fps=10.0) == [(0, 2), (4, 6)]
    sparse = window_frames(valid, 6, rate=10.0, track_fps=10.0)  # fewer valid frames than windows: some pool none
    assert sparse == [(0, 1), (1, 2), (0, 0), (4, 5), (5, 6), (0, 0)]


@pytest.fixture(scope="module")
def tokenizer():
    return MACMProcessor.from_pretrained("modeling_macm/default_model").tokenizer


def _ids(tokenizer, text: str) -> torch.Tensor:
    return torch.tensor([[0, *tokenizer(text, add_special_tokens=False)["input_ids"]]])  # one prompt token, then text


def test_the_count_word_of_a_counted_clause_is_the_tracks(tokenizer):
    count_ids = [tokenizer(f" {word}", add_special_tokens=False)["input_ids"][0] for word in COUNT_WORDS]
    steps = [{"track": repeating_track(), ("squat", 0): (0, 30), ("squat", 1): (30, 60)}]
    processor = MotionCountLogitsProcessor(count_ids, steps, tokenizer, prompt_length=1)
    scores = torch.zeros(1, len(tokenizer))
    scores[0, count_ids[1]] = 5.0  # the language model's habit: "twice"
    scores[0, count_ids[5]] = 1.0
    out = processor(_ids(tokenizer, "The person squats down"), scores.clone())
    assert int(out[0].argmax()) == count_ids[2]  # three, as the track counts
    assert out[0, count_ids].logsumexp(0) == pytest.approx(float(scores[0, count_ids].logsumexp(0)))
    others = torch.ones(len(tokenizer), dtype=torch.bool)
    others[count_ids] = False
    assert torch.equal(out[0, others], scores[0, others])
    text = "First, the person squats down three times. Then the person squats down"
    second = processor(_ids(tokenizer, text), scores.clone())
    assert int(second[0].argmax()) == count_ids[0]  # the second squat's span, frames 30-60: the ankles stay
    for text in (
        "The person squats down three times",  # its count is said
        "The person raises the left arm",  # raised arms stay the language model's
        "The person squats twice, then squats once, and then squats down",  # no third run of squat windows
    ):
        assert torch.equal(processor(_ids(tokenizer, text), scores.clone()), scores), text
    alone = MotionCountLogitsProcessor(count_ids, [None], tokenizer, prompt_length=1)
    assert torch.equal(alone(_ids(tokenizer, "The person squats down"), scores.clone()), scores)


def test_the_counted_steps_are_the_runs_of_the_heads_windows(kinematic_model):
    """The embedded model with its action head set to read every window as a squat: one run of squat windows, the
    whole track."""
    from modeling_macm import MACMForConditionalGeneration

    model = MACMForConditionalGeneration.from_pretrained("macm").eval()
    processor = MACMProcessor.from_pretrained("macm")
    action = model.model.motion_heads.heads["action"]
    with torch.no_grad():
        action.weight.zero_()
        action.bias.copy_(
            torch.nn.functional.one_hot(
                torch.tensor(model.config.motion_head_labels["action"].index("squat")), len(action.bias)
            )
            * 10.0
        )
    track = repeating_track()
    text = processor.default_prompt(with_motion=True)
    inputs = processor(text=[text, text], videos=[np.zeros((2, 32, 32, 3), np.uint8)] * 2, motion=[track, None])
    counts = count_processor(model, processor, [track, None], inputs)
    assert counts.steps[1] is None and counts.steps[0]["track"] is track
    assert {key: span for key, span in counts.steps[0].items() if key != "track"} == {("squat", 0): (0, 60)}
    tiny, tiny_processor = kinematic_model  # no motion heads, and count words its tokenizer splits
    short = repeating_track(seconds=3.0)
    tiny_inputs = tiny_processor(text=[text], videos=[np.zeros((2, 16, 16, 3), np.uint8)], motion=[short])
    assert count_processor(tiny, tiny_processor, [short], tiny_inputs) is None
