"""Proposes pedestrian clips in OpenCV's vtest.avi for hand labelling; the labels file, not this script,
defines the evaluation set.

    python bench/real_footage/propose.py -o /tmp/real_proposals

Finds moving people by background subtraction (OpenCV MOG2, background learnt over one whole pass
first), links each frame's blobs to the nearest blob of the frame before, and cuts every track of at
least 3 s into clips of 3-8 s. Writes `proposals.jsonl` (clip definitions in the labels file's format,
labels left empty) and, per clip, a PNG strip of five crops to look at before labelling.
"""

import argparse
import itertools
import json
from pathlib import Path

import numpy as np

from train.real_footage import CLIP_FPS, MAX_SECONDS, MIN_SECONDS, build_clips, iter_source

MIN_AREA, MIN_HEIGHT = 250, 35  # source pixels: smaller blobs are parts of people or noise
MAX_JUMP = 12  # source pixels a blob's centre may be off its predicted place per frame and stay the same track
MAX_GAP = 3  # frames a track may go unseen before it ends
WAYPOINT_STEP = 5  # frames between stored waypoints of the crop's centre


def detect_blobs() -> list[list[tuple[float, float, int]]]:
    """Per frame of vtest.avi, the moving blobs as (centre x, centre y, height)."""
    import cv2

    subtractor = cv2.createBackgroundSubtractorMOG2(history=500, varThreshold=16, detectShadows=True)
    for _, frame in iter_source("vtest"):  # learn the background first, so the first frames are not all foreground
        subtractor.apply(frame)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    blobs = []
    for _, frame in iter_source("vtest"):
        mask = (subtractor.apply(frame, learningRate=0) == 255).astype(np.uint8)  # 127 marks shadows
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 15)))
        _, _, stats, _ = cv2.connectedComponentsWithStats(mask)
        blobs.append([
            (x + w / 2, y + h / 2, h) for x, y, w, h, area in stats[1:]
            if area >= MIN_AREA and h >= MIN_HEIGHT and h > 0.8 * w
        ])  # fmt: skip
    return blobs


def link_tracks(blobs: list[list[tuple[float, float, int]]]) -> list[list[tuple[int, float, float, int]]]:
    """Greedy nearest-neighbour tracks: lists of (frame, centre x, centre y, height)."""
    finished, active = [], []
    for index, frame_blobs in enumerate(blobs):
        free = list(frame_blobs)
        for track in sorted(active, key=lambda t: -len(t)):  # long tracks pick first
            if not free:
                break
            (f1, x1, y1, h1), (f0, x0, y0, _) = track[-1], track[max(len(track) - 5, 0)]
            # constant velocity over the last few frames; a blob of a very different height is someone else
            speed = ((x1 - x0) / (f1 - f0), (y1 - y0) / (f1 - f0)) if f1 > f0 else (0.0, 0.0)
            x, y = x1 + speed[0] * (index - f1), y1 + speed[1] * (index - f1)
            distances = [np.hypot(bx - x, by - y) if 0.7 < bh / h1 < 1.4 else np.inf for bx, by, bh in free]
            best = int(np.argmin(distances))
            if distances[best] <= MAX_JUMP * (index - f1):
                track.append((index, *free.pop(best)))
        active += [[(index, *blob)] for blob in free]
        finished += [t for t in active if index - t[-1][0] > MAX_GAP]
        active = [t for t in active if index - t[-1][0] <= MAX_GAP]
    return finished + active


def clip_proposals(track: list[tuple[int, float, float, int]]) -> list[dict]:
    """Cuts one track into clips of MIN_SECONDS-MAX_SECONDS, each with a smoothed centre path."""
    frames = np.array([p[0] for p in track])
    span = np.arange(frames[0], frames[-1] + 1)
    centre = np.stack([np.interp(span, frames, [p[i] for p in track]) for i in (1, 2)], axis=1)  # [T, 2]
    kernel = np.ones(9) / 9
    centre = np.stack([np.convolve(np.pad(c, 4, mode="edge"), kernel, mode="valid") for c in centre.T], axis=1)
    length = len(span) / CLIP_FPS
    if length < MIN_SECONDS:
        return []
    pieces = int(np.ceil(length / MAX_SECONDS))
    bounds = np.linspace(0, len(span), pieces + 1).round().astype(int)
    box_h = int(np.clip(round(1.7 * np.median([p[3] for p in track]) / 8) * 8, 120, 320))
    proposals = []
    for a, b in itertools.pairwise(bounds):
        points = list(range(a, b, WAYPOINT_STEP)) + [b - 1]
        proposals.append({
            "frames": [int(span[a]), int(span[b - 1]) + 1],
            "path": [[int(span[k]), round(centre[k, 0]), round(centre[k, 1])] for k in points],
            "box": [round(box_h * 0.8 / 2) * 2, box_h],
        })  # fmt: skip
    return proposals


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-o", "--output", required=True, help="folder for proposals.jsonl and the PNG strips")
    args = parser.parse_args()
    from PIL import Image

    from processing_macm.video_io import read_video

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    tracks = link_tracks(detect_blobs())
    proposals = [p for track in sorted(tracks, key=lambda t: t[0][0]) for p in clip_proposals(track)]
    clips = [
        {"id": f"vtest-{n:02d}", "kind": "pedestrian", "source": "vtest", **p, "repeat_s": None, "label": None}
        for n, p in enumerate(proposals)
    ]
    with open(out / "proposals.jsonl", "w") as f:
        f.writelines(json.dumps(clip) + "\n" for clip in clips)
    for clip_id, path in build_clips(clips, out).items():
        frames, _ = read_video(path)
        strip = np.concatenate([frames[k] for k in np.linspace(0, len(frames) - 1, 5).round().astype(int)], axis=1)
        Image.fromarray(strip).save(out / f"{clip_id}.png")
    print(f"{len(proposals)} proposals from {len(tracks)} tracks in {out}")


if __name__ == "__main__":
    main()
