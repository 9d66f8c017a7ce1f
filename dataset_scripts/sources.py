"""Readers for the three source formats of `macm build`. Each returns the clips it could read and a
problem for every item it could not, so that one bad item never loses the good ones (and `--strict`
can make any problem fatal).

- "hmi-bench": the released HMI-Bench folder (Song et al., arXiv 2510.24767): `HMI-Bench.json` (a list of
  `{"video": "videos/...", "caption": ...}`), `HMI-Bench-QA.json` (schema unpublished: read
  tolerantly, see `_qa_records`) and `videos/`.
- "jsonl": a `.jsonl` (or `.json` list) of `{"video", "caption"[, "qa"][, "split"]}` records, or
  LLaVA-style `{"video", "conversations": [{"from": "human"|"gpt", "value"}...]}` records
  (LLaVA-Video-178K, ShareGPT4Video). Video paths are relative to `video_root` (default: the file's folder).
- "synth": an HMI-Synth output folder (`metadata.jsonl`, `videos/`, `joints/`).

A built dataset is meant for upload, so every file a source names must resolve (links followed) inside
the source's root: the HMI-Bench or HMI-Synth folder, or the jsonl's `video_root`. A path that climbs
out (`../x.mp4`), an absolute path elsewhere, or a link pointing outside is refused, and so is a file
that is not a video (by its extension and by opening it).
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .schema import DIMENSIONS, empty_row

FORMATS = ("hmi-bench", "jsonl", "synth")
HMI_BENCH_CAPTIONS = "HMI-Bench.json"
HMI_BENCH_QA = "HMI-Bench-QA.json"
UNKNOWN_LICENSE = "unknown"
VIDEO_EXTENSIONS = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv"})

# A LLaVA conversation turn that asks for a description is the clip's caption; other turns are QA.
_DESCRIBE = re.compile(r"\b(describe|description|caption|what (is|are) happening|summar)", re.IGNORECASE)
_MEDIA_TOKENS = re.compile(r"<(video|image)>\s*")


class SourceError(ValueError):
    """A source that cannot be read at all (missing folder, unreadable captions file)."""


@dataclass(frozen=True)
class Problem:
    where: str  # file and item, e.g. "HMI-Bench-QA.json item 12 (video 'videos/a.mp4')"
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass
class Clip:
    split: str
    row: dict  # an HMI row whose `video` is still the source file's absolute path
    where: str  # the item it came from, for later problems


@dataclass
class SourceRead:
    clips: list[Clip]
    problems: list[Problem]
    root: Path  # the folder every file of the source must resolve into


def read_source(source, fmt: str, video_root=None, license: str | None = None) -> SourceRead:
    """Reads `source` in format `fmt`; checks videos exist and ids are unique (first one wins)."""
    source = Path(source)
    if not source.exists():
        raise SourceError(f"Source not found: {str(source)!r}.")
    if fmt == "hmi-bench":
        read = _read_hmi_bench(source, license or UNKNOWN_LICENSE)
    elif fmt == "jsonl":
        read = _read_jsonl(source, Path(video_root) if video_root else None, license)
    elif fmt == "synth":
        read = _read_synth(source)
    else:
        raise SourceError(f"Unknown source format {fmt!r}; choose one of {list(FORMATS)}.")
    return _check(read)


def outside_root(path: Path, root: Path) -> bool:
    """True when `path`, links followed, does not lie inside `root` (also resolved)."""
    return not path.resolve().is_relative_to(root.resolve())


def _video_problem(video: Path, root: Path) -> str | None:
    """Why `video` cannot go into a dataset built from `root`, or None."""
    from processing_macm.video_io import VideoReadError, probe_video

    if outside_root(video, root):
        return f"video {str(video)!r} resolves to {str(video.resolve())!r}, outside the source folder {str(root)!r}; refused"
    if not video.is_file():
        return f"video file not found: {str(video)!r}; skipped"
    if video.resolve().suffix.lower() not in VIDEO_EXTENSIONS:
        return f"{str(video)!r} is not a video file (extension {video.resolve().suffix!r}, expected one of {sorted(VIDEO_EXTENSIONS)}); refused"
    try:
        probe_video(video)
    except VideoReadError as err:
        return f"{err}; refused"
    return None


def _check(read: SourceRead) -> SourceRead:
    seen: dict[str, str] = {}
    clips = []
    for clip in read.clips:
        clip_id = clip.row["id"]
        if clip_id in seen:
            read.problems.append(Problem(clip.where, f"duplicate id {clip_id!r} (first at {seen[clip_id]}); skipped"))
        elif problem := _video_problem(Path(clip.row["video"]), read.root):
            read.problems.append(Problem(clip.where, problem))
        else:
            seen[clip_id] = clip.where
            clips.append(clip)
    return SourceRead(clips, read.problems, read.root)


def _load_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SourceError(f"{path.name}: not readable JSON ({err}).") from err


def _json_records(path: Path, problems: list[Problem]):
    """Yields `(where, record)` from a JSON list or a JSON-lines file; bad lines become problems."""
    if path.suffix == ".json":
        records = _load_json(path)
        if not isinstance(records, list):
            raise SourceError(f"{path.name}: expected a JSON list of items, got {type(records).__name__}.")
        yield from ((f"{path.name} item {index}", record) for index, record in enumerate(records))
        return
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                yield f"{path.name} line {number}", json.loads(line)
            except json.JSONDecodeError as err:
                problems.append(Problem(f"{path.name} line {number}", f"invalid JSON ({err}); skipped"))


def _first(record: dict, *keys):
    return next((record[key] for key in keys if record.get(key) not in (None, "")), None)


def _video_key(path: str) -> str:
    """Matches a QA item to its clip whatever the path spelling: 'videos/a.mp4', 'a.mp4', 'a'."""
    return Path(str(path)).stem


# --- QA ------------------------------------------------------------------------------------------


def _qa_type(raw, answer: str) -> str:
    text = re.sub(r"[^a-z]", "", str(raw or "").lower())
    if text in ("truefalse", "tf", "yesno", "binary", "judge", "judgement", "bool", "boolean"):
        return "true_false"
    if text.startswith("open") or text in ("oe", "qa", "freeform"):
        return "open"
    # No usable type: a yes/no/true/false answer is a true/false item.
    return "true_false" if re.fullmatch(r"\s*(yes|no|true|false)\b.*", answer, re.IGNORECASE | re.DOTALL) else "open"


def _dimension(raw) -> str:
    """One of the paper's five dimensions when `raw` names it (by its first word), else `raw` as given."""
    text = str(raw or "").strip()
    for dimension in DIMENSIONS:
        if text and text.lower().split()[0].rstrip("s") == dimension.lower().split()[0].rstrip("s"):
            return dimension
    return text


def _qa_item(record) -> dict:
    """One `{question, answer, type, dimension}`; raises ValueError saying what is missing."""
    if not isinstance(record, dict):
        raise ValueError(f"a QA pair must be an object, got {type(record).__name__}")
    question = _first(record, "question", "q", "Q", "query")
    answer = _first(record, "answer", "a", "A", "gt_answer", "ground_truth")
    if question is None or answer is None:
        raise ValueError(f"needs a question and an answer, has keys {sorted(record)}")
    answer = str(answer)
    return {
        "question": str(question),
        "answer": answer,
        "type": _qa_type(_first(record, "type", "qa_type", "question_type", "category"), answer),
        "dimension": _dimension(_first(record, "dimension", "dim", "aspect")),
    }


def _qa_records(data, problems: list[Problem], name: str):
    """Yields `(where, clip key, [qa items])` from the QA JSON in any of the layouts seen in the wild:
    a list of flat `{video, question, answer, ...}` items; a list of `{video, qa: [...]}` items; or a
    mapping `{video: [...]}`. Items without a video, question or answer become problems."""
    if isinstance(data, dict):
        entries = [(f"{name} key {key!r}", {"video": key, "qa": value}) for key, value in data.items()]
    elif isinstance(data, list):
        entries = [(f"{name} item {index}", record) for index, record in enumerate(data)]
    else:
        raise SourceError(f"{name}: expected a list or an object, got {type(data).__name__}.")
    for where, record in entries:
        try:
            if not isinstance(record, dict):
                raise ValueError(f"expected an object, got {type(record).__name__}")
            video = _first(record, "video", "video_path", "video_id", "id", "clip")
            if video is None:
                raise ValueError(f"names no video (keys {sorted(record)})")
            nested = _first(record, "qa", "qas", "questions", "qa_pairs")
            pairs = nested if nested is not None else [record]
            if not isinstance(pairs, list):
                raise ValueError(f"its QA list is a {type(pairs).__name__}")
        except ValueError as err:
            problems.append(Problem(where, f"{err}; skipped"))
            continue
        items = []
        for index, pair in enumerate(pairs):
            try:
                items.append(_qa_item(pair))
            except ValueError as err:
                problems.append(Problem(where if nested is None else f"{where} pair {index}", f"{err}; skipped"))
        yield where, _video_key(video), items


# --- the three formats --------------------------------------------------------------------------


def _captions(value) -> tuple[str | None, dict | None]:
    """`(caption, three-level captions)` from a plain caption string or an HMI three-level object."""
    if isinstance(value, dict):
        captions = {
            "fine": [_segment(s) for s in value.get("fine") or []],
            "contextual": [_segment(s) for s in value.get("contextual") or []],
            "summary": value.get("summary"),
        }
        return captions["summary"], captions
    return (None if value is None else str(value)), None


def _segment(value) -> dict:
    if not isinstance(value, dict) or "text" not in value:
        raise ValueError(f"a caption segment must be {{start, end, text}}, got {value!r:.80}")
    return {"start": float(value.get("start", 0.0)), "end": float(value.get("end", 0.0)), "text": str(value["text"])}


def _read_hmi_bench(folder: Path, license: str) -> SourceRead:
    captions_path, qa_path = folder / HMI_BENCH_CAPTIONS, folder / HMI_BENCH_QA
    if not captions_path.is_file():
        raise SourceError(f"{str(folder)!r} is not an HMI-Bench folder: it has no {HMI_BENCH_CAPTIONS}.")
    problems: list[Problem] = []
    clips = []
    for where, record in _json_records(captions_path, problems):
        try:
            if not isinstance(record, dict):
                raise ValueError(f"expected an object, got {type(record).__name__}")
            video = _first(record, "video", "video_path", "path")
            caption, captions = _captions(_first(record, "caption", "captions", "description", "text"))
            if video is None or not caption:
                raise ValueError(f"needs a video and a caption, has keys {sorted(record)}")
        except ValueError as err:
            problems.append(Problem(where, f"{err}; skipped"))
            continue
        clip_id = str(_first(record, "id", "video_id") or _video_key(video))
        row = empty_row(
            id=clip_id, video=str(folder / video), caption=caption, captions=captions,
            source=str(record.get("source") or "hmi-bench"), license=license,
        )  # fmt: skip
        clips.append(Clip("test", row, f"{where} (video {video!r})"))

    if not qa_path.is_file():
        problems.append(Problem(HMI_BENCH_QA, "file not found; clips have no QA"))
        return SourceRead(clips, problems, folder)
    try:
        qa_data = _load_json(qa_path)
        by_key: dict[str, Clip] = {}
        for clip in clips:  # the first of duplicate ids is the one kept (`_check`): it gets the QA
            by_key.setdefault(clip.row["id"], clip)
            by_key.setdefault(_video_key(clip.row["video"]), clip)
        for where, key, items in _qa_records(qa_data, problems, HMI_BENCH_QA):
            if key not in by_key:
                problems.append(Problem(where, f"QA for unknown video {key!r}; skipped"))
                continue
            by_key[key].row["qa"].extend(items)
    except SourceError as err:
        problems.append(Problem(HMI_BENCH_QA, f"{err} No QA read"))
    return SourceRead(clips, problems, folder)


def _from_conversations(turns) -> tuple[str | None, list[dict]]:
    """LLaVA `conversations`: a describe request's answer is the caption, other human/gpt pairs QA."""
    if not isinstance(turns, list) or not all(isinstance(t, dict) and "value" in t for t in turns):
        raise ValueError("`conversations` must be a list of {from, value} turns")
    caption, qa = None, []
    for ask, reply in zip(turns[0::2], turns[1::2]):
        question = _MEDIA_TOKENS.sub("", str(ask["value"])).strip()
        answer = str(reply["value"]).strip()
        if caption is None and _DESCRIBE.search(question):
            caption = answer
        else:
            qa.append({"question": question, "answer": answer, "type": _qa_type(None, answer), "dimension": ""})
    return caption, qa


def _read_jsonl(path: Path, video_root: Path | None, license: str | None) -> SourceRead:
    if path.is_dir():
        raise SourceError(f"{str(path)!r} is a folder; the jsonl format reads one .jsonl or .json file.")
    video_root = video_root or path.parent
    problems: list[Problem] = []
    clips = []
    for where, record in _json_records(path, problems):
        try:
            if not isinstance(record, dict):
                raise ValueError(f"expected an object, got {type(record).__name__}")
            video = _first(record, "video", "video_path", "path")
            caption, captions = _captions(_first(record, "caption", "captions"))
            qa = [_qa_item(item) for item in record.get("qa") or []]
            if "conversations" in record:
                described, asked = _from_conversations(record["conversations"])
                caption, qa = caption or described, qa + asked
            if video is None or (not caption and not qa):
                raise ValueError(f"needs a video and a caption, QA or conversations; has keys {sorted(record)}")
        except ValueError as err:
            problems.append(Problem(where, f"{err}; skipped"))
            continue
        row = empty_row(
            id=str(_first(record, "id", "video_id") or _video_key(video)), video=str(video_root / video),
            caption=caption, captions=captions, qa=qa,
            source=str(_first(record, "source", "data_source") or path.stem),
            license=str(license or record.get("license") or UNKNOWN_LICENSE),
        )  # fmt: skip
        clips.append(Clip(str(record.get("split") or "train"), row, f"{where} (video {video!r})"))
    return SourceRead(clips, problems, video_root)


def _read_synth(folder: Path) -> SourceRead:
    metadata = folder / "metadata.jsonl"
    if not metadata.is_file():
        raise SourceError(
            f"{str(folder)!r} is not an HMI-Synth folder: it has no metadata.jsonl (make one with `macm synth`)."
        )
    problems: list[Problem] = []
    clips = []
    for where, record in _json_records(metadata, problems):
        try:
            if not isinstance(record, dict):
                raise ValueError(f"expected an object, got {type(record).__name__}")
            missing = [key for key in ("id", "video", "joints", "caption") if not record.get(key)]
            if missing:
                raise ValueError(f"lacks {missing}")
            _, captions = _captions(record.get("captions"))
            joints_path = folder / record["joints"]
            if outside_root(joints_path, folder):
                raise ValueError(
                    f"ground-truth joints {record['joints']!r} resolve outside the source folder; refused"
                )
            try:
                joints = np.load(joints_path, allow_pickle=False)
            except (OSError, ValueError) as err:
                raise ValueError(f"ground-truth joints {record['joints']!r} not readable ({err})") from err
            if joints.ndim != 3 or joints.shape[1:] != (22, 3):
                raise ValueError(f"ground-truth joints must be [T, 22, 3], got {list(joints.shape)}")
            row = empty_row(
                id=str(record["id"]), video=str(folder / record["video"]), caption=str(record["caption"]),
                captions=captions, qa=[_qa_item(item) for item in record.get("qa") or []],
                ground_truth={"joints_3d": joints.astype(np.float32), "program": json.dumps(record.get("program")),
                              "synth_version": int(record.get("synth_version") or 1)},  # folders before v2 are v1
                source=str(record.get("source") or "hmi-synth"), license=str(record.get("license") or "CC0-1.0"),
            )  # fmt: skip
        except ValueError as err:
            problems.append(Problem(where, f"{err}; skipped"))
            continue
        clips.append(Clip(str(record.get("split") or "train"), row, f"{where} (id {record['id']!r})"))
    return SourceRead(clips, problems, folder)


__all__ = [
    "FORMATS",
    "VIDEO_EXTENSIONS",
    "Clip",
    "Problem",
    "SourceError",
    "SourceRead",
    "outside_root",
    "read_source",
]
