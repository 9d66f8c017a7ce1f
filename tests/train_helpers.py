"""A tiny HMI-format dataset written here (Parquet + card + videos, per dataset_scripts/schema.py), and
helpers to run `macm train` on it with the tiny CPU recipe."""

import json
from pathlib import Path

import numpy as np
from utils import moving_square_frames

from dataset_scripts.build import write_parquet
from dataset_scripts.card import write_card
from dataset_scripts.schema import empty_row, track_to_row
from processing_macm import write_video
from processing_macm.motion_track import MotionTrack

REPO = Path(__file__).resolve().parents[1]
TINY_ALIGN = REPO / "train" / "configs" / "tiny_cpu.yaml"
TINY_INSTRUCT = REPO / "train" / "configs" / "tiny_cpu_instruct.yaml"
CAPTIONS = (
    "The person raises the left arm twice, slowly.",
    "A man walks forward four steps and squats three times.",
)


def arm_track(num_frames: int, speed: float, seed: int) -> MotionTrack:
    """A body whose left wrist (SMPL joint 20) swings up and down at `speed` cycles per clip."""
    rng = np.random.default_rng(seed)
    joints = np.repeat(rng.normal(0, 0.3, (1, 22, 3)), num_frames, axis=0).astype(np.float32)
    joints[:, 0] = 0.0  # pelvis-centred
    joints[:, 20, 1] += 0.5 * np.sin(np.linspace(0, 2 * np.pi * speed, num_frames))
    keypoints = np.concatenate([rng.uniform(0, 48, (num_frames, 33, 2)), np.ones((num_frames, 33, 1))], -1)
    return MotionTrack(
        fps=10,
        frame_size=(48, 48),
        keypoints_2d=keypoints,
        joints_3d=joints,
        valid=np.ones(num_frames, bool),
        backend="test",
    )


WAVE = {"action": "wave", "side": "left", "count": 3, "speed": "fast", "direction": None, "start": 0.0, "end": 1.0}


def program_rows(num: int) -> list[dict]:
    """HMI rows with a program: tracks whose left wrist swings fast (a wave) or slowly (a raised arm)."""
    rows = []
    for index in range(num):
        fast = index % 2 == 0
        step = WAVE if fast else dict(WAVE, action="raise_arm", count=1, speed="slow")
        program = json.dumps([dict(step, end=2.4)])
        truth = {"joints_3d": None, "program": program, "synth_version": 2}
        motion = track_to_row(arm_track(24, 6.0 if fast else 1.0, seed=index))
        caption = f"The person {'waves' if fast else 'raises'} the left arm; the right arm stays down."
        row = empty_row(id=f"c{index}", video="v.mp4", caption=caption, motion=motion, ground_truth=truth)
        rows.append(dict(row, source="test", license="cc0-1.0"))
    return rows


def write_hmi_dataset(
    root: Path, num_train: int = 8, num_test: int = 4, bad_rows: dict[str, dict] | None = None
) -> Path:
    """Clips of a square moving one of two ways, each with its caption, one QA pair and a motion
    track (every third clip has none, so batches mix video-only and motion samples). `bad_rows`
    adds rows `{id: overrides}` to the train split."""
    (root / "videos").mkdir(parents=True, exist_ok=True)
    splits = {"train": [], "test": []}
    for index in range(num_train + num_test):
        kind = index % 2
        frames = moving_square_frames(12, seed=kind)
        clip_id = f"clip{index:02d}"
        write_video(root / "videos" / f"{clip_id}.mp4", frames if kind else frames[::-1], fps=10)
        qa = [
            {
                "question": "Does the person squat?",
                "answer": "True" if kind else "False",
                "type": "true_false",
                "dimension": "",
            }
        ]
        motion = None if index % 3 == 2 else track_to_row(arm_track(12, 1 + kind, index))
        row = empty_row(
            id=clip_id,
            video=f"videos/{clip_id}.mp4",
            caption=CAPTIONS[kind],
            qa=qa,
            motion=motion,
            source="test",
            license="cc0-1.0",
        )
        splits["train" if index < num_train else "test"].append(row)
    for clip_id, overrides in (bad_rows or {}).items():
        splits["train"].append(
            empty_row(
                **{
                    "id": clip_id,
                    "video": "videos/clip00.mp4",
                    "caption": CAPTIONS[0],
                    "source": "test",
                    "license": "cc0-1.0",
                    **overrides,
                }
            )
        )
    for split, rows in splits.items():
        write_parquet(root / "data" / f"{split}-00000-of-00001.parquet", rows)
    write_card(root, "tests")
    return root


def train(config: Path, dataset_dir: Path, output_dir: Path, *overrides: str) -> int:
    from train.sft import main

    return main(
        ["--config", str(config), "--dataset_name", str(dataset_dir), "--output_dir", str(output_dir), *overrides]
    )


def write_program_dataset(root: Path) -> tuple[Path, list[dict]]:
    """`write_hmi_dataset`'s folder with its splits replaced by `program_rows` (4 train, 2 test, one video): rows
    that motion pretraining can learn from. Returns the folder and the rows."""
    dataset = write_hmi_dataset(root, num_train=4, num_test=2)
    rows = [dict(row, video="videos/clip00.mp4") for row in program_rows(6)]
    for split, part in (("train", rows[:4]), ("test", rows[4:])):
        write_parquet(dataset / "data" / f"{split}-00000-of-00001.parquet", part)
    write_card(dataset, "tests")
    return dataset, rows
