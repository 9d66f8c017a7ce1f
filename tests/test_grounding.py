"""Grounded decoding (macm_cli/grounding.py, then macm_cli/story.py): the rule that picks a caption, and the
captioner's use of it on the embedded model with a track of a waving arm."""

import numpy as np
import pytest
import torch
from train_helpers import program_rows
from utils import moving_square_frames

from dataset_scripts.schema import row_to_track
from macm_cli import MACMCaptioner
from macm_cli.answers import read_heads
from macm_cli.grounding import Candidates, caption_candidates, support
from macm_cli.story import retell
from processing_macm import DEFAULT_PROMPT

LABELS = ["walk", "kick", "run"]
KICK = "The person kicks forward with the left leg three times at a steady pace."
WALK = "The person walks toward the camera, four steps at a steady pace."
RUN_THEN_WALK = "The person runs toward the camera, six steps, and then walks toward the camera, four steps."
NONE = "The video is dark."


def candidates(texts, evidence) -> Candidates:
    """Candidates with made-up log-probabilities, the greedy one's the highest."""
    log_probs = [-0.2 - 0.1 * k for k in range(len(texts))]
    return Candidates([torch.tensor([k]) for k in range(len(texts))], texts, log_probs, evidence)


def test_a_greedy_caption_the_heads_do_not_see_is_replaced_by_the_best_supported():
    walking = np.array([0.9, 0.09, 0.01])
    assert support(RUN_THEN_WALK, walking, LABELS) == pytest.approx(0.01)  # its least supported action
    assert support(NONE, walking, LABELS) is None
    assert candidates([KICK, WALK, RUN_THEN_WALK], walking).choice(LABELS) == 0  # a kick at 9% stays
    assert candidates([KICK, WALK, RUN_THEN_WALK], walking).choice(LABELS, threshold=0.1) == 1
    assert candidates([RUN_THEN_WALK, NONE, KICK, WALK], walking).choice(LABELS) == 3  # a run at 1% goes
    # Equal support: the higher log-probability, the first of equals; nothing named and no motion: greedy stays.
    assert candidates([RUN_THEN_WALK, KICK, KICK], np.array([0.5, 0.3, 0.01])).choice(LABELS) == 1
    assert candidates([NONE, WALK], walking).choice(LABELS) == 0
    assert candidates([RUN_THEN_WALK, WALK], None).choice(LABELS) == 0


@pytest.fixture(scope="module")
def waving():
    """The embedded captioner, and 8 frames with the track of a left arm waving (6 s)."""
    captioner = MACMCaptioner.from_pretrained("macm")
    track = row_to_track(program_rows(1)[0]["motion"])
    return captioner, moving_square_frames(8, size=96), track


def test_grounded_caption_is_the_chosen_candidate_every_time(waving):
    captioner, frames, track = waving
    state = torch.get_rng_state()
    # The decoding's own caption: the clothes' colours, read from the frames afterwards, are appearance.py's (tested there).
    captions = (
        captioner.caption([frames], tracks=[track], decoding="grounded", ground_colours=False) for _ in range(2)
    )
    first, again = (result[0].caption for result in captions)
    assert first == again
    assert torch.equal(torch.get_rng_state(), state)  # the sampling's seed is its own

    model, processor = captioner.model, captioner.processor
    prompt = processor.default_prompt(DEFAULT_PROMPT, with_motion=True)
    inputs = processor(text=[prompt], videos=[frames], motion=[track])
    (greedy,) = caption_candidates(model, processor.tokenizer, inputs, threshold=0.0, max_new_tokens=96)
    assert len(greedy.texts) == 1  # nothing vetoed: nothing sampled
    (found,) = caption_candidates(model, processor.tokenizer, inputs, threshold=1.0, max_new_tokens=96)
    assert len(found.texts) == 9 and found.evidence.shape == (len(model.config.motion_head_labels["action"]),)
    assert found.evidence.sum() == pytest.approx(1.0, abs=1e-4)
    chosen = found.texts[found.choice(model.config.motion_head_labels["action"])].strip()
    assert first == retell(chosen, read_heads(model, processor, track))  # its story as the heads read it
    assert found.texts[0] == greedy.texts[0]
    greedy_caption = captioner.caption([frames], tracks=[track], decoding="greedy", ground_colours=False)[0].caption
    assert found.texts[0].strip() == greedy_caption


def test_without_motion_grounded_decoding_is_greedy(waving):
    captioner, frames, _ = waving
    grounded = captioner.caption([frames], use_motion=False, decoding="grounded")[0]
    assert grounded.caption == captioner.caption([frames], use_motion=False, decoding="greedy")[0].caption
