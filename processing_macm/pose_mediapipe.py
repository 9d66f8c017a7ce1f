"""MediaPipe Pose backend: the embedded default, fully offline (the model ships inside the wheel).

Uses the legacy `solutions.pose.Pose(model_complexity=1)` API: complexities 0 and 2 and the newer
Tasks API fetch their models from the network at run time; complexity 1's model ships inside the wheel. Where the
graph's person detector misses a person, that same landmark model is run on their region by LiteRT (`_LandmarkModel`).
"""

import collections
import contextlib
import os
import re
import sys
import threading
from collections.abc import Iterable

import numpy as np

from .motion_track import MEDIAPIPE_LANDMARK_NAMES, NUM_JOINTS, SMPL_JOINT_NAMES, MotionTrack


def _smpl_from_mediapipe_matrix() -> np.ndarray:
    """`[22, 33]` weights: each SMPL joint as a fixed blend of MediaPipe landmarks.

    MediaPipe has no spine, neck or collar points, so those are placed along the pelvis -> shoulders
    -> ears line at SMPL's rest-pose proportions. An approximation, good for motion, not for anatomy.
    """
    index = {name: i for i, name in enumerate(MEDIAPIPE_LANDMARK_NAMES)}
    mid = {
        "hips": {"left_hip": 0.5, "right_hip": 0.5},
        "shoulders": {"left_shoulder": 0.5, "right_shoulder": 0.5},
        "ears": {"left_ear": 0.5, "right_ear": 0.5},
    }

    def blend(*parts):  # (weight, {landmark: weight}) pairs -> {landmark: weight}
        out = {}
        for weight, group in parts:
            for name, w in group.items():
                out[name] = out.get(name, 0.0) + weight * w
        return out

    recipes = {
        "pelvis": mid["hips"],
        "spine1": blend((0.75, mid["hips"]), (0.25, mid["shoulders"])),
        "spine2": blend((0.5, mid["hips"]), (0.5, mid["shoulders"])),
        "spine3": blend((0.25, mid["hips"]), (0.75, mid["shoulders"])),
        "neck": blend((0.8, mid["shoulders"]), (0.2, mid["ears"])),
        "head": mid["ears"],
    }
    for side in ("left", "right"):
        recipes[f"{side}_collar"] = blend((0.7, mid["shoulders"]), (0.3, {f"{side}_shoulder": 1.0}))
        recipes[f"{side}_foot"] = {f"{side}_foot_index": 1.0}
        for part in ("hip", "knee", "ankle", "shoulder", "elbow", "wrist"):
            recipes[f"{side}_{part}"] = {f"{side}_{part}": 1.0}
    matrix = np.zeros((NUM_JOINTS, len(MEDIAPIPE_LANDMARK_NAMES)), np.float32)
    for joint, name in enumerate(SMPL_JOINT_NAMES):
        for landmark, weight in recipes[name].items():
            matrix[joint, index[landmark]] = weight
    return matrix


SMPL_FROM_MEDIAPIPE = _smpl_from_mediapipe_matrix()  # [22, 33], rows sum to 1


def mediapipe_world_to_smpl_joints(world: np.ndarray) -> np.ndarray:
    """MediaPipe world landmarks `[..., 33, 3]` (metres, hip-centred, image axes: y down, z away from
    the camera) -> SMPL joints `[..., 22, 3]` (pelvis-centred, y up). Turning 180 degrees about x keeps
    the frame right-handed, and a person facing the camera then faces +z with their left on +x, as in
    SMPL's rest pose."""
    joints = np.einsum("jl,...lc->...jc", SMPL_FROM_MEDIAPIPE, world) * np.array([1.0, -1.0, -1.0], np.float32)
    return (joints - joints[..., :1, :]).astype(np.float32)


# Person search. MediaPipe's pose detector reads the whole frame at 224x224, where a pedestrian 60-100 px
# tall in a 768x576 frame shrinks to ~20 px and is missed; its landmark model is good at that size once
# given a region around the person. So the person's region is tracked from frame to frame and the landmark
# model gets that region, cut and upscaled; when nobody is tracked, people are searched for on the whole
# frame with MediaPipe and with OpenCV's HOG people detector (Dalal and Triggs, CVPR 2005), which finds
# upright people from ~100 px tall. A small frame is enlarged for HOG, so that a person ~30 px tall in a 144p
# frame reaches that size; HOG then also finds "people" in enlarged textures, so each of its finds is kept
# only when MediaPipe's landmark model finds a person on its crop.
CROP_SIZE = 256  # pixels per side of the crop given to MediaPipe (its landmark model reads 256x256)
# A person whose square spans at least this share of the frame height is read on the whole frame, where
# MediaPipe's own tracking does well (a crop would bring nothing and loses its tracking state).
CROP_BELOW = 0.5
CROP_MARGIN = 0.25  # the crop extends this fraction of the person's size beyond their landmarks on each side
MAX_MISSES = 3  # frames the crop may miss the person (occlusion) before a new search
# While nobody is tracked, the HOG search (it costs ~10 MediaPipe calls) runs on each of the first n frames, then on
# every n-th frame.
SEARCH_EVERY = 10
HOG_CHECKED = 8  # the surest HOG finds of a search that are kept (each a MediaPipe call on its crop)
HOG_WIDTH = 800  # frames are scaled to this width for HOG (down: its cost grows with the area; up: small people)
HOG_MAX_ENLARGE = 4.0  # but enlarged at most this much: a person under ~30 px has landmarks too coarse to read
# and only when lower than this (rows): a taller frame holds people HOG finds as it is (enlarging vtest.avi's
# 768x576 by 4% changed its finds: 9 of its 20 segments' captions named actions other than walking, 7 of 22 without).
# In such a small frame MediaPipe's whole-frame detector also reads people into textures (the corner of a 144p
# render's photograph), so each person it finds there is read again on their crop before being kept.
HOG_ENLARGE_BELOW = 384
# A clip whose every frame stays within this mean absolute difference (0-255) of the frame where the person was
# first found, inside that person's region, is a still (a photograph made into a video): compression noise
# stays well under it, a person who moves changes their own region far more.
STILL_FRAMES = 1.0
TORSO = [11, 12, 23, 24]  # MediaPipe's shoulders and hips (left, right)
# When the person is found after frames without them (a person who comes closer, who was lost a while), the crop is
# followed back through those frames, as far as this many bytes of them are kept: a person too small for the search
# is often read once the landmark model is given their region.
BACKTRACK_BYTES = 64 << 20
HOG_WINDOW = (64, 128)  # (width, height) of the default people detector's window
# MediaPipe's graph finds a person with a detector that keys on the face (BlazePose's), also on a crop around them:
# it misses people seen from behind or the side and bodies without a face (renders), which its landmark model reads
# once given their region (of 25 HMI-Synth v4 validation clips where nobody or only a glimpse was found, 15 gave a
# pose flag over 0.9 on a crop around the person's segmented region in one of 6 frames or more). So where the graph
# finds nobody on a crop, the landmark model reads the crop itself (`_LandmarkModel`), and a search where neither
# MediaPipe nor HOG finds anyone also tries the regions MediaPipe's person segmentation (the wheel's selfie
# segmentation) covers, then the whole frame.
LANDMARK_MODEL = "modules/pose_landmark/pose_landmark_full.tflite"  # inside the mediapipe wheel
PRESENT = 0.5  # the landmark model's pose flag from which its crop holds a person
ROI_SCALE = 1.25  # the graph's region for the next frame: this times the body's circle (pose_landmark_cpu.pbtxt)
# The landmark model also reads "people" into textures (two frames of Gradio's globe, flags 0.59 and 0.82), but reads
# them no more on the region its own landmarks give, where it reads a real person again: a search keeps what it reads
# alone only when a second read on that region finds the torso again within this share of the region's side.
AGAIN_WITHIN = 0.1
# Found again on its own region, Gradio's globe still gave one "person" filling the frame, found again in 1 of the next
# 3 frames; MediaPipe's graph read one into the corner of an HMI-Synth photograph (seed 6 clip 168, in 1 of 6 renders)
# for one frame: a person a search finds is kept when found in this many frames before the next search (the frames
# read back before it included).
FOUND_RUN = 3
SEGMENTED = 0.5  # the segmentation's probability from which a pixel is a person's
SEGMENT_AREA = 0.004  # a segmented region smaller than this share of the frame (~20x20 px in 320x240) is not searched
SEGMENTS_CHECKED = 3  # the largest segmented regions a search reads (each up to 3 landmark model calls)


def _square(x0: float, y0: float, x1: float, y1: float, margin: float) -> np.ndarray:
    """`(cx, cy, side)` of the square around a box, `margin` of its larger side added on each side."""
    side = max(x1 - x0, y1 - y0) * (1 + 2 * margin)
    return np.array([(x0 + x1) / 2, (y0 + y1) / 2, side], np.float64)


def _landmark_square(image_xy: np.ndarray, visibility: np.ndarray) -> np.ndarray:
    """The crop for the next frame from this frame's landmarks `[33, 2]` (pixels): the box of the
    visible ones (visibility >= 0.5; all of them if fewer than 4 are) with `CROP_MARGIN`."""
    seen = image_xy[visibility >= 0.5] if (visibility >= 0.5).sum() >= 4 else image_xy
    (x0, y0), (x1, y1) = seen.min(axis=0), seen.max(axis=0)
    return _square(x0, y0, x1, y1, CROP_MARGIN)


def _region(frame: np.ndarray, square: np.ndarray) -> np.ndarray:
    """Every second pixel of the frame inside `square` `(cx, cy, side)` (clipped to the frame), as int16."""
    (cx, cy, side), (height, width) = square, frame.shape[:2]
    x0, y0 = max(int(cx - side / 2), 0), max(int(cy - side / 2), 0)
    x1, y1 = min(int(cx + side / 2), width), min(int(cy + side / 2), height)
    return frame[y0:y1:2, x0:x1:2].astype(np.int16)


def _cut(frame: np.ndarray, square: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The square `(cx, cy, side)` of `frame`, scaled to `CROP_SIZE` (outside the frame: black), and
    the `(x0, y0, side)` that maps crop coordinates in [0, 1] back to frame pixels."""
    import cv2

    cx, cy, side = square
    scale = CROP_SIZE / side
    x0, y0 = cx - side / 2, cy - side / 2
    affine = np.array([[scale, 0, -x0 * scale], [0, scale, -y0 * scale]], np.float64)
    crop = cv2.warpAffine(
        frame, affine, (CROP_SIZE, CROP_SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
    )
    return crop, np.array([x0, y0, side])


def _hog_people(hog, frame: np.ndarray) -> list[np.ndarray]:
    """Squares `(cx, cy, side)` around the upright people HOG finds in `frame`, surest first."""
    import cv2

    scale = HOG_WIDTH / frame.shape[1]
    if scale > 1:
        scale = min(scale, HOG_MAX_ENLARGE) if frame.shape[0] < HOG_ENLARGE_BELOW else 1.0
    resized = cv2.resize(
        frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    )
    if resized.shape[0] < HOG_WINDOW[1]:
        return []  # lower than one detection window (and OpenCV crashes on it)
    rects, weights = hog.detectMultiScale(resized, winStride=(8, 8), padding=(8, 8), scale=1.05)
    # HOG's window holds the person in its middle ~80% of the height: the box is margin enough.
    return [
        _square(x / scale, y / scale, (x + w) / scale, (y + h) / scale, 0.0)
        for (x, y, w, h), _ in sorted(zip(rects, np.ravel(weights)), key=lambda found: -found[1])
    ]


def _segmented_people(segmentation, frame: np.ndarray) -> list[np.ndarray]:
    """Squares `(cx, cy, side)` around the regions that person segmentation covers in `frame`, largest first."""
    import cv2

    mask = (segmentation.process(frame).segmentation_mask >= SEGMENTED).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask)
    regions = sorted(stats[1:count].tolist(), key=lambda region: -region[4])  # (x, y, w, h, area)
    return [
        _square(x, y, x + w, y + h, CROP_MARGIN) for x, y, w, h, area in regions if area >= SEGMENT_AREA * mask.size
    ][:SEGMENTS_CHECKED]


def _distinct(candidates: list[np.ndarray]) -> list[np.ndarray]:
    """Drops candidates whose centre lies inside an earlier one's square (the same person found twice)."""
    kept = []
    for square in candidates:
        if all(np.abs(square[:2] - other[:2]).max() > other[2] / 4 for other in kept):
            kept.append(square)
    return kept


def _within(found: tuple, square: np.ndarray) -> bool:
    """Whether landmarks found for the region `square` are a person there: not one beside it, nor a guess
    collapsed to a fraction of its size or spread far past it."""
    seen = _landmark_square(found[0][:, :2], found[0][:, 2])
    return np.abs(seen[:2] - square[:2]).max() <= square[2] / 2 and square[2] / 4 <= seen[2] <= square[2] * 2


def _upside_down(image: np.ndarray) -> bool:
    """Whether the landmarks `image [33, 3]` (pixels) stand on their head past the frame's top edge: the ankles'
    midpoint above the hips' and the hips' above the shoulders' and above the frame. At a 144p frame's top edge
    MediaPipe has read a head there with a body guessed upward out of the frame (HMI-Synth seed 6, clip 168: shoulders
    at y 8-11 px, hips -100, ankles -199); a squat or a crouch whose hidden ankles are guessed upward keeps its hips
    in the frame."""
    shoulders, hips, ankles = (image[[left, left + 1], 1].mean() for left in (11, 23, 27))  # y, down the picture
    return bool(ankles < hips < min(shoulders, 0.0))


def _in_frame(found: tuple, width: int, height: int) -> bool:
    """Whether most of the landmarks MediaPipe calls visible (or, with fewer than 4 of them, of all landmarks), and
    half of their box or more, lie inside the frame, the body not upside down (`_upside_down`): MediaPipe's detector
    also reads people into textures at the frame's edge (a corner of an HMI-Synth photograph, in 144p), with most of
    the "visible" body outside."""
    image = found[0]
    if _upside_down(image):
        return False
    seen = image[image[:, 2] >= 0.5] if (image[:, 2] >= 0.5).sum() >= 4 else image
    inside = (seen[:, 0] >= 0) & (seen[:, 0] < width) & (seen[:, 1] >= 0) & (seen[:, 1] < height)
    (x0, y0), (x1, y1) = seen[:, :2].min(axis=0), seen[:, :2].max(axis=0)
    overlap = max(min(x1, width) - max(x0, 0), 0) * max(min(y1, height) - max(y0, 0), 0)
    return inside.mean() >= 0.5 and overlap >= 0.5 * max(x1 - x0, 1) * max(y1 - y0, 1)


def _landmarks(result) -> tuple[np.ndarray, np.ndarray, None] | None:
    """MediaPipe's result -> image landmarks `[33, 3]` (x, y in [0, 1], visibility), world landmarks `[33, 3]`
    (metres) and no region of its own (see `_LandmarkModel`), or None when it found nobody."""
    if result.pose_landmarks is None or result.pose_world_landmarks is None:
        return None
    image = np.array([(p.x, p.y, p.visibility) for p in result.pose_landmarks.landmark], np.float32)
    world = np.array([(p.x, p.y, p.z) for p in result.pose_world_landmarks.landmark], np.float32)
    return image, world, None


def _next_square(found) -> np.ndarray:
    """The square to read the person in the next frame: the landmark model's own region where it read them alone,
    else the box of their visible landmarks (`_landmark_square`)."""
    return found[2] if found[2] is not None else _landmark_square(found[0][:, :2], found[0][:, 2])


# MediaPipe's C++ (TensorFlow Lite, absl) writes its log to file descriptor 2 directly, past `sys.stderr`,
# GLOG_minloglevel and TF_CPP_MIN_LOG_LEVEL, from its graph's threads, also after `process` has returned: "INFO:
# Created TensorFlow Lite XNNPACK delegate" once a process, absl's INFO and WARNING lines ("W0000 00:00:... 123
# landmark_projection_calculator.cc:186] Using NORM_RECT without IMAGE_DIMENSIONS ...", "... Feedback manager requires
# a model with a single signature ...", the latter each time a graph starts a model: `macm caption vtest.avi` wrote
# 15 of them). Its ERROR and FATAL lines ("E0000 ...", "F0000 ...") are kept.
# A line may also come glued to the end of a progress bar's update.
NATIVE_NOISE = re.compile(
    rb"(?:[IW]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\] "
    rb"|INFO: Created TensorFlow Lite XNNPACK delegate"
    rb"|WARNING: All log messages before absl::InitializeLog)[^\r\n]*[\r\n]?"
)


class _NativeNoiseFilter:
    """File descriptor 2 through a pipe while in use, and a thread that passes what comes on to the real stderr, line
    by line, less MediaPipe's `NATIVE_NOISE`: errors and progress bars stay visible (a bar's update, which ends in a
    carriage return, shows when the next one comes). Process-wide, as file descriptor 2 is: pose estimations in
    several threads share one pipe, the first to start puts it in place and the last to end takes it away. With
    MACM_DEBUG=1 (`macm --debug`) nothing is dropped."""

    def __init__(self):
        self.lock = threading.Lock()
        self.users = 0
        self.saved = self.read = self.thread = None

    @contextlib.contextmanager
    def __call__(self):
        if os.environ.get("MACM_DEBUG", "") not in ("", "0"):
            yield
            return
        with self.lock:
            if self.users == 0:
                self._start()
            self.users += 1
        try:
            yield
        finally:
            with self.lock:
                self.users -= 1
                if self.users == 0:
                    self._stop()

    def _start(self):
        sys.stderr.flush()
        self.saved = os.dup(2)
        self.read, write = os.pipe()
        os.dup2(write, 2)
        os.close(write)
        self.thread = threading.Thread(target=self._forward, name="macm-stderr", daemon=True)
        self.thread.start()

    def _forward(self):
        pending = b""
        while chunk := os.read(self.read, 1 << 16):
            *lines, pending = re.split(rb"(?<=[\r\n])", pending + chunk)
            if kept := NATIVE_NOISE.sub(b"", b"".join(lines)):
                os.write(self.saved, kept)
        if pending := NATIVE_NOISE.sub(b"", pending):
            os.write(self.saved, pending)

    def _stop(self):
        sys.stderr.flush()
        os.dup2(self.saved, 2)  # the pipe's last write end closes: the thread reads on to its end
        self.thread.join()
        os.close(self.read)
        os.close(self.saved)


_native_noise_dropped = _NativeNoiseFilter()


class _LazyPose:
    """MediaPipe's `Pose`, made at the first `process`: a graph that is never used (the crop's, for a person who
    fills the frame) costs no memory."""

    def __init__(self, **options):
        self.options = options
        self.graph = None

    def _make(self):
        from mediapipe.python.solutions.pose import Pose

        return Pose(**self.options)

    def process(self, image: np.ndarray):
        if self.graph is None:
            self.graph = self._make()
        return self.graph.process(image)

    def reset(self):
        if self.graph is not None:
            self.graph.reset()

    def close(self):
        if self.graph is not None:
            self.graph.close()


class _LazySegmentation(_LazyPose):
    """MediaPipe's person segmentation (selfie segmentation, general model), made at the first `process`."""

    def _make(self):
        from mediapipe.python.solutions.selfie_segmentation import SelfieSegmentation

        return SelfieSegmentation(model_selection=0)


class _LandmarkModel:
    """MediaPipe's pose landmark model (`LANDMARK_MODEL`, the graph's own) run by LiteRT on a `CROP_SIZE` crop as it
    is, without the graph's person detector: `(image [33, 3], world [33, 3], square)`, the landmarks as `_landmarks`
    gives them (x, y in [0, 1] of the crop, visibility; metres) and the square `(cx, cy, side)` (crop units) to read
    them in next, or None where its pose flag is under `PRESENT`. That square is the graph's own region for tracking:
    centred on the body's centre (auxiliary landmark 33), `ROI_SCALE` times the circle through its top (34) across,
    so that a body cut by the frame is read at its whole size (the box of its visible landmarks, a chest, is not one
    the model reads). Loaded at the first call."""

    def __init__(self):
        self.interpreter = None

    def __call__(self, crop: np.ndarray):
        if self.interpreter is None:
            self._load()
        self.interpreter.set_tensor(self.input, (crop.astype(np.float32) / 255.0)[None])  # [1, 256, 256, 3] in [0, 1]
        self.interpreter.invoke()
        if self.interpreter.get_tensor(self.flag)[0, 0] < PRESENT:
            return None
        points = self.interpreter.get_tensor(self.points).reshape(39, 5)  # x, y (crop pixels), z, logits
        world = self.interpreter.get_tensor(self.world).reshape(39, 3)[:33]
        auxiliary, points = points[33:35, :2] / CROP_SIZE, points[:33]  # the body's centre and top
        visibility = 1.0 / (1.0 + np.exp(-points[:, 3]))
        image = np.concatenate([points[:, :2] / CROP_SIZE, visibility[:, None]], axis=1)
        square = np.array([*auxiliary[0], 2 * ROI_SCALE * np.linalg.norm(auxiliary[1] - auxiliary[0])])
        return image.astype(np.float32), world.astype(np.float32), square

    def _load(self):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as err:
            raise ImportError(
                "Reading people MediaPipe's detector misses needs ai-edge-litert: `pip install 'macm[motion]'`."
            ) from err
        import mediapipe

        self.interpreter = Interpreter(model_path=os.path.join(os.path.dirname(mediapipe.__file__), LANDMARK_MODEL))
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]["index"]
        # The outputs: landmarks [1, 195] (39 x (x, y, z, visibility, presence)), pose flag [1, 1], segmentation,
        # heatmap, world landmarks [1, 117] (39 x 3).
        outputs = {detail["name"]: detail["index"] for detail in self.interpreter.get_output_details()}
        self.points, self.flag, self.world = outputs["Identity"], outputs["Identity_1"], outputs["Identity_4"]


class _PersonTracker:
    """Follows one person through consecutive frames; `step(frame)` gives their landmarks (image
    landmarks in frame pixels + visibility, world landmarks) or None. See `estimate_mediapipe`."""

    def __init__(self, pose_options: dict, person: int, graphs: tuple[_LazyPose, _LazyPose] | None = None):
        import cv2

        if graphs is not None and any(graph.options != pose_options for graph in graphs):
            raise ValueError(f"The pose graphs were made with {graphs[0].options}, this clip asks for {pose_options}.")
        self.owns_graphs = graphs is None
        self.crop_pose, self.frame_pose = graphs or (_LazyPose(**pose_options), _LazyPose(**pose_options))
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        self.landmark_model, self.segmentation = _LandmarkModel(), _LazySegmentation()
        self.person = person
        self.square = None  # (cx, cy, side) of the region to read in the next frame, in frame pixels
        self.last_seen = None  # the square of the person's landmarks when last found
        self.misses = 0
        self.most_found = 0  # the most people found in one search
        self.t = 0
        self.searched = False  # whether the last step searched
        self.searched_at = []  # the frames where it searched
        self.found_by_search = []  # the frames where a search found a person
        self.primed = None  # the square the crop's graph read on this frame since its last reset, if that is its state

    def close(self):
        """Closes its own graphs; borrowed ones (`pose_graphs`) are reset for the next clip instead."""
        self.segmentation.close()
        for pose in (self.crop_pose, self.frame_pose):
            if self.owns_graphs:
                pose.close()
            else:
                pose.reset()

    def step(self, frame: np.ndarray):
        found = self._follow(frame) if self.square is not None else None
        self.searched = found is None and self.square is None
        if self.searched:
            self.searched_at.append(self.t)
            found = self._search(frame)
            if found is None and self.square is not None:
                found = self._follow(frame)
            if found is not None:
                self.found_by_search.append(self.t)
        self.t += 1
        if found is not None:
            self.square, self.last_seen = _next_square(found), _landmark_square(found[0][:, :2], found[0][:, 2])
        return found

    def _follow(self, frame: np.ndarray):
        """The followed person's landmarks in `frame`, read on the crop around them, or on the whole frame
        when they fill much of it (`CROP_BELOW`); None counts as a miss."""
        height, width = frame.shape[:2]
        if self.square[2] >= CROP_BELOW * height:
            found = self._read_frame(frame)
            found = found if found is not None and _within(found, self.square) else self._read_crop(frame, self.square)
        else:
            found = self._read_crop(frame, self.square)
        self.misses = 0 if found is not None else self.misses + 1
        if self.misses > MAX_MISSES:
            self.square = None
            self.crop_pose.reset()  # its tracking state belongs to the lost region
        return found

    def backtrack(self, frame: np.ndarray, before: list[np.ndarray]) -> list:
        """The person's landmarks (or None) in `before`, the frames just before `frame` (this one, where they were
        found) without them, latest first: their crop followed back until it misses them more than `MAX_MISSES`
        times. Only after a search (an empty list otherwise: a person found again by following was looked for on
        their crop already). The crop's graph reads them, then is reset and given what it had read on `frame` again,
        so that following goes on as it would have (a third graph would cost ~110 MB; the whole frame's, given crops,
        more)."""
        if not self.searched:
            return []
        self.crop_pose.reset()
        square, misses, found = self.square, 0, []
        for earlier in before:
            found.append(self._read_crop(earlier, square))
            if found[-1] is not None:
                square, misses = _next_square(found[-1]), 0
            elif (misses := misses + 1) > MAX_MISSES:
                break
        self.crop_pose.reset()
        if self.primed is not None:
            self._read_crop(frame, self.primed)
        return found

    def _read_frame(self, frame: np.ndarray):
        """The landmarks (in frame pixels) of the person MediaPipe finds on the whole frame, or None."""
        height, width = frame.shape[:2]
        found = _landmarks(self.frame_pose.process(frame))
        if found is None:
            return None
        found[0][:, :2] *= (width, height)
        return found if _in_frame(found, width, height) else None

    def _read_crop(self, frame: np.ndarray, square: np.ndarray, again: bool = False):
        """The landmarks (in frame pixels) of the person MediaPipe finds on the crop `square`: by its graph, else by its
        landmark model on the crop as it is, then, with `again`, only when that finds them again on their own region
        (`AGAIN_WITHIN`); or None."""
        found = self._read_cut(frame, square, graph=True)
        if found is None and (found := self._read_cut(frame, square, graph=False)) is not None and again:
            confirmed = self._read_cut(frame, found[2], graph=False)
            if confirmed is None or (
                np.abs(confirmed[0][TORSO, :2] - found[0][TORSO, :2]).mean() > AGAIN_WITHIN * found[2][2]
            ):
                return None
        return found

    def _read_cut(self, frame: np.ndarray, square: np.ndarray, graph: bool):
        """The person's landmarks (in frame pixels) read on the crop `square` by the graph (`graph`) or by the landmark
        model alone, or None."""
        crop, (x0, y0, side) = _cut(frame, square)
        found = _landmarks(self.crop_pose.process(crop)) if graph else self.landmark_model(crop)
        if found is None:
            return None
        found[0][:, :2] = found[0][:, :2] * side + (x0, y0)
        if found[2] is not None:
            found[2][:2], found[2][2] = found[2][:2] * side + (x0, y0), found[2][2] * side
        return found if _within(found, square) and _in_frame(found, frame.shape[1], frame.shape[0]) else None

    def _search(self, frame: np.ndarray):
        """Looks for people on the whole frame; picks one into `self.square` by the documented rule and
        returns their landmarks when they were read (None when nobody is picked, or a big one HOG found)."""
        height, width = frame.shape[:2]
        people = []  # (square, landmarks) of each person found
        last_read, read = None, None  # the crop graph's last reading, and the square it read
        whole = self._read_frame(frame)
        if whole is not None:
            square = _landmark_square(whole[0][:, :2], whole[0][:, 2])
            if square[2] < CROP_BELOW * height:  # followed on its crop: read there (a guess is not found again)
                self.crop_pose.reset()
                whole = last_read = self._read_crop(frame, read := square, again=True)
            elif height < HOG_ENLARGE_BELOW:  # followed on the whole frame, but in a small frame read on its crop too
                self.crop_pose.reset()
                whole = (
                    whole if (last_read := self._read_crop(frame, read := square, again=True)) is not None else None
                )
        if whole is not None:
            people.append((_landmark_square(whole[0][:, :2], whole[0][:, 2]), whole))
        if self.t < SEARCH_EVERY or self.t % SEARCH_EVERY == 0:
            squares = _distinct([square for square, _ in people] + _hog_people(self.hog, frame))[len(people) :]
            for square in squares[:HOG_CHECKED]:
                if square[2] >= CROP_BELOW * height:
                    people.append((square, None))  # read on the whole frame, as a followed person this big is
                    continue
                self.crop_pose.reset()  # each region is read afresh
                found = last_read = self._read_crop(frame, read := square, again=True)
                # HOG finds whole upright people: one whose torso MediaPipe does not see is not one.
                if found is not None and (found[0][TORSO, 2] >= 0.5).reshape(2, 2).any(axis=1).all():
                    people.append((_landmark_square(found[0][:, :2], found[0][:, 2]), found))
            if not people:  # the regions person segmentation covers, largest first, then the whole frame
                whole_frame = np.array([width / 2, height / 2, max(width, height)], np.float64)
                for square in _segmented_people(self.segmentation, frame) + [whole_frame]:
                    self.crop_pose.reset()
                    found = last_read = self._read_crop(frame, read := square, again=True)
                    # A body cut by the frame (from the waist or the chest up) may show no hip: a shoulder is seen.
                    if found is not None and (found[0][TORSO[:2], 2] >= 0.5).any():
                        people.append((_landmark_square(found[0][:, :2], found[0][:, 2]), found))
                        break
        self.most_found = max(self.most_found, len(people))
        if self.last_seen is None and len(people) > self.person:
            # The people MediaPipe read first (HOG's big finds on small frames are often textures), tallest first.
            self.square, found = sorted(people, key=lambda person: (person[1] is None, -person[0][2]))[self.person]
        elif self.last_seen is not None and people:
            self.square, found = min(people, key=lambda person: np.abs(person[0][:2] - self.last_seen[:2]).sum())
        else:
            return None
        if found is not last_read:
            self.crop_pose.reset()  # its tracking state is another region's; the picked one's stays for `_follow`
        self.primed = read if found is not None and found is last_read else None
        self.misses = 0
        return found


def pose_graphs(min_confidence: float = 0.5) -> tuple[_LazyPose, _LazyPose]:
    """The two MediaPipe graphs `estimate_mediapipe` runs (on the crop around the person, on the whole frame),
    for a long-lived worker (a Ray actor) to pass as `graphs=` to every clip. They are reset after each clip,
    which gives the landmarks new graphs give and skips starting new ones (about 0.2 s each on 2 cores)."""
    options = _pose_options(min_confidence)
    return _LazyPose(**options), _LazyPose(**options)


def _pose_options(min_confidence: float) -> dict:
    return {
        "model_complexity": 1,
        "min_detection_confidence": min_confidence,
        "min_tracking_confidence": min_confidence,
    }


def estimate_mediapipe(
    frames: Iterable[np.ndarray],
    num_frames: int,
    fps: float,
    frame_size: tuple[int, int],
    min_confidence: float = 0.5,
    person: int = 0,
    progress: bool = True,
    graphs: tuple[_LazyPose, _LazyPose] | None = None,
) -> MotionTrack:
    """Runs MediaPipe Pose over `frames` (`[H, W, 3]` uint8 RGB, consecutive, at `fps`) and returns a
    `MotionTrack` of one person with one entry per frame (`valid` False where they were not found).

    The person's region is followed from frame to frame and MediaPipe reads it cut out and upscaled
    (`CROP_SIZE`; a person spanning half the frame height or more is read on the whole frame). Which person: at the
    first frame in which at least `person + 1` people are found (MediaPipe on the whole frame, plus HOG's finds
    that MediaPipe reads on their crop, or that span half the frame height), they are ranked, those MediaPipe
    read first, by height in the frame, tallest first, and the track follows the one at index `person` (0: the
    tallest, the main person). When that person is lost for more than `MAX_MISSES` frames, the track continues
    with the person found nearest to where they were last seen. When the person is found after frames without them,
    they are followed back through those frames (`BACKTRACK_BYTES` of them at most).

    `keypoints_2d` holds full-frame pixels and MediaPipe's per-landmark visibility (the legacy graph
    leaves `presence` at 0, so visibility is its only score).

    A still clip (`STILL_FRAMES`) gets the landmarks of the frame where the person was first found in every
    frame: MediaPipe's guesses on the same image wander (a photograph repeated for 3 s moved 0.15 body
    heights), and a still picture must give a still track.

    `graphs` (from `pose_graphs(min_confidence)`) are reused and reset instead of new ones started and closed.
    """
    try:
        import cv2  # noqa: F401
        import mediapipe  # noqa: F401
    except ImportError as err:
        raise ImportError(
            "The MediaPipe pose backend needs mediapipe: `pip install 'macm[motion]'` (or `bash scripts/setup.sh`)."
        ) from err
    from tqdm.auto import tqdm

    if person < 0:
        raise ValueError(f"person must be 0 or more (0 is the main person), got {person}.")
    width, height = frame_size
    keypoints = np.zeros((num_frames, len(MEDIAPIPE_LANDMARK_NAMES), 3), np.float32)
    joints = np.zeros((num_frames, NUM_JOINTS, 3), np.float32)
    valid = np.zeros(num_frames, bool)
    options = _pose_options(min_confidence)
    tracker, count = _PersonTracker(options, person, graphs), 0
    missed = collections.deque()  # (t, frame) of the frames since the person was last found, latest last
    first, still = None, True  # (frame index, square, region) where the person was first found; a still so far
    with _native_noise_dropped(), contextlib.closing(tracker):
        for t, frame in enumerate(
            tqdm(frames, total=num_frames, desc="MediaPipe pose", unit="frame", disable=not progress)
        ):
            if t >= num_frames:
                raise ValueError(f"Got more than the {num_frames} frames announced.")
            if frame.shape[:2] != (height, width):
                raise ValueError(f"Frame {t} is {frame.shape[1]}x{frame.shape[0]}, expected {width}x{height}.")
            count = t + 1
            found = tracker.step(np.ascontiguousarray(frame))
            if first is None and found is not None:
                first = (t, tracker.square, _region(frame, tracker.square))
            elif first is not None and still:
                still = np.abs(_region(frame, first[1]) - first[2]).mean() < STILL_FRAMES
            if found is None:
                missed.append((t, frame))
                while len(missed) * frame.nbytes > BACKTRACK_BYTES:
                    missed.popleft()
                continue
            if missed:  # the frames just before this one
                for (b, _), back in zip(reversed(missed), tracker.backtrack(frame, [f for _, f in reversed(missed)])):
                    if back is not None:
                        keypoints[b], joints[b], valid[b] = back[0], mediapipe_world_to_smpl_joints(back[1]), True
            missed.clear()
            keypoints[t] = found[0]
            joints[t] = mediapipe_world_to_smpl_joints(found[1])
            valid[t] = True
    if person > 0 and tracker.last_seen is None and tracker.most_found > 0:
        raise ValueError(
            f"Person {person} was asked for, but at most {tracker.most_found} "
            f"{'person was' if tracker.most_found == 1 else 'people were'} found in any frame "
            f"(people are numbered 0..{tracker.most_found - 1}, tallest first)."
        )
    if first is not None and still and count > 1:
        keypoints[:count], joints[:count], valid[:count] = keypoints[first[0]], joints[first[0]], True
    for t in tracker.found_by_search:  # kept when found in `FOUND_RUN` frames (or all) before the next search
        start, stop = t, next((searched for searched in tracker.searched_at if searched > t), count)
        while start > 0 and valid[start - 1]:  # the frames read back from it
            start -= 1
        if valid[start:stop].sum() < min(FOUND_RUN, count):
            keypoints[start:stop], joints[start:stop], valid[start:stop] = 0.0, 0.0, False  # as frames never found
    # Header frame counts can overstate what decodes: keep only the frames that came.
    return MotionTrack(
        fps=fps, frame_size=frame_size, keypoints_2d=keypoints[:count], joints_3d=joints[:count],
        valid=valid[:count], backend="mediapipe",
    )  # fmt: skip


__all__ = ["SMPL_FROM_MEDIAPIPE", "estimate_mediapipe", "mediapipe_world_to_smpl_joints", "pose_graphs"]
