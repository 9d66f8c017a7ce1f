"""MACMProcessor and video I/O: token expansion, batching, round trip, and the errors bad inputs get."""

import os
import subprocess
import sys

import av
import numpy as np
import pytest
import torch
from utils import moving_square_frames, tiny_config, tiny_processor

from processing_macm import MACMProcessor, VideoReadError, probe_video, read_video, write_video


@pytest.fixture
def processor(tokenizer):
    return tiny_processor(tokenizer, tiny_config(tokenizer, "kinematic"))


def test_placeholders_expand_to_the_model_counts(tokenizer):
    for representation in ("overlay", "kinematic"):
        config = tiny_config(tokenizer, representation)
        proc = tiny_processor(tokenizer, config)
        assert proc.num_video_tokens == config.video_tokens(proc.num_frames)
        assert proc.num_motion_tokens == config.motion_tokens_per_clip


def test_video_path_and_array_give_the_same_pixels(processor, video_path):
    frames, info = read_video(video_path)
    assert info.num_frames == 12 and info.fps == 10
    from_path = processor(videos=video_path)["pixel_values_videos"]
    from_array = processor(videos=frames)["pixel_values_videos"]
    assert from_path.shape == (1, 4, 3, 32, 32)
    assert torch.equal(from_path, from_array)


def test_batch_pads_and_marks_motion(processor):
    prompts = [processor.default_prompt(), processor.default_prompt("Which arm moves first, and how many times?")]
    features = np.random.default_rng(0).normal(size=(15, 202)).astype(np.float32)
    out = processor(
        text=prompts, videos=[moving_square_frames(), moving_square_frames(seed=1)], motion=[None, features]
    )
    assert out["motion_mask"].tolist() == [False, True]
    assert out["motion_features"].shape == (1, 15, 202)
    assert out["motion_attention_mask"].shape == (1, 15)
    motion_counts = (out["input_ids"] == processor.motion_token_id).sum(1).tolist()
    assert motion_counts == [0, processor.num_motion_tokens]
    assert out["attention_mask"][0, 0] == 0, "padding goes on the left for batched generation"


def test_model_input_names_cover_every_output(tokenizer):
    for representation, motion in (("overlay", np.zeros((2, 40, 40, 3), np.uint8)), ("kinematic", np.zeros((9, 202)))):
        proc = tiny_processor(tokenizer, tiny_config(tokenizer, representation))
        out = proc(videos=moving_square_frames(), motion=motion)
        assert set(out) <= set(proc.model_input_names), set(out) - set(proc.model_input_names)
        assert (proc.video_token, proc.motion_token) == (tokenizer.video_token, tokenizer.motion_token)


def test_kinematic_normalisation_uses_stored_statistics(tokenizer):
    config = tiny_config(tokenizer, "kinematic")
    proc = tiny_processor(tokenizer, config)
    proc.motion_feature_mean, proc.motion_feature_std = [1.0] * 202, [2.0] * 202
    features = np.full((5, 202), 5.0, np.float32)
    out = proc(videos=moving_square_frames(), motion=features)
    assert torch.allclose(out["motion_features"], torch.full((1, 5, 202), 2.0))


def test_chat_template_places_video_then_motion_then_question(processor):
    messages = [
        {"role": "user", "content": [{"type": "video"}, {"type": "motion"}, {"type": "text", "text": "What happens?"}]}
    ]
    text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    assert text == "<|im_start|>user\n<video><motion>What happens?<|im_end|>\n<|im_start|>assistant\n"


def test_round_trip_keeps_settings(processor, tmp_path):
    processor.motion_feature_mean = [0.5] * 202
    processor.motion_feature_std = [1.5] * 202
    processor.save_pretrained(tmp_path)
    loaded = MACMProcessor.from_pretrained(tmp_path)
    for name in (
        "num_frames",
        "patch_size",
        "motion_representation",
        "motion_num_tokens",
        "motion_feature_mean",
        "motion_feature_std",
        "chat_template",
    ):
        assert getattr(loaded, name) == getattr(processor, name), name
    assert loaded.tokenizer.get_vocab() == processor.tokenizer.get_vocab()


def test_loads_without_the_model_package_and_without_a_prompt(tiny_checkpoint, tmp_path):
    """config.json's model_type "macm" is unknown until modeling_macm is imported: loading the processor
    alone must neither ask to run the checkpoint's code nor warn about the model type."""
    script = f"""
import sys
sys.modules["modeling_macm"] = None
from processing_macm import MACMProcessor
processor = MACMProcessor.from_pretrained({tiny_checkpoint!r})
print("OK", type(processor.tokenizer).__name__)
"""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path, stdin=subprocess.DEVNULL
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "OK" in result.stdout
    output = result.stdout + result.stderr
    assert "custom code" not in output and "model of type" not in output, output


def test_missing_file(processor, tmp_path):
    with pytest.raises(VideoReadError, match="Video file not found"):
        processor(videos=str(tmp_path / "nope.mp4"))


def test_not_a_video(processor, tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("these are not video bytes")
    with pytest.raises(VideoReadError, match="could not be opened as a video"):
        processor(videos=str(path))


def test_video_with_zero_frames(processor, tmp_path):
    path = str(tmp_path / "empty.avi")  # AVI keeps a video stream header even with no frame in it
    with av.open(path, "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width = stream.height = 32
        stream.pix_fmt = "yuv420p"
        container.start_encoding()
    with pytest.raises(VideoReadError, match="contains no frames"):
        processor(videos=path)


def test_truncated_video(tmp_path):
    path = write_video(tmp_path / "full.mp4", moving_square_frames(40), fps=10)
    data = path.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(VideoReadError):
        read_video(cut, 4)


def test_write_video_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.mp4"
    with pytest.raises(ValueError, match=r"\[H, W, 3\]"):
        write_video(target, [np.zeros((8, 8), np.uint8)], fps=10)
    assert list(tmp_path.iterdir()) == []
    write_video(target, moving_square_frames(5, size=33), fps=12.5)  # odd size is padded
    info = probe_video(target)
    assert (info.num_frames, info.fps, info.width) == (5, 12.5, 34)


def test_motion_of_the_wrong_shape(tokenizer, processor):
    with pytest.raises(ValueError, match=r"non-empty \[T, 202\] feature array, got shape \(10, 7\)"):
        processor(videos=moving_square_frames(), motion=np.zeros((10, 7), np.float32))
    with pytest.raises(ValueError, match="more than motion_max_frames=64"):
        processor(videos=moving_square_frames(), motion=np.zeros((65, 202), np.float32))
    overlay = tiny_processor(tokenizer, tiny_config(tokenizer, "overlay"))
    with pytest.raises(ValueError, match=r"num_keyframes=2, H, W, 3\] keyframe images, got shape \(3, 40, 40, 3\)"):
        overlay(videos=moving_square_frames(), motion=np.zeros((3, 40, 40, 3), np.uint8))
    with pytest.raises(TypeError, match="MotionTrack, a numpy array or None, got dict"):
        overlay(videos=moving_square_frames(), motion={"joints": []})


def test_prompt_and_video_must_agree(processor):
    with pytest.raises(ValueError, match="2 videos for 1 prompts"):
        processor(text=[processor.default_prompt()], videos=[moving_square_frames()] * 2)
    with pytest.raises(ValueError, match="no <video> placeholder"):
        processor(text="just text", videos=moving_square_frames())
    with pytest.raises(ValueError, match="Video frames must be a non-empty"):
        processor(videos=np.zeros((0, 8, 8, 3), np.uint8))


def test_prefetch_keeps_order_and_raises_in_place():
    from processing_macm.video_io import prefetch

    assert list(prefetch(iter(range(100)), depth=3)) == list(range(100))

    def failing():
        yield from range(5)
        raise VideoReadError("corrupt at frame 5")

    seen = []
    with pytest.raises(VideoReadError, match="corrupt at frame 5"):
        for item in prefetch(failing(), depth=2):
            seen.append(item)
    assert seen == list(range(5))
    early = prefetch(iter(range(1000)), depth=2)
    assert next(early) == 0
    early.close()  # the producer thread stops instead of blocking on a full buffer
