"""Train / validation / test assignment that holds out action *compositions* and, in version 2, a
camera *regime*.

A fixed sixteenth of the ordered action pairs (a then b) never appears in train or validation: any clip
containing one of them goes to test. A model that memorised sequences cannot score on those. The
held-out set depends only on the vocabulary (not on the seed), so datasets made with different seeds
share it. Version 2 pairs consecutive actions with pauses ("stand_still") left out, and also sends to
test every clip filmed from behind and from high up (`held_out_camera`): train sees cameras behind
the person and cameras high above it, never both at once.
"""

import hashlib
import itertools

from .programs import ACTIONS, ACTIONS_V1, IDLE, non_idle

HELD_OUT_FRACTION = 1 / 16
VALIDATION_FRACTION = 0.1
# Version 2's held-out camera regime: within this many degrees of straight behind the person (at the
# start of the clip), and at least this high (metres).
BEHIND_DEG, HIGH_M = 45.0, 3.0


def _unit(text: str) -> float:
    """A stable number in [0, 1) from a string (Python's hash() is salted per process)."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 16**8


HELD_OUT_PAIRS = frozenset(
    (a, b) for a, b in itertools.permutations(ACTIONS, 2) if _unit(f"pair:{a}>{b}") < HELD_OUT_FRACTION
)


def held_out_pairs(version: int) -> list[tuple[str, str]]:
    """The held-out ordered pairs among a version's actions (pauses do not pair), sorted."""
    vocabulary = set(ACTIONS_V1) if version == 1 else set(ACTIONS) - {IDLE}
    return sorted((a, b) for a, b in HELD_OUT_PAIRS if a in vocabulary and b in vocabulary)


def held_out_camera(camera: dict) -> bool:
    """Version 2: a camera from behind (yaw within BEHIND_DEG of 180) and high (>= HIGH_M)."""
    return abs(abs(camera["yaw_deg"]) - 180.0) <= BEHIND_DEG and camera["height_m"] >= HIGH_M


def assign_split(program: list[dict], clip_id: str, camera: dict | None = None) -> str:
    """ "test" for a held-out pair of consecutive actions (or, given a version-2 camera, a held-out
    camera regime); otherwise "validation" for a stable 10% of clip ids, else "train"."""
    actions = [step["action"] for step in (program if camera is None else non_idle(program))]
    if any(pair in HELD_OUT_PAIRS for pair in zip(actions, actions[1:])):
        return "test"
    if camera is not None and held_out_camera(camera):
        return "test"
    return "validation" if _unit(f"clip:{clip_id}") < VALIDATION_FRACTION else "train"
