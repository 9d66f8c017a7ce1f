"""The model on tiny random configs: shapes, loss, the placeholder contract, save/load, generation."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from transformers import AutoModelForImageTextToText, AutoProcessor, LlamaConfig, LlamaForCausalLM
from utils import moving_square_frames, tiny_config, tiny_model, tiny_processor

from modeling_macm import EMBEDDED_MODEL_DIR, MACMConfig, MACMForConditionalGeneration


def motion_for(representation: str, seed: int = 0):
    rng = np.random.default_rng(seed)
    if representation == "overlay":
        return rng.integers(0, 255, (2, 40, 40, 3), dtype=np.uint8)  # [K, H, W, 3] keyframes
    return rng.normal(size=(20, 202)).astype(np.float32)  # [T, F] kinematic features


def inputs_for(tokenizer, config, motion=True, frames_seed=0):
    processor = tiny_processor(tokenizer, config)
    item = motion_for(config.motion_representation, frames_seed) if motion else None
    return processor(
        text=processor.default_prompt(with_motion=motion) + "The person waves.",
        videos=moving_square_frames(seed=frames_seed),
        motion=item,
    )


@pytest.mark.parametrize("representation", ["overlay", "kinematic"])
@pytest.mark.parametrize("with_motion", [True, False])
def test_forward_shapes(tokenizer, representation, with_motion):
    config = tiny_config(tokenizer, representation)
    inputs = inputs_for(tokenizer, config, motion=with_motion)
    out = tiny_model(config)(**inputs)
    batch, length = inputs["input_ids"].shape
    assert out.logits.shape == (batch, length, config.text_config.vocab_size)
    assert out.video_hidden_states.shape == (1, config.video_tokens(4), config.text_config.hidden_size)
    if with_motion:
        assert out.motion_hidden_states.shape == (1, config.motion_tokens_per_clip, config.text_config.hidden_size)
        assert (inputs["input_ids"] == config.motion_token_id).sum() == config.motion_tokens_per_clip
    else:
        assert out.motion_hidden_states is None
        assert not inputs["motion_mask"].any()
        assert (inputs["input_ids"] == config.motion_token_id).sum() == 0


@pytest.mark.parametrize("representation", ["overlay", "kinematic"])
def test_loss_finite_and_falls_when_overfitting(tokenizer, representation):
    config = tiny_config(tokenizer, representation)
    inputs = inputs_for(tokenizer, config)
    labels = inputs["input_ids"].clone()
    labels[(labels == config.video_token_id) | (labels == config.motion_token_id)] = -100
    model = tiny_model(config).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        loss = model(**inputs, labels=labels).loss
        assert torch.isfinite(loss)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses


def test_motion_changes_the_logits(tokenizer):
    config = tiny_config(tokenizer, "kinematic")
    model = tiny_model(config)
    a = model(**inputs_for(tokenizer, config, frames_seed=0)).logits[:, -1]
    processor = tiny_processor(tokenizer, config)
    other = processor(
        text=processor.default_prompt() + "The person waves.",
        videos=moving_square_frames(seed=0),
        motion=motion_for("kinematic", seed=5),
    )
    assert not torch.allclose(a, model(**other).logits[:, -1])


def test_kinematic_tokens_are_time_windows_of_the_valid_frames(tokenizer):
    encoder = tiny_model(tiny_config(tokenizer, "kinematic")).model.motion_encoder
    encoder.num_tokens = 2
    valid = torch.tensor([[1, 1, 0, 1, 1, 1, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0]], dtype=torch.bool)
    weights = encoder.window_weights(valid)  # [B, Q, T]
    # 5 valid frames: ranks 0-2 (frames 0, 1, 3) → window 0, ranks 3-4 (frames 4, 5) → window 1.
    expected = torch.tensor([[1, 1, 0, 1, 0, 0, 0, 0], [0, 0, 0, 0, 1, 1, 0, 0]]) / torch.tensor([[3.0], [2.0]])
    assert torch.allclose(weights[0], expected)
    # One valid frame, two windows: the first holds it, the second is empty (all zero).
    assert torch.equal(weights[1], torch.tensor([[1.0, 0, 0, 0, 0, 0, 0, 0], [0.0] * 8]))


def test_a_clip_with_no_valid_motion_frame_gives_finite_tokens(tokenizer):
    # A person seen in one frame of 79 can leave no valid frame at the motion rate (4 of 979 HMI-Synth v3 clips).
    encoder = tiny_model(tiny_config(tokenizer, "kinematic")).model.motion_encoder.eval()
    features = torch.randn(2, 8, encoder.input_proj.in_features)
    valid = torch.tensor([[True] * 6 + [False] * 2, [False] * 8])
    with torch.no_grad():
        both, alone = encoder(features, valid), encoder(features[:1], valid[:1])  # [B, Q, H]
    assert torch.isfinite(both).all()
    assert torch.allclose(both[:1], alone, atol=1e-5)  # the other clip is read as before
    assert torch.allclose(both[1], both[1, :1].expand_as(both[1]))  # every window pools nothing: one token


@pytest.mark.parametrize("representation", ["overlay", "kinematic"])
def test_placeholder_count_mismatch_names_both_counts(tokenizer, representation):
    config = tiny_config(tokenizer, representation)
    model = tiny_model(config)
    inputs = inputs_for(tokenizer, config)
    ids = inputs["input_ids"].clone()
    first_motion = int((ids[0] == config.motion_token_id).nonzero()[0])
    ids[0, first_motion] = tokenizer.convert_tokens_to_ids("<|im_start|>")
    expected = config.motion_tokens_per_clip
    with pytest.raises(ValueError, match=rf"{expected - 1} `<motion>` tokens.*gives {expected} feature vectors"):
        model(**{**inputs, "input_ids": ids})
    with pytest.raises(ValueError, match=rf"{config.video_tokens(4)} `<video>` tokens.*gives 0 feature vectors"):
        model(**{k: v for k, v in inputs.items() if k != "pixel_values_videos"})


def test_save_load_identical_logits_through_auto_classes(tokenizer, tmp_path):
    config = tiny_config(tokenizer, "kinematic")
    model, processor = tiny_model(config), tiny_processor(tokenizer, config)
    model.save_pretrained(tmp_path)
    processor.save_pretrained(tmp_path)
    loaded = AutoModelForImageTextToText.from_pretrained(tmp_path).eval()
    loaded_processor = AutoProcessor.from_pretrained(tmp_path)
    assert type(loaded) is MACMForConditionalGeneration
    assert loaded_processor.num_video_tokens == processor.num_video_tokens
    prompt = processor.default_prompt()
    args = dict(videos=moving_square_frames(), motion=motion_for("kinematic"))
    inputs, loaded_inputs = processor(text=prompt, **args), loaded_processor(text=prompt, **args)
    for key in inputs:
        assert torch.equal(inputs[key], loaded_inputs[key]), key
    with torch.no_grad():
        assert torch.equal(model(**inputs).logits, loaded(**loaded_inputs).logits)


def test_remote_code_loads_without_the_packages(tiny_checkpoint, tmp_path):
    script = f"""
import sys
sys.modules["modeling_macm"] = None  # any import of the installed packages now fails
sys.modules["processing_macm"] = None
import numpy as np, torch
from transformers import AutoModelForImageTextToText, AutoProcessor
model = AutoModelForImageTextToText.from_pretrained({tiny_checkpoint!r}, trust_remote_code=True)
processor = AutoProcessor.from_pretrained({tiny_checkpoint!r}, trust_remote_code=True)
assert type(model).__module__.startswith("transformers_modules"), type(model).__module__
frames = np.zeros((6, 40, 40, 3), np.uint8)
keyframes = np.zeros((2, 40, 40, 3), np.uint8)
inputs = processor(text=processor.default_prompt(), videos=frames, motion=keyframes)
print("OK", tuple(model(**inputs).logits.shape))
"""
    env = {**os.environ, "HF_MODULES_CACHE": str(tmp_path / "modules"), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "OK" in result.stdout


@pytest.mark.parametrize("representation", ["overlay", "kinematic"])
def test_generate_with_cache_equals_without(tokenizer, representation):
    config = tiny_config(tokenizer, representation)
    model = tiny_model(config)
    inputs = inputs_for(tokenizer, config)
    kwargs = dict(max_new_tokens=8, do_sample=False, min_new_tokens=8)
    cached = model.generate(**inputs, use_cache=True, **kwargs)
    uncached = model.generate(**inputs, use_cache=False, **kwargs)
    assert torch.equal(cached, uncached)


def test_padded_batch_generates_as_each_alone(tokenizer):
    config = tiny_config(tokenizer, "overlay")
    model, processor = tiny_model(config), tiny_processor(tokenizer, config)
    prompts = [processor.default_prompt(), processor.default_prompt("What does the left leg do? Answer in detail.")]
    videos = [moving_square_frames(seed=1), moving_square_frames(seed=2)]
    motions = [motion_for("overlay", 1), motion_for("overlay", 2)]
    kwargs = dict(max_new_tokens=6, min_new_tokens=6, do_sample=False)
    batch = processor(text=prompts, videos=videos, motion=motions)
    assert (batch["attention_mask"] == 0).any(), "the prompts should differ in length"
    batched = model.generate(**batch, **kwargs)[:, batch["input_ids"].shape[1] :]
    for i in range(2):
        alone = processor(text=prompts[i], videos=videos[i], motion=motions[i])
        single = model.generate(**alone, **kwargs)[:, alone["input_ids"].shape[1] :]
        assert torch.equal(batched[i], single[0])


def test_auto_classes_load_the_embedded_model_from_its_folder():
    """The name "macm" is the M-ACM classes'; the Auto classes take the folder (see README, "What is in the box")."""
    model = AutoModelForImageTextToText.from_pretrained(EMBEDDED_MODEL_DIR)
    processor = AutoProcessor.from_pretrained(EMBEDDED_MODEL_DIR)
    assert type(model) is MACMForConditionalGeneration
    assert model.config.to_dict() == MACMForConditionalGeneration.from_pretrained("macm").config.to_dict()
    assert processor.num_motion_tokens == model.config.motion_tokens_per_clip


def test_checkpoint_of_another_model_type_is_refused(tmp_path):
    LlamaForCausalLM(
        LlamaConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, vocab_size=50)
    ).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="holds a 'llama' checkpoint, not an M-ACM"):
        MACMForConditionalGeneration.from_pretrained(tmp_path)


def test_config_validation_names_the_bad_value(tokenizer):
    with pytest.raises(ValueError, match="motion_representation must be 'overlay' or 'kinematic', got 'mesh'"):
        tiny_config(tokenizer, "mesh")
    with pytest.raises(ValueError, match="msd_alpha needs 6 values"):
        tiny_config(tokenizer, msd_alpha=[1.0, 2.0])
    assert MACMConfig().tokens_per_frame == 196  # SigLIP-384/14: 27x27 patches pooled to 14x14
