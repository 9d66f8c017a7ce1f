"""`macm build` never takes a file from outside its source folder and never overwrites or deletes files
it did not write: the dataset is meant for upload, and the output folder may hold someone's work."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from dataset_scripts.build import build, main
from processing_macm.video_io import write_video

pytest.importorskip("datasets")


def tiny_video(path: Path, seed: int = 0) -> Path:
    frames = np.random.default_rng(seed).integers(0, 255, (6, 32, 32, 3), dtype=np.uint8)
    return write_video(path, frames, fps=6)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def hostile_jsonl(tmp_path) -> Path:
    """A jsonl source with one good clip and four that reach outside its folder or are not videos."""
    source = tmp_path / "source"
    tiny_video(source / "videos" / "good.mp4")
    secret = tmp_path / "secret"
    tiny_video(secret / "id_rsa.mp4", seed=1)  # a real video, but outside the source folder
    (secret / "shadow").write_text("root:$6$hash\n")
    os.symlink(secret / "id_rsa.mp4", source / "videos" / "link.mp4")
    (source / "videos" / "notes.mp4").write_text("not a video at all\n")
    records = [
        {"id": "good", "video": "videos/good.mp4", "caption": "A person waves."},
        {"id": "absolute", "video": str(secret / "shadow"), "caption": "x"},
        {"id": "climb", "video": "../secret/id_rsa.mp4", "caption": "x"},
        {"id": "link", "video": "videos/link.mp4", "caption": "x"},
        {"id": "text", "video": "videos/notes.mp4", "caption": "x"},
    ]
    path = source / "clips.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return path


def test_paths_outside_the_source_and_non_videos_are_refused_and_named(hostile_jsonl, tmp_path, capsys):
    out = tmp_path / "hmi"
    assert main([str(hostile_jsonl), "--format", "jsonl", "-o", str(out)]) == 0
    assert sorted(p.name for p in (out / "videos").iterdir()) == ["good.mp4"]
    report = json.loads((out / "build_report.json").read_text())
    assert report["rows"] == {"train": 1}
    problems = "\n".join(report["problems"])
    for item in ("shadow", "../secret/id_rsa.mp4", "videos/link.mp4"):
        assert item in problems
    assert problems.count("outside the source folder") == 3
    assert "notes.mp4" in problems and "could not be opened as a video" in problems
    assert "4 problem(s)" in capsys.readouterr().out


def test_synth_joints_outside_the_folder_are_refused(tmp_path):
    source = tmp_path / "synth"
    tiny_video(source / "videos" / "a.mp4")
    np.save(tmp_path / "outside.npy", np.zeros((6, 22, 3), np.float32))
    record = {"id": "a", "video": "videos/a.mp4", "joints": "../outside.npy", "caption": "A person squats."}
    (source / "metadata.jsonl").write_text(json.dumps(record) + "\n")
    report = build(source, "synth", tmp_path / "hmi")
    assert report.rows == {} and "'../outside.npy' resolve outside the source folder" in report.problems[0]


def test_a_foreign_folder_is_refused_untouched(hostile_jsonl, tmp_path, capsys):
    out = tmp_path / "mine"
    (out / "data").mkdir(parents=True)
    (out / "README.md").write_text("my notes\n")
    (out / "data" / "my_experiment_results.parquet").write_bytes(b"PAR1 results")
    tiny_video(out / "videos" / "good.mp4", seed=7)
    before = snapshot(out)
    assert main([str(hostile_jsonl), "--format", "jsonl", "-o", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("macm build: error: Output folder") and "--overwrite" in err and len(err.splitlines()) == 1
    assert snapshot(out) == before


def test_overwrite_writes_only_the_builds_files(hostile_jsonl, tmp_path):
    out = tmp_path / "mine"
    (out / "data").mkdir(parents=True)
    (out / "data" / "my_experiment_results.parquet").write_bytes(b"PAR1 results")
    (out / "notes.txt").write_text("keep me\n")
    assert main([str(hostile_jsonl), "--format", "jsonl", "-o", str(out), "--overwrite"]) == 0
    assert (out / "data" / "my_experiment_results.parquet").read_bytes() == b"PAR1 results"
    assert (out / "notes.txt").read_text() == "keep me\n"
    assert (out / "data" / "train-00000-of-00001.parquet").is_file()


def test_an_earlier_build_is_updated_without_touching_foreign_files(hostile_jsonl, tmp_path):
    out = tmp_path / "hmi"
    build(hostile_jsonl, "jsonl", out, shard=(0, 2))
    (out / "data" / "notes-results.parquet").write_bytes(b"PAR1 mine")
    build(hostile_jsonl, "jsonl", out)  # another shard count: the old shards go, the foreign file stays
    assert sorted(p.name for p in (out / "data").iterdir()) == [
        "notes-results.parquet",
        "train-00000-of-00001.parquet",
    ]


def test_output_that_is_a_file_is_refused(hostile_jsonl, tmp_path, capsys):
    out = tmp_path / "a-file"
    out.write_text("x")
    assert main([str(hostile_jsonl), "--format", "jsonl", "-o", str(out)]) == 1
    assert "is a file, not a folder" in capsys.readouterr().err
    assert out.read_text() == "x"
