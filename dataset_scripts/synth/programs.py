"""Motion programs: a clip is a sequence of actions, each with side, count, speed and direction.

`sample_program` draws the symbolic program; `animate` turns it into per-frame joint angles and a
root trajectory. Every action's curves start and end at the neutral pose, so actions chain without
jumps, and every repetition is one bump of a (1 - cos) pulse, so the counts in the program are the
counts in the motion. Each action is one small function in `ANIMATORS`.

Version 1 draws 2-4 actions from `ACTIONS_V1`. Version 2 adds idle clips ("stand_still"), single-action
clips, talking, looking around, running and crouching, walks and runs aimed relative to the camera
(`aim_travel`), per-repetition timing and amplitude jitter, an asymmetric gait, breathing and sway.
"""

from dataclasses import dataclass

import numpy as np

ACTIONS_V1 = (
    "walk",
    "raise_arm",
    "wave",
    "arm_circles",
    "clap",
    "squat",
    "lunge",
    "jump",
    "kick",
    "bend_forward",
    "turn_around",
    "step_sideways",
)
ACTIONS = ACTIONS_V1 + ("stand_still", "talk", "look_around", "run", "crouch")
IDLE = "stand_still"
SPEEDS = {"slow": 1.5, "normal": 1.0, "fast": 0.65}  # period multiplier
# action -> (limb, sides it can take, (min, max) count or None, seconds per repetition at normal speed)
ACTION_SPECS = {
    "walk": ("body", (None,), (2, 6), 0.6),
    "raise_arm": ("arm", ("left", "right", "both"), (1, 3), 1.6),
    "wave": ("arm", ("left", "right"), (2, 5), 0.6),
    "arm_circles": ("arm", ("left", "right", "both"), (2, 4), 1.0),
    "clap": ("arm", ("both",), (2, 6), 0.5),
    "squat": ("body", (None,), (1, 3), 2.0),
    "lunge": ("leg", ("left", "right"), (1, 3), 2.0),
    "jump": ("body", (None,), (1, 4), 0.9),
    "kick": ("leg", ("left", "right"), (1, 3), 1.1),
    "bend_forward": ("body", (None,), (1, 2), 2.4),
    "turn_around": ("body", (None,), None, 1.8),
    "step_sideways": ("body", (None,), (1, 4), 0.9),
    # Version 2. Actions without a count last a sampled number of seconds (`HOLD_SECONDS`).
    "stand_still": ("body", (None,), None, 2.5),  # period: one weight shift
    "talk": ("arm", (None,), None, 0.45),  # period: one hand gesture
    "look_around": ("head", (None,), None, 2.2),  # period: one look to each side
    "run": ("body", (None,), (6, 16), 0.33),
    "crouch": ("body", (None,), None, 1.0),  # period: going down (and, again, coming up)
}
DIRECTIONS = {
    "walk": ("forward", "backward", "turning left", "turning right"),
    "raise_arm": ("to shoulder height", "overhead"),
    "arm_circles": ("forward", "backward"),
    "turn_around": ("left", "right"),
    "step_sideways": ("left", "right"),
}
# Version 2: walks and runs are described as the camera sees them. Label -> range of the angle (degrees)
# between the direction of travel and the direction to the camera; positive goes to the image's right.
TRAVEL_DIRECTIONS = {
    "toward the camera": (-20, 20),
    "away from the camera": (160, 200),
    "across the scene from left to right": (75, 105),
    "across the scene from right to left": (-105, -75),
    "diagonally toward the camera": (30, 60),
    "diagonally away from the camera": (120, 150),
}
TRAVEL = ("walk", "run")
# Actions that leave the legs and the floor out of the story, for clips framed without the legs.
UPPER_BODY = ("stand_still", "talk", "look_around", "wave", "raise_arm", "arm_circles", "clap")
HOLD_SECONDS = {"stand_still": (1.5, 4.0), "talk": (2.5, 7.0), "look_around": (2.5, 6.0), "crouch": (2.5, 5.0)}
V2_COUNTS = {"walk": (3, 14)}  # long walks can fill a clip
# Version 4: seconds per step of walks and runs at each speed, apart as people's are. Versions 2 and 3 scaled
# one period per action (`SPEEDS`), so a fast walk (0.39 s a step) stepped faster than a slow run (0.50 s).
# Pedestrians walk at 81-138 steps/min, 115 on average (Tudor-Locke & Rowe 2012, Sports Med 42(5), doi
# 10.2165/11599170-000000000-00000); joggers run at 150-170 and trained runners at 170-190 (kine.vision, "Cadence").
GAIT_SECONDS = {
    "walk": {"slow": 0.65, "normal": 0.52, "fast": 0.43},  # 92, 115, 140 steps/min
    "run": {"slow": 0.36, "normal": 0.32, "fast": 0.28},  # 167, 188, 214 steps/min
}
# Degrees of freedom animated, all anatomical (positive = abduct / flex forward / bend / turn left).
DOFS = (
    "l_sh_abd",
    "r_sh_abd",
    "l_sh_flex",
    "r_sh_flex",
    "l_sh_horiz",
    "r_sh_horiz",
    "l_elbow",
    "r_elbow",
    "l_hip_flex",
    "r_hip_flex",
    "l_hip_abd",
    "r_hip_abd",
    "l_knee",
    "r_knee",
    "spine_flex",
    "spine_side",
    "spine_twist",
    "neck_flex",
    "neck_yaw",
)
ARM_HANG = 8.0  # shoulder abduction of relaxed arms, degrees from vertical
EDGE = 0.35  # seconds to move into and out of an action's set-up pose
MIN_SECONDS, MAX_SECONDS = 2.0, 10.0
# Version 2: how many actions a clip has (0 = the person only idles), and how often a pause is inserted.
NUM_ACTIONS_P = {0: 0.15, 1: 0.3, 2: 0.22, 3: 0.2, 4: 0.13}
PAUSE_P = 0.15
MAX_STEPS = 4  # actions and pauses together
_SET_UP = {"wave", "arm_circles", "clap", "talk"}  # actions that hold a set-up pose while they repeat


def action_duration(step: dict) -> float:
    if "reps" in step:  # version 2: jittered repetitions or a sampled hold
        return sum(step["reps"]) + (2 * EDGE if step["action"] in _SET_UP else 0.0)
    _, _, counts, period = ACTION_SPECS[step["action"]]
    reps = step["count"] if counts is not None else 1
    return reps * period * SPEEDS[step["speed"]] + (2 * EDGE if step["action"] in _SET_UP else 0.0)


def _timeline(steps: list[dict]) -> list[dict]:
    start = 0.0
    for step in steps:
        step["start"] = round(start, 3)
        start += action_duration(step)
        step["end"] = round(start, 3)
    return steps


def sample_program(rng: np.random.Generator, max_seconds: float = MAX_SECONDS) -> list[dict]:
    """Version 1: 2-4 actions, never the same action twice in a row, at most `max_seconds` long in total."""
    num_actions = int(rng.integers(2, 5))
    steps, previous = [], None
    for _ in range(num_actions):
        action = str(rng.choice([a for a in ACTIONS_V1 if a != previous]))
        limb, sides, counts, _ = ACTION_SPECS[action]
        step = {
            "action": action,
            "side": sides[int(rng.integers(len(sides)))],
            "limb": limb,
            "count": int(rng.integers(counts[0], counts[1] + 1)) if counts else None,
            "speed": str(rng.choice(list(SPEEDS), p=[0.25, 0.5, 0.25])),
            "direction": str(rng.choice(DIRECTIONS[action])) if action in DIRECTIONS else None,
            "amplitude": float(rng.uniform(0.8, 1.0)),
        }
        steps.append(step)
        previous = action
    # Shorten to fit: fewer repetitions first, then fewer actions (never below two).
    while sum(action_duration(s) for s in steps) > max_seconds:
        longest = max(steps, key=lambda s: (s["count"] or 0) * ACTION_SPECS[s["action"]][3])
        if longest["count"] and longest["count"] > ACTION_SPECS[longest["action"]][2][0]:
            longest["count"] -= 1
        elif len(steps) > 2:
            steps.pop()
        else:
            longest["speed"] = "fast"
            if sum(action_duration(s) for s in steps) > max_seconds:
                longest["count"] = ACTION_SPECS[longest["action"]][2][0]
    return _timeline(steps)


def _counts(action: str) -> tuple[int, int] | None:
    return V2_COUNTS.get(action, ACTION_SPECS[action][2])


def _sample_step(rng: np.random.Generator, action: str, human_cadence: bool = False) -> dict:
    """One version-2 step; `reps` holds the seconds of each repetition (jittered) or of the hold.
    `human_cadence` (version 4) times a walk or run by `GAIT_SECONDS`."""
    limb, sides, _, _ = ACTION_SPECS[action]
    counts = _counts(action)
    speed = None if action in HOLD_SECONDS else str(rng.choice(list(SPEEDS), p=[0.25, 0.5, 0.25]))
    direction = None
    if action in TRAVEL:
        direction = str(rng.choice(list(TRAVEL_DIRECTIONS)))
    elif action in DIRECTIONS:
        direction = str(rng.choice(DIRECTIONS[action]))
    step = {
        "action": action,
        "side": sides[int(rng.integers(len(sides)))],
        "limb": limb,
        "count": int(rng.integers(counts[0], counts[1] + 1)) if counts else None,
        "speed": speed,
        "direction": direction,
        "amplitude": float(rng.uniform(0.75, 1.0)),
        "asymmetry": float(rng.uniform(-0.12, 0.12)),  # left vs right amplitude of a gait
        "jitter": rng.uniform(-1, 1, size=(16, 2)).round(4).tolist(),  # per repetition: timing, amplitude
    }
    if human_cadence and action in GAIT_SECONDS:
        step["human_cadence"] = True
    _set_reps(step, float(rng.uniform(*HOLD_SECONDS[action])) if action in HOLD_SECONDS else None)
    return step


def _set_reps(step: dict, hold: float | None = None) -> None:
    """Seconds of each repetition: the nominal period with +-12% jitter; for a held action, one hold."""
    action = step["action"]
    if action in HOLD_SECONDS:
        step["reps"] = [round(float(hold if hold is not None else step["reps"][0]), 3)]
        return
    if step.get("human_cadence"):
        base = GAIT_SECONDS[action][step["speed"]]
    else:
        base = ACTION_SPECS[action][3] * SPEEDS[step["speed"]]
    step["reps"] = [round(base * (1 + 0.12 * step["jitter"][k % 16][0]), 4) for k in range(step["count"] or 1)]


def _fit(steps: list[dict], max_seconds: float) -> None:
    """Shorten a version-2 program to `max_seconds`: fewer repetitions, shorter holds, then fewer steps."""
    while sum(action_duration(s) for s in steps) > max_seconds:
        counted = [s for s in steps if s["count"] and s["count"] > _counts(s["action"])[0]]
        held = [s for s in steps if s["action"] in HOLD_SECONDS and s["reps"][0] > 1.5]
        if counted:
            step = max(counted, key=lambda s: sum(s["reps"]))
            step["count"] -= 1
            _set_reps(step)
        elif held:
            step = max(held, key=lambda s: s["reps"][0])
            _set_reps(step, max(1.5, step["reps"][0] - 0.5))
        elif len(steps) > 1:
            steps.pop()
        else:
            step = steps[0]
            step["speed"] = "fast"
            _set_reps(step)
            break


def sample_program_v2(
    rng: np.random.Generator, upper_body: bool = False, max_seconds: float = MAX_SECONDS, human_cadence: bool = False
) -> list[dict]:
    """Version 2: 0-4 actions (0: the person idles the whole clip), sometimes with a pause in between
    (at most MAX_STEPS steps in all).
    `upper_body` keeps to actions whose story needs no legs (for framings that cut them off);
    `human_cadence` (version 4) times walks and runs by `GAIT_SECONDS`."""
    pool = [a for a in (UPPER_BODY if upper_body else ACTIONS) if a != IDLE]
    num_actions = int(rng.choice(list(NUM_ACTIONS_P), p=list(NUM_ACTIONS_P.values())))
    if num_actions == 0:
        idle = _sample_step(rng, IDLE)
        _set_reps(idle, float(rng.uniform(MIN_SECONDS, 8.0)))
        return _timeline([idle])
    steps, previous = [], None
    for k in range(num_actions):
        if k and len(steps) + num_actions - k < MAX_STEPS and rng.uniform() < PAUSE_P:
            steps.append(_sample_step(rng, IDLE))
        action = str(rng.choice([a for a in pool if a != previous]))
        steps.append(_sample_step(rng, action, human_cadence))
        previous = action
    _fit(steps, max_seconds)
    if steps[-1]["action"] == IDLE:  # a pause only ever separates two actions
        steps.pop()
    # A single action fills the clip: more repetitions (or slower) up to the clip's minimum length.
    while len(steps) == 1 and steps[0]["action"] not in HOLD_SECONDS and action_duration(steps[0]) < MIN_SECONDS:
        step = steps[0]
        if step["count"] and step["count"] < _counts(step["action"])[1]:
            step["count"] += 1
        elif step["speed"] != "slow":
            step["speed"] = "slow" if step["speed"] == "normal" else "normal"
        else:
            break
        _set_reps(step)
    return _timeline(steps)


def non_idle(program: list[dict]) -> list[dict]:
    return [step for step in program if step["action"] != IDLE]


def aim_travel(program: list[dict], view_deg: float, rng: np.random.Generator) -> float:
    """Give every walk and run of a version-2 program the heading its camera-relative direction needs;
    return the camera's yaw around the person at the start (degrees, 0 = in front of them).

    `view_deg` is the sampled camera yaw. A program that starts travelling keeps the person's heading
    and moves the camera instead; a later walk or run turns (`turn`, degrees) during its first step."""
    heading = 0.0
    for k, step in enumerate(program):
        if step["action"] in TRAVEL:
            low, high = TRAVEL_DIRECTIONS[step["direction"]]
            relative = float(rng.uniform(low, high))  # direction of travel minus direction to the camera
            if k == 0:
                view_deg = round((-relative + 180) % 360 - 180, 2)
            step["turn"] = round((view_deg + relative - heading + 180) % 360 - 180, 2)
            heading += step["turn"]
        elif step["action"] == "turn_around":
            heading += 180.0 if step["direction"] == "left" else -180.0
    return view_deg


# Per-action motion. `Motion` holds one step's local time and phase; each function adds the action's
# angles to `m.d` ([n] arrays, degrees) and its root motion to `m.root`.
@dataclass
class Motion:
    step: dict
    t: np.ndarray  # [n] seconds since the step started
    phase: np.ndarray  # [n] repetitions done so far
    hold: np.ndarray  # [n] 0 -> 1 -> 0 ramp into and out of a set-up pose
    amp: float | np.ndarray  # amplitude (per frame in version 2: jittered per repetition)
    gain: float | np.ndarray  # the jitter alone (1.0 in version 1)
    duration: float
    sides: tuple[str, ...]
    d: dict
    root: dict
    natural_gait: bool = False  # version 3 (see `_walk_legs`)

    def gait_end(self, end: float) -> float | None:
        """`_walk_legs`'s `natural_end`: `end` with the natural gait, else None."""
        return end if self.natural_gait else None


def _pulse(phase: np.ndarray) -> np.ndarray:
    """0 -> 1 -> 0 over each unit of `phase`: one repetition."""
    return 0.5 - 0.5 * np.cos(2 * np.pi * phase)


def _ramp(t: np.ndarray, duration: float, edge: float = EDGE) -> np.ndarray:
    """Smooth 0 -> 1 over `edge` seconds at the start and 1 -> 0 over `edge` at the end."""
    rise = np.clip(t / edge, 0, 1)
    fall = np.clip((duration - t) / edge, 0, 1)
    return np.minimum(0.5 - 0.5 * np.cos(np.pi * rise), 0.5 - 0.5 * np.cos(np.pi * fall))


def _sides(side: str | None) -> tuple[str, ...]:
    return ("l", "r") if side in ("both", None) else (side[0],)


def _walk_legs(
    d: dict, phase: np.ndarray, amp, asymmetry: float = 0.0, stride: float = 1.0, natural_end: float | None = None
) -> None:
    """Alternating steps, one per unit of phase; arms swing against the legs. `asymmetry` makes the left
    stride larger (> 0) or smaller than the right; `stride` scales the whole gait (running > 1).

    Versions 1 and 2 bend a knee while its hip is forward, a march. Given `natural_end`, the phase at which
    the steps end (version 3), a knee bends while its leg swings forward under the body, as people walk (knee
    flexion peaks at about 60 degrees in mid-swing; Perry, *Gait Analysis*, 1992), eased in over the first
    half step and out over the last."""
    swing = np.sin(np.pi * phase)  # +: left leg forward, -: right leg forward
    left, right = amp * (1 + asymmetry), amp * (1 - asymmetry)
    d["l_hip_flex"] += 25 * stride * left * swing
    d["r_hip_flex"] -= 25 * stride * right * swing
    if natural_end is not None:
        forward = np.cos(np.pi * phase)  # +: the left hip is moving forward, -: the right one
        ease = np.clip(2 * phase, 0, 1) * np.clip(2 * (natural_end - phase), 0, 1)
        d["l_knee"] += 60 * stride * left * np.clip(forward, 0, None) ** 2 * ease
        d["r_knee"] += 60 * stride * right * np.clip(-forward, 0, None) ** 2 * ease
    else:
        lift = np.abs(swing)
        d["l_knee"] += 35 * stride * left * lift * (swing > 0)
        d["r_knee"] += 35 * stride * right * lift * (swing < 0)
    d["l_sh_flex"] -= 18 * stride * right * swing
    d["r_sh_flex"] += 18 * stride * left * swing


def _walk(m: Motion) -> None:
    step = m.step
    _walk_legs(m.d, m.phase, m.amp, step.get("asymmetry", 0.0), natural_end=m.gait_end(step["count"]))
    sign = {"forward": 1.0, "backward": -1.0}.get(step["direction"], 1.0)
    turn = {"turning left": 90.0, "turning right": -90.0}.get(step["direction"], 0.0)
    m.root["yaw"] += turn * m.phase / step["count"] + step.get("turn", 0.0) * np.clip(m.phase, 0, 1)
    # A jittered gain would walk back. The natural gait's hips swing ±25 degrees: legs of 0.9 m step 0.65 m.
    length = 0.65 if m.natural_gait else 0.45
    m.root["forward"] += sign * length * m.step["amplitude"] * m.phase


def _run(m: Motion) -> None:
    _walk_legs(m.d, m.phase, m.amp, m.step["asymmetry"], stride=1.5, natural_end=m.gait_end(m.step["count"]))
    for s in "lr":
        m.d[f"{s}_elbow"] += 85
        m.d[f"{s}_knee"] += 20  # never fully straight
    m.d["spine_flex"] += 8
    m.root["yaw"] += m.step.get("turn", 0.0) * np.clip(m.phase, 0, 1)
    m.root["forward"] += (1.2 if m.natural_gait else 0.9) * m.step["amplitude"] * m.phase
    m.root["lift"] += 0.05 * np.abs(np.sin(np.pi * m.phase))


def _raise_arm(m: Motion) -> None:
    top = 90.0 if m.step["direction"] == "to shoulder height" else 160.0
    for s in m.sides:
        m.d[f"{s}_sh_abd"] += (top - ARM_HANG) * _pulse(m.phase / 1.0) ** 0.7 * m.gain


def _wave(m: Motion) -> None:
    for s in m.sides:
        m.d[f"{s}_sh_abd"] += (100 - ARM_HANG) * m.hold
        m.d[f"{s}_elbow"] += (75 + 30 * m.amp * np.sin(2 * np.pi * m.phase)) * m.hold


def _arm_circles(m: Motion) -> None:
    sign = 1.0 if m.step["direction"] == "forward" else -1.0
    for s in m.sides:
        m.d[f"{s}_sh_abd"] += (90 - ARM_HANG) * m.hold + 30 * m.amp * (np.cos(2 * np.pi * m.phase) - 1) * m.hold
        m.d[f"{s}_sh_horiz"] += sign * 30 * m.amp * np.sin(2 * np.pi * m.phase) * m.hold


def _clap(m: Motion) -> None:
    for s in m.sides:
        m.d[f"{s}_sh_abd"] += (80 - ARM_HANG) * m.hold
        m.d[f"{s}_sh_horiz"] += (85 - 30 * m.amp * (0.5 + 0.5 * np.cos(2 * np.pi * m.phase))) * m.hold
        m.d[f"{s}_elbow"] += 20 * m.hold


def _squat(m: Motion) -> None:
    depth = _pulse(m.phase)
    for s in "lr":
        m.d[f"{s}_hip_flex"] += 95 * m.amp * depth
        m.d[f"{s}_knee"] += 115 * m.amp * depth
        m.d[f"{s}_sh_flex"] += 75 * depth
    m.d["spine_flex"] += 20 * depth


def _lunge(m: Motion) -> None:
    front, back = m.sides[0], "r" if m.sides[0] == "l" else "l"
    depth = _pulse(m.phase)
    # The back leg bends a little, so the front leg is the one that clearly moves.
    m.d[f"{front}_hip_flex"] += 80 * m.amp * depth
    m.d[f"{front}_knee"] += 85 * m.amp * depth
    m.d[f"{back}_hip_flex"] -= 10 * m.amp * depth
    m.d[f"{back}_knee"] += 25 * m.amp * depth


def _jump(m: Motion) -> None:
    phase, count = m.phase, m.step["count"]
    crouch = np.clip(1 - 2 * np.abs(((phase + 0.5) % 1) - 0.5) / 0.35, 0, 1) * (phase < count)
    air = np.clip(np.sin(np.pi * ((phase % 1) - 0.25) / 0.5), 0, None) * ((phase % 1) > 0.25) * ((phase % 1) < 0.75)
    for s in "lr":
        m.d[f"{s}_hip_flex"] += 45 * crouch
        m.d[f"{s}_knee"] += 70 * crouch
        m.d[f"{s}_sh_abd"] += 50 * air
    m.root["lift"] += 0.3 * m.amp * air


def _kick(m: Motion) -> None:
    s, phase = m.sides[0], m.phase
    windup = _pulse(np.clip(phase % 1 * 2, 0, 1)) * (phase % 1 < 0.5) * (phase < m.step["count"])
    m.d[f"{s}_hip_flex"] += 80 * m.amp * _pulse(phase)
    m.d[f"{s}_knee"] += 60 * windup


def _bend_forward(m: Motion) -> None:
    depth = _pulse(m.phase)
    m.d["spine_flex"] += 85 * m.amp * depth
    for s in "lr":
        m.d[f"{s}_hip_flex"] += 10 * depth


def _turn_around(m: Motion) -> None:
    sign = 1.0 if m.step["direction"] == "left" else -1.0
    progress = 0.5 - 0.5 * np.cos(np.pi * m.phase)
    m.root["yaw"] += sign * 180.0 * progress
    _walk_legs(m.d, np.clip(2 * m.phase, 0, 2), 0.4, natural_end=m.gait_end(2))


def _step_sideways(m: Motion) -> None:
    lead, trail = ("l", "r") if m.step["direction"] == "left" else ("r", "l")
    phase, count = m.phase, m.step["count"]
    part = phase % 1
    m.d[f"{lead}_hip_abd"] += 25 * m.amp * _pulse(np.clip(part * 2, 0, 1)) * (part < 0.5) * (phase < count)
    m.d[f"{trail}_hip_abd"] += 20 * m.amp * _pulse(np.clip(part * 2 - 1, 0, 1)) * (part >= 0.5) * (phase < count)
    m.root["side"] += (1.0 if lead == "l" else -1.0) * 0.3 * m.step["amplitude"] * phase


def _stand_still(m: Motion) -> None:
    """Weight shifts from one leg to the other; breathing and sway are added to every version-2 clip."""
    shift = np.sin(2 * np.pi * m.t / ACTION_SPECS[IDLE][3] + np.pi * m.step["jitter"][0][0]) * m.amp
    shift = shift * _ramp(m.t, m.duration, 0.5)
    m.d["l_hip_abd"] += 3 * shift
    m.d["r_hip_abd"] -= 3 * shift
    m.d["spine_side"] -= 2 * shift
    m.root["side"] += 0.02 * shift


def _talk(m: Motion) -> None:
    """Forearms up in front of the body, beat gestures of the hands, nods and turns of the head."""
    beat = _pulse(m.phase) * m.amp  # m.amp carries the per-gesture jitter
    left = 0.5 + 0.5 * np.sin(np.pi * m.phase / 3 + m.step["jitter"][1][0])  # hands take turns
    for s, weight in (("l", left), ("r", 1 - left)):
        m.d[f"{s}_sh_flex"] += (25 + 20 * beat * weight) * m.hold
        m.d[f"{s}_elbow"] += (80 + 25 * beat * weight) * m.hold
        m.d[f"{s}_sh_horiz"] += 10 * beat * weight * m.hold
    m.d["neck_flex"] += 6 * beat * m.hold
    m.d["neck_yaw"] += 15 * np.sin(2 * np.pi * m.t / 3.1 + m.step["jitter"][2][0]) * m.hold


def _look_around(m: Motion) -> None:
    """The head (and a little of the torso) turns to one side, then the other, repeatedly."""
    first = 1.0 if m.step["jitter"][0][0] > 0 else -1.0
    look = np.sin(2 * np.pi * m.phase) * m.amp * _ramp(m.t, m.duration, 0.4)
    m.d["neck_yaw"] += first * 60 * look
    m.d["spine_twist"] += first * 15 * look


def _crouch(m: Motion) -> None:
    """Down into a deep crouch (sitting on the heels), stay, and stand back up."""
    depth = _ramp(m.t, m.duration, ACTION_SPECS["crouch"][3]) * m.amp
    for s in "lr":
        m.d[f"{s}_hip_flex"] += 110 * depth
        m.d[f"{s}_knee"] += 130 * depth
        m.d[f"{s}_sh_flex"] += 35 * depth
    m.d["spine_flex"] += 25 * depth


ANIMATORS = {
    "walk": _walk,
    "raise_arm": _raise_arm,
    "wave": _wave,
    "arm_circles": _arm_circles,
    "clap": _clap,
    "squat": _squat,
    "lunge": _lunge,
    "jump": _jump,
    "kick": _kick,
    "bend_forward": _bend_forward,
    "turn_around": _turn_around,
    "step_sideways": _step_sideways,
    "stand_still": _stand_still,
    "talk": _talk,
    "look_around": _look_around,
    "run": _run,
    "crouch": _crouch,
}


def _phase(step: dict, t: np.ndarray, edge: float) -> np.ndarray:
    """Repetitions done at local times `t`: jittered repetition lengths in version 2."""
    action, count = step["action"], step["count"]
    if "reps" not in step:
        period = ACTION_SPECS[action][3] * SPEEDS[step["speed"]]
        return np.clip((t - edge) / period, 0, (count or 1))
    if action in HOLD_SECONDS:  # cycles of the action's period for as long as it lasts
        return np.maximum(t - edge, 0) / ACTION_SPECS[action][3]
    count = count or 1
    bounds = np.concatenate([[0.0], np.cumsum(step["reps"])])
    k = np.clip(np.searchsorted(bounds, t - edge, side="right") - 1, 0, count - 1)
    return np.clip(k + (t - edge - bounds[k]) / np.array(step["reps"])[k], 0, count)


def _animate_step(step: dict, t: np.ndarray, d: dict, root: dict, natural_gait: bool = False) -> None:
    """Add one action's angles to `d` and its root motion to `root` for local times `t`."""
    edge = EDGE if step["action"] in _SET_UP else 0.0
    duration = step["end"] - step["start"]
    phase = _phase(step, t, edge)
    gain = 1.0
    if "jitter" in step:  # amplitude varies by up to 15% from one repetition to the next, smoothly
        reps = len(step["jitter"])
        gain = 1 + 0.15 * np.interp(phase, np.arange(reps) + 0.5, np.array(step["jitter"])[:, 1])
    amp = step["amplitude"] * gain if "jitter" in step else step["amplitude"]
    hold = _ramp(t, duration) if edge else np.ones_like(t)
    motion = Motion(step, t, phase, hold, amp, gain, duration, _sides(step["side"]), d, root, natural_gait)
    ANIMATORS[step["action"]](motion)


def animate(
    program: list[dict], fps: float, idle: dict | None = None, natural_gait: bool = False
) -> tuple[dict, np.ndarray, np.ndarray]:
    """Per-frame angles, root yaw and root ground offset of a program.

    `idle` (version 2) adds breathing and body sway for the whole clip: `{"breath_hz", "breath_deg",
    "sway_hz", "sway_m", "phase"}` (see `sample_idle`). `natural_gait` (version 3): walks, runs and turns
    swing the knees as people walk and step as far as their hips reach (see `_walk_legs`).
    Returns `angles` (DOF name -> [T] degrees), `yaw` [T] (degrees, left turn positive) and
    `offset` [T, 3] (metres in the body's starting frame: x left, y up (airborne height), z forward).
    """
    num_frames = int(round(program[-1]["end"] * fps))
    times = np.arange(num_frames) / fps
    angles = {name: np.zeros(num_frames) for name in DOFS}
    for s in "lr":
        angles[f"{s}_sh_abd"] += ARM_HANG
    yaw = np.zeros(num_frames)
    offset = np.zeros((num_frames, 3))
    heading, position = 0.0, np.zeros(2)  # carried over from one action to the next
    for step in program:
        inside = (times >= step["start"]) & (times < step["end"])
        t = times[inside] - step["start"]
        root = {
            "yaw": np.zeros(len(t)),
            "forward": np.zeros(len(t)),
            "side": np.zeros(len(t)),
            "lift": np.zeros(len(t)),
        }
        local = {k: np.zeros(len(t)) for k in DOFS}
        _animate_step(step, t, local, root, natural_gait)
        for k in DOFS:
            angles[k][inside] += local[k]
        # Travel happens along the heading at each instant, so turning while walking draws an arc.
        frame_yaw = np.radians(heading + root["yaw"])
        dforward = np.diff(root["forward"], prepend=0.0)
        dside = np.diff(root["side"], prepend=0.0)
        dx = dforward * np.sin(frame_yaw) + dside * np.cos(frame_yaw)
        dz = dforward * np.cos(frame_yaw) - dside * np.sin(frame_yaw)
        offset[inside, 0] = position[0] + np.cumsum(dx)
        offset[inside, 2] = position[1] + np.cumsum(dz)
        offset[inside, 1] = root["lift"]
        yaw[inside] = heading + root["yaw"]
        if len(t):
            heading = yaw[inside][-1]
            position = offset[inside][-1, [0, 2]]
    if idle:
        breath = np.sin(2 * np.pi * idle["breath_hz"] * times + idle["phase"])
        sway = np.sin(2 * np.pi * idle["sway_hz"] * times + 2 * idle["phase"])
        angles["spine_flex"] += idle["breath_deg"] * breath
        angles["neck_flex"] -= 0.5 * idle["breath_deg"] * breath  # the head stays level
        angles["spine_side"] += 40 * idle["sway_m"] * sway
        offset[:, 0] += idle["sway_m"] * sway * np.cos(np.radians(yaw))
        offset[:, 2] -= idle["sway_m"] * sway * np.sin(np.radians(yaw))
    return angles, yaw, offset


def sample_idle(rng: np.random.Generator) -> dict:
    """Breathing (0.2-0.35 Hz, 1-3 degrees of the spine) and sway (0.1-0.3 Hz, 0.5-2.5 cm) of one person."""
    return {
        "breath_hz": round(float(rng.uniform(0.2, 0.35)), 3),
        "breath_deg": round(float(rng.uniform(1.0, 3.0)), 2),
        "sway_hz": round(float(rng.uniform(0.1, 0.3)), 3),
        "sway_m": round(float(rng.uniform(0.005, 0.025)), 4),
        "phase": round(float(rng.uniform(0, 2 * np.pi)), 3),
    }
