"""Long videos: movement segmentation, segment-by-segment captioning (tiny models with a short motion
window stand in for long inputs), subtitles, rotated phone videos and several files in one command."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import srt
import webvtt
from conftest import moving_square_frames, tiny_config, tiny_model, tiny_processor

from macm_cli.captioner import MACMCaptioner
from processing_macm import probe_video, read_video, write_video
from processing_macm.motion_track import NUM_JOINTS, SMPL_JOINT_NAMES, MotionTrack
from processing_macm.segments import movement_segments, summarize, timeline_lines, to_srt, to_vtt


def phased_track(phases: list[tuple[float, str | None]], fps: float = 10.0, seed: int = 0) -> MotionTrack:
    """A track whose `(seconds, joint)` phases each swing one joint (None: stand still), with pose jitter."""
    rng = np.random.default_rng(seed)
    frames = []
    for seconds, joint in phases:
        t = np.arange(round(seconds * fps)) / fps
        joints = np.zeros((len(t), NUM_JOINTS, 3), np.float32)
        joints[:, :, 1] = np.linspace(0, 1.6, NUM_JOINTS)  # a standing body, pelvis at the origin
        if joint is not None:
            joints[:, SMPL_JOINT_NAMES.index(joint), 0] += 0.3 * np.sin(2 * np.pi * 1.5 * t)
        frames.append(joints)
    joints = np.concatenate(frames) + rng.normal(0, 0.003, (sum(len(f) for f in frames), NUM_JOINTS, 3)).astype(
        np.float32
    )
    joints -= joints[:, :1]
    keypoints = np.full((len(joints), 33, 3), (24.0, 24.0, 1.0), np.float32)  # every landmark seen, in the frame
    return MotionTrack(fps, (48, 48), keypoints, joints, np.ones(len(joints), bool), "test")


def test_segments_cut_where_the_moving_limb_changes():
    phases = [(4, None), (5, "left_wrist"), (5, "right_ankle"), (6, None), (25, "left_wrist")]
    ranges = movement_segments(phased_track(phases), min_seconds=2, max_seconds=10)
    assert ranges[0][0] == 0 and ranges[-1][1] == 450
    assert all(stop == first for (_, stop), (first, _) in zip(ranges, ranges[1:]))  # contiguous
    lengths = np.array([stop - first for first, stop in ranges]) / 10
    assert lengths.min() >= 2 and lengths.max() <= 10
    starts = np.array([first for first, _ in ranges[1:]]) / 10
    for change in (4, 9, 14, 20):  # each change of movement has a boundary within half a second
        assert np.abs(starts - change).min() <= 0.5, (change, starts)
    # The last 25 s of one movement are split into equal pieces of at most 10 s, not cut anywhere else.
    assert [round(s, 1) for s in starts if s > 20.5] == [28.5, 36.7]


def test_summary_says_the_shared_opening_once():
    captions = [
        "The video shows a person in a red shirt. First, the person waves the left arm. Finally, the person jumps.",
        "The video shows a person in a blue shirt. First, the person squats down.",
        "The video shows a person in a blue shirt. First, the person squats down.",
    ]
    assert (
        summarize(captions)
        == "The video shows a person in a red shirt. The person waves the left arm. Then the person squats down."
    )
    assert summarize(["A man waves.", "A man jumps twice. He lands."]) == "A man waves. Then a man jumps twice."


@pytest.fixture(scope="module")
def short_window_captioner(tokenizer):
    """A tiny kinematic MACM whose motion window is 3.2 s (32 frames at 10 fps)."""
    config = tiny_config(tokenizer, "kinematic", motion_max_frames=32)
    return MACMCaptioner(tiny_model(config), tiny_processor(tokenizer, config))


@pytest.mark.slow
def test_long_video_is_captioned_segment_by_segment(tmp_path, short_window_captioner):
    video = str(write_video(tmp_path / "long.mp4", moving_square_frames(120), fps=10))  # 12 s
    track = phased_track([(4, None), (4, "left_wrist"), (4, "right_ankle")])
    result = short_window_captioner(video, tracks=[track], batch_size=2, max_new_tokens=8)
    segments = result.segments
    assert len(segments) >= 4 and segments[0]["start"] == 0 and segments[-1]["end"] == 12.0
    assert all(a["end"] == b["start"] for a, b in zip(segments, segments[1:]))
    assert all(1.6 <= s["end"] - s["start"] <= 3.2 for s in segments)  # 2-10 s bounds shrink to the 3.2 s window
    assert result.motion_used and result.caption == summarize([s["caption"] for s in segments])
    # Each segment's caption is what the model says for that stretch alone: its frames and its part of the track.
    from processing_macm.segments import slice_track

    frames, _ = read_video(video)
    first = segments[1]
    part = slice_track(track, round(first["start"] * 10), round(first["end"] * 10))
    alone = short_window_captioner(
        frames[round(first["start"] * 10) : round(first["end"] * 10)], tracks=[part], max_new_tokens=8
    )
    assert alone.caption == first["caption"]


def test_short_clip_is_one_segment_as_before(tmp_path, short_window_captioner):
    video = str(write_video(tmp_path / "short.mp4", moving_square_frames(30), fps=10))
    track = phased_track([(3, "left_wrist")])
    result = short_window_captioner(video, tracks=[track], max_new_tokens=8)
    assert result.segments == [{"start": 0.0, "end": 3.0, "caption": result.caption}]


def test_long_video_without_motion_gets_equal_pieces(tmp_path, short_window_captioner):
    video = str(write_video(tmp_path / "long.mp4", moving_square_frames(100), fps=10))
    result = short_window_captioner(video, use_motion=False, max_new_tokens=4)
    assert [(s["start"], s["end"]) for s in result.segments] == [(0.0, 2.5), (2.5, 5.0), (5.0, 7.5), (7.5, 10.0)]
    assert not result.motion_used


SEGMENTS = [
    {"start": 0.0, "end": 2.5, "caption": "The person waves."},
    {"start": 2.5, "end": 71.25, "caption": "Then jumps, twice."},
]


def test_subtitles_parse_back(tmp_path):
    cues = list(srt.parse(to_srt(SEGMENTS)))
    assert [(c.start.total_seconds(), c.end.total_seconds(), c.content) for c in cues] == [
        (s["start"], s["end"], s["caption"]) for s in SEGMENTS
    ]
    path = tmp_path / "x.vtt"
    path.write_text(to_vtt(SEGMENTS))
    vtt = webvtt.read(str(path))
    assert [(c.start, c.end, c.text) for c in vtt] == [
        ("00:00:00.000", "00:00:02.500", SEGMENTS[0]["caption"]),
        ("00:00:02.500", "00:01:11.250", SEGMENTS[1]["caption"]),
    ]
    assert timeline_lines(SEGMENTS) == ["[00:00–00:02] The person waves.", "[00:02–01:11] Then jumps, twice."]


@pytest.mark.skipif(
    shutil.which("ffmpeg") is None, reason="ffmpeg (Debian package, installed by scripts/setup.sh --dev)"
)
@pytest.mark.parametrize("kind", ["srt", "vtt"])
def test_ffmpeg_reads_the_subtitles(tmp_path, kind):
    path = tmp_path / f"x.{kind}"
    path.write_text(to_srt(SEGMENTS) if kind == "srt" else to_vtt(SEGMENTS))
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "srt", "-"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert [(c.start.total_seconds(), c.end.total_seconds(), c.content) for c in srt.parse(out.stdout)] == [
        (s["start"], s["end"], s["caption"]) for s in SEGMENTS
    ]


@pytest.mark.skipif(
    shutil.which("ffmpeg") is None, reason="ffmpeg (Debian package, installed by scripts/setup.sh --dev)"
)
def test_rotated_phone_video_is_decoded_upright(tmp_path):
    frames = np.zeros((6, 32, 64, 3), np.uint8)
    frames[:, :8, :16] = (255, 0, 0)  # red in the top-left corner of a landscape picture
    plain = write_video(tmp_path / "plain.mp4", frames, fps=10)
    rotated = tmp_path / "rotated.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(plain), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(rotated)],
        check=True,
    )
    info = probe_video(rotated)
    assert (info.width, info.height) == (32, 64)
    decoded, _ = read_video(rotated)
    reference = tmp_path / "reference.png"  # ffmpeg's own upright decoding of the first frame
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(rotated), "-frames:v", "1", str(reference)], check=True)
    from PIL import Image

    assert decoded.shape == (6, 64, 32, 3)
    assert np.abs(decoded[0].astype(int) - np.asarray(Image.open(reference)).astype(int)).mean() < 2
    assert decoded[0, 56, 4, 0] > 200 and decoded[0, 4, 4, 0] < 50  # a quarter turn counter-clockwise: now bottom-left


@pytest.fixture(scope="module")
def short_window_checkpoint(tmp_path_factory, tokenizer):
    path = tmp_path_factory.mktemp("short_window")
    config = tiny_config(tokenizer, "kinematic", motion_max_frames=20)
    tiny_model(config).save_pretrained(path)
    tiny_processor(tokenizer, config).save_pretrained(path)
    return str(path)


def test_an_answer_about_a_long_video_is_printed_alone(tmp_path, short_window_checkpoint, capsys):
    from macm_cli import main as macm

    video = write_video(tmp_path / "long.mp4", moving_square_frames(50), fps=10)  # 5 s: longer than the 2 s window
    common = [str(video), "--model", short_window_checkpoint, "--no-motion", "--max-new-tokens", "4"]
    assert macm(["caption", *common]) == 0
    captioned = capsys.readouterr().out.splitlines()
    assert len(captioned) > 2 and captioned[1].startswith("[00:00–00:0")  # the caption, then its timeline
    assert macm(["ask", *common[:1], "Does the person jump?", *common[1:]]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() in (["Yes."], ["No."])  # the answer alone; the caption it was read from goes to stderr
    assert f"answered from the video, its motion and this caption: {captioned[0]}" in err


@pytest.mark.slow
def test_several_files_and_a_folder_in_one_command(tmp_path, short_window_checkpoint):
    folder = tmp_path / "clips"
    folder.mkdir()
    write_video(folder / "a.mp4", moving_square_frames(20), fps=10)
    write_video(folder / "b.mp4", moving_square_frames(20, seed=1), fps=10)
    single = write_video(tmp_path / "long.mp4", moving_square_frames(50), fps=10)  # 5 s: longer than the 2 s window
    command = [sys.executable, "-m", "macm_cli", "caption", str(single), str(folder), "--model", short_window_checkpoint,
               "--no-motion", "--max-new-tokens", "4", "--srt", str(tmp_path / "subs")]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(command, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith(f"{single}: ") and lines[1].startswith("  [00:00–00:0")
    assert [line.split(": ")[0] for line in lines if not line.startswith("  ")] == [
        str(single),
        str(folder / "a.mp4"),
        str(folder / "b.mp4"),
    ]
    cues = list(srt.parse((tmp_path / "subs" / "long.srt").read_text()))
    assert len(cues) == 3 and cues[-1].end.total_seconds() == 5.0
    assert len(list(srt.parse((tmp_path / "subs" / "a.srt").read_text()))) == 1
    out = subprocess.run(command[:4] + command[5:-2] + ["--json"], capture_output=True, text=True, env=env)
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [len(row["segments"]) for row in rows] == [1, 1]
