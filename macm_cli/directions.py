"""The direction of a walk or run as the camera sees it, measured from the pose track, not named by habit.

HMI-Synth captions name a walk's direction as the camera sees it, from the angle between the direction of
travel and the direction to the camera (`TRAVEL_DIRECTIONS`: "toward the camera", "across the scene from
left to right", ...). The embedded model names one by habit (on the real set's pedestrians it names the
labelled direction for 2 of 51). The angle is in the track: MediaPipe's world landmarks keep the camera's
axes, so the body's facing yaw (0 facing the camera, +90 facing the image's right) is the direction of travel
of a person walking forward. `travel_phrase` reads it as the circular median over the track's frames, and
`TravelDirectionLogitsProcessor` makes the language model write that phrase whenever it starts one: the
probability of all phrases' first tokens goes to the measured phrase's, and its other tokens follow.

From behind, MediaPipe often takes a back for a front: it sees the body reflected through the image plane, so a
person walking away reads as walking toward the camera, on the same side. The body's size in the image says which:
it grows toward the camera and shrinks away from it. Where the facing and the size's change (`size_change`, beyond
SIZE_CHANGE) disagree, the facing is reflected back (yaw -> 180 - yaw: the lateral part of the walk is kept).

Where the camera stays put, the image says more than the facing. A person whose hips cross the frame by IMAGE_TRAVEL
body sizes or more goes sideways by that much, and the body's growth gives the part toward the camera: at distance Z
and focal length f (pixels), the hips' shift dx (pixels) is a sideways walk of dx Z / f metres and a log change of
the size c a walk toward the camera of c Z metres, so the angle is atan2(dx, f c) (`image_travel_yaw`). f is not
known; FOCAL_HEIGHTS frame heights is a 53° vertical field of view, as `vtest.avi`'s pedestrians' image paths
imply. A camera that follows the person keeps the hips in place, and the facing names the direction as before; so
does a track whose hips jump IMAGE_JUMP body sizes or more from one frame to the next, where the front end took up
another person (on the whole `vtest.avi` it does so 4 times, 5 to 12 body sizes; the other jumps of its track are
under 3.5).

Where it fails: tracks of other backends (SMPL/GVHMR) are in world axes, not the camera's, and are not read; for a
person who turns, the facing of most of the frames is named; a camera that zooms or follows the person in depth
hides the size's change, and one that pans without following the person moves the hips across the image. On the
walks and runs of HMI-Synth v3 (each step's frames of the stored MediaPipe track) the circular median alone named the
direction of 0.463 of 147 train steps and 0.458 of 24 test steps (the circular mean: 0.408 and 0.458).

Session 37 (`bench/bench_directions.py`), on the 157 walk and run steps of the HMI-Synth v4 draws `hmi11` and `hmi12`
(all splits, unseen by the weights; 60% of their travelling clips are filmed by a camera that follows the person): the
facing names 0.554, `travel_phrase` 0.586 (the image reads 29 steps, 23 right against the facing's 18 there). The real
set's 51 pedestrians, their crops' keypoints put back in `vtest.avi`'s frame: the facing 26, `travel_phrase` 33 (the
image 28 of the 43 it reads, the facing 21 of those).
"""

import numpy as np
import torch
from transformers import LogitsProcessor

from dataset_scripts.synth.programs import TRAVEL_DIRECTIONS
from processing_macm.kinematic import body_size_2d, facing_yaw, hip_centre_2d
from processing_macm.motion_track import MotionTrack

# Each phrase's angle (degrees), and its mirror image where the phrase names no side: a walk diagonally toward
# the camera and to the image's left is "diagonally toward the camera" too (HMI-Synth renders only the right).
CENTRES = {
    phrase: {(low + high) / 2} | ({-(low + high) / 2} if "left" not in phrase else set())
    for phrase, (low, high) in TRAVEL_DIRECTIONS.items()
}

# The hips' travel across the image (body sizes, `body_size_2d`) beyond which the image names a walk's direction, the
# focal length it assumes (frame heights), and the jump between two frames (body sizes) that is another person taken
# up, not a walk (see the module's docstring).
IMAGE_TRAVEL = 2.0
FOCAL_HEIGHTS = 1.0
IMAGE_JUMP = 4.0
# The log change of the body's size in the image beyond which it says toward (growing) or away (shrinking). Chosen on
# the 160 walk and run steps of HMI-Synth v4 `hmi9` (all splits, today's front end; 0.0-0.2 give 85-90 right, 0.05
# the most); checked on the 195 of the unseen `hmi10` draw (see `size_change`).
SIZE_CHANGE = 0.05


def circular_median(angles: np.ndarray) -> float:
    """The angle among `angles` (rad) with the least summed angular distance to the others: a facing that
    MediaPipe flips for a few frames moves it less than it moves the mean."""
    gaps = np.abs((angles[:, None] - angles[None, :] + np.pi) % (2 * np.pi) - np.pi)  # [T, T]
    return float(angles[np.argmin(gaps.sum(0))])


def size_change(track: MotionTrack) -> float:
    """The log change of the body's size in the image (`body_size_2d`) over the track's valid frames: the median of
    the last third's over the first third's."""
    size = body_size_2d(track.keypoints_2d[track.valid])  # [T']
    third = max(1, len(size) // 3)
    return float(np.log(max(np.median(size[-third:]), 1e-3) / max(np.median(size[:third]), 1e-3)))


def image_travel_yaw(track: MotionTrack) -> float | None:
    """The angle of travel (degrees, 0 toward the camera, +90 to the image's right) from the image: the hips' shift
    across the frame (the median of the last third of the valid frames against the first's) against the body's growth
    (`size_change`), at FOCAL_HEIGHTS; None where the hips cross less than IMAGE_TRAVEL body sizes or jump IMAGE_JUMP
    between two frames."""
    keypoints = track.keypoints_2d[track.valid]  # [T', P, 3]
    hips, size = hip_centre_2d(keypoints), np.median(body_size_2d(keypoints))  # [T', 2] (pixels), pixels
    third = max(1, len(keypoints) // 3)
    shift = float(np.median(hips[-third:, 0]) - np.median(hips[:third, 0]))
    jumps = np.linalg.norm(np.diff(hips, axis=0), axis=-1)  # [T' - 1]
    if abs(shift) <= IMAGE_TRAVEL * size or (jumps >= IMAGE_JUMP * size).any():
        return None
    return float(np.degrees(np.arctan2(shift, FOCAL_HEIGHTS * track.frame_size[1] * size_change(track))))


def travel_phrase(track: MotionTrack | None) -> str | None:
    """The `TRAVEL_DIRECTIONS` phrase whose angle is nearest the image's angle of travel (`image_travel_yaw`) where the
    hips cross the frame, else the circular median of the track's facing yaw, reflected through the image plane where
    the body's size changes the other way (see above); None for no person or a track that is not MediaPipe's."""
    if track is None or track.backend != "mediapipe" or not track.valid.any():
        return None
    yaw = image_travel_yaw(track)
    return nearest_phrase(facing_travel_yaw(track) if yaw is None else yaw)


def facing_travel_yaw(track: MotionTrack) -> float:
    """The angle of travel (degrees, as `image_travel_yaw`'s) from the circular median of the track's facing yaw,
    reflected through the image plane where the body's size changes the other way (see above)."""
    yaw = np.degrees(circular_median(facing_yaw(track.joints_3d[track.valid])))
    change = size_change(track)
    if abs(change) > SIZE_CHANGE and np.cos(np.radians(yaw)) * change < 0:  # facing the camera but shrinking, or back
        yaw = 180.0 - yaw
    return float(yaw)


def nearest_phrase(yaw: float) -> str:
    """The `TRAVEL_DIRECTIONS` phrase whose angle (or its mirror image, where it names no side) is nearest `yaw`."""
    return min(CENTRES, key=lambda phrase: min(abs((yaw - c + 180) % 360 - 180) for c in CENTRES[phrase]))


class TravelDirectionLogitsProcessor(LogitsProcessor):
    r"""
    Args:
        phrase_ids (`dict[str, list[int]]`): the token ids of each phrase, after a space.
        targets (`list[str | None]`): the measured phrase of each prompt (None: leave the row alone).
        prompt_length (`int`): where the generated tokens start.
    """

    def __init__(self, phrase_ids: dict[str, list[int]], targets: list[str | None], prompt_length: int):
        self.phrase_ids, self.targets, self.prompt_length = phrase_ids, targets, prompt_length
        self.first_ids = sorted({ids[0] for ids in phrase_ids.values()})

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        expansion = len(input_ids) // len(self.targets)  # beams and returned sequences per prompt
        for row in range(len(input_ids)):
            target = self.targets[row // expansion]
            if target is None:
                continue
            ids, written = self.phrase_ids[target], input_ids[row, self.prompt_length :].tolist()
            inside = [j for j in range(1, len(ids)) if written[-j:] == ids[:j]]
            if inside:  # within the phrase: its next token
                scores[row] = -torch.inf
                scores[row, ids[max(inside)]] = 0.0
            elif int(scores[row].argmax()) in self.first_ids:  # a phrase starts: the measured one
                starts = scores[row, self.first_ids].logsumexp(0)
                scores[row, self.first_ids] = -torch.inf
                scores[row, ids[0]] = starts
        return scores


def direction_processor(tokenizer, tracks: list, prompt_length: int) -> TravelDirectionLogitsProcessor | None:
    """The processor for one `generate` call over `tracks` (one per prompt), or None if no track has a phrase."""
    targets = [travel_phrase(t) if isinstance(t, MotionTrack) else None for t in tracks]
    if not any(targets):
        return None
    phrase_ids = {phrase: tokenizer(f" {phrase}", add_special_tokens=False)["input_ids"] for phrase in CENTRES}
    return TravelDirectionLogitsProcessor(phrase_ids, targets, prompt_length)


__all__ = [
    "TravelDirectionLogitsProcessor", "direction_processor", "facing_travel_yaw", "image_travel_yaw", "nearest_phrase",
    "travel_phrase",
]  # fmt: skip
