"""`--executor ray` on a local Ray instance (2 CPUs): `macm build --extract-motion` writes the rows of the
local executor, even when workers die mid-clip (retried, or given up after MAX_ATTEMPTS), and resumes; `macm eval` gives the local predictions
and metrics. The clips are cut from examples/walk.mp4 (a real person that MediaPipe finds)."""

import json
from pathlib import Path

import numpy as np
import pytest
from utils import moving_square_frames

from dataset_scripts.build import build
from dataset_scripts.build import main as build_main
from dataset_scripts.card import write_card
from dataset_scripts.extract_motion import track_path
from dataset_scripts.ray_executor import CRASH_ENV, MAX_ATTEMPTS
from dataset_scripts.schema import empty_row, track_to_row
from processing_macm.motion_track import MEDIAPIPE_LANDMARK_NAMES, NUM_JOINTS, MotionTrack
from processing_macm.video_io import read_video, write_video

ray = pytest.importorskip("ray", reason="needs `pip install -e .[scale]`")
pq = pytest.importorskip("pyarrow.parquet")
pytest.importorskip("mediapipe", reason="needs `pip install -e .[motion]`")
REPO = Path(__file__).resolve().parents[1]
# The test hook in ray_executor.py: the first worker to take walk-1 exits (then it is retried), and so does
# every worker that takes "nobody" (given up).
CRASHES = {"walk-1": 1, "nobody": MAX_ATTEMPTS}


@pytest.fixture(scope="module")
def local_ray():
    crashes = ",".join(f"{clip_id}:{times}" for clip_id, times in CRASHES.items())
    ray.init(num_cpus=2, include_dashboard=False, runtime_env={"env_vars": {CRASH_ENV: crashes}})
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A jsonl source of four clips: three cut from walk.mp4 and one with nobody in it."""
    root = tmp_path_factory.mktemp("source")
    frames, info = read_video(REPO / "examples" / "walk.mp4")
    items = []
    for i in range(3):
        write_video(root / f"walk-{i}.mp4", frames[i * 20 : i * 20 + 24], info.fps)
        items.append({"video": f"walk-{i}.mp4", "caption": f"The person walks ({i})."})
    write_video(root / "nobody.mp4", moving_square_frames(num_frames=12), fps=10)
    items.append({"video": "nobody.mp4", "caption": "Nobody is there."})
    (root / "items.jsonl").write_text("".join(json.dumps(item) + "\n" for item in items))
    return root / "items.jsonl"


def parquet_rows(dataset_dir) -> dict[str, dict]:
    rows = pq.read_table(Path(dataset_dir) / "data" / "train-00000-of-00001.parquet").to_pylist()
    return {row["id"]: row for row in rows}


@pytest.mark.slow
def test_ray_build_gives_the_local_rows_with_workers_killed_mid_clip(local_ray, source, tmp_path, capsys):
    local = build(source, "jsonl", tmp_path / "local", extract_motion=True)
    out = tmp_path / "ray"
    assert build_main([str(source), "--format", "jsonl", "-o", str(out), "--extract-motion", "--executor", "ray"]) == 0
    report = json.loads((out / "build_report.json").read_text())
    # walk-1's killed worker was restarted and the clip done on the second attempt; "nobody" killed all
    # its workers and was given up, as an unreadable video is (no motion, a rerun tries it again).
    retries = report["motion_retries"]
    assert sorted(retries) == ["nobody", "walk-1"]
    assert retries["walk-1"].startswith("worker died mid-clip (pid ") and retries["walk-1"].endswith(
        "done on attempt 2"
    )
    assert retries["nobody"].count("pid ") == MAX_ATTEMPTS and retries["nobody"].endswith("gave up")
    assert report["motion_errors"] == {
        "nobody": f"its worker died on all {MAX_ATTEMPTS} attempts (killed, out of memory or crashed); a rerun tries again"
    }
    assert "2 clip(s) retried:" in capsys.readouterr().out
    assert local.motion_errors == {} and report["rows"] == local.rows == {"train": 4}

    rows, local_rows = parquet_rows(out), parquet_rows(tmp_path / "local")
    assert list(rows) == ["walk-0", "walk-1", "walk-2", "nobody"]  # every row once, in the source's order
    for clip_id in ("walk-0", "walk-1", "walk-2"):
        assert rows[clip_id] == local_rows[clip_id]
        assert np.mean(rows[clip_id]["motion"]["valid"]) > 0.5
    assert rows["nobody"] == {**local_rows["nobody"], "motion": None}
    assert not np.any(local_rows["nobody"]["motion"]["valid"])
    assert not list((out / "motion").glob(".tmp-*")) and not track_path(out, "nobody").exists()


@pytest.mark.slow
def test_ray_build_resumes_only_the_missing_clips(local_ray, source, tmp_path):
    subset = source.parent / "walks.jsonl"  # without the clip the hook always kills
    subset.write_text("".join(line + "\n" for line in source.read_text().splitlines() if "nobody" not in line))
    out = tmp_path / "hmi"
    build(subset, "jsonl", out, extract_motion=True, executor="ray")
    uninterrupted = parquet_rows(out)
    kept = track_path(out, "walk-0")
    kept_mtime = kept.stat().st_mtime_ns
    track_path(out, "walk-2").unlink()  # as if the run had stopped before this clip

    report = build(subset, "jsonl", out, extract_motion=True, executor="ray")
    assert kept.stat().st_mtime_ns == kept_mtime and track_path(out, "walk-2").is_file()
    assert report.motion_errors == {} and report.motion_retries == {}  # walk-1, killed once in the first run, is done
    assert parquet_rows(out) == uninterrupted


def test_ray_options_are_checked_before_any_work(source, tmp_path, capsys):
    out = str(tmp_path / "hmi")
    for args, message in [
        (["--executor", "ray"], "--executor ray runs motion extraction: add --extract-motion"),
        (["--extract-motion", "--executor", "ray", "--num-proc", "2"], "--num-proc is the local executor's"),
        (["--ray-address", "10.0.0.1:6379"], "--ray-address needs --executor ray"),
    ]:
        with pytest.raises(SystemExit):
            build_main([str(source), "--format", "jsonl", "-o", out, *args])
        assert message in capsys.readouterr().err
    # Nothing listens on port 1: one line saying so, at once (ray.init would wait for minutes).
    from macm_cli import main as macm

    args = ["build", str(source), "--format", "jsonl", "-o", out, "--extract-motion", "--executor", "ray"]
    assert macm([*args, "--ray-address", "127.0.0.1:1"]) == 1
    assert "macm build: error: No Ray cluster answers at --ray-address 127.0.0.1:1" in capsys.readouterr().err
    assert not Path(out).exists()


def person_track(seed: int, num_frames: int = 12) -> MotionTrack:
    rng = np.random.default_rng(seed)
    keypoints = np.concatenate([rng.uniform(8, 40, (num_frames, len(MEDIAPIPE_LANDMARK_NAMES), 2)),
                                np.ones((num_frames, len(MEDIAPIPE_LANDMARK_NAMES), 1))], axis=-1)  # fmt: skip
    return MotionTrack(
        10.0, (48, 48), keypoints, rng.normal(0, 0.3, (num_frames, NUM_JOINTS, 3)), np.ones(num_frames, bool), "smpl"
    )


@pytest.fixture
def eval_dataset(tmp_path) -> Path:
    """Five rows with stored motion, one with a true/false question, and one whose video is missing."""
    from dataset_scripts.build import write_parquet
    from dataset_scripts.schema import DIMENSIONS

    root = tmp_path / "bench"
    rows = []
    for i in range(5):
        write_video(root / f"videos/c{i}.mp4", moving_square_frames(seed=i), fps=10)
        rows.append(empty_row(id=f"c{i}", video=f"videos/c{i}.mp4", caption=f"The person raises the left arm {i + 1} times.",
                              motion=track_to_row(person_track(i)), source="test", license="cc0"))  # fmt: skip
    rows[0]["qa"] = [
        {"question": "The person jumps.", "answer": "False", "type": "true_false", "dimension": DIMENSIONS[0]}
    ]
    rows.append(
        empty_row(id="missing", video="videos/missing.mp4", caption="A man jumps.", source="test", license="cc0")
    )
    write_parquet(root / "data/test-00000-of-00001.parquet", rows)
    write_card(root, "written by hand")
    return root


@pytest.mark.slow
def test_ray_eval_gives_the_local_predictions_and_metrics(local_ray, tiny_checkpoint, eval_dataset, tmp_path):
    from train.evaluate import main as eval_main

    common = ["--model", tiny_checkpoint, "--dataset", str(eval_dataset), "--decoding", "greedy", "--batch-size", "2",
              "--max-new-tokens", "6"]  # fmt: skip
    assert eval_main([*common, "-o", str(tmp_path / "local")]) == 0
    assert eval_main([*common, "-o", str(tmp_path / "ray"), "--executor", "ray"]) == 0

    def read(name):
        records = [json.loads(line) for line in (tmp_path / name / "predictions.jsonl").read_text().splitlines()]
        metrics = json.loads((tmp_path / name / "metrics.json").read_text())
        for record in records:
            record.pop("seconds", None)  # wall time, the one field that may differ
        for run in metrics.values():
            run.pop("timings")
        return records, metrics

    (local_records, local_metrics), (ray_records, ray_metrics) = read("local"), read("ray")
    assert len(local_records) == 7 and sum(r["error"] is not None for r in local_records) == 1
    assert ray_records == local_records
    assert ray_metrics == local_metrics
