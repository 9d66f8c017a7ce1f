"""QA accuracy per kind of question, for HMI-Synth's question templates (`dataset_scripts/synth/grammar.py`,
`_step_qa` and `qa_pairs_v2`): how many times, which side, how fast, what comes right after, which direction,
true/false, and what the clip shows of the person: the colour of the shirt or the trousers, how much of the body is
visible, whether they do anything other than stay still ("moving"), whether they move to another place ("travel")
and why they move ("motive"). Their reference answers are one fact ("2", "left", "slow", "arm circles", "navy",
"Yes", "They are going somewhere."), so an answer is checked by rule, without a judge: it must state the reference
fact and no other value of the same kind.
Questions of other templates have no kind here (the judge scores open answers as a whole).
"""

import re
from collections.abc import Sequence

from dataset_scripts.synth.body import PALETTE
from dataset_scripts.synth.grammar import _WORD_NUMBERS, NUMBER_WORDS, PHRASES, SPEED_WORDS, parse_caption
from dataset_scripts.synth.programs import TRAVEL_DIRECTIONS

KINDS = (
    "count",
    "side",
    "speed",
    "order",
    "direction",
    "true_false",
    "colour",
    "framing",
    "moving",
    "travel",
    "motive",
)
PATTERNS = {
    "count": re.compile(r"How many (times|steps) does the person "),
    "side": re.compile(r"Which (arm|leg) does the person use to "),
    "speed": re.compile(r"How fast does the person "),
    "order": re.compile(r"What does the person do right after they "),
    "direction": re.compile(r"In which direction does the person "),
    "colour": re.compile(r"What colour (is|are) the person's "),
    "framing": re.compile(r"How much of the person is visible\?"),
    "moving": re.compile(r"Does the person do anything other than stay still\?"),
    "travel": re.compile(r"Does the person move to another place "),
    "motive": re.compile(r"Why does the person move this way\?"),
}
# What an answer says the person moves for, by the words of HMI-Synth's answers (grammar.py, MOTIVES).
MOTIVE_WORDS = {"waiting": "waiting", "going": "going somewhere", "talking": "talking with", "moving": "sequence of"}
# How much of the body an answer says is visible, by the words of HMI-Synth's framings (grammar.py, FRAMINGS).
FRAMING_WORDS = {
    "full": "whole body",
    "knees_up": "knees up",
    "waist_up": "waist up",
    "head_shoulders": "head and shoulders",
}
# Values of a kind: an answer that names another one of them (too) is wrong.
SIDES = ("left", "right")
NUMBERS = {**_WORD_NUMBERS, **{word.split()[0]: n for n, word in NUMBER_WORDS.items()}}


def question_kind(qa: dict) -> str | None:
    """The kind of an HMI row's question (`{"question", "type", ...}`), or None for another template."""
    if qa["type"] == "true_false":
        return "true_false"
    return next((kind for kind, pattern in PATTERNS.items() if pattern.match(qa["question"])), None)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+|\d+", text.lower())


def true_false(text: str) -> bool | None:
    """The leading true/false (or yes/no) of an answer, a word of its own ("No." or "No, ..."; "No person is
    visible." is not a "no"); None when it starts with neither."""
    verdict = re.match(r"\s*(true|false|yes|no)\s*(?:[.,;:!]|$)", text.lower())
    return None if verdict is None else verdict.group(1) in ("true", "yes")


def _speeds(text: str) -> set[str]:
    lowered = f" {' '.join(_words(text))} "
    return {speed for speed, phrases in SPEED_WORDS.items() if any(f" {p} " in lowered for p in (speed, *phrases))}


def _directions(text: str) -> set[str]:
    """The travel directions (`TRAVEL_DIRECTIONS` labels) an answer names; "diagonally toward the camera" is one,
    not also "toward the camera"."""
    lowered = f" {' '.join(_words(text))} "
    found = {label for label in TRAVEL_DIRECTIONS if f" {label} " in lowered}
    return {label for label in found if not any(label != other and label in other for other in found)}


def framings(text: str) -> set[str]:
    """The framings (`FRAMING_WORDS` keys) an answer names."""
    lowered = " ".join(_words(text))
    return {framing for framing, words in FRAMING_WORDS.items() if words in lowered}


def _names_action(answer: str, reference: str) -> bool:
    """The answer names the action `reference` ("arm circles"), by its name or as the captions write it."""
    if f" {reference} " in f" {' '.join(_words(answer))} ":
        return True
    pattern = PHRASES.get(reference.replace(" ", "_"), (None, None))[1]
    return pattern is not None and re.search(pattern, answer.lower()) is not None


def is_correct(kind: str, answer: str, reference: str) -> bool:
    """Whether `answer` states the `reference` fact of a question of `kind` (and no competing value)."""
    words = _words(answer)
    if kind in ("true_false", "moving", "travel"):
        return true_false(answer) is not None and true_false(answer) == true_false(reference)
    if kind == "colour":
        return {w for w in words if w in PALETTE} == {reference.lower()}
    if kind == "framing":
        return framings(answer) == framings(reference)
    if kind == "motive":
        said = [
            {key for key, words in MOTIVE_WORDS.items() if words in " ".join(_words(text))}
            for text in (answer, reference)
        ]
        return len(said[0]) == 1 and said[0] == said[1]
    if kind == "count":
        said = {int(w) if w.isdigit() else NUMBERS[w] for w in words if w.isdigit() or w in NUMBERS}
        return said == {int(reference)}
    if kind == "side":
        return {w for w in words if w in SIDES} == {reference.lower()}
    if kind == "speed":
        return _speeds(answer) == _speeds(reference)
    if kind == "direction":
        return _directions(answer) == {reference}
    if kind == "order":  # the reference action, and no other (a whole caption as the answer names them all)
        others = {step["action"] for step in parse_caption(answer)} - {reference.lower().replace(" ", "_")}
        return _names_action(answer, reference.lower()) and not others
    raise ValueError(f"Unknown question kind {kind!r}; the kinds are {KINDS}.")


def qa_kind_accuracy(items: Sequence[tuple[dict, str | None]]) -> dict | None:
    """`{kind: {"num", "num_failed", "accuracy"}}` over `(qa, answer)` pairs (answer None: generation failed,
    counted and not scored), for the kinds present; None when no question has a kind."""
    result = {}
    for kind in KINDS:
        typed = [(qa, answer) for qa, answer in items if question_kind(qa) == kind]
        if not typed:
            continue
        answered = [(qa, answer) for qa, answer in typed if answer is not None]
        correct = [is_correct(kind, answer, qa["answer"]) for qa, answer in answered]
        result[kind] = {
            "num": len(typed),
            "num_failed": len(typed) - len(answered),
            "accuracy": sum(correct) / len(correct) if correct else None,
        }
    return result or None


__all__ = ["KINDS", "framings", "is_correct", "qa_kind_accuracy", "question_kind", "true_false"]
