"""HMI-Synth end to end: anny bodies rendered to mp4, checked against the issue's acceptance criteria."""

import json

import numpy as np
import pytest

from dataset_scripts.synth import generate_dataset
from processing_macm.video_io import probe_video, read_video

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return generate_dataset(tmp_path_factory.mktemp("synth") / "a", num_clips=3, seed=5, num_workers=1, progress=False)


def _rows(out_dir):
    return [json.loads(line) for line in (out_dir / "metadata.jsonl").read_text().splitlines()]


def test_layout_and_decoding(dataset):
    rows = _rows(dataset)
    assert len(rows) == 3 and (dataset / "README.md").read_text().startswith("---\nlicense: cc0-1.0")
    for row in rows:
        info = probe_video(dataset / row["video"])
        assert info.fps == pytest.approx(row["fps"]) and info.num_frames == row["num_frames"]
        assert row["duration"] == pytest.approx(row["num_frames"] / row["fps"], abs=1e-3)
        frames, _ = read_video(dataset / row["video"])
        assert frames.shape == (row["num_frames"], 256, 256, 3)
        joints = np.load(dataset / row["joints"])
        assert joints.shape == (row["num_frames"], 22, 3) and joints.dtype == np.float32
        assert np.abs(joints[:, 0]).max() == 0.0  # pelvis-centred
        assert (joints[:, 15, 1] > joints[:, 7, 1]).all()  # head above the left ankle: y is up
        assert 2.0 <= row["duration"] <= 10.0 and row["split"] in ("train", "validation", "test")


def test_same_seed_same_output_different_seed_differs(dataset, tmp_path):
    again = generate_dataset(tmp_path / "b", num_clips=3, seed=5, num_workers=1, progress=False)
    assert (again / "metadata.jsonl").read_bytes() == (dataset / "metadata.jsonl").read_bytes()
    for row in _rows(dataset):
        np.testing.assert_array_equal(np.load(again / row["joints"]), np.load(dataset / row["joints"]))
    other = generate_dataset(tmp_path / "c", num_clips=3, seed=6, num_workers=1, progress=False)
    assert [r["caption"] for r in _rows(other)] != [r["caption"] for r in _rows(dataset)]


def test_resume_skips_complete_clips(dataset):
    video = dataset / _rows(dataset)[0]["video"]
    before = video.stat().st_mtime_ns
    generate_dataset(dataset, num_clips=3, seed=5, num_workers=1, progress=False)
    assert video.stat().st_mtime_ns == before
    assert not list(dataset.rglob("*.tmp*"))


def test_mediapipe_finds_the_person(dataset):
    mp = pytest.importorskip("mediapipe")
    found = total = 0
    with mp.solutions.pose.Pose(model_complexity=1) as pose:
        for row in _rows(dataset):
            frames, _ = read_video(dataset / row["video"])
            for frame in frames:
                found += pose.process(frame).pose_landmarks is not None
                total += 1
    assert found / total >= 0.9, f"person found in {found}/{total} frames"


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="num_clips"):
        generate_dataset(tmp_path, num_clips=0)
    with pytest.raises(ValueError, match="size"):
        generate_dataset(tmp_path, num_clips=1, size=255)
