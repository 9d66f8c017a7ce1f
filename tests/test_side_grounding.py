"""Limb sides named from the motion heads at generation (modeling_macm/side_grounding.py, train/motion_heads.py)."""

import json

import numpy as np
import pytest
import torch
from train_helpers import program_rows, write_hmi_dataset

from dataset_scripts.build import write_parquet
from dataset_scripts.card import write_card
from dataset_scripts.schema import row_to_track
from modeling_macm import MACMConfig, MACMForConditionalGeneration
from modeling_macm.side_grounding import MotionSideLogitsProcessor, read_motion_heads
from train.augment import mirror_track
from train.motion_heads import action_words, attach_motion_heads, side_grounding_table
from train.motion_heads import main as motion_heads_main
from train.motion_pretrain import pretrain_motion_encoder

LEFT, RIGHT, RAISE, CLAP = 1, 2, 5, 6
GROUNDING = {"left": LEFT, "right": RIGHT, "words": {"raise_arm": [[RAISE]], "clap": [[CLAP]]}, "sided": ["raise_arm"]}


def _processor(prompt_length: int) -> MotionSideLogitsProcessor:
    """One clip of 4 windows: a raised arm in windows 0 and 3 (left, then right), a clap in windows 1-2."""
    log_odds = torch.tensor([[3.0, 0.0, 0.0, -2.0]])  # [C, Q]
    actions = torch.tensor([[[0.9, 0.1], [0.2, 0.8], [0.1, 0.9], [0.7, 0.3]]])  # [C, Q, A]
    return MotionSideLogitsProcessor(log_odds, actions, [0], GROUNDING, ["raise_arm", "clap"], prompt_length)


def _scores() -> torch.Tensor:
    scores = torch.zeros(1, 8)
    scores[0, RIGHT] = 5.0  # the language model's habit: "right"
    return scores


def test_the_kth_mention_reads_the_kth_run_of_its_action():
    processor = _processor(prompt_length=2)
    pair = _scores()[0, [LEFT, RIGHT]].logsumexp(0)
    first = processor(torch.tensor([[0, 0, RAISE, 3]]), _scores())  # "... raises the"
    assert first[0, LEFT] - first[0, RIGHT] == pytest.approx(3.0)  # window 0 only
    assert first[0, [LEFT, RIGHT]].logsumexp(0) == pytest.approx(pair)  # the pair keeps its probability
    assert first[0, 0] == 0 and first[0, 7] == 0  # other words untouched
    second = processor(torch.tensor([[0, 0, RAISE, 3, 4, 3, RAISE, 3]]), _scores())  # the second mention
    assert second[0, LEFT] - second[0, RIGHT] == pytest.approx(-2.0)  # window 3 only
    clap = processor(torch.tensor([[0, 0, RAISE, 3, 4, 3, RAISE, 3, CLAP]]), _scores())
    assert torch.equal(clap, _scores())  # the step being described has no side


def test_a_question_about_an_action_grounds_its_answer():
    processor = _processor(prompt_length=3)
    answer = processor(torch.tensor([[4, RAISE, 3]]), _scores())  # "Which arm ... raise arm?" then the answer
    assert answer[0, LEFT] > answer[0, RIGHT]
    assert torch.equal(_processor(3)(torch.tensor([[4, 4, 3]]), _scores()), _scores())  # no action named


def test_every_spelling_of_the_pair_is_split():
    """ "left"/"right" opening an answer are other tokens than " left"/" right" in SmolLM2's vocabulary: both pairs."""
    bare_left, bare_right = 3, 7
    grounding = dict(GROUNDING, pairs=[[LEFT, RIGHT], [bare_left, bare_right]])
    processor = MotionSideLogitsProcessor(
        torch.tensor([[3.0]]), torch.tensor([[[1.0, 0.0]]]), [0], grounding, ["raise_arm", "clap"], 2
    )
    scores = _scores()
    scores[0, bare_right] = 4.0
    grounded = processor(torch.tensor([[4, RAISE]]), scores.clone())
    for left, right in grounding["pairs"]:
        assert grounded[0, left] - grounded[0, right] == pytest.approx(3.0)
        assert grounded[0, [left, right]].logsumexp(0) == pytest.approx(scores[0, [left, right]].logsumexp(0))


def test_action_words_cover_captions_and_questions(tokenizer):
    assert {"raises", "lifts", "raise arm"} <= set(action_words("raise_arm"))
    assert {"kicks", "kick"} <= set(action_words("kick"))
    table = side_grounding_table(tokenizer)
    assert [table["left"]] == tokenizer(" left", add_special_tokens=False)["input_ids"]
    assert table["words"]["wave"] and "clap" not in table["sided"] and "kick" in table["sided"]


def _prompt_ending_with(processor, track, words: str) -> dict:
    text = processor.default_prompt(with_motion=True) + words
    return processor(text=[text], videos=[np.zeros((2, 16, 16, 3), np.uint8)], motion=[track])


def test_heads_learn_the_side_and_generate_splits_the_pair_by_it(kinematic_model, tmp_path):
    model, processor = kinematic_model
    attach_motion_heads(model, processor.tokenizer)
    torch.manual_seed(0)
    rows = program_rows(16), program_rows(6)
    log = pretrain_motion_encoder(model, processor, *rows, steps=150, batch_size=8, side_labels="left_right")
    assert log["eval"]["side_lr_accuracy"] == 1.0 and log["eval"]["action_accuracy"] == 1.0
    encoder = {name: p.clone() for name, p in model.model.motion_encoder.named_parameters()}
    heads = {name: p.clone() for name, p in model.model.motion_heads.named_parameters()}
    pretrain_motion_encoder(model, processor, *rows, steps=5, batch_size=8, train_encoder=False)  # heads only
    assert all(torch.equal(p, encoder[name]) for name, p in model.model.motion_encoder.named_parameters())
    assert all(not torch.equal(p, heads[name]) for name, p in model.model.motion_heads.named_parameters())

    model.save_pretrained(tmp_path / "m")
    model = MACMForConditionalGeneration.from_pretrained(tmp_path / "m").eval()
    assert model.config.side_grounding["sided"] and model.model.motion_heads is not None

    track = row_to_track(program_rows(1)[0]["motion"])  # the left wrist waves
    left, right = model.config.side_grounding["left"], model.config.side_grounding["right"]
    margins = {}
    for name, seen in (("as is", track), ("mirrored", mirror_track(track))):
        inputs = _prompt_ending_with(processor, seen, " The person waves with the")
        grounded, plain = (
            model.generate(**inputs, max_new_tokens=1, do_sample=False, output_scores=True,
                           return_dict_in_generate=True, ground_sides=ground).scores[0][0]
            for ground in (None, False)
        )  # fmt: skip
        margins[name] = float(grounded[left] - grounded[right])
        assert grounded[[left, right]].logsumexp(0) == pytest.approx(
            float(plain[[left, right]].logsumexp(0)), abs=1e-4
        )
    assert margins["as is"] > 0 > margins["mirrored"], margins


def test_heads_read_with_the_mirror_give_a_mirrored_clip_the_other_side(kinematic_model):
    """Untrained heads favour a side; averaged with the clip's mirror image they name opposite sides for a clip and
    its mirror image, and the same action."""
    model, processor = kinematic_model
    attach_motion_heads(model, processor.tokenizer)
    rng = np.random.default_rng(0)
    size = processor.motion_feature_size
    processor.motion_feature_mean = rng.normal(0, 0.5, size).tolist()
    processor.motion_feature_std = rng.uniform(0.5, 2.0, size).tolist()
    track = row_to_track(program_rows(1)[0]["motion"])
    (features, valid), (mirrored, _) = (processor.motion_input(t) for t in (track, mirror_track(track)))
    mirror = processor.motion_feature_mirror()
    index, scale, shift = (torch.tensor(mirror[k]) for k in ("index", "scale", "shift"))
    torch.testing.assert_close(scale * features[:, index] + shift, mirrored, atol=1e-4, rtol=1e-4)

    def heads(with_mirror: bool) -> list[dict]:
        model.config.motion_feature_mirror = mirror if with_mirror else None
        return [read_motion_heads(model, f[None], valid[None])[0] for f in (features, mirrored)]

    sides = model.config.motion_head_labels["side"]
    left, right = sides.index("left"), sides.index("right")
    plain, averaged = heads(False), heads(True)
    log_odds = [[o["side"][..., left] - o["side"][..., right] for o in pair] for pair in (plain, averaged)]
    assert not torch.allclose(log_odds[0][0], -log_odds[0][1], atol=1e-3)  # the heads' habit
    torch.testing.assert_close(log_odds[1][0], -log_odds[1][1], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(averaged[0]["action"], averaged[1]["action"], atol=1e-4, rtol=1e-4)
    with pytest.raises(ValueError, match="motion_feature_mirror"):
        MACMConfig(**(model.config.to_dict() | {"motion_feature_mirror": {"index": [0], "scale": [1], "shift": [0]}}))


def test_grounding_that_cannot_apply_is_refused(kinematic_model):
    model, processor = kinematic_model
    inputs = _prompt_ending_with(processor, row_to_track(program_rows(1)[0]["motion"]), " waves")
    with pytest.raises(ValueError, match="motion heads"):
        model.generate(**inputs, max_new_tokens=1, ground_sides=True)
    attach_motion_heads(model, processor.tokenizer)
    with pytest.raises(ValueError, match="Motion Synergetic"):
        model.generate(**inputs, max_new_tokens=1, ground_sides=True, motion_synergetic=True)


def test_motion_heads_command_writes_a_model_with_heads(kinematic_model, tmp_path):
    model, processor = kinematic_model
    model.save_pretrained(tmp_path / "base")
    processor.save_pretrained(tmp_path / "base")
    dataset = write_hmi_dataset(tmp_path / "hmi", num_train=4, num_test=2)
    rows = [dict(row, video="videos/clip00.mp4") for row in program_rows(6)]
    for split, part in (("train", rows[:4]), ("test", rows[4:])):
        write_parquet(dataset / "data" / f"{split}-00000-of-00001.parquet", part)
    write_card(dataset, "tests")
    args = ["--model", str(tmp_path / "base"), "--dataset", str(dataset), "--eval-split", "test", "--steps", "3"]
    assert motion_heads_main([*args, "--output", str(tmp_path / "out")]) == 0
    trained = MACMForConditionalGeneration.from_pretrained(tmp_path / "out")
    assert trained.model.motion_heads is not None and trained.config.side_grounding["sided"]
    assert len(trained.config.motion_feature_mirror["index"]) == trained.config.motion_feature_size
    assert json.loads((tmp_path / "out" / "motion_heads.json").read_text())["train_encoder"] is False
    args[1] = str(tmp_path / "out")  # a saved model with heads fits them again
    assert motion_heads_main([*args, "--output", str(tmp_path / "again")]) == 0
    with pytest.raises(SystemExit):  # the output exists: refused, nothing overwritten
        motion_heads_main([*args, "--output", str(tmp_path / "out")])
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []  # no staging left behind
