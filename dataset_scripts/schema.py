"""The one row schema of HMI-format datasets, shared by the builder, the collator and the tests.

A row (ARCHITECTURE.md, "Dataset rows"):
    id        unique clip id
    video     path of the clip relative to the dataset folder ("videos/<id>.mp4"): the files travel
              with the Parquet shards, so `load_dataset(DATASET_DIR)` works offline and a Hub copy is
              a snapshot of the repo. A path, not `datasets.Video()`: its decoding needs torchcodec,
              whose CPU build needs a system FFmpeg (and whose newer releases are CUDA-linked); decode with `processing_macm.video_io`.
    caption   the clip's caption (the summary when only three-level captions exist)
    captions  HMI's three levels, when present: fine (2-5 s) and contextual (6-10 s) timed segments,
              and the whole-clip summary; None otherwise
    qa        question/answer pairs, `type` "open" or "true_false", `dimension` one of the paper's five
              (or "" when the source does not say)
    motion    a MotionTrack's arrays (None until `--extract-motion`); see `track_to_row`
    ground_truth  HMI-Synth only, else None: `joints_3d` (the rendered body's SMPL joints `[T, 22, 3]`)
              and `program` (the generating motion program, as JSON), `synth_version` (HMI-Synth
              release, 1 or 2). A struct because a null
              top-level Array3D reads back as NaN, not None (datasets 5.2).
    source, license   where the clip and its text come from, and under which licence
"""

import functools
import hashlib
import json
import re

from processing_macm.motion_track import MEDIAPIPE_LANDMARK_NAMES, NUM_JOINTS, MotionTrack

QA_TYPES = ("open", "true_false")
DIMENSIONS = (
    "Details of Movements",
    "Character Attributes",
    "Motivation and Reason",
    "Micro-expressions and Emotions",
    "Interaction with the Environment",
)


TRUE_FALSE_PROMPT = "{question} Answer true or false."


def qa_prompt(qa: dict) -> str:
    """The question as the model is asked it (training and evaluation alike)."""
    return TRUE_FALSE_PROMPT.format(question=qa["question"]) if qa["type"] == "true_false" else qa["question"]


def require_datasets():
    try:
        import datasets
    except ImportError as err:
        raise ImportError("HMI datasets need the `datasets` library: `pip install -e .[data]`.") from err
    return datasets


def hmi_features():
    """The `datasets.Features` of an HMI row."""
    ds = require_datasets()
    Value, List, Array2D, Array3D = ds.Value, ds.List, ds.Array2D, ds.Array3D
    segment = {"start": Value("float32"), "end": Value("float32"), "text": Value("string")}
    motion = {
        "fps": Value("float64"),
        "frame_size": List(Value("int32"), length=2),  # (width, height)
        "keypoints_2d": Array3D((None, len(MEDIAPIPE_LANDMARK_NAMES), 3), "float32"),  # [T, 33, 3]
        "joints_3d": Array3D((None, NUM_JOINTS, 3), "float32"),  # [T, 22, 3]
        "valid": List(Value("bool")),  # [T]
        "backend": Value("string"),
        # Optional SMPL parameters. body_pose is a nested list: [T, 69] (SMPL) or [T, 63] (SMPL-X
        # body), and Array2D cannot have a free second dimension.
        "global_orient": Array2D((None, 3), "float32"),
        "body_pose": List(List(Value("float32"))),
        "betas": List(Value("float32"), length=10),
        "transl": Array2D((None, 3), "float32"),
    }
    return ds.Features(
        {
            "id": Value("string"),
            "video": Value("string"),
            "caption": Value("string"),
            "captions": {"fine": List(segment), "contextual": List(segment), "summary": Value("string")},
            "qa": List(
                {
                    "question": Value("string"),
                    "answer": Value("string"),
                    "type": Value("string"),
                    "dimension": Value("string"),
                }
            ),
            "motion": motion,
            "ground_truth": {
                "joints_3d": Array3D((None, NUM_JOINTS, 3), "float32"),
                "program": Value("string"),
                "synth_version": Value("int32"),  # HMI-Synth release (1-4) that made the clip
            },
            "source": Value("string"),
            "license": Value("string"),
        }
    )


@functools.cache
def _column_names() -> tuple[str, ...]:
    return tuple(hmi_features())


def empty_row(**values) -> dict:
    """A row with every optional column None; `values` fills the rest. Unknown names are an error."""
    row = dict.fromkeys(_column_names())
    unknown = set(values) - set(row)
    if unknown:
        raise KeyError(f"Not HMI row columns: {sorted(unknown)}; the columns are {list(row)}.")
    row.update(values, qa=values.get("qa") or [])
    return row


def file_stem(clip_id: str) -> str:
    """A file name for a clip id: the id itself when it is safe, else a cleaned id plus a hash of the
    original (so that "a/b" and "a_b" never share a file)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", clip_id).lstrip(".")
    return safe if safe == clip_id else f"{safe}-{hashlib.sha1(clip_id.encode()).hexdigest()[:8]}"


def track_to_row(track: MotionTrack) -> dict:
    """A MotionTrack as the row's `motion` struct.

    The body mesh is not stored (`[T, V, 3]` per clip would dwarf the rest; it is re-posed from the
    SMPL parameters), and only MediaPipe's 33-point 2D layout fits the column.
    """
    if track.keypoints_2d.shape[1] != len(MEDIAPIPE_LANDMARK_NAMES):
        raise ValueError(
            f"HMI datasets store 2D keypoints in MediaPipe's 33-point layout; this {track.backend!r} track "
            f"has {track.keypoints_2d.shape[1]} points per frame. Keep it as a .npz file instead."
        )
    return {
        "fps": track.fps,
        "frame_size": list(track.frame_size),
        "keypoints_2d": track.keypoints_2d,
        "joints_3d": track.joints_3d,
        "valid": track.valid.tolist(),
        "backend": track.backend,
        "global_orient": track.global_orient,
        "body_pose": track.body_pose,
        "betas": track.betas,
        "transl": track.transl,
    }


def row_to_track(row: dict) -> MotionTrack | None:
    """The MotionTrack in a row (or in its `motion` struct), None when the row has none.
    Accepts rows in any `datasets` format (python lists or numpy arrays)."""
    motion = row.get("motion", row)
    if motion is None:
        return None
    optional = {name: motion.get(name) for name in ("global_orient", "body_pose", "betas", "transl")}
    return MotionTrack(
        fps=motion["fps"],
        frame_size=tuple(motion["frame_size"]),
        keypoints_2d=motion["keypoints_2d"],
        joints_3d=motion["joints_3d"],
        valid=motion["valid"],
        backend=motion["backend"],
        **{name: value for name, value in optional.items() if value is not None},
    )


def program_from_row(row: dict) -> list[dict] | None:
    """The HMI-Synth motion program of a row, decoded from its JSON column."""
    truth = row.get("ground_truth")
    return None if truth is None or truth["program"] is None else json.loads(truth["program"])


__all__ = [
    "DIMENSIONS",
    "QA_TYPES",
    "empty_row",
    "file_stem",
    "hmi_features",
    "program_from_row",
    "require_datasets",
    "row_to_track",
    "track_to_row",
]
