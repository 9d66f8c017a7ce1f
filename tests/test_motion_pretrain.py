"""Stage 0: the motion encoder learns the program's labels on its windows (train/motion_pretrain.py)."""

import json

import numpy as np
import pytest
import torch
from train_helpers import REPO, WAVE, program_rows, train, write_hmi_dataset, write_program_dataset
from transformers import AutoProcessor

from dataset_scripts.loading import programmed_clips
from dataset_scripts.synth.programs import ACTIONS
from modeling_macm import MACMForConditionalGeneration
from train.motion_pretrain import IGNORE, SIDES, frame_labels, pretrain_motion_encoder

SQUAT = {"action": "squat", "side": None, "count": 1, "speed": "slow", "direction": None, "start": 1.0, "end": 2.0}
STEP = {"action": "step_sideways", "side": None, "count": 2, "speed": None, "direction": "right", "start": 0, "end": 1}


def test_frame_labels_follow_the_program_and_the_mirror():
    labels = frame_labels([WAVE, SQUAT], num_frames=25, rate=10.0, mirrored=False)  # 2.5 s
    assert labels[:10, 0].tolist() == [ACTIONS.index("wave")] * 10
    assert labels[10:20, 0].tolist() == [ACTIONS.index("squat")] * 10
    assert (labels[20:] == IGNORE).all()  # past the program's end
    assert labels[0].tolist()[1:] == [SIDES.index("left"), 3, 3]  # side, count, speed ("fast")
    assert labels[10].tolist()[1:] == [SIDES.index("none"), 1, 1]
    mirrored = frame_labels([WAVE], num_frames=10, rate=10.0, mirrored=True)
    assert (mirrored[:, 1] == SIDES.index("right")).all()
    assert (frame_labels([STEP], 10, 10.0, mirrored=True)[:, 1] == SIDES.index("left")).all()  # direction flips too


def test_left_right_side_labels_leave_other_frames_to_the_other_heads():
    everything = frame_labels([WAVE, SQUAT], num_frames=25, rate=10.0, mirrored=False)
    sided = frame_labels([WAVE, SQUAT], num_frames=25, rate=10.0, mirrored=False, side_labels="left_right")
    assert (sided[:10, 1] == SIDES.index("left")).all()
    assert (sided[10:, 1] == IGNORE).all()  # the squat has no side: not taught as "none"
    assert np.array_equal(np.delete(sided, 1, axis=1), np.delete(everything, 1, axis=1))
    with pytest.raises(ValueError, match="left_right"):
        frame_labels([WAVE], 10, 10.0, mirrored=False, side_labels="sided")


@pytest.mark.parametrize("perturb, side_labels", [(False, "all"), (True, "all"), (False, "left_right")])
def test_pretraining_learns_what_the_windows_show(kinematic_model, perturb, side_labels):
    model, processor = kinematic_model
    torch.manual_seed(0)
    before = {name: p.clone() for name, p in model.model.motion_encoder.named_parameters()}
    language_model = {name: p.clone() for name, p in model.model.language_model.named_parameters()}
    log = pretrain_motion_encoder(
        model, processor, program_rows(16), program_rows(6), steps=150, batch_size=8, mirror=True, perturb=perturb,
        side_labels=side_labels,
    )  # fmt: skip
    assert log["train_examples"] == 32  # 16 tracks and their mirror images
    assert log["eval"]["examples"] == 6
    # A fast swing is a wave (count 3, fast), a slow one a raised arm (count 1, slow): every window says which.
    assert log["eval"]["action_accuracy"] == 1.0 and log["eval"]["speed_accuracy"] == 1.0
    assert log["eval"]["side_accuracy"] == log["eval"]["side_lr_accuracy"] == 1.0  # left, as not mirrored
    changed = [not torch.equal(p, before[name]) for name, p in model.model.motion_encoder.named_parameters()]
    assert all(changed)
    assert all(torch.equal(p, language_model[n]) for n, p in model.model.language_model.named_parameters())


def test_rows_without_a_program_are_refused(kinematic_model):
    model, processor = kinematic_model
    rows = [dict(row, ground_truth=None) for row in program_rows(2)]
    with pytest.raises(ValueError, match="motion_pretrain_steps: 0"):
        pretrain_motion_encoder(model, processor, rows, steps=1)


def test_train_pretrains_then_keeps_the_encoder_frozen(tmp_path):
    dataset, _ = write_program_dataset(tmp_path / "hmi")
    config = REPO / "train" / "configs" / "tiny_cpu.yaml"
    models = {}
    for steps in (1, 3):
        out = tmp_path / f"run{steps}"
        args = ["--motion_pretrain_steps", "20", "--freeze_motion_encoder", "true", "--stage", "full",
                "--motion_side_labels", "left_right", "--motion_heads", "true"]  # fmt: skip
        assert train(config, dataset, out, *args, "--max_steps", str(steps)) == 0
        models[steps] = MACMForConditionalGeneration.from_pretrained(out)
    log = json.loads((out / "motion_pretrain.json").read_text())
    assert log["steps"] == 20 and log["train_examples"] == 4 and "action_accuracy" in log["eval"]
    assert log["side_labels"] == "left_right"
    assert np.isfinite(log["final_loss"])
    assert models[1].config.side_grounding["sided"] and models[1].model.motion_heads is not None  # kept
    processor = AutoProcessor.from_pretrained(out)
    assert models[1].config.motion_feature_mirror == processor.motion_feature_mirror()  # of the saved normalisation
    # The same pretraining (same seed) in both runs; captioning then moved the language model only.
    encoders = [dict(models[s].model.motion_encoder.named_parameters()) for s in (1, 3)]
    heads = [dict(models[s].model.motion_heads.named_parameters()) for s in (1, 3)]
    assert all(torch.equal(p, heads[1][name]) for name, p in heads[0].items())
    assert all(torch.equal(p, encoders[1][name]) for name, p in encoders[0].items())
    lm = [dict(models[s].model.language_model.named_parameters()) for s in (1, 3)]
    assert any(not torch.equal(p, lm[1][name]) for name, p in lm[0].items())


def test_programmed_clips_are_the_rows_with_a_program_and_a_person(tmp_path):
    dataset, rows = write_program_dataset(tmp_path / "hmi")
    clips = programmed_clips(dataset, "train")
    assert [program for _, _, program in clips] == [json.loads(row["ground_truth"]["program"]) for row in rows[:4]]
    assert all(video == str(dataset / "videos" / "clip00.mp4") and track.has_person for video, track, _ in clips)
    assert len(programmed_clips(dataset, "train", limit=2)) == 2
    assert programmed_clips(write_hmi_dataset(tmp_path / "plain"), "train") == []  # captions without programs
