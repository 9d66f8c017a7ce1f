"""Gives a trained kinematic MACM motion heads that name limb sides at generation (`side_grounding.py`).

The heads are the linear read-outs of motion pretraining (train/motion_pretrain.py), kept in the model:
`config.motion_head_labels` names their labels and `config.side_grounding` holds the token ids `generate` reads
(" left", " right", and the words that name each action in HMI-Synth captions and questions,
dataset_scripts/synth/grammar.py). Here they learn on a frozen encoder, so the captions change only where a
side is named:

    python -m train.motion_heads --model macm --dataset hmi-synth-v3 --output runs/macm-heads [--steps 1500]
"""

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from dataset_scripts.synth.grammar import CHEST_UP_VERBS, CUT_VERBS, VERBS
from dataset_scripts.synth.programs import ACTION_SPECS, DIRECTIONS
from modeling_macm.modeling_macm import MACMMotionHeads
from train.motion_pretrain import HEAD_LABELS

# Actions whose steps take a left or right side in motion pretraining's labels: limbs, sideways steps, turns.
SIDED_ACTIONS = [
    action
    for action, (_, sides, _, _) in ACTION_SPECS.items()
    if "left" in sides or "left" in DIRECTIONS.get(action, ())
]


def action_words(action: str) -> list[str]:
    """What names `action` in HMI-Synth text: each caption phrase's words before its first slot (at most two),
    and the question form ("wave", "arm circles")."""
    phrases = [*VERBS[action], *CUT_VERBS.get(action, ()), *CHEST_UP_VERBS.get(action, ())]
    words = {" ".join(phrase.split("{")[0].split(",")[0].split()[:2]) for phrase in phrases}
    return sorted(words | {action.replace("_", " ")})


def side_grounding_table(tokenizer) -> dict:
    """`config.side_grounding` for `tokenizer`: the ids of " left" and " right" (one token each), of "left" and
    "right" where those are one token of their own (an answer's first word), and the id sequences of every
    action's words, each after a space as they stand in a sentence."""
    left, right = (tokenizer(f" {side}", add_special_tokens=False)["input_ids"] for side in ("left", "right"))
    if len(left) != 1 or len(right) != 1:
        raise ValueError(
            f"Side grounding needs ' left' and ' right' to be one token each; they are {left} and {right}."
        )
    pairs = [[left[0], right[0]]]
    bare = [tokenizer(side, add_special_tokens=False)["input_ids"] for side in ("left", "right")]
    if all(len(ids) == 1 for ids in bare) and [bare[0][0], bare[1][0]] != pairs[0]:
        pairs.append([bare[0][0], bare[1][0]])
    words = {
        action: [tokenizer(f" {w}", add_special_tokens=False)["input_ids"] for w in action_words(action)]
        for action in HEAD_LABELS["action"]
    }
    return {"left": left[0], "right": right[0], "pairs": pairs, "words": words, "sided": SIDED_ACTIONS}


def attach_motion_heads(model, tokenizer) -> None:
    """Adds untrained heads (`HEAD_LABELS`) and the side-grounding table to a kinematic `model`, in place."""
    if model.model.motion_encoder is None:
        raise ValueError("Motion heads read the kinematic motion encoder; this model's motion pathway is 'overlay'.")
    model.config.motion_head_labels = HEAD_LABELS
    model.config.side_grounding = side_grounding_table(tokenizer)
    heads = MACMMotionHeads(model.config.motion_hidden_size, HEAD_LABELS)
    model.model.motion_heads = heads.to(model.model.motion_encoder.input_proj.weight)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.motion_heads", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a kinematic MACM (folder, repo or 'macm')")
    parser.add_argument("--dataset", required=True, help="HMI folder with motion programs (HMI-Synth)")
    parser.add_argument("--output", required=True, help="new model folder (must not exist)")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--train-split", default="train")
    parser.add_argument("--eval-split", default="validation")
    parser.add_argument("--perturb", action="store_true", help="read every track through perturb_track")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    output = Path(args.output)
    if output.exists():
        parser.error(f"{output} exists; choose a new folder.")

    from dataset_scripts.loading import load_hmi_split
    from modeling_macm import MACMForConditionalGeneration
    from processing_macm import MACMProcessor
    from train.motion_pretrain import pretrain_motion_encoder

    model = MACMForConditionalGeneration.from_pretrained(args.model)
    processor = MACMProcessor.from_pretrained(args.model)
    if model.model.motion_heads is None:
        attach_motion_heads(model, processor.tokenizer)
    model.config.motion_feature_mirror = processor.motion_feature_mirror()
    columns = ["motion", "ground_truth"]
    log = pretrain_motion_encoder(
        model, processor,
        load_hmi_split(args.dataset, args.train_split).select_columns(columns),
        load_hmi_split(args.dataset, args.eval_split).select_columns(columns),
        steps=args.steps, perturb=args.perturb, side_labels="left_right", seed=args.seed, train_encoder=False,
    )  # fmt: skip
    log |= {"model": args.model, "dataset": args.dataset}
    # Written beside the target and renamed when complete, so a failed run leaves no folder that looks finished.
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}-", dir=output.parent))
    try:
        model.save_pretrained(staging)
        processor.save_pretrained(staging)
        (staging / "motion_heads.json").write_text(json.dumps(log, indent=2) + "\n")
        staging.rename(output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    print(json.dumps(log))
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["SIDED_ACTIONS", "action_words", "attach_motion_heads", "side_grounding_table"]
