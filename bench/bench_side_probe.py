"""Is the side in what the language model is given? A logistic read-out of left vs right, fitted on the motion
windows of an HMI split's left and right arm and leg steps (and their mirror images, sides swapped) and scored
on another split's: from the window means of the kinematic features, from the motion encoder's windows, and
from the projected motion tokens the language model reads. A high score here beside a caption model that names
sides by habit (`bench_mirror.py --teacher-forced`) puts the loss in the language model, not in the motion.

    python bench/bench_side_probe.py --dataset hmi-synth-v3 [--model macm] [--train-split train]
        [--test-split test] [--limit 600]

A window counts when at least half of its frames lie in one left or right arm or leg step (train/motion_pretrain.py
labels, sideways steps and turns left out: their side is a direction). Features are standardised on the fit split.
"""

import argparse
import sys

import torch

from dataset_scripts.loading import load_hmi_split
from dataset_scripts.synth.programs import ACTION_SPECS
from modeling_macm import MACMForConditionalGeneration
from processing_macm import MACMProcessor
from train.motion_pretrain import ACTIONS, IGNORE, SIDES, motion_examples

LIMB_ACTIONS = torch.tensor([ACTIONS.index(a) for a, spec in ACTION_SPECS.items() if spec[0] in ("arm", "leg")])
SOURCES = ("kinematic features", "motion encoder", "motion tokens")


@torch.no_grad()
def windows(model, processor, dataset: str, split: str, limit: int) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Per source `[N, D]` window vectors of the split's one-sided limb windows, and their sides `[N]` (1 = left)."""
    rows = list(load_hmi_split(dataset, split))[:limit]
    encoder, projector = model.model.motion_encoder, model.model.motion_projector
    vectors, sides = {source: [] for source in SOURCES}, []
    for example in motion_examples(rows, processor, mirror=True, side_labels="left_right"):
        features, valid = example.features[None], example.valid[None]  # [1, T, F], [1, T]
        weights = encoder.window_weights(valid)[0]  # [Q, T]
        encoded = encoder(features, valid)[0]  # [Q, H]
        tokens = projector(encoded)  # [Q, D]
        side = torch.where(torch.isin(example.labels[:, 0], LIMB_ACTIONS), example.labels[:, 1], IGNORE)  # [T]
        for q in range(len(weights)):
            inside = weights[q] > 0
            counted = side[inside][side[inside] != IGNORE]
            if len(counted) == 0 or 2 * len(counted) < int(inside.sum()):
                continue
            sides.append(int(torch.mode(counted).values == SIDES.index("left")))
            vectors["kinematic features"].append(weights[q] @ example.features)
            vectors["motion encoder"].append(encoded[q])
            vectors["motion tokens"].append(tokens[q])
    return {source: torch.stack(v) for source, v in vectors.items()}, torch.tensor(sides)


def read_out(fit: torch.Tensor, fit_sides: torch.Tensor, test: torch.Tensor, test_sides: torch.Tensor) -> tuple:
    """Accuracy of a logistic regression on the fit windows and on the test windows."""
    mean, std = fit.mean(0), fit.std(0) + 1e-6
    fit, test = (fit - mean) / std, (test - mean) / std
    torch.manual_seed(0)
    linear = torch.nn.Linear(fit.shape[1], 1)
    optimizer = torch.optim.Adam(linear.parameters(), lr=1e-2, weight_decay=1e-3)
    for _ in range(500):
        optimizer.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(linear(fit)[:, 0], fit_sides.float()).backward()
        optimizer.step()
    with torch.no_grad():
        return tuple(
            float(((linear(x)[:, 0] > 0).long() == y).float().mean())
            for x, y in ((fit, fit_sides), (test, test_sides))
        )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True, help="HMI folder with programs (HMI-Synth)")
    parser.add_argument("--model", default="macm", help="a kinematic MACM")
    parser.add_argument("--train-split", default="train")
    parser.add_argument("--test-split", default="test")
    parser.add_argument("--limit", type=int, default=600, help="first N rows of each split")
    args = parser.parse_args(argv)
    model = MACMForConditionalGeneration.from_pretrained(args.model).eval()
    processor = MACMProcessor.from_pretrained(args.model)
    fit, fit_sides = windows(model, processor, args.dataset, args.train_split, args.limit)
    test, test_sides = windows(model, processor, args.dataset, args.test_split, args.limit)
    print(
        f"{args.model} on {args.dataset}: {len(fit_sides)} {args.train_split} and {len(test_sides)} {args.test_split} windows\n"
    )
    print(f"| read out from | {args.train_split} (fit) | {args.test_split} |")
    print("|---|---:|---:|")
    for source in SOURCES:
        fitted, scored = read_out(fit[source], fit_sides, test[source], test_sides)
        print(f"| {source} | {fitted:.3f} | {scored:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
