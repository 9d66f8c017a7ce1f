"""Helpers shared by the tests: tiny configs, processors and models, small videos (all built here, nothing
downloaded), and transformers' own common test mixins, fetched from the package registry."""

import os
import subprocess
import sys
import tarfile
import tempfile
import types
from pathlib import Path

import numpy as np
import torch

from modeling_macm import MACMConfig, MACMForConditionalGeneration
from processing_macm import MACMProcessor
from processing_macm.motion_track import SMPL_JOINT_NAMES, MotionTrack
from train.tokenizer import train_tokenizer

CORPUS = [
    "The person raises the left arm to shoulder height twice, slowly, then waves with the right hand.",
    "A man walks forward four steps, turns left and squats three times quickly.",
    "She jumps twice, kicks with the right leg, then bends forward and claps her hands five times.",
    "Describe the person's movements in detail. What does the person do with the left leg?",
]
IMAGE_SIZE = 32
PATCH_SIZE = 8


def tiny_tokenizer():
    return train_tokenizer(CORPUS * 4, vocab_size=400)


def tiny_vision_config() -> dict:
    """A 2-layer SigLIP vision tower, the one every tiny test model has."""
    return dict(
        model_type="siglip_vision_model",
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=IMAGE_SIZE,
        patch_size=PATCH_SIZE,
        vision_use_head=False,
    )


def tiny_text_config(vocab_size: int, **extra) -> dict:
    """A 2-layer Qwen2 language model of `vocab_size` tokens, plus `extra` settings."""
    return dict(
        model_type="qwen2",
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=vocab_size,
        **extra,
    )


def tiny_config(tokenizer, motion_representation: str = "overlay", **overrides) -> MACMConfig:
    kwargs = dict(
        vision_config=tiny_vision_config(),
        text_config=tiny_text_config(
            len(tokenizer),
            max_position_embeddings=512,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        ),
        video_token_id=tokenizer.video_token_id,
        motion_token_id=tokenizer.motion_token_id,
        motion_representation=motion_representation,
        num_keyframes=2,
        motion_feature_size=202,
        motion_max_frames=64,
        motion_num_tokens=4,
        motion_hidden_size=32,
        motion_num_layers=1,
        motion_num_heads=2,
    )
    kwargs.update(overrides)
    return MACMConfig(**kwargs)


def tiny_processor(tokenizer, config: MACMConfig, num_frames: int = 4) -> MACMProcessor:
    return MACMProcessor.from_model_config(config, tokenizer, num_frames=num_frames)


def tiny_model(config: MACMConfig, seed: int = 0) -> MACMForConditionalGeneration:
    torch.manual_seed(seed)
    return MACMForConditionalGeneration(config).eval()


def moving_square_frames(num_frames: int = 12, size: int = 48, seed: int = 0) -> np.ndarray:
    """`[T, size, size, 3]` uint8: a coloured square sliding over a noisy background."""
    rng = np.random.default_rng(seed)
    frames = np.repeat(rng.integers(0, 60, (1, size, size, 3), dtype=np.uint8), num_frames, axis=0)
    for t in range(num_frames):
        x = int(t * (size - 12) / max(num_frames - 1, 1))
        frames[t, 18:30, x : x + 12] = (220, 40 + 10 * seed, 40)
    return frames


# transformers' common tests (`ModelTesterMixin`, `ConfigTester`) ship in its source distribution on PyPI, not in
# the wheel: they are fetched once, for the installed version, into this cache and imported as a package.
TRANSFORMERS_TESTS_PACKAGE = "transformers_tests"
TRANSFORMERS_TESTS_CACHE = Path(os.environ.get("MACM_TEST_CACHE", Path.home() / ".cache" / "macm-tests"))


def fetch_transformers_tests(version: str) -> Path:
    """The `tests/` folder of transformers' sdist `version`, downloaded with pip on first use (a file lock keeps
    parallel test workers from fetching it twice)."""
    from filelock import FileLock

    root = TRANSFORMERS_TESTS_CACHE / f"transformers-{version}"
    TRANSFORMERS_TESTS_CACHE.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root) + ".lock"):
        if not (root / "tests" / "test_modeling_common.py").is_file():
            with tempfile.TemporaryDirectory() as download:
                command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:"]
                result = subprocess.run(
                    [*command, f"transformers=={version}", "-d", download], capture_output=True, text=True
                )
                if result.returncode != 0:
                    raise RuntimeError(
                        f"Could not fetch transformers {version}'s sdist for its common tests (pip download failed; "
                        f"it needs the package registry once, then {TRANSFORMERS_TESTS_CACHE} holds it):\n"
                        f"{result.stderr[-2000:]}"
                    )
                with tarfile.open(next(Path(download).glob("transformers-*.tar.gz"))) as archive:
                    members = [m for m in archive.getmembers() if m.name.startswith(f"transformers-{version}/tests/")]
                    archive.extractall(TRANSFORMERS_TESTS_CACHE, members=members, filter="data")
            # `test_configuration_common` imports its own folder as a package (`direct_transformers_import`).
            (root / "tests" / "__init__.py").touch()
    return root / "tests"


def import_transformers_tests(version: str) -> types.ModuleType:
    """transformers' `tests` package as `transformers_tests`, whose `test_modeling_common` and
    `test_configuration_common` then import.

    The sdist leaves out three modules those two import; stand-ins take their place, and the tests that need
    what they would hold are skipped with that reason:
    - `generation/test_utils.py` (`GenerationTesterMixin`, the generation tests): an empty mixin;
    - `exporters/test_export.py` (`ExportTesterMixin`, the `torch.export` tests): an empty mixin;
    - `utils/test_configuration_utils.py` (`config_common_kwargs`): only read for configs without sub-configs,
      and MACMConfig has two, so an empty dict.
    """
    if TRANSFORMERS_TESTS_PACKAGE in sys.modules:
        return sys.modules[TRANSFORMERS_TESTS_PACKAGE]
    package = types.ModuleType(TRANSFORMERS_TESTS_PACKAGE)
    package.__path__ = [str(fetch_transformers_tests(version))]
    stand_ins = {
        "generation": {},
        "generation.test_utils": {"GenerationTesterMixin": type("GenerationTesterMixin", (), {})},
        "exporters": {},
        "exporters.test_export": {"ExportTesterMixin": type("ExportTesterMixin", (), {})},
        "utils": {},
        "utils.test_configuration_utils": {"config_common_kwargs": {}},
    }
    sys.modules[TRANSFORMERS_TESTS_PACKAGE] = package
    for name, attributes in stand_ins.items():
        module = types.ModuleType(f"{TRANSFORMERS_TESTS_PACKAGE}.{name}")
        module.__path__ = []
        module.__dict__.update(attributes)
        sys.modules[module.__name__] = module
    return package


_J = {name: i for i, name in enumerate(SMPL_JOINT_NAMES)}


def repeating_track(fps: float = 10.0, seconds: float = 6.0) -> MotionTrack:
    """A standing person (P = 22 keypoints) who raises the left arm twice (at 1.5 and 4.5 s), squats three times
    (ankles rising toward the pelvis in the first 3 s) and jumps four times (hips up in the image in the last 3 s)."""
    t = np.arange(int(fps * seconds)) / fps
    joints = np.zeros((len(t), 22, 3), np.float32)
    joints[:, :, 1] = np.linspace(-0.9, 0.6, 22)
    joints[:, _J["left_wrist"], 1] += 0.5 * np.exp(-(((t[:, None] - [1.5, 4.5]) / 0.4) ** 2)).sum(1)
    squats = t < 3
    for ankle in ("left_ankle", "right_ankle"):
        joints[squats, _J[ankle], 1] += 0.3 * (1 - np.cos(2 * np.pi * t[squats])) / 2  # 3 cycles of 1 s
    keypoints = np.concatenate([joints[..., :2] * [100, -100] + [200, 200], np.ones((len(t), 22, 1))], -1)
    jumps = t >= 3
    keypoints[jumps, :, 1] -= 30 * (1 - np.cos(2 * np.pi * (t[jumps] - 3) / 0.75))[:, None] / 2  # 4 jumps
    return MotionTrack(
        fps=fps, frame_size=(400, 400), keypoints_2d=keypoints.astype(np.float32), joints_3d=joints,
        valid=np.ones(len(t), bool), backend="test",
    )  # fmt: skip


def synth_v2_scenes(count: int = 150):
    """`(body, reference caption, questions)` of `count` HMI-Synth v2 scenes, drawn with seed 3 as `macm synth` draws
    them."""
    from dataset_scripts.synth import sample_scene_v2
    from dataset_scripts.synth.grammar import captions_v2, qa_pairs_v2

    for index in range(count):
        program, body, camera, _, _ = sample_scene_v2(np.random.default_rng([3, index, 0]), 256)
        text_rng = np.random.default_rng([3, index, 1])
        caption = captions_v2(program, body, camera, text_rng)["caption"]
        yield body, caption, qa_pairs_v2(program, body, camera, text_rng)
