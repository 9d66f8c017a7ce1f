"""Bad inputs, as a careless or hostile user gives them: each ends in one line `macm COMMAND: error: ...` that
says what is wrong and what to do (exit 1; argparse's usage errors exit 2), before any long work, and
nothing outside the output is written or changed. The CLI runs in-process through `macm_cli.main`; a few
cases run as subprocesses to prove the real exit codes and the `--debug` traceback."""

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from utils import moving_square_frames, tiny_config, tiny_model, tiny_processor

from macm_cli import MACMCaptioner, UserError, main
from macm_cli.captioner import NOBODY_CAPTION
from processing_macm import VideoReadError, write_video
from processing_macm.motion_track import MEDIAPIPE_LANDMARK_NAMES, NUM_JOINTS, MotionTrack

REPO = Path(__file__).resolve().parent.parent


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under `folder`: its size and modification time."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.rglob("*"))}


def run(capsys, argv: list[str]) -> tuple[int, str, str]:
    """`macm ARGV` in this process: (exit code, stdout, stderr)."""
    try:
        code = main(argv)
    except SystemExit as exit:  # argparse's usage errors
        code = exit.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A folder holding a video, a text file posing as a video and a PNG; the tests run in it."""
    write_video(tmp_path / "clip.mp4", moving_square_frames(), fps=10)
    (tmp_path / "notes.txt").write_text("not a folder\n")
    (tmp_path / "fake.mp4").write_text("this is text, not a video\n")
    Image.fromarray(moving_square_frames(1)[0]).save(tmp_path / "still.png")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder no file can be created in: read-only by its mode, or, for root (whom modes do not stop), sysfs."""
    if os.geteuid() == 0:
        return Path("/sys")
    folder = tmp_path / "read_only"
    folder.mkdir()
    folder.chmod(0o555)
    return folder


def assert_error(code, err, command: str, expected: str, exit_code: int = 1):
    """One line `macm COMMAND: error: ...` holding `expected` (argparse's usage line may precede it, exit 2)."""
    assert code == exit_code
    lines = err.strip().splitlines()
    if exit_code == 1:
        assert len(lines) == 1, err
    assert lines[-1].startswith(f"macm {command}: error: "), err
    assert expected in lines[-1], err


# (argv, expected message, exit code): the command's own checks, before any model or pose run.
CASES = [
    (["caption", "missing.mp4"], "missing.mp4: no such file; give a video file", 1),
    (
        ["caption", "clip.mp4", "--model", "no/such/folder"],
        "--model no/such/folder: no such folder; check the path",
        1,
    ),
    (["caption", "clip.mp4", "--model", "notes.txt"], "--model notes.txt: that is a file; give a model folder", 1),
    (["caption", "clip.mp4", "--backend", "bogus"], "argument --backend: invalid choice: 'bogus'", 2),
    (["caption", "clip.mp4", "--max-new-tokens", "-5"], "argument --max-new-tokens: must be at least 1, got -5", 2),
    (["caption", "clip.mp4", "--max-new-tokens", "many"], "argument --max-new-tokens: expected a whole number", 2),
    (["caption", "clip.mp4", "--decoding", "beam"], "argument --decoding: invalid choice: 'beam'", 2),
    (["caption", "notes_dir"], "the folder 'notes_dir' holds no video", 1),
    (
        ["caption", "clip.mp4", "--srt", "notes.txt/out.srt"],
        "--srt notes.txt/out.srt: notes.txt is a file, not a folder",
        1,
    ),
    (["caption", "clip.mp4", "--vtt", "."], "--vtt .: that is a folder; give a file path", 1),
    (["motion", "clip.mp4", "-o", "track.json"], "-o must end in .npz, got 'track.json'", 2),
    (
        ["motion", "clip.mp4", "-o", "notes.txt/track.npz"],
        "-o notes.txt/track.npz: notes.txt is a file, not a folder",
        1,
    ),
    (["motion", "missing.mp4", "-o", "track.npz"], "missing.mp4: no such file; give a video file", 1),
    (["motion", "clip.mp4", "-o", "t.npz", "--overlay", "preview.avi"], "--overlay writes an H.264 mp4", 2),
    (["motion", "clip.mp4", "-o", "t.npz", "--keyframes", "0"], "argument --keyframes: must be at least 1, got 0", 2),
    (["motion", "clip.mp4", "-o", "t.npz", "--max-fps", "-2"], "--max-fps must be positive", 2),
    (
        ["motion", "clip.mp4", "-o", "t.npz", "--backend", "openpose"],
        "argument --backend: invalid choice: 'openpose'",
        2,
    ),
    (["motion", "fake.mp4", "-o", "t.npz"], "could not be opened as a video", 1),
    (["build", "no_such_source", "--format", "hmi-bench", "-o", "out"], "no_such_source", 1),
    (["build", "notes_dir", "--format", "parquet", "-o", "out"], "argument --format: invalid choice: 'parquet'", 2),
    (["build", "notes_dir", "--format", "hmi-bench", "--shard", "3/2"], "--shard i/n needs 0 <= i < n, got '3/2'", 2),
    (["build", "notes_dir", "--format", "hmi-bench", "--num-proc", "0"], "--num-proc must be >= 1, got 0", 2),
    (
        ["train", "--dataset_name", "no/such/dataset", "--stage", "align", "--bf16", "false"],
        "--dataset_name no/such/dataset: no such folder",
        1,
    ),
    (
        [
            "train",
            "--dataset_name",
            "notes_dir",
            "--stage",
            "align",
            "--bf16",
            "false",
            "--model_name_or_path",
            "gone/away/model",
        ],
        "--model_name_or_path gone/away/model: no such folder",
        1,
    ),  # fmt: skip
    (
        ["train", "--dataset_name", "notes_dir", "--stage", "bogus"],
        "stage must be one of ('align', 'instruct', 'full')",
        1,
    ),
    (["train", "--config", "missing.yaml"], "missing.yaml", 1),
    (
        ["eval", "--model", "macm", "--dataset", "no_such_dataset", "-o", "out"],
        "--dataset no_such_dataset: not an HMI dataset folder",
        1,
    ),
    (
        ["eval", "--model", "macm", "--dataset", "d", "-o", "o", "--judge-url", "http://x/v1"],
        "--judge-url needs --judge-model",
        2,
    ),
    (
        ["eval", "--model", "macm", "--dataset", "d", "-o", "o", "--batch-size", "0"],
        "argument --batch-size: must be at least 1",
        2,
    ),
    (["demo", "--model", "no/such/checkpoint"], "--model no/such/checkpoint: no such folder; check the path", 1),
    (["demo", "--port", "http"], "argument --port: invalid int value: 'http'", 2),
]


@pytest.mark.parametrize("argv, expected, exit_code", CASES, ids=[" ".join(case[0]) for case in CASES])
def test_cli_bad_input(workdir, capsys, argv, expected, exit_code):
    (workdir / "notes_dir").mkdir()
    before = snapshot(workdir)
    code, out, err = run(capsys, argv)
    assert_error(code, err, argv[0], expected, exit_code)
    assert out == ""
    assert snapshot(workdir) == before  # nothing written, nothing changed


def test_eval_output_is_a_file(workdir, capsys):
    (workdir / "data").mkdir()
    (workdir / "data" / "README.md").write_text("---\nconfigs: []\n---\n")
    before = snapshot(workdir)
    code, _, err = run(capsys, ["eval", "--model", "macm", "--dataset", "data", "-o", "notes.txt"])
    assert_error(code, err, "eval", "-o notes.txt: that is a file; give a folder for the results")
    assert snapshot(workdir) == before


def test_motion_unwritable_outputs_fail_before_the_pose_run(workdir, capsys):
    """An unwritable -o or --overlay stops the command at once: no pose run, no track left behind."""
    folder = unwritable_folder(workdir)
    before = snapshot(workdir)
    for argv, option in (
        (["motion", "clip.mp4", "-o", str(folder / "t.npz")], "-o"),
        (["motion", "clip.mp4", "-o", "t.npz", "--overlay", str(folder / "preview.mp4")], "--overlay"),
    ):
        start = time.perf_counter()
        code, _, err = run(capsys, argv)
        assert_error(code, err, "motion", f"{option} {folder}")
        assert "cannot write in" in err and "choose another path" in err
        assert time.perf_counter() - start < 2.0  # refused before MediaPipe ran
    assert snapshot(workdir) == before


def test_caption_hub_id_offline_fails_at_once(workdir, capsys, monkeypatch):
    """A Hub id that is no folder, with the Hub offline: one line at once, not a minute of retries."""
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    before = snapshot(workdir)
    start = time.perf_counter()
    code, _, err = run(capsys, ["caption", "clip.mp4", "--model", "nosuchuser/model"])
    assert_error(
        code,
        err,
        "caption",
        "--model nosuchuser/model: no such folder, and not in the Hugging Face cache; a Hub id needs network",
    )
    assert time.perf_counter() - start < 2.0
    assert snapshot(workdir) == before


def test_caption_folder_without_config(workdir, capsys):
    """An existing folder that is not a checkpoint: transformers' complaint, as one line."""
    (workdir / "empty_model").mkdir()
    before = snapshot(workdir)
    code, _, err = run(capsys, ["caption", "clip.mp4", "--model", "empty_model"])
    assert_error(code, err, "caption", "empty_model")
    assert snapshot(workdir) == before


def test_caption_unreadable_video_with_a_model(workdir, capsys, tiny_checkpoint):
    before = snapshot(workdir)
    code, out, err = run(capsys, ["caption", "fake.mp4", "--model", tiny_checkpoint, "--no-motion"])
    assert_error(code, err, "caption", "'fake.mp4' could not be opened as a video")
    assert out == ""
    assert snapshot(workdir) == before


@pytest.mark.parametrize("name", ["still.png", "one.mp4"])
def test_caption_of_a_still_input_describes_no_action(workdir, capsys, name):
    """An image or a one-frame video is not an error, and gets no invented actions (here: nobody in it)."""
    write_video(workdir / "one.mp4", moving_square_frames(1), fps=10)
    before = snapshot(workdir)
    code, out, _ = run(capsys, ["caption", name])
    assert code == 0 and out.strip() == NOBODY_CAPTION
    assert snapshot(workdir) == before


@pytest.fixture(scope="module")
def silent_checkpoint(tmp_path_factory, tokenizer):
    """A tiny checkpoint whose generation config suppresses every token but end-of-text: it generates nothing."""
    path = tmp_path_factory.mktemp("silent_macm")
    config = tiny_config(tokenizer)
    model = tiny_model(config)
    model.generation_config.suppress_tokens = [i for i in range(len(tokenizer)) if i != tokenizer.eos_token_id]
    model.save_pretrained(path)
    tiny_processor(tokenizer, config).save_pretrained(path)
    return str(path)


def test_caption_empty_generation_is_an_error(workdir, capsys, silent_checkpoint):
    before = snapshot(workdir)
    code, out, err = run(capsys, ["caption", "clip.mp4", "--model", silent_checkpoint, "--no-motion"])
    assert_error(code, err, "caption", "clip.mp4: the model generated no text; check the checkpoint (--model)")
    assert out == ""  # no empty caption printed
    assert snapshot(workdir) == before
    # Nor an answer read from the empty caption ("None: the caption names no squat.").
    code, out, err = run(
        capsys,
        ["ask", "clip.mp4", "How many times does the person squat?", "--model", silent_checkpoint, "--no-motion"],
    )
    assert_error(code, err, "caption", "clip.mp4: the model generated no text; check the checkpoint (--model)")
    assert out == ""


def test_caption_json_counts_tokens_and_total_time(workdir, capsys, tiny_checkpoint):
    import json

    code, out, err = run(
        capsys, ["caption", "clip.mp4", "--model", tiny_checkpoint, "--no-motion", "--json", "--max-new-tokens", "5"]
    )
    assert code == 0, err
    timings = json.loads(out)["timings"]
    assert isinstance(timings["new_tokens"], int) and 0 <= timings["new_tokens"] <= 5
    assert timings["total"] >= timings["generate"] > 0


def test_python_api_missing_model(tmp_path):
    with pytest.raises(UserError, match="--model .*: no such folder; check the path"):
        MACMCaptioner.from_pretrained(tmp_path / "nothing" / "here")


def test_python_api_bad_decoding(video_path, tiny_checkpoint):
    captioner = MACMCaptioner.from_pretrained(tiny_checkpoint)
    with pytest.raises(ValueError, match="decoding must be 'grounded', 'greedy', 'sample' or 'msd', got 'beam'"):
        captioner(video_path, use_motion=False, decoding="beam")


def test_python_api_one_video_where_a_list_is_taken(video_path, tiny_checkpoint):
    # A path's characters were taken for videos: "'/' is a folder, not a video file."
    captioner = MACMCaptioner.from_pretrained(tiny_checkpoint)
    with pytest.raises(TypeError, match=r"caption\(\) takes a list of videos, got one str: pass \[video\]"):
        captioner.caption(str(video_path), use_motion=False)
    assert captioner.caption([str(video_path)], use_motion=False, max_new_tokens=4)[0].caption


def test_python_api_unreadable_video(workdir, tiny_checkpoint):
    captioner = MACMCaptioner.from_pretrained(tiny_checkpoint)
    with pytest.raises(VideoReadError, match="could not be opened as a video"):
        captioner(str(workdir / "fake.mp4"), use_motion=False)


def long_track(num_frames: int, fps: float = 10.0) -> MotionTrack:
    """A person standing with the left arm going up and down, `num_frames` frames at `fps`."""
    rng = np.random.default_rng(0)
    joints = np.repeat(rng.normal(0, 0.3, (1, NUM_JOINTS, 3)), num_frames, axis=0).astype(np.float32)
    joints[:, 20, 1] += np.sin(np.arange(num_frames) / fps * 2).astype(np.float32)
    keypoints = np.concatenate([rng.uniform(10, 40, (num_frames, len(MEDIAPIPE_LANDMARK_NAMES), 2)),
                                np.ones((num_frames, len(MEDIAPIPE_LANDMARK_NAMES), 1))], axis=-1)  # fmt: skip
    return MotionTrack(fps=fps, frame_size=(48, 48), keypoints_2d=keypoints.astype(np.float32), joints_3d=joints,
                       valid=np.ones(num_frames, bool), backend="mediapipe")  # fmt: skip


def test_training_resamples_a_clip_longer_than_the_motion_window(tokenizer, video_path):
    """`macm synth` clips run up to ~10 s; the tiny recipe's window is 64 frames (6.4 s at 10 fps). Training
    reads such a clip whole at a lower rate; inference still refuses it (it cuts long videos into segments)."""
    from dataset_scripts.schema import track_to_row
    from train.collator import MACMCollator

    config = tiny_config(tokenizer, "kinematic")
    processor = tiny_processor(tokenizer, config)
    track = long_track(95)  # 9.5 s at 10 fps: 95 kinematic frames, more than motion_max_frames=64
    with pytest.raises(ValueError, match="Kinematic motion has 95 frames, more than motion_max_frames=64"):
        processor(text=processor.default_prompt(), videos=[video_path], motion=[track])
    example = {"id": "long", "video": video_path, "prompt": "Describe.", "answer": "The person raises the left arm.",
               "motion": track_to_row(track)}  # fmt: skip
    batch = MACMCollator(processor)([example])
    assert batch["motion_features"].shape == (1, 64, 202)  # the whole 9.5 s at 64 / 9.5 = 6.7 fps
    assert bool(batch["motion_attention_mask"].all())
    assert processor.long_motion == "error"  # the collator's copy resamples; the saved processor is unchanged
    torch.manual_seed(0)
    loss = tiny_model(config)(**batch).loss
    assert torch.isfinite(loss)


def run_subprocess(args: list[str], cwd: Path, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "macm_cli", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)  # fmt: skip


def test_real_exit_codes_and_debug(workdir):
    """As a user runs it: one line and exit 1; argparse's exit 2; `--debug` or MACM_DEBUG=1 show the traceback."""
    before = snapshot(workdir)
    plain = run_subprocess(["motion", "missing.mp4", "-o", "t.npz"], workdir)
    assert plain.returncode == 1
    assert plain.stderr == "macm motion: error: missing.mp4: no such file; give a video file.\n"
    usage = run_subprocess(["caption", "clip.mp4", "--backend", "bogus"], workdir)
    assert usage.returncode == 2 and "invalid choice: 'bogus'" in usage.stderr
    for debug in (run_subprocess(["--debug", "motion", "missing.mp4", "-o", "t.npz"], workdir),
                  run_subprocess(["motion", "missing.mp4", "-o", "t.npz"], workdir, MACM_DEBUG="1")):  # fmt: skip
        assert debug.returncode == 1
        assert "Traceback (most recent call last)" in debug.stderr
        assert "macm_cli.UserError: missing.mp4: no such file" in debug.stderr
    assert snapshot(workdir) == before


@pytest.mark.slow
def test_space_shows_the_error_and_removes_its_files(tiny_checkpoint, monkeypatch):
    """The Space's error box gets the real message, and a request's overlay and subtitles go once it is served."""
    gr = pytest.importorskip("gradio")
    from space import app

    monkeypatch.setattr(app, "MODEL_PATH", tiny_checkpoint)
    example = str(sorted(app.EXAMPLES_DIR.glob("*.mp4"))[0])
    num_keyframes = app.load_captioner(tiny_checkpoint).model.config.num_keyframes
    args = [example, True, "greedy", app.MSD_ALPHA_DEFAULT, 0.2, 2.0, 4, num_keyframes, "", 8]
    outputs = list(app.caption_video(*args))
    overlay, subtitles = outputs[0][1], outputs[-1][5]
    assert overlay is not None and subtitles is not None
    assert not Path(overlay).parent.exists()  # the request's folder is gone after the last output

    # A failure inside generation (transformers refuses max_new_tokens=0) reaches the page with its message.
    with pytest.raises(gr.Error) as error:
        list(app.caption_video(example, False, "greedy", app.MSD_ALPHA_DEFAULT, 0.2, 2.0, 4, num_keyframes, "", 0))
    assert "max_new_tokens" in error.value.message
