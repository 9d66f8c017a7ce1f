"""Scores a model on the real-footage set (`bench/real_footage/labels.jsonl`), with and without motion.

    python bench/bench_real.py [--model macm] [--decoding greedy] [--cache DIR] [-o real_footage.json]

The clips are cut from installed files into --cache on the first run (see train/real_footage.py). Per
kind of clip, the share that passes its check: pedestrians (vtest.avi) captioned as walking, the talking
head (carphone) with no leg or whole-body action, still and empty clips with no action; the walks whose
direction the caption names as the label has it (toward, away, across either way, diagonal); and over all
clips the share of named actions that the labels do not list (invented); with motion, how many of the
questions "How many times does the person X?" about actions the clip lacks get a count, and how many answers to
questions about what a clip shows (how much of the person is visible, whether they move at all, whether they go
elsewhere) agree with the labels. Writes every caption (and answer) to -o.
"""

import argparse
import json
import sys
import time
from pathlib import Path

from train.real_footage import (
    CHECKS,
    KINDS,
    LABELS_PATH,
    LOOK_QUESTIONS,
    build_clips,
    caption_clips,
    load_labels,
    summarize,
)


def table(summaries: dict[str, dict]) -> str:
    """A markdown table: one row per clip kind and one for invented actions, one column per run."""
    runs = list(summaries)
    lines = ["| clips | check | " + " | ".join(runs) + " |", "|---|---|" + "---:|" * len(runs)]
    for kind in KINDS:
        if kind in summaries[runs[0]]:
            cells = [f"{s[kind]['passed']}/{s[kind]['clips']} ({s[kind]['rate']:.0%})" for s in summaries.values()]
            lines.append(f"| {kind} | {CHECKS[kind]} | " + " | ".join(cells) + " |")
    if "direction" in summaries[runs[0]]:
        cells = [f"{s['direction']['passed']}/{s['direction']['clips']} ({s['direction']['rate']:.0%})"
                 for s in summaries.values()]  # fmt: skip
        lines.append("| walks with a direction | names it as the camera sees it | " + " | ".join(cells) + " |")
    cells = []
    for s in summaries.values():
        rate = f" ({s['invented_rate']:.0%})" if s["actions_named"] else ""  # the rate is None then
        cells.append(f"{s['actions_invented']}/{s['actions_named']}{rate}")
    lines.append("| all | invented actions / actions named | " + " | ".join(cells) + " |")
    cells = [str(s["clips_with_invented"]) for s in summaries.values()]
    lines.append("| all | clips with an invented action | " + " | ".join(cells) + " |")
    cells = [f"{s['made_up_answers']}/{s['absent_questions']} ({s['clips_with_made_up']} clips; {s['hedged_answers']} "
             "hedged)" if "made_up_answers" in s else "–" for s in summaries.values()]  # fmt: skip
    lines.append("| all | counts given for actions the clip lacks / such questions | " + " | ".join(cells) + " |")
    for kind, question in LOOK_QUESTIONS.items():
        cells = [f"{s['looks'][kind]['passed']}/{s['looks'][kind]['clips']}" if "looks" in s else "–"
                 for s in summaries.values()]  # fmt: skip
        lines.append(f"| with a person | answers {question!r} as the labels do | " + " | ".join(cells) + " |")
    for kind in KINDS:
        cells = [f"{s[kind]['person_frames']:.0%}" if "person_frames" in s.get(kind, {}) else "–"
                 for s in summaries.values()]  # fmt: skip
        if kind in summaries[runs[0]] and set(cells) != {"–"}:
            lines.append(f"| {kind} | frames with the person found (pose backend) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="macm", help="model folder or the embedded 'macm' (default)")
    parser.add_argument("--labels", default=str(LABELS_PATH))
    parser.add_argument("--decoding", default="greedy", choices=("greedy", "msd", "grounded"))
    parser.add_argument("--cache", default=str(Path.home() / ".cache" / "macm" / "real_footage"),
                        help="folder for the clips cut from the installed sources")  # fmt: skip
    parser.add_argument("-o", "--output", default="real_footage.json", help="JSON of every caption and the scores")
    args = parser.parse_args()

    from macm_cli import MACMCaptioner

    clips = load_labels(args.labels)
    start = time.perf_counter()
    paths = build_clips(clips, args.cache)
    print(f"{len(clips)} clips in {args.cache} ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    captioner = MACMCaptioner.from_pretrained(args.model)
    runs, summaries = {}, {}
    for name, use_motion in (("with motion", True), ("without motion", False)):
        start = time.perf_counter()
        runs[name] = caption_clips(captioner, clips, paths, use_motion=use_motion, decoding=args.decoding)
        summaries[name] = summarize(clips, runs[name])
        print(f"{name}: {time.perf_counter() - start:.0f} s", file=sys.stderr)
    print(f"Real footage, model {args.model!r}, {args.decoding} decoding\n")
    print(table(summaries))
    result = {"model": args.model, "decoding": args.decoding, "labels": args.labels, "summary": summaries,
              "clips": runs}  # fmt: skip
    Path(args.output).write_text(json.dumps(result, indent=1) + "\n")
    print(f"\ncaptions: {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
