"""How many times a movement repeats: counted in the pose track, not named by habit.

The embedded model's language model names counts from its prior as much as from the motion. A raised arm, a
squat, a bend, a jump and a kick each move one joint up and down once a repetition, so the track can count them:
`count_repetitions` finds the peaks of that joint's height (the raised wrist, the ankles against the pelvis in a
squat, the neck in a bend, the hips in the image in a jump, the kicking ankle). Where a step is, the motion heads
say: the k-th mention of an action in the caption reads the k-th run of the heads' windows whose most likely action
it is (as side and gait grounding do). `MotionCountLogitsProcessor` lets the language model decide where a count
goes and hands the probability of every count word to the measured one, for the actions of COUNTED.

Which actions (steps whose caption names a count; the language model's count where the heads show no run): on
HMI-Synth v4 `hmi9` train and validation (unseen by the embedded weights) the track named 0.85 of the squats'
counts against the language model's 0.67, 0.88 of the bends' against 0.68, 0.75 of the raised arms' against 0.63
and 0.49 of the jumps' against 0.36; on a second unseen draw (seed 8, 300 clips) squats 1.00 against 0.75 and bends
0.71 against 0.57, but raised arms 0.50 against 0.83 and jumps 0.38 against 0.54. Squats and bends were better on
every draw, so they alone are counted; waves, claps and arm circles were worse on the first draw already (0.34
against 0.45, 0.36 against 0.49, 0.20 against 0.54).

Answers to "How many times ...?" (`answers.py`) count every action of COUNTABLE from the track, over the windows
where the heads read it. Kicks (the kicking ankle's height) were added for them: on the clips where a person is
described, kick count answers were right for 0.62 of 21 questions on `hmi9` (train, validation, test) against 0.33
from the caption or the count head, and 0.47 of 15 on the seed-8 draw against 0.27; there raised arms, jumps, squats
and bends counted from the track were right as often as the caption's counts or more (0.36 / 0.36, 0.53 / 0.32,
0.81 / 0.50, 0.63 / 0.53). Waves, claps, arm circles, lunges, side steps and walks counted worse than the caption.

Lunges were added to both (session 31): the front leg's bend sinks the pelvis as a squat does. Read over the heads'
span on HMI-Synth v4 `hmi9e` and `hmi10` (validation and test; unseen by the embedded weights), the track counted 33
of 39 lunges right against the count head's 24; in captions, lunge counts on `hmi10` test went from 4 to 10 of 10 and
on `hmi9e` test from 7 to 8 of 8. Sideways steps (the ankles' gap, two peaks a step) and arm circles (the wrist's
lowest point) counted as well as the count head or worse over the heads' spans, though better over the true ones: the
heads' spans of those are often too short or too long.

Speeds (session 33): the grammar's slow, steady and fast repeat an action at 1.5, 1 and 0.65 times its period
(`SPEEDS`, with 12% jitter a repetition), and the median time between the peaks says which (`repetition_speed`). Over
the true spans the period ratio separates them (quartiles: fast 0.62-0.77, steady 0.94-1.05, slow 1.38-1.58); over the
heads' spans widened by half a period each way, where two peaks are found, it names 0.84 of the speeds right against
the speed head's 0.46 (94 steps of `hmi9e` and `hmi10` validation and 250 `hmi9` train clips; test: 0.63 against
0.48, 71 steps), and 0.67 of all the countable steps with the head's speed elsewhere (head alone 0.52; test 0.54
against 0.48). The story (`story.py`) and speed answers (`answers.py`) take it before the caption's speed. Waves (the
elbow folding), claps (the wrists meeting) and arm circles (the wrist's top) are timed the same way but not counted
(TIMED; counted from these signals they were right less often than the count head, even over the true spans), their
weaker peaks found at TIMED_PROMINENCE: where two are found their speeds are right for 0.58 / 0.78 / 0.73 against
the head's 0.36 / 0.46 / 0.61 (the same validation clips; at PROMINENCE 0.52 / 0.69 / 0.74, for fewer steps).
"""

import numpy as np
import torch
from transformers import LogitsProcessor

from dataset_scripts.synth.grammar import count_phrase, parse_caption
from dataset_scripts.synth.programs import ACTION_SPECS, SPEEDS
from modeling_macm.side_grounding import clip_of_rows, read_motion_heads, window_runs
from processing_macm.kinematic import hip_centre_2d
from processing_macm.motion_track import SMPL_JOINT_NAMES, MotionTrack

COUNTABLE = ("raise_arm", "squat", "lunge", "bend_forward", "jump", "kick")  # what `count_repetitions` reads
COUNTED = ("squat", "lunge", "bend_forward")  # what the captioner counts (see above)
TIMED = (*COUNTABLE, "wave", "clap", "arm_circles")  # what `repetition_speed` times (see above)
COUNT_WORDS = tuple(count_phrase(n).split()[0] for n in range(1, 13))  # the grammar's: once, twice, three, ..., twelve
PROMINENCE = 0.8  # standard deviations of the height signal a peak must stand out by
# A repetition's speed (`repetition_speed`): its period against the steady one, split between the grammar's speeds
# (`SPEEDS`: fast 0.65, slow 1.5) at their geometric means with 1; read over the heads' span widened by half a period
# each way, as the heads' spans are often short (README, Questions).
FAST_BELOW = float(np.sqrt(SPEEDS["fast"]))  # 0.81
SLOW_ABOVE = float(np.sqrt(SPEEDS["slow"]))  # 1.22
SPEED_PAD = 0.5
# The peaks of a wave's elbow, a clap's wrists and an arm circle's wrist stand out less: timing them at PROMINENCE found
# two peaks for fewer steps and named fewer speeds right (README, Questions).
TIMED_PROMINENCE = 0.5
_J = {name: i for i, name in enumerate(SMPL_JOINT_NAMES)}


def _height(joints: np.ndarray, name: str, side: str | None) -> np.ndarray:
    """The height `[T]` of a joint (metres above the pelvis) on `side`; both sides' mean for "both" or None."""
    sides = (side,) if side in ("left", "right") else ("left", "right")
    return np.mean([joints[:, _J[f"{s}_{name}"], 1] for s in sides], axis=0)


def _straightness(joints: np.ndarray, side: str | None) -> np.ndarray:
    """How far the elbow is from straight `[T]` (rad, negated: it peaks as the arm folds), on `side` or both."""
    sides = (side,) if side in ("left", "right") else ("left", "right")
    angles = []
    for s in sides:
        upper = joints[:, _J[f"{s}_shoulder"]] - joints[:, _J[f"{s}_elbow"]]
        lower = joints[:, _J[f"{s}_wrist"]] - joints[:, _J[f"{s}_elbow"]]
        cosine = (upper * lower).sum(-1) / (np.linalg.norm(upper, axis=-1) * np.linalg.norm(lower, axis=-1) + 1e-6)
        angles.append(-np.arccos(np.clip(cosine, -1.0, 1.0)))
    return np.mean(angles, axis=0)


def repetition_signal(track: MotionTrack, action: str, side: str | None, first: int, stop: int) -> np.ndarray:
    """The signal that peaks once a repetition of `action` over the valid frames of `track[first:stop]`: `[T']`."""
    valid = track.valid[first:stop]
    joints, keypoints = track.joints_3d[first:stop][valid], track.keypoints_2d[first:stop][valid]
    if action == "clap":  # the wrists meet
        return -np.linalg.norm(joints[:, _J["left_wrist"]] - joints[:, _J["right_wrist"]], axis=-1)
    if action == "wave":  # the elbow folds and opens
        return _straightness(joints, side)
    if action in ("raise_arm", "arm_circles"):  # the wrist rises, or passes the top of the circle
        return _height(joints, "wrist", side)
    if action in ("squat", "lunge"):  # the pelvis sinks toward the ankles
        return _height(joints, "ankle", None)
    if action == "bend_forward":
        return -joints[:, _J["neck"], 1]
    if action == "kick":  # the kicking foot swings up
        return _height(joints, "ankle", side)
    if action == "jump":  # pelvis-centred joints do not leave the floor; the hips in the image do (y is down)
        height = np.median(np.ptp(keypoints[..., 1], axis=1)) if len(keypoints) else 1.0
        return -hip_centre_2d(keypoints)[:, 1] / max(float(height), 1.0)
    raise ValueError(f"{action!r} is not read from the track; it reads: {list(TIMED)}.")


def repetition_peaks(
    track: MotionTrack, action: str, side: str | None, first: int, stop: int, prominence: float = PROMINENCE
) -> np.ndarray:
    """The track frames `[P]` of the repetitions of `action` in `[first, stop)`: the peaks of `repetition_signal`
    (averaged over two frames above 8 fps) that stand out by `prominence` standard deviations, at least 0.6 of the
    action's fastest period apart."""
    from scipy.signal import find_peaks

    signal = repetition_signal(track, action, side, first, stop).astype(np.float64)
    if len(signal) < 3:
        return np.zeros(0, np.int64)
    if track.fps > 8:
        signal = (signal + np.concatenate([signal[:1], signal[:-1]])) / 2
    signal = (signal - signal.mean()) / (signal.std() + 1e-6)
    period = ACTION_SPECS[action][3] * SPEEDS["fast"] * track.fps  # frames
    peaks, _ = find_peaks(signal, distance=max(1, int(0.6 * period)), prominence=prominence)
    return first + np.flatnonzero(track.valid[first:stop])[peaks]


def count_repetitions(track: MotionTrack, action: str, side: str | None, first: int, stop: int) -> int:
    """Repetitions of `action` (one of COUNTABLE) in track frames `[first, stop)` (`repetition_peaks`); at least 1."""
    if action not in COUNTABLE:
        raise ValueError(f"{action!r} is not counted from the track; countable: {list(COUNTABLE)}.")
    return max(len(repetition_peaks(track, action, side, first, stop)), 1)


def repetition_speed(track: MotionTrack, action: str, side: str | None, first: int, stop: int) -> str | None:
    """How fast `action` repeats in track frames `[first, stop)`, widened by SPEED_PAD of its period each way: the
    median time between its peaks (`repetition_peaks`) against its period at a steady pace, "fast" under
    FAST_BELOW, "slow" over SLOW_ABOVE, else "normal"; None with fewer than two peaks, and for an action the track
    does not time (not in TIMED). A `side` other than left or right reads both."""
    if action not in TIMED:
        return None
    pad = int(SPEED_PAD * ACTION_SPECS[action][3] * track.fps)
    prominence = PROMINENCE if action in COUNTABLE else TIMED_PROMINENCE
    peaks = repetition_peaks(track, action, side, max(0, first - pad), min(track.num_frames, stop + pad), prominence)
    if len(peaks) < 2:
        return None
    ratio = float(np.median(np.diff(peaks))) / track.fps / ACTION_SPECS[action][3]
    return "fast" if ratio < FAST_BELOW else "slow" if ratio > SLOW_ABOVE else "normal"


def window_frames(valid: np.ndarray, num_windows: int, rate: float, track_fps: float) -> list[tuple[int, int]]:
    """`[(first, stop)]` track frames of each of the motion encoder's `num_windows` windows, for features at `rate`
    frames a second whose valid frames are `valid [T]` (the encoder's split: the k-th of n valid frames goes to
    window floor(k * Q / n))."""
    frames = np.flatnonzero(valid)
    n = len(frames)
    spans = []
    for q in range(num_windows):
        ranks = range(-(-q * n // num_windows), -(-(q + 1) * n // num_windows))  # ceil(q n / Q) .. ceil((q+1) n / Q)
        if len(ranks) == 0:
            spans.append((0, 0))
            continue
        begin, end = frames[ranks[0]] / rate, (frames[ranks[-1]] + 1) / rate  # seconds
        spans.append((int(begin * track_fps), int(np.ceil(end * track_fps))))
    return spans


class MotionCountLogitsProcessor(LogitsProcessor):
    r"""
    Args:
        count_ids (`list[int]`): the token ids of `COUNT_WORDS` after a space, in order (1, 2, 3, ...).
        steps (`list[dict | None]`): per prompt, `{(action, k): (first, stop)}` track frames of the k-th run of the
            motion heads' windows reading each of `COUNTED`, and `"track"`, its `MotionTrack` (None: leave alone).
        tokenizer: decodes the generated tokens, which `parse_caption` reads.
        prompt_length (`int`): where the generated tokens start.
    """

    def __init__(self, count_ids: list[int], steps: list[dict | None], tokenizer, prompt_length: int):
        self.count_ids, self.steps, self.tokenizer, self.prompt_length = count_ids, steps, tokenizer, prompt_length
        self.cache = {}

    def measured(self, prompt: int, action: str, k: int, side: str | None) -> int | None:
        """The track's count of the k-th mention of `action` in prompt `prompt`'s caption; None where the heads
        read no k-th run of it."""
        key = (prompt, action, k, side)
        if key not in self.cache:
            span = self.steps[prompt].get((action, k))
            self.cache[key] = (
                None if span is None else count_repetitions(self.steps[prompt]["track"], action, side, *span)
            )
        return self.cache[key]

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        expansion = len(input_ids) // len(self.steps)  # beams and returned sequences per prompt
        for row in range(len(input_ids)):
            prompt = row // expansion
            if self.steps[prompt] is None or int(scores[row].argmax()) not in self.count_ids:
                continue
            named = parse_caption(
                self.tokenizer.decode(input_ids[row, self.prompt_length :], skip_special_tokens=True)
            )
            if not named or named[-1]["action"] not in COUNTED or named[-1]["count"] is not None:
                continue  # a count word, but not the one of a counted action's clause
            action = named[-1]["action"]
            k = sum(step["action"] == action for step in named) - 1
            count = self.measured(prompt, action, k, named[-1]["side"])
            if count is None or count > len(self.count_ids):
                continue
            mass = scores[row, self.count_ids].logsumexp(0)
            scores[row, self.count_ids] = -torch.inf
            scores[row, self.count_ids[count - 1]] = mass
        return scores


def count_processor(model, processor, tracks: list, inputs) -> MotionCountLogitsProcessor | None:
    """The processor for one `generate` call over `tracks` (one per prompt), or None where it cannot apply (no motion
    heads, no kinematic features, count words the tokenizer splits, no track)."""
    features = inputs.get("motion_features")
    if model.model.motion_heads is None or features is None or features.ndim != 3:
        return None
    count_ids = [processor.tokenizer(f" {word}", add_special_tokens=False)["input_ids"] for word in COUNT_WORDS]
    if any(len(ids) != 1 for ids in count_ids) or not any(isinstance(t, MotionTrack) for t in tracks):
        return None
    mask = inputs.get("motion_attention_mask")
    outputs, present = read_motion_heads(model, features, mask)
    reading = outputs["action"].argmax(-1).masked_fill(~present, -1).cpu()  # [C, Q]: each window's likeliest action
    labels = model.config.motion_head_labels["action"]
    valid = (torch.ones(features.shape[:2], dtype=torch.bool) if mask is None else mask.bool()).cpu().numpy()
    steps = []
    for track, clip in zip(tracks, clip_of_rows(model.config, inputs["input_ids"])):
        if clip is None or not isinstance(track, MotionTrack):
            steps.append(None)
            continue
        spans = window_frames(valid[clip], reading.shape[1], processor.motion_rate(track), track.fps)
        found = {"track": track}
        for action in COUNTED:
            starts, ends = window_runs(reading[clip] == labels.index(action))
            for k, (start, end) in enumerate(zip(starts.tolist(), ends.tolist())):
                found[(action, k)] = (spans[start][0], spans[end - 1][1])
        steps.append(found)
    return MotionCountLogitsProcessor(
        [ids[0] for ids in count_ids], steps, processor.tokenizer, inputs["input_ids"].shape[1]
    )


__all__ = [
    "COUNTABLE",
    "COUNTED",
    "MotionCountLogitsProcessor",
    "TIMED",
    "count_processor",
    "count_repetitions",
    "repetition_peaks",
    "repetition_speed",
    "window_frames",
]
