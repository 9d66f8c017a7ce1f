"""Honest outputs and the choice of person: nobody found, a person who does not move, several people.
Real videos nobody here made (OpenCV's vtest.avi, Gradio's world.mp4) and the shipped default model."""

import dataclasses

import numpy as np
import pytest
from real_videos import world_path

from macm_cli.captioner import (
    GLIMPSED_CAPTION,
    LOWEST_FPS,
    NOBODY_CAPTION,
    POSTURE_ENERGY,
    SEEN_AT_LEAST,
    SHORT_CAPTION,
    SHORTEST_SECONDS,
    SPARSE_CAPTION,
    STILL_CAPTION,
    MACMCaptioner,
    _stated_caption,
)
from processing_macm.kinematic import STILL_ENERGY, articulated_energy_2d, held_still, motion_energy
from processing_macm.motion_track import MotionTrack
from processing_macm.pose_backends import extract_motion
from processing_macm.video_io import iter_frames, read_video, write_video


def swaying_track(amplitude: float, num_frames: int = 30) -> MotionTrack:
    """A person 1.7 m tall (P = 22 keypoints) whose right wrist swings sideways by `amplitude` metres."""
    joints = np.zeros((num_frames, 22, 3), np.float32)
    joints[:, :, 1] = np.linspace(-0.9, 0.8, 22)  # spread from the feet to the head
    joints[:, 21, 0] += amplitude * np.sin(np.arange(num_frames) / 2)
    keypoints = np.concatenate([joints[..., :2] * [100, -100] + [200, 200], np.ones((num_frames, 22, 1))], axis=-1)
    return MotionTrack(
        fps=10,
        frame_size=(400, 400),
        keypoints_2d=keypoints,
        joints_3d=joints,
        valid=np.ones(num_frames, bool),
        backend="test",
    )


def test_stated_captions_follow_the_rules():
    nobody = MotionTrack.empty(10, 10, (64, 64), "test")
    assert _stated_caption(nobody)[0] == NOBODY_CAPTION and _stated_caption(nobody)[1].startswith("no person:")
    still, moving = swaying_track(0.01), swaying_track(0.3)
    assert motion_energy(still) < STILL_ENERGY < motion_energy(moving)
    assert _stated_caption(still)[0] == STILL_CAPTION and _stated_caption(still)[1].startswith("still:")
    assert _stated_caption(moving) is None
    hidden = swaying_track(0.3)
    hidden.keypoints_2d[:, 21, 2] = 0.1  # the swinging wrist is not seen: its guesses are no motion
    assert _stated_caption(hidden)[0] == STILL_CAPTION
    glimpsed, seen = swaying_track(0.3), swaying_track(0.3)
    glimpsed.valid[: round(30 * (1 - SEEN_AT_LEAST)) + 1] = False  # found in just under half of the frames
    seen.valid[: round(30 * (1 - SEEN_AT_LEAST))] = False  # in half of them
    assert _stated_caption(glimpsed)[0] == GLIMPSED_CAPTION
    assert _stated_caption(glimpsed)[1].startswith("glimpsed: the person was found in 47% of the frames")
    assert _stated_caption(seen) is None
    short, long_enough = swaying_track(0.3, num_frames=9), swaying_track(0.3, num_frames=10)  # 0.9 s and 1 s at 10 fps
    assert SHORTEST_SECONDS == 1.0 and _stated_caption(short)[0] == SHORT_CAPTION
    assert _stated_caption(short)[1] == "short: the clip lasts 0.90 s (under 1 s), too short to show a movement"
    assert _stated_caption(long_enough) is None
    assert _stated_caption(swaying_track(0.01, num_frames=3))[0] == STILL_CAPTION  # still, however short
    sparse = dataclasses.replace(swaying_track(0.3), fps=2.0)  # 15 s at 2 frames a second
    assert LOWEST_FPS == 3.0 and _stated_caption(sparse)[0] == SPARSE_CAPTION
    assert (
        _stated_caption(sparse)[1] == "sparse: the video runs at 2 fps (under 3), too few frames to follow a movement"
    )
    assert _stated_caption(dataclasses.replace(swaying_track(0.3), fps=3.0)) is None


def test_a_shaking_camera_moves_the_body_whole_in_the_image():
    rng = np.random.default_rng(0)
    shaken, waving = swaying_track(0.0), swaying_track(0.3)
    for track in (shaken, waving):
        track.joints_3d[:] += rng.normal(0, 0.1, track.joints_3d.shape)  # MediaPipe's 3D jitter
        angle, zoom, shift = rng.normal(0, 0.05, 30), 1 + rng.normal(0, 0.05, 30), rng.normal(0, 5, (30, 1, 2))
        turn = np.stack([np.cos(angle), -np.sin(angle), np.sin(angle), np.cos(angle)], -1).reshape(30, 2, 2)
        centred = track.keypoints_2d[..., :2] - 200
        track.keypoints_2d[..., :2] = 200 + zoom[:, None, None] * centred @ turn.transpose(0, 2, 1) + shift
    assert articulated_energy_2d(shaken) < 0.01 < 0.15 < articulated_energy_2d(waving)
    assert motion_energy(shaken, steady=True) < POSTURE_ENERGY < motion_energy(shaken)  # the jitter is left out
    assert motion_energy(waving, steady=True) > POSTURE_ENERGY  # the wave is not
    assert articulated_energy_2d(MotionTrack.empty(10, 10, (64, 64), "test")) == 0.0


def test_a_track_held_still_keeps_one_posture():
    track = swaying_track(0.3)
    track.valid[:5] = False
    held = held_still(track, 12)
    assert held.valid.tolist() == track.valid.tolist() and motion_energy(held) == 0.0
    assert (held.joints_3d == track.joints_3d[12]).all() and (held.keypoints_2d == track.keypoints_2d[12]).all()
    with pytest.raises(ValueError, match="Frame 3 of the track has no person to hold still"):
        held_still(track, 3)


@pytest.fixture(scope="module")
def captioner():
    return MACMCaptioner.from_pretrained("macm")


@pytest.mark.slow
def test_nobody_and_still_inputs_are_stated_not_described(captioner, walking_clip, tmp_path):
    from PIL import Image

    globe = write_video(tmp_path / "globe.mp4", [frame for i, _, frame in iter_frames(world_path()) if i < 20], fps=10)
    frames, _ = read_video(walking_clip)
    Image.fromarray(frames[0]).save(tmp_path / "walker.png")
    still = write_video(tmp_path / "still.mp4", np.repeat(frames[:1], 20, axis=0), fps=10)
    one = write_video(tmp_path / "one.mp4", frames[:1], fps=10)
    results = captioner.caption([str(globe), str(tmp_path / "walker.png"), str(still), str(one)])
    assert (results[0].caption, results[0].motion_used) == (NOBODY_CAPTION, False)
    assert results[0].notice.startswith("no person:")
    for result in results[1:]:
        assert (result.caption, result.motion_used) == (STILL_CAPTION, True), result
        assert result.notice.startswith("still:")
    walking = captioner(str(walking_clip))  # the same person walking is described by the model
    assert walking.caption not in (STILL_CAPTION, NOBODY_CAPTION) and walking.motion_used and walking.notice is None


@pytest.mark.slow
def test_a_person_seen_in_few_frames_is_not_described(captioner, walking_clip, tmp_path):
    frames, _ = read_video(walking_clip)
    empty = np.full((40, *frames.shape[1:]), 96, np.uint8)  # 4 s of an empty grey scene, then 2 s of the walker
    result = captioner(str(write_video(tmp_path / "passing.mp4", [*empty, *frames[:20]], fps=10)))
    assert (result.caption, result.motion_used) == (GLIMPSED_CAPTION, True)
    assert result.notice.startswith("glimpsed: the person was found in ")


@pytest.mark.slow
def test_a_moving_person_in_a_clip_under_a_second_or_at_2_fps_is_not_described(captioner, walking_clip, tmp_path):
    frames, _ = read_video(walking_clip)
    clip = str(write_video(tmp_path / "blink.mp4", frames[:3], fps=10))  # 0.3 s of the walker
    result = captioner.caption([clip], prompt="How many times does the person kick?")[0]
    assert (result.caption, result.motion_used) == (SHORT_CAPTION, True)
    assert result.notice == "short: the clip lasts 0.30 s (under 1 s), too short to show a movement"
    every_fifth = str(write_video(tmp_path / "sparse.mp4", frames[::5], fps=2))  # the 6 s walk at 2 fps
    result = captioner(every_fifth)
    assert (result.caption, result.notice.split(":")[0]) == (SPARSE_CAPTION, "sparse")


@pytest.fixture(scope="module")
def distant_person(tmp_path_factory):
    """HMI-Synth seed 6, clip 846, rendered here: a person ~40 px tall, 10 m away, in a 240x180 frame with a
    photograph behind, whom MediaPipe's detector never finds on the whole frame (HOG does, on the frame enlarged, and
    MediaPipe's landmark model on their crop). Its `[T, H, W, 3]` frames at 10 fps."""
    from dataset_scripts.synth import make_clip

    folder = tmp_path_factory.mktemp("distant")
    for name in ("videos", "joints"):
        (folder / name).mkdir()
    row = make_clip(folder, seed=6, index=846, size=192)
    assert (row["camera"]["width"], row["camera"]["height"], row["fps"]) == (240, 180, 30) and row["camera"][
        "span"
    ] < 0.25
    return np.stack([frame for index, _, frame in iter_frames(folder / row["video"]) if index % 3 == 0])


@pytest.mark.slow
def test_a_small_distant_person_is_found(distant_person):
    track = extract_motion(distant_person, fps=10, progress=False)
    assert track.valid.mean() > 0.8
    heights = np.ptp(track.keypoints_2d[track.valid, :, 1], axis=1)
    assert np.median(heights) < 50  # pixels: the small person, not a large false find


@pytest.mark.slow
def test_frames_before_a_late_find_are_read_backwards(distant_person, monkeypatch):
    import processing_macm.pose_mediapipe as pose_mediapipe

    # Black frames, then the distant person from frame 12: the whole-frame detector misses them and the HOG search
    # runs again at frame 20 (SEARCH_EVERY), so frames 12-19 are found only by following the person back from 20.
    frames = distant_person.copy()
    frames[:12] = 0
    late = 12, pose_mediapipe.SEARCH_EVERY * 2
    track = extract_motion(frames, fps=10, progress=False)
    assert not track.valid[: late[0]].any() and track.valid[late[0] : late[1]].mean() >= 0.75
    monkeypatch.setattr(pose_mediapipe, "BACKTRACK_BYTES", 0)  # nothing kept to go back to
    assert not extract_motion(frames, fps=10, progress=False).valid[: late[1]].any()


def test_a_body_read_on_its_head_is_not_a_person():
    from processing_macm.pose_mediapipe import _upside_down

    def body(shoulders: float, hips: float, ankles: float) -> np.ndarray:
        image = np.zeros((33, 3), np.float32)
        image[[11, 12], 1], image[[23, 24], 1], image[[27, 28], 1] = shoulders, hips, ankles  # y, down the picture
        return image

    assert not _upside_down(body(20, 60, 100))  # standing
    assert not _upside_down(body(70, 50, 100))  # bent forward: the hips above the shoulders, the feet on the floor
    assert not _upside_down(body(50, 50, 52))  # lying down
    assert not _upside_down(body(84, 83, 67))  # crouched, the hidden ankles guessed upward: the hips in the frame
    assert _upside_down(body(10, -96, -193))  # the frame-edge reading below: a head with a body guessed upward


@pytest.mark.slow
def test_a_person_read_into_the_frame_edge_is_not_followed(tmp_path):
    from dataset_scripts.synth import make_clip

    for folder in ("videos", "joints"):
        (tmp_path / folder).mkdir()
    # HMI-Synth seed 6, clip 168: 144x144, the person a few pixels tall for half of the clip, then walking closer.
    # MediaPipe's whole-frame detector reads "people" into the photograph's top-left corner (landmarks centred at
    # x, y < 12 px, most of them outside the frame), which were followed for 40% of the frames; on session 35's machine
    # (3 runs of 3) it read a head at the top edge with the body guessed upward past the frame, kept until
    # `_upside_down`.
    row = make_clip(tmp_path, seed=6, index=168, size=192)
    track = extract_motion(tmp_path / row["video"], progress=False)
    centres = track.keypoints_2d[track.valid, :, :2].mean(axis=1)  # [found, 2] pixels
    assert (centres > 30).all()  # nothing at the corner
    # The person, close by the end, is found: in most of the last 10 frames. How many varies from run to run with the
    # render's encode and MediaPipe's finds (four runs in separate processes: 18-41% of the clip's frames, the last 10
    # all found; one CI run of session 25: 7 of the last 10).
    assert track.valid[-10:].mean() >= 0.5


@pytest.mark.slow
def test_a_body_the_detector_misses_is_read_on_its_region(tmp_path, monkeypatch):
    import processing_macm.pose_mediapipe as pose_mediapipe
    from dataset_scripts.synth import make_clip

    for folder in ("videos", "joints"):
        (tmp_path / folder).mkdir()
    # HMI-Synth seed 6, clip 223: 192x192, a faceless body from the waist up seen from its side (yaw -100 degrees),
    # filling most of the frame. MediaPipe's face-keyed detector finds it in no frame, on the frame or on a crop.
    row = make_clip(tmp_path, seed=6, index=223, size=192)
    assert row["camera"]["framing"] == "waist_up" and abs(row["camera"]["yaw_deg"]) > 90
    track = extract_motion(tmp_path / row["video"], progress=False)
    assert track.valid.mean() > 0.8
    seen = track.keypoints_2d[track.valid]
    assert (seen[:, [11, 12], 2].max(axis=1) >= 0.5).mean() > 0.8  # a shoulder seen where the person is found
    monkeypatch.setattr(pose_mediapipe, "PRESENT", 1.1)  # the landmark model's own reading never accepted
    assert extract_motion(tmp_path / row["video"], progress=False).valid.mean() < 0.2


@pytest.mark.slow
def test_the_landmark_model_alone_finds_nobody_in_a_globe(tmp_path):
    from train.real_footage import build_clips, load_labels

    # The real-footage set's empty clip (world.mp4's first 3 s, as `bench_real.py` cuts it): read on the whole frame,
    # the landmark model sees a "person" in the globe in frame 0 and finds them again on their own region; followed,
    # they are found in 1 of the next 3 frames, short of `FOUND_RUN`.
    world = build_clips([clip for clip in load_labels() if clip["id"] == "world"], tmp_path)["world"]
    assert not extract_motion(world, progress=False).has_person


@pytest.mark.slow
def test_person_index_picks_another_pedestrian(vtest):
    frames = np.stack([frame for i, _, frame in iter_frames(vtest) if 630 <= i < 650])  # 2 s, several pedestrians
    main = extract_motion(frames, fps=10, progress=False)
    other = extract_motion(frames, fps=10, progress=False, person=1)
    assert main.valid.mean() > 0.8 and other.valid.mean() > 0.5
    first = lambda track: track.keypoints_2d[np.argmax(track.valid), :, :2].mean(axis=0)  # noqa: E731
    assert np.abs(first(main) - first(other)).max() > 50  # pixels: two different people
    height = lambda track: np.ptp(track.keypoints_2d[np.argmax(track.valid), :, 1])  # noqa: E731
    assert height(main) >= height(other) * 0.8  # the main person is the tallest (give or take MediaPipe's box)
    with pytest.raises(ValueError, match=r"Person 40 was asked for, but at most \d+ people were found"):
        extract_motion(frames[:3], fps=10, progress=False, person=40)


def test_a_still_clip_gives_a_still_track_and_a_moving_one_does_not(walking_clip, tmp_path):
    frames, _ = read_video(walking_clip)
    # One frame for 2 s: MediaPipe would guess a little differently each time; the track must not move.
    still = extract_motion(
        write_video(tmp_path / "still.mp4", np.repeat(frames[:1], 20, axis=0), fps=10), progress=False
    )
    assert still.valid.all() and np.ptp(still.joints_3d, axis=0).max() == 0.0
    assert motion_energy(still) == 0.0
    # The same frame shifted by one pixel per frame moves: every frame is read, and the person follows.
    drift = np.stack([np.roll(frames[0], shift, axis=1) for shift in range(20)])
    moving = extract_motion(write_video(tmp_path / "drift.mp4", drift, fps=10), progress=False)
    hips = moving.keypoints_2d[moving.valid][:, 23:25, 0].mean(axis=1)  # MediaPipe's hips, x in pixels
    assert hips[-1] - hips[0] > 10  # the person was read again as they drifted 19 px


@pytest.mark.slow
def test_a_still_person_filmed_hand_held_is_stated_still(captioner, tmp_path):
    """A real photo (opencv-doc's basketball1.png, a man holding a ball) through a shaking hand-held camera:
    MediaPipe's jitter puts his motion energy above STILL_ENERGY (0.101 in session 21), and the motion heads read
    his posture as talking as strongly held still as filmed. He moves in the picture only as the whole picture does
    (`scene.py`), which states him still; without the video, the posture rule does."""
    from PIL import Image

    from train.real_footage import handheld, source_path

    photo = np.asarray(Image.open(source_path("basketball1.png")).convert("RGB"))
    video = str(write_video(tmp_path / "handheld.mp4", handheld([photo] * 40, seed=0, shake_px=3.0), fps=10))
    track = captioner.estimate_motion(video)
    assert STILL_ENERGY < motion_energy(track) < POSTURE_ENERGY and _stated_caption(track) is None
    result = captioner.caption([video], tracks=[track])[0]
    assert (result.caption, result.motion_used) == (STILL_CAPTION, True), result
    assert result.notice.startswith("still: the person barely moves") and "whole picture" in result.notice
    caption, notice = captioner._statement(captioner.processor, track)  # no video: the posture rule
    assert caption == STILL_CAPTION and "as filmed" in notice


@pytest.mark.slow
def test_a_posture_filmed_by_a_shaking_camera_is_stated_still(captioner, tmp_path):
    """The real set's footballer mid-kick (opencv-doc's messi5.jpg) through a hand-held camera shaking hard: MediaPipe's
    3D jitter puts his motion energy above POSTURE_ENERGY (0.28), the image shows his body moved whole (0.13)."""
    from train.real_footage import build_clips, load_labels

    clip = next(clip for clip in load_labels() if clip["id"] == "handheld-messi5-strong")
    video = str(build_clips([clip], tmp_path)[clip["id"]])
    track = captioner.estimate_motion(video)
    assert motion_energy(track, steady=True) < POSTURE_ENERGY < motion_energy(track)
    result = captioner.caption([video], tracks=[track])[0]
    assert (result.caption, result.motion_used) == (STILL_CAPTION, True), result
    assert result.notice.startswith("still: the person barely moves (steady motion energy")


@pytest.mark.slow
@pytest.mark.parametrize("clip_id", ["handheld-messi5-a", "handheld-basketball2-strong"])
def test_a_still_photo_whose_posture_reads_as_an_action_is_stated_still(captioner, tmp_path, clip_id):
    """The two real-set stills the posture rule left described in session 32 ("waves", "talks": their posture held
    still read a little weaker than as filmed) do not move against the shaking picture (`scene.py`)."""
    from train.real_footage import build_clips, load_labels

    clip = next(clip for clip in load_labels() if clip["id"] == clip_id)
    video = str(build_clips([clip], tmp_path)[clip_id])
    result = captioner.caption([video])[0]
    assert result.caption == STILL_CAPTION, result
    assert "only as the whole picture does" in result.notice
