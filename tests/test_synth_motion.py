"""Captions agree with the motion: the side and limb named move most, and counts match, read from joints_3d."""

import numpy as np
import pytest

from dataset_scripts.synth.body import JOINT_NAMES, pose_body, sample_body
from dataset_scripts.synth.programs import _SET_UP, EDGE, animate, sample_idle, sample_program, sample_program_v2

pytestmark = pytest.mark.slow
FPS = 15
J = {name: i for i, name in enumerate(JOINT_NAMES)}
# action -> (joint of the moving limb (side filled in), signal whose peaks are the repetitions)
SIGNALS = {
    "raise_arm": ("{s}_wrist", lambda j, s: j[:, J[f"{s}_wrist"], 1]),
    "kick": ("{s}_ankle", lambda j, s: j[:, J[f"{s}_ankle"], 2]),
    "lunge": ("{s}_knee", lambda j, s: j[:, J[f"{s}_knee"], 2]),
    "wave": ("{s}_wrist", lambda j, s: j[:, J[f"{s}_wrist"], 0] * (1 if s == "l" else -1)),
    "squat": (None, lambda j, s: j[:, J["l_ankle"], 1]),
    "bend_forward": (None, lambda j, s: j[:, J["head"], 2]),
    "arm_circles": ("{s}_wrist", lambda j, s: j[:, J[f"{s}_wrist"], 1]),
    "clap": (None, lambda j, s: -np.linalg.norm(j[:, J["l_wrist"]] - j[:, J["r_wrist"]], axis=1)),
}


def count_peaks(signal: np.ndarray) -> int:
    """Rises through the upper third of the range, with hysteresis at the lower third."""
    low, high = signal.min(), signal.max()
    if high - low < 1e-3:
        return 0
    upper, lower = low + 2 / 3 * (high - low), low + 1 / 3 * (high - low)
    count, armed = 0, signal[0] < upper
    for value in signal:
        if armed and value > upper:
            count, armed = count + 1, False
        elif value < lower:
            armed = True
    return count


def path_length(joints: np.ndarray, name: str) -> float:
    return float(np.linalg.norm(np.diff(joints[:, J[name]], axis=0), axis=1).sum())


@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_named_side_moves_most_and_counts_match(version):
    """Version 2 adds per-repetition timing and amplitude jitter, breathing and sway, version 3 a natural
    gait, version 4 people's cadences: the counts and sides must survive them."""
    checked = {}
    for seed in range(60):
        rng = np.random.default_rng(seed)
        program = sample_program(rng) if version == 1 else sample_program_v2(rng, human_cadence=version == 4)
        idle = None if version == 1 else sample_idle(rng)
        angles, yaw, offset = animate(program, FPS, idle, natural_gait=version >= 3)
        _, _, _, joints, _ = pose_body(sample_body(rng), angles, yaw, offset)
        for step in program:
            if step["action"] not in SIGNALS:
                continue
            # Actions with a set-up pose repeat between moving in and out of it: count inside.
            trim = EDGE if step["action"] in _SET_UP else 0.0
            segment = joints[int(round((step["start"] + trim) * FPS)) : int(round((step["end"] - trim) * FPS))]
            joint, signal = SIGNALS[step["action"]]
            side = step["side"]
            if joint and side in ("left", "right"):
                s, other = side[0], "r" if side == "left" else "l"
                assert path_length(segment, joint.format(s=s)) > 2 * path_length(segment, joint.format(s=other)), step
            s = side[0] if side in ("left", "right") else "l"
            assert count_peaks(signal(segment, s)) == step["count"], (seed, step)
            checked[step["action"]] = checked.get(step["action"], 0) + 1
    assert set(checked) == set(SIGNALS), checked


def test_v4_walks_step_slower_than_runs_and_nothing_else_changes():
    """Version 4 times walks and runs by GAIT_SECONDS: every walk steps slower than every run (version 3: a
    fast walk 0.39 s a step, a slow run 0.50 s). The rest of a program is version 3's, draw for draw, but for
    the counts and holds that fitting it into the clip's length changes."""
    seconds = {True: {"walk": [], "run": []}, False: {"walk": [], "run": []}}
    for seed in range(400):
        v3, v4 = (sample_program_v2(np.random.default_rng(seed), human_cadence=h) for h in (False, True))
        assert [s["action"] for s in v3] == [s["action"] for s in v4], seed
        timing = ("reps", "start", "end", "count", "human_cadence")
        for a, b in zip(v3, v4):
            assert {k: v for k, v in a.items() if k not in timing} == {k: v for k, v in b.items() if k not in timing}
            if a["action"] in seconds[True]:
                seconds[False][a["action"]].append(np.mean(a["reps"]))
                seconds[True][b["action"]].append(np.mean(b["reps"]))
                assert b["human_cadence"] and len(b["reps"]) == b["count"], b
            else:
                assert "human_cadence" not in b, b
    assert min(seconds[True]["walk"]) > max(seconds[True]["run"]), seconds[True]
    assert min(seconds[False]["walk"]) < max(seconds[False]["run"])  # the overlap version 4 removes
    assert len(seconds[True]["walk"]) > 20 and len(seconds[True]["run"]) > 20


def test_v2_walks_travel_and_idle_stays_put():
    """A version-2 walk or run moves the body metres across the floor; an idle clip only sways."""
    for seed in range(40):
        rng = np.random.default_rng(seed)
        program = sample_program_v2(rng)
        _, _, offset = animate(program, FPS, sample_idle(rng))
        for step in program:
            inside = offset[int(round(step["start"] * FPS)) : int(round(step["end"] * FPS))]
            travel = np.linalg.norm(inside[-1, [0, 2]] - inside[0, [0, 2]])
            if step["action"] in ("walk", "run"):
                assert travel > 0.3 * step["count"], step
            elif step["action"] == "stand_still":
                assert travel < 0.1, step


def walks(seeds: range):
    """(program step, angles, offset) of every version-2 walk in the programs of `seeds`, natural gait or not."""
    for seed in seeds:
        program = sample_program_v2(np.random.default_rng(seed))
        for natural in (False, True):
            angles, _, offset = animate(program, FPS, None, natural_gait=natural)
            for step in program:
                if step["action"] == "walk":
                    inside = slice(int(round(step["start"] * FPS)), int(round(step["end"] * FPS)))
                    yield step, natural, {k: v[inside] for k, v in angles.items()}, offset[inside]


def test_natural_gait_bends_the_swinging_knee_and_steps_further():
    """Version 3: a knee bends most while its hip swings forward through the vertical (mid-swing), by about
    60 degrees, and each step covers 0.65 m at amplitude 1. Version 2 bent it at the front of the stride."""
    checked = set()
    for step, natural, angles, offset in walks(range(60)):
        knee, hip = angles["l_knee"], angles["l_hip_flex"]
        hip_velocity = np.gradient(hip) * FPS
        bent = knee > 0.8 * knee.max()  # frames near the knee's largest bend
        travel = np.linalg.norm(np.diff(offset[:, [0, 2]], axis=0), axis=1).sum()  # along a turning path too
        if natural:
            assert 40 < knee.max() < 80 and (hip_velocity[bent] > 0).all() and (np.abs(hip[bent]) < 12).all(), step
            assert travel > 0.55 * step["amplitude"] * (step["count"] - 1), step
        else:
            assert knee.max() < 45 and (hip[bent] > 10).all(), step
            assert travel < 0.5 * step["amplitude"] * step["count"], step
        checked.add(natural)
    assert checked == {False, True}
