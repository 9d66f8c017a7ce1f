"""A small OpenCV rasteriser: perspective camera, painter's algorithm, flat Lambert shading.

Good enough for MediaPipe to find the person and fast on a CPU: the decimated mesh has ~2,400
triangles, about half of them face away from the camera and are culled.

Version 1: a camera within 60 degrees of the front, 0.8-1.8 m high, fitted so the whole body stays in
a square frame, in front of a flat-colour wall. Version 2 (`sample_camera_v2`, `place_camera`,
`render_clip_v2`): anywhere around the person at 0.5-8 m, looking down up to 60 degrees, the person
10-100% of the frame height or cut by it (knees, waist, chest up), pan and shake, 144p and up,
photographs as backdrop and floor, lighting changes, blur, noise and JPEG artefacts.
"""

import functools

import numpy as np

from .body import JOINT_NAMES, PALETTE, _require

BACKGROUNDS = ("solid", "gradient", "noise")
FLOORS = ("grey", "wood", "green", "blue", "tiles")
_FLOOR_RGB = {
    "grey": (120, 120, 120),
    "wood": (150, 110, 70),
    "green": (70, 120, 60),
    "blue": (70, 90, 140),
    "tiles": (190, 190, 180),
}
LIGHT = np.array([0.4, 0.8, 0.45]) / np.linalg.norm([0.4, 0.8, 0.45])  # from above, front-left (world)


def sample_camera(rng: np.random.Generator, size: int) -> dict:
    """Version 1: yaw around the person (0 = in front), height and field of view; distance is fitted later."""
    return {
        "yaw_deg": round(float(rng.uniform(-60, 60)), 2),
        "height_m": round(float(rng.uniform(0.8, 1.8)), 3),
        "fov_deg": round(float(rng.uniform(40, 55)), 2),
        "width": size,
        "height": size,
        "background": str(rng.choice(BACKGROUNDS)),
        "floor": str(rng.choice(FLOORS)),
        "colors": [[int(c) for c in rng.integers(40, 230, size=3)] for _ in range(2)],
    }


def _look_at(camera: dict, target: np.ndarray, distance: float) -> tuple[np.ndarray, np.ndarray]:
    """World -> camera rotation [3, 3] (rows: right, down, forward) and camera centre [3]."""
    yaw = np.radians(camera["yaw_deg"])
    centre = target + np.array([np.sin(yaw) * distance, 0.0, np.cos(yaw) * distance])
    centre[1] = camera["height_m"]
    return _rotation_to(target, centre), centre


def _rotation_to(target: np.ndarray, centre: np.ndarray) -> np.ndarray:
    forward = (target - centre) / np.linalg.norm(target - centre)
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    return np.stack([right, down, forward])


def fit_camera(camera: dict, vertices: np.ndarray) -> dict:
    """Version 1: choose the distance at which every vertex of every frame stays inside the frame, with
    margin. Adds `distance_m`, `target` and `focal_px` to the camera dict (also stored in the metadata)."""
    low, high = vertices.reshape(-1, 3).min(axis=0), vertices.reshape(-1, 3).max(axis=0)
    target = np.array([(low[0] + high[0]) / 2, (low[1] + high[1]) / 2, (low[2] + high[2]) / 2])
    focal = 0.5 * camera["width"] / np.tan(np.radians(camera["fov_deg"]) / 2)
    points = vertices[:, ::7].reshape(-1, 3)  # a subset of vertices is plenty to bound the body
    distance = 2.0
    for _ in range(40):
        rotation, centre = _look_at(camera, target, distance)
        cam = (points - centre) @ rotation.T
        uv = focal * cam[:, :2] / cam[:, 2:3]
        if cam[:, 2].min() > 0.3 and np.abs(uv).max() < 0.42 * camera["width"]:
            break
        distance *= 1.08
    return camera | {
        "distance_m": round(float(distance), 3),
        "target": [round(float(x), 3) for x in target],
        "focal_px": round(float(focal), 2),
    }


def _floor(image: np.ndarray, camera: dict, rotation: np.ndarray, centre: np.ndarray, principal: np.ndarray) -> None:
    """The floor plane y = 0 in perspective: a grid of ground points ahead of the camera, so every
    projected point is in front of it; wood and tiles alternate shades."""
    cv2 = _require("cv2")
    yaw = np.radians(camera["yaw_deg"])
    ahead, side = -np.array([np.sin(yaw), 0, np.cos(yaw)]), np.array([np.cos(yaw), 0, -np.sin(yaw)])
    base = np.array([centre[0], 0.0, centre[2]])
    focal = camera["focal_px"]
    floor_rgb = np.array(_FLOOR_RGB[camera["floor"]], dtype=np.float32)
    tiles = camera["floor"] in ("tiles", "wood")
    near_far = np.geomspace(0.5, 60, 24)
    for i in range(-20, 20):
        for j, (near, far) in enumerate(zip(near_far[:-1], near_far[1:])):
            corners = [base + ahead * d + side * w for d, w in ((near, i), (near, i + 1), (far, i + 1), (far, i))]
            cam = (np.array(corners) - centre) @ rotation.T
            uv = focal * cam[:, :2] / cam[:, 2:3] + principal
            shade = 0.85 if tiles and (i + j) % 2 else 1.0
            cv2.fillConvexPoly(image, np.round(uv * 16).astype(np.int32), (floor_rgb * shade).tolist(), cv2.LINE_AA, 4)


def _wall(kind: str, colors: list, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """[H, W, 3] float32 wall: solid, vertical gradient or smoothed noise between two colours."""
    cv2 = _require("cv2")
    height, width = shape
    top, bottom = (np.array(c, dtype=np.float32) for c in colors)
    if kind == "solid":
        return np.broadcast_to(top, (height, width, 3)).copy()
    if kind == "gradient":
        mix = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
        return np.broadcast_to((1 - mix) * top + mix * bottom, (height, width, 3)).copy()
    noise = cv2.resize(rng.uniform(0, 1, (12, 12)).astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)
    return (1 - noise[..., None]) * top + noise[..., None] * bottom


def _background(camera: dict, rotation: np.ndarray, centre: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Version 1: wall and floor for a square frame."""
    size = camera["width"]
    image = _wall(camera["background"], camera["colors"], (size, size), rng)
    _floor(image, camera, rotation, centre, np.array([size / 2, size / 2]))
    return image


def _draw_body(
    image: np.ndarray,
    frame_vertices: np.ndarray,
    faces: np.ndarray,
    face_rgb: np.ndarray,
    rotation: np.ndarray,
    centre: np.ndarray,
    focal: float,
    principal: np.ndarray,
    light: np.ndarray = LIGHT,
    ambient: float = 0.35,
    diffuse: float = 0.65,
) -> None:
    """Rasterise one posed mesh into `image`: back faces culled, far to near, Lambert shaded."""
    cv2 = _require("cv2")
    tri = frame_vertices[faces]  # [F, 3, 3]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normal /= np.linalg.norm(normal, axis=1, keepdims=True) + 1e-12
    centroid = tri.mean(axis=1)
    facing = np.einsum("fi,fi->f", normal, centre - centroid) > 0  # back faces are hidden anyway
    cam = (tri[facing] - centre) @ rotation.T  # [F', 3, 3]
    uv = focal * cam[..., :2] / cam[..., 2:3] + principal
    shade = ambient + diffuse * np.clip(normal[facing] @ light, 0, 1)
    rgb = face_rgb[facing] * shade[:, None]
    order = np.argsort(-cam[..., 2].mean(axis=1))  # far to near: painter's algorithm
    points = np.round(uv * 16).astype(np.int32)  # 4 bits of sub-pixel precision
    for k in order:
        cv2.fillConvexPoly(image, points[k], rgb[k].tolist(), cv2.LINE_AA, 4)


def _face_colours(body: dict, parts: np.ndarray) -> np.ndarray:
    colours = np.array(
        [body["skin"], PALETTE[body["shirt"]], PALETTE[body["trousers"]], (35, 30, 30)], dtype=np.float64
    )
    return colours[parts]  # [F, 3]


def render_clip(
    vertices: np.ndarray, faces: np.ndarray, parts: np.ndarray, body: dict, camera: dict, rng: np.random.Generator
):
    """Version 1: yield [H, W, 3] uint8 RGB frames of the posed mesh `vertices` [T, V, 3] seen by `camera`."""
    rotation, centre = _look_at(camera, np.array(camera["target"]), camera["distance_m"])
    background = _background(camera, rotation, centre, rng)
    size, focal = camera["width"], camera["focal_px"]
    face_rgb = _face_colours(body, parts)
    for frame_vertices in vertices:
        image = background.copy()
        _draw_body(image, frame_vertices, faces, face_rgb, rotation, centre, focal, np.array([size / 2, size / 2]))
        yield np.clip(image, 0, 255).astype(np.uint8)


# Version 2 ---------------------------------------------------------------------------------------------
# How a camera frames the person: the band of body height (0 = soles, 1 = top of the head) kept in view.
FRAMING_P = {"full": 0.8, "knees_up": 0.06, "waist_up": 0.08, "head_shoulders": 0.06}
FRAMING_BAND = {
    "full": (-0.03, 1.05),
    "knees_up": (0.33, 1.05),
    "waist_up": (0.56, 1.05),
    "head_shoulders": (0.74, 1.05),
}
# SMPL joints that the bottom edge of each cut framing hides.
HIDDEN_JOINTS = {
    "knees_up": ("l_ankle", "r_ankle"),
    "waist_up": ("l_knee", "r_knee", "l_ankle", "r_ankle"),
    "head_shoulders": ("l_hip", "r_hip", "l_knee", "r_knee", "l_ankle", "r_ankle"),
}
FRAME_HEIGHTS = (144, 180, 240, 256, 320, 360)
ASPECTS = (1.0, 4 / 3, 16 / 9)
BACKGROUNDS_V2 = {"photo": 0.6, "solid": 0.1, "gradient": 0.15, "noise": 0.15}
FLOORS_V2 = FLOORS + ("patterned",)  # patterned: a photograph laid on the ground
MAX_PITCH_DOWN, MAX_PITCH_UP = 60.0, 25.0
# Real photographs from Debian's opencv-doc package (OpenCV's samples/data, "Apache-2.0 AND BSD-3-Clause"
# in /usr/share/doc/opencv-doc/copyright), chosen by eye to show no people: the only person is ours.
PHOTO_DIR = "/usr/share/doc/opencv-doc/examples/data"
PHOTOS = (
    "aero1.jpg",
    "aero3.jpg",
    "apple.jpg",
    "board.jpg",
    "building.jpg",
    "fruits.jpg",
    "home.jpg",
    "leuvenA.jpg",
    "leuvenB.jpg",
    "orange.jpg",
    "starry_night.jpg",
    "stuff.jpg",
    "rubberwhale1.png",
    "smarties.png",
    "box_in_scene.png",
    "aloeL.jpg",
)
FLOOR_PHOTOS = ("aero1.jpg", "aero3.jpg", "board.jpg", "stuff.jpg", "starry_night.jpg")  # read as a surface


def sample_camera_v2(rng: np.random.Generator, size: int, framing: str, travels: bool) -> dict:
    """Where the camera is and what it does, before the body is posed (`place_camera` finishes it).

    yaw_deg: around the person (0 = in front of them at the start, +-180 = behind); height_m: 0.5-8 m,
    log-uniform; span: the part of the frame height the framed band should fill; frame height from
    FRAME_HEIGHTS up to `size`, aspect 1, 4:3 or 16:9; a panning camera follows a travelling person."""
    heights = [h for h in FRAME_HEIGHTS if h <= size] or [size]
    frame_height = int(rng.choice(heights))
    width = int(round(frame_height * float(rng.choice(ASPECTS)) / 2)) * 2
    background = str(rng.choice(list(BACKGROUNDS_V2), p=list(BACKGROUNDS_V2.values())))
    floor = str(rng.choice(FLOORS_V2))
    light = rng.normal(size=3) * [1, 0.3, 1] + [0, 1, 0]  # mostly from above
    return {
        "framing": framing,
        "yaw_deg": round(float(rng.uniform(-180, 180)), 2),
        # Log-uniform 0.5-8 m; a framing that cuts the legs off is filmed from about eye level, since from
        # high above the legs would show below the torso.
        "height_m": round(
            float(np.exp(rng.uniform(np.log(0.5), np.log(8.0))) if framing == "full" else rng.uniform(1.0, 2.2)), 3
        ),
        "span": round(float(rng.uniform(0.1, 0.95)), 3) if framing == "full" else 1.0,
        "fov_deg": round(float(rng.uniform(30, 65)), 2),
        "width": width,
        "height": frame_height,
        "pan": bool(travels and rng.uniform() < 0.6),
        "shake_deg": round(float(rng.uniform(0.1, 0.8)), 3) if rng.uniform() < 0.35 else 0.0,
        "background": background,
        "photo": str(rng.choice(PHOTOS)) if background == "photo" else None,
        "floor": floor,
        "floor_photo": str(rng.choice(FLOOR_PHOTOS)) if floor == "patterned" else None,
        "colors": [[int(c) for c in rng.integers(40, 230, size=3)] for _ in range(2)],
        "light": [round(float(x), 3) for x in light / np.linalg.norm(light)],
        "ambient": round(float(rng.uniform(0.25, 0.5)), 3),
        # Degradations, applied to the rendered frames (`degrade`).
        "brightness": round(float(rng.uniform(0.6, 1.3)), 3),
        "lighting_change": round(float(rng.uniform(0, 0.25)), 3) if rng.uniform() < 0.4 else 0.0,
        "blur_sigma": round(float(rng.uniform(0.3, 1.5)), 2) if rng.uniform() < 0.35 else 0.0,
        "noise_std": round(float(rng.uniform(1, 8)), 2) if rng.uniform() < 0.4 else 0.0,
        "jpeg_quality": int(rng.integers(20, 80)) if rng.uniform() < 0.4 else None,
    }


def _smooth(path: np.ndarray, fps: float, seconds: float = 1.0) -> np.ndarray:
    """Moving average of `path` [T, k] over `seconds`, edges padded: a camera operator's lag."""
    k = max(1, int(round(seconds * fps)))
    padded = np.pad(path, ((k // 2, k - 1 - k // 2), (0, 0)), mode="edge")
    kernel = np.ones(k) / k
    return np.stack([np.convolve(padded[:, i], kernel, mode="valid") for i in range(path.shape[1])], axis=1)


def _project(
    points: np.ndarray, rotation: np.ndarray, centre: np.ndarray, focal: float
) -> tuple[np.ndarray, np.ndarray]:
    """Image offsets from the principal point (uv [..., 2], pixels) and depth [...] of world `points`
    [..., 3]; `rotation` [3, 3], or [T, 3, 3] for points [T, N, 3]."""
    cam = (points - centre) @ np.swapaxes(rotation, -1, -2)
    return focal * cam[..., :2] / cam[..., 2:3], cam[..., 2]


def _shake(rng: np.random.Generator, num_frames: int, fps: float, degrees: float) -> np.ndarray:
    """[T, 3, 3] small rotations: hand-held jitter, smoothed noise of about `degrees` per axis."""
    if degrees == 0:
        return np.broadcast_to(np.eye(3), (num_frames, 3, 3))
    noise = _smooth(rng.normal(size=(num_frames, 3)), fps, 0.25)
    angles = np.radians(degrees) * noise / (noise.std(axis=0) + 1e-9)
    rotations = []
    for x, y, z in angles:
        cx, sx, cy, sy, cz, sz = np.cos(x), np.sin(x), np.cos(y), np.sin(y), np.cos(z), np.sin(z)
        rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
        ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
        rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
        rotations.append(rz @ ry @ rx)
    return np.array(rotations)


def place_camera(
    camera: dict, vertices: np.ndarray, joints: np.ndarray, fps: float, rng: np.random.Generator
) -> tuple[dict, np.ndarray]:
    """Put the camera where `camera` asks for, around the posed `vertices` [T, V, 3] (world metres).

    The framed band of the body fills `span` of the frame height (a full-body framing zooms out until
    every frame of the body fits; a cut framing moves its lower edge up until the joints it hides,
    HIDDEN_JOINTS, are out of frame in every frame); the camera looks down at most 60 degrees and stays
    1 m from the person. `joints` [T, 22, 3] are world SMPL joints.
    Returns the camera (plus `centre`, `target`, `focal_px`, `pitch_deg`, `distance_m`, `pan_deg`,
    `span`, `legs_in_frame`) and world -> camera rotations [T, 3, 3]."""
    body_height = float(vertices[0, :, 1].max())
    low, high = (f * body_height for f in FRAMING_BAND[camera["framing"]])
    shake = _shake(rng, len(vertices), fps, camera["shake_deg"])
    hidden = [JOINT_NAMES.index(name) for name in HIDDEN_JOINTS.get(camera["framing"], ())]
    for _ in range(10):
        centre, targets, rotations, focal = _aim(camera, vertices, low, high, shake, fps)
        uv, _ = _project(joints, rotations, centre, focal)  # [T, 22, 2]
        in_frame = (np.abs(uv[..., 0]) < camera["width"] / 2) & (np.abs(uv[..., 1]) < camera["height"] / 2)
        if not in_frame[:, hidden].any():
            break
        low += 0.04 * body_height
    else:
        hidden_names = HIDDEN_JOINTS[camera["framing"]]
        raise RuntimeError(f"could not frame the body {camera['framing']!r} without {hidden_names} in frame")
    legs = [JOINT_NAMES.index(name) for name in ("l_knee", "r_knee", "l_ankle", "r_ankle")]
    uv_body, _ = _project(vertices[:, ::7], rotations, centre, focal)
    span = (uv_body[..., 1].max(axis=1) - uv_body[..., 1].min(axis=1)).max() / camera["height"]
    forward = rotations[0, 2]
    pan = np.degrees(np.arccos(np.clip(forward @ rotations[-1, 2], -1, 1)))
    return camera | {
        "centre": [round(float(x), 3) for x in centre],
        "target": [round(float(x), 3) for x in targets[0]],
        "focal_px": round(float(focal), 2),
        "fov_deg": round(float(np.degrees(2 * np.arctan(0.5 * camera["height"] / focal))), 2),
        "pitch_deg": round(float(np.degrees(np.arcsin(-forward[1]))), 2),
        "distance_m": round(float(np.linalg.norm(centre - targets[0])), 3),
        "pan_deg": round(float(pan), 2),
        "span": round(float(min(span, 1.0)), 3),
        "legs_in_frame": bool(in_frame[:, legs].any()),
    }, rotations


def _aim(camera: dict, vertices: np.ndarray, low: float, high: float, shake: np.ndarray, fps: float):
    """Camera centre [3], per-frame targets [T, 3] and rotations [T, 3, 3], and the focal length (px) at
    which the band of heights `low`-`high` fills `span` of the frame."""
    num_frames, frame_h = len(vertices), camera["height"]
    path = vertices[:, :, [0, 2]].mean(axis=1)  # [T, 2] where the person is on the floor
    track = _smooth(path, fps) if camera["pan"] else np.broadcast_to((path.min(0) + path.max(0)) / 2, path.shape)
    targets = np.column_stack([track[:, 0], np.full(num_frames, (low + high) / 2), track[:, 1]])  # [T, 3]
    focal = 0.5 * frame_h / np.tan(np.radians(camera["fov_deg"]) / 2)
    distance = focal * (high - low) / (camera["span"] * frame_h)
    rise = camera["height_m"] - targets[0, 1]
    distance = max(distance, rise / np.sin(np.radians(MAX_PITCH_DOWN)), -rise / np.sin(np.radians(MAX_PITCH_UP)), 1.0)
    yaw = np.radians(camera["yaw_deg"])
    toward = np.array([np.sin(yaw), np.cos(yaw)])
    reach = np.sqrt(max(distance**2 - rise**2, 1e-6))
    # Far enough that the person never comes closer than 1 m (a walk toward the camera).
    reach = max(reach, float(((path - targets[0, [0, 2]]) @ toward).max()) + 1.0)
    centre = np.array([targets[0, 0] + toward[0] * reach, camera["height_m"], targets[0, 2] + toward[1] * reach])
    rotations = shake @ np.array([_rotation_to(target, centre) for target in targets])  # [T, 3, 3]
    # Exact focal length for the span, measured on the first frame's band.
    band = np.array([[targets[0, 0], low, targets[0, 2]], [targets[0, 0], high, targets[0, 2]]])
    uv, _ = _project(band, rotations[0], centre, 1.0)
    focal = camera["span"] * frame_h / max(abs(uv[1, 1] - uv[0, 1]), 1e-6)
    if camera["framing"] == "full":  # zoom out until every frame of the whole body fits, with margin
        points = vertices[:, ::7]  # [T, V', 3]
        for _ in range(60):
            uv, depth = _project(points, rotations, centre, focal)
            inside = (np.abs(uv[..., 0]) < 0.47 * camera["width"]) & (np.abs(uv[..., 1]) < 0.47 * frame_h)
            if inside.all() and depth.min() > 0.3:
                break
            focal *= 0.93
    return centre, targets, rotations, focal


@functools.cache
def _photo(name: str) -> np.ndarray:
    """[H, W, 3] float32 RGB photograph from PHOTO_DIR."""
    cv2 = _require("cv2")
    image = cv2.imread(f"{PHOTO_DIR}/{name}", cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(
            f"HMI-Synth v2 backgrounds need OpenCV's sample photographs: {PHOTO_DIR}/{name} is missing. "
            "Install them with `apt-get install opencv-doc`, or make version-1 clips (`--version 1`)."
        )
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB).astype(np.float32)


def _cover(image: np.ndarray, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """`image` scaled to cover `shape` (H, W) and cropped at a random place."""
    cv2 = _require("cv2")
    height, width = shape
    scale = max(height / image.shape[0], width / image.shape[1]) * rng.uniform(1.0, 1.6)
    target = (max(width, round(image.shape[1] * scale)), max(height, round(image.shape[0] * scale)))
    resized = cv2.resize(image, target, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    top, left = (int(rng.integers(resized.shape[k] - shape[k] + 1)) for k in (0, 1))
    return resized[top : top + height, left : left + width]


def _patterned_floor(
    image: np.ndarray,
    camera: dict,
    rotation: np.ndarray,
    centre: np.ndarray,
    principal: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """A photograph tiled on the ground ahead of the camera (a plane maps to the image by a homography)."""
    cv2 = _require("cv2")
    yaw = np.radians(camera["yaw_deg"])
    ahead, side = -np.array([np.sin(yaw), 0, np.cos(yaw)]), np.array([np.cos(yaw), 0, -np.sin(yaw)])
    base = np.array([centre[0], 0.0, centre[2]])
    pitch_up = max(0.0, float(rotation[2, 1]))  # forward's y > 0: looking up, the ground near the camera is unseen
    near = 0.5 + centre[1] * pitch_up / np.sqrt(max(1 - pitch_up**2, 1e-6))
    far = near + 2 * np.linalg.norm(base - np.array([camera["target"][0], 0, camera["target"][2]])) + 10
    corners = np.array([base + ahead * d + side * w for d, w in ((near, -far), (near, far), (far, far), (far, -far))])
    uv, _ = _project(corners, rotation, centre, camera["focal_px"])
    tiles = max(2, int(far / 3))  # a photograph every ~3 m
    texture = np.tile(_cover(_photo(camera["floor_photo"]), (256, 256), rng), (tiles, 2 * tiles, 1))
    src = np.float32([[0, 0], [texture.shape[1], 0], [texture.shape[1], texture.shape[0]], [0, texture.shape[0]]])
    homography = cv2.getPerspectiveTransform(src[[3, 2, 1, 0]], np.float32(uv + principal))
    cv2.warpPerspective(
        texture, homography, image.shape[1::-1], dst=image, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_TRANSPARENT
    )


def _backdrop(
    camera: dict, rotation: np.ndarray, centre: np.ndarray, canvas: tuple[int, int], rng: np.random.Generator
) -> np.ndarray:
    """[H', W', 3] float32 wall and floor seen with `rotation`, on a canvas larger than the frame."""
    if camera["background"] == "photo":
        image = _cover(_photo(camera["photo"]), canvas, rng).copy()
    else:
        image = _wall(camera["background"], camera["colors"], canvas, rng)
    principal = np.array([canvas[1] / 2, canvas[0] / 2])
    if camera["floor"] == "patterned":
        _patterned_floor(image, camera, rotation, centre, principal, rng)
    else:
        _floor(image, camera, rotation, centre, principal)
    return image


def degrade(frame: np.ndarray, camera: dict, t: float, rng: np.random.Generator) -> np.ndarray:
    """Lighting change, blur, sensor noise and JPEG artefacts on one [H, W, 3] float frame -> uint8."""
    cv2 = _require("cv2")
    gain = camera["brightness"] * (1 + camera["lighting_change"] * np.sin(2 * np.pi * t / 4.0))
    frame = frame * gain
    if camera["blur_sigma"]:
        frame = cv2.GaussianBlur(frame, (0, 0), camera["blur_sigma"])
    if camera["noise_std"]:
        frame = frame + rng.normal(0, camera["noise_std"], frame.shape).astype(np.float32)
    frame = np.clip(frame, 0, 255).astype(np.uint8)
    if camera["jpeg_quality"]:
        _, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, camera["jpeg_quality"]])
        frame = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    return frame


def render_clip_v2(
    vertices: np.ndarray,
    faces: np.ndarray,
    parts: np.ndarray,
    body: dict,
    camera: dict,
    rotations: np.ndarray,
    fps: float,
    rng: np.random.Generator,
):
    """Version 2: yield [H, W, 3] uint8 RGB frames of `vertices` [T, V, 3] seen with `rotations` [T, 3, 3].

    The background is drawn once, for the middle frame's rotation, on a canvas wide enough for the
    pan and shake; the camera only rotates, so each frame's background is that canvas warped by the
    homography K R_t R_ref^T K_ref^-1 (exact for a rotating camera, whatever the depth)."""
    cv2 = _require("cv2")
    height, width, focal = camera["height"], camera["width"], camera["focal_px"]
    centre = np.array(camera["centre"])
    reference = rotations[len(rotations) // 2]
    turn = np.arccos(np.clip(np.einsum("ti,i->t", rotations[:, 2], reference[2]), -1, 1)).max()
    margin = int(min(focal * np.tan(min(turn + np.radians(3), np.radians(60))), 1.5 * max(width, height))) + 4
    canvas = (height + 2 * margin, width + 2 * margin)
    yaw_ref = np.degrees(np.arctan2(-reference[2, 0], -reference[2, 2]))  # where the canvas camera faces
    backdrop = _backdrop(camera | {"yaw_deg": yaw_ref}, reference, centre, canvas, rng)
    k_ref = np.array([[focal, 0, canvas[1] / 2], [0, focal, canvas[0] / 2], [0, 0, 1]])
    k_frame = np.array([[focal, 0, width / 2], [0, focal, height / 2], [0, 0, 1]])
    face_rgb = _face_colours(body, parts)
    light = np.array(camera["light"])
    principal = np.array([width / 2, height / 2])
    for t, (frame_vertices, rotation) in enumerate(zip(vertices, rotations)):
        homography = k_frame @ rotation @ reference.T @ np.linalg.inv(k_ref)
        image = cv2.warpPerspective(
            backdrop, homography, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        _draw_body(
            image,
            frame_vertices,
            faces,
            face_rgb,
            rotation,
            centre,
            focal,
            principal,
            light,
            camera["ambient"],
            1 - camera["ambient"],
        )
        yield degrade(image, camera, t / fps, rng)
