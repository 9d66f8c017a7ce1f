"""The colours of a person's clothes, read from the video where the pose track puts them, not named by habit.

The embedded model names the shirt's and the trousers' colours from 96-pixel frames, and mostly by habit: on the
clips of HMI-Synth v4 `hmi9` with a person (validation / test, tracks of today's person search) its grounded
captions name the shirt's colour right for 24 of 73 / 35 of 128 and the trousers' for 4 of 57 / 12 of 121, under a
1-in-12 guess. `clothing_colours` looks at the frames instead: at a grid of points inside the torso (between the
shoulders and the hips) and the thighs (hips to knees) in up to FRAMES frames where those landmarks are visible, it
takes the median of the brighter half of the pixels and names it among the caption grammar's colours (`PALETTE`):
a colour of chroma under ACHROMATIC in CIELAB is black, grey or white by its lightness, any other the nearest
chromatic colour by a* and b* alone (shading and a scene's light change the lightness more than the hue). On those
clips: shirts 44 of 65 / 70 of 122, trousers 19 of 43 / 50 of 109 (session 27). `ground_colours` writes them into
the caption.
"""

import re

import numpy as np

from dataset_scripts.synth.body import PALETTE
from processing_macm.motion_track import MEDIAPIPE_LANDMARK_NAMES, MotionTrack
from processing_macm.segments import segment_frames

ACHROMATIC = 8.0  # CIELAB chroma (a*, b* from the neutral axis) under which a colour is black, grey or white
FRAMES = 12  # frames looked at, spread over those where the part's landmarks are visible
VISIBLE = 0.5  # landmark visibility a frame's part needs
LEAST_POINTS = 9  # points a part needs to be named
GRID = (0.3, 0.5, 0.7)  # fractions along each side of a part's quadrilateral
# Each part as quadrilaterals of landmarks (top-left, top-right, bottom-left, bottom-right); a thigh is a line.
PARTS = {
    "shirt": (("left_shoulder", "right_shoulder", "left_hip", "right_hip"),),
    "trousers": (("left_hip", "left_hip", "left_knee", "left_knee"), ("right_hip", "right_hip", "right_knee", "right_knee")),
}  # fmt: skip
_INDEX = {name: i for i, name in enumerate(MEDIAPIPE_LANDMARK_NAMES)}
_NAMES = list(PALETTE)
_NEUTRAL = ("black", "grey", "white")


def _lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB `[..., 3]` (L in 0-100, a* and b* about 0 for greys) of sRGB colours `[..., 3]` in 0-255."""
    import cv2

    pixels = np.asarray(rgb, np.float32).reshape(1, -1, 3) / 255.0
    return cv2.cvtColor(pixels, cv2.COLOR_RGB2LAB).reshape(np.shape(rgb))


_PALETTE_LAB = _lab(np.array([PALETTE[name] for name in _NAMES]))  # [12, 3]


def colour_name(rgb) -> str:
    """The `PALETTE` name of an sRGB colour: black, grey or white by lightness if it is nearly neutral, else the
    chromatic colour nearest in hue and chroma."""
    lab = _lab(np.asarray(rgb, np.float32))
    neutral = [_NAMES.index(name) for name in _NEUTRAL]
    if np.hypot(lab[1], lab[2]) < ACHROMATIC:
        return _NAMES[min(neutral, key=lambda k: abs(_PALETTE_LAB[k, 0] - lab[0]))]
    distance = ((_PALETTE_LAB[:, 1:] - lab[1:]) ** 2).sum(1)  # [12]
    distance[neutral] = np.inf
    return _NAMES[int(distance.argmin())]


def clothing_colours(video, track: MotionTrack, video_fps: float) -> dict[str, str]:
    """`{part: colour name}` of the parts of PARTS that `track` (MediaPipe's 33 landmarks) shows in `video` (a path or
    frames `[N, H, W, 3]` at `video_fps`); a part seen at fewer than LEAST_POINTS points is left out."""
    if track.keypoints_2d.shape[1] != len(MEDIAPIPE_LANDMARK_NAMES) or not track.has_person:
        return {}
    chosen = {}  # part -> track frames
    for part, quads in PARTS.items():
        needed = [_INDEX[name] for quad in quads for name in quad]
        seen = np.flatnonzero(track.valid & (track.keypoints_2d[:, needed, 2] >= VISIBLE).all(1))
        if len(seen):
            chosen[part] = seen[np.linspace(0, len(seen) - 1, min(FRAMES, len(seen))).astype(int)]
    if not chosen:
        return {}
    index = {int(k): int(round(k / track.fps * video_fps)) for frames in chosen.values() for k in frames}
    _, decoded = next(segment_frames(video, [np.array(sorted(set(index.values())))]))
    colours = {}
    for part, frames in chosen.items():
        pixels = [
            pixel for k in frames for pixel in _part_pixels(decoded[index[int(k)]], track.keypoints_2d[k], PARTS[part])
        ]
        if len(pixels) >= LEAST_POINTS:
            pixels = np.array(pixels, np.float32)  # [P, 3]
            brightness = pixels.sum(1)
            colours[part] = colour_name(np.median(pixels[brightness >= np.median(brightness)], 0))
    return colours


def _part_pixels(frame: np.ndarray, keypoints: np.ndarray, quads) -> list[np.ndarray]:
    """The pixels of `frame [H, W, 3]` at GRID points inside each quadrilateral of landmarks `keypoints [33, 3]`."""
    height, width = frame.shape[:2]
    pixels = []
    for quad in quads:
        top_left, top_right, bottom_left, bottom_right = (keypoints[_INDEX[name], :2] for name in quad)
        for down in GRID:
            for across in GRID:
                top = (1 - across) * top_left + across * top_right
                bottom = (1 - across) * bottom_left + across * bottom_right
                x, y = ((1 - down) * top + down * bottom).astype(int)
                if 0 <= x < width and 0 <= y < height:
                    pixels.append(frame[y, x])
    return pixels


def ground_colours(caption: str, colours: dict[str, str]) -> str:
    """`caption` with the colour it names for the shirt ("in a blue shirt") and the trousers ("blue trousers")
    replaced by `colours`' (and the article before the shirt's made to fit)."""
    palette = "|".join(_NAMES)
    if "shirt" in colours:
        shirt = colours["shirt"]
        article = "an" if shirt[0] in "aeiou" else "a"
        caption = re.sub(rf"\b(?:an?) (?:{palette}) shirt\b", f"{article} {shirt} shirt", caption)
    if "trousers" in colours:
        caption = re.sub(rf"\b(?:{palette}) trousers\b", f"{colours['trousers']} trousers", caption)
    return caption


__all__ = ["clothing_colours", "colour_name", "ground_colours"]
