"""Answers about what a clip shows of the person, beside how they move (`answers.py`): the colour of their shirt or
trousers, how much of their body is in frame, whether they do anything but stay still and whether they go to another
place. The embedded model was trained to describe a clip; asked "What colour is the person's shirt?" it tells its
story. These are read instead:

- colour: `appearance.clothing_colours`, the video's pixels where the track puts the torso or the thighs.
- framing: as the caption says it ("seen from the waist up", "standing on a grey floor": the model sees the frames),
  else which of the feet, knees and hips the track sees inside the frame (visibility `appearance.VISIBLE` or more)
  in `SEEN_SHARE` of the frames where the person is found or more: the lowest part seen says how much of the body
  is in view; in the words of HMI-Synth's framings (`FRAMINGS`). Of the validation captions that name a framing,
  68 of 74 name the right one, the track 63.
- moving ("Does the person do anything other than stay still?"): whether the caption (a stated still included)
  names a movement other than standing still.
- travel ("Does the person move to another place?"): whether the caption names a movement that takes the person
  elsewhere in HMI-Synth's questions (`TRAVELLING`: a walk, a run, a sideways step, a turn). The track's own travel
  in the image was measured and not used: a camera that follows the person keeps them in place.

Chosen on HMI-Synth v4 `hmi9`'s validation split (README, Questions).
"""

import re

from dataset_scripts.synth.grammar import FRAMINGS, caption_clauses
from processing_macm.motion_track import MEDIAPIPE_LANDMARK_NAMES, MotionTrack

from . import appearance

_PERSON = "(?:the person|he|she|they)"
_DOES = f"(?:does|did|do|is|was) {_PERSON}"
_CLOTHES = {
    "shirt": r"shirt|t-shirt|top|jacket|coat|sweater|jumper|hoodie|blouse",
    "trousers": r"trousers|pants|jeans|shorts|skirt|leggings",
}
# How a question asks, tried in this order on the lower-cased question.
KINDS = (
    ("colour", rf"\bwhat colou?rs? (?:is|are|was|were|does|do)\b.*\b(?:{'|'.join(_CLOTHES.values())})\b"),
    ("framing", r"\bhow much of (?:the person|him|her|them|(?:the|the person's|his|her|their) body)\b"),
    (
        "moving",
        rf"^{_DOES} (?:do(?:ing)? )?anything (?:other|else) than (?:stay|stand|keep|sit)(?:ing)? still\b"
        rf"|^{_DOES} (?:move|moving) at all\b",
    ),
    (
        "travel",
        rf"^{_DOES} (?:move|moving|go|going|walk|walking) (?:over )?to (?:another|a different|a new|some other) "
        rf"(?:place|spot|position|location|part)\b|^{_DOES} (?:change|changing) (?:place|position|location)\b",
    ),
)
SEEN_SHARE = 0.3
# Lowest first: the first part seen says how much of the body is in view.
PARTS_IN_VIEW = (
    ("full", ("left_ankle", "right_ankle", "left_heel", "right_heel", "left_foot_index", "right_foot_index")),
    ("knees_up", ("left_knee", "right_knee")),
    ("waist_up", ("left_hip", "right_hip")),
)
TRAVELLING = ("walk", "run", "step_sideways", "turn_around")
# How a caption says the framing (`FRAMINGS`' caption phrases: "seen from the waist up", "standing on a grey floor").
_CAPTION_FRAMINGS = {key: re.compile(phrase.replace("{floor}", r"\w+")) for key, (phrase, _) in FRAMINGS.items()}
_INDEX = {name: i for i, name in enumerate(MEDIAPIPE_LANDMARK_NAMES)}


def question_kind(question: str) -> str | None:
    """How `question` asks about what the clip shows (one of KINDS' names), or None."""
    lowered = " ".join(question.lower().split())
    return next((kind for kind, pattern in KINDS if re.search(pattern, lowered)), None)


def reads(question: str) -> bool:
    """Whether `answer` answers `question`."""
    return question_kind(question) is not None


def framing(track: MotionTrack) -> str | None:
    """The `FRAMINGS` key of how much of the person `track` (MediaPipe's 33 landmarks) shows, or None without a
    person or those landmarks."""
    if track.keypoints_2d.shape[1] != len(MEDIAPIPE_LANDMARK_NAMES) or not track.has_person:
        return None
    points = track.keypoints_2d[track.valid]  # [N, 33, 3]: x, y (pixels), visibility
    width, height = track.frame_size
    x, y, visibility = points[..., 0], points[..., 1], points[..., 2]
    seen = (x >= 0) & (x < width) & (y >= 0) & (y < height) & (visibility >= appearance.VISIBLE)  # [N, 33]
    for key, names in PARTS_IN_VIEW:
        if seen[:, [_INDEX[name] for name in names]].any(axis=1).mean() >= SEEN_SHARE:
            return key
    return "head_shoulders"


def answer(question: str, caption: str, track: MotionTrack | None = None, colours: dict | None = None) -> str:
    """The answer to `question` (which `reads`) about a clip captioned `caption` (a stated caption, "The person stands
    still.", included), with its `track` (for a framing) and the `colours` `appearance.clothing_colours` reads from it
    (for a colour; None: the colours the caption names)."""
    kind = question_kind(question)
    if kind is None:
        raise ValueError(f"{question!r} is not a question looks.answer reads; check `looks.reads(question)` first.")
    lowered = question.lower()
    if kind == "colour":
        part = next(part for part, words in _CLOTHES.items() if re.search(rf"\b(?:{words})\b", lowered))
        colours = appearance.named_colours(caption) if colours is None else colours
        if part not in colours:
            return f"Not read: the person's {part} {'is' if part == 'shirt' else 'are'} not seen well enough."
        return f"{colours[part].capitalize()}."
    if kind == "framing":
        key = next((key for key, phrase in _CAPTION_FRAMINGS.items() if phrase.search(caption)), None)
        key = key or (None if track is None else framing(track))
        if key is None:
            return "Not read: neither the caption nor the person's landmarks say."
        return f"{FRAMINGS[key][1][0].upper()}{FRAMINGS[key][1][1:]}."
    moves = [(action, clause) for action, clause in caption_clauses(caption) if action != "stand_still"]
    if kind == "moving":
        return f"Yes: the person {moves[0][1].strip(' ,')}." if moves else "No: the person stands still."
    travels = [(action, clause) for action, clause in moves if action in TRAVELLING]
    if travels:
        return f"Yes: the person {travels[0][1].strip(' ,')}."
    return "No: the person stays in one place."


__all__ = ["KINDS", "answer", "framing", "question_kind", "reads"]
