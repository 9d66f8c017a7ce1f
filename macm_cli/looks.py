"""Answers about what a clip shows of the person, beside how they move (`answers.py`): the colour of their shirt or
trousers (or what they wear), how much of their body is in frame, whether they do anything but stay still, whether
they go to another place and why they move, each in several wordings, as a yes-or-no question ("Is the person
wearing a red shirt?", "Is the whole body visible?", "Does the person stay in one place?"; `KINDS`) and as a
true-or-false statement ("The person stays in one place. True or false?", answered "True" or "False"). The embedded
model was trained to describe a clip; asked "What colour is the person's shirt?" it tells its story. These are read
instead:

- colour, clothes: `appearance.clothing_colours`, the video's pixels where the track puts the torso or the thighs.
- framing: as the caption says it ("seen from the waist up", "standing on a grey floor": the model sees the frames),
  else which of the feet, knees and hips the track sees inside the frame (visibility `appearance.VISIBLE` or more)
  in `SEEN_SHARE` of the frames where the person is found or more: the lowest part seen says how much of the body
  is in view; in the words of HMI-Synth's framings (`FRAMINGS`). Of the validation captions that name a framing,
  68 of 74 name the right one, the track 63.
- moving ("Does the person do anything other than stay still?"): whether the caption (a stated still included)
  names a movement other than standing still.
- limbs ("Does the person move their legs?", "What are the arms doing?", "Are the legs still?"): the caption's
  movements of that part (`PART_ACTIONS`: a walk moves the legs and swings the arms), unless the caption's framing
  (else the track's) leaves it out of frame: then "Not read: the legs are out of frame (seen from the chest up)."
- stop ("Does the person stop?"): whether the caption names standing still after a movement ("Does the person stop
  walking?" names a movement: `answers.py`'s).
- pace ("How fast is the person moving?", "Is the person moving quickly?", "Is the movement fast or slow?", "Is the
  person in a hurry?"): the pace the caption gives its first timed movement, or whether one goes at the pace asked.
- number ("How many different actions does the person perform?"), sequence ("In what order does the person do the
  actions?"): the movements the caption names, standing still aside, in order (counted, for the first).
- travel ("Does the person move to another place?"): whether the caption names a movement that takes the person
  elsewhere in HMI-Synth's questions (`TRAVELLING`: a walk, a run, a sideways step, a turn). The track's own travel
  in the image was measured and not used: a camera that follows the person keeps them in place.
- motive ("Why does the person move this way?"): what the caption's movements are for, in HMI-Synth's answers
  (`grammar.MOTIVES`): waiting (no movement), going somewhere (walks, runs and turns only), talking with someone, or
  a sequence of movements.
- present ("Is there anyone in the video?", "Is the person visible?"): whether the track finds a person, and in
  what share of the frames; without a track, whether the caption is the statement that nobody was found.
- people ("How many people are in the video?", "Is there more than one person?"): not counted (the front end follows
  one person); the answer says whether one is found and that the others are not counted, rather than a caption.
- length ("How long is the video?"): the track's seconds.
- a description ("What is the person doing in the video?", "Describe the person's movements.", "What is going on?";
  `asks_description`): the caption, written with the prompt the model was trained on. Given any other prompt, the
  language model wrote broken sentences ("a person in a green floor") and other counts than its caption's on the real
  set's first pedestrian.
- expression, and what the person holds or wears on the feet or the head, their hair, age or sex ("unread"), and the
  place, the weather or the time ("scene"): not read (the pose track has no face and no objects, and the model sees
  only the person), and said so rather than answered with a caption; so are where the person faces or looks
  ("facing"), whether they stand, sit or lie ("posture"), how the camera films them ("camera") and movements
  outside the model's vocabulary ("movement": "Does the person sit down?", "Does he nod?", "Is she dancing?"), an
  answer that names the movements it does read.

Chosen on HMI-Synth v4 `hmi9`'s validation split (README, Questions).
"""

import re

from dataset_scripts.synth.body import PALETTE
from dataset_scripts.synth.grammar import (
    FRAMINGS,
    MOTIVES,
    SPEED_WORDS,
    caption_clauses,
    count_phrase,
    motive,
    parse_caption,
)
from processing_macm.motion_track import MEDIAPIPE_LANDMARK_NAMES, MotionTrack

from . import answers, appearance
from .answers import PACE_WORDS, PERSON, PERSONS

_DOES = f"(?:does|did|do|is|was) {PERSON}"
_CLOTHES = {
    "shirt": r"shirt|t-shirt|top|jacket|coat|sweater|jumper|hoodie|blouse",
    "trousers": r"trousers|pants|jeans|shorts|skirt|leggings",
}
_WORN = "|".join(_CLOTHES.values())
_COLOUR_WORDS = "|".join(PALETTE)
_VISIBLE = r"(?:visible|seen|shown|in (?:the )?(?:frame|view|shot|picture))"
_LIMBS = r"legs?|feet|foot|arms?|hands?|head"
_LIMB = rf"(?:the |{PERSONS} )?(?:(?:left|right) )?(?:{_LIMBS})"  # "their right hand", "the legs"
# Movements outside the model's vocabulary (`answers.NOUNS`), as a yes-or-no question asks them ("Is the person
# sitting?", "Does the man nod?").
_UNREAD_MOVES = (
    r"sit|sits|sitting|sat|nod|nods|nodding|nodded|(?:shake|shakes|shaking|shook) (?:the|his|her|their) head"
    r"|danc\w*|exercis\w*|work(?:s|ing)? out|stretch\w*|point\w*|throw\w*|threw|catch\w*|caught|fall\w*|fell"
    r"|lie|lies|lying|lay|climb\w*|crawl\w*|hop|hops|hopping|skip\w*|kneel\w*|knelt|(?:stand|stands|standing|stood"
    r"|get|gets|getting|got) up|push\w*|pull\w*|hug\w*|fight\w*|punch\w*|box|boxes|boxing|swim\w*|rid(?:e|es|ing)"
    r"|eat\w*|drink\w*|smok\w*|play\w*|bow|bows|bowing|bowed|shrug\w*|salut\w*|limp\w*|stumbl\w*|trip\w*|greet\w*"
)
_PEOPLE = r"anyone|anybody|someone|somebody|person|people|human"
_SEVERAL = r"people|persons|humans|men|women|pedestrians"
# What the person wears that no colour is read for: on the feet or the head, or carried.
_ACCESSORIES = r"feet|shoes?|footwear|boots?|sneakers?|trainers|socks|head|hats?|caps?|helmet|glasses|sunglasses|bags?"
# How a question asks, tried in this order on the lower-cased question.
KINDS = (
    (
        "colour",
        rf"^(?:what|which)\b.*\bcolou?rs?\b.*\b(?:{_WORN})\b|^(?:what|which)\b.*\b(?:{_WORN})\b.*\bcolou?rs?\b"
        rf"|^(?:is|was|does|did|are) {PERSON} (?:wear(?:ing)?|dressed in|in) (?:an? )?(?:{_COLOUR_WORDS}) (?:{_WORN})\b"
        rf"|^(?:is|was|are|were) {PERSONS} (?:{_WORN}) (?:{_COLOUR_WORDS})\b",
    ),
    (
        "clothes",
        rf"^what (?:is|was|does|did) {PERSON} (?:wear|wearing|have on|dressed in)\b(?!.*\b(?:{_ACCESSORIES})\b)",
    ),
    (
        "framing",
        rf"\bhow much of (?:{PERSON}|him|her|them|(?:the|{PERSONS}) body)\b"
        rf"|^which parts? of (?:{PERSON}|(?:the|{PERSONS}) body)\b.*\b{_VISIBLE}"
        rf"|^(?:is|are) (?:(?:the|{PERSONS}) )?(?:(?:whole|entire|full) body|legs|feet) {_VISIBLE}"
        rf"|^(?:is|are) (?:(?:the|{PERSONS}) )?(?:whole|entire|full) body\b",
    ),
    (
        "moving",
        rf"^{_DOES} (?:do(?:ing)? )?anything (?:other|else) than (?:stay|stand|keep|sit)(?:ing)? still\b"
        rf"|^{_DOES} (?:move|moving)(?: at all\b|\W*$| (?:the |{PERSONS} )?(?:whole )?body\b)|^{_DOES} in motion\b"
        rf"|^{_DOES} (?:stay|stand|keep|remain)(?:s|ing)? still\b",
    ),
    (
        "limbs",
        rf"^{_DOES} (?:move|moving|swing|swinging|use|using) {_LIMB}\b|^what (?:are|is|were|was) {_LIMB} doing\b"
        rf"|^what (?:is|was|does|did) {PERSON} (?:do|doing) with {_LIMB}\b"
        rf"|^how (?:does|did|do) {PERSON} (?:move|swing|use) {_LIMB}\b"
        rf"|^(?:are|is|were|was) {_LIMB} (?:moving|still|swinging)\b",
    ),
    (
        "stop",
        rf"^{_DOES} (?:ever )?(?:stop|pause|halt|come to a (?:stop|halt))(?:s|ped|ping)?"
        r"(?: at (?:any|some) (?:point|time|moment))?\W*$",
    ),
    (
        "pace",
        rf"^how (?:fast|quickly) (?:is|was|does|did) {PERSON} (?:move|moving)\b"
        rf"|^what (?:is|was) {PERSONS} (?:pace|speed)\W*$|^{_DOES} (?:in a (?:hurry|rush)|hurrying|rushing)\b"
        rf"|^{_DOES} (?:move|moving) (?:quickly|slowly|fast|at a (?:steady|normal|slow|fast) pace)\b"
        r"|^(?:is|was|are|were) (?:the|this|that|their|his|her) (?:movements?|motion) (?:fast|slow|quick)\b",
    ),
    (
        "travel",
        rf"^{_DOES} (?:move|moving|go|going|walk|walking) (?:over )?to (?:another|a different|a new|some other) "
        rf"(?:place|spot|position|location|part)\b|^{_DOES} (?:change|changing) (?:place|position|location)\b"
        rf"|^{_DOES} (?:stay|remain|stand)(?:s|ing)? in (?:one|the same) (?:place|spot|position|location)\b",
    ),
    ("motive", rf"^why (?:does|did|is|was|do) {PERSON}\b|^what (?:is|was) {PERSON} (?:doing it )?for\b"),
    (
        "people",
        rf"^how many (?:{_SEVERAL}|(?:{_PEOPLE})s?)\b|\b(?:anyone|anybody|someone|somebody) else\b"
        rf"|\b(?:more than one|several|other|many|multiple|two|three|\d+) "
        rf"(?:{_SEVERAL}|person)\b|^(?:is|was|are|were) {PERSON} (?:alone|by (?:him|her|them)sel(?:f|ves))\b",
    ),
    ("length", r"^how long (?:is|was|does|did) (?:the |this )?(?:video|clip|footage|recording|film)\b"),
    (
        "present",
        rf"^(?:is|are) there (?:a |an |any )?(?:{_PEOPLE})\b|^(?:is|are) (?:{_PEOPLE}) (?:in|{_VISIBLE})\b"
        rf"|^(?:can|do) (?:you|we|i) see (?:a |an |any )?(?:{_PEOPLE})\b"
        rf"|^(?:is|was) {PERSON} (?:{_VISIBLE}|in the (?:video|clip))\W*$",
    ),
    (
        "expression",
        rf"\b(?:facial )?expressions?\b|\bhow (?:does|did) {PERSON} (?:look|feel)\b|\b(?:smil|frown)\w*\b"
        rf"|^describe (?:the |{PERSONS} )?face\b"
        r"|\b(?:happy|sad|angry|upset|scared|afraid|excited|bored|tired|mood|emotions?)\b",
    ),
    (
        "unread",
        r"\b(?:hold|holding|carry|carrying)\b|\bhair\b|\b(?:gender|age)\b|\bhow (?:old|tall|heavy)\b"
        r"|\b(?:male|female)\b|\bphone\b"
        rf"|\bman or (?:a )?woman\b|\b(?:wear|wearing|colou?rs?)\b.*\b(?:{_ACCESSORIES})\b",
    ),
    (
        "facing",
        rf"^(?:is|was|does|did) {PERSON} (?:\w+ )?(?:fac(?:e|es|ing)(?: away from| toward| towards)?"
        r"|look(?:s|ing)? (?:at|into|toward|towards|away from)) (?:the )?(?:camera|viewer|lens)\b",
    ),
    (
        "posture",
        rf"^(?:is|was) {PERSON} (?:\w+ )?(?:standing|sitting|seated|lying|kneeling)\b(?! (?:still|up|down)\b)",
    ),
    ("movement", rf"^(?:is|was|does|did) {PERSON} (?:\w+ )?(?:{_UNREAD_MOVES})\b"),
    (
        "camera",
        r"\bcamera (?:is |was )?(?:moving|move|moves|shaking|shake|shakes|panning|pan|pans|still|static|steady)\b"
        r"|\b(?:shot|filmed|recorded|seen) from (?:above|below|the side|behind|a distance|far away)\b"
        r"|\b(?:close|near|far) (?:to|from) the camera\b|\bcent(?:er|re) of the (?:frame|image|picture|screen)\b",
    ),
    ("sequence", r"^in (?:what|which) order\b|^what (?:is|was) the (?:order|sequence) of\b"),
    (
        "number",
        r"^how many (?:different |distinct |separate |kinds of )?(?:actions|movements|moves|things|exercises|activities)\b",
    ),
    (
        "scene",
        r"\bweather\b|\b(?:indoors?|outdoors?|inside or outside)\b|\btime of (?:the )?day\b|\b(?:day|night)time\b"
        r"|\bbackground\b|^where (?:is|was|are|were) (?:this|it|the (?:video|clip|scene))\b"
        rf"|^where (?:is|was) {PERSON}\W*$"
        r"|^what (?:kind of )?(?:place|room|building|city|country|location)\b",
    ),
)
# A true-or-false statement as the question it states (`_asked`): (statement, question) patterns, tried in order.
_STATEMENTS = (
    (rf"^({PERSON}) (is|was) ", r"\2 \1 "),
    (rf"^((?:{PERSONS}|the) [\w -]+?) (is|are|was|were) ", r"\2 \1 "),
    (rf"^({PERSON}) (wear|stay|stand|keep|remain|move|change|go|walk)s? ", r"does \1 \2 "),
)
# Questions that ask the opposite of their kind's yes ("Does the person stay still?": yes when they do not move).
_OPPOSITE = re.compile(r"^(?!.*\b(?:other|else) than\b).*\b(?:stay|stand|keep|remain)(?:s|ing)? (?:still|in)\b")
# A request for the clip's description, however worded (`asks_description`); one that names a movement is `answers`'.
DESCRIBE = re.compile(
    rf"^(?:what(?:'s| is| was) (?:{PERSON} doing|happening|going on)|what (?:does|did) {PERSON} do|what happens"
    rf"|what (?:activity|action|movement|motion|exercise)s? (?:(?:is|are|was|were) (?:being )?(?:performed|done|shown)"
    rf"|(?:is|was|does|did) {PERSON} (?:doing|performing|do|perform|make|making)))"
    r"(?: (?:in|during) (?:the|this) (?:video|clip|footage|scene|recording))?\W*$"
    r"|^(?:please |can you |could you )?(?:describe|summari[sz]e)\b(?!.*\b(?:face|clothes|background|place)\b)"
)
# The kinds this model does not read, and what it says instead of a caption.
NOT_READ = {
    "expression": "Not read: this model reads the body's movements, not the face.",
    "unread": "Not read: this model reads the body's movements and the clothes' colours, not objects, hair or identity.",
    "scene": "Not read: this model reads the person's movements and the clothes' colours, not the place or the time.",
    "facing": "Not read: this model reads how the person moves, not where they face or look.",
    "posture": "Not read: this model reads how the person moves, not whether they stand, sit or lie.",
    "camera": "Not read: this model reads how the person moves, not how the camera films them.",
    "movement": "Not read: the movement asked about is not among those this model reads ("
    + ", ".join(answers.NOUNS.values())
    + ").",
}
# The parts of the body a question may ask about, the caption's actions that move each, and the framings that show it.
PARTS = {"legs": r"legs?|feet|foot", "arms": r"arms?|hands?", "head": r"head"}
PART_ACTIONS = {
    "legs": ("walk", "run", "squat", "lunge", "jump", "kick", "step_sideways", "crouch", "turn_around"),
    "arms": ("raise_arm", "wave", "arm_circles", "clap", "talk", "walk", "run"),
    "head": ("look_around", "talk"),
}
PART_FRAMINGS = {"legs": ("full", "knees_up"), "arms": ("full", "knees_up", "waist_up"), "head": tuple(FRAMINGS)}
# What a glimpse of the person, or a clip too short to describe, still shows (`MACMCaptioner.answer`).
SEEN = ("colour", "clothes", "framing", "present", "people", "length")
COLOURED = ("colour", "clothes")  # the kinds answered from the clothes' colours
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


def _asked(question: str) -> tuple[str, bool]:
    """`question` lower-cased, a true-or-false statement turned into the question it states ("The person is wearing a
    red shirt. True or false?" -> "is the person wearing a red shirt"), and whether it was one."""
    lowered = " ".join(question.lower().split())
    stated = re.fullmatch(r"(.*?)[.,]?\s*(?:true or false|is (?:this|that|it) true)\??\.?", lowered)
    if stated is None:
        return lowered, False
    text = stated.group(1)
    for statement, asked in _STATEMENTS:
        if re.match(statement, text):
            return re.sub(statement, asked, text, count=1), True
    return text, True


def _kind(asked: str) -> str | None:
    kind = next((kind for kind, pattern in KINDS if re.search(pattern, asked)), None)
    moves = set(answers.asked_actions(asked)) - {"stand_still"}
    dropped = ("moving", "travel", "present", "unread", "scene", "limbs", "posture", "movement")
    return None if kind in dropped and moves else kind


def question_kind(question: str) -> str | None:
    """How `question` asks about what the clip shows (one of KINDS' names), or None; a question that also names a
    movement ("Does the person stay still before squatting?", "Does the person hold the squat?") is `answers`' to
    read."""
    return _kind(_asked(question)[0])


def reads(question: str) -> bool:
    """Whether `answer` answers `question`."""
    return question_kind(question) is not None


def asks_description(question: str) -> bool:
    """Whether `question` asks for the clip's description ("What is the person doing?", "Describe the video."), which
    the caption answers, rather than about one movement or what the clip shows."""
    asked = _asked(question)[0]
    return bool(DESCRIBE.search(asked)) and not answers.asked_actions(asked)


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
        if seen[:, [MEDIAPIPE_LANDMARK_NAMES.index(name) for name in names]].any(axis=1).mean() >= SEEN_SHARE:
            return key
    return "head_shoulders"


def answer(question: str, caption: str, track: MotionTrack | None = None, colours: dict | None = None) -> str:
    """The answer to `question` (which `reads`) about a clip captioned `caption` (a stated caption, "The person stands
    still.", included), with its `track` (for a framing) and the `colours` `appearance.clothing_colours` reads from it
    (for a colour; None: the colours the caption names). A true-or-false statement gets "True" or "False"."""
    asked, stated = _asked(question)
    kind = _kind(asked)
    if kind is None:
        raise ValueError(f"{question!r} is not a question looks.answer reads; check `looks.reads(question)` first.")
    said = _answer(kind, asked, caption, track, colours)
    if not stated:
        return said
    return re.sub(r"^(Yes|No)\b", lambda verdict: "True" if verdict.group(1) == "Yes" else "False", said)


def _answer(kind: str, asked: str, caption: str, track: MotionTrack | None, colours: dict | None) -> str:
    if kind in COLOURED:
        return _colour_answer(kind, asked, appearance.named_colours(caption) if colours is None else colours)
    if kind == "framing":
        return _framing_answer(asked, caption, track)
    if kind in ("present", "people"):
        from .captioner import NOBODY_CAPTION  # the captioner answers with this module

        found = caption != NOBODY_CAPTION if track is None else track.has_person
        if not found:
            return "No: nobody is found in the video." if kind == "present" else "None: nobody is found in the video."
        share = "" if track is None else f" in {track.valid.mean():.0%} of the frames"
        if kind == "people":
            return (
                f"At least one: a person is found{share}; the front end follows one person and does not count others."
            )
        return f"Yes: a person is found{share}." if share else "Yes."
    if kind in NOT_READ:
        return NOT_READ[kind]
    if kind == "length":
        if track is None:
            return "Not read: the clip's length comes from its motion, which this answer was given without."
        return f"{track.num_frames / track.fps:.1f} seconds."
    if kind == "limbs":
        return _limbs_answer(asked, caption, track)
    clauses = caption_clauses(caption)
    moves = [(action, clause) for action, clause in clauses if action != "stand_still"]
    if kind == "stop":  # a stretch of standing still after a movement
        after = next((k for k, (action, _) in enumerate(clauses) if action == "stand_still" and k > 0), None)
        if after is not None:
            return f"Yes: the person {clauses[after - 1][1].strip(' ,')}, then stands still."
        return f"No: the person {moves[-1][1].strip(' ,')}." if moves else "No: the person stands still throughout."
    if kind == "pace":
        return _pace_answer(asked, caption, [clause.strip(" ,") for _, clause in moves])
    if kind in ("number", "sequence"):  # the movements the caption names, standing still aside, in order
        if not moves:
            return "None: the person stands still."
        told = "; then ".join(clause.strip(" ,") for _, clause in moves)
        if kind == "sequence":
            return f"The person {told}."
        return f"{count_phrase(len(moves), 'movements').capitalize()}: the person {told}."
    if kind == "motive":
        why = MOTIVES[motive([action for action, _ in moves])]
        return f"{why[:-1]}: the person {moves[0][1].strip(' ,')}." if moves else why
    if kind == "travel":
        moves = [(action, clause) for action, clause in moves if action in TRAVELLING]
    opposite = _OPPOSITE.search(asked) is not None
    if moves:
        return f"{'No' if opposite else 'Yes'}: the person {moves[0][1].strip(' ,')}."
    return f"{'Yes' if opposite else 'No'}: the person {'stands still' if kind == 'moving' else 'stays in one place'}."


def _colour_answer(kind: str, question: str, colours: dict[str, str]) -> str:
    """A colour (or, for "clothes", what the person wears) from `colours` `{part: colour}`."""
    if kind == "clothes":
        if not colours:
            return "Not read: the person's clothes are not seen well enough."
        worn = " and ".join(
            f"{'an' if colour[0] in 'aeiou' else 'a'} {colour} shirt" if part == "shirt" else f"{colour} {part}"
            for part, colour in colours.items()
        )
        return f"{worn[0].upper()}{worn[1:]}."  # "A red shirt and grey trousers."
    part = next(part for part, words in _CLOTHES.items() if re.search(rf"\b(?:{words})\b", question))
    if part not in colours:
        return f"Not read: the person's {part} {'is' if part == 'shirt' else 'are'} not seen well enough."
    asked = re.search(rf"\b({_COLOUR_WORDS})\b", question)
    if asked is None:
        return f"{colours[part].capitalize()}."
    if asked.group(1) == colours[part]:
        return "Yes."
    return f"No: the {part} {'is' if part == 'shirt' else 'are'} {colours[part]}."


def _limbs_answer(question: str, caption: str, track: MotionTrack | None) -> str:
    """Whether (or how) the legs, the arms or the head move: the caption's movements of that part (`PART_ACTIONS`; of
    one side, those of that side or of both: "their right hand"), unless the framing leaves it out of frame. "Are the
    legs still?" asks the opposite."""
    part = next(part for part, words in PARTS.items() if re.search(rf"\b(?:{words})\b", question))
    key = _framing_key(caption, track)
    are = "is" if part == "head" else "are"
    if key is not None and key not in PART_FRAMINGS[part]:
        return f"Not read: the {part} {are} out of frame ({FRAMINGS[key][0]})."
    clauses = [(action, clause.strip(" ,")) for action, clause in caption_clauses(caption)]
    moves = [clause for action, clause in clauses if action != "stand_still"]
    side = re.search(r"\b(left|right)\b", question) if part != "head" else None
    sides = [step["side"] for step in parse_caption(caption)]  # one per clause
    moving = [
        clause
        for (action, clause), said in zip(clauses, sides)
        if action in PART_ACTIONS[part] and (side is None or said in (side.group(1), "both", None))
    ]
    if question.startswith(("what", "how")):
        named = f"{side.group(1)} {part[:-1]}" if side else part  # "the right arm", "the arms"
        return f"The person {' and '.join(moving)}." if moving else f"The caption names no movement of the {named}."
    still = question.rstrip(" ?.").endswith("still")
    if moving:
        return f"{'No' if still else 'Yes'}: the person {moving[0]}."
    return f"{'Yes' if still else 'No'}: the person {moves[0] if moves else 'stands still'}."


def _pace_answer(question: str, caption: str, moves: list[str]) -> str:
    """How fast the person moves, as the caption times its movements (`moves`: its clauses, standing still aside):
    the first one it times, or, to "Is the person moving quickly?", whether one goes at that pace."""
    timed = [
        (step["speed"], clause.strip(" ,"))
        for step, (_, clause) in zip(parse_caption(caption), caption_clauses(caption))
        if step["speed"] is not None
    ]
    choice = question.startswith("how") or " or " in question  # "How fast ...?", "... fast or slow?"
    asked = (
        None if choice else next((speed for speed, words in PACE_WORDS.items() if re.search(words, question)), None)
    )
    if not timed:
        if moves:
            return f"Not said: the caption gives no pace; the person {moves[0]}."
        return "No: the person stands still." if asked else "Not at all: the person stands still."
    if asked is None:
        speed, clause = timed[0]
        return f"{SPEED_WORDS[speed][0].capitalize()}: the person {clause}."
    speed, clause = next(((speed, clause) for speed, clause in timed if speed == asked), timed[0])
    return f"{'Yes' if speed == asked else 'No'}: the person {clause}."


def _framing_key(caption: str, track: MotionTrack | None) -> str | None:
    """The `FRAMINGS` key the caption names, else the track's (`framing`); None if neither says."""
    key = next((key for key, phrase in _CAPTION_FRAMINGS.items() if phrase.search(caption)), None)
    return key or (None if track is None else framing(track))


def _framing_answer(question: str, caption: str, track: MotionTrack | None) -> str:
    """How much of the body is in view, as the caption says it or the track shows it (`framing`); a yes or a no to
    "Is the whole body visible?", "Are the legs visible?"."""
    key = _framing_key(caption, track)
    if key is None:
        return "Not read: neither the caption nor the person's landmarks say."
    said = FRAMINGS[key][1]
    if not question.startswith(("is ", "are ")):
        return f"{said[0].upper()}{said[1:]}."
    shown = {"legs": ("full", "knees_up"), "feet": ("full",)}
    part = next((part for part in shown if re.search(rf"\b{part}\b", question)), None)
    return f"{'Yes' if key in shown.get(part, ('full',)) else 'No'}: {said}."


__all__ = ["COLOURED", "DESCRIBE", "KINDS", "SEEN", "answer", "asks_description", "framing", "question_kind", "reads"]
