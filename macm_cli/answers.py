"""Answers read from a clip's motion and caption. The embedded model was trained to describe a clip, not to answer
questions about it: asked "How many times does the person squat?" it tells its story. So a question about the
person's movements is read, not generated: its kind (a count, a side, a speed, a direction, what comes right after
or before, first or last, when or for how long, whether a statement holds) and the action it asks about say what to
look up.

- With the motion heads' reading of the clip (`HeadsReading`), the asked action is found where the action head
  reads it (`HeadsReading.span`), and there the track counts its repetitions (`counts.count_repetitions`, for the
  actions it counts, and times them: `counts.repetition_speed`) or the count, side and speed heads say how many,
  which side and how fast, and the track's facing says which way a walk goes where the caption does not
  (`directions.travel_phrase`); the action that follows is the one the action head reads most in the windows that
  follow, the nearest weighted most (`ORDER_DECAY`); when it happens, and for how long, is where the heads read it
  ("From 1.2 s to 3.4 s."; on `hmi10` / `hmi9e` validation, asked of each action of each clip, the span answered
  overlaps the true one by half or more, IoU, for 0.56 / 0.54 of them, session 33). The heads read the action even
  where the caption leaves it out.
  The question names the action as a caption would: where the heads read it at `SEEN` somewhere but as no
  window's likeliest action, it is read there and the answer says so ("Twice, if at all: the motion barely shows
  the movement asked about."; `FAINT`); an action they do not read at `SEEN` anywhere is not counted or sided: the
  caption answers, "None: ..." if it does not name it either; but a question that takes the action as done (which
  side, how fast, which way, what comes next or before: `PRESUPPOSING`), or a true-or-false statement of its side,
  is read where the action head comes closest to it, and the answer says so (`UNSEEN`); a yes-or-no question of its
  side ("Is the left arm raised?") is the caption's "No." there, as "Does the person raise an arm?" is. Neither
  reading is given of a part of the body the clip leaves out of frame (`_framed`: the legs, which a walk, a squat or a
  turn needs too, in a waist-up shot; the arms in a head-and-shoulders one): the caption answers ("The caption names
  no walk.").
- From the caption (`read_answer` without a reading, and for what the heads do not read: whether an action
  happens, the first or last movement; and counts and speeds of actions the track does not count, and directions,
  where the caption gives them): read back with the caption grammar's parser.
- A statement of a count ("Does the person squat more than twice?") is checked against the count read for the action
  (a count the motion barely shows is taken as none: the statement does not presuppose the action).

On the clips of HMI-Synth v4 `hmi9` in which a person is described (the first 250 training clips, unseen by the
weights: 220 count, 79 side, 239 speed, 168 order questions), answers read from the caption alone were right for
0.33 of counts, 0.46 of sides, 0.29 of speeds and 0.30 of orders; with the heads, 0.48, 0.61, 0.40 and 0.44
(the test split, held-out orders and cameras: 0.22, 0.30, 0.25, 0.19 and 0.37, 0.48, 0.38, 0.31). Where the caption
names the action with the detail asked, the heads' answer was as good or better but for speeds on validation and
test (0.50 against the caption's 0.56, 0.49 against 0.52; train 0.50 against 0.49), so a speed the caption gives
is kept. Answering for an action the question alone names (session 27; rebuilt `hmi9`, accuracy per kind before →
after) raised validation counts 0.376 → 0.432, sides 0.400 → 0.540, speeds 0.242 → 0.280 and true/false 0.643 →
0.661, and test counts 0.282 → 0.311, sides 0.405 → 0.508, speeds 0.278 → 0.323, orders 0.264 → 0.293, true/false
0.618 → 0.625; asked the count of each action a real clip lacks (`bench/bench_real.py`), it gives 79 of 741 counts
where it gave 34, the 45 new ones all with `FAINT`. The README has the tables and commands.

`reads(question)` says whether a question is of those kinds and names an action. Questions about what the clip shows
of the person (colours, how much of the body is visible, whether they move at all or go elsewhere, why) are
`looks.py`'s (which says that it does not read expressions, objects, hair, age or sex); the others are left to the
model.
"""

import operator
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from dataset_scripts.synth.grammar import (
    PHRASES,
    SPEED_WORDS,
    caption_clauses,
    count_phrase,
    parse_caption,
    parse_count,
)
from dataset_scripts.synth.programs import ACTION_SPECS, TRAVEL, TRAVEL_DIRECTIONS, UPPER_BODY
from processing_macm import kinematic
from processing_macm.motion_track import SMPL_JOINT_NAMES, MotionTrack
from processing_macm.segments import slice_track

from .counts import COUNTABLE, TIMED, count_repetitions, repetition_speed, window_frames
from .directions import travel_phrase

# Whom a question asks about: the person, or as a question about real footage names them ("the man").
_WHO = "person|man|woman|boy|girl|child|kid|guy|lady|individual|subject|player|athlete|dancer|pedestrian|figure"
PERSON = f"(?:(?:the|this|that) (?:{_WHO})|he|she|they|someone|somebody|anyone|anybody)"
PERSONS = f"(?:(?:the|this|that) (?:{_WHO})'s|his|her|their)"  # the person's
_DOES = f"(?:does|did|do) {PERSON}"
# How a question asks, tried in this order on the lower-cased question.
KINDS = (
    ("true_false", r"\btrue or false\b"),
    ("count", r"\bhow (?:many|often)\b|^count\b|\bnumber of\b"),
    # "Is the person going left or right?": a way to go, not a side of the body.
    (
        "direction",
        rf"^(?:is|was|does|did) {PERSON} (?:go|move|head|travel|walk|run)\w* (?:to the )?(?:left|right) or\b"
        r"|^(?:which|what) (?:direction|way)\b",
    ),
    ("side", r"\b(?:which|what) (?:arm|leg|hand|foot|side)\b|\bleft or (?:the )?right\b|\bright or (?:the )?left\b"),
    (
        "speed",
        r"\bhow (?:fast|quickly|slowly)\b|\bat what (?:speed|pace)\b|\bwhat (?:is|was) the (?:\w+ )?(?:speed|pace|tempo)\b"
        r"|\b(?:fast|quick(?:ly)?|slow(?:ly)?) or (?:fast|quick(?:ly)?|slow(?:ly)?)\b",
    ),
    (
        "direction",
        rf"\b(?:which|what) (?:direction|way)\b|\bwhere {_DOES} (?:walk|run|go)\b"
        rf"|\bwhere (?:is|was) {PERSON} (?:walking|running|going|heading)\b",
    ),
    (
        "order",
        rf"^what {_DOES} do (?:(?:right|just|immediately|directly) )?(?:after|before)\b"
        r"|^what (?:happens|comes|is done|was done) (?:next )?(?:(?:right|just|immediately|directly) )?(?:after|before)\b",
    ),
    (
        "when",
        rf"^when (?:does|did|do|is|was) {PERSON}\b|^at what (?:time|point|moment) (?:does|did|do|is|was) {PERSON}\b"
        rf"|^how long (?:does|did|do|is|was) {PERSON}\b|^for how long (?:does|did|do|is|was) {PERSON}\b",
    ),
    (
        "first_last",
        rf"^what {_DOES} do (?:first|last|in the middle|at the (?:start|beginning|end))\b"
        r"|^what (?:is|was) the (?:first|last|final|middle) (?:thing|movement|action)\b"
        rf"|^what (?:is|was) {PERSON} doing (?:first|last|in the middle|at the (?:start|beginning|end))\b"
        r"|^what happens (?:first|last|in the middle|at the (?:start|beginning|end))\b"
        r"|^(?:which|what) (?:(?:action|movement|exercise|thing) )?(?:comes|happens|is (?:done|performed)) (?:first|last)\b"
        rf"|^(?:which|what) (?:action|movement|exercise) {_DOES} (?:do|perform) (?:first|last)\b",
    ),
    (
        "yes_no",
        rf"^(?:does|did|do|is|was|are|were) {PERSON}\b|^is it true that {PERSON}\b"  # of the person, or the movement:
        rf"|^(?:is|was|are|were) (?:the|{PERSONS}) [\w-]+ (?:done|performed|made|carried out|fast|quick|slow|before|after)"
        r"|^(?:does|did|do) the [\w-]+ (?:come|happen|occur) (?:before|after)\b",
    ),
)
# An action as a question names it: its name (HMI-Synth's questions: "to raise arm", "after they step sideways"), a
# caption's phrasing ("squats", "waving") or the bare verb ("squat").
BARE_VERBS = {
    "raise_arm": "raised?|lift(?:ed)?", "wave": "wave", "arm_circles": "circle", "clap": "clap", "squat": "squat",
    "lunge": "lunge", "jump": "jump", "kick": "kick", "bend_forward": "bend",
    "turn_around": "turn around|spin around|turn(?:s|ed|ing)?(?! (?:the|his|her|their) head)"
    "|chang(?:e|es|ed|ing) (?:direction|course)",
    "step_sideways": "step sideways|side-?step", "stand_still": "stand still|stay still|keep still",
    "talk": "talk|speak", "look_around": "look around|turn(?:s|ed|ing)? (?:the|his|her|their) head", "walk": "walk",
    "run": "run|jog", "crouch": "crouch",
}  # fmt: skip
# An action as an answer names it ("None: the caption names no raised arm.").
NOUNS = {
    "raise_arm": "raised arm", "wave": "wave", "arm_circles": "arm circle", "clap": "clap", "squat": "squat",
    "lunge": "lunge", "jump": "jump", "kick": "kick", "bend_forward": "forward bend", "turn_around": "turn",
    "step_sideways": "sideways step", "stand_still": "standing still", "talk": "talking",
    "look_around": "looking around", "walk": "walk", "run": "run", "crouch": "crouch",
}  # fmt: skip
# What the person does, said of an action the heads read (in the caption grammar's words, which parse back).
VERB_PHRASES = {
    "raise_arm": "raises an arm", "wave": "waves", "arm_circles": "circles the arms", "clap": "claps",
    "squat": "squats", "lunge": "lunges", "jump": "jumps", "kick": "kicks", "bend_forward": "bends forward",
    "turn_around": "turns around", "step_sideways": "steps sideways", "stand_still": "stands still", "talk": "talks",
    "look_around": "looks around", "walk": "walks", "run": "runs", "crouch": "crouches",
}  # fmt: skip
# The action head's probability of an action above which a stretch of windows reads it (`span`), and below which
# the heads do not see it at all. Of the actions of HMI-Synth v4 `hmi9` clips (validation and 250 training clips,
# unseen by the weights; stand_still aside), SEEN finds 0.88 in some window and 0.14 of those the clip does not have
# (0.3: 0.76 and 0.06; 0.05: 0.91 and 0.21); on the real set's 51 pedestrians it finds 1.96 actions other than a
# walk a clip. So an action the caption does not name must also be some window's likeliest: 0.76 of those there,
# 0.06 of those not, and 0.76 a pedestrian.
SPAN_FLOOR = 0.3
SEEN = 0.1
# What an answer about an action that only the question names says (`_heads_answer`): "Twice, if at all: ...".
FAINT = ", if at all: the motion barely shows the movement asked about."
# Kinds of question that take the action as done ("Which arm does the person wave?"), as does a statement of its side
# ("The person waves the left arm. True or false?"): where the heads do not read it at SEEN, they are read where it
# comes closest, and the answer says so (`UNSEEN`). A count may be none: not these.
PRESUPPOSING = ("side", "speed", "order", "direction")
UNSEEN = ", if at all: the motion does not show the movement asked about; read where it comes closest."
# What an answer about an action the heads read (as some window's likeliest) but the caption leaves out says: "Once, by
# the motion alone: the caption does not name it." Of such actions on HMI-Synth v4 validation (`hmi9e`, `hmi10`), 17%
# and 29% are in the clip (session 32), so "Does the person squat?" stays the caption's "No.".
UNNAMED = ", by the motion alone: the caption does not name it."
# What comes right after (before) an action is the action the heads read most over the windows after (before) its
# span, each window weighted ORDER_DECAY times the one nearer to it (the action itself and standing still aside), where
# some window there reads another action as its likeliest. The nearest such window alone (session 33's answer) was
# right for 0.421 of the order questions of `hmi10` / `hmi9e` validation clips with a person described (197) and
# 0.381 on test (394); weighted, 0.533 and 0.477 (0.7: 0.518 / 0.442, 0.9: 0.523 / 0.470; the mean of the next 8
# windows 0.523 / 0.470; session 34, `order_probe.py` in the notes).
ORDER_DECAY = 0.8
# The joints whose sight shows a limb's movement (`_limb_seen`).
LIMB_JOINTS = {
    "arm": ("left_elbow", "right_elbow", "left_wrist", "right_wrist"),
    "leg": ("left_knee", "right_knee", "left_ankle", "right_ankle"),
}
_ACTION_PATTERN = "|".join(
    f"(?P<{action}>\\b(?:{action.replace('_', ' ')}|{PHRASES[action][1]}|(?:{verbs}))\\b)"
    for action, verbs in sorted(BARE_VERBS.items(), key=lambda item: -len(item[0]))
)
_SIDE_PATTERN = r"\b(left|right|both)\s+(?:arms?|legs?|hands?|feet|foot)\b"
# Statements about the whole body that a caption's actions answer: (statement, the actions that make it true).
BODY_STATEMENTS = ((r"\bfeet leave the (?:floor|ground)\b|\bboth feet off\b", ("jump", "run")),)
# How a question may word a travel direction that the caption grammar words otherwise (`_direction`), and a way to one
# side of the image, which only a walk or a run across the scene settles (`_lateral_answer`).
DIRECTION_WORDINGS = (
    (r"\btowards\b", "toward"),
    (r"(?<!the scene )\bfrom (left to right|right to left)\b", r"across the scene from \1"),
)
LATERAL = r"\bto the (left|right)\b|\b(left|right)wards?\b"
# Going to one side without naming a walk or a run ("Is the person moving to the left?"): the caption's first one.
TRAVELLING_LATERAL = rf"\b(?:mov|go|head|travel)\w* (?:{LATERAL})"
TURNS = ("turn_around", "step_sideways")  # told with the way they go ("to the left"), their side and direction
STEP_NOUNS = {"walk": "steps", "run": "steps", "step_sideways": "steps"}  # counted in steps, not times
# How a question names a pace: the grammar's speeds (`SPEED_WORDS`).
PACE_WORDS = {
    "fast": r"\b(?:quick|quickly|fast|hurr(?:y|ies|ied|ying)|rush(?:es|ed|ing)?)\b",
    "slow": r"\bslow(?:ly)?\b",
    "normal": r"\b(?:steady|normal)\b",
}
# How a statement's count compares ("Does the person squat more than twice?"); none of these words: exactly.
COMPARISONS = {
    "more than": operator.gt, "over": operator.gt, "at least": operator.ge, "fewer than": operator.lt,
    "less than": operator.lt, "under": operator.lt, "at most": operator.le,
}  # fmt: skip


@dataclass
class HeadsReading:
    """The motion heads' reading of one clip, window by window (the windows with frames): each head's probabilities
    `probs[head] [Q, classes]` with their `labels[head]`, each window's track frames `frames [Q]` as (first, stop),
    and the track."""

    probs: dict[str, np.ndarray]
    labels: dict[str, list[str]]
    frames: list[tuple[int, int]]
    track: MotionTrack

    def span(self, action: str, named: bool = False, seen: float = SEEN) -> tuple[int, int] | None:
        """Windows `[first, stop)` where the action head reads `action`: the stretch whose probabilities exceed
        SPAN_FLOOR (or their maximum, if lower) by the most in sum. None where the heads do not see it: no window
        reads it at `seen` or more, or, unless it was `named` (by the caption, or by the question alone), no window
        reads it as its likeliest action."""
        index = self.labels["action"].index(action)
        probs = self.probs["action"][:, index]  # [Q]
        if len(probs) == 0 or probs.max() < seen or not named and index not in self.probs["action"].argmax(-1):
            return None
        best, first, stop, start, total = -np.inf, 0, 0, 0, 0.0
        for q, excess in enumerate(probs - min(SPAN_FLOOR, probs.max())):
            if total <= 0:
                start, total = q, 0.0
            total += excess
            if total > best:
                best, first, stop = total, start, q + 1
        return first, stop

    def widen(self, action: str, first: int, stop: int) -> tuple[int, int]:
        """Windows `[first, stop)` widened over the windows beside them where the action head still gives `action`
        SPAN_FLOOR: a walk seen from behind and above is the likeliest action in too few of its windows."""
        probs = self.probs["action"][:, self.labels["action"].index(action)]  # [Q]
        while first > 0 and probs[first - 1] >= SPAN_FLOOR:
            first -= 1
        while stop < len(probs) and probs[stop] >= SPAN_FLOOR:
            stop += 1
        return first, stop

    def read(self, head: str, first: int, stop: int, among: tuple[str, ...] | None = None) -> str:
        """The likeliest label of `head` over windows `[first, stop)`, "none" (and a count of "0") aside: the action
        is there; only labels `among` those given, if given."""
        labels = self.labels[head]
        mean = self.probs[head][first:stop].mean(0)
        candidates = [label for label in labels if label not in ("none", "0") and (among is None or label in among)]
        return max(candidates, key=lambda l: mean[labels.index(l)])

    def runs(
        self, evidence: Sequence[tuple[int, float]], keep: Collection[str] = (), among: Collection[str] | None = None
    ) -> list[tuple[str, int, int]]:
        """The stretches of consecutive windows that read one action as their likeliest, in time order, as `(action,
        first, stop)`: those with the `evidence` of one of its `(windows, probability)` pairs (at least that many
        windows, and that mean probability of the action over them) and the longest of each action in `keep` (the
        first of equals), of the actions `among` those given, if given; two of one action with only stretches left
        out between them are one."""
        probs = self.probs["action"]  # [Q, A]
        likeliest = probs.argmax(-1)  # [Q]
        stretches, first = [], 0
        for stop in range(1, len(likeliest) + 1):
            if stop == len(likeliest) or likeliest[stop] != likeliest[first]:
                stretches.append((self.labels["action"][likeliest[first]], first, stop))
                first = stop
        longest = {}  # action in keep -> its longest stretch
        for stretch in stretches:
            action, first, stop = stretch
            if action in keep and (action not in longest or stop - first > longest[action][2] - longest[action][1]):
                longest[action] = stretch
        runs = []
        for stretch in stretches:
            action, first, stop = stretch
            mean = probs[first:stop, likeliest[first]].mean()
            shown = any(stop - first >= windows and mean >= least for windows, least in evidence)
            if not (shown or longest.get(action) == stretch) or among is not None and action not in among:
                continue
            if runs and runs[-1][0] == action:
                runs[-1] = (action, runs[-1][1], stop)
            else:
                runs.append(stretch)
        return runs


def read_heads(model, processor, track: MotionTrack) -> HeadsReading | None:
    """`model`'s motion heads on `track` (one clip, within the motion window); None without heads, kinematic motion
    or a person."""
    import torch

    from modeling_macm.side_grounding import read_motion_heads

    if model.model.motion_heads is None or processor.motion_representation != "kinematic" or not track.has_person:
        return None
    features, valid = processor.motion_input(track)  # [T, F], [T]
    with torch.no_grad():
        outputs, present = read_motion_heads(model, features[None].to(model.device), valid[None].to(model.device))
    present = present[0].cpu().numpy()  # [Q]
    frames = window_frames(valid.cpu().numpy(), len(present), processor.motion_rate(track), track.fps)
    probs = {head: values[0].exp().float().cpu().numpy()[present] for head, values in outputs.items()}
    return HeadsReading(probs, model.config.motion_head_labels, [f for f, p in zip(frames, present) if p], track)


def question_kind(question: str) -> str | None:
    """How `question` asks (one of KINDS' names), or None."""
    lowered = " ".join(question.lower().split())
    return next((kind for kind, pattern in KINDS if re.search(pattern, lowered)), None)


def asked_actions(question: str) -> list[str]:
    """The actions `question` names, in order; a question of steps that names none asks about a walk ("How many
    steps does the person take?"). A leg, a knee or a foot raised or lifted, with no arm or hand named, is not a raised
    arm ("Which leg is lifted?" names no action)."""
    lowered = question.lower()
    asked = [match.lastgroup for match in re.finditer(_ACTION_PATTERN, lowered)]
    if re.search(r"\b(?:legs?|knees?|feet|foot)\b", lowered) and not re.search(r"\b(?:arms?|hands?)\b", lowered):
        asked = [action for action in asked if action != "raise_arm"]
    return asked or (["walk"] if re.search(r"\bsteps?\b", lowered) else [])


def reads(question: str) -> bool:
    """Whether `read_answer` answers `question`: a kind it reads, about an action (or a body statement, a way of
    going, a direction, or what comes first or last)."""
    kind = question_kind(question)
    statement = kind in ("true_false", "yes_no") and (
        _body_statement(question) or _direction(question) or re.search(TRAVELLING_LATERAL, question.lower())
    )
    return kind is not None and (
        bool(asked_actions(question)) or bool(statement) or kind in ("first_last", "direction")
    )


def read_answer(question: str, caption: str, reading: HeadsReading | None = None) -> str:
    """The answer to `question` (which `reads`): from the motion heads' `reading` of the clip where they read the
    question's kind, otherwise the answer `caption` gives."""
    if not reads(question):
        raise ValueError(f"{question!r} is not a question read_answer reads; check `reads(question)` first.")
    kind, asked, lowered = question_kind(question), asked_actions(question), question.lower()
    number = parse_count(lowered)
    if kind in ("true_false", "yes_no") and len(asked) == 1 and number is not None:
        return _count_verdict(kind, question, asked[0], number, caption, reading)
    pace = next((speed for speed, words in PACE_WORDS.items() if re.search(words, lowered)), None)
    if kind in ("true_false", "yes_no") and len(asked) == 1 and pace is not None:
        return _pace_verdict(kind, asked[0], pace, caption, reading)
    steps, clauses = parse_caption(caption), caption_clauses(caption)  # one each per action the caption names
    travelling = kind == "direction" or re.search(TRAVELLING_LATERAL, lowered)
    if travelling and not asked:  # "Where is the person going?", "... moving to the left?": the first walk or run
        asked = [next((step["action"] for step in steps if step["action"] in TRAVEL), "walk")]
    answer = None if reading is None or not asked else _heads_answer(kind, question, asked, steps, clauses, reading)
    if answer is not None:
        return answer
    last = bool(re.search(r"\b(?:last|end|final)\b", lowered))
    ordinal = re.search(r"\bor\b", lowered) and re.search(r"\b(?:first|last)\b", lowered)
    if kind in ("first_last", "yes_no") and len(asked) > 1 and ordinal:  # "Which comes first, the squat or the wave?"
        return _first_of(asked, steps, last)
    if kind == "first_last":  # the caption's first or last movement, standing still aside
        moves = [clause for action, clause in clauses if action != "stand_still"]
        if not moves:
            return "Nothing: the caption names no movement."
        which = -1 if last else len(moves) // 2 if "middle" in lowered else 0
        return f"The person {moves[which].strip(' ,')}."
    if kind == "yes_no" and len(asked) > 1 and re.search(r"\bor\b", lowered):  # "running or walking?"
        return _choice(asked, steps)
    lateral = re.search(LATERAL, lowered)
    if kind in ("true_false", "yes_no") and asked in (["walk"], ["run"]) and lateral and not _direction(question):
        return _lateral_answer(kind, asked[0], lateral.group(1) or lateral.group(2), clauses)
    if kind in ("true_false", "yes_no"):
        return _verdict(kind, _holds(question, asked, steps, clauses))
    action, noun = asked[0], NOUNS[asked[0]]
    found = [k for k, step in enumerate(steps) if step["action"] == action]
    if not found:
        return f"None: the caption names no {noun}." if kind == "count" else f"The caption names no {noun}."
    step, clause = steps[found[0]], clauses[found[0]][1]
    if kind == "when":
        return f"Not timed: the caption names the {noun}, but the motion heads do not find it."
    if kind == "order":
        after = _asks_after(question)
        others = [k for k, s in enumerate(steps) if s["action"] not in (action, "stand_still")]
        near = [k for k in others if k > found[0]] if after else [k for k in others if k < found[0]]
        if not near:
            return f"Nothing: the {noun} is the {'last' if after else 'first'} movement the caption names."
        return f"The person {clauses[near[0] if after else near[-1]][1].strip(' ,')}."
    if kind in ("side", "direction") and action in TURNS:  # "turns around to the right": the way it turns or steps
        way = re.search(r"\bto the (?:left|right)\b", clause)
        value = way and way.group()
    elif kind == "count":
        value = step["count"] and count_phrase(step["count"], STEP_NOUNS.get(action, "times"))
    elif kind == "side":
        value = step["side"] and (
            f"both {step['limb']}s" if step["side"] == "both" else f"the {step['side']} {step['limb']}"
        )
    elif kind == "speed":
        value = step["speed"] and SPEED_WORDS[step["speed"]][0]
    else:
        value = _direction(clause)
    if not value:
        return f"Not said: the caption names the {noun} without its {kind}."
    return _sentence(value)


def _heads_answer(
    kind: str,
    question: str,
    asked: list[str],
    steps: list[dict],
    clauses: list[tuple[str, str]],
    reading: HeadsReading,
) -> str | None:
    """The answer the heads give, where they read `kind` (counts of actions the track counts or the caption does not,
    sides, what comes next or before, one action's side in a statement or a yes/no question, and the speeds and the
    directions of a walk or a run that the caption does not give); None elsewhere. Speeds are the caption's where it
    gives one: where it does, the speed head was right less often (HMI-Synth v4 `hmi9` validation 0.50 against 0.56,
    test 0.49 against 0.52)."""
    action, stated = asked[0], re.search(_SIDE_PATTERN, question.lower())
    sides, counts = ACTION_SPECS[action][1:3]
    if kind not in ("count", "side", "speed", "order", "true_false", "yes_no", "direction", "when"):
        return None
    if action not in reading.labels["action"] or kind == "direction" and action not in TRAVEL:
        return None
    statement = kind in ("true_false", "yes_no")
    if (kind == "side" or statement) and sides == (None,) or kind == "count" and counts is None:
        return None  # an action without sides, or one that is held rather than repeated (a turn, talking)
    if statement and not (stated and len(asked) == 1):
        return None
    if kind == "count" and action not in COUNTABLE and any(s["action"] == action and s["count"] for s in steps):
        return None  # a count the track does not measure: the caption's
    said_speed = kind == "speed" and any(s["action"] == action and s["speed"] for s in steps)
    if said_speed and action not in TIMED:
        return None  # the caption's speed; a timed action's is the track's where it measures one
    if kind == "direction" and any(a == action and _direction(clause) for a, clause in clauses):
        return None  # the caption's direction (a retold story's: the track's over the run's frames, story.py)
    named = any(s["action"] == action for s in steps)
    span = reading.span(action, named=named)
    faint = span is None and not named
    if faint:  # the question names the action as a caption would, and the answer says how little the heads read it
        span = reading.span(action, named=True)
    hedge = FAINT if faint else "" if named else UNNAMED
    if span is None and (kind in PRESUPPOSING or kind == "true_false") and not named:
        span, hedge = reading.span(action, named=True, seen=0.0), UNSEEN
    if span is None:
        return None  # the heads do not see the action: the caption answers (it may not name it either)
    if hedge == FAINT and not _limb_seen(
        reading.track, ACTION_SPECS[action][0], reading.frames[span[0]][0], reading.frames[span[1] - 1][1]
    ):
        return None  # a faint reading of a limb the track never sees (the features hold it still): the caption's
    if hedge == UNSEEN and not _framed(reading.track, action):
        return None  # no reading of a part of the body the clip leaves out of frame: the caption's
    answer = _span_answer(kind, question, action, stated and stated.group(1), reading, *span, said_speed)
    return f"{answer[:-1]}{hedge}" if answer and hedge else answer


def _span_answer(
    kind: str,
    question: str,
    action: str,
    stated: str | None,
    reading: HeadsReading,
    first: int,
    stop: int,
    said_speed: bool = False,
) -> str | None:
    """The answer to a question of `kind` about `action` (a statement: of its `stated` side), read where the heads
    read it: windows `[first, stop)`. A speed is the track's (`counts.repetition_speed`, for the actions it counts),
    else the speed head's; None where the track measures none and the caption gives one (`said_speed`)."""
    begin, end = reading.frames[first][0], reading.frames[stop - 1][1]  # track frames
    if kind == "when":  # the heads' span, in seconds from the clip's start
        start, finish = begin / reading.track.fps, end / reading.track.fps
        if re.search(r"^(?:for )?how long\b", question.lower()):
            return f"For {finish - start:.1f} seconds, from {start:.1f} s to {finish:.1f} s."
        return f"From {start:.1f} s to {finish:.1f} s."
    if kind == "direction":  # as the track's facing gives it over the walk's frames (directions.py)
        phrase = travel_phrase(slice_track(reading.track, begin, end))
        return phrase and _sentence(phrase)
    if kind == "order":
        after = _asks_after(question)
        labels = reading.labels["action"]
        windows = list(range(stop, len(reading.frames)) if after else range(first - 1, -1, -1))
        left_out = [labels.index(action), labels.index("stand_still")]
        probs = reading.probs["action"][windows]  # [W, A], nearest first
        if np.isin(probs.argmax(-1), left_out).all():
            return f"Nothing: the {NOUNS[action]} is the {'last' if after else 'first'} movement the motion shows."
        weighted = (ORDER_DECAY ** np.arange(len(windows)))[:, None] * probs  # [W, A]
        weighted[:, left_out] = 0.0
        return f"The person {VERB_PHRASES[labels[int(weighted.sum(0).argmax())]]}."
    side, limb = reading.read("side", first, stop), ACTION_SPECS[action][0]
    if kind in ("true_false", "yes_no"):  # a statement of the action's side
        return _verdict(kind, side == stated)
    if kind == "speed":
        measured = repetition_speed(reading.track, action, side, begin, end)
        if measured is None and said_speed:
            return None
        return _sentence(SPEED_WORDS[measured or reading.read("speed", first, stop)][0])
    if kind == "side":
        return f"Both {limb}s." if side == "both" else f"The {side} {limb}."
    if action in COUNTABLE:
        count = count_repetitions(reading.track, action, side if side != "both" else None, begin, end)
    else:
        count = int(reading.read("count", first, stop))
    return _sentence(count_phrase(count, STEP_NOUNS.get(action, "times")))


def _framed(track: MotionTrack, action: str) -> bool:
    """Whether the clip's framing (`looks.framing`) shows the part of the body that does `action`: the arms in all
    but a head-and-shoulders shot; the legs, which a walk, a squat or a turn needs as a kick does (`UPPER_BODY`
    aside), in a full or knees-up shot."""
    from .looks import PART_FRAMINGS, framing  # looks answers with this module

    limb, shot = ACTION_SPECS[action][0], framing(track)
    part = "arms" if limb == "arm" else "legs" if limb == "leg" or action not in UPPER_BODY else None
    return part is None or shot is None or shot in PART_FRAMINGS[part]


def _limb_seen(track: MotionTrack, limb: str, begin: int, end: int) -> bool:
    """Whether `track` sees the `limb` ("arm": an elbow or a wrist, "leg": a knee or an ankle; any other limb: yes) in
    some frame of `[begin, end)` as the kinematic features do (`joint_visibility` of `kinematic.SEEN` or more; they
    hold the other joints still)."""
    if limb not in LIMB_JOINTS:
        return True
    span = slice_track(track, begin, end)
    joints = [SMPL_JOINT_NAMES.index(name) for name in LIMB_JOINTS[limb]]
    return bool((kinematic.joint_visibility(span)[span.valid][:, joints] >= kinematic.SEEN).any())


def _count_verdict(
    kind: str, question: str, action: str, number: int, caption: str, reading: HeadsReading | None
) -> str:
    """Whether one action happens `number` times (or more than, fewer than, ... `COMPARISONS`), as the count that
    `read_answer` gives for it says; a count it cannot give is said so."""
    counted = read_answer(f"How many times does the person {action.replace('_', ' ')}?", caption, reading)
    if counted.startswith("Not said"):
        return counted
    counted = 0 if counted.startswith("None") or FAINT in counted else parse_count(counted.lower().split(",")[0])
    compared = re.search(r"\b(" + "|".join(COMPARISONS) + r")\b", question.lower())
    return _verdict(kind, (COMPARISONS[compared.group(1)] if compared else operator.eq)(counted, number))


def _pace_verdict(kind: str, action: str, pace: str, caption: str, reading: HeadsReading | None) -> str:
    """Whether one action goes at `pace` ("Does the person walk slowly?"), as the speed that `read_answer` gives for it
    says; an action the caption does not name, or the heads barely show, does not; a speed it cannot give is said so."""
    timed = read_answer(f"How fast does the person {action.replace('_', ' ')}?", caption, reading)
    if timed.startswith("Not said"):
        return timed
    said = next((speed for speed, words in SPEED_WORDS.items() if timed.lower().startswith(words[0])), None)
    return _verdict(kind, said == pace and FAINT not in timed and UNSEEN not in timed)


def _first_of(asked: list[str], steps: list[dict], last: bool = False) -> str:
    """Which of the actions `asked` the caption's `steps` name first (or, with `last`, last); those it does not name are
    said so."""
    named = [step["action"] for step in steps]
    said, missing = [a for a in asked if a in named], " or ".join(NOUNS[a] for a in asked if a not in named)
    if not said:
        return f"Neither: the caption names no {missing}."
    chosen = max(said, key=lambda a: len(named) - named[::-1].index(a)) if last else min(said, key=named.index)
    return f"The {NOUNS[chosen]}." + (f" The caption names no {missing}." if missing else "")


def _choice(asked: list[str], steps: list[dict]) -> str:
    """The answer to a choice between actions ("Is the person running or walking?"): those of `asked` the caption's
    `steps` name, else neither."""
    named = [action for action in asked if any(step["action"] == action for step in steps)]
    if not named:
        return f"Neither: the caption names no {' or '.join(NOUNS[action] for action in asked)}."
    return f"The person {' and '.join(VERB_PHRASES[action] for action in named)}."


def _sentence(text: str) -> str:
    return f"{text[0].upper()}{text[1:]}."


def _verdict(kind: str, holds: bool) -> str:
    """The answer to a statement: "True."/"False." (`kind` "true_false") or "Yes."/"No."."""
    return ("True." if holds else "False.") if kind == "true_false" else ("Yes." if holds else "No.")


def _asks_after(question: str) -> bool:
    """Whether an order question asks what comes after (else: before)."""
    return "before" not in question.lower()


def _direction(text: str, options=TRAVEL_DIRECTIONS) -> str | None:
    """The direction `text` names among `options` (travel directions unless given): the longest label ("diagonally
    toward the camera", not "toward ..."), "towards" read as "toward" and "from left to right" as going across."""
    lowered = text.lower()
    for pattern, label in DIRECTION_WORDINGS:
        lowered = re.sub(pattern, label, lowered)
    return max((label for label in options if label in lowered), key=len, default=None)


def _lateral_answer(kind: str, action: str, side: str, clauses: list[tuple[str, str]]) -> str:
    """Whether a walk or a run goes to the image's `side` ("Is the person walking to the left?"): a direction across
    the scene says so, one toward or away from the camera goes to neither side, a diagonal one does not say which."""
    across = f"across the scene from {'right to left' if side == 'left' else 'left to right'}"
    said = [_direction(clause) or "" for named, clause in clauses if named == action]
    if across in said:
        return _verdict(kind, True)
    diagonal = next((direction for direction in said if direction.startswith("diagonally")), None)
    if diagonal is not None:
        return f"Not said: the caption gives the {NOUNS[action]} as going {diagonal}, not to which side."
    return _verdict(kind, False)


def _body_statement(question: str) -> tuple[str, ...] | None:
    return next((actions for pattern, actions in BODY_STATEMENTS if re.search(pattern, question.lower())), None)


def _holds(question: str, asked: list[str], steps: list[dict], clauses: list[tuple[str, str]]) -> bool:
    """Whether the caption's steps bear out the statement (or yes/no question) `question`: a body statement by any
    of its actions; otherwise each asked action in the order asked (and, where one action is asked with a side or a
    direction, with that side or direction; a direction alone, any walk or run that way; stopping one, any step after
    it). "anything other than X" asks for an action that is not X; "X or Y" for either (a statement; a question of
    "X or Y" asks which)."""
    named = [step["action"] for step in steps]
    body = _body_statement(question)
    if body is not None:
        return any(action in named for action in body)
    if re.search(r"\bother than\b", question.lower()):
        return any(action not in asked for action in named)
    if len(asked) > 1 and re.search(r"\bor\b", question.lower()):  # "Does the person squat or jump?": either
        return any(action in named for action in asked)
    if len(asked) == 1 and re.search(r"\b(?:stop|pause|halt|quit)(?:s|ped|ping)?\b", question.lower()):
        return asked[0] in named[:-1]  # "Does the person stop walking?": something follows the walk
    side, direction = re.search(_SIDE_PATTERN, question.lower()), _direction(question)
    if not asked and direction:  # "Is the person moving toward the camera?": any walk or run that way
        return any(action in TRAVEL and direction in (_direction(clause) or "") for action, clause in clauses)
    if len(asked) == 1 and side:
        return any(step["action"] == asked[0] and step["side"] == side.group(1) for step in steps)
    if len(asked) == 1 and direction:  # "toward the camera" holds of a walk diagonally toward it, not the reverse
        return any(action == asked[0] and direction in (_direction(clause) or "") for action, clause in clauses)
    if len(asked) == 2 and re.search(r"\bafter\b", question.lower()):
        asked = asked[::-1]  # "Does the person wave after squatting?": the squat, then the wave
    position = 0
    for action in asked:
        if action not in named[position:]:
            return False
        position = named.index(action, position) + 1
    return True


__all__ = [
    "PRESUPPOSING",
    "UNNAMED",
    "UNSEEN",
    "HeadsReading",
    "asked_actions",
    "question_kind",
    "read_answer",
    "read_heads",
    "reads",
]
