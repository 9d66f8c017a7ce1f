"""Captions and QA written from a motion program, and `parse_caption`, their inverse.

Every action is one clause naming the action, then (where it has them) side and limb, count, speed
and direction; clauses are joined by order words ("first", "then", "after that", "finally").
Phrasings vary with the random generator, but each comes from the tables below, which
`parse_caption` reads back. The README documents the grammar.
"""

import re

import numpy as np

from .programs import ACTIONS, ACTION_SPECS

VOCABULARY = ACTIONS
NUMBER_WORDS = {1: "once", 2: "twice", 3: "three times", 4: "four times", 5: "five times", 6: "six times"}
SPEED_WORDS = {"slow": ("slowly", "at a slow pace"), "normal": ("at a steady pace", "at a normal pace"),
               "fast": ("quickly", "at a fast pace")}
# action -> verb phrases; "{limb}" is "left arm", "both arms", ... where the action has a side.
VERBS = {
    "walk": ("walks {direction}", "takes {count_n} steps {direction}"),
    "raise_arm": ("raises {limb} {direction}", "lifts {limb} {direction}"),
    "wave": ("waves {limb}", "waves with {limb}"),
    "arm_circles": ("circles {limb} {direction}", "makes {direction} circles with {limb}"),
    "clap": ("claps", "claps both hands together"),
    "squat": ("squats down", "does a squat"),
    "lunge": ("lunges forward with {limb}", "steps into a lunge with {limb}"),
    "jump": ("jumps", "jumps in place"),
    "kick": ("kicks {limb}", "kicks forward with {limb}"),
    "bend_forward": ("bends forward at the waist", "bends over forward"),
    "turn_around": ("turns around to the {direction}", "spins around to the {direction}"),
    "step_sideways": ("steps sideways to the {direction}", "side-steps to the {direction}"),
}
ORDER_WORDS = ("First, the person", "Then the person", "After that, the person", "Finally, the person")
# Words parse_caption looks for, in priority order (longer phrases first).
_ACTION_PATTERNS = (
    ("arm_circles", r"circles (?:the |(?:his|her|their) )?(?:left |right |both )?arms?|circles with"),
    ("raise_arm", r"raises|lifts|raising|lifting"),
    ("step_sideways", r"steps sideways|side-steps|sidesteps|steps? to the (?:left|right) side"),
    ("turn_around", r"turns around|spins around|turning around"),
    ("walk", r"walks|walking|takes \w+ steps"),
    ("wave", r"waves|waving"),
    ("clap", r"claps|clapping"),
    ("squat", r"squats|a squat|squatting"),
    ("lunge", r"lunges|a lunge|lunging"),
    ("jump", r"jumps|jumping"),
    ("kick", r"kicks|kicking"),
    ("bend_forward", r"bends|bending"),
)
_COUNT_PATTERN = r"\b(once|twice|\d+ times|(?:one|two|three|four|five|six|seven|eight|nine|ten) (?:times|steps|circles))\b|takes (\w+) steps"
_SPEED_PATTERN = "|".join(f"(?P<{speed}>{'|'.join(phrases)})" for speed, phrases in SPEED_WORDS.items())
_WORD_NUMBERS = {w: i for i, w in enumerate(("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"))}


def _limb_phrase(step: dict) -> str:
    noun = "leg" if step["limb"] == "leg" else "arm"
    return f"both {noun}s" if step["side"] == "both" else f"the {step['side']} {noun}"


def _count_word(n: int, noun: str = "times") -> str:
    if noun == "times" and n in NUMBER_WORDS:
        return NUMBER_WORDS[n]
    return f"{list(_WORD_NUMBERS)[n]} {noun}"


def describe_step(step: dict, rng: np.random.Generator) -> str:
    """One clause (no subject) for one action, e.g. 'waves the left arm three times quickly'."""
    action = step["action"]
    verb = str(rng.choice(VERBS[action]))
    count = step["count"]
    text = verb.format(
        limb=_limb_phrase(step) if step["side"] else "",
        direction=step["direction"] or "",
        count_n=_count_word(count, "steps").split()[0] if count else "",
    )
    if count and "{count_n}" not in verb:
        noun = {"walk": "steps", "step_sideways": "steps"}.get(action, "times")
        text += " " + _count_word(count, noun) if noun == "times" else f", {_count_word(count, noun)}"
    return f"{text} {rng.choice(SPEED_WORDS[step['speed']])}"


def _attributes(body: dict) -> str:
    return f"a person in a {body['shirt']} shirt and {body['trousers']} trousers"


def captions(program: list[dict], body: dict, camera: dict, rng: np.random.Generator) -> dict:
    """The three HMI levels plus the whole-clip detailed caption."""
    clauses = [describe_step(step, rng) for step in program]
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


def qa_pairs(program: list[dict], body: dict, camera: dict, rng: np.random.Generator) -> list[dict]:
    """Open-ended and true/false questions across the five HMI dimensions."""
    details, attributes, motive, emotion, environment = (
        "Details of Movements", "Character Attributes", "Motivation and Reason",
        "Micro-expressions and Emotions", "Interaction with the Environment",
    )
    qa = []
    for i, step in enumerate(program):
        name = step["action"].replace("_", " ")
        if step["count"]:
            qa.append(_qa(f"How many times does the person {name}?" if step["action"] not in ("walk", "step_sideways")
                          else f"How many steps does the person take while doing the {name}?",
                          str(step["count"]), "open", details))
        if step["side"] in ("left", "right"):
            limb = "arm" if step["limb"] == "arm" else "leg"
            qa.append(_qa(f"Which {limb} does the person use to {name}?", step["side"], "open", details))
            wrong = "right" if step["side"] == "left" else "left"
            truth = bool(rng.integers(2))
            qa.append(_qa(f"The person uses the {step['side'] if truth else wrong} {limb} to {name}. True or false?",
                          "True" if truth else "False", "true_false", details))
        if i + 1 < len(program):
            qa.append(_qa(f"What does the person do right after they {name}?",
                          program[i + 1]["action"].replace("_", " "), "open", details))
        qa.append(_qa(f"How fast does the person {name}?", step["speed"], "open", details))
    qa.append(_qa("What colour is the person's shirt?", body["shirt"], "open", attributes))
    qa.append(_qa("What colour are the person's trousers?", body["trousers"], "open", attributes))
    qa.append(_qa("Why does the person move this way?", "They are doing a sequence of exercise movements, one after another.",
                  "open", motive))
    qa.append(_qa("What expression does the person show?", "A neutral expression that does not change.", "open", emotion))
    moves = any(s["action"] in ("walk", "step_sideways", "turn_around") for s in program)
    qa.append(_qa("Does the person move to another place on the floor?", "Yes" if moves else "No", "open", environment))
    jumps = any(s["action"] == "jump" for s in program)
    qa.append(_qa("Both feet leave the floor at some point. True or false?", "True" if jumps else "False", "true_false", environment))
    return qa


def _qa(question: str, answer: str, kind: str, dimension: str) -> dict:
    return {"question": question, "answer": answer, "type": kind, "dimension": dimension}


def _parse_count(text: str) -> int | None:
    match = re.search(_COUNT_PATTERN, text)
    if not match:
        return None
    word = match.group(2) or match.group(1).split()[0]
    return {"once": 1, "twice": 2}.get(word) or _WORD_NUMBERS.get(word) or (int(word) if word.isdigit() else None)


def parse_caption(text: str) -> list[dict]:
    """Actions mentioned in a caption, in order: [{action, side, limb, count, speed}]. Reads this module's
    phrasings and close variants (digits, gerunds); for scoring generated captions against programs."""
    combined = "|".join(f"(?P<{name}>{pattern})" for name, pattern in _ACTION_PATTERNS)
    matches = list(re.finditer(combined, text.lower()))
    found = []
    for k, match in enumerate(matches):
        end = matches[k + 1].start() if k + 1 < len(matches) else len(text)
        clause = text.lower()[match.start():end]
        clause = re.split(r"[.;]|, and then|\bthen\b", clause)[0]
        action = match.lastgroup
        limb_default, sides, _, _ = ACTION_SPECS[action]
        side_match = re.search(r"\b(left|right|both)\b\s+(arms?|legs?|hands?|feet|foot)", clause)
        side = side_match.group(1) if side_match and sides != (None,) else None
        if action == "clap":
            side = "both"
        speed = re.search(_SPEED_PATTERN, clause)
        found.append({"action": action, "side": side, "limb": limb_default, "count": _parse_count(clause),
                      "speed": speed.lastgroup if speed else None})
    return found
