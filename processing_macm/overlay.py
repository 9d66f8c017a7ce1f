"""Draws the estimated body over video frames: the "overlay" motion pathway's input, and previews.

The paper renders the recovered SMPL mesh over each keyframe. A track with a mesh is drawn that way
(flat-shaded, painter's algorithm); a track without one (MediaPipe) gets its 2D skeleton, which
carries the same pose information to the vision tower.
"""

import os

import numpy as np

from .keyframes import sample_keyframes
from .motion_track import MEDIAPIPE_LANDMARK_NAMES, SMPL_JOINT_NAMES, SMPL_PARENTS, MotionTrack
from .video_io import iter_frames, probe_video, write_video

# MediaPipe Pose body connections (face points other than the nose are left out: they clutter
# small frames and say little about motion).
MEDIAPIPE_EDGES = (
    (0, 11), (0, 12), (11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19), (12, 14),
    (14, 16), (16, 18), (16, 20), (16, 22), (18, 20), (11, 23), (12, 24), (23, 24), (23, 25), (24, 26),
    (25, 27), (26, 28), (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
)  # fmt: skip
SMPL_EDGES = tuple((parent, child) for child, parent in enumerate(SMPL_PARENTS) if parent >= 0)
# RGB: the body's left in orange, right in blue, the middle in green.
_LEFT, _RIGHT, _MIDDLE = (255, 140, 0), (0, 160, 255), (60, 220, 60)
_MESH_COLOR = np.array([170, 200, 255], np.float32)
_MIN_CONFIDENCE = 0.3


def _cv2():
    try:
        import cv2
    except ImportError as err:
        raise ImportError("Drawing the body overlay needs OpenCV: `pip install 'macm[motion]'`.") from err
    return cv2


def _edge_colors(names: tuple[str, ...], edges) -> list[tuple[int, int, int]]:
    """Left, right or middle colour for each edge, from its end points' names."""

    def side(name):
        return _LEFT if name.startswith("left") else _RIGHT if name.startswith("right") else _MIDDLE

    return [side(names[a]) if side(names[a]) == side(names[b]) else _MIDDLE for a, b in edges]


_SKELETONS = {  # points per frame -> (edges, their colours)
    33: (MEDIAPIPE_EDGES, _edge_colors(MEDIAPIPE_LANDMARK_NAMES, MEDIAPIPE_EDGES)),
    22: (SMPL_EDGES, _edge_colors(SMPL_JOINT_NAMES, SMPL_EDGES)),
}


def _draw_skeleton(image: np.ndarray, keypoints: np.ndarray, scale: np.ndarray) -> None:
    """Draws `keypoints [P, 3]` (pixels of the track's frame size + confidence) onto `image` in place."""
    cv2 = _cv2()
    points = keypoints[:, :2] * scale  # [P, 2]
    seen = keypoints[:, 2] >= _MIN_CONFIDENCE
    thickness = max(1, round(min(image.shape[:2]) / 120))
    edges, colors = _SKELETONS[len(keypoints)]
    for (a, b), color in zip(edges, colors):
        if seen[a] and seen[b]:
            start, end = tuple(np.round(points[a]).astype(int)), tuple(np.round(points[b]).astype(int))
            cv2.line(image, start, end, color, thickness, cv2.LINE_AA)
    for point in points[seen]:
        cv2.circle(image, tuple(np.round(point).astype(int)), thickness + 1, (255, 255, 255), -1, cv2.LINE_AA)


def _draw_mesh(
    image: np.ndarray, vertices: np.ndarray, faces: np.ndarray, intrinsics: np.ndarray, scale: np.ndarray
) -> None:
    """Flat-shaded mesh (`vertices [V, 3]` in camera space, OpenCV axes) blended onto `image` in place."""
    cv2 = _cv2()
    in_front = vertices[:, 2] > 1e-3
    projected = vertices @ intrinsics.T  # [V, 3]
    pixels = projected[:, :2] / np.maximum(projected[:, 2:], 1e-3) * scale  # [V, 2]
    triangles = vertices[faces]  # [F, 3, 3]
    normals = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
    normals /= np.maximum(np.linalg.norm(normals, axis=-1, keepdims=True), 1e-12)
    centres = triangles.mean(axis=1)  # [F, 3]
    view = -centres / np.maximum(np.linalg.norm(centres, axis=-1, keepdims=True), 1e-12)
    # SMPL winds its faces counter-clockwise seen from outside; shade by |cos| so either winding reads.
    shade = 0.35 + 0.65 * np.abs((normals * view).sum(axis=-1))  # [F]
    keep = np.flatnonzero(in_front[faces].all(axis=1))
    order = keep[np.argsort(-centres[keep, 2])]  # far to near: nearer faces paint over
    layer = image.copy()
    drawn = np.zeros(image.shape[:2], np.uint8)
    polygons = np.round(pixels[faces] * 4).astype(np.int32)  # [F, 3, 2], 2 bits of sub-pixel precision
    for face in order:
        color = tuple(float(c) for c in _MESH_COLOR * shade[face])
        cv2.fillConvexPoly(layer, polygons[face], color, cv2.LINE_AA, shift=2)
        cv2.fillConvexPoly(drawn, polygons[face], 255, shift=2)
    alpha = (drawn[..., None] / 255.0) * 0.75
    image[:] = np.round(image * (1 - alpha) + layer * alpha).astype(np.uint8)


def render_overlay(frame: np.ndarray, track: MotionTrack, t: int) -> np.ndarray:
    """`frame [H, W, 3]` uint8 RGB with track frame `t`'s body drawn over it (a new array).

    The frame may be a resized copy of the video's: coordinates are scaled from `track.frame_size`.
    Frames where the person was not found come back unchanged.
    """
    frame = np.asarray(frame)
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"render_overlay needs an [H, W, 3] uint8 RGB frame, got {frame.dtype} {list(frame.shape)}.")
    if not 0 <= t < track.num_frames:
        raise IndexError(f"Track frame {t} is out of range: the track has {track.num_frames} frames.")
    image = np.ascontiguousarray(frame).copy()
    if not track.valid[t]:
        return image
    scale = np.array([frame.shape[1] / track.frame_size[0], frame.shape[0] / track.frame_size[1]], np.float32)
    if track.has_mesh:
        _draw_mesh(image, track.mesh_vertices[t], track.mesh_faces, track.camera_intrinsics, scale)
    else:
        _draw_skeleton(image, track.keypoints_2d[t], scale)
    return image


def _track_frame(time_s: float, track: MotionTrack) -> int:
    return min(int(round(time_s * track.fps)), track.num_frames - 1)


def write_overlay_video(video_path, track: MotionTrack, out_path, keyframes=None, progress: bool = True):
    """Writes `video_path` with the body drawn on every frame to `out_path` (H.264 mp4, atomic).

    Each video frame shows the track frame nearest in time. `keyframes` (track-frame indices) get a
    yellow border, to check what `sample_keyframes` picked.
    """
    from tqdm.auto import tqdm

    info = probe_video(video_path)
    if (info.width, info.height) != track.frame_size:
        raise ValueError(
            f"The track was made on {track.frame_size[0]}x{track.frame_size[1]} frames but {os.fspath(video_path)!r} "
            f"is {info.width}x{info.height}: is it the same video?"
        )
    marked = set() if keyframes is None else {int(k) for k in keyframes}
    cv2 = _cv2()

    def frames():
        for _, time_s, frame in tqdm(
            iter_frames(video_path), total=info.num_frames, desc="overlay", unit="frame", disable=not progress
        ):
            t = _track_frame(time_s, track)
            image = render_overlay(frame, track, t)
            if t in marked:
                cv2.rectangle(
                    image,
                    (0, 0),
                    (image.shape[1] - 1, image.shape[0] - 1),
                    (255, 220, 0),
                    max(2, image.shape[0] // 60),
                )
            yield image

    return write_video(out_path, frames(), info.fps)


def overlay_keyframes(video, track: MotionTrack, keyframes) -> np.ndarray:
    """`[K, H, W, 3]` uint8: keyframes with the body drawn over them.

    `keyframes` is a count K (chosen by `sample_keyframes`) or the track-frame indices themselves.
    `video` is the clip's file path, or its frames `[N, H, W, 3]` at any constant rate spanning the
    whole clip (track frame t is matched to frame t * N / T).
    """
    if np.ndim(keyframes) == 0:
        keyframes = sample_keyframes(track, int(keyframes))  # [K] track-frame indices
    keyframes = np.asarray(keyframes, np.int64)
    if keyframes.size == 0 or keyframes.min() < 0 or keyframes.max() >= track.num_frames:
        raise IndexError(f"Keyframes {keyframes.tolist()} must be track frames in 0..{track.num_frames - 1}.")
    if isinstance(video, (str, os.PathLike)):
        info = probe_video(video)
        wanted = {
            int(k): min(int(round(k / track.fps * info.fps)), info.num_frames - 1) for k in set(keyframes.tolist())
        }
        images, last = {}, None
        for index, _, frame in iter_frames(video):
            last = frame
            for k, video_index in wanted.items():
                if video_index == index:
                    images[k] = frame
            if len(images) == len(wanted):
                break
        # Header frame counts can overstate what decodes: a keyframe past the end gets the last frame.
        chosen = [images.get(int(k), last) for k in keyframes]
    else:
        frames = np.asarray(video)
        if frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) == 0:
            raise ValueError(
                f"overlay_keyframes needs a video path or frames [N, H, W, 3], got shape {list(frames.shape)}."
            )
        chosen = [frames[min(int(k * len(frames) / track.num_frames), len(frames) - 1)] for k in keyframes]
    return np.stack([render_overlay(frame, track, int(k)) for frame, k in zip(chosen, keyframes)])


__all__ = ["MEDIAPIPE_EDGES", "SMPL_EDGES", "overlay_keyframes", "render_overlay", "write_overlay_video"]
