"""`MotionTrack`: one person's motion over one clip, whatever estimated it.

Every pose backend (MediaPipe, SMPL files, GVHMR) produces one, and everything downstream (keyframe
sampling, the overlay renderer, kinematic features, datasets) reads only this. It saves as a versioned
`.npz` so that a track extracted once is reused by training, evaluation and the demo.
"""

import os
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from .atomic import atomic_path

TRACK_FORMAT_VERSION = 1

# SMPL's first 22 joints (the body without hands), in SMPL order.
SMPL_JOINT_NAMES = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2", "left_ankle",
    "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar", "right_collar", "head",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
)  # fmt: skip
SMPL_PARENTS = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19)
NUM_JOINTS = len(SMPL_JOINT_NAMES)

# The fields of a `MotionTrack` that hold one value per frame (`[T, ...]`; the optional ones may be None).
PER_FRAME_FIELDS = ("keypoints_2d", "joints_3d", "valid", "global_orient", "body_pose", "transl", "mesh_vertices")
# MediaPipe Pose's 33 landmarks, in its order.
MEDIAPIPE_LANDMARK_NAMES = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel", "right_heel",
    "left_foot_index", "right_foot_index",
)  # fmt: skip

# Optional groups: all of a group's arrays are given, or none.
SMPL_PARAM_NAMES = ("global_orient", "body_pose", "betas", "transl")
MESH_NAMES = ("mesh_vertices", "mesh_faces", "camera_intrinsics")


@dataclass
class MotionTrack:
    """One person's motion over one clip.

    Args:
        fps: frames per second of the track (the rate it was estimated at, not always the video's).
        frame_size: `(width, height)` of the video frames, in pixels.
        keypoints_2d: `[T, P, 3]` float32, `(x, y)` in pixels + confidence in [0, 1] (MediaPipe: its
            per-landmark visibility; SMPL backends: 1 in front of the camera). P = 33 is MediaPipe's
            layout (`MEDIAPIPE_LANDMARK_NAMES`); P = 22 is `SMPL_JOINT_NAMES` projected. Points may lie
            outside the frame (guesses): see `in_frame`.
        joints_3d: `[T, 22, 3]` float32, SMPL body joints in metres, pelvis-centred, y up.
        valid: `[T]` bool, frames where the person was found; other frames' values are meaningless.
        backend: the estimator that produced the track ("mediapipe", "smpl", "gvhmr", ...).
        global_orient, body_pose, betas, transl: optional SMPL parameters, `[T, 3]`, `[T, 69 or 63]`,
            `[10]`, `[T, 3]` (axis-angle; `transl` in metres).
        mesh_vertices, mesh_faces, camera_intrinsics: optional body mesh in camera coordinates
            (OpenCV: x right, y down, z forward, metres) `[T, V, 3]`, triangles `[F, 3]` int, and the
            pinhole matrix `[3, 3]` that projects it into the frame.
    """

    fps: float
    frame_size: tuple[int, int]
    keypoints_2d: np.ndarray
    joints_3d: np.ndarray
    valid: np.ndarray
    backend: str
    global_orient: np.ndarray | None = None
    body_pose: np.ndarray | None = None
    betas: np.ndarray | None = None
    transl: np.ndarray | None = None
    mesh_vertices: np.ndarray | None = None
    mesh_faces: np.ndarray | None = None
    camera_intrinsics: np.ndarray | None = None

    def __post_init__(self):
        self.fps = float(self.fps)
        if not np.isfinite(self.fps) or self.fps <= 0:
            raise ValueError(f"MotionTrack fps must be a positive number, got {self.fps}.")
        if len(self.frame_size) != 2 or min(self.frame_size) <= 0:
            raise ValueError(f"MotionTrack frame_size must be (width, height) > 0, got {self.frame_size}.")
        self.frame_size = (int(self.frame_size[0]), int(self.frame_size[1]))
        self.keypoints_2d = _as_array("keypoints_2d", self.keypoints_2d, np.float32, (None, None, 3))
        num_frames = len(self.keypoints_2d)
        if self.keypoints_2d.shape[1] not in (len(MEDIAPIPE_LANDMARK_NAMES), NUM_JOINTS):
            raise ValueError(
                f"MotionTrack keypoints_2d has {self.keypoints_2d.shape[1]} points per frame (shape "
                f"{self.keypoints_2d.shape}); expected 33 (MediaPipe layout) or 22 (SMPL joints)."
            )
        self.joints_3d = _as_array("joints_3d", self.joints_3d, np.float32, (num_frames, NUM_JOINTS, 3))
        self.valid = _as_array("valid", self.valid, bool, (num_frames,))
        self.backend = str(self.backend)

        pose_size = None if self.body_pose is None else np.shape(self.body_pose)[-1]
        if pose_size not in (None, 63, 69):
            raise ValueError(f"MotionTrack body_pose must be [T, 69] or [T, 63], got {np.shape(self.body_pose)}.")
        smpl_shapes = {
            "global_orient": (num_frames, 3),
            "body_pose": (num_frames, pose_size),
            "betas": (10,),
            "transl": (num_frames, 3),
        }
        self._check_group(SMPL_PARAM_NAMES, smpl_shapes)
        num_vertices = None if self.mesh_vertices is None else np.shape(self.mesh_vertices)[1]
        mesh_shapes = {
            "mesh_vertices": (num_frames, num_vertices, 3),
            "mesh_faces": (None, 3),
            "camera_intrinsics": (3, 3),
        }
        self._check_group(MESH_NAMES, mesh_shapes)
        faces = self.mesh_faces
        if faces is not None and faces.size and (faces.min() < 0 or faces.max() >= num_vertices):
            raise ValueError(f"MotionTrack mesh_faces index vertices outside 0..{num_vertices - 1}.")

    def _check_group(self, names, shapes):
        given = [name for name in names if getattr(self, name) is not None]
        if given and len(given) != len(names):
            missing = [name for name in names if name not in given]
            raise ValueError(f"MotionTrack got {given} but not {missing}: give all of {list(names)} or none.")
        for name in given:
            dtype = np.int32 if name == "mesh_faces" else np.float32
            setattr(self, name, _as_array(name, getattr(self, name), dtype, shapes[name]))

    @property
    def num_frames(self) -> int:
        return len(self.valid)

    @property
    def has_person(self) -> bool:
        return bool(self.valid.any())

    @property
    def has_smpl(self) -> bool:
        return self.global_orient is not None

    @property
    def has_mesh(self) -> bool:
        return self.mesh_vertices is not None

    @property
    def in_frame(self) -> np.ndarray:
        """`[T, P]` bool: keypoints inside the image (pose estimators also guess the points they cannot see)."""
        width, height = self.frame_size
        x, y = self.keypoints_2d[..., 0], self.keypoints_2d[..., 1]
        return (x >= 0) & (x < width) & (y >= 0) & (y < height)

    @property
    def times(self) -> np.ndarray:
        """`[T]` time of each track frame in seconds."""
        return np.arange(self.num_frames) / self.fps

    def save(self, path) -> Path:
        """Writes the track as a versioned `.npz` (temporary file + rename: never a partial file)."""
        path = Path(path)
        if path.suffix != ".npz":
            raise ValueError(f"MotionTrack files end in .npz, got {str(path)!r}.")
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}
        arrays["frame_size"] = np.asarray(self.frame_size, np.int64)
        arrays["format_version"] = TRACK_FORMAT_VERSION
        with atomic_path(path) as tmp:
            np.savez_compressed(tmp, **arrays)
        return path

    @classmethod
    def load(cls, path) -> "MotionTrack":
        """Reads a track written by `save`; says what is wrong with a file that is not one."""
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"MotionTrack file not found: {path!r}. Create one with `macm motion VIDEO -o TRACK.npz`."
            )
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
        except (OSError, ValueError) as err:
            raise ValueError(f"{path!r} is not a MotionTrack .npz file ({err}).") from err
        version = arrays.pop("format_version", None)
        if version is None or int(version) != TRACK_FORMAT_VERSION:
            raise ValueError(
                f"{path!r} has MotionTrack format version {version}, this code reads version "
                f"{TRACK_FORMAT_VERSION}. Re-extract it with `macm motion`."
            )
        required = [f.name for f in fields(cls) if f.default is not None]
        missing = [name for name in required if name not in arrays]
        if missing:
            raise ValueError(f"{path!r} lacks the MotionTrack arrays {missing}. Re-extract it with `macm motion`.")
        known = {f.name for f in fields(cls)}
        arrays = {name: value for name, value in arrays.items() if name in known}
        arrays["fps"] = float(arrays["fps"])
        arrays["backend"] = str(arrays["backend"])
        arrays["frame_size"] = tuple(int(v) for v in arrays["frame_size"])
        try:
            return cls(**arrays)
        except ValueError as err:
            raise ValueError(f"{path!r}: {err}") from err

    @classmethod
    def empty(cls, num_frames: int, fps: float, frame_size: tuple[int, int], backend: str) -> "MotionTrack":
        """A track with no person in any frame (what a backend returns when it finds nobody)."""
        return cls(
            fps=fps,
            frame_size=frame_size,
            keypoints_2d=np.zeros((num_frames, len(MEDIAPIPE_LANDMARK_NAMES), 3), np.float32),
            joints_3d=np.zeros((num_frames, NUM_JOINTS, 3), np.float32),
            valid=np.zeros(num_frames, bool),
            backend=backend,
        )


def _as_array(name: str, value, dtype, shape: tuple) -> np.ndarray:
    """`value` as a `dtype` array whose shape matches `shape` (None = any size), or a ValueError naming it."""
    array = np.asarray(value)
    if array.ndim != len(shape) or any(want is not None and got != want for got, want in zip(array.shape, shape)):
        wanted = "[" + ", ".join("*" if s is None else str(s) for s in shape) + "]"
        raise ValueError(f"MotionTrack {name} must have shape {wanted}, got {list(array.shape)}.")
    if np.issubdtype(dtype, np.floating) and not np.isfinite(array).all():
        raise ValueError(f"MotionTrack {name} contains NaN or infinite values; mark such frames invalid instead.")
    return np.ascontiguousarray(array, dtype=dtype)


__all__ = [
    "MEDIAPIPE_LANDMARK_NAMES",
    "NUM_JOINTS",
    "PER_FRAME_FIELDS",
    "SMPL_JOINT_NAMES",
    "SMPL_PARENTS",
    "TRACK_FORMAT_VERSION",
    "MotionTrack",
]
