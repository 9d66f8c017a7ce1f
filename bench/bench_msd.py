"""Times Motion Synergetic Decoding against plain greedy decoding, and our batched MSD (both branches in
one forward pass) against a naive MSD that runs the two branches as two passes per token, as the paper
does. Random weights, a small and a medium config; one line per config.

    python bench/bench_msd.py [--new-tokens 32] [--batch-size 2] [--repeats 3] [--threads N] [--clock wall|cpu]

Per-token decode time = (time for N new tokens − time for 1) / (N − 1), best of the repeats, so the
prefill (vision tower, prompt) is left out. On a shared, busy machine wall time measures the neighbours:
`--clock cpu --threads 1` counts this process's CPU time only.
"""

import argparse
import time

import numpy as np
import torch
from transformers import DynamicCache, SiglipImageProcessorPil

from modeling_macm import MACMConfig, MACMForConditionalGeneration
from modeling_macm.decoding_msd import msd_scores
from processing_macm import MACMProcessor
from train.tokenizer import train_tokenizer

CORPUS = ["The person raises the left arm twice, then waves with the right hand and walks forward."] * 8
SIZES = {  # name: (text hidden, layers, heads, kv heads, vocab, vision hidden, image size, frames)
    "small": (64, 2, 4, 2, None, 32, 32, 4),
    "medium": (512, 8, 8, 2, 32000, 128, 64, 8),
}


def build(size: str):
    hidden, layers, heads, kv_heads, vocab, vision_hidden, image_size, frames = SIZES[size]
    tokenizer = train_tokenizer(CORPUS, vocab_size=400)
    config = MACMConfig(
        vision_config=dict(model_type="siglip_vision_model", hidden_size=vision_hidden, intermediate_size=2 * vision_hidden,
                           num_hidden_layers=2, num_attention_heads=2, image_size=image_size, patch_size=8,
                           vision_use_head=False),
        text_config=dict(model_type="qwen2", hidden_size=hidden, intermediate_size=hidden * 11 // 4,
                         num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=kv_heads,
                         vocab_size=vocab or len(tokenizer), eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id),
        video_token_id=tokenizer.convert_tokens_to_ids("<video>"),
        motion_token_id=tokenizer.convert_tokens_to_ids("<motion>"),
        num_keyframes=4,
    )  # fmt: skip
    processor = MACMProcessor(
        image_processor=SiglipImageProcessorPil(size={"height": image_size, "width": image_size}),
        tokenizer=tokenizer,
        num_frames=frames,
        patch_size=8,
        num_keyframes=config.num_keyframes,
    )
    torch.manual_seed(0)
    return MACMForConditionalGeneration(config).eval(), processor


@torch.no_grad()
def naive_msd(model, inputs, video_only_inputs, new_tokens: int) -> torch.LongTensor:
    """MSD as two cached passes per token, one per branch (equal-length prompts: no padding to handle)."""
    config = model.config
    caches = DynamicCache(config=config.text_config), DynamicCache(config=config.text_config)
    motion_step, video_step, tokens = dict(inputs), dict(video_only_inputs), []
    for _ in range(new_tokens):
        motion_logits = model(**motion_step, past_key_values=caches[0], use_cache=True, logits_to_keep=1).logits[:, -1]
        video_logits = model(**video_step, past_key_values=caches[1], use_cache=True, logits_to_keep=1).logits[:, -1]
        scores = msd_scores(
            motion_logits.float(), video_logits.float(), config.msd_alpha, config.msd_beta, config.msd_theta
        )
        tokens.append(scores.argmax(-1, keepdim=True))
        motion_step = video_step = {"input_ids": tokens[-1]}
    return torch.cat(tokens, dim=-1)


def per_token_seconds(decode, new_tokens: int, repeats: int, clock) -> float:
    def best(n):
        times = []
        for _ in range(repeats):
            start = clock()
            decode(n)
            times.append(clock() - start)
        return min(times)

    return (best(new_tokens) - best(1)) / (new_tokens - 1)


def bench(size: str, batch_size: int, new_tokens: int, repeats: int, clock) -> None:
    model, processor = build(size)
    rng = np.random.default_rng(0)
    videos = [rng.integers(0, 255, (16, 48, 48, 3), dtype=np.uint8) for _ in range(batch_size)]
    keyframes = [rng.integers(0, 255, (4, 48, 48, 3), dtype=np.uint8) for _ in range(batch_size)]
    inputs = processor(text=[processor.default_prompt()] * batch_size, videos=videos, motion=keyframes)
    video_only = processor(text=[processor.default_prompt(with_motion=False)] * batch_size, videos=videos)
    prompt_length = inputs["input_ids"].shape[1]

    def greedy(n):
        return model.generate(**inputs, do_sample=False, max_new_tokens=n, min_new_tokens=n)

    def msd(n):
        return model.generate(**inputs, motion_synergetic=True, max_new_tokens=n, eos_token_id=None)

    batched_tokens = msd(new_tokens)[:, prompt_length:]
    if not torch.equal(batched_tokens, naive_msd(model, inputs, video_only, new_tokens)):
        raise SystemExit(f"{size}: batched and naive MSD chose different tokens")
    seconds = {
        "greedy": per_token_seconds(greedy, new_tokens, repeats, clock),
        "msd": per_token_seconds(msd, new_tokens, repeats, clock),
        "naive": per_token_seconds(lambda n: naive_msd(model, inputs, video_only, n), new_tokens, repeats, clock),
    }
    parameters = sum(p.numel() for p in model.parameters()) / 1e6
    print(
        f"{size:6s} ({parameters:5.1f}M params, vocab {model.config.text_config.vocab_size}, prompt {prompt_length}, "
        f"batch {batch_size}): greedy {seconds['greedy'] * 1e3:6.2f} ms/token  MSD {seconds['msd'] * 1e3:6.2f}  "
        f"naive MSD {seconds['naive'] * 1e3:6.2f}  |  MSD/greedy {seconds['msd'] / seconds['greedy']:.2f}x  "
        f"MSD/naive {seconds['msd'] / seconds['naive']:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, CPU, {args.threads} threads, {args.clock} clock")
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    for size in SIZES:
        bench(size, args.batch_size, args.new_tokens, args.repeats, clock)


if __name__ == "__main__":
    main()
