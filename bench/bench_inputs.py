"""Does the language model read the clip? Teacher-forced loss of a model on an HMI split's captions and answers,
with its inputs whole, without the motion track, and with the video frames blanked. A caption loss that does
not move without the motion means the captions come from the language model's prior, whatever the clip shows:
check this before a long training run, and on a run's checkpoints.

    python bench/bench_inputs.py --model macm-135m --dataset hmi-synth-v2 [--split test] [--limit 32]
        [--batch-size 8] [-o inputs.json]

The first `--limit` caption conversations and the first `--limit` answers (conversations of the split in order,
answers being every QA pair) are scored, in batches; one model call per batch and condition.
"""

import argparse
import json
import sys
from pathlib import Path

import torch

from dataset_scripts.loading import load_hmi_split
from modeling_macm import MACMForConditionalGeneration
from processing_macm import DEFAULT_PROMPT, MACMProcessor
from train.collator import MACMCollator
from train.data import RowsToConversations, resolve_dataset_dir

CONDITIONS = ("whole", "no motion", "blank video")


def conversations(dataset_dir: Path, split: str, limit: int) -> dict[str, list[dict]]:
    """The split's first `limit` caption conversations and first `limit` QA conversations."""
    to_conversations = RowsToConversations(dataset_dir)
    kinds = {"captions": [], "answers": []}
    for row in load_hmi_split(dataset_dir, split):
        batch = to_conversations({name: [value] for name, value in row.items()})
        for i in range(len(batch["id"])):
            kind = kinds["captions" if batch["prompt"][i] == DEFAULT_PROMPT else "answers"]
            if len(kind) < limit:
                kind.append({name: values[i] for name, values in batch.items()})
        if all(len(kind) == limit for kind in kinds.values()):
            break
    return kinds


@torch.no_grad()
def losses(model, processor, examples: list[dict], batch_size: int) -> dict[str, float]:
    """Mean per-token loss of `examples` under each condition."""
    collators = {condition: MACMCollator(processor, use_motion=condition != "no motion") for condition in CONDITIONS}
    totals = dict.fromkeys(CONDITIONS, 0.0)
    tokens = 0
    for start in range(0, len(examples), batch_size):
        chunk = examples[start : start + batch_size]
        for condition, collate in collators.items():
            batch = collate(chunk)
            if condition == "blank video":
                batch["pixel_values_videos"] = torch.zeros_like(batch["pixel_values_videos"])
            counted = int((batch["labels"][:, 1:] != -100).sum())  # the loss is shifted by one
            totals[condition] += model(**batch).loss.item() * counted
        tokens += counted
    return {condition: round(total / tokens, 4) for condition, total in totals.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="macm", help="a model name or folder (default: the embedded model)")
    parser.add_argument("--dataset", required=True, help="an HMI folder with motion tracks")
    parser.add_argument("--split", default="test")
    parser.add_argument("--limit", type=int, default=32, help="caption and QA conversations, each (default 32)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("-o", "--output", type=Path, help="also write the figures as JSON")
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    model = MACMForConditionalGeneration.from_pretrained(args.model).eval()
    processor = MACMProcessor.from_pretrained(args.model)
    kinds = conversations(resolve_dataset_dir(args.dataset, "--dataset"), args.split, args.limit)
    figures = {}
    for kind, examples in kinds.items():
        if not examples:
            continue
        figures[kind] = {"n": len(examples)} | losses(model, processor, examples, args.batch_size)
        print(f"{kind} ({len(examples)}): " + ", ".join(f"{c} {figures[kind][c]:.4f}" for c in CONDITIONS))
    if args.output:
        args.output.write_text(json.dumps({"model": args.model, "dataset": args.dataset} | figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
