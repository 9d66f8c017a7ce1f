"""`macm motion VIDEO -o TRACK.npz`: estimate one person's motion in a video and save the MotionTrack."""

import argparse
import sys
from pathlib import Path

from processing_macm.pose_backends import BACKENDS

from . import UserError, check_output_file, positive_int


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="macm motion", description=__doc__.split(":", 1)[1].strip())
    parser.add_argument("video", help="the video file")
    parser.add_argument("-o", "--output", required=True, help="where to write the track (.npz)")
    parser.add_argument(
        "--backend", choices=BACKENDS, default="mediapipe", help="pose estimator (default: mediapipe, offline)"
    )
    parser.add_argument(
        "--max-fps", type=float, default=10.0, help="estimate at most this many frames per second (0: every frame)"
    )
    parser.add_argument("--overlay", metavar="PREVIEW.mp4", help="also write the video with the body drawn over it")
    parser.add_argument(
        "--keyframes", type=positive_int, default=8, help="keyframes to mark in the overlay preview (default 8)"
    )
    parser.add_argument("--smpl-params", help="smpl backend: the .npz/.pkl of SMPL parameters for this video")
    parser.add_argument("--model-path", help="smpl/gvhmr backends: folder or file of the SMPL body model")
    parser.add_argument(
        "--person",
        type=int,
        default=0,
        help="with several people: whom to track, 0 = the main (tallest) person, 1 the next tallest, ...",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.output.endswith(".npz"):
        parser.error(f"-o must end in .npz, got {args.output!r}")
    if args.overlay and not args.overlay.endswith(".mp4"):
        parser.error(f"--overlay writes an H.264 mp4: its name must end in .mp4, got {args.overlay!r}")
    if args.person < 0:
        parser.error(f"--person must be 0 (the main person) or more, got {args.person}")
    if args.max_fps < 0:
        parser.error(f"--max-fps must be positive (or 0 for every frame), got {args.max_fps}")
    # Inputs and outputs are checked before the pose run, so that a typo costs seconds, not the whole run.
    if not Path(args.video).is_file():
        raise UserError(f"{args.video}: no such file; give a video file.")
    check_output_file(args.output, "-o")
    if args.overlay:
        check_output_file(args.overlay, "--overlay")
    from processing_macm.keyframes import sample_keyframes
    from processing_macm.pose_backends import extract_motion

    options = {name: getattr(args, name) for name in ("smpl_params", "model_path") if getattr(args, name)}
    track = extract_motion(
        args.video,
        backend=args.backend,
        max_fps=args.max_fps or None,
        progress=not args.quiet,
        person=args.person,
        **options,
    )
    track.save(args.output)
    found = int(track.valid.sum())
    print(
        f"{args.output}: {track.num_frames} frames at {track.fps:.2f} fps, person found in {found} ({found / max(track.num_frames, 1):.0%})"
    )
    if not track.has_person:
        print("macm motion: no person found; captioning will use the video alone.", file=sys.stderr)
    if args.overlay:
        from processing_macm.overlay import write_overlay_video

        keyframes = sample_keyframes(track, args.keyframes) if track.has_person else None
        write_overlay_video(args.video, track, args.overlay, keyframes=keyframes, progress=not args.quiet)
        print(f"{args.overlay}: overlay preview")
    return 0


if __name__ == "__main__":
    sys.exit(main())
