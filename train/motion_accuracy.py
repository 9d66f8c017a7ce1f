"""Motion-detail accuracy: does a caption say the right actions, sides, counts, speeds, in the right order?

BLEU and CIDEr reward the annotation style more than motion accuracy. Where
the ground truth is known, HMI-Synth's generating `program` (a list of steps `{"action", "side", "limb",
"count", "speed", "direction", "start", "end"}`), the caption is parsed back into steps with the
synthetic caption grammar (`dataset_scripts/synth/grammar.py`, `parse_caption`) and compared step by
step. Scores are micro-averaged over the corpus: every checkable fact counts once. The limb is not
scored: in HMI-Synth each action has one limb, so a right action always has the right limb.
"""

from collections import Counter
from collections.abc import Sequence

# Step attributes checked on each matched step; a None in the program means "not applicable".
ATTRIBUTES = ("side", "count", "speed")
ASPECTS = ("action_recall", "action_precision", *ATTRIBUTES, "order", "exact")


def match_steps(predicted: Sequence[dict], program: Sequence[dict]) -> list[tuple[int, int]]:
    """Pairs `(program index, predicted index)`: the k-th occurrence of an action in the program with
    the k-th occurrence of the same action in the caption."""
    seen: dict[str, list[int]] = {}
    for index, step in enumerate(predicted):
        seen.setdefault(step["action"], []).append(index)
    used = Counter()
    pairs = []
    for index, step in enumerate(program):
        candidates = seen.get(step["action"], [])
        if used[step["action"]] < len(candidates):
            pairs.append((index, candidates[used[step["action"]]]))
            used[step["action"]] += 1
    return pairs


def step_tallies(predicted: Sequence[dict], program: Sequence[dict]) -> dict[str, list[int]]:
    """`{aspect: [correct, checked]}` for one caption's parsed steps against its program.

    action_recall: program steps whose action the caption names; action_precision: caption steps
    that are in the program; side/count/speed: matched steps with that attribute right (only where the
    program sets it); order: matched steps in the program's order, counted as adjacent pairs; exact: the
    caption reproduces the whole program (actions, order and every attribute), one check per caption.
    """
    pairs = match_steps(predicted, program)
    tallies = {
        "action_recall": [len(pairs), len(program)],
        "action_precision": [len(pairs), len(predicted)],
    }
    for name in ATTRIBUTES:
        checked = [(program[g], predicted[p]) for g, p in pairs if program[g].get(name) is not None]
        tallies[name] = [sum(str(gt[name]) == str(pr.get(name)) for gt, pr in checked), len(checked)]
    positions = [p for _, p in pairs]  # in program order
    tallies["order"] = [sum(a < b for a, b in zip(positions, positions[1:])), max(len(positions) - 1, 0)]
    exact = len(predicted) == len(program) == len(pairs) and positions == sorted(positions)
    exact = exact and all(str(program[g].get(n)) == str(predicted[p].get(n)) for g, p in pairs for n in ATTRIBUTES)
    tallies["exact"] = [int(exact), 1]
    return tallies


def parse_caption_steps(caption: str) -> list[dict]:
    """The caption's steps, by the synthetic grammar's parser (written beside the HMI-Synth generator)."""
    try:
        from dataset_scripts.synth.grammar import parse_caption
    except ImportError as err:
        raise ImportError(
            "Motion-detail accuracy parses captions with dataset_scripts/synth/grammar.py (`parse_caption`), "
            f"which could not be imported ({err})."
        ) from err
    return list(parse_caption(caption))


def motion_accuracy(items: Sequence[tuple[str, Sequence[dict]]]) -> dict:
    """Micro-averaged accuracy per aspect over `(caption, program)` pairs, plus the counts behind it.
    An aspect nothing could check (e.g. no program step has a side) is None, not 0 or 1."""
    totals = {aspect: [0, 0] for aspect in ASPECTS}
    for caption, program in items:
        for aspect, (correct, checked) in step_tallies(parse_caption_steps(caption), program).items():
            totals[aspect][0] += correct
            totals[aspect][1] += checked
    result = {aspect: (correct / checked if checked else None) for aspect, (correct, checked) in totals.items()}
    result["num_items"] = len(items)
    result["checked"] = {aspect: checked for aspect, (_, checked) in totals.items()}
    return result


__all__ = ["ASPECTS", "ATTRIBUTES", "match_steps", "motion_accuracy", "parse_caption_steps", "step_tallies"]
