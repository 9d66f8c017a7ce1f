"""The card of a built dataset follows its rows: plain `datasets.load_dataset(folder)` never serves
another build's rows (datasets 5.2 keys a local folder's cache on its name and the card's metadata)."""

import json
from pathlib import Path

import numpy as np
import pytest

from dataset_scripts.build import build
from dataset_scripts.card import main as card_main
from dataset_scripts.loading import load_hmi_split
from processing_macm.video_io import write_video

datasets = pytest.importorskip("datasets")


@pytest.fixture
def source(tmp_path) -> Path:
    frames = np.random.default_rng(0).integers(0, 255, (6, 32, 32, 3), dtype=np.uint8)
    write_video(tmp_path / "src" / "v1.mp4", frames, fps=6)
    return tmp_path / "src"


def build_captions(source: Path, captions: list[str], out: Path) -> Path:
    lines = [
        json.dumps({"id": f"c{i}", "video": "v1.mp4", "caption": c, "split": "test"}) for i, c in enumerate(captions)
    ]
    (source / "items.jsonl").write_text("\n".join(lines) + "\n")
    build(source / "items.jsonl", "jsonl", out)
    return out


def captions_of(folder: Path, **kwargs) -> list[str]:
    return [row["caption"] for row in datasets.load_dataset(str(folder), split="test", **kwargs)]


def test_two_folders_of_one_name_load_their_own_rows(source, tmp_path):
    first = build_captions(source, ["A man squats."], tmp_path / "a" / "ds")
    assert captions_of(first) == ["A man squats."]
    second = build_captions(source, ["A man jumps.", "A man claps.", "A man waves."], tmp_path / "b" / "ds")
    assert captions_of(second) == ["A man jumps.", "A man claps.", "A man waves."]
    assert captions_of(first) == ["A man squats."]


def test_a_rebuild_in_place_of_the_same_size_loads_the_new_rows(source, tmp_path):
    out = build_captions(source, ["A man squats.", "A man claps."], tmp_path / "ds")
    shard = out / "data" / "test-00000-of-00001.parquet"
    size = shard.stat().st_size
    assert captions_of(out) == ["A man squats.", "A man claps."]
    build_captions(source, ["A man stands.", "A man skips."], out)  # same count, same string lengths
    assert shard.stat().st_size == size  # the card cannot tell the builds apart by counts or sizes
    assert captions_of(out) == ["A man stands.", "A man skips."]
    assert captions_of(out, streaming=True) == ["A man stands.", "A man skips."]


def test_merged_shard_folders_get_their_card_rewritten(source, tmp_path):
    lines = [
        json.dumps({"id": f"c{i}", "video": "v1.mp4", "caption": f"A man squats {i} times.", "split": "test"})
        for i in range(4)
    ]
    (source / "items.jsonl").write_text("\n".join(lines) + "\n")
    for index in range(2):
        build(
            source / "items.jsonl",
            "jsonl",
            tmp_path / f"m{index}" / "ds",
            shard=(index, 2),
            command=f"macm build --shard {index}/2",
        )
    merged = tmp_path / "m0" / "ds"
    for path in (tmp_path / "m1" / "ds").rglob("*"):
        if path.is_file() and path.name != "README.md":
            (merged / path.relative_to(tmp_path / "m1" / "ds")).write_bytes(path.read_bytes())
    assert card_main([str(merged)]) == 0
    assert "macm build --shard 0/2" in (merged / "README.md").read_text()  # the build command is kept
    assert sorted(captions_of(merged)) == [f"A man squats {i} times." for i in range(4)]


def test_load_hmi_split_refuses_a_card_without_dataset_info(source, tmp_path):
    out = build_captions(source, ["A man squats."], tmp_path / "ds")
    assert [row["caption"] for row in load_hmi_split(out, "test")] == ["A man squats."]
    card = out / "README.md"
    card.write_text(card.read_text().split("dataset_info:")[0] + "---\n")
    with pytest.raises(ValueError, match="python -m dataset_scripts.card"):
        load_hmi_split(out, "test")
    with pytest.raises(FileNotFoundError, match="not an HMI dataset folder"):
        load_hmi_split(source, "test")
