"""What evidence a run of windows needs before a retold caption names it (macm_cli/story.py), chosen side by side:
every clip is captioned once (grounded decoding, the language model's story), then retold with each `--evidence`
(one or more `windows:probability` pairs, any of which tells a run: "5:0.5,3:0.6" is five windows whose action the
heads give 0.5 on average, or three at 0.6), with and without the caption's own actions where the heads read them,
and scored: on an HMI split (clips with a program and a person in the stored track) by motion-detail accuracy, on the
real set (`--real`) by its checks and the actions its labels do not list.

    python bench/bench_story.py --dataset hmi9 --split validation [--limit N] [--evidence 5:0 5:0.5,3:0.6]
    python bench/bench_story.py --real --cache DIR

Choose on a validation split and the real set; score the test split after.
"""

import argparse
import os
import sys
from pathlib import Path

from tqdm.auto import tqdm

from dataset_scripts.loading import programmed_clips
from macm_cli.captioner import MACMCaptioner
from macm_cli.story import retell
from train.motion_accuracy import motion_accuracy
from train.real_footage import build_clips, load_labels, score_caption, summarize

ASPECTS = ("action_recall", "action_precision", "side", "count", "speed", "order")


def caption_all(captioner, videos: list, tracks: list, batch_size: int = 16) -> list[str]:
    """The grounded captions of `videos` with their `tracks`, the language model's story kept."""
    captions = []
    for start in tqdm(range(0, len(videos), batch_size), desc="captions", unit="batch"):
        batch = slice(start, start + batch_size)
        captions += [result.caption for result in captioner.caption(videos[batch], tracks[batch], ground_story=False)]
    return captions


def evidence(text: str) -> tuple[tuple[int, float], ...]:
    """`--evidence`'s "5:0.5,3:0.6" as `((5, 0.5), (3, 0.6))`."""
    try:
        return tuple((int(windows), float(least)) for windows, least in (pair.split(":") for pair in text.split(",")))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not windows:probability pairs, e.g. 5:0.5,3:0.6") from None


def stories(captioner, captions: list[str], tracks: list, rules: list) -> dict[str, list[str]]:
    """`captions` as written and retold with runs of each evidence rule of `rules`, with the caption's actions kept
    where the heads read them (the default) and without; stated captions stay (`heads_reading`)."""
    readings = [captioner.heads_reading(caption, track) for caption, track in zip(captions, tracks)]
    told = {"as written": captions}
    for rule, keep in [(rule, keep) for rule in rules for keep in (True, False)]:
        name = (
            "runs of " + " or ".join(f"{n} at {p:g}" for n, p in rule) + (" and the caption's" if keep else " alone")
        )
        told[name] = [retell(caption, reading, rule, keep) for caption, reading in zip(captions, readings)]
    return told


def hmi_table(captioner, args) -> None:
    clips = programmed_clips(args.dataset, args.split, args.limit)
    if not clips:
        sys.exit(f"No row of {args.dataset} ({args.split}) has a program and a person in its stored track.")
    tracks = [track for _, track, _ in clips]
    captions = caption_all(captioner, [video for video, _, _ in clips], tracks)
    print(f"\n{args.model} on {args.dataset} ({args.split}, {len(clips)} clips)\n")
    print("| story | " + " | ".join(ASPECTS) + " | captions changed |")
    print("|---|" + "---:|" * (len(ASPECTS) + 1))
    for name, texts in stories(captioner, captions, tracks, args.evidence).items():
        scores = motion_accuracy([(text, program) for text, (_, _, program) in zip(texts, clips)])
        cells = [f"{scores[a]:.3f}" if scores[a] is not None else "–" for a in ASPECTS]
        print(f"| {name} | " + " | ".join(cells) + f" | {sum(a != b for a, b in zip(texts, captions))} |")


def real_table(captioner, args) -> None:
    clips = load_labels()
    paths = build_clips(clips, args.cache)
    videos = [os.fspath(paths[clip["id"]]) for clip in clips]
    tracks = [captioner.estimate_motion(video) for video in videos]
    captions = caption_all(captioner, videos, tracks)
    print(f"\n{args.model} on the real set ({len(clips)} clips)\n")
    print("| story | walks named | directions | stills | invented / named | clips with an invented action |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, texts in stories(captioner, captions, tracks, args.evidence).items():
        summary = summarize(clips, [score_caption(clip, text) for clip, text in zip(clips, texts)])
        cells = [f"{summary[k]['passed']}/{summary[k]['clips']}" for k in ("pedestrian", "direction", "still")]
        cells += [f"{summary['actions_invented']}/{summary['actions_named']}", str(summary["clips_with_invented"])]
        print(f"| {name} | " + " | ".join(cells) + " |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", help="a built HMI-Synth folder")
    parser.add_argument("--split", default="validation")
    parser.add_argument("--real", action="store_true", help="the real set (bench/real_footage) instead")
    parser.add_argument("--cache", default=str(Path.home() / ".cache" / "macm" / "real_footage"),
                        help="folder for the real clips cut from the installed sources")  # fmt: skip
    parser.add_argument("--model", default="macm")
    parser.add_argument("--evidence", type=evidence, nargs="+", default=[evidence("5:0"), evidence("5:0.5,3:0.6")],
                        help="rules to compare, each windows:probability pairs (default: 5:0 5:0.5,3:0.6)")  # fmt: skip
    parser.add_argument("--limit", type=int, default=None, help="the first N rows of the split")
    args = parser.parse_args()
    if not args.real and not args.dataset:
        parser.error("give --dataset (an HMI-Synth folder) or --real")
    captioner = MACMCaptioner.from_pretrained(args.model)
    if captioner.model.model.motion_heads is None:
        sys.exit(f"{args.model} has no motion heads: its captions are not retold.")
    if args.real:
        real_table(captioner, args)
    else:
        hmi_table(captioner, args)


if __name__ == "__main__":
    main()
