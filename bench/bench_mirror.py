"""Does a model read the side from the motion, or name it by habit? Each clip of an HMI split whose program
has a left or right arm or leg action is captioned twice: as it is, and mirrored left to right (frames and track,
train/augment.py), where every side swaps. Side accuracy on each, and how often a side named in both
captions flips with the mirror (a model that names sides by habit names the same side both times).

    python bench/bench_mirror.py --dataset hmi-synth-v2 [--split test] [--model macm --model DIR ...]

Rows without a person in their stored track are left out (their caption names no side from motion).

`--heads`: the motion heads alone, on every window of the split's clips and of their mirror images (the labels of
train/motion_pretrain.py, sides swapped on the mirror): accuracy read as the heads are, and averaged with the mirror
image (`config.motion_feature_mirror`, modeling_macm/side_grounding.py), and how often the left/right call of a
window flips with the mirror.
"""

import argparse
import json
import sys

import numpy as np
import torch

from dataset_scripts.loading import load_hmi_split
from dataset_scripts.schema import program_from_row, row_to_track
from macm_cli.captioner import MACMCaptioner
from modeling_macm.side_grounding import read_motion_heads
from processing_macm import read_video
from train.augment import mirror_frames, mirror_text, mirror_track
from train.motion_accuracy import match_steps, parse_caption_steps
from train.motion_pretrain import HEAD_LABELS, motion_examples, window_targets
from train.side_loss import side_token_ids

SIDES = ("left", "right")
SWAP = {"left": "right", "right": "left"}


def side_of(step: dict) -> str | None:
    """The left or right of an arm or leg action (the caption grammar's parser reads no direction)."""
    return step["side"] if step.get("side") in SIDES else None


def sided_rows(dataset: str, split: str, limit: int | None) -> list[dict]:
    rows = []
    for row in load_hmi_split(dataset, split):
        program = program_from_row(row)
        track = row_to_track(row["motion"]) if row["motion"] is not None else None
        if program and track is not None and track.has_person and any(side_of(s) for s in program):
            rows.append({"video": row["video"], "program": program, "track": track, "caption": row["caption"]})
    return rows[:limit]


def score(captioner: MACMCaptioner, dataset: str, rows: list[dict]) -> dict:
    right, flipped = {"original": [0, 0], "mirrored": [0, 0]}, [0, 0]
    for row in rows:
        frames = read_video(f"{dataset}/{row['video']}")[0]
        original, mirrored = captioner.caption(
            [frames, mirror_frames(frames)], tracks=[row["track"], mirror_track(row["track"])]
        )
        named = {}
        for view, result, swap in (("original", original, False), ("mirrored", mirrored, True)):
            steps = parse_caption_steps(result.caption)
            named[view] = {}
            for g, p in match_steps(steps, row["program"]):
                truth, said = side_of(row["program"][g]), side_of(steps[p])
                if truth is None:
                    continue
                right[view][0] += said == (SWAP[truth] if swap else truth)
                right[view][1] += 1
                named[view][g] = said
        for g in set(named["original"]) & set(named["mirrored"]):
            if named["original"][g] in SIDES and named["mirrored"][g] in SIDES:
                flipped[0] += named["original"][g] != named["mirrored"][g]
                flipped[1] += 1
    rate = lambda pair: round(pair[0] / pair[1], 3) if pair[1] else None  # noqa: E731
    return {
        "clips": len(rows),
        "side_original": rate(right["original"]),
        "side_mirrored": rate(right["mirrored"]),
        "sided_steps_matched": right["original"][1] + right["mirrored"][1],
        "flips_with_the_mirror": rate(flipped),
        "pairs_compared": flipped[1],
    }


def side_log_odds(captioner: MACMCaptioner, frames, track, caption: str, left: int, right: int) -> tuple:
    """At each side word of `caption`, teacher-forced: log p(" left") - log p(" right") before it, and +1 where
    the word is "left" (token `left`), -1 where it is "right" (`[S]` each)."""
    processor, tokenizer = captioner.processor, captioner.processor.tokenizer
    answer = caption + tokenizer.eos_token
    batch = processor(text=[processor.default_prompt() + answer], videos=[frames], motion=[track])
    with torch.no_grad():
        logits = captioner.model(**batch).logits[0]  # [T, V]
    ids = batch["input_ids"][0].tolist()
    start = len(ids) - len(tokenizer(answer, add_special_tokens=False)["input_ids"])
    sided = [p for p in range(start, len(ids)) if ids[p] in (left, right)]
    log_probs = logits[[p - 1 for p in sided]].log_softmax(-1)  # [S, V]
    truth = np.array([1.0 if ids[p] == left else -1.0 for p in sided])
    return (log_probs[:, left] - log_probs[:, right]).numpy(), truth


def score_teacher_forced(captioner: MACMCaptioner, dataset: str, rows: list[dict]) -> dict:
    sides = side_token_ids(captioner.processor.tokenizer)
    original, mirrored = [], []
    for row in rows:
        frames = read_video(f"{dataset}/{row['video']}")[0]
        original.append(side_log_odds(captioner, frames, row["track"], row["caption"], *sides))
        mirrored.append(
            side_log_odds(
                captioner, mirror_frames(frames), mirror_track(row["track"]), mirror_text(row["caption"]), *sides
            )
        )
    (original, truth), (mirrored, mirrored_truth) = (map(np.concatenate, zip(*view)) for view in (original, mirrored))
    return {
        "side_words": len(truth),
        "side_right_original": round(float(np.mean(np.sign(original) == truth)), 3),
        "side_right_mirrored": round(float(np.mean(np.sign(mirrored) == mirrored_truth)), 3),
        "flips_with_the_mirror": round(float(np.mean(np.sign(original) != np.sign(mirrored))), 3),
        "mean_abs_log_odds": round(float(np.mean(np.abs(np.concatenate([original, mirrored])))), 4),
    }


def score_heads(captioner: MACMCaptioner, dataset: str, split: str) -> dict:
    """Window accuracy of each head `(as is, mirrored)` without and with mirror averaging, over `split`'s clips and
    their mirror images; `side` counts the windows of a left or right step."""
    model, processor = captioner.model, captioner.processor
    original, sides = model.config.motion_feature_mirror, HEAD_LABELS["side"]
    mirror = original or processor.motion_feature_mirror()
    examples = motion_examples(load_hmi_split(dataset, split), processor, mirror=True)  # clip, mirror, clip, ...
    right = {(mode, view): np.zeros(len(HEAD_LABELS)) for mode in ("heads", "averaged") for view in (0, 1)}
    counted = np.zeros((2, len(HEAD_LABELS)))  # per view; a clip and its mirror image have the same windows
    flips = {"heads": [0, 0], "averaged": [0, 0]}
    windows_of = [model.model.motion_encoder.window_weights(e.valid[None])[0] for e in examples]  # [Q, T] each
    for mode in ("heads", "averaged"):
        model.config.motion_feature_mirror = mirror if mode == "averaged" else None
        calls = []
        for k, (example, weights) in enumerate(zip(examples, windows_of)):
            outputs, _ = read_motion_heads(model, example.features[None], example.valid[None])
            for h, name in enumerate(HEAD_LABELS):
                target, mass = window_targets(weights, example.labels[:, h], len(HEAD_LABELS[name]))  # [Q, C], [Q]
                windows, truth = mass > 0.5, target.argmax(-1)
                if name == "side":
                    windows &= (truth == sides.index("left")) | (truth == sides.index("right"))
                right[mode, k % 2][h] += int((outputs[name][0].argmax(-1) == truth)[windows].sum())
                if mode == "heads":
                    counted[k % 2][h] += int(windows.sum())
            lr = outputs["side"][0][:, [sides.index("left"), sides.index("right")]].argmax(-1)  # [Q]
            calls.append(lr[weights.sum(-1) > 0])
        for original, mirrored in zip(calls[0::2], calls[1::2]):
            flips[mode][0] += int((original != mirrored).sum())
            flips[mode][1] += len(original)
    model.config.motion_feature_mirror = original
    return {
        "clips": len(examples) // 2,
        "windows": dict(zip(HEAD_LABELS, counted[0].astype(int).tolist())),
        **{
            f"{mode}, {'mirrored' if view else 'as is'}": dict(
                zip(HEAD_LABELS, (r / np.maximum(counted[view], 1)).round(3).tolist())
            )
            for (mode, view), r in right.items()
        },
        "left/right calls that flip with the mirror": {m: round(a / max(b, 1), 3) for m, (a, b) in flips.items()},
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True, help="HMI folder with programs (HMI-Synth)")
    parser.add_argument("--split", default="test")
    parser.add_argument("--model", action="append", help="repeatable (default: macm)")
    parser.add_argument("--limit", type=int, default=None, help="first N sided clips only")
    parser.add_argument(
        "--teacher-forced", action="store_true", help="log-odds of the sides of the reference captions"
    )
    parser.add_argument("--heads", action="store_true", help="the motion heads' windows, with and without the mirror")
    args = parser.parse_args(argv)
    if args.heads:
        results = {
            name: score_heads(MACMCaptioner.from_pretrained(name), args.dataset, args.split)
            for name in args.model or ["macm"]
        }
        print("| model | read | " + " | ".join(HEAD_LABELS) + " | left/right calls that flip |")
        print("|---|---|" + "---:|" * (len(HEAD_LABELS) + 1))
        for name, r in results.items():
            for mode in ("heads", "averaged"):
                for view in ("as is", "mirrored"):
                    cells = " | ".join(str(r[f"{mode}, {view}"][h]) for h in HEAD_LABELS)
                    flips = r["left/right calls that flip with the mirror"][mode]
                    print(f"| {name} | {mode}, {view} | {cells} | {flips} |")
        print(json.dumps(results, indent=2))
        return 0
    rows = sided_rows(args.dataset, args.split, args.limit)
    if args.teacher_forced:
        return print_teacher_forced(args, rows)
    results = {name: score(MACMCaptioner.from_pretrained(name), args.dataset, rows) for name in args.model or ["macm"]}
    print(f"{len(rows)} clips of {args.dataset} ({args.split}) with a left or right step and a person in the track\n")
    print("| model | side right, as is | side right, mirrored | sides that flip with the mirror |")
    print("|---|---:|---:|---:|")
    for name, r in results.items():
        print(
            f"| {name} | {r['side_original']} | {r['side_mirrored']} | {r['flips_with_the_mirror']} ({r['pairs_compared']} pairs) |"
        )
    print(json.dumps(results, indent=2))
    return 0


def print_teacher_forced(args, rows: list[dict]) -> int:
    results = {
        name: score_teacher_forced(MACMCaptioner.from_pretrained(name), args.dataset, rows)
        for name in args.model or ["macm"]
    }
    print(f"{len(rows)} clips of {args.dataset} ({args.split}); the sides of their captions, teacher-forced\n")
    print(
        "| model | side words | true side preferred, as is | mirrored | preference flips with the mirror | mean abs log-odds |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(
            f"| {name} | {r['side_words']} | {r['side_right_original']} | {r['side_right_mirrored']} | "
            f"{r['flips_with_the_mirror']} | {r['mean_abs_log_odds']} |"
        )
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
