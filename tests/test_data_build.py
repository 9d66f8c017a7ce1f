"""`macm build`: the three source formats, the problem report, --strict, sharding, and loading the
result back with `datasets.load_dataset` (in memory and streamed)."""

import json
from pathlib import Path

import numpy as np
import pytest

from dataset_scripts.build import build, main
from dataset_scripts.schema import hmi_features, program_from_row, row_to_track, track_to_row
from processing_macm.motion_track import MotionTrack
from processing_macm.video_io import probe_video, write_video

datasets = pytest.importorskip("datasets")


def tiny_video(path: Path, seed: int = 0, num_frames: int = 6) -> Path:
    frames = np.random.default_rng(seed).integers(0, 255, (num_frames, 32, 32, 3), dtype=np.uint8)
    return write_video(path, frames, fps=6)


@pytest.fixture
def hmi_bench(tmp_path) -> Path:
    """A folder in the HMI-Bench release layout: captions JSON, QA JSON (flat items), videos/."""
    root = tmp_path / "HMI-Bench"
    for name in ("a", "b", "c"):
        tiny_video(root / "videos" / f"{name}.mp4", seed=ord(name))
    captions = [
        {"video": f"videos/{name}.mp4", "caption": f"The person in {name} raises both arms."} for name in "abc"
    ]
    qa = [
        {"video": "videos/a.mp4", "question": "Which arm moves?", "answer": "Both arms.", "type": "open-ended", "dimension": "Details of Movements"},
        {"video": "videos/a.mp4", "question": "Is the person sitting?", "answer": "No."},
        {"video": "c.mp4", "question": "Does the person smile?", "answer": "Yes", "type": "True/False", "dimension": "micro-expressions"},
    ]  # fmt: skip
    (root / "HMI-Bench.json").write_text(json.dumps(captions))
    (root / "HMI-Bench-QA.json").write_text(json.dumps(qa))
    return root


def load(dataset_dir, **kwargs):
    # A cache beside the dataset: the shared HF cache would outlive the test's folders.
    return datasets.load_dataset(str(dataset_dir), cache_dir=str(Path(dataset_dir).parent / "hf-cache"), **kwargs)


def test_hmi_bench_builds_and_loads_back_typed(hmi_bench, tmp_path):
    out = tmp_path / "hmi"
    report = build(hmi_bench, "hmi-bench", out)
    assert report.rows == {"test": 3} and report.problems == []
    ds = load(out)
    assert list(ds) == ["test"]
    assert ds["test"].features == hmi_features()
    rows = {row["id"]: row for row in ds["test"]}
    assert rows["a"]["caption"] == "The person in a raises both arms."
    assert rows["a"]["qa"] == [
        {"question": "Which arm moves?", "answer": "Both arms.", "type": "open", "dimension": "Details of Movements"},
        {"question": "Is the person sitting?", "answer": "No.", "type": "true_false", "dimension": ""},
    ]
    assert (
        rows["c"]["qa"][0]["type"] == "true_false"
        and rows["c"]["qa"][0]["dimension"] == "Micro-expressions and Emotions"
    )
    assert (
        rows["b"]["qa"] == []
        and rows["b"]["motion"] is None
        and rows["b"]["captions"] is None
        and rows["b"]["ground_truth"] is None
    )
    # The videos travel with the dataset and decode from the relative path.
    assert rows["b"]["video"] == "videos/b.mp4"
    assert probe_video(out / rows["b"]["video"]).num_frames == 6
    card = (out / "README.md").read_text()
    assert "configs:" in card and "path: data/test-*-of-*.parquet" in card and "| hmi-bench | unknown | 3 |" in card

    streamed = list(load(out, streaming=True)["test"])
    assert streamed == list(ds["test"])


def test_problems_are_reported_per_item_and_good_items_kept(hmi_bench, tmp_path):
    captions = json.loads((hmi_bench / "HMI-Bench.json").read_text())
    captions += [
        {"video": "videos/a.mp4", "caption": "a duplicate of a"},
        {"video": "videos/missing.mp4", "caption": "no such file"},
        {"caption": "no video key"},
        "not an object",
    ]
    (hmi_bench / "HMI-Bench.json").write_text(json.dumps(captions))
    qa = json.loads((hmi_bench / "HMI-Bench-QA.json").read_text())
    qa += [
        {"video": "videos/b.mp4", "question": "No answer?"},
        {"video": "videos/zzz.mp4", "question": "q", "answer": "a"},
    ]
    (hmi_bench / "HMI-Bench-QA.json").write_text(json.dumps(qa))

    report = build(hmi_bench, "hmi-bench", tmp_path / "hmi")
    problems = "\n".join(report.problems)
    assert len(report.problems) == 6, problems
    assert "HMI-Bench.json item 3 (video 'videos/a.mp4'): duplicate id 'a'" in problems
    assert "HMI-Bench.json item 4 (video 'videos/missing.mp4'): video file not found" in problems
    assert "HMI-Bench.json item 5: needs a video and a caption" in problems
    assert "HMI-Bench.json item 6: expected an object, got str" in problems
    assert "HMI-Bench-QA.json item 3: needs a question and an answer" in problems
    assert "HMI-Bench-QA.json item 4: QA for unknown video 'zzz'" in problems
    rows = {row["id"]: row for row in load(tmp_path / "hmi", split="test")}
    assert sorted(rows) == ["a", "b", "c"] and rows["a"]["caption"].startswith("The person in a")
    assert len(rows["a"]["qa"]) == 2
    saved = json.loads((tmp_path / "hmi" / "build_report.json").read_text())
    assert saved["problems"] == report.problems


def test_malformed_qa_json_keeps_captions_and_strict_is_fatal(hmi_bench, tmp_path, capsys):
    (hmi_bench / "HMI-Bench-QA.json").write_text('[{"video": "videos/a.mp4", "question": ')
    out = tmp_path / "hmi"
    assert main([str(hmi_bench), "--format", "hmi-bench", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "1 problem(s)" in printed and "HMI-Bench-QA.json: HMI-Bench-QA.json: not readable JSON" in printed
    assert len(load(out, split="test")) == 3

    strict_out = tmp_path / "strict"
    assert main([str(hmi_bench), "--format", "hmi-bench", "-o", str(strict_out), "--strict"]) == 1
    assert "--strict: 1 problem(s)" in capsys.readouterr().err
    assert not strict_out.exists()


def test_unreadable_captions_file_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "HMI-Bench.json").write_text("{not json")
    assert main([str(tmp_path), "--format", "hmi-bench", "-o", str(tmp_path / "out")]) == 1
    assert "HMI-Bench.json: not readable JSON" in capsys.readouterr().err
    assert main([str(tmp_path / "nowhere"), "--format", "synth"]) == 1
    assert "Source not found" in capsys.readouterr().err


def test_jsonl_with_llava_conversations(tmp_path):
    tiny_video(tmp_path / "clips" / "v1.mp4", 1)
    tiny_video(tmp_path / "clips" / "v2.mp4", 2)
    records = [
        {"video": "clips/v1.mp4", "caption": "A man squats.", "qa": [{"question": "How many squats?", "answer": "Three."}], "split": "validation"},
        {"id": "llava-2", "video": "clips/v2.mp4", "data_source": "llava-video-178k", "conversations": [
            {"from": "human", "value": "<image>\nPlease describe this video in detail."},
            {"from": "gpt", "value": "A woman waves her right hand."},
            {"from": "human", "value": "Is she waving with the left hand?"},
            {"from": "gpt", "value": "No, the right hand."},
        ]},
    ]  # fmt: skip
    lines = [json.dumps(record) for record in records] + ['{"video": broken']
    (tmp_path / "items.jsonl").write_text("\n".join(lines) + "\n")
    out = tmp_path / "hmi"
    report = build(tmp_path / "items.jsonl", "jsonl", out, license="cc-by-4.0")
    assert report.rows == {"validation": 1, "train": 1}
    assert report.problems and report.problems[0].startswith("items.jsonl line 3: invalid JSON")
    ds = load(out)
    assert sorted(ds) == ["train", "validation"]
    llava = ds["train"][0]
    assert llava["id"] == "llava-2" and llava["caption"] == "A woman waves her right hand."
    assert llava["qa"] == [
        {
            "question": "Is she waving with the left hand?",
            "answer": "No, the right hand.",
            "type": "true_false",
            "dimension": "",
        }
    ]
    assert llava["source"] == "llava-video-178k" and llava["license"] == "cc-by-4.0"
    assert ds["validation"][0]["id"] == "v1" and ds["validation"][0]["qa"][0]["type"] == "open"


@pytest.fixture
def synth_dir(tmp_path) -> Path:
    """A folder in the HMI-Synth output format, with its videos and ground-truth joints."""
    root = tmp_path / "synth"
    (root / "joints").mkdir(parents=True)
    rows = []
    for index in range(4):
        clip_id = f"synth-{index:03d}"
        tiny_video(root / "videos" / f"{clip_id}.mp4", index)
        np.save(root / "joints" / f"{clip_id}.npy", np.full((6, 22, 3), index, np.float32))
        rows.append({
            "id": clip_id, "split": "train" if index < 3 else "test", "video": f"videos/{clip_id}.mp4",
            "joints": f"joints/{clip_id}.npy", "fps": 6.0, "num_frames": 6, "duration": 1.0,
            "caption": f"The person squats {index + 1} times.",
            "captions": {"fine": [{"start": 0.0, "end": 1.0, "text": "squats"}], "contextual": [], "summary": f"Squats {index + 1} times."},
            "qa": [{"question": "How many squats?", "answer": str(index + 1), "type": "open", "dimension": "Details of Movements"}],
            "program": [{"action": "squat", "side": None, "limb": None, "count": index + 1, "speed": "slow", "direction": None, "start": 0.0, "end": 1.0}],
            "body": {"height": 1.7}, "camera": {"yaw": 0.0}, "source": "hmi-synth", "license": "CC0-1.0",
        })  # fmt: skip
    (root / "metadata.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    return root


def test_synth_keeps_ground_truth(synth_dir, tmp_path):
    out = tmp_path / "hmi"
    assert build(synth_dir, "synth", out).rows == {"train": 3, "test": 1}
    ds = load(out).with_format("numpy")
    row = ds["test"][0]
    assert row["id"] == "synth-003" and row["captions"]["summary"] == "Squats 4 times."
    assert row["captions"]["fine"][0]["text"] == "squats"
    assert row["ground_truth"]["joints_3d"].shape == (6, 22, 3) and (row["ground_truth"]["joints_3d"] == 3).all()
    assert program_from_row(row)[0]["count"] == 4
    assert "| hmi-synth | CC0-1.0 | 4 |" in (out / "README.md").read_text()


def test_shards_partition_the_clips(synth_dir, tmp_path):
    out = tmp_path / "hmi"
    build(synth_dir, "synth", out, shard=(0, 2))
    build(synth_dir, "synth", out, shard=(1, 2))
    files = sorted(path.name for path in (out / "data").iterdir())
    assert files == [f"{split}-0000{i}-of-00002.parquet" for split in ("test", "train") for i in (0, 1)]
    assert sorted(load(out, split="train")["id"]) == ["synth-000", "synth-001", "synth-002"]
    # Rebuilding unsharded replaces the 2-way shards instead of adding to them.
    build(synth_dir, "synth", out)
    assert len(load(out, split="train")) == 3


def test_track_round_trips_through_a_row(tmp_path):
    rng = np.random.default_rng(0)
    track = MotionTrack(
        fps=29.97, frame_size=(64, 48), keypoints_2d=rng.random((5, 33, 3)), joints_3d=rng.random((5, 22, 3)),
        valid=np.array([1, 1, 0, 1, 1], bool), backend="smpl", global_orient=rng.random((5, 3)),
        body_pose=rng.random((5, 63)), betas=rng.random(10), transl=rng.random((5, 3)),
    )  # fmt: skip
    from dataset_scripts.build import write_parquet
    from dataset_scripts.schema import empty_row

    write_parquet(
        tmp_path / "t.parquet", [empty_row(id="x", video="videos/x.mp4", caption="c", motion=track_to_row(track))]
    )
    for fmt in (None, "numpy"):
        row = datasets.load_dataset("parquet", data_files=str(tmp_path / "t.parquet"), split="train").with_format(fmt)[
            0
        ]
        back = row_to_track(row)
        assert back.fps == track.fps and back.frame_size == track.frame_size and back.backend == "smpl"
        for name in ("keypoints_2d", "joints_3d", "valid", "global_orient", "body_pose", "betas", "transl"):
            np.testing.assert_array_equal(getattr(back, name), getattr(track, name), err_msg=name)
    with pytest.raises(ValueError, match="33-point layout"):
        track_to_row(
            MotionTrack(
                fps=10,
                frame_size=(4, 4),
                keypoints_2d=np.zeros((2, 22, 3)),
                joints_3d=np.zeros((2, 22, 3)),
                valid=[1, 1],
                backend="smpl",
            )
        )


def test_macm_dispatcher_runs_build(synth_dir, tmp_path, monkeypatch):
    from macm_cli import main as macm

    monkeypatch.chdir(tmp_path)
    assert macm(["build", str(synth_dir), "--format", "synth"]) == 0
    # -o defaults to ./hmi, so the design card's `load_dataset("hmi")` works from here.
    assert len(datasets.load_dataset("hmi", split="train", cache_dir="hf-cache")) == 3
