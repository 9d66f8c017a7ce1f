"""SMPL backends: a video's SMPL parameters, estimated elsewhere, posed into joints and a mesh.

- "smpl": an `.npz` with `global_orient [T, 3]`, `body_pose [T, 69 or 63]`, `betas [10]` or `[T, 10]`,
  `transl [T, 3]` (axis-angle, camera coordinates with OpenCV axes, as HMR methods output), optionally
  `camera_intrinsics [3, 3]`; one row per video frame.
- "gvhmr": GVHMR's result file (`hmr4d_results.pt` from its demo: `smpl_params_incam` + `K_fullimg`).
  GVHMR itself needs its Hub weights and a GPU, so it runs outside this package.
Both need the user's SMPL model file (licence-gated, https://smpl.is.tue.mpg.de): `model_path`.
"""

import os

import numpy as np

from .motion_track import NUM_JOINTS, MotionTrack

_SMPL_POSE_SIZE = 69  # 23 joints x 3; SMPL-X/SMPL-H style 63-value body poses leave out the two hand joints


def _load_smpl_params(path) -> dict[str, np.ndarray]:
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"SMPL parameter file not found: {path!r}.")
    with np.load(path, allow_pickle=False) as data:
        params = {name: data[name] for name in data.files}
    missing = [name for name in ("global_orient", "body_pose", "betas", "transl") if name not in params]
    if missing:
        raise ValueError(
            f"{path!r} lacks the SMPL arrays {missing}; it needs global_orient, body_pose, betas, transl."
        )
    return params


def _load_gvhmr_results(path) -> dict[str, np.ndarray]:
    import torch

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"GVHMR result file not found: {path!r} (its demo writes hmr4d_results.pt).")
    results = torch.load(path, map_location="cpu", weights_only=True)
    if "smpl_params_incam" not in results:
        raise ValueError(f"{path!r} has no 'smpl_params_incam': is it GVHMR's hmr4d_results.pt?")
    params = {name: value.numpy() for name, value in results["smpl_params_incam"].items()}
    if "K_fullimg" in results:
        params["camera_intrinsics"] = results["K_fullimg"][0].numpy()  # [T, 3, 3], the same every frame
    return params


def _pose_smpl(
    params: dict[str, np.ndarray], model_path, gender: str, vertex_ids, progress: bool, batch_size: int = 256
):
    """Runs the SMPL model: `(joints [T, 24, 3], vertices [T, V, 3], faces [F, 3])` in camera space."""
    try:
        import smplx
    except ImportError as err:
        raise ImportError("The SMPL backends need smplx: `pip install 'macm[smpl]'`.") from err
    import torch
    from tqdm.auto import tqdm

    if model_path is None or not os.path.exists(model_path):
        raise FileNotFoundError(
            f"SMPL model not found at {model_path!r}: pass `model_path` (the folder with SMPL_NEUTRAL.pkl, or the "
            "file). The official files need a licence from https://smpl.is.tue.mpg.de and cannot be downloaded here."
        )
    model = smplx.SMPL(model_path, gender=gender, vertex_ids=vertex_ids)
    num_frames = len(params["global_orient"])
    body_pose = params["body_pose"].reshape(num_frames, -1)
    if body_pose.shape[1] not in (63, _SMPL_POSE_SIZE):
        raise ValueError(f"body_pose must be [T, 69] or [T, 63], got {list(params['body_pose'].shape)}.")
    body_pose = np.pad(body_pose, ((0, 0), (0, _SMPL_POSE_SIZE - body_pose.shape[1])))  # hands at rest
    betas = np.broadcast_to(params["betas"].reshape(-1, params["betas"].shape[-1])[:, :10], (num_frames, 10))
    joints, vertices = [], []
    with torch.no_grad():
        for start in tqdm(range(0, num_frames, batch_size), desc="SMPL", unit="batch", disable=not progress):
            part = slice(start, start + batch_size)
            output = model(
                global_orient=torch.as_tensor(params["global_orient"][part], dtype=torch.float32),
                body_pose=torch.as_tensor(body_pose[part], dtype=torch.float32),
                betas=torch.as_tensor(np.ascontiguousarray(betas[part]), dtype=torch.float32),
                transl=torch.as_tensor(params["transl"][part], dtype=torch.float32),
            )
            joints.append(output.joints[:, :24].numpy())
            vertices.append(output.vertices.numpy())
    return np.concatenate(joints), np.concatenate(vertices), np.asarray(model.faces, np.int32)


def track_from_smpl_params(
    params: dict[str, np.ndarray], model_path, frame_size: tuple[int, int], video_fps: float, step: int = 1,
    gender: str = "neutral", vertex_ids: dict | None = None, progress: bool = True, backend: str = "smpl",
) -> MotionTrack:  # fmt: skip
    """A `MotionTrack` (joints, projected 2D joints, SMPL parameters, mesh) from per-video-frame SMPL
    parameters in camera space; keeps every `step`-th frame. `vertex_ids` is smplx's, for SMPL files
    with another topology than the official one."""
    lengths = {name: len(params[name]) for name in ("global_orient", "body_pose", "transl")}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"SMPL parameters disagree on the number of frames: {lengths}.")
    params = {
        name: (value if name in ("betas", "camera_intrinsics") else value[::step]) for name, value in params.items()
    }
    joints, vertices, faces = _pose_smpl(params, model_path, gender, vertex_ids, progress)  # [T, 24, 3], [T, V, 3]
    width, height = frame_size
    intrinsics = params.get("camera_intrinsics")
    if intrinsics is None:
        intrinsics = np.array(
            [[max(width, height), 0, width / 2], [0, max(width, height), height / 2], [0, 0, 1]], np.float32
        )
    body = joints[:, :NUM_JOINTS]  # [T, 22, 3]
    projected = body @ np.asarray(intrinsics, np.float32).T
    in_front = body[..., 2] > 1e-3  # [T, 22]
    keypoints = np.concatenate(
        [projected[..., :2] / np.maximum(projected[..., 2:], 1e-3), in_front[..., None]], axis=-1
    )
    # Camera (y down, z forward) -> y up, turning 180 degrees about x as for MediaPipe.
    joints_up = (body - body[:, :1]) * np.array([1.0, -1.0, -1.0], np.float32)
    betas = params["betas"].reshape(-1, params["betas"].shape[-1])[0, :10]
    return MotionTrack(
        fps=video_fps / step, frame_size=frame_size, keypoints_2d=keypoints, joints_3d=joints_up,
        valid=in_front.all(axis=1), backend=backend, global_orient=params["global_orient"],
        body_pose=params["body_pose"].reshape(len(body), -1), betas=betas, transl=params["transl"],
        mesh_vertices=vertices, mesh_faces=faces, camera_intrinsics=intrinsics,
    )  # fmt: skip


def track_from_smpl_file(smpl_params, model_path=None, **kwargs) -> MotionTrack:
    """The "smpl" backend: `track_from_smpl_params` on an `.npz` of SMPL parameters."""
    if smpl_params is None:
        raise ValueError("The smpl backend needs `smpl_params`: the .npz of SMPL parameters for this video.")
    return track_from_smpl_params(_load_smpl_params(smpl_params), model_path, **kwargs)


def track_from_gvhmr(smpl_params, model_path=None, **kwargs) -> MotionTrack:
    """The "gvhmr" backend: `track_from_smpl_params` on GVHMR's `hmr4d_results.pt`."""
    if smpl_params is None:
        raise ValueError("The gvhmr backend needs `smpl_params`: GVHMR's hmr4d_results.pt for this video.")
    return track_from_smpl_params(_load_gvhmr_results(smpl_params), model_path, backend="gvhmr", **kwargs)


__all__ = ["track_from_gvhmr", "track_from_smpl_file", "track_from_smpl_params"]
