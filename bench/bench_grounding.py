"""Grounded decoding's threshold, chosen on an HMI split: each clip with a program and a person in its stored track
is captioned once into candidates (the greedy caption and `SAMPLES` sampled ones, macm_cli/grounding.py), and
the motion-detail accuracy of the choice is printed for greedy and for each threshold, side by side.

    python bench/bench_grounding.py --dataset hmi-synth-v2 --split validation [--model macm] [--thresholds 0.02 0.05]

Choose the threshold on a validation split; score the test split and the real set (`bench/bench_real.py
--decoding grounded`) with the chosen one.
"""

import argparse
import json
import sys
from pathlib import Path

import torch
from tqdm.auto import tqdm

from dataset_scripts.loading import programmed_clips
from macm_cli.captioner import MACMCaptioner
from macm_cli.grounding import SAMPLES, THRESHOLD, caption_candidates
from processing_macm import DEFAULT_PROMPT
from train.motion_accuracy import motion_accuracy

ASPECTS = ("action_recall", "action_precision", "side", "count", "speed", "order")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True, help="a built HMI-Synth folder")
    parser.add_argument("--split", default="validation")
    parser.add_argument("--model", default="macm")
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.01, THRESHOLD, 0.05, 0.1, 0.2])
    parser.add_argument("--limit", type=int, default=None, help="the first N rows of the split")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("-o", "--output", help="write the candidates and the table as JSON")
    args = parser.parse_args()

    captioner = MACMCaptioner.from_pretrained(args.model)
    model, processor = captioner.model, captioner.processor
    if model.model.motion_heads is None:
        sys.exit(f"{args.model} has no motion heads: grounded decoding keeps its greedy captions.")
    clips = programmed_clips(args.dataset, args.split, args.limit)
    if not clips:
        sys.exit(f"No row of {args.dataset} ({args.split}) has a program and a person in its stored track.")

    prompt = processor.default_prompt(DEFAULT_PROMPT, with_motion=True)
    candidates = []
    with torch.inference_mode():
        for start in tqdm(range(0, len(clips), args.batch_size), desc="candidates", unit="batch"):
            batch = clips[start : start + args.batch_size]
            inputs = processor(text=[prompt] * len(batch), videos=[c[0] for c in batch], motion=[c[1] for c in batch])
            found = caption_candidates(model, processor.tokenizer, inputs, 1.0, max_new_tokens=args.max_new_tokens)
            candidates += found  # threshold 1.0: every clip sampled

    labels = model.config.motion_head_labels["action"]
    choices = {"greedy": [0] * len(clips)} | {
        f"threshold {t:g}": [c.choice(labels, t) for c in candidates] for t in args.thresholds
    }
    table = {
        name: motion_accuracy([(c.texts[i], clip[2]) for c, clip, i in zip(candidates, clips, picked)])
        for name, picked in choices.items()
    }
    print(f"{args.model} on {args.dataset} ({args.split}, {len(clips)} clips, greedy + {SAMPLES} samples)\n")
    print("| decoding | " + " | ".join(ASPECTS) + " | captions changed |")
    print("|---|" + "---:|" * (len(ASPECTS) + 1))
    for name, scores in table.items():
        cells = [f"{scores[a]:.3f}" if scores[a] is not None else "–" for a in ASPECTS]
        print(f"| {name} | " + " | ".join(cells) + f" | {sum(i != 0 for i in choices[name])} |")
    if args.output:
        record = {"table": table, "clips": [
            {"video": clip[0], "texts": c.texts, "log_probs": c.log_probs, "evidence": c.evidence.tolist()}
            for c, clip in zip(candidates, clips)
        ]}  # fmt: skip
        Path(args.output).write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
