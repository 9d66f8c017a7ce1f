"""The embedded default model: `from_pretrained("macm")` finds it, a local folder named "macm" wins,
and `macm caption` describes a clip with it, offline."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from macm_cli import MACMCaptioner
from modeling_macm import MACMForConditionalGeneration
from modeling_macm.modeling_macm import EMBEDDED_MODEL_DIR
from processing_macm import MACMProcessor


def test_bare_name_loads_the_embedded_model(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = MACMForConditionalGeneration.from_pretrained("macm")
    processor = MACMProcessor.from_pretrained("macm")
    expected = json.loads((EMBEDDED_MODEL_DIR / "config.json").read_text())
    assert model.config.text_config.hidden_size == expected["text_config"]["hidden_size"]
    assert len(processor.tokenizer) == model.config.text_config.vocab_size
    assert sum(p.numel() for p in model.parameters()) * 4 < 30 * 2**20, "the shipped weights must stay under 30 MB"


def test_local_folder_named_macm_wins(tmp_path, monkeypatch, tiny_checkpoint):
    shutil.copytree(tiny_checkpoint, tmp_path / "macm")
    monkeypatch.chdir(tmp_path)
    model = MACMForConditionalGeneration.from_pretrained("macm")
    assert model.config.text_config.hidden_size == 32  # the tiny test model, not the embedded one
    assert MACMProcessor.from_pretrained("macm").num_frames == 4


@pytest.mark.slow
def test_caption_command_on_a_real_walking_video(tmp_path, walking_clip):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "macm_cli", "caption", walking_clip, "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    output = json.loads(result.stdout.strip().splitlines()[-1])
    assert output["motion_used"] is True
    assert len(output["caption"].split()) >= 5
    assert {"pose", "decode_and_preprocess", "generate"} <= set(output["timings"])


@pytest.mark.slow
def test_no_motion_and_msd_modes(walking_clip):
    captioner = MACMCaptioner.from_pretrained("macm")
    plain = captioner(walking_clip, use_motion=False)
    assert plain.motion_used is False and plain.keyframes == [] and plain.caption
    msd = captioner(walking_clip, decoding="msd")
    assert msd.motion_used is True and msd.caption


@pytest.fixture(scope="module")
def synth_clips(tmp_path_factory) -> tuple[list[str], list[list[dict]]]:
    """12 fresh HMI-Synth v1 clips (a seed the model was not trained on) and their programs. v1: one person in
    full view, so that every clip has a track (on v2 clips a fifth of the people are too far or high for
    MediaPipe)."""
    from dataset_scripts.synth import generate_dataset

    out = generate_dataset(tmp_path_factory.mktemp("synth"), num_clips=12, seed=11, size=192, num_workers=1, version=1)
    rows = [json.loads(line) for line in (out / "metadata.jsonl").read_text().splitlines()]
    return [str(out / row["video"]) for row in rows], [row["program"] for row in rows]


@pytest.mark.slow
def test_embedded_model_names_the_actions_from_the_motion(synth_clips):
    """The shipped model names far more of the actions with motion than from the frames alone: its card's
    claim, checked at a small scale (the card's v1 table: recall 0.66 with motion)."""
    from train.motion_accuracy import motion_accuracy

    captioner = MACMCaptioner.from_pretrained("macm")
    recall = {
        use_motion: motion_accuracy([(captioner(v, use_motion=use_motion).caption, p) for v, p in zip(*synth_clips)])[
            "action_recall"
        ]
        for use_motion in (True, False)
    }
    assert recall[True] >= recall[False] + 0.25, recall


@pytest.mark.slow
def test_embedded_model_names_sides_from_the_motion(synth_clips):
    """A side named on a clip and on its mirror image flips with it when the motion heads choose it
    (`ground_sides`, the default), and not when the language model does."""
    from processing_macm import read_video
    from train.augment import mirror_frames, mirror_track
    from train.motion_accuracy import parse_caption_steps

    captioner = MACMCaptioner.from_pretrained("macm")
    flips = {True: [], False: []}
    for video in synth_clips[0]:
        frames, track = read_video(video)[0], captioner.estimate_motion(video)
        for ground in flips:
            results = captioner.caption(
                [frames, mirror_frames(frames)], tracks=[track, mirror_track(track)], ground_sides=ground
            )
            named = [
                [s["side"] for s in parse_caption_steps(r.caption) if s["side"] in ("left", "right")] for r in results
            ]
            flips[ground] += [a != b for a, b in zip(*named)]
    assert len(flips[True]) >= 4, flips
    assert sum(flips[True]) / len(flips[True]) >= 0.75 > sum(flips[False]) / max(len(flips[False]), 1), flips
