"""Prefill and per-token decode latency of a small M-ACM: video-only vs +overlay vs +kinematic, one run.

.venv/bin/python bench/bench_latency.py [--repeats 3] [--new-tokens 32]
"""

import argparse
import statistics
import time

import numpy as np
import torch
from transformers import SiglipImageProcessorPil

from modeling_macm import MACMConfig, MACMForConditionalGeneration
from processing_macm import MACMProcessor
from train.tokenizer import train_tokenizer


def small_config(tokenizer, representation: str) -> MACMConfig:
    return MACMConfig(
        vision_config=dict(
            model_type="siglip_vision_model",
            hidden_size=192,
            intermediate_size=768,
            num_hidden_layers=4,
            num_attention_heads=3,
            image_size=224,
            patch_size=16,
            vision_use_head=False,
        ),
        text_config=dict(
            model_type="qwen2",
            hidden_size=384,
            intermediate_size=1024,
            num_hidden_layers=6,
            num_attention_heads=6,
            num_key_value_heads=2,
            vocab_size=len(tokenizer),
        ),
        video_token_id=tokenizer.convert_tokens_to_ids("<video>"),
        motion_token_id=tokenizer.convert_tokens_to_ids("<motion>"),
        motion_representation=representation,
    )


def timed(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--new-tokens", type=int, default=32)
    args = parser.parse_args()
    torch.manual_seed(0)
    tokenizer = train_tokenizer(["a person raises the left arm twice and waves"] * 20, vocab_size=500)
    rng = np.random.default_rng(0)
    video = rng.integers(0, 255, (32, 224, 224, 3), dtype=np.uint8)
    cases = {
        "video-only": ("overlay", None),
        "+overlay": ("overlay", rng.integers(0, 255, (4, 224, 224, 3), dtype=np.uint8)),
        "+kinematic": ("kinematic", rng.normal(size=(60, 202)).astype(np.float32)),
    }
    rows = {}
    for name, (representation, motion) in cases.items():
        config = small_config(tokenizer, representation)
        model = MACMForConditionalGeneration(config).eval()
        processor = MACMProcessor(
            SiglipImageProcessorPil(size={"height": 224, "width": 224}),
            tokenizer,
            num_frames=8,
            patch_size=16,
            motion_representation=representation,
        )
        inputs = processor(videos=video, motion=motion)
        with torch.no_grad():
            prefill = timed(lambda model=model, inputs=inputs: model(**inputs), args.repeats)
            full = timed(
                lambda model=model, inputs=inputs: model.generate(
                    **inputs, max_new_tokens=args.new_tokens, min_new_tokens=args.new_tokens, do_sample=False
                ),
                args.repeats,
            )
        per_token = (full - prefill) / (args.new_tokens - 1)
        rows[name] = (inputs["input_ids"].shape[1], prefill, per_token)
    base = rows["video-only"]
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.new_tokens} new tokens, median of {args.repeats}"
    )
    print(f"{'case':<12} {'prompt':>7} {'prefill ms':>11} {'x video':>8} {'ms/token':>9} {'x video':>8}")
    for name, (length, prefill, per_token) in rows.items():
        print(
            f"{name:<12} {length:>7} {prefill * 1e3:>11.1f} {prefill / base[1]:>8.2f} {per_token * 1e3:>9.2f} {per_token / base[2]:>8.2f}"
        )


if __name__ == "__main__":
    main()
