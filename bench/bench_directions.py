"""Directions of travel as the camera sees them, named three ways side by side: by the facing (MediaPipe's world
landmarks, reflected where the body's size in the image changes the other way), by the image where the hips cross the
frame, and as the captioner names them (`directions.travel_phrase`: the image where it reads, else the facing).

    python bench/bench_directions.py [--dataset DIR ...] [--real --cache DIR]

--dataset: the walk and run steps of a built HMI-Synth dataset (every split), each read over its own frames of the
stored track. --real: the real set's pedestrians (`bench/real_footage/labels.jsonl`), their clips cut into --cache as
`bench_real.py` does; each clip is a crop that follows its walker, so it is read twice: as the crop (a camera that
follows the person) and with its keypoints put back where the crop was cut from `vtest.avi` (the same walker filmed
by the fixed camera). A direction is right when it is the label's (toward, away, across either way, diagonal).
"""

import argparse
import dataclasses
import os
from pathlib import Path

import numpy as np

from macm_cli.directions import facing_travel_yaw, image_travel_yaw, nearest_phrase, travel_phrase
from train.real_footage import named_direction


def scores(rows: list[tuple[str, object]]) -> dict[str, str]:
    """`{"steps", "facing", "image", "named"}` cells of one set of `(label, track)` rows: how many each way names
    right; the image's over the rows it reads, beside the facing's there."""
    facing, named, image, imaged, facing_there = 0, 0, 0, 0, 0
    for label, track in rows:
        by_facing = named_direction(nearest_phrase(facing_travel_yaw(track))) == label
        facing += by_facing
        named += named_direction(travel_phrase(track)) == label
        yaw = image_travel_yaw(track)
        if yaw is not None:
            imaged, facing_there = imaged + 1, facing_there + by_facing
            image += named_direction(nearest_phrase(yaw)) == label
    total = max(len(rows), 1)
    return {
        "steps": str(len(rows)),
        "facing": f"{facing} ({facing / total:.3f})",
        "image": f"{image} of {imaged} (the facing: {facing_there})",
        "named": f"{named} ({named / total:.3f})",
    }


def synth_rows(dataset: str) -> list[tuple[str, object]]:
    """`(label, track over the step's frames)` of every walk and run step with a direction in a built dataset."""
    from dataset_scripts.loading import programmed_clips
    from processing_macm.segments import slice_track

    rows = []
    for split in ("train", "validation", "test"):
        for _, track, program in programmed_clips(dataset, split):
            for step in program:
                if step["action"] in ("walk", "run") and step["direction"]:
                    first, stop = int(step["start"] * track.fps), int(np.ceil(step["end"] * track.fps))
                    span = slice_track(track, first, stop)
                    if span.valid.sum() >= 4:
                        rows.append((named_direction(step["direction"]), span))
    return rows


def real_rows(cache: str) -> tuple[list, list]:
    """`(label, track)` of each labelled pedestrian clip: as cut (a crop that follows the walker), and with its
    keypoints put back in `vtest.avi`'s frame (`crop_origin`, and the crop's upscaling undone)."""
    from processing_macm.pose_backends import extract_motion
    from processing_macm.video_io import probe_video
    from train.real_footage import build_clips, crop_origin, load_labels, source_path

    clips = [c for c in load_labels() if c["kind"] == "pedestrian" and c["label"]["direction"]]
    paths = build_clips(clips, cache)
    cropped, placed = [], []
    for clip in clips:
        track = extract_motion(paths[clip["id"]], max_fps=None, progress=False)
        source = probe_video(source_path(clip["source"]))
        (box_w, box_h), (out_w, out_h) = clip["box"], track.frame_size
        keypoints = track.keypoints_2d.copy()  # [T, 33, 3]
        for t in range(track.num_frames):  # the clip's frame t is the source's frame first + t
            x0, y0 = crop_origin(clip, clip["frames"][0] + t, source.width, source.height)
            keypoints[t, :, 0] = x0 + keypoints[t, :, 0] * box_w / out_w
            keypoints[t, :, 1] = y0 + keypoints[t, :, 1] * box_h / out_h
        cropped.append((clip["label"]["direction"], track))
        placed.append((clip["label"]["direction"], dataclasses.replace(
            track, keypoints_2d=keypoints, frame_size=(source.width, source.height))))  # fmt: skip
    return cropped, placed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", action="append", default=[], help="a built HMI-Synth dataset (repeatable)")
    parser.add_argument("--real", action="store_true", help="the real set's pedestrians")
    parser.add_argument("--cache", default=str(Path.home() / ".cache" / "macm" / "real_footage"))
    args = parser.parse_args()
    if not args.dataset and not args.real:
        parser.error("give --dataset DIR, --real, or both")
    sets = {os.path.basename(os.path.normpath(d)): synth_rows(d) for d in args.dataset}
    if len(sets) > 1:
        sets["HMI-Synth, together"] = [row for rows in list(sets.values()) for row in rows]
    if args.real:
        sets["real, as cut (followed)"], sets["real, put back in the frame"] = real_rows(args.cache)
    print(
        "| set | walk/run steps | the facing | the image, where the hips cross 2 body sizes | named (`travel_phrase`) |"
    )
    print("|---|---:|---:|---:|---:|")
    for name, rows in sets.items():
        cells = scores(rows)
        print(f"| {name} | {cells['steps']} | {cells['facing']} | {cells['image']} | {cells['named']} |")


if __name__ == "__main__":
    main()
