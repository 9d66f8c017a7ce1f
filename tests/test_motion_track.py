"""MotionTrack: validation, exact save/load, and the errors a bad file gets."""

import numpy as np
import pytest

from processing_macm.motion_track import TRACK_FORMAT_VERSION, MotionTrack


def random_track(num_frames=6, with_smpl=False, with_mesh=False, seed=0):
    rng = np.random.default_rng(seed)
    extra = {}
    if with_smpl:
        extra.update(global_orient=rng.normal(size=(num_frames, 3)), body_pose=rng.normal(size=(num_frames, 69)),
                     betas=rng.normal(size=10), transl=rng.normal(size=(num_frames, 3)))  # fmt: skip
    if with_mesh:
        extra.update(mesh_vertices=rng.normal(size=(num_frames, 4, 3)) + [0, 0, 3],
                     mesh_faces=np.array([[0, 1, 2], [0, 2, 3]]), camera_intrinsics=np.eye(3))  # fmt: skip
    return MotionTrack(
        fps=10, frame_size=(64, 48), keypoints_2d=rng.uniform(0, 40, size=(num_frames, 33, 3)),
        joints_3d=rng.normal(size=(num_frames, 22, 3)), valid=rng.uniform(size=num_frames) > 0.3,
        backend="test", **extra,
    )  # fmt: skip


@pytest.mark.parametrize("with_smpl,with_mesh", [(False, False), (True, True)])
def test_save_load_roundtrip_is_exact(tmp_path, with_smpl, with_mesh):
    track = random_track(with_smpl=with_smpl, with_mesh=with_mesh)
    loaded = MotionTrack.load(track.save(tmp_path / "track.npz"))
    assert (loaded.fps, loaded.frame_size, loaded.backend) == (10.0, (64, 48), "test")
    for name in ("keypoints_2d", "joints_3d", "valid", "global_orient", "body_pose", "betas", "transl",
                 "mesh_vertices", "mesh_faces", "camera_intrinsics"):  # fmt: skip
        original, again = getattr(track, name), getattr(loaded, name)
        assert (original is None) == (again is None), name
        if original is not None:
            np.testing.assert_array_equal(original, again, err_msg=name)
            assert original.dtype == again.dtype, name
    assert loaded.has_smpl == with_smpl and loaded.has_mesh == with_mesh
    assert [p.name for p in tmp_path.iterdir()] == ["track.npz"]  # no temporary file left behind


def test_properties_and_empty_track():
    track = random_track(num_frames=7)
    assert track.num_frames == 7 and track.has_person and track.keypoints_2d.dtype == np.float32
    empty = MotionTrack.empty(5, fps=25, frame_size=(32, 32), backend="mediapipe")
    assert empty.num_frames == 5 and not empty.has_person


@pytest.mark.parametrize(
    "change,message",
    [
        ({"joints_3d": np.zeros((6, 24, 3))}, r"joints_3d must have shape \[6, 22, 3\], got \[6, 24, 3\]"),
        ({"valid": np.ones(5, bool)}, r"valid must have shape \[6\]"),
        ({"keypoints_2d": np.zeros((6, 17, 3))}, "17 points per frame"),
        ({"fps": 0}, "fps must be a positive"),
        ({"frame_size": (0, 10)}, "frame_size"),
        ({"betas": np.zeros(10)}, r"got \['betas'\] but not"),
        ({"joints_3d": np.full((6, 22, 3), np.nan)}, "joints_3d contains NaN"),
    ],
)
def test_bad_arrays_are_named(change, message):
    track = random_track()
    fields = {
        name: getattr(track, name) for name in ("fps", "frame_size", "keypoints_2d", "joints_3d", "valid", "backend")
    }
    with pytest.raises(ValueError, match=message):
        MotionTrack(**{**fields, **change})


def test_mesh_faces_out_of_range():
    track = random_track(with_mesh=True)
    with pytest.raises(ValueError, match="mesh_faces index vertices outside 0..3"):
        MotionTrack(**{**track.__dict__, "mesh_faces": np.array([[0, 1, 9]])})


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="macm motion"):
        MotionTrack.load(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a MotionTrack"):
        MotionTrack.load(tmp_path / "junk.npz")
    arrays = {
        "fps": 10.0,
        "frame_size": [4, 4],
        "keypoints_2d": np.zeros((2, 33, 3)),
        "valid": np.ones(2, bool),
        "backend": "x",
    }
    np.savez(tmp_path / "old.npz", format_version=TRACK_FORMAT_VERSION + 1, **arrays)
    with pytest.raises(ValueError, match="format version"):
        MotionTrack.load(tmp_path / "old.npz")
    np.savez(tmp_path / "partial.npz", format_version=TRACK_FORMAT_VERSION, **arrays)
    with pytest.raises(ValueError, match=r"lacks the MotionTrack arrays \['joints_3d'\]"):
        MotionTrack.load(tmp_path / "partial.npz")
    np.savez(tmp_path / "shape.npz", format_version=TRACK_FORMAT_VERSION, joints_3d=np.zeros((3, 22, 3)), **arrays)
    with pytest.raises(ValueError, match=r"shape.npz.*joints_3d must have shape \[2, 22, 3\]"):
        MotionTrack.load(tmp_path / "shape.npz")
    with pytest.raises(ValueError, match="end in .npz"):
        random_track().save(tmp_path / "track.pkl")
