"""The embedded model on a GPU beside the CPU, in one run: the greedy, side-grounded and MSD captions of one
clip, the time of `generate`, and a training step (loss, gradients) in float32 and bfloat16.

A GPU machine may have neither PyAV nor MediaPipe, so the inputs are made where they are installed:

.venv/bin/python bench/bench_gpu.py --save-inputs gpu_inputs.pt [--video examples/walk.mp4]
python bench/bench_gpu.py --inputs gpu_inputs.pt [--repeats 5] [-o gpu.json]
"""

import argparse
import json
import statistics
import time

import torch

from modeling_macm import MACMForConditionalGeneration
from processing_macm import DEFAULT_PROMPT, MACMProcessor

MODEL = "macm"
DECODINGS = {"greedy": {"ground_sides": False}, "sides": {}, "msd": {"motion_synergetic": True}}


def save_inputs(video: str, path: str) -> None:
    from macm_cli import MACMCaptioner

    captioner = MACMCaptioner.from_pretrained(MODEL)
    processor = captioner.processor
    track = captioner.estimate_motion(video)
    inputs = processor(
        text=[processor.default_prompt(DEFAULT_PROMPT, with_motion=True)], videos=[video], motion=[track]
    )
    torch.save({"video": video, "inputs": dict(inputs)}, path)
    print(f"wrote {path}: " + ", ".join(f"{k} {tuple(v.shape)}" for k, v in inputs.items()))


def to(inputs: dict, device: str, dtype: torch.dtype) -> dict:
    return {k: v.to(device, dtype) if v.is_floating_point() else v.to(device) for k, v in inputs.items()}


def timed(fn, repeats: int, device: str) -> float:
    def run():
        start = time.perf_counter()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start

    run()  # warm-up
    return statistics.median(run() for _ in range(repeats))


def train_step(model, inputs: dict, sequence: torch.Tensor, autocast: bool) -> tuple[float, float, int, int]:
    """One teacher-forced step on the model's own caption: the loss, the gradient norm, the trainable tensors the
    caption loss does not reach (the motion heads, trained by motion pretraining) and those with a non-finite grad."""
    prompt_length = inputs["input_ids"].shape[1]
    labels = sequence.clone()
    labels[:, :prompt_length] = -100  # [1, L]: the caption alone carries the loss
    batch = dict(inputs, input_ids=sequence, attention_mask=torch.ones_like(sequence), labels=labels)
    model.train()
    model.zero_grad()
    with torch.autocast(sequence.device.type, dtype=torch.bfloat16, enabled=autocast):
        loss = model(**batch).loss
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    reached = [g for g in grads if g is not None]
    nonfinite = sum(not torch.isfinite(g).all() for g in reached)
    norm = torch.linalg.vector_norm(torch.stack([g.float().norm() for g in reached])).item()
    model.eval()
    return loss.item(), norm, len(grads) - len(reached), int(nonfinite)


def measure(inputs: dict, device: str, dtype: torch.dtype, repeats: int, tokenizer) -> dict:
    model = MACMForConditionalGeneration.from_pretrained(MODEL, dtype=dtype).to(device).eval()
    batch = to(inputs, device, dtype)
    prompt_length = batch["input_ids"].shape[1]
    row = {"device": device, "dtype": str(dtype).removeprefix("torch.")}
    with torch.no_grad():
        outputs = {
            name: model.generate(**batch, max_new_tokens=96, do_sample=False, **options)
            for name, options in DECODINGS.items()
        }
        row.update({name: tokenizer.decode(out[0, prompt_length:], skip_special_tokens=True).strip()
                    for name, out in outputs.items()})  # fmt: skip
        sequence = outputs["greedy"]  # [1, L]: the prompt and the greedy caption, for the training step
        row["new_tokens"] = sequence.shape[1] - prompt_length
        row["generate_s"] = timed(lambda: model.generate(**batch, max_new_tokens=96, do_sample=False), repeats, device)
    # bfloat16 weights are for inference; training in bfloat16 is float32 weights under autocast (Trainer's `bf16`).
    train_model = model if dtype == torch.float32 else model.float()
    row["loss"], row["grad_norm"], row["no_grad"], row["nonfinite_grad"] = train_step(
        train_model, to(inputs, device, torch.float32), sequence, autocast=dtype == torch.bfloat16
    )
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--save-inputs", metavar="FILE", help="decode --video, estimate its pose, write the inputs")
    parser.add_argument("--video", default="examples/walk.mp4")
    parser.add_argument("--inputs", metavar="FILE", help="the file --save-inputs wrote")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("-o", "--output", help="also write the rows as JSON")
    args = parser.parse_args()
    if args.save_inputs:
        return save_inputs(args.video, args.save_inputs)
    if not args.inputs:
        parser.error("give --save-inputs FILE (where PyAV and MediaPipe are) or --inputs FILE")
    if not torch.cuda.is_available():
        parser.error("no CUDA device: this benchmark compares the CPU with a GPU")
    saved = torch.load(args.inputs)
    tokenizer = MACMProcessor.from_pretrained(MODEL).tokenizer
    print(
        f"{saved['video']}: {torch.cuda.get_device_name()}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads"
    )
    rows = [
        measure(saved["inputs"], device, dtype, args.repeats, tokenizer)
        for device, dtype in (("cpu", torch.float32), ("cuda", torch.float32), ("cuda", torch.bfloat16))
    ]
    for row in rows:
        print(json.dumps(row))
    cpu, cuda, bf16 = rows
    print(
        f"greedy caption equal to the CPU's: float32 {cuda['greedy'] == cpu['greedy']}, bfloat16 {bf16['greedy'] == cpu['greedy']}"
    )
    print(f"sides and MSD equal (float32): {cuda['sides'] == cpu['sides']}, {cuda['msd'] == cpu['msd']}")
    print(f"generate: CPU {cpu['generate_s']:.3f} s, GPU float32 {cuda['generate_s']:.3f} s "
          f"({cpu['generate_s'] / cuda['generate_s']:.1f}x), bfloat16 {bf16['generate_s']:.3f} s")  # fmt: skip
    print(
        f"training step loss: CPU {cpu['loss']:.5f}, GPU {cuda['loss']:.5f} (float32), {bf16['loss']:.5f} (bf16 autocast)"
    )
    if args.output:
        with open(args.output, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
