"""Whether the person moves in the scene, read from the video's pixels rather than the pose track.

A still person filmed by a shaking hand-held camera moves in the image only as the whole picture does, but MediaPipe's
landmarks jitter on each shaken frame as if the person moved: the real set's photos filmed that way
(`bench/real_footage`, "handheld") have a steady motion energy of 0.01-0.14 body heights, a man talking in a car
0.05. The pixels tell them apart: `scene_motion` follows corners of the picture from its middle frame to others
spread over the clip (Lucas-Kanade, kept where tracking back returns within BACK_PX), fits the one similarity of the
whole picture that the camera's shake makes of each frame, and measures how far the corners on the person stray from
it. On the real set (session 33): the 10 hand-held stills 0.0015-0.0042 body heights, the talking man 0.16, the
pedestrians 0.15 and more. On the HMI-Synth clips whose steady motion energy is under 0.15 (`hmi9e` and `hmi10`
validation and test, 250 `hmi9` training clips: 53 idle, 67 with an action), an idle person, who breathes and shifts
their weight, strays 0.021 and more, a person with an action 0.011 and more (a kick), but for 5 tracks that do not
move at all (motion energy 0, stated still already: `STILL_ENERGY`). Under SCENE_STILL the person stands still.
"""

import numpy as np

from processing_macm.motion_track import MotionTrack
from processing_macm.segments import segment_frames

SCENE_STILL = 0.007  # body heights: between the hand-held stills (0.0042) and the least action (0.011)
FRAMES = 60  # frames compared with the middle one, spread over the clip
LONGEST_SIDE = 320  # pixels the frames are shrunk to
CORNERS = 500
BACK_PX = 0.5  # how near a corner followed forward and back must return to be kept
FIT_PX = 1.0  # RANSAC's inlier distance for the camera's similarity
PERSON_VISIBLE = 0.5  # the landmark visibility that puts a landmark in the person's box
LEAST_CORNERS = 5


def scene_motion(video, track: MotionTrack, video_fps: float) -> float | None:
    """How far the person moves against the picture around them, in body heights: the 90th percentile, over the corners
    inside the person's box (their landmarks seen at `PERSON_VISIBLE`, padded by a tenth of the box's height), of the
    most a corner strays in any frame from where the frame's similarity to the middle frame puts it. `video` is a
    path or frames `[N, H, W, 3]` at `video_fps`; None without a person, with fewer than two frames or too few
    corners to follow."""
    import cv2

    found = np.flatnonzero(track.valid)
    if len(found) < 2:
        return None
    chosen = found[np.unique(np.linspace(0, len(found) - 1, min(FRAMES, len(found))).round().astype(int))]
    index = [int(round(k / track.fps * video_fps)) for k in chosen]  # video frame of each chosen track frame
    _, decoded = next(segment_frames(video, [np.array(sorted(set(index)))]))
    height, width = decoded[index[0]].shape[:2]
    scale = min(1.0, LONGEST_SIDE / max(height, width))
    size = (round(width * scale), round(height * scale))
    gray = [
        cv2.cvtColor(cv2.resize(decoded[i], size, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY) for i in index
    ]

    keypoints = track.keypoints_2d[track.valid]  # [N, P, 3]: x, y (track pixels), visibility
    seen = keypoints[..., 2] >= PERSON_VISIBLE
    if not seen.any():
        return None
    to_frame = np.array([size[0] / track.frame_size[0], size[1] / track.frame_size[1]])
    x0, x1 = np.percentile(keypoints[..., 0][seen] * to_frame[0], [1, 99])
    y0, y1 = np.percentile(keypoints[..., 1][seen] * to_frame[1], [1, 99])
    body = max(y1 - y0, 1.0)
    pad = 0.1 * body

    middle = gray[len(gray) // 2]
    corners = cv2.goodFeaturesToTrack(middle, CORNERS, 0.01, 4)
    if corners is None:
        return None
    corners = corners.reshape(-1, 2)  # [C, 2]
    inside = (
        (corners[:, 0] >= x0 - pad)
        & (corners[:, 0] <= x1 + pad)
        & (corners[:, 1] >= y0 - pad)
        & (corners[:, 1] <= y1 + pad)
    )
    strays, followed = np.zeros(len(corners)), np.zeros(len(corners), bool)
    for frame in gray:
        moved, forward, _ = cv2.calcOpticalFlowPyrLK(
            middle, frame, corners[:, None], None, winSize=(15, 15), maxLevel=3
        )
        back, backward, _ = cv2.calcOpticalFlowPyrLK(frame, middle, moved, None, winSize=(15, 15), maxLevel=3)
        moved = moved.reshape(-1, 2)
        kept = (forward.ravel() == 1) & (backward.ravel() == 1)
        kept &= np.linalg.norm(back.reshape(-1, 2) - corners, axis=1) < BACK_PX
        if kept.sum() < LEAST_CORNERS:
            continue
        camera, _ = cv2.estimateAffinePartial2D(
            corners[kept], moved[kept], method=cv2.RANSAC, ransacReprojThreshold=FIT_PX
        )
        if camera is None:
            continue
        off = np.linalg.norm(moved - (corners @ camera[:, :2].T + camera[:, 2]), axis=1)  # [C]
        strays = np.maximum(strays, np.where(kept, off, 0.0))
        followed |= kept
    on_person = strays[inside & followed]
    if len(on_person) < LEAST_CORNERS:
        return None
    return float(np.percentile(on_person, 90) / body)


__all__ = ["SCENE_STILL", "scene_motion"]
