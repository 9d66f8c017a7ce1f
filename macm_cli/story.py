"""A caption's story retold by the motion heads: the language model writes the caption, the heads say what happens.

The embedded model's motion heads read the actions of a clip better than its language model writes them. Retold
from runs of consecutive windows with the same likeliest action and from the longest run of each action the caption
names where a window reads it, the grounded captions of the HMI-Synth v4 `hmi9` clips score (`macm eval --decoding
grounded`, as written → retold) on validation: action recall 0.459 → 0.486, precision 0.654 → 0.735, side 0.647 →
0.750, count 0.500 → 0.705; on test (held-out orders and cameras): recall 0.411 → 0.459, precision 0.531 → 0.643,
side 0.837 → 0.842, count 0.446 → 0.573. A run is told with the evidence of `RUN_EVIDENCE`: shorter or less sure runs
find more actions on renders but invent more on real footage (`bench/bench_story.py`). The README has the tables.

`retell` keeps the caption's opening (who, what they wear, how they are framed) and writes one step per run, in the
caption grammar's words: the action the run reads; the side, speed and direction the caption gives where it names
that action with them (the side was already grounded in the heads while it was written), else the heads' side and
speed; the direction of a walk or run from the track's facing over the run's own frames (`directions.travel_phrase`):
the caption's was steered by the whole clip's facing, which names the direction of a walk or run chained with other
actions less often (on `hmi10` and `hmi9e` validation and 250 `hmi9` training clips, 16 of 57 such steps against 30
over the heads' span; single walks 5 of 9 either way; session 34); the count from the track where it counts the
action (`counts.count_repetitions`), a walk's or run's steps from the run's length (`HeadsReading.widen`: where
the action head still gives it SPAN_FLOOR) at its pace's cadence (`GAIT_SECONDS`; session 37, README Captioning: right
more often on the unseen draws' validation splits and on `hmi11` test, a little less on `hmi12` test, whose walks the
heads read over too few windows), else the caption's, else the count head's.
"""

from collections.abc import Sequence

from dataset_scripts.synth.grammar import FRAMINGS, caption_clauses, describe_step, parse_caption, split_story, story
from dataset_scripts.synth.programs import (
    ACTION_SPECS,
    DIRECTIONS,
    GAIT_SECONDS,
    HOLD_SECONDS,
    TRAVEL,
    TRAVEL_DIRECTIONS,
    UPPER_BODY,
)
from processing_macm.segments import slice_track

from .answers import HeadsReading, _direction
from .counts import COUNTABLE, count_repetitions, repetition_speed
from .directions import travel_phrase

# What a run of windows needs to be told, as `HeadsReading.runs` reads it: five windows whose action the heads give
# 0.5 on average, or three at 0.6 (see the module's docstring).
RUN_EVIDENCE = ((5, 0.5), (3, 0.6))
MAX_STEPS = 16  # the most steps the caption grammar counts ("sixteen steps")


class _FirstPhrase:
    """`describe_step`'s choice of words, made the same every time: the first phrasing."""

    @staticmethod
    def choice(options):
        return options[0]


def _framing(intro: str) -> str:
    """How the caption's opening says the person is framed (`FRAMINGS`: "seen from the waist up"); "full" if it
    does not say."""
    return next((name for name, (phrase, _) in FRAMINGS.items() if name != "full" and phrase in intro), "full")


def _caption_steps(clauses: list[str]) -> dict[str, dict]:
    """The side, count, speed and direction the caption gives each action it names (its first clause naming it; the
    whole clause: "makes backward circles with ..." names its direction before the action's verb)."""
    steps = {}
    for clause in clauses:
        named = caption_clauses(clause)
        if named and named[0][0] not in steps:
            action, step = named[0][0], parse_caption(f"The person {clause}.")[0]
            directions = TRAVEL_DIRECTIONS if action in TRAVEL else DIRECTIONS.get(action, ())
            steps[action] = {key: step[key] for key in ("side", "count", "speed")} | {
                "direction": _direction(clause, directions)
            }
    return steps


def _step(reading: HeadsReading, action: str, first: int, stop: int, said: dict) -> dict:
    """The program step of one run of windows `[first, stop)`: the side the caption `said`, else the heads'; a walk's or
    run's direction from the track's facing over the run's frames, else as said; a turn's or a side step's as said,
    else the side head's; the speed the track measures (`repetition_speed`), else as said, else the speed head's; the
    count from the track where it counts the action, else as said, else the count head's."""
    limb, sides, counts, _ = ACTION_SPECS[action]
    begin, end = reading.frames[first][0], reading.frames[stop - 1][1]  # track frames
    side = None if sides == (None,) else said.get("side") or reading.read("side", first, stop, among=sides)
    direction = said.get("direction")
    if action in TRAVEL:  # over the run's own frames; the caption's is the whole clip's facing
        direction = travel_phrase(slice_track(reading.track, begin, end)) or direction
    elif direction is None and action in ("turn_around", "step_sideways"):  # the side head reads which way
        direction = reading.read("side", first, stop, among=("left", "right"))
    measured = repetition_speed(reading.track, action, side, begin, end)
    speed = None if action in HOLD_SECONDS else measured or said.get("speed") or reading.read("speed", first, stop)
    if counts is None:
        count = None
    elif action in TRAVEL:  # the steps a person takes at that pace, over the run widened where the heads still see it
        wide_first, wide_stop = reading.widen(action, first, stop)
        seconds = (reading.frames[wide_stop - 1][1] - reading.frames[wide_first][0]) / reading.track.fps
        count = min(max(round(seconds / GAIT_SECONDS[action][speed]), 1), MAX_STEPS)
    elif action in COUNTABLE:
        count = max(count_repetitions(reading.track, action, None if side == "both" else side, begin, end), 1)
    else:
        count = said.get("count") or int(reading.read("count", first, stop))
    return {"action": action, "side": side, "limb": limb, "count": count, "speed": speed, "direction": direction}


def retell(
    caption: str,
    reading: HeadsReading | None,
    evidence: Sequence[tuple[int, float]] = RUN_EVIDENCE,
    keep_named: bool = True,
) -> str:
    """`caption` with its story (`split_story`) told from the heads' `reading`: a step for each run of windows reading
    one action with the `evidence` of one of its `(windows, probability)` pairs (`HeadsReading.runs`) and, with
    `keep_named`, for the longest run of each action the caption names that the heads read anywhere; where the
    opening says the legs are out of frame ("seen from the waist up"), upper-body actions only, told as for that
    framing. `caption` as it is without a reading, without such a run, and where its story is not one `split_story`
    reads."""
    told = None if reading is None else split_story(caption)
    if told is None:
        return caption
    intro, clauses, ordered = told
    said, framing = _caption_steps(clauses), _framing(intro)
    runs = reading.runs(evidence, keep=said if keep_named else (), among=None if framing == "full" else UPPER_BODY)
    if not runs:
        return caption
    steps = [_step(reading, action, first, stop, said.get(action, {})) for action, first, stop in runs]
    written = [describe_step(step, _FirstPhrase(), framing) for step in steps]
    retold = [" ".join(clause.split()) for clause in written]  # a direction not read leaves a double space
    return f"{intro} {story(retold, ordered)}".lstrip()


__all__ = ["RUN_EVIDENCE", "retell"]
