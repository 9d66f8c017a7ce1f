"""Kinematic features version 3 in training: a checkpoint moved to it (train/feature_upgrade.py: same outputs, then
trainable), and a model built on it from scratch."""

import json

import pytest
import torch
import yaml
from train_helpers import REPO, program_rows, train, write_program_dataset

from dataset_scripts.schema import row_to_track
from modeling_macm import MACMForConditionalGeneration
from processing_macm import MACMProcessor
from processing_macm.kinematic import compute_feature_stats, kinematic_features
from train.feature_upgrade import upgrade_kinematic_features


def encode(model, processor, track):
    features, valid = processor.motion_input(track)  # [T, F], [T]
    with torch.no_grad():
        return model.model.motion_encoder(features[None], valid[None])  # [1, Q, H]


def test_upgrade_keeps_the_outputs_and_normalises_the_new_columns(kinematic_model):
    model, processor = kinematic_model
    rows = program_rows(4)
    tracks = [row_to_track(row["motion"]) for row in rows]
    features = [kinematic_features(track, processor.motion_fps, version=2) for track in tracks]
    mean, std = compute_feature_stats([f for f, _ in features], [m for _, m in features])
    processor.motion_feature_mean, processor.motion_feature_std = mean.tolist(), std.tolist()
    model.eval()
    before = encode(model, processor, tracks[0])
    model.config.motion_feature_mirror = processor.motion_feature_mirror()

    upgrade_kinematic_features(model, processor, 3, rows)
    assert model.config.motion_feature_mirror == processor.motion_feature_mirror()  # of version 3
    assert model.config.kinematic_feature_version == processor.kinematic_feature_version == 3
    assert model.config.motion_feature_size == processor.motion_feature_size == 312
    assert len(processor.motion_feature_mean) == len(processor.motion_feature_std) == 312
    assert processor.motion_feature_mean[:224] == mean.tolist()
    torch.testing.assert_close(encode(model, processor, tracks[0]), before)
    new_inputs, valid = processor.motion_input(tracks[0])
    assert new_inputs[valid][:, 224:].std() > 0.1  # the image pose arrives normalised, not as zeros
    weight = model.model.motion_encoder.input_proj.weight  # [H, 312]
    assert weight.requires_grad and (weight[:, 224:] == 0).all()


def test_upgrade_refuses_what_it_cannot_keep(kinematic_model):
    model, processor = kinematic_model
    rows = program_rows(2)
    with pytest.raises(ValueError, match="no feature normalisation to extend"):
        upgrade_kinematic_features(model, processor, 3, rows)
    with pytest.raises(ValueError, match=r"from kinematic features version 2 to 1: only 2 -> 3"):
        upgrade_kinematic_features(model, processor, 1, rows)
    assert model.config.motion_feature_size == 224  # nothing changed


def test_train_upgrades_a_checkpoint_and_saves_version_3(tmp_path):
    dataset, rows = write_program_dataset(tmp_path / "hmi")
    config = REPO / "train" / "configs" / "tiny_cpu.yaml"
    assert train(config, dataset, tmp_path / "v2", "--max_steps", "1") == 0
    assert MACMForConditionalGeneration.from_pretrained(tmp_path / "v2").config.kinematic_feature_version == 2
    args = ["--model_name_or_path", str(tmp_path / "v2"), "--kinematic_feature_version", "3", "--max_steps", "1"]
    assert train(config, dataset, tmp_path / "v3", *args) == 0
    model = MACMForConditionalGeneration.from_pretrained(tmp_path / "v3")
    processor = MACMProcessor.from_pretrained(tmp_path / "v3")
    assert model.config.kinematic_feature_version == processor.kinematic_feature_version == 3
    assert model.model.motion_encoder.input_proj.in_features == len(processor.motion_feature_std) == 312
    features, _ = processor.motion_input(row_to_track(rows[0]["motion"]))
    assert features.shape[-1] == 312
    with pytest.raises(ValueError, match="a new model takes it in init_model_config"):
        train(config, dataset, tmp_path / "new", "--kinematic_feature_version", "3", "--max_steps", "1")


def test_a_new_model_built_on_version_3(tmp_path):
    dataset, rows = write_program_dataset(tmp_path / "hmi")
    config = REPO / "train" / "configs" / "tiny_cpu.yaml"
    init = yaml.safe_load(config.read_text())["init_model_config"] | {"kinematic_feature_version": 3}
    assert train(config, dataset, tmp_path / "v3", "--init_model_config", json.dumps(init), "--max_steps", "1") == 0
    model = MACMForConditionalGeneration.from_pretrained(tmp_path / "v3")
    processor = MACMProcessor.from_pretrained(tmp_path / "v3")
    assert model.config.kinematic_feature_version == processor.kinematic_feature_version == 3
    assert model.config.motion_feature_size == len(processor.motion_feature_mean) == 312  # stats of version 3
    features, valid = processor.motion_input(row_to_track(rows[0]["motion"]))
    assert features.shape[-1] == 312 and valid.any()
