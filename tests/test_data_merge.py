"""`macm merge`: built HMI datasets served as one by `load_dataset`, refused where they collide."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from dataset_scripts.build import build
from dataset_scripts.merge import MergeError, main, merge
from processing_macm.video_io import write_video

datasets = pytest.importorskip("datasets")


def built(tmp_path: Path, name: str, captions: dict[str, str], split: str = "test") -> Path:
    """A built dataset of one clip per caption, ids `captions`' keys."""
    source = tmp_path / f"{name}-src"
    frames = np.random.default_rng(0).integers(0, 255, (6, 32, 32, 3), dtype=np.uint8)
    write_video(source / "v.mp4", frames, fps=6)
    lines = [json.dumps({"id": i, "video": "v.mp4", "caption": c, "split": split}) for i, c in captions.items()]
    (source / "items.jsonl").write_text("\n".join(lines) + "\n")
    build(source / "items.jsonl", "jsonl", tmp_path / name)
    return tmp_path / name


def test_merged_datasets_load_as_one(tmp_path):
    first = built(tmp_path, "a", {"a0": "A man squats.", "a1": "A man claps."})
    second = built(tmp_path, "b", {"b0": "A man jumps."})
    third = built(tmp_path, "c", {"c0": "A man waves."}, split="train")
    assert main([str(first), str(second), str(third), "-o", str(tmp_path / "abc")]) == 0
    merged = datasets.load_dataset(str(tmp_path / "abc"))
    assert merged["test"]["caption"] == ["A man squats.", "A man claps.", "A man jumps."]
    assert merged["train"]["caption"] == ["A man waves."]
    for row in merged["test"]:
        video = tmp_path / "abc" / row["video"]
        original = tmp_path / row["id"][0] / row["video"]
        assert video.stat().st_ino == original.stat().st_ino  # a hard link, not a copy
    card = (tmp_path / "abc" / "README.md").read_text()
    assert "macm merge" in card and "num_examples: 3" in card and "num_examples: 1" in card


def test_a_repeated_clip_is_refused_and_nothing_is_left(tmp_path):
    first = built(tmp_path, "a", {"a0": "A man squats."})
    shutil.copytree(first, tmp_path / "copy")
    with pytest.raises(MergeError, match="clip id 'a0' is in both"):
        merge([first, tmp_path / "copy"], tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "a-src", "copy"]  # no output, no staging
    second = built(tmp_path, "b", {"b0": "A man jumps."})
    shard = second / "data" / "test-00000-of-00001.parquet"
    shutil.copyfile(shard, second / "data" / "validation-00000-of-00001.parquet")  # b0 in two splits
    with pytest.raises(MergeError, match="clip id 'b0' is twice in"):
        merge([first, second], tmp_path / "out")


def test_what_is_not_a_built_dataset_or_a_new_folder_is_refused(tmp_path):
    first = built(tmp_path, "a", {"a0": "A man squats."})
    (tmp_path / "plain").mkdir()
    with pytest.raises(MergeError, match="no data/<split>"):
        merge([first, tmp_path / "plain"], tmp_path / "out")
    with pytest.raises(MergeError, match="exists"):
        merge([first, tmp_path / "plain"], tmp_path / "plain")
    with pytest.raises(MergeError, match="given twice"):
        merge([first, first], tmp_path / "out")
    with pytest.raises(MergeError, match="inside the input"):  # the output would be read while it is written
        merge([first, tmp_path / "plain"], first / "merged")
    with pytest.raises(SystemExit):  # one dataset: nothing to merge
        main([str(first), "-o", str(tmp_path / "out")])
