"""Train / validation / test assignment that holds out action *compositions*.

A fixed sixteenth of the ordered action pairs (a then b) never appears in train or validation: any clip
containing one of them goes to test. A model that memorised sequences cannot score on those. The
held-out set depends only on the vocabulary (not on the seed), so datasets made with different seeds
share it.
"""

import hashlib
import itertools

from .programs import ACTIONS

HELD_OUT_FRACTION = 1 / 16
VALIDATION_FRACTION = 0.1


def _unit(text: str) -> float:
    """A stable number in [0, 1) from a string (Python's hash() is salted per process)."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 16**8


HELD_OUT_PAIRS = frozenset(
    (a, b) for a, b in itertools.permutations(ACTIONS, 2) if _unit(f"pair:{a}>{b}") < HELD_OUT_FRACTION
)


def assign_split(program: list[dict], clip_id: str) -> str:
    actions = [step["action"] for step in program]
    if any(pair in HELD_OUT_PAIRS for pair in zip(actions, actions[1:])):
        return "test"
    return "validation" if _unit(f"clip:{clip_id}") < VALIDATION_FRACTION else "train"
