"""Stage 0 for kinematic models built from scratch: the motion encoder learns to name what each of its time
windows shows before the language model ever reads it.

A small language model trained from scratch reaches a low loss by writing its most frequent sentence; on
HMI-Synth v2 (idle clips, one-action clips, cut framings) that sentence wins and the motion tokens are never
read (see modeling_macm/default_model/README.md). HMI-Synth rows carry the program that generated them, so
each frame has a label: the action, its side, its count and its speed. Here the encoder (`MACMMotionEncoder`)
and four linear heads (`MACMMotionHeads`) learn those labels on its pooled windows, the exact tokens the
language model will be given. A model with heads of its own (train/motion_heads.py) keeps them, and
`generate` names limb sides with them; otherwise fresh heads are thrown away afterwards. Mirrored tracks
(train/augment.py) swap the side labels; the features are jittered (`jitter_motion`) and, with `perturb`,
each step's tracks get a new random movement gain and noise (`perturb_track`).

Most frames have no side ("none"): trained on every frame, the side head's cheapest answer is "none" and the
encoder never learns left from right (session 6: 0.36 on left/right windows). With `side_labels="left_right"`
the side head is trained and scored only on frames of a left or right action.

Only rows with a program (HMI-Synth) and a person in the track take part; other rows are left out.
"""

import math
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from dataset_scripts.schema import program_from_row, row_to_track
from dataset_scripts.synth.programs import ACTIONS
from modeling_macm.modeling_macm import MACMMotionHeads
from processing_macm.motion_track import MotionTrack
from train.augment import jitter_motion, mirror_track, perturb_track

SIDES = ("none", "left", "right", "both")
SPEEDS = ("none", "slow", "normal", "fast")
MAX_COUNT = 16  # the most repetitions a program step has (a run)
IGNORE = -100
SIDE_LABELS = ("all", "left_right")
# What the heads read from each window, in the order of `frame_labels`' columns.
HEAD_LABELS = {
    "action": list(ACTIONS),
    "side": list(SIDES),
    "count": [str(n) for n in range(MAX_COUNT + 1)],
    "speed": list(SPEEDS),
}


def _side(step: dict) -> str:
    """The step's side; a sideways step or a turn takes its left/right direction as its side."""
    if step.get("side") in SIDES:
        return step["side"]
    return step["direction"] if step.get("direction") in ("left", "right") else "none"


def frame_labels(
    program: list[dict], num_frames: int, rate: float, mirrored: bool, side_labels: str = "all"
) -> np.ndarray:
    """`[T, 4]` int64 labels (action, side, count, speed) of the frames sampled at `rate` per second;
    `IGNORE` where no step of the program covers the frame, and with `side_labels="left_right"` the side
    `IGNORE` where it is neither left nor right."""
    if side_labels not in SIDE_LABELS:
        raise ValueError(f"side_labels must be one of {SIDE_LABELS}, not {side_labels!r}.")
    labels = np.full((num_frames, 4), IGNORE, np.int64)
    times = np.arange(num_frames) / rate
    swap = {"left": "right", "right": "left"}
    for step in program:
        side = _side(step)
        if mirrored:
            side = swap.get(side, side)
        inside = (times >= step["start"]) & (times < step["end"])
        labels[inside] = (
            ACTIONS.index(step["action"]),
            SIDES.index(side),
            min(step.get("count") or 0, MAX_COUNT),
            SPEEDS.index(step.get("speed") or "none"),
        )
    if side_labels == "left_right":
        sided = np.isin(labels[:, 1], [SIDES.index("left"), SIDES.index("right")])
        labels[~sided, 1] = IGNORE
    return labels


@dataclass
class MotionExample:
    features: torch.Tensor  # [T, F] normalised
    valid: torch.Tensor  # [T] bool
    labels: torch.Tensor  # [T, 4]
    track: MotionTrack  # what the features were computed from (mirrored where the labels are)


def motion_examples(rows, processor, mirror: bool, side_labels: str = "all") -> list[MotionExample]:
    """The labelled motion of every row with a program and a person (and of its mirror image if `mirror`)."""
    examples = []
    for row in rows:
        program = program_from_row(row)
        track = row_to_track(row["motion"]) if row["motion"] is not None else None
        if not program or track is None or not track.has_person:
            continue
        for mirrored in (False, True) if mirror else (False,):
            seen = mirror_track(track) if mirrored else track
            item = processor.motion_input(seen)
            if item is None:
                continue
            features, valid = item
            rate = len(features) / (track.num_frames / track.fps)
            labels = frame_labels(program, len(features), rate, mirrored, side_labels)
            examples.append(MotionExample(features, valid, torch.from_numpy(labels), seen))
    return examples


def _perturbed(example: MotionExample, processor, rng: np.random.Generator) -> MotionExample:
    """The example's features recomputed from its track after `perturb_track`; labels unchanged."""
    features, valid = processor.motion_input(perturb_track(example.track, rng))
    return replace(example, features=features, valid=valid)


def _batch(examples: list[MotionExample]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    length = max(len(e.features) for e in examples)
    features = torch.zeros(len(examples), length, examples[0].features.shape[-1])
    valid = torch.zeros(len(examples), length, dtype=torch.bool)
    labels = torch.full((len(examples), length, 4), IGNORE, dtype=torch.long)
    for i, e in enumerate(examples):
        features[i, : len(e.features)], valid[i, : len(e.valid)], labels[i, : len(e.labels)] = (
            e.features,
            e.valid,
            e.labels,
        )
    return features, valid, labels


def window_targets(weights: torch.Tensor, labels: torch.Tensor, num_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Each window's label mix `[..., Q, C]` (the labelled frames it averages, `weights [..., Q, T]`, of one head's
    `labels [..., T]`) and its mass `[..., Q]`: the share of the window's frames that have a label."""
    onehot = nn.functional.one_hot(labels.clamp(min=0), num_classes).float() * (labels != IGNORE)[..., None]
    target = weights @ onehot  # [..., Q, C]
    mass = target.sum(-1)
    return target / mass.clamp(min=1e-6)[..., None], mass


def window_losses(encoder, heads, features, valid, labels) -> tuple[torch.Tensor, list[tuple[int, int]]]:
    """Soft cross-entropy of each head against its window's label mix (the frames each window averages);
    also (correct, counted) per head for the windows with labels, then for the side head on the windows
    whose side is left or right (most windows have none, so the side head's score alone hides a coin toss)."""
    windows = encoder(features, valid)  # [B, Q, H]
    weights = encoder.window_weights(valid)  # [B, Q, T]
    total, scores = windows.new_zeros(()), []
    outputs = heads(windows)  # a saved model's heads come back in the config's (sorted) order
    for k, logits in enumerate(outputs[name] for name in HEAD_LABELS):
        target, mass = window_targets(weights, labels[..., k], logits.shape[-1])  # [B, Q, C], [B, Q]
        loss = -(target * logits.log_softmax(-1)).sum(-1)  # [B, Q]
        total = total + (loss * mass).sum() / mass.sum().clamp(min=1e-6)
        counted = mass > 0.5
        truth = target.argmax(-1)  # [B, Q]
        right = logits.argmax(-1) == truth
        scores.append((int(right[counted].sum()), int(counted.sum())))
        if k == 1:
            sided = counted & ((truth == SIDES.index("left")) | (truth == SIDES.index("right")))
            side_scores = (int(right[sided].sum()), int(sided.sum()))
    return total, scores + [side_scores]


def pretrain_motion_encoder(
    model,
    processor,
    train_rows,
    eval_rows=None,
    steps: int = 2000,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    mirror: bool = True,
    perturb: bool = False,
    side_labels: str = "all",
    seed: int = 0,
    train_encoder: bool = True,
) -> dict:
    """Trains `model`'s motion encoder and heads in place on the window labels of `train_rows` (HMI rows with
    a program); with `perturb`, every step reads its tracks through `perturb_track`; `side_labels` as in
    `frame_labels`; with `train_encoder=False` only the heads learn. The model's own heads are used where it
    has them (`model.model.motion_heads`), fresh ones otherwise. Returns the log: the final training loss and,
    with `eval_rows`, the window accuracy of each head on them."""
    encoder = model.model.motion_encoder
    if encoder is None:
        raise ValueError("Motion pretraining is for kinematic models; this model's motion pathway is 'overlay'.")
    train = motion_examples(train_rows, processor, mirror, side_labels)
    if not train:
        raise ValueError(
            "Motion pretraining needs rows with a motion program (HMI-Synth, `ground_truth.program`) and a person "
            "in the track; this dataset has none. Set `motion_pretrain_steps: 0`."
        )
    heads = model.model.motion_heads
    if heads is None:
        heads = MACMMotionHeads(encoder.norm.normalized_shape[0], HEAD_LABELS)
    elif model.config.motion_head_labels != HEAD_LABELS:
        own = model.config.motion_head_labels
        differ = sorted(name for name in {*HEAD_LABELS, *own} if own.get(name) != HEAD_LABELS.get(name))
        raise ValueError(
            f"Motion pretraining teaches heads {HEAD_LABELS}; this model's differ in {differ}: fit fresh heads "
            f"on a model without them."
        )
    parameters = list(heads.parameters()) + (list(encoder.parameters()) if train_encoder else [])
    optimizer = torch.optim.AdamW(parameters, lr=learning_rate, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * step / steps)))
    generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    encoder.train()
    trainable = [p.requires_grad for p in encoder.parameters()]
    encoder.requires_grad_(train_encoder)  # heads only: no gradients through the encoder
    try:
        progress = tqdm(range(steps), desc="motion pretraining", unit="step")
        for _ in progress:
            picked = torch.randint(len(train), (min(batch_size, len(train)),), generator=generator)
            features, valid, labels = _batch(
                [_perturbed(train[i], processor, rng) if perturb else train[i] for i in picked]
            )
            loss, _ = window_losses(encoder, heads, *jitter_motion(features, valid, generator=generator), labels)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(parameters, 1.0)
            optimizer.step()
            schedule.step()
            progress.set_postfix(loss=f"{loss.item():.3f}")
    finally:
        for p, flag in zip(encoder.parameters(), trainable):
            p.requires_grad_(flag)
    log = {"steps": steps, "train_examples": len(train), "perturb": perturb, "side_labels": side_labels}
    log["train_encoder"] = train_encoder
    log["final_loss"] = round(loss.item(), 4)
    if eval_rows is not None:
        examples = motion_examples(eval_rows, processor, mirror=False, side_labels=side_labels)
        log["eval"] = evaluate_windows(encoder, heads, examples)
    return log


@torch.no_grad()
def evaluate_windows(encoder, heads, examples: list[MotionExample], batch_size: int = 64) -> dict:
    """Window accuracy per head (action, side, count, speed) over `examples`, and of the side head on the
    windows of a left or right action (`side_lr`)."""
    encoder.eval()
    correct, counted = np.zeros(5), np.zeros(5)
    for start in range(0, len(examples), batch_size):
        _, scores = window_losses(encoder, heads, *_batch(examples[start : start + batch_size]))
        correct += [c for c, _ in scores]
        counted += [n for _, n in scores]
    encoder.train()
    names = ("action", "side", "count", "speed", "side_lr")
    return {"examples": len(examples)} | {
        f"{n}_accuracy": round(float(c / max(k, 1)), 4) for n, c, k in zip(names, correct, counted)
    }


__all__ = ["HEAD_LABELS", "frame_labels", "pretrain_motion_encoder", "evaluate_windows", "window_targets"]
