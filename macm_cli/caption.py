"""`macm caption VIDEO`: a fine-grained motion caption of a video, offline, on the embedded default model."""

import argparse
import json
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="macm caption", description=__doc__)
    parser.add_argument("video", nargs="+", help="video file(s) to caption")
    parser.add_argument("--model", default="macm", help='M-ACM checkpoint folder or Hub id (default: the embedded model, "macm")')
    parser.add_argument("--prompt", default=None, help="question to ask instead of the default captioning prompt")
    parser.add_argument("--no-motion", action="store_true", help="caption from the frames alone (no pose, no motion tokens)")
    parser.add_argument("--decoding", choices=["greedy", "msd", "sample"], default="greedy")
    parser.add_argument("--keyframe-sampling", choices=["farthest", "uniform"], default=None)
    parser.add_argument("--backend", default="mediapipe", help="pose backend (mediapipe | smpl | gvhmr)")
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--json", action="store_true", help="print one JSON object per video (caption, motion_used, keyframes, timings)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from processing_macm import VideoReadError

    from .captioner import MACMCaptioner

    captioner = MACMCaptioner.from_pretrained(args.model, pose_backend=args.backend)
    status = 0
    for video in args.video:
        try:
            result = captioner(
                video,
                use_motion=not args.no_motion,
                prompt=args.prompt,
                decoding=args.decoding,
                keyframe_sampling=args.keyframe_sampling,
                max_new_tokens=args.max_new_tokens,
            )
        except VideoReadError as err:
            print(f"macm caption: {err}", file=sys.stderr)
            status = 1
            continue
        if args.json:
            print(json.dumps(result.to_dict()))
        else:
            if result.notice:
                print(f"[{video}: {result.notice}]", file=sys.stderr)
            print(result.caption)
    return status
