"""HMI-Synth programs, captions, QA and splits: fast, no rendering."""

import numpy as np
import pytest

from dataset_scripts.synth.grammar import VOCABULARY, captions, parse_caption, qa_pairs
from dataset_scripts.synth.programs import MAX_SECONDS, animate, sample_program
from dataset_scripts.synth.splits import HELD_OUT_PAIRS, assign_split

BODY = {"shirt": "red", "trousers": "navy"}
CAMERA = {"floor": "wood"}
DIMENSIONS = {"Details of Movements", "Character Attributes", "Motivation and Reason",
              "Micro-expressions and Emotions", "Interaction with the Environment"}


@pytest.mark.parametrize("seed", range(300))
def test_parse_caption_recovers_program(seed):
    rng = np.random.default_rng(seed)
    program = sample_program(rng)
    text = captions(program, BODY, CAMERA, rng)["caption"]
    expected = [{k: step[k] for k in ("action", "side", "limb", "count", "speed")} for step in program]
    for row in expected:
        row["side"] = row["side"] if row["side"] else None
    assert parse_caption(text) == expected, text


def test_parse_caption_reads_variants_and_nothing():
    assert parse_caption("A man waves his right hand 3 times quickly, then jumps twice.") == [
        {"action": "wave", "side": "right", "limb": "arm", "count": 3, "speed": "fast"},
        {"action": "jump", "side": None, "limb": "body", "count": 2, "speed": None},
    ]
    assert parse_caption("A person stands still.") == []


def test_programs_are_well_formed():
    for seed in range(200):
        program = sample_program(np.random.default_rng(seed))
        assert 2 <= len(program) <= 4
        assert 2.0 <= program[-1]["end"] <= MAX_SECONDS
        assert all(a["action"] != b["action"] for a, b in zip(program, program[1:]))
        assert all(step["action"] in VOCABULARY for step in program)
        assert all(a["end"] == b["start"] for a, b in zip(program, program[1:]))
        angles, yaw, offset = animate(program, fps=12)
        assert offset.shape == (len(yaw), 3) and all(len(v) == len(yaw) for v in angles.values())


def test_all_actions_sampled():
    seen = {step["action"] for seed in range(300) for step in sample_program(np.random.default_rng(seed))}
    assert seen == set(VOCABULARY)


def test_qa_types_and_dimensions():
    rng = np.random.default_rng(0)
    program = sample_program(rng)
    qa = qa_pairs(program, BODY, CAMERA, rng)
    assert {q["dimension"] for q in qa} == DIMENSIONS
    assert {q["type"] for q in qa} == {"open", "true_false"}
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
