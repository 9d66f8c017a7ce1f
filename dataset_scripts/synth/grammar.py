"""Captions and QA written from a motion program, and `parse_caption`, their inverse.

Every action is one clause naming the action, then (where it has them) side and limb, count, speed
and direction. Version 1 joins 2-4 clauses with order words ("first", "then", "after that",
"finally"). Version 2 writes one sentence for one action, "stands still" for an idle person, and says
how the person is framed ("seen from the waist up"); clips framed without the legs only have
upper-body actions, so nothing is said about legs or the floor that cannot be seen. Phrasings vary
with the random generator, but each comes from the tables below, which `parse_caption` reads back.
The README documents the grammar.
"""

import re

import numpy as np

from .programs import ACTION_SPECS, ACTIONS, non_idle

VOCABULARY = ACTIONS
_WORD_NUMBERS = {w: i for i, w in enumerate((
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
))}  # fmt: skip
NUMBER_WORDS = {1: "once", 2: "twice", 3: "three times", 4: "four times", 5: "five times", 6: "six times"}
SPEED_WORDS = {
    "slow": ("slowly", "at a slow pace"),
    "normal": ("at a steady pace", "at a normal pace"),
    "fast": ("quickly", "at a fast pace"),
}
# The motion vocabulary: action -> (verb phrases written, regular expression that reads them back).
# "{limb}" is "the left arm", "both arms", ...; "{direction}" and "{count_steps}" ("one step", "nine steps") come from
# the program.
PHRASES = {
    "walk": (("walks {direction}", "takes {count_steps} {direction}"), r"walks|walking|takes \w+ steps?"),
    "raise_arm": (("raises {limb} {direction}", "lifts {limb} {direction}"), r"raises|lifts|raising|lifting"),
    "wave": (("waves {limb}", "waves with {limb}"), r"waves|waving"),
    "arm_circles": (
        ("circles {limb} {direction}", "makes {direction} circles with {limb}"),
        r"circles (?:the |(?:his|her|their) )?(?:left |right |both )?arms?|circles with",
    ),
    "clap": (("claps", "claps both hands together"), r"claps|clapping"),
    "squat": (("squats down", "does a squat"), r"squats|a squat|squatting"),
    "lunge": (("lunges forward with {limb}", "steps into a lunge with {limb}"), r"lunges|a lunge|lunging"),
    "jump": (("jumps", "jumps in place"), r"jumps|jumping"),
    "kick": (("kicks {limb}", "kicks forward with {limb}"), r"kicks|kicking"),
    "bend_forward": (("bends forward at the waist", "bends over forward"), r"bends|bending"),
    "turn_around": (
        ("turns around to the {direction}", "spins around to the {direction}"),
        r"turns around|spins around|turning around",
    ),
    "step_sideways": (
        ("steps sideways to the {direction}", "side-steps to the {direction}"),
        r"steps sideways|side-steps|sidesteps|steps? to the (?:left|right) side",
    ),
    "stand_still": (
        ("stands still", "stands still for a moment", "pauses and stands still"),
        r"stands still|stays still|keeps still|stands in place|standing still",
    ),
    "talk": (
        ("talks, gesturing with the hands and moving the head", "talks and gestures with the hands as they speak"),
        r"talks|talking|speaks|speaking",
    ),
    "look_around": (
        ("looks around, turning the head to both sides", "looks around from side to side"),
        r"looks around|looking around|glances around",
    ),
    "run": (("runs {direction}", "jogs {direction}"), r"runs|running|jogs|jogging"),
    "crouch": (
        (
            "crouches down, stays low for a moment and stands back up",
            "crouches down low, holds the crouch and rises again",
        ),
        r"crouches|crouching|a crouch",
    ),
}
VERBS = {action: verbs for action, (verbs, _) in PHRASES.items()}
# Where a framing hides the legs, an idle person "stays still" rather than "stands"; seen from the chest
# up, a talking person's gesturing hands are mostly below the frame, so only the head is named.
CUT_VERBS = {"stand_still": ("stays still", "keeps still")}
CHEST_UP_VERBS = CUT_VERBS | {"talk": ("talks, moving the head as they speak", "talks, nodding and turning the head")}
ORDER_WORDS = ("First, the person", "Then the person", "After that, the person", "Finally, the person")
# How a version-2 camera frames the person: the intro of the caption and the answer to "what is visible".
FRAMINGS = {
    "full": ("standing on a {floor} floor", "the whole body"),
    "knees_up": ("seen from the knees up", "the body from the knees up; the feet are out of frame"),
    "waist_up": ("seen from the waist up", "the upper body, from the waist up; the legs are out of frame"),
    "head_shoulders": ("seen from the chest up", "the head and shoulders; the rest of the body is out of frame"),
}
IDLE_ONLY = "The person stands still, only breathing and shifting their weight a little."
IDLE_ONLY_CUT = "The person stays still, only breathing and moving slightly."
# Words parse_caption looks for, in priority order (longer phrases first).
_PRIORITY = (
    "arm_circles",
    "raise_arm",
    "step_sideways",
    "turn_around",
    "look_around",
    "stand_still",
    "crouch",
    "walk",
    "run",
    "talk",
    "wave",
    "clap",
    "squat",
    "lunge",
    "jump",
    "kick",
    "bend_forward",
)
_ACTION_PATTERNS = tuple((action, PHRASES[action][1]) for action in _PRIORITY)
_COUNT_PATTERN = (
    r"\b(once|twice|\d+ times|(?:"
    + "|".join(list(_WORD_NUMBERS)[1:])
    + r") (?:times|steps?|circles))\b|takes (\w+) steps?"
)
_SPEED_PATTERN = "|".join(f"(?P<{speed}>{'|'.join(phrases)})" for speed, phrases in SPEED_WORDS.items())
_STEP_NOUN = {"walk": "steps", "step_sideways": "steps", "run": "steps"}


def _limb_phrase(step: dict) -> str:
    noun = "leg" if step["limb"] == "leg" else "arm"
    return f"both {noun}s" if step["side"] == "both" else f"the {step['side']} {noun}"


def count_phrase(n: int, noun: str = "times", singular: bool = True) -> str:
    """'twice', 'three times', 'one step', 'nine steps' ('one steps' where not `singular`)."""
    if noun == "times" and n in NUMBER_WORDS:
        return NUMBER_WORDS[n]
    return f"{list(_WORD_NUMBERS)[n]} {noun.removesuffix('s') if n == 1 and singular else noun}"


def describe_step(step: dict, rng: np.random.Generator, framing: str = "full", singular: bool = True) -> str:
    """One clause (no subject) for one action, e.g. 'waves the left arm three times quickly'. Version 1 wrote
    'one steps' (`singular=False`), and stays byte for byte reproducible."""
    action = step["action"]
    cut = {"full": {}, "head_shoulders": CHEST_UP_VERBS}.get(framing, CUT_VERBS)
    verbs = cut.get(action, VERBS[action])
    verb = str(rng.choice(verbs))
    count = step["count"]
    text = verb.format(
        limb=_limb_phrase(step) if step["side"] else "",
        direction=step["direction"] or "",
        count_steps=count_phrase(count, "steps", singular) if count else "",
    )
    if count and "{count_steps}" not in verb:
        noun = _STEP_NOUN.get(action, "times")
        text += " " + count_phrase(count, noun) if noun == "times" else f", {count_phrase(count, noun, singular)}"
    if step["speed"] is None:  # held actions (standing, talking, ...) have no pace
        return text
    return f"{text} {rng.choice(SPEED_WORDS[step['speed']])}"


def _attributes(body: dict, trousers: bool = True, article: str = "a") -> str:
    return f"a person in {article} {body['shirt']} shirt" + (f" and {body['trousers']} trousers" if trousers else "")


def _shows_trousers(framing: str) -> bool:
    return framing in ("full", "knees_up")


def captions(program: list[dict], body: dict, camera: dict, rng: np.random.Generator) -> dict:
    """Version 1: the three HMI levels plus the whole-clip detailed caption, 2-4 ordered sentences."""
    clauses = [describe_step(step, rng, singular=False) for step in program]
    order = list(ORDER_WORDS[: len(clauses) - 1]) + [ORDER_WORDS[-1]]
    detailed = f"The video shows {_attributes(body)} standing on a {camera['floor']} floor. " + " ".join(
        f"{o} {c}." for o, c in zip(order, clauses)
    )
    fine = [{"start": s["start"], "end": s["end"], "text": f"The person {c}."} for s, c in zip(program, clauses)]
    contextual = [
        {"start": a["start"], "end": b["end"], "text": f"The person {ca}, and then {cb}."}
        for a, b, ca, cb in zip(program, program[1:], clauses, clauses[1:])
    ]
    names = [s["action"].replace("_", " ") for s in program]
    summary = f"{_attributes(body).capitalize()} performs {len(program)} movements in a row: {', '.join(names)}."
    return {"caption": detailed, "captions": {"fine": fine, "contextual": contextual, "summary": summary}}


def _story(clauses: list[str], rng: np.random.Generator) -> str:
    """Version 2: one sentence for one clause; for more, order words or one sentence with 'then' (a coin toss)."""
    return story(clauses, ordered=len(clauses) > 1 and rng.uniform() < 0.5)


def story(clauses: list[str], ordered: bool) -> str:
    """The clauses told as version 2 tells them: one sentence for one; for more, a sentence each with order words
    if `ordered` ("then" and "after that" taking turns in the middle), else one sentence joined with 'then'."""
    if len(clauses) == 1:
        return f"The person {clauses[0]}."
    if ordered:
        middle = [ORDER_WORDS[1 + k % 2] for k in range(len(clauses) - 2)]
        order = [ORDER_WORDS[0], *middle, ORDER_WORDS[-1]]
        return " ".join(f"{o} {c}." for o, c in zip(order, clauses))
    if len(clauses) == 2:
        return f"The person {clauses[0]}, and then {clauses[1]}."
    middle = "".join(f", then {c}" for c in clauses[1:-1])
    return f"The person {clauses[0]}{middle}, and finally {clauses[-1]}."


def split_story(text: str) -> tuple[str, list[str], bool] | None:
    """The inverse of `story` on a caption that ends with one: what comes before the story (the intro, "" if
    none), its clauses and whether it is `ordered`. None where the caption's end is not a story `story` writes
    back word for word, of clauses without a full stop (another sentence after it, a fifth order word, ...)."""
    start = re.search(r"(?:^|(?<=\. ))(?:The person|First, the person) ", text)
    if start is None:
        return None
    intro, told = text[: start.start()].rstrip(), text[start.start() :]
    ordered = told.startswith("First,")
    if ordered:
        clauses = [c.strip().removesuffix(".") for c in re.split("|".join(ORDER_WORDS), told)[1:]]
    else:
        body = told.removeprefix("The person ").removesuffix(".")
        last = re.split(r", and (?:then|finally) ", body)
        clauses = last[0].split(", then ") + last[1:] if len(last) == 2 else last
    if not clauses or any("." in clause for clause in clauses) or story(clauses, ordered) != told:
        return None
    return intro, clauses, ordered


def captions_v2(program: list[dict], body: dict, camera: dict, rng: np.random.Generator) -> dict:
    """Version 2: the three HMI levels and the detailed caption, saying only what the framing shows."""
    framing = camera["framing"]
    attributes = _attributes(body, _shows_trousers(framing), "an" if body["shirt"][0] in "aeiou" else "a")
    where = FRAMINGS[framing][0].format(floor=camera["floor"])
    intro = f"The video shows {attributes}{' ' if framing == 'full' else ', '}{where}."
    actions = non_idle(program)
    if not actions:
        story = IDLE_ONLY if framing == "full" else IDLE_ONLY_CUT
        clauses = [story.removeprefix("The person ").rstrip(".")]
    else:
        clauses = [describe_step(step, rng, framing) for step in program]
        story = _story(clauses, rng)
    fine = [{"start": s["start"], "end": s["end"], "text": f"The person {c}."} for s, c in zip(program, clauses)]
    contextual = [
        {"start": a["start"], "end": b["end"], "text": f"The person {ca}, and then {cb}."}
        for a, b, ca, cb in zip(program, program[1:], clauses, clauses[1:])
    ] or fine
    names = [s["action"].replace("_", " ") for s in actions]
    if not names:
        summary = f"{attributes.capitalize()} stays still."
    elif len(names) == 1:
        summary = f"{attributes.capitalize()} performs one movement: {names[0]}."
    else:
        summary = f"{attributes.capitalize()} performs {len(names)} movements in a row: {', '.join(names)}."
    return {"caption": f"{intro} {story}", "captions": {"fine": fine, "contextual": contextual, "summary": summary}}


DETAILS, ATTRIBUTES, MOTIVE, EMOTION, ENVIRONMENT = (
    "Details of Movements",
    "Character Attributes",
    "Motivation and Reason",
    "Micro-expressions and Emotions",
    "Interaction with the Environment",
)


def _step_qa(program: list[dict], rng: np.random.Generator) -> list[dict]:
    """Counts, sides, what comes next and speed of each action (pauses are skipped)."""
    qa = []
    for i, step in enumerate(program):
        name = step["action"].replace("_", " ")
        if step["count"]:
            qa.append(
                _qa(
                    f"How many times does the person {name}?"
                    if step["action"] not in _STEP_NOUN
                    else f"How many steps does the person take while doing the {name}?",
                    str(step["count"]),
                    "open",
                    DETAILS,
                )
            )
        if step["side"] in ("left", "right"):
            limb = "arm" if step["limb"] == "arm" else "leg"
            qa.append(_qa(f"Which {limb} does the person use to {name}?", step["side"], "open", DETAILS))
            wrong = "right" if step["side"] == "left" else "left"
            truth = bool(rng.integers(2))
            qa.append(
                _qa(
                    f"The person uses the {step['side'] if truth else wrong} {limb} to {name}. True or false?",
                    "True" if truth else "False",
                    "true_false",
                    DETAILS,
                )
            )
        if i + 1 < len(program):
            qa.append(
                _qa(
                    f"What does the person do right after they {name}?",
                    program[i + 1]["action"].replace("_", " "),
                    "open",
                    DETAILS,
                )
            )
        if step["speed"]:
            qa.append(_qa(f"How fast does the person {name}?", step["speed"], "open", DETAILS))
    return qa


def qa_pairs(program: list[dict], body: dict, camera: dict, rng: np.random.Generator) -> list[dict]:
    """Version 1: open-ended and true/false questions across the five HMI dimensions."""
    qa = _step_qa(program, rng)
    qa.append(_qa("What colour is the person's shirt?", body["shirt"], "open", ATTRIBUTES))
    qa.append(_qa("What colour are the person's trousers?", body["trousers"], "open", ATTRIBUTES))
    qa.append(
        _qa(
            "Why does the person move this way?",
            "They are doing a sequence of exercise movements, one after another.",
            "open",
            MOTIVE,
        )
    )
    qa.append(
        _qa("What expression does the person show?", "A neutral expression that does not change.", "open", EMOTION)
    )
    moves = any(s["action"] in ("walk", "step_sideways", "turn_around") for s in program)
    qa.append(
        _qa("Does the person move to another place on the floor?", "Yes" if moves else "No", "open", ENVIRONMENT)
    )
    jumps = any(s["action"] == "jump" for s in program)
    qa.append(
        _qa(
            "Both feet leave the floor at some point. True or false?",
            "True" if jumps else "False",
            "true_false",
            ENVIRONMENT,
        )
    )
    return qa


# Why the person moves (version 2's answers to "Why does the person move this way?"), by `motive`.
MOTIVES = {
    "waiting": "They are waiting; nothing in the clip shows them doing anything else.",
    "going": "They are going somewhere.",
    "talking": "They are talking with someone.",
    "moving": "They are doing a sequence of movements, one after another.",
}


def motive(actions: list[str]) -> str:
    """The MOTIVES key of a clip whose actions (standing still aside) are `actions`."""
    if not actions:
        return "waiting"
    if set(actions) <= {"walk", "run", "turn_around"}:
        return "going"
    return "talking" if "talk" in actions else "moving"


def qa_pairs_v2(program: list[dict], body: dict, camera: dict, rng: np.random.Generator) -> list[dict]:
    """Version 2: questions only about what the framing shows (no legs, feet or floor when they are cut off)."""
    framing, actions = camera["framing"], [s["action"] for s in non_idle(program)]
    qa = _step_qa(non_idle(program), rng)
    for step in non_idle(program):
        if step["action"] in ("walk", "run"):
            verb = step["action"]
            question = f"In which direction does the person {verb}, as the camera sees it?"
            qa.append(_qa(question, step["direction"], "open", DETAILS))
    qa.append(_qa("Does the person do anything other than stay still?", "Yes" if actions else "No", "open", DETAILS))
    qa.append(_qa("How much of the person is visible?", FRAMINGS[framing][1], "open", ATTRIBUTES))
    qa.append(_qa("What colour is the person's shirt?", body["shirt"], "open", ATTRIBUTES))
    if _shows_trousers(framing):
        qa.append(_qa("What colour are the person's trousers?", body["trousers"], "open", ATTRIBUTES))
    qa.append(_qa("Why does the person move this way?", MOTIVES[motive(actions)], "open", MOTIVE))
    qa.append(
        _qa("What expression does the person show?", "A neutral expression that does not change.", "open", EMOTION)
    )
    moves = any(a in ("walk", "run", "step_sideways", "turn_around") for a in actions)
    qa.append(
        _qa("Does the person move to another place in the scene?", "Yes" if moves else "No", "open", ENVIRONMENT)
    )
    if framing == "full":
        airborne = any(a in ("jump", "run") for a in actions)
        qa.append(
            _qa(
                "Both feet leave the floor at some point. True or false?",
                "True" if airborne else "False",
                "true_false",
                ENVIRONMENT,
            )
        )
    return qa


def _qa(question: str, answer: str, kind: str, dimension: str) -> dict:
    return {"question": question, "answer": answer, "type": kind, "dimension": dimension}


def parse_count(text: str) -> int | None:
    """The first count `text` (lower case) names ("twice", "three times", "takes five steps"), or None."""
    match = re.search(_COUNT_PATTERN, text)
    if not match:
        return None
    word = match.group(2) or match.group(1).split()[0]
    return {"once": 1, "twice": 2}.get(word) or _WORD_NUMBERS.get(word) or (int(word) if word.isdigit() else None)


def caption_clauses(text: str) -> list[tuple[str, str]]:
    """The actions a caption mentions, in order, each with its clause (lower case, from the action's verb to the
    clause's end): [("squat", "squats down twice at a steady pace"), ...]."""
    combined = "|".join(f"(?P<{name}>{pattern})" for name, pattern in _ACTION_PATTERNS)
    matches = list(re.finditer(combined, text.lower()))
    clauses = []
    for k, match in enumerate(matches):
        end = matches[k + 1].start() if k + 1 < len(matches) else len(text)
        clause = text.lower()[match.start() : end]
        clauses.append((match.lastgroup, re.split(r"[.;]|, and then|\bthen\b", clause)[0]))
    return clauses


def parse_caption(text: str) -> list[dict]:
    """Actions mentioned in a caption, in order: [{action, side, limb, count, speed}]. Reads this module's
    phrasings and close variants (digits, gerunds); for scoring generated captions against programs."""
    found = []
    for action, clause in caption_clauses(text):
        limb_default, sides, _, _ = ACTION_SPECS[action]
        side_match = re.search(r"\b(left|right|both)\b\s+(arms?|legs?|hands?|feet|foot)", clause)
        side = side_match.group(1) if side_match and sides != (None,) else None
        if action == "clap":
            side = "both"
        speed = re.search(_SPEED_PATTERN, clause)
        found.append(
            {
                "action": action,
                "side": side,
                "limb": limb_default,
                "count": parse_count(clause),
                "speed": speed.lastgroup if speed else None,
            }
        )
    return found
