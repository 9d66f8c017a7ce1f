"""A walk or a run named from the motion heads at generation (modeling_macm/gait_grounding.py)."""

import numpy as np
import pytest
import torch
from train_helpers import program_rows

from dataset_scripts.schema import row_to_track
from modeling_macm import MACMForConditionalGeneration
from modeling_macm.gait_grounding import MotionGaitLogitsProcessor
from modeling_macm.side_grounding import read_motion_heads
from processing_macm import MACMProcessor
from train.motion_heads import attach_motion_heads

WALKS, TAKES, RUNS, OTHER = 1, 2, 3, 4


def _processor(prompt_length: int = 2) -> MotionGaitLogitsProcessor:
    """One clip of 5 windows, actions (walk, run, clap): a walk in windows 0-1, a clap in 2, a run in 3-4."""
    actions = torch.tensor([[[0.8, 0.1, 0.1], [0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.2, 0.7, 0.1], [0.1, 0.9, 0.0]]])
    return MotionGaitLogitsProcessor(actions, [0], [WALKS, TAKES], [RUNS], (0, 1), prompt_length)


def _track():
    return row_to_track(program_rows(1)[0]["motion"])


def _scores() -> torch.Tensor:
    scores = torch.zeros(1, 6)
    scores[0, RUNS] = 4.0  # the language model's habit: "runs"
    scores[0, TAKES] = 1.0
    return scores


def test_the_kth_gait_word_reads_the_kth_run_of_moving_windows():
    processor, scores = _processor(), _scores()
    first = processor(torch.tensor([[0, 0, OTHER]]), scores.clone())
    walk, run = first[0, [WALKS, TAKES]].logsumexp(0), first[0, RUNS]
    assert walk - run == pytest.approx(np.log(1.5 / 0.3), abs=1e-5)  # windows 0-1: walk 1.5, run 0.3
    assert first[0, [WALKS, TAKES, RUNS]].logsumexp(0) == pytest.approx(
        float(scores[0, [WALKS, TAKES, RUNS]].logsumexp(0))
    )
    assert first[0, TAKES] - first[0, WALKS] == pytest.approx(1.0)  # the language model's preference within a group
    assert first[0, OTHER] == 0 and first[0, 0] == 0  # other words untouched
    second = processor(torch.tensor([[0, 0, WALKS, OTHER]]), scores.clone())  # one gait word said: windows 3-4
    assert second[0, [WALKS, TAKES]].logsumexp(0) - second[0, RUNS] == pytest.approx(np.log(0.3 / 1.6), abs=1e-5)
    third = processor(torch.tensor([[0, 0, WALKS, RUNS]]), scores.clone())  # no third run: every window
    assert third[0, [WALKS, TAKES]].logsumexp(0) - third[0, RUNS] == pytest.approx(np.log(1.9 / 2.0), abs=1e-5)
    prompt = _processor(prompt_length=3)(
        torch.tensor([[0, 0, RUNS]]), scores.clone()
    )  # the prompt's word: not counted
    torch.testing.assert_close(prompt, first)


def test_a_group_ruled_out_or_a_row_without_motion_is_left_alone():
    processor = MotionGaitLogitsProcessor(_processor().action_probs, [None], [WALKS, TAKES], [RUNS], (0, 1), 2)
    assert torch.equal(processor(torch.tensor([[0, 0, OTHER]]), _scores()), _scores())
    banned = _scores()
    banned[0, RUNS] = -float("inf")  # e.g. by bad_words_ids
    assert torch.equal(_processor()(torch.tensor([[0, 0, OTHER]]), banned.clone()), banned)


def test_generate_splits_the_gait_words_by_the_heads():
    """The embedded model: its tokenizer spells walks and runs in one token each."""
    model = MACMForConditionalGeneration.from_pretrained("macm").eval()
    processor = MACMProcessor.from_pretrained("macm")
    text = processor.default_prompt(with_motion=True) + " The person"
    inputs = processor(text=[text], videos=[np.zeros((2, 32, 32, 3), np.uint8)], motion=[_track()])
    grounded, plain = (
        model.generate(**inputs, max_new_tokens=1, do_sample=False, output_scores=True, return_dict_in_generate=True,
                       ground_sides=False, ground_gait=ground).scores[0][0]
        for ground in (None, False)
    )  # fmt: skip
    gait = MotionGaitLogitsProcessor.from_heads(
        model.config, inputs["input_ids"], read_motion_heads(model, inputs["motion_features"])
    )
    walk, run = gait.walk_ids, gait.run_ids
    assert {processor.tokenizer.decode(i) for i in walk + run} >= {" walks", " runs", " jogs"}
    log_odds = grounded[walk].logsumexp(0) - grounded[run].logsumexp(0)
    assert float(log_odds) == pytest.approx(float(gait.step_log_odds(0, 0)), abs=1e-4)
    assert float(log_odds) != pytest.approx(float(plain[walk].logsumexp(0) - plain[run].logsumexp(0)), abs=1e-2)
    both = walk + run
    assert float(grounded[both].logsumexp(0)) == pytest.approx(float(plain[both].logsumexp(0)), abs=1e-4)
    others = torch.ones_like(plain, dtype=torch.bool)
    others[both] = False
    torch.testing.assert_close(grounded[others], plain[others])
    with pytest.raises(ValueError, match="Motion Synergetic"):
        model.generate(**inputs, max_new_tokens=1, ground_gait=True, motion_synergetic=True)


def test_a_vocabulary_without_one_token_gait_words_is_not_grounded(kinematic_model):
    """The tiny test tokenizer spells "runs" in pieces: no gait grounding by default, and asking for it is refused."""
    model, processor = kinematic_model
    attach_motion_heads(model, processor.tokenizer)
    text = processor.default_prompt(with_motion=True) + " The person"
    inputs = processor(text=[text], videos=[np.zeros((2, 16, 16, 3), np.uint8)], motion=[_track()])
    assert (
        MotionGaitLogitsProcessor.from_heads(
            model.config, inputs["input_ids"], read_motion_heads(model, inputs["motion_features"])
        )
        is None
    )
    model.generate(**inputs, max_new_tokens=2)
    with pytest.raises(ValueError, match="one-token words"):
        model.generate(**inputs, max_new_tokens=1, ground_gait=True)
