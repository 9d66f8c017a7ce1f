"""A small OpenCV rasteriser: perspective camera, painter's algorithm, flat Lambert shading.

Good enough for MediaPipe to find the person (ENVIRONMENT.md) and fast on a CPU: the decimated mesh
has ~2,400 triangles, about half of them face away from the camera and are culled.
"""

import numpy as np

from .body import PALETTE, _require

BACKGROUNDS = ("solid", "gradient", "noise")
FLOORS = ("grey", "wood", "green", "blue", "tiles")
_FLOOR_RGB = {"grey": (120, 120, 120), "wood": (150, 110, 70), "green": (70, 120, 60), "blue": (70, 90, 140), "tiles": (190, 190, 180)}
LIGHT = np.array([0.4, 0.8, 0.45]) / np.linalg.norm([0.4, 0.8, 0.45])  # from above, front-left (world)


def sample_camera(rng: np.random.Generator, size: int) -> dict:
    """Yaw around the person (0 = in front), height and field of view; distance is fitted later."""
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
    forward = (target - centre) / np.linalg.norm(target - centre)
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    return np.stack([right, down, forward]), centre


def fit_camera(camera: dict, vertices: np.ndarray) -> dict:
    """Choose the distance at which every vertex of every frame stays inside the frame, with margin.
    Adds `distance_m`, `target` and `focal_px` to the camera dict (also stored in the metadata)."""
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
    return camera | {"distance_m": round(float(distance), 3), "target": [round(float(x), 3) for x in target],
                     "focal_px": round(float(focal), 2)}


def _background(camera: dict, rotation: np.ndarray, centre: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Wall (solid, vertical gradient or smoothed noise) and the floor plane y = 0 drawn in perspective."""
    cv2 = _require("cv2")
    size = camera["width"]
    top, bottom = (np.array(c, dtype=np.float32) for c in camera["colors"])
    if camera["background"] == "solid":
        image = np.broadcast_to(top, (size, size, 3)).copy()
    elif camera["background"] == "gradient":
        mix = np.linspace(0, 1, size, dtype=np.float32)[:, None, None]
        image = np.broadcast_to((1 - mix) * top + mix * bottom, (size, size, 3)).copy()
    else:
        noise = cv2.resize(rng.uniform(0, 1, (12, 12)).astype(np.float32), (size, size), interpolation=cv2.INTER_CUBIC)
        image = (1 - noise[..., None]) * top + noise[..., None] * bottom
    # Floor: a grid of ground points ahead of the camera, so every projected point is in front of it.
    yaw = np.radians(camera["yaw_deg"])
    ahead, side = -np.array([np.sin(yaw), 0, np.cos(yaw)]), np.array([np.cos(yaw), 0, -np.sin(yaw)])
    base = np.array([centre[0], 0.0, centre[2]])
    focal = camera["focal_px"]
    floor_rgb = np.array(_FLOOR_RGB[camera["floor"]], dtype=np.float32)
    tiles = camera["floor"] in ("tiles", "wood")
    for i in range(-20, 20):
        for j, (near, far) in enumerate(zip(np.geomspace(0.5, 60, 24)[:-1], np.geomspace(0.5, 60, 24)[1:])):
            corners = [base + ahead * d + side * w for d, w in ((near, i), (near, i + 1), (far, i + 1), (far, i))]
            cam = (np.array(corners) - centre) @ rotation.T
            uv = focal * cam[:, :2] / cam[:, 2:3] + size / 2
            shade = 0.85 if tiles and (i + j) % 2 else 1.0
            cv2.fillConvexPoly(image, np.round(uv * 16).astype(np.int32), (floor_rgb * shade).tolist(), cv2.LINE_AA, 4)
    return image


def render_clip(vertices: np.ndarray, faces: np.ndarray, parts: np.ndarray, body: dict, camera: dict,
                rng: np.random.Generator):
    """Yield [H, W, 3] uint8 RGB frames of the posed mesh `vertices` [T, V, 3] seen by `camera`."""
    cv2 = _require("cv2")
    rotation, centre = _look_at(camera, np.array(camera["target"]), camera["distance_m"])
    background = _background(camera, rotation, centre, rng)
    size, focal = camera["width"], camera["focal_px"]
    colours = np.array([body["skin"], PALETTE[body["shirt"]], PALETTE[body["trousers"]], (35, 30, 30)], dtype=np.float64)
    face_rgb = colours[parts]  # [F, 3]
    for frame_vertices in vertices:
        image = background.copy()
        tri = frame_vertices[faces]  # [F, 3, 3]
        normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        normal /= np.linalg.norm(normal, axis=1, keepdims=True) + 1e-12
        centroid = tri.mean(axis=1)
        facing = np.einsum("fi,fi->f", normal, centre - centroid) > 0  # back faces are hidden anyway
        cam = (tri[facing] - centre) @ rotation.T  # [F', 3, 3]
        uv = focal * cam[..., :2] / cam[..., 2:3] + size / 2
        light = 0.35 + 0.65 * np.clip(normal[facing] @ LIGHT, 0, 1)
        rgb = face_rgb[facing] * light[:, None]
        order = np.argsort(-cam[..., 2].mean(axis=1))  # far to near: painter's algorithm
        points = np.round(uv * 16).astype(np.int32)  # 4 bits of sub-pixel precision
        for k in order:
            cv2.fillConvexPoly(image, points[k], rgb[k].tolist(), cv2.LINE_AA, 4)
        yield np.clip(image, 0, 255).astype(np.uint8)
