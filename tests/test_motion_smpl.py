"""SMPL and GVHMR backends, with a small SMPL-format model written here (the official files are
licence-gated): 24 joints in SMPL's tree, one vertex per joint plus a few skin vertices."""

import pickle

import numpy as np
import pytest
import torch

from processing_macm.motion_track import MotionTrack
from processing_macm.overlay import overlay_keyframes
from processing_macm.pose_backends import extract_motion

SMPL_PARENTS_24 = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21]
# smplx picks extra landmarks by vertex id; the official ids do not exist in this small mesh.
VERTEX_IDS = dict.fromkeys(["nose", "reye", "leye", "rear", "lear", "LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel"] + [side + tip for side in "lr" for tip in ["thumb", "index", "middle", "ring", "pinky"]], 0)  # fmt: skip
SIZE = (128, 96)


@pytest.fixture(scope="module")
def smpl_model(tmp_path_factory):
    rng = np.random.default_rng(0)
    joints = rng.uniform(-0.3, 0.3, size=(24, 3))
    joints[0] = 0.0
    joints[18], joints[20] = [0.45, 0.4, 0], [0.7, 0.4, 0]  # left elbow and wrist, y up
    skin = joints[rng.integers(0, 24, size=16)] + rng.normal(0, 0.05, size=(16, 3))
    vertices = np.concatenate([joints, skin])  # [40, 3]
    weights = np.zeros((40, 24))
    weights[np.arange(24), np.arange(24)] = 1.0
    weights[24:, 0] = 1.0
    model = {
        "v_template": vertices, "f": rng.integers(0, 40, size=(30, 3)), "J_regressor": np.eye(24, 40),
        "weights": weights, "kintree_table": np.array([[2**32 - 1] + SMPL_PARENTS_24[1:], list(range(24))]),
        "shapedirs": np.zeros((40, 3, 10)), "posedirs": np.zeros((40, 3, 207)),
    }  # fmt: skip
    path = tmp_path_factory.mktemp("smpl") / "SMPL_NEUTRAL.pkl"
    path.write_bytes(pickle.dumps(model))
    return path, joints


def params(num_frames, pose_size=69):
    body_pose = np.zeros((num_frames, pose_size), np.float32)
    body_pose[num_frames // 2 :, 17 * 3 + 2] = np.pi / 2  # left elbow (joint 18) bent 90 degrees about z
    return {"global_orient": np.tile([np.pi, 0, 0], (num_frames, 1)).astype(np.float32),  # y up -> camera y down
            "body_pose": body_pose, "betas": np.zeros(10, np.float32),
            "transl": np.tile([0, 0, 3.0], (num_frames, 1)).astype(np.float32)}  # fmt: skip


def test_smpl_backend(smpl_model, tmp_path):
    model_path, joints = smpl_model
    np.savez(tmp_path / "params.npz", **params(6))
    frames = np.zeros((6, SIZE[1], SIZE[0], 3), np.uint8)
    kwargs = dict(smpl_params=tmp_path / "params.npz", model_path=model_path, vertex_ids=VERTEX_IDS, progress=False)
    track = extract_motion(frames, backend="smpl", fps=30, max_fps=15, **kwargs)
    assert (track.backend, track.num_frames, track.fps) == ("smpl", 3, 15.0)
    assert track.valid.all() and track.has_smpl and track.has_mesh and track.mesh_vertices.shape == (3, 40, 3)
    # At rest, the joints are the template's (global_orient turned y up into the camera's y down, and back).
    np.testing.assert_allclose(track.joints_3d[0], joints[:22] - joints[0], atol=1e-5)
    # Bent elbow: the wrist (0.25 m out along x) swings to point up.
    np.testing.assert_allclose(track.joints_3d[2, 20], [0.45, 0.65, 0], atol=1e-5)
    assert track.keypoints_2d.shape == (3, 22, 3)
    np.testing.assert_allclose(track.keypoints_2d[0, 0, :2], [64, 48], atol=1e-3)  # pelvis on the optical axis
    again = MotionTrack.load(track.save(tmp_path / "track.npz"))
    np.testing.assert_array_equal(again.mesh_vertices, track.mesh_vertices)
    drawn = overlay_keyframes(frames, track, 2)
    assert drawn.shape == (2, SIZE[1], SIZE[0], 3) and drawn.any()


def test_gvhmr_results(smpl_model, tmp_path):
    model_path, _ = smpl_model
    incam = {name: torch.as_tensor(value) for name, value in params(4, pose_size=63).items()}
    intrinsics = torch.tensor([[200.0, 0, 64], [0, 200, 48], [0, 0, 1]]).expand(4, 3, 3)
    torch.save({"smpl_params_incam": incam, "K_fullimg": intrinsics}, tmp_path / "hmr4d_results.pt")
    frames = np.zeros((4, SIZE[1], SIZE[0], 3), np.uint8)
    track = extract_motion(frames, backend="gvhmr", fps=10, smpl_params=tmp_path / "hmr4d_results.pt",
                           model_path=model_path, vertex_ids=VERTEX_IDS, progress=False)  # fmt: skip
    assert track.backend == "gvhmr" and track.body_pose.shape == (4, 63)
    np.testing.assert_allclose(track.camera_intrinsics, intrinsics[0].numpy())


def test_smpl_errors(smpl_model, tmp_path):
    frames = np.zeros((2, 8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match="needs `smpl_params`"):
        extract_motion(frames, backend="smpl", fps=10, smpl_params=None)
    np.savez(tmp_path / "bad.npz", global_orient=np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"lacks the SMPL arrays \['body_pose', 'betas', 'transl'\]"):
        extract_motion(frames, backend="smpl", fps=10, smpl_params=tmp_path / "bad.npz")
    np.savez(tmp_path / "params.npz", **params(2))
    with pytest.raises(FileNotFoundError, match="smpl.is.tue.mpg.de"):
        extract_motion(
            frames, backend="smpl", fps=10, smpl_params=tmp_path / "params.npz", model_path=tmp_path / "nope"
        )
