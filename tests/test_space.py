"""The Gradio Space: driven over HTTP with gradio_client and in Debian's Chromium with Playwright, against
the app launched in this process on a tiny random checkpoint (captions are gibberish; the plumbing is
what is checked: the caption the page shows is the one the captioner gives for the same input)."""

import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

gr = pytest.importorskip("gradio")
from gradio_client import Client, handle_file  # noqa: E402

from macm_cli.captioner import NOBODY_CAPTION, STILL_CAPTION  # noqa: E402
from processing_macm import probe_video  # noqa: E402
from processing_macm.motion_track import MotionTrack  # noqa: E402
from processing_macm.video_io import read_video, write_video  # noqa: E402
from space import app  # noqa: E402

# An HMI-Synth clip of a person moving, shorter than the tiny model's 6.4 s motion window: captioned in one piece.
EXAMPLE = str(min(app.EXAMPLES_DIR.glob("*.mp4"), key=lambda path: probe_video(path).duration))
NUM_FRAMES, MAX_NEW_TOKENS = 4, 24


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tiny_checkpoint):
    saved = app.MODEL_PATH
    app.MODEL_PATH = tiny_checkpoint
    _, url, _ = app.demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    yield url
    app.demo.close()
    app.MODEL_PATH = saved


@pytest.fixture(scope="module")
def client(server):
    return Client(server, verbose=False)


@pytest.fixture(scope="module")
def num_keyframes(tiny_checkpoint):
    return app.load_captioner(tiny_checkpoint).model.config.num_keyframes


def request(
    video,
    num_keyframes,
    decoding="greedy",
    use_motion=True,
    alpha=app.MSD_ALPHA_DEFAULT,
    num_frames=NUM_FRAMES,
    question="",
):
    """The `/caption` endpoint's arguments, in order."""
    return (
        handle_file(video),
        use_motion,
        decoding,
        alpha,
        0.2,
        2.0,
        num_frames,
        num_keyframes,
        question,
        MAX_NEW_TOKENS,
    )


def expected_caption(checkpoint, video, max_new_tokens=MAX_NEW_TOKENS, **options) -> str:
    return app.load_captioner(checkpoint)(video, max_new_tokens=max_new_tokens, **options).caption


@pytest.mark.slow
def test_caption_overlay_and_plot(client, tiny_checkpoint, num_keyframes):
    job = client.submit(*request(EXAMPLE, num_keyframes), api_name="/caption")
    caption, overlay, plot, notice, timeline, subtitles = job.result(timeout=120)
    assert caption and caption == expected_caption(tiny_checkpoint, EXAMPLE)
    assert timeline is None or not timeline["data"]  # a short clip has no timeline, and its subtitles are one cue
    assert (
        Path(subtitles)
        .read_text()
        .startswith(f"1\n00:00:00,000 --> 00:00:{probe_video(EXAMPLE).duration:06.3f}".replace(".", ","))
    )
    assert probe_video(overlay).num_frames == probe_video(EXAMPLE).num_frames
    assert plot["type"] == "matplotlib" and plot["plot"].startswith("data:image/")
    assert notice.startswith("Motion used") and notice.count(" s") == num_keyframes
    # Streaming: the motion comes first with no caption, then the caption grows token by token.
    captions = [output[0] for output in job.outputs()]
    assert captions[0] == "" and len(captions) > 3
    assert all(a.strip() in b for a, b in zip(captions[1:-1], captions[2:-1]))


def test_msd_streams_the_captioners_msd_caption(client, tiny_checkpoint, num_keyframes):
    job = client.submit(*request(EXAMPLE, num_keyframes, "msd"), api_name="/caption")
    caption = job.result(timeout=120)[0]
    assert caption == expected_caption(tiny_checkpoint, EXAMPLE, decoding="msd")
    captions = [output[0] for output in job.outputs()]
    assert captions[0] == "" and len(captions) > 3
    assert all(a.strip() in b for a, b in zip(captions[1:-1], captions[2:-1]))


def test_frame_count_applies_to_its_request_only(client, tiny_checkpoint, num_keyframes, video_path):
    processor = app.load_captioner(tiny_checkpoint).processor
    assert processor.num_frames == NUM_FRAMES
    caption = client.predict(*request(video_path, num_keyframes, num_frames=2 * NUM_FRAMES), api_name="/caption")[0]
    assert processor.num_frames == NUM_FRAMES
    processor.num_frames = 2 * NUM_FRAMES
    try:
        assert caption == expected_caption(tiny_checkpoint, video_path)
    finally:
        processor.num_frames = NUM_FRAMES


def test_a_still_person_is_stated_with_the_reason(client, tiny_checkpoint, num_keyframes, walking_clip, tmp_path):
    frames, _ = read_video(walking_clip)
    still = str(write_video(tmp_path / "still.mp4", np.repeat(frames[:1], 20, axis=0), fps=10))
    caption, _, _, notice, _, _ = client.predict(*request(still, num_keyframes), api_name="/caption")
    assert caption == STILL_CAPTION
    assert notice.startswith("Motion used") and "stated, not described — still: the person does not move" in notice


def test_a_question_is_answered_from_the_streamed_caption(client, tiny_checkpoint, num_keyframes):
    question = "How many times does the person squat?"
    job = client.submit(*request(EXAMPLE, num_keyframes, question=question), api_name="/caption")
    answer, _, _, notice, _, _ = job.result(timeout=120)
    expected = app.load_captioner(tiny_checkpoint)(
        EXAMPLE, prompt=question, decoding="greedy", max_new_tokens=MAX_NEW_TOKENS
    )
    assert answer == expected.caption and expected.described and answer != expected.described
    assert notice.endswith(
        f"The answer is read from the video, its motion and the model's caption: “{expected.described}”"
    )
    streamed = [output[0] for output in job.outputs()]
    assert streamed[-2].strip() == expected.described  # the caption streams, then the answer replaces it


def test_no_person_is_stated_with_a_notice(client, tiny_checkpoint, num_keyframes, video_path):
    caption, overlay, plot, notice, _, _ = client.predict(*request(video_path, num_keyframes), api_name="/caption")
    assert caption == expected_caption(tiny_checkpoint, video_path)
    assert caption == NOBODY_CAPTION  # stated, not generated (README: honest outputs)
    assert overlay is None and plot is None
    assert "No person was found" in notice


@pytest.mark.slow
def test_four_concurrent_requests_all_complete(client, tiny_checkpoint, num_keyframes, video_path):
    videos = [EXAMPLE, video_path, EXAMPLE, video_path]
    jobs = [client.submit(*request(video, num_keyframes), api_name="/caption") for video in videos]
    with ThreadPoolExecutor(4) as pool:
        captions = list(pool.map(lambda job: job.result(timeout=240)[0], jobs))
    assert captions == [expected_caption(tiny_checkpoint, video) for video in videos]


def test_an_unreadable_upload_is_logged_with_the_readers_detail(tmp_path, capsys):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(gr.Error) as error:
        app.check_video(str(text))
    assert str(tmp_path) not in error.value.message
    log = capsys.readouterr().err
    assert "VideoReadError" in log and str(text) in log


def test_bad_uploads_get_an_error_and_the_app_keeps_serving(client, num_keyframes, tmp_path, monkeypatch, video_path):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(Exception, match="notes.mp4 is not a readable video. Upload an mp4"):
        client.predict(*request(str(text), num_keyframes), api_name="/caption")
    with pytest.raises(Exception, match="MSD α needs six numbers"):
        client.predict(*request(video_path, num_keyframes, "msd", alpha="0.5, 0.2"), api_name="/caption")
    with pytest.raises(Exception, match="reads exactly 2 keyframes"):
        client.predict(*request(video_path, num_keyframes + 1), api_name="/caption")
    monkeypatch.setattr(app, "MAX_SECONDS", 0.5)  # the server runs in this process
    with pytest.raises(Exception, match="Trim it and upload again"):
        client.predict(*request(video_path, num_keyframes), api_name="/caption")
    monkeypatch.undo()
    assert client.predict(*request(video_path, num_keyframes, use_motion=False), api_name="/caption")[0]


@pytest.mark.slow
def test_long_clip_gets_a_timeline_and_subtitles(client, tiny_checkpoint, num_keyframes, tmp_path):
    """A clip longer than the model's motion window (12.8 s): captioned in segments, shown as a timeline with an .srt."""
    import srt
    from utils import moving_square_frames

    from processing_macm import write_video

    video = str(write_video(tmp_path / "long.mp4", moving_square_frames(140), fps=10))  # 14 s, nobody in it
    # Motion off: with it, nobody found is stated for the whole video (one segment).
    predicted = client.predict(*request(video, num_keyframes, use_motion=False), api_name="/caption")
    caption, _, _, _, timeline, subtitles = predicted
    expected = app.load_captioner(tiny_checkpoint)(video, max_new_tokens=MAX_NEW_TOKENS, use_motion=False)
    # The tiny model reads 6.4 s of motion (64 frames at 10 fps): three equal pieces, without a track to follow.
    assert caption == expected.caption and [(s["start"], s["end"]) for s in expected.segments] == [
        (0, 4.667),
        (4.667, 9.333),
        (9.333, 14),
    ]
    assert timeline["data"] == [["[00:00–00:05]", expected.segments[0]["caption"]], ["[00:05–00:09]", expected.segments[1]["caption"]],
                                ["[00:09–00:14]", expected.segments[2]["caption"]]]  # fmt: skip
    cues = list(srt.parse(Path(subtitles).read_text()))
    assert [(c.start.total_seconds(), c.end.total_seconds(), c.content) for c in cues] == [
        (s["start"], s["end"], s["caption"]) for s in expected.segments
    ]


def test_speed_plot_shows_each_body_part_and_the_keyframes():
    joints = np.zeros((20, 22, 3), np.float32)
    joints[:, 20, 1] = np.arange(20) * 0.1  # the left wrist rises 0.1 m per frame at 10 fps: 1 m/s
    track = MotionTrack(10.0, (64, 64), np.zeros((20, 33, 3)), joints, np.ones(20, bool), "test")
    axes = app.speed_plot(track, [3, 12]).axes[0]
    lines = {line.get_label(): line.get_ydata() for line in axes.get_lines() if not line.get_label().startswith("_")}
    assert list(lines) == list(app.BODY_PARTS)
    np.testing.assert_allclose(lines["left arm"], 1 / 3, rtol=1e-5)  # one of the arm's three joints moves
    np.testing.assert_allclose(lines["right leg"], 0.0)
    assert len(axes.get_lines()) == len(app.BODY_PARTS) + 2


@pytest.mark.slow
def test_browser_uploads_a_clip_and_shows_the_caption(server, tiny_checkpoint, tmp_path):
    from playwright import sync_api

    if not Path("/usr/bin/chromium").exists():
        pytest.fail("Debian's chromium is missing: `bash scripts/setup.sh --dev` installs it.")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1100})
            page.goto(server)
            page.get_by_text("overlay motion pathway").wait_for(timeout=30_000)  # the model's settings loaded
            page.locator("input[type=file]").first.set_input_files(EXAMPLE)
            page.locator("video").first.wait_for(timeout=30_000)
            page.get_by_role("button", name="Caption", exact=True).click()
            # The page's defaults come from the model (frames, keyframes), the rest from the controls.
            expected = expected_caption(tiny_checkpoint, EXAMPLE, max_new_tokens=96)
            sync_api.expect(page.locator("#caption textarea")).to_have_value(expected, timeout=120_000)
            sync_api.expect(page.get_by_text("Motion used")).to_be_visible()
            page.locator("#overlay video").wait_for(timeout=30_000)
            page.screenshot(path=str(tmp_path / "space.png"), full_page=True)
        finally:
            browser.close()
