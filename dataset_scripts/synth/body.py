"""Anny bodies: sample a person, pose it from a program's joint angles, return mesh and SMPL joints.

anny (Apache-2.0 code, CC0 assets) is z-up and faces -y; everything leaving this file is converted
to the SMPL convention used by the rest of the project: metres, y up, facing +z, x to the body's left.
"""

import functools
import os
from pathlib import Path

import numpy as np

# A decimated anny topology shipped in the wheel (1,229 vertices instead of 13,718): enough for
# MediaPipe to find the person, and cheap to skin and rasterise.
TOPOLOGY = "notoes_collapse10pc"
# anny bone whose head stands for each SMPL body joint, in SMPL's 22-joint order.
SMPL_JOINTS = {
    "pelvis": "root",
    "l_hip": "upperleg01.L",
    "r_hip": "upperleg01.R",
    "spine1": "spine04",
    "l_knee": "lowerleg01.L",
    "r_knee": "lowerleg01.R",
    "spine2": "spine02",
    "l_ankle": "foot.L",
    "r_ankle": "foot.R",
    "spine3": "spine01",
    "l_foot": "toe3-1.L",
    "r_foot": "toe3-1.R",
    "neck": "neck01",
    "l_collar": "shoulder01.L",
    "r_collar": "shoulder01.R",
    "head": "head",
    "l_shoulder": "upperarm01.L",
    "r_shoulder": "upperarm01.R",
    "l_elbow": "lowerarm01.L",
    "r_elbow": "lowerarm01.R",
    "l_wrist": "wrist.L",
    "r_wrist": "wrist.R",
}
JOINT_NAMES = tuple(SMPL_JOINTS)
# anny's rest pose holds the arms about 41 degrees out from the body (an A-pose).
REST_ARM_ABDUCTION = 41.0
ANNY_TO_SMPL = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])  # (x, y, z) -> (x, z, -y)
PALETTE = {  # name -> RGB; clothing colours are named in captions and QA
    "red": (200, 40, 40),
    "blue": (40, 70, 200),
    "green": (40, 150, 60),
    "yellow": (225, 200, 50),
    "black": (30, 30, 30),
    "white": (235, 235, 235),
    "grey": (128, 128, 128),
    "orange": (235, 130, 30),
    "purple": (120, 50, 160),
    "navy": (25, 35, 90),
    "brown": (110, 70, 40),
    "pink": (230, 140, 170),
}
SKIN_TONES = ((255, 220, 190), (235, 190, 150), (200, 150, 110), (160, 110, 75), (110, 75, 50))


def _require(module: str):
    try:
        return __import__(module)
    except ImportError as error:
        raise ImportError(f"HMI-Synth needs `{module}`: pip install -e .[synth]") from error


@functools.cache
def load_model():
    """The anny model, built once per process. anny caches its derived data (~35 s to build the
    first time) under $ANNY_CACHE_DIR, defaulting here to ~/.cache/anny, so later runs load in ~1 s."""
    os.environ.setdefault("ANNY_CACHE_DIR", str(Path.home() / ".cache" / "anny"))
    anny = _require("anny")
    torch = _require("torch")
    torch.set_num_threads(1)  # one process per core does better than threads on small batches
    return anny.Anny(topology=TOPOLOGY)


def sample_body(rng: np.random.Generator) -> dict:
    """Phenotype (anny's six parameters in [0, 1]) and flat colours of one person."""
    names = list(PALETTE)
    shirt, trousers = rng.choice(len(names), size=2, replace=False)
    return {
        "phenotype": {
            "gender": round(float(rng.uniform(0, 1)), 3),
            "age": round(float(rng.uniform(0.35, 0.75)), 3),  # adults: children's proportions change the rig
            "muscle": round(float(rng.uniform(0.2, 0.8)), 3),
            "weight": round(float(rng.uniform(0.2, 0.8)), 3),
            "height": round(float(rng.uniform(0.2, 0.9)), 3),
            "proportions": round(float(rng.uniform(0.2, 0.8)), 3),
        },
        "shirt": names[shirt],
        "trousers": names[trousers],
        "skin": list(SKIN_TONES[int(rng.integers(len(SKIN_TONES)))]),
    }


def _rotation(axis: str, degrees: np.ndarray) -> np.ndarray:
    """[T, 3, 3] rotations about a coordinate axis of anny's frame."""
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    one, zero = np.ones_like(c), np.zeros_like(c)
    i, j = {"x": (1, 2), "y": (2, 0), "z": (0, 1)}[axis]
    R = np.zeros((len(c), 3, 3))
    R[:, i, i], R[:, i, j], R[:, j, i], R[:, j, j] = c, -s, s, c
    k = 3 - i - j
    R[:, k, k] = one + zero
    return R


def _bone_rotations(angles: dict) -> dict[str, np.ndarray]:
    """Program angles (anatomical, degrees) -> anny bone rotations [T, 3, 3] in its 'local-ref' frame,
    where +x rotation swings a limb backward (and bends the spine and neck forward), -y raises the left
    arm sideways and +y the right, +z turns the spine and head to the left."""
    R = {}
    for s, bone, mirror in (("l", "L", 1.0), ("r", "R", -1.0)):
        R[f"upperarm01.{bone}"] = (
            _rotation("z", -mirror * angles[f"{s}_sh_horiz"])
            @ _rotation("x", -angles[f"{s}_sh_flex"])
            @ _rotation("y", mirror * (REST_ARM_ABDUCTION - angles[f"{s}_sh_abd"]))
        )
        R[f"lowerarm01.{bone}"] = _rotation("y", -mirror * angles[f"{s}_elbow"])
        R[f"upperleg01.{bone}"] = _rotation("y", -mirror * angles[f"{s}_hip_abd"]) @ _rotation(
            "x", -angles[f"{s}_hip_flex"]
        )
        R[f"lowerleg01.{bone}"] = _rotation("x", angles[f"{s}_knee"])
    for bone in ("spine04", "spine03", "spine02"):
        R[bone] = (
            _rotation("x", angles["spine_flex"] / 3)
            @ _rotation("y", angles["spine_side"] / 3)  # + leans to the left
            @ _rotation("z", angles["spine_twist"] / 3)  # + turns to the left
        )
    for bone in ("neck01", "head"):
        R[bone] = _rotation("x", angles["neck_flex"] / 2) @ _rotation("z", angles["neck_yaw"] / 2)
    return R


def pose_body(body: dict, angles: dict, yaw: np.ndarray, offset: np.ndarray):
    """Pose the body over T frames.

    Returns world `vertices` [T, V, 3] (feet on the floor y = 0), `faces` [F, 3], per-face `part`
    [F] (0 skin, 1 shirt, 2 trousers, 3 shoes), pelvis-centred SMPL `joints` [T, 22, 3] float32 and
    the same joints in the world, `world_joints` [T, 22, 3].
    """
    torch = _require("torch")
    model = load_model()
    num_frames = len(yaw)
    pose = torch.eye(4, dtype=torch.float64).repeat(num_frames, model.bone_count, 1, 1)
    for bone, rotation in _bone_rotations(angles).items():
        pose[:, model.bone_labels.index(bone), :3, :3] = torch.from_numpy(rotation)
    phenotype = {k: torch.full((num_frames,), v, dtype=torch.float64) for k, v in body["phenotype"].items()}
    with torch.no_grad():
        out = model(pose_parameters=pose, phenotype_kwargs=phenotype)
    vertices = out["vertices"].numpy() @ ANNY_TO_SMPL.T  # [T, V, 3]
    bone_heads = out["bone_poses"][:, :, :3, 3].numpy() @ ANNY_TO_SMPL.T  # [T, B, 3]
    joints = bone_heads[:, [model.bone_labels.index(b) for b in SMPL_JOINTS.values()]]  # [T, 22, 3]

    # Yaw about the vertical through the pelvis, then stand the lower foot on the floor and travel.
    c, s = np.cos(np.radians(yaw)), np.sin(np.radians(yaw))
    turn = np.zeros((num_frames, 3, 3))
    turn[:, 0, 0], turn[:, 0, 2], turn[:, 1, 1], turn[:, 2, 0], turn[:, 2, 2] = c, s, 1, -s, c
    vertices = vertices @ turn.transpose(0, 2, 1)
    joints = joints @ turn.transpose(0, 2, 1)
    sole = vertices[:, :, 1].min(axis=1)  # [T]
    vertices = vertices - sole[:, None, None] * np.array([0, 1, 0]) + offset[:, None, :]
    world_joints = joints - sole[:, None, None] * np.array([0, 1, 0]) + offset[:, None, :]
    joints_centred = (joints - joints[:, :1]).astype(np.float32)
    return vertices, model.get_triangular_faces().numpy(), _face_parts(model), joints_centred, world_joints


@functools.cache
def _face_parts(model) -> np.ndarray:
    """Clothing of each face from the bone that moves its vertices most: shirt on the trunk and upper
    arms, trousers on the legs, shoes on the feet, skin elsewhere (head, neck, forearms, hands)."""
    weights = model.vertex_bone_weights.numpy()
    indices = model.vertex_bone_indices.numpy()
    main_bone = indices[np.arange(len(indices)), weights.argmax(axis=1)]
    labels = np.array(model.bone_labels)[main_bone]
    part = np.zeros(len(labels), dtype=np.int64)
    part[[l.startswith(("spine", "clavicle", "shoulder", "upperarm")) for l in labels]] = 1
    part[[l.startswith(("pelvis", "upperleg", "lowerleg", "root")) for l in labels]] = 2
    part[[l.startswith(("foot", "toe")) for l in labels]] = 3
    faces = model.get_triangular_faces().numpy()
    return np.max(part[faces], axis=1)
