"""`macm convert`: a tiny random LLaVA-OneVision checkpoint written here converts to an M-ACM with the same
video-only logits, a working motion pathway, the source's chat template and special tokens."""

import json
import math

import numpy as np
import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import (
    AutoModelForImageTextToText,
    AutoProcessor,
    LlamaConfig,
    LlamaForCausalLM,
    LlavaOnevisionConfig,
    LlavaOnevisionForConditionalGeneration,
    LlavaOnevisionImageProcessorPil,
    PreTrainedTokenizerFast,
)
from utils import CORPUS, IMAGE_SIZE, PATCH_SIZE, moving_square_frames, tiny_text_config, tiny_vision_config

from modeling_macm import MACMForConditionalGeneration
from modeling_macm.convert_llava_onevision import convert, main

# LLaVA-OneVision's own chat template (llava-hf conversion script): images, then videos, then text.
LLAVA_OV_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n'}}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}{{ '<image>' }}{% endfor %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'video') %}{{ '<video>' }}{% endfor %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{ '\n' + content['text'] }}{% endfor %}"
    "{{'<|im_end|>\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
NUM_FRAMES = 4


def llava_tokenizer() -> PreTrainedTokenizerFast:
    """A word-level tokenizer with LLaVA-OneVision's special tokens and no `<motion>`."""
    words = sorted({word for line in CORPUS for word in line.split()} | {"assistant", "user", "\n"})
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<image>", "<video>"]
    backend = Tokenizer(models.WordLevel({w: i for i, w in enumerate(specials + words)}, unk_token="<|endoftext|>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    tokenizer.add_tokens(specials, special_tokens=True)
    return tokenizer


def write_llava_onevision(path, vocab_padding: int = 0, seed: int = 0) -> LlavaOnevisionForConditionalGeneration:
    """A tiny random LLaVA-OneVision checkpoint as transformers and the llava-hf repositories lay it out."""
    tokenizer = llava_tokenizer()
    config = LlavaOnevisionConfig(
        vision_config=tiny_vision_config(),
        text_config=tiny_text_config(len(tokenizer) + vocab_padding),
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
        video_token_index=tokenizer.convert_tokens_to_ids("<video>"),
    )
    torch.manual_seed(seed)
    model = LlavaOnevisionForConditionalGeneration(config).eval()
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    LlavaOnevisionImageProcessorPil(
        size={"height": IMAGE_SIZE, "width": IMAGE_SIZE}, image_mean=CLIP_MEAN
    ).save_pretrained(path)
    (path / "chat_template.jinja").write_text(LLAVA_OV_TEMPLATE)  # what LlavaOnevisionProcessor.save_pretrained writes
    return model


def video_only_inputs(config, tokens_per_video: int):
    """Processor-free inputs: two clips and prompts in which `<video>` has the same id for both models."""
    pixels = torch.randn(2, NUM_FRAMES, 3, IMAGE_SIZE, IMAGE_SIZE, generator=torch.Generator().manual_seed(0))
    prompt = torch.tensor([1, 9, 10] + [config.video_token_id] * tokens_per_video + [11, 12, 2])
    return {"input_ids": torch.stack([prompt, prompt.flip(0)]), "pixel_values_videos": pixels}


@pytest.mark.parametrize("vocab_padding", [0, 8], ids=["motion-token-appended", "embedding-table-padded"])
def test_video_only_logits_equal_llava_onevision(tmp_path, vocab_padding):
    source = write_llava_onevision(tmp_path / "llava", vocab_padding)
    convert(tmp_path / "llava", tmp_path / "macm")
    model = AutoModelForImageTextToText.from_pretrained(tmp_path / "macm").eval()
    assert type(model) is MACMForConditionalGeneration

    vocab = source.config.text_config.vocab_size
    # Appending `<motion>` grows the table only where the source had no spare rows.
    assert model.config.text_config.vocab_size == (vocab + 1 if vocab_padding == 0 else vocab)
    assert model.config.motion_token_id == len(llava_tokenizer())
    # LLaVA-OV's processor counts video tokens as frames × ceil(side/2)² + 1, like M-ACM.
    side = IMAGE_SIZE // PATCH_SIZE
    assert model.config.video_tokens(NUM_FRAMES) == NUM_FRAMES * math.ceil(side / 2) ** 2 + 1
    inputs = video_only_inputs(model.config, model.config.video_tokens(NUM_FRAMES))
    with torch.no_grad():
        expected = source(**inputs).logits
        logits = model(**inputs).logits
    torch.testing.assert_close(logits[..., :vocab], expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(
        model.model.motion_projector.linear_1.weight, source.model.multi_modal_projector.linear_1.weight
    )


def test_converted_processor_carries_template_tokens_and_runs_with_motion(tmp_path):
    write_llava_onevision(tmp_path / "llava")
    assert (
        main(
            [
                str(tmp_path / "llava"),
                "-o",
                str(tmp_path / "macm"),
                "--num-frames",
                str(NUM_FRAMES),
                "--num-keyframes",
                "2",
            ]
        )
        == 0
    )
    model = AutoModelForImageTextToText.from_pretrained(tmp_path / "macm").eval()
    processor = AutoProcessor.from_pretrained(tmp_path / "macm")

    prompt = processor.default_prompt()
    assert prompt.startswith("<|im_start|>user\n<video><motion>\n")  # the source's layout, motion after the video
    assert processor.tokenizer.convert_tokens_to_ids("<motion>") == model.config.motion_token_id
    assert processor.tokenizer.padding_side == "left"
    assert processor.image_processor.image_mean == pytest.approx(CLIP_MEAN)  # normalisation from the source
    assert model.config.num_keyframes == 2 and processor.num_frames == NUM_FRAMES

    keyframes = np.random.default_rng(0).integers(0, 255, (2, 40, 40, 3), dtype=np.uint8)
    inputs = processor(text=[prompt, prompt], videos=[moving_square_frames()] * 2, motion=[keyframes, None])
    with torch.no_grad():
        out = model(**inputs)
    assert out.motion_hidden_states.shape == (
        1,
        model.config.motion_tokens_per_clip,
        model.config.text_config.hidden_size,
    )
    assert torch.isfinite(out.logits).all()
    generated = model.generate(**inputs, max_new_tokens=3, min_new_tokens=3, do_sample=False)
    assert generated.shape == (2, inputs["input_ids"].shape[1] + 3)


def test_bf16_sdpa_load(tmp_path):
    write_llava_onevision(tmp_path / "llava")
    convert(tmp_path / "llava", tmp_path / "macm", dtype="bfloat16")
    assert json.loads((tmp_path / "macm" / "config.json").read_text())["dtype"] == "bfloat16"
    model = AutoModelForImageTextToText.from_pretrained(
        tmp_path / "macm", dtype=torch.bfloat16, attn_implementation="sdpa", device_map="cpu"
    )
    assert model.dtype == torch.bfloat16
    assert model.config.text_config._attn_implementation == "sdpa"
    inputs = video_only_inputs(model.config, model.config.video_tokens(NUM_FRAMES))
    with torch.no_grad():
        assert model(**inputs).logits.dtype == torch.bfloat16


def test_wrong_architecture_is_refused_and_nothing_is_written(tmp_path):
    LlamaForCausalLM(
        LlamaConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, vocab_size=50)
    ).save_pretrained(tmp_path / "llama")
    with pytest.raises(
        ValueError,
        match=r"holds model_type 'llama' \(architectures \['LlamaForCausalLM'\]\).*expects a "
        r"transformers-native LLaVA-OneVision checkpoint \(model_type 'llava_onevision'",
    ):
        convert(tmp_path / "llama", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(SystemExit) as error:
        main([str(tmp_path / "llama"), "-o", str(tmp_path / "out")])
    assert error.value.code == 2


def test_existing_output_is_kept_without_overwrite(tmp_path):
    (tmp_path / "macm").mkdir()
    with pytest.raises(FileExistsError, match="pass --overwrite"):
        convert(tmp_path / "llava", tmp_path / "macm")
