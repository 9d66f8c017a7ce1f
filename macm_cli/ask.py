"""`macm ask VIDEO "QUESTION"`: the answer to a question about the person in a video, read from the motion heads and
the model's caption where the question is one `answers.py` reads, from the video, its track and the caption where
`looks.py` does (colours, how much of the body is visible, moving at all, going elsewhere, why; `--answers
generate`: the model's own); the short form of `macm caption VIDEO --prompt "QUESTION"`, with the same options
(`--model`, `--no-motion`, `--json`, ...)."""

import argparse

from . import caption


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="macm ask", description=__doc__, epilog="Other options: as `macm caption` (see `macm caption --help`)."
    )
    parser.add_argument("video", help="the video file")
    parser.add_argument("question", help='e.g. "How many times does the person squat?"')
    args, options = parser.parse_known_args(argv)
    if not args.question.strip():
        parser.error('the question is empty; ask something, e.g. "Which arm does the person raise?"')
    if "--prompt" in options:
        parser.error("the question is the second argument; --prompt is `macm caption`'s form of it")
    return caption.main([args.video, "--prompt", args.question, *options])
