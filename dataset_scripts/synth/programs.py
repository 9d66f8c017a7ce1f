"""Motion programs: a clip is 2-4 actions in sequence, each with side, count, speed and direction.

`sample_program` draws the symbolic program; `animate` turns it into per-frame joint angles and a
root trajectory. Every action's curves start and end at the neutral pose, so actions chain without
jumps, and every repetition is one bump of a (1 - cos) pulse, so the counts in the program are the
counts in the motion.
"""

import numpy as np

ACTIONS = (
    "walk", "raise_arm", "wave", "arm_circles", "clap", "squat",
    "lunge", "jump", "kick", "bend_forward", "turn_around", "step_sideways",
)
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
}
DIRECTIONS = {
    "walk": ("forward", "backward", "turning left", "turning right"),
    "raise_arm": ("to shoulder height", "overhead"),
    "arm_circles": ("forward", "backward"),
    "turn_around": ("left", "right"),
    "step_sideways": ("left", "right"),
}
# Degrees of freedom animated, all anatomical (positive = abduct / flex forward / bend).
DOFS = (
    "l_sh_abd", "r_sh_abd", "l_sh_flex", "r_sh_flex", "l_sh_horiz", "r_sh_horiz", "l_elbow", "r_elbow",
    "l_hip_flex", "r_hip_flex", "l_hip_abd", "r_hip_abd", "l_knee", "r_knee", "spine_flex",
)
ARM_HANG = 8.0  # shoulder abduction of relaxed arms, degrees from vertical
EDGE = 0.35  # seconds to move into and out of an action's set-up pose
MAX_SECONDS = 10.0


def action_duration(step: dict) -> float:
    _, _, counts, period = ACTION_SPECS[step["action"]]
    reps = step["count"] if counts is not None else 1
    return reps * period * SPEEDS[step["speed"]] + (2 * EDGE if step["action"] in _SET_UP else 0.0)


def sample_program(rng: np.random.Generator, max_seconds: float = MAX_SECONDS) -> list[dict]:
    """2-4 actions, never the same action twice in a row, at most `max_seconds` long in total."""
    num_actions = int(rng.integers(2, 5))
    steps, previous = [], None
    for _ in range(num_actions):
        action = str(rng.choice([a for a in ACTIONS if a != previous]))
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
    start = 0.0
    for step in steps:
        step["start"] = round(start, 3)
        start += action_duration(step)
        step["end"] = round(start, 3)
    return steps


def _pulse(phase: np.ndarray) -> np.ndarray:
    """0 -> 1 -> 0 over each unit of `phase`: one repetition."""
    return 0.5 - 0.5 * np.cos(2 * np.pi * phase)


def _ramp(t: np.ndarray, duration: float) -> np.ndarray:
    """Smooth 0 -> 1 over EDGE seconds at the start and 1 -> 0 over EDGE at the end."""
    rise = np.clip(t / EDGE, 0, 1)
    fall = np.clip((duration - t) / EDGE, 0, 1)
    return np.minimum(0.5 - 0.5 * np.cos(np.pi * rise), 0.5 - 0.5 * np.cos(np.pi * fall))


def _sides(side: str | None) -> tuple[str, ...]:
    return ("l", "r") if side in ("both", None) else (side[0],)


def _walk_legs(d: dict, phase: np.ndarray, amp: float) -> None:
    """Alternating steps, one per unit of phase; arms swing against the legs."""
    swing = np.sin(np.pi * phase)  # +: left leg forward, -: right leg forward
    lift = np.abs(np.sin(np.pi * phase))
    d["l_hip_flex"] += 25 * amp * swing
    d["r_hip_flex"] -= 25 * amp * swing
    d["l_knee"] += 35 * amp * lift * (swing > 0)
    d["r_knee"] += 35 * amp * lift * (swing < 0)
    d["l_sh_flex"] -= 18 * amp * swing
    d["r_sh_flex"] += 18 * amp * swing


def _animate_step(step: dict, t: np.ndarray, d: dict, root: dict) -> None:
    """Add one action's angles to `d` ([n] arrays, degrees) and its root motion to `root` for local times `t`."""
    action, amp = step["action"], step["amplitude"]
    duration = step["end"] - step["start"]
    period = ACTION_SPECS[action][3] * SPEEDS[step["speed"]]
    edge = EDGE if action in _SET_UP else 0.0
    phase = np.clip((t - edge) / period, 0, (step["count"] or 1))  # repetitions done so far
    hold = _ramp(t, duration) if edge else np.ones_like(t)
    sides = _sides(step["side"])
    if action == "walk":
        _walk_legs(d, phase, amp)
        sign = {"forward": 1.0, "backward": -1.0}.get(step["direction"], 1.0)
        turn = {"turning left": 90.0, "turning right": -90.0}.get(step["direction"], 0.0)
        root["yaw"] += turn * phase / step["count"]
        root["forward"] += sign * 0.45 * amp * phase
    elif action == "raise_arm":
        top = 90.0 if step["direction"] == "to shoulder height" else 160.0
        for s in sides:
            d[f"{s}_sh_abd"] += (top - ARM_HANG) * _pulse(phase / 1.0) ** 0.7
    elif action == "wave":
        for s in sides:
            d[f"{s}_sh_abd"] += (100 - ARM_HANG) * hold
            d[f"{s}_elbow"] += (75 + 30 * amp * np.sin(2 * np.pi * phase)) * hold
    elif action == "arm_circles":
        sign = 1.0 if step["direction"] == "forward" else -1.0
        for s in sides:
            d[f"{s}_sh_abd"] += (90 - ARM_HANG) * hold + 30 * amp * (np.cos(2 * np.pi * phase) - 1) * hold
            d[f"{s}_sh_horiz"] += sign * 30 * amp * np.sin(2 * np.pi * phase) * hold
    elif action == "clap":
        for s in sides:
            d[f"{s}_sh_abd"] += (80 - ARM_HANG) * hold
            d[f"{s}_sh_horiz"] += (85 - 30 * amp * (0.5 + 0.5 * np.cos(2 * np.pi * phase))) * hold
            d[f"{s}_elbow"] += 20 * hold
    elif action == "squat":
        depth = _pulse(phase)
        for s in "lr":
            d[f"{s}_hip_flex"] += 95 * amp * depth
            d[f"{s}_knee"] += 115 * amp * depth
            d[f"{s}_sh_flex"] += 75 * depth
        d["spine_flex"] += 20 * depth
    elif action == "lunge":
        front, back = sides[0], "r" if sides[0] == "l" else "l"
        depth = _pulse(phase)
        # The back leg bends a little, so the front leg is the one that clearly moves.
        d[f"{front}_hip_flex"] += 80 * amp * depth
        d[f"{front}_knee"] += 85 * amp * depth
        d[f"{back}_hip_flex"] -= 10 * amp * depth
        d[f"{back}_knee"] += 25 * amp * depth
    elif action == "jump":
        crouch = np.clip(1 - 2 * np.abs(((phase + 0.5) % 1) - 0.5) / 0.35, 0, 1) * (phase < (step["count"]))
        air = np.clip(np.sin(np.pi * ((phase % 1) - 0.25) / 0.5), 0, None) * ((phase % 1) > 0.25) * ((phase % 1) < 0.75)
        for s in "lr":
            d[f"{s}_hip_flex"] += 45 * crouch
            d[f"{s}_knee"] += 70 * crouch
            d[f"{s}_sh_abd"] += 50 * air
        root["lift"] += 0.3 * amp * air
    elif action == "kick":
        s = sides[0]
        windup = _pulse(np.clip(phase % 1 * 2, 0, 1)) * (phase % 1 < 0.5) * (phase < step["count"])
        strike = _pulse(phase)
        d[f"{s}_hip_flex"] += 80 * amp * strike
        d[f"{s}_knee"] += 60 * windup
    elif action == "bend_forward":
        depth = _pulse(phase)
        d["spine_flex"] += 85 * amp * depth
        for s in "lr":
            d[f"{s}_hip_flex"] += 10 * depth
    elif action == "turn_around":
        sign = 1.0 if step["direction"] == "left" else -1.0
        progress = 0.5 - 0.5 * np.cos(np.pi * phase)
        root["yaw"] += sign * 180.0 * progress
        _walk_legs(d, np.clip(2 * phase, 0, 2), 0.4)
    elif action == "step_sideways":
        lead, trail = ("l", "r") if step["direction"] == "left" else ("r", "l")
        part = phase % 1
        d[f"{lead}_hip_abd"] += 25 * amp * _pulse(np.clip(part * 2, 0, 1)) * (part < 0.5) * (phase < step["count"])
        d[f"{trail}_hip_abd"] += 20 * amp * _pulse(np.clip(part * 2 - 1, 0, 1)) * (part >= 0.5) * (phase < step["count"])
        root["side"] += (1.0 if lead == "l" else -1.0) * 0.3 * amp * phase


_SET_UP = {"wave", "arm_circles", "clap"}  # actions that hold a set-up pose while they repeat


def animate(program: list[dict], fps: float) -> tuple[dict, np.ndarray, np.ndarray]:
    """Per-frame angles, root yaw and root ground offset of a program.

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
        root = {"yaw": np.zeros(len(t)), "forward": np.zeros(len(t)), "side": np.zeros(len(t)), "lift": np.zeros(len(t))}
        local = {k: np.zeros(len(t)) for k in DOFS}
        _animate_step(step, t, local, root)
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
    return angles, yaw, offset
