"""`macm caption VIDEO`: a fine-grained motion caption of a video, offline, on the embedded default model."""

import argparse
import json
import sys
import time
from pathlib import Path

from processing_macm.pose_backends import BACKENDS

from . import UserError, check_output_file, positive_int

VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="macm caption", description=__doc__)
    parser.add_argument(
        "video", nargs="+", help="video file(s) or folder(s) of videos to caption (the model loads once)"
    )
    parser.add_argument(
        "--model", default="macm", help='M-ACM checkpoint folder or Hub id (default: the embedded model, "macm")'
    )
    parser.add_argument("--prompt", default=None, help="question to ask instead of the default captioning prompt")
    parser.add_argument(
        "--answers", choices=["read", "generate"], default="read",
        help="read (default): a question about a movement's count, side, speed, direction or order, or a true/false "
        "statement about the movements, is answered from the motion heads and the model's caption (printed on "
        "stderr), and one about the clothes' colours, how much of the body is visible, or whether the person moves "
        "at all, goes elsewhere or why from the video, its track and that caption; generate: the model answers every "
        "question itself",
    )  # fmt: skip
    parser.add_argument(
        "--no-motion", action="store_true", help="caption from the frames alone (no pose, no motion tokens)"
    )
    parser.add_argument(
        "--decoding", choices=["grounded", "greedy", "msd", "sample"], default="grounded",
        help="grounded (default: greedy, unless the caption names an action the motion heads do not see, then the "
        "best supported of 8 sampled ones), greedy, msd (Motion Synergetic Decoding: video-only and motion branches "
        "together) or sample",
    )  # fmt: skip
    parser.add_argument(
        "--keyframe-sampling", choices=["farthest", "uniform"], default=None,
        help="overlay models: keyframes by the farthest-pose rule or uniformly in time (default: the model's setting)",
    )  # fmt: skip
    parser.add_argument(
        "--backend", choices=BACKENDS, default="mediapipe", help="pose estimator (default: mediapipe, offline)"
    )
    parser.add_argument(
        "--person",
        type=int,
        default=0,
        help="with several people: whom to caption, 0 = the main (tallest) person, 1 the next tallest, ...",
    )
    parser.add_argument(
        "--max-new-tokens", type=positive_int, default=96, help="longest caption, in tokens (default 96)"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object per video (caption, motion_used, keyframes, timings, segments)",
    )
    parser.add_argument(
        "--srt",
        metavar="PATH",
        help="write SubRip subtitles, one cue per segment (several videos: PATH is a folder of <name>.srt)",
    )
    parser.add_argument(
        "--vtt",
        metavar="PATH",
        help="write WebVTT subtitles, one cue per segment (several videos: PATH is a folder of <name>.vtt)",
    )
    parser.add_argument(
        "--progress", action="store_true", help="show progress bars on stderr (default: when stderr is a terminal)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from processing_macm import VideoReadError
    from processing_macm.segments import timeline_lines

    from .captioner import MACMCaptioner

    videos = expand_videos(args.video)
    # Inputs and outputs are checked before the model loads: a typo costs no pose run.
    for video in videos:
        check_video(video)
    for option, suffix, flag in ((args.srt, ".srt", "--srt"), (args.vtt, ".vtt", "--vtt")):
        for video in videos if option else ():
            check_output_file(subtitle_path(option, video, suffix, several=len(videos) > 1), flag)
    captioner = MACMCaptioner.from_pretrained(args.model, pose_backend=args.backend)
    progress = args.progress or sys.stderr.isatty()
    status = 0
    for video in videos:
        start = time.perf_counter()
        try:
            result = captioner(
                video,
                use_motion=not args.no_motion,
                prompt=args.prompt,
                answers=args.answers,
                decoding=args.decoding,
                keyframe_sampling=args.keyframe_sampling,
                max_new_tokens=args.max_new_tokens,
                progress=progress,
                person=args.person,
            )
        except VideoReadError as err:
            print(f"macm caption: error: {' '.join(str(err).split())}", file=sys.stderr)
            status = 1
            continue
        if not result.caption or result.described == "":
            # Randomised or broken weights can end the answer at once: say so rather than print an empty caption (or
            # an answer read from one).
            print(
                f"macm caption: error: {video}: the model generated no text; check the checkpoint (--model).",
                file=sys.stderr,
            )
            status = 1
            continue
        for option, suffix in ((args.srt, ".srt"), (args.vtt, ".vtt")):
            if option:
                write_subtitles(result.segments, subtitle_path(option, video, suffix, several=len(videos) > 1), suffix)
        if args.json:
            record = result.to_dict()
            # A long video's count is averaged over its segments by the captioner: the video's own is their sum.
            record["timings"]["new_tokens"] = round(record["timings"]["new_tokens"] * max(len(result.segments), 1))
            record["timings"]["total"] = time.perf_counter() - start  # seconds, from the decode to the caption
            print(json.dumps(record))
        else:
            if result.notice:
                print(f"[{video}: {result.notice}]", file=sys.stderr)
            if result.described is not None:
                print(
                    f"[{video}: answered from the video, its motion and this caption: {result.described}]",
                    file=sys.stderr,
                )
            print(f"{video}: {result.caption}" if len(videos) > 1 else result.caption)
            if len(result.segments) > 1 and result.described is None:  # an answer stands alone (its caption: stderr)
                print("\n".join(("  " if len(videos) > 1 else "") + line for line in timeline_lines(result.segments)))
    return status


def check_video(video: str) -> None:
    """Raises `UserError` for a missing file and `VideoReadError` for a file that is neither a video nor an
    image. A still image or a one-frame video is fine: the captioner says that nothing moves."""
    from PIL import Image, UnidentifiedImageError

    from processing_macm import probe_video

    if not Path(video).is_file():
        raise UserError(f"{video}: no such file; give a video file or a folder of videos.")
    try:
        with Image.open(video):
            return
    except (UnidentifiedImageError, OSError):
        probe_video(video)


def expand_videos(paths: list[str]) -> list[str]:
    """The videos to caption: files as given, folders replaced by the video files in them (sorted)."""
    videos = []
    for path in paths:
        if Path(path).is_dir():
            found = sorted(str(p) for p in Path(path).iterdir() if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file())
            if not found:
                raise UserError(f"the folder {path!r} holds no video ({', '.join(VIDEO_SUFFIXES)} files).")
            videos += found
        else:
            videos.append(path)
    return videos


def subtitle_path(option: str, video: str, suffix: str, several: bool) -> Path:
    """`option` itself for one video; for several, `option` is a folder and the file is named after the video."""
    return Path(option) / (Path(video).stem + suffix) if several else Path(option)


def write_subtitles(segments: list[dict], path: Path, kind: str) -> None:
    """One cue per segment, as SubRip (`kind` ".srt") or WebVTT (".vtt")."""
    from processing_macm.segments import to_srt, to_vtt

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_srt(segments) if kind == ".srt" else to_vtt(segments), encoding="utf-8")
