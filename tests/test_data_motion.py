"""Motion extraction at build time (interrupted and resumed = uninterrupted) and the paper's curation
filters, on HMI-Synth clips rendered here (a real body that MediaPipe finds), composited into
two-person, empty, still, short, long and cut clips."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from dataset_scripts.build import build
from dataset_scripts.curation import CurationConfig, curate, curate_video, split_scene
from dataset_scripts.schema import row_to_track
from processing_macm.motion_track import MotionTrack
from processing_macm.video_io import read_video, write_video

datasets = pytest.importorskip("datasets")
pytest.importorskip("mediapipe", reason="needs `pip install -e .[motion]`")
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory) -> Path:
    pytest.importorskip("anny", reason="needs `pip install -e .[synth]`")
    from dataset_scripts.synth import generate_dataset

    # Version 1: square frames of one size and clips long enough to composite (v2 varies both).
    return generate_dataset(
        tmp_path_factory.mktemp("synth"), 4, seed=0, size=192, num_workers=1, progress=False, version=1
    )


def load_rows(dataset_dir) -> list[dict]:
    ds = datasets.load_dataset(str(dataset_dir), cache_dir=str(Path(dataset_dir).parent / "hf-cache"))
    return [row for split in sorted(ds) for row in ds[split].with_format("numpy")]


@pytest.mark.slow
def test_interrupted_extraction_resumes_to_the_same_output(synth_dir, tmp_path):
    interrupted = tmp_path / "interrupted"
    command = [sys.executable, "-m", "macm_cli", "build", str(synth_dir), "--format", "synth", "-o", str(interrupted), "--extract-motion", "--num-proc", "2"]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    motion = interrupted / "motion"
    deadline = time.time() + 120
    while time.time() < deadline and not (motion.is_dir() and list(motion.glob("*.npz"))):
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # the whole group: the build and its map workers
    process.wait()
    done_before = len(list(motion.glob("*.npz")))
    assert 1 <= done_before < 4, "the kill must land mid-extraction"
    assert not (interrupted / "data").exists()

    report = build(synth_dir, "synth", interrupted, extract_motion=True, num_proc=2)
    assert report.motion_errors == {} and not list(motion.glob(".tmp-*"))
    build(synth_dir, "synth", tmp_path / "straight", extract_motion=True, num_proc=1)

    resumed, straight = load_rows(interrupted), load_rows(tmp_path / "straight")
    assert [row["id"] for row in resumed] == [row["id"] for row in straight] and len(resumed) == 4
    for a, b in zip(resumed, straight):
        track_a, track_b = row_to_track(a), row_to_track(b)
        assert track_a.has_person, f"MediaPipe found nobody in {a['id']}"
        for name in ("keypoints_2d", "joints_3d", "valid"):
            np.testing.assert_array_equal(getattr(track_a, name), getattr(track_b, name), err_msg=f"{a['id']} {name}")
        assert track_a.fps == track_b.fps and track_a.frame_size == track_b.frame_size
    saved = MotionTrack.load(motion / f"{resumed[0]['id']}.npz")
    np.testing.assert_array_equal(saved.joints_3d, row_to_track(resumed[0]).joints_3d)


@pytest.fixture(scope="module")
def clips(synth_dir, tmp_path_factory) -> dict[str, str]:
    """Test clips composited from two rendered clips `a` and `b` (each one person, moving)."""
    a, info = read_video(synth_dir / "videos" / "synth0_000000.mp4")
    b, _ = read_video(synth_dir / "videos" / "synth0_000001.mp4")
    fps = info.fps
    seconds = lambda s: int(s * fps)  # noqa: E731
    n = seconds(4)
    frames = {
        "moving": a[:n],
        "still": np.repeat(a[:1], n, axis=0),
        "two_people": np.concatenate([a[:n], b[:n]], axis=2),  # side by side
        "nobody": np.random.default_rng(0).integers(80, 110, (n, *a.shape[1:]), dtype=np.uint8),
        "short": a[: seconds(1)],
        "cut": np.concatenate([a[: seconds(3)], b[: seconds(3)]]),  # two shots
        "long": np.concatenate([a, a[::-1]])[: seconds(13)],  # one 13 s shot
    }
    folder = tmp_path_factory.mktemp("curation_clips")
    return {name: str(write_video(folder / f"{name}.mp4", video, fps)) for name, video in frames.items()}


@pytest.mark.slow
def test_curation_keeps_and_drops_for_the_stated_reasons(clips):
    decide = {name: list(curate_video(path)) for name, path in clips.items()}
    assert [d.kept for d in decide["moving"]] == [True]
    assert "one person in 100% of frames" in decide["moving"][0].reason

    (still,) = decide["still"]
    assert not still.kept and still.reason.startswith("still:") and still.stats["good"] == 1.0
    (two,) = decide["two_people"]
    assert not two.kept and two.reason.startswith("two or more people") and two.stats["several_people"] > 0.9
    (nobody,) = decide["nobody"]
    assert not nobody.kept and nobody.reason == "no person in 100% of frames"
    (short,) = decide["short"]
    assert not short.kept and short.reason == "scene of 1.0 s is shorter than 2 s" and short.stats == {}

    # A cut starts a new segment; a 13 s shot is split into two segments of 6.5 s.
    cut = decide["cut"]
    assert [d.kept for d in cut] == [True, True] and abs(cut[1].start - 3.0) <= 0.15
    long = decide["long"]
    assert [d.kept for d in long] == [True, True] and abs(long[0].end - 6.5) < 0.15


@pytest.mark.slow
def test_curate_writes_kept_segments_and_a_report(clips, tmp_path):
    decisions = curate([clips["cut"], clips["still"]], tmp_path, CurationConfig())
    report = json.loads((tmp_path / "curation_report.json").read_text())
    assert report["kept"] == 2 and report["dropped"] == 1
    assert [s["reason"].split(":")[0] for s in report["segments"] if not s["kept"]] == ["still"]
    for decision in decisions:
        if decision.kept:
            _, info = read_video(tmp_path / decision.stats["clip"], num_frames=1)
            assert abs(info.duration - (decision.end - decision.start)) < 0.2


def test_split_scene_lengths():
    config = CurationConfig()
    assert split_scene(0.0, 1.9, config) == []
    assert split_scene(0.0, 10.0, config) == [(0.0, 10.0)]
    np.testing.assert_allclose(
        split_scene(1.0, 26.0, config), [(1.0, 9 + 1 / 3), (9 + 1 / 3, 17 + 2 / 3), (17 + 2 / 3, 26.0)]
    )
    with pytest.raises(ValueError, match="at least twice"):
        CurationConfig(min_seconds=3, max_seconds=5)
