"""The colours of a person's clothes, read from the video where the pose track puts them, not named by habit.

The embedded model names the shirt's and the trousers' colours from 96-pixel frames, and mostly by habit: on the
clips of HMI-Synth v4 `hmi9` with a person (validation / test, tracks of today's person search) its grounded
captions that name them give the shirt's colour right in 24 of 63 / 35 of 124 and the trousers' in 4 of 46 / 12 of
115, under a 1-in-12 guess. `clothing_colours` looks at the frames instead: at a grid of points inside the torso
(between the shoulders and the hips; a head-and-shoulders shot's chest, `CHEST`) and the thighs (hips to knees) in up
to FRAMES frames where those landmarks are visible, it takes the median of the pixels and names it among the caption
grammar's colours (`PALETTE`): the one nearest in CIELAB, lightness weighted LIGHTNESS, to the colour brightened by
the gain (up to 3.5, within range) that brings it nearest (shading darkens a colour; it does not change its hue). On
those clips (session 27, the brighter half of the pixels and gains up to 2.5): shirts 49 of 63 / 91 of 124 and
trousers 29 of 46 / 66 of 115 of the captions that name them. Session 29 (README, Clothing colours), every part
read on validation / test / 250 training clips: 104 / 196 / 277 right before, 117 / 216 / 301 with all the pixels
and gains up to 3.5. A nearly neutral colour can be brightened to black, grey or white alike: the least brightened
is taken (`TIE`), so a shaded white may still read grey. `ground_colours` writes the names into the caption.
"""

import functools
import re

import numpy as np

from dataset_scripts.synth.body import PALETTE
from processing_macm.motion_track import MEDIAPIPE_LANDMARK_NAMES, MotionTrack
from processing_macm.segments import segment_frames

GAINS = np.linspace(1.0, 3.5, 11)  # how much brighter than it looks a colour may be (shading darkens it)
LIGHTNESS = 0.25  # the weight of CIELAB lightness against a* and b* in naming a colour
TIE = 1.0  # squared CIELAB distance a gain of 1 more costs: between colours as near, the least brightened
FRAMES = 12  # frames looked at, spread over those where the part's landmarks are visible
VISIBLE = 0.5  # landmark visibility a frame's part needs
LEAST_POINTS = 9  # points a part needs to be named
GRID = (0.3, 0.5, 0.7)  # fractions along each side of a part's quadrilateral
# Each part as quadrilaterals of landmarks (top-left, top-right, bottom-left, bottom-right); a thigh is a line.
PARTS = {
    "shirt": (("left_shoulder", "right_shoulder", "left_hip", "right_hip"),),
    "trousers": (("left_hip", "left_hip", "left_knee", "left_knee"), ("right_hip", "right_hip", "right_knee", "right_knee")),
}  # fmt: skip
# A shirt whose hips are out of view (a head-and-shoulders shot) is read on the chest: down to this many shoulder widths
# below the shoulders.
CHEST = 0.6
_INDEX = {name: i for i, name in enumerate(MEDIAPIPE_LANDMARK_NAMES)}
_NAMES = list(PALETTE)
# Where a caption names a colour: "in a blue shirt", "blue trousers".
_NAMED = {
    "shirt": re.compile(rf"\b(?:an?) (?:{'|'.join(_NAMES)}) shirt\b"),
    "trousers": re.compile(rf"\b(?:{'|'.join(_NAMES)}) trousers\b"),
}


def _lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB `[..., 3]` (L in 0-100, a* and b* about 0 for greys) of sRGB colours `[..., 3]` in 0-255."""
    import cv2

    pixels = np.asarray(rgb, np.float32).reshape(1, -1, 3) / 255.0
    return cv2.cvtColor(pixels, cv2.COLOR_RGB2LAB).reshape(np.shape(rgb))


@functools.cache
def _palette_lab() -> np.ndarray:
    """`PALETTE` in CIELAB `[12, 3]` (computed on first use: OpenCV comes with the pose extra)."""
    return _lab(np.array([PALETTE[name] for name in _NAMES]))


def colour_name(rgb) -> str:
    """The `PALETTE` name of an sRGB colour: the palette colour nearest in CIELAB (lightness weighted LIGHTNESS) to
    the colour brightened by one of GAINS that keeps it within range; shading darkens a colour, it does not change
    its hue. Of palette colours reached equally near (a shaded grey brightens to grey and to white), the one reached
    with the least brightening."""
    rgb = np.asarray(rgb, np.float32)
    gains = GAINS[GAINS * rgb.max() <= 255.0]  # the first, 1, always
    lab = _lab(rgb[None] * gains[:, None])  # [G, 3]
    distance = ((lab[:, None] - _palette_lab()[None]) ** 2 * np.array([LIGHTNESS, 1, 1])).sum(-1)  # [G, 12]
    distance += TIE * (gains[:, None] - 1.0)
    return _NAMES[int(distance.min(0).argmin())]


def clothing_colours(video, track: MotionTrack, video_fps: float) -> dict[str, str]:
    """`{part: colour name}` of the parts of PARTS that `track` (MediaPipe's 33 landmarks) shows in `video` (a path or
    frames `[N, H, W, 3]` at `video_fps`); a part seen at fewer than LEAST_POINTS points is left out."""
    if track.keypoints_2d.shape[1] != len(MEDIAPIPE_LANDMARK_NAMES) or not track.has_person:
        return {}
    keypoints = dict.fromkeys(PARTS, track.keypoints_2d)
    if not _seen(track, keypoints["shirt"], PARTS["shirt"]).any():
        keypoints["shirt"] = _chest(track.keypoints_2d)
    chosen = {}  # part -> track frames
    for part, quads in PARTS.items():
        seen = np.flatnonzero(_seen(track, keypoints[part], quads))
        if len(seen):
            chosen[part] = seen[np.linspace(0, len(seen) - 1, min(FRAMES, len(seen))).astype(int)]
    if not chosen:
        return {}
    index = {int(k): int(round(k / track.fps * video_fps)) for frames in chosen.values() for k in frames}
    _, decoded = next(segment_frames(video, [np.array(sorted(set(index.values())))]))
    colours = {}
    for part, frames in chosen.items():
        pixels = [
            pixel for k in frames for pixel in _part_pixels(decoded[index[int(k)]], keypoints[part][k], PARTS[part])
        ]
        if len(pixels) >= LEAST_POINTS:
            colours[part] = colour_name(np.median(np.array(pixels, np.float32), 0))  # pixels: [P, 3]
    return colours


def _seen(track: MotionTrack, keypoints: np.ndarray, quads) -> np.ndarray:
    """`[T]` whether a frame finds the person with every landmark of `quads` visible in `keypoints [T, 33, 3]`."""
    needed = [_INDEX[name] for quad in quads for name in quad]
    return track.valid & (keypoints[:, needed, 2] >= VISIBLE).all(1)


def _chest(keypoints: np.ndarray) -> np.ndarray:
    """`keypoints [T, 33, 3]` with the hips put `CHEST` shoulder widths straight below the shoulders, visible where
    both shoulders are: the shirt's quadrilateral becomes the chest."""
    chest = keypoints.copy()
    for shoulder, hip in (("left_shoulder", "left_hip"), ("right_shoulder", "right_hip")):
        chest[:, _INDEX[hip], :2] = keypoints[:, _INDEX[shoulder], :2]
    width = np.linalg.norm(
        keypoints[:, _INDEX["left_shoulder"], :2] - keypoints[:, _INDEX["right_shoulder"], :2], axis=1
    )
    chest[:, [_INDEX["left_hip"], _INDEX["right_hip"]], 1] += CHEST * width[:, None]
    chest[:, [_INDEX["left_hip"], _INDEX["right_hip"]], 2] = keypoints[
        :, [_INDEX["left_shoulder"], _INDEX["right_shoulder"]], 2
    ].min(1)[:, None]
    return chest


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


def names_colours(caption: str) -> bool:
    """Whether `caption` names a colour for the shirt or the trousers (what `ground_colours` replaces)."""
    return any(pattern.search(caption) for pattern in _NAMED.values())


def named_colours(caption: str) -> dict[str, str]:
    """`{part: colour}` that `caption` names for the shirt and the trousers (`names_colours`)."""
    named = {part: pattern.search(caption) for part, pattern in _NAMED.items()}
    return {part: match.group(0).split()[-2] for part, match in named.items() if match is not None}


def ground_colours(caption: str, colours: dict[str, str]) -> str:
    """`caption` with the colour it names for the shirt ("in a blue shirt") and the trousers ("blue trousers")
    replaced by `colours`' (and the article before the shirt's made to fit)."""
    for part, colour in colours.items():
        named = f"{'an' if colour[0] in 'aeiou' else 'a'} {colour} shirt" if part == "shirt" else f"{colour} {part}"
        caption = _NAMED[part].sub(named, caption)
    return caption


__all__ = ["clothing_colours", "colour_name", "ground_colours", "named_colours", "names_colours"]
