"""HMI-format rows → training conversations, for map-style and streamed datasets alike.

One row gives one conversation per target: its caption ("Describe the person's movements…") and each
of its QA pairs (true/false questions get the suffix evaluation uses, so training and `macm eval`
ask the same way), or at most `qa_per_row` of them, drawn by the row's id. A conversation keeps the
row's id, the video's absolute path and the motion struct, which the collator turns into model inputs.
"""

import os
import random
from pathlib import Path

from dataset_scripts.loading import load_hmi_split
from dataset_scripts.schema import qa_prompt, require_datasets
from macm_cli import check_pretrained
from processing_macm import DEFAULT_PROMPT
from processing_macm.video_io import VideoReadError, probe_video

CONVERSATION_COLUMNS = ("id", "video", "prompt", "answer", "motion")


class InvalidRowError(ValueError):
    """A row that cannot be trained on (unusable video, empty caption); the message names it."""


def resolve_dataset_dir(name_or_path: str, option: str = "--dataset_name") -> Path:
    """A local HMI dataset folder, or a snapshot of a Hub dataset repo (the videos are files in the
    repo, referenced by relative path, so the whole repo is needed, not only the Parquet shards).
    `option` names the argument in the error for a missing folder or an unreachable Hub."""
    check_pretrained(name_or_path, option, repo_type="dataset")
    if os.path.isdir(name_or_path):
        path = Path(name_or_path)
    else:
        from huggingface_hub import snapshot_download

        path = Path(snapshot_download(name_or_path, repo_type="dataset"))
    if not (path / "README.md").is_file():
        raise FileNotFoundError(
            f"{name_or_path} is not an HMI dataset (no README.md with `configs:`); build one with `macm build`."
        )
    return path


class RowsToConversations:
    """Batched `datasets.map` function: rows in, conversations out.

    A row without a usable video (missing, not a video, no frames) or with an empty caption raises
    `InvalidRowError` naming it; with `skip_invalid=True` it gives no conversation instead and is
    recorded in `skipped` (id → reason), which `summary()` reports. For a streamed dataset the rows
    are checked as training reads them, so the record is complete only once training has ended.

    `qa_per_row` keeps at most that many of a row's QA pairs, the same ones on every run (drawn with the
    row's id as seed): an HMI-Synth row has about 16 questions to its one caption, so without a limit
    captions are 6% of the conversations and a model tuned on them learns to answer, not to describe.
    """

    def __init__(
        self, dataset_dir: Path, with_qa: bool = True, skip_invalid: bool = False, qa_per_row: int | None = None
    ):
        if qa_per_row is not None and qa_per_row < 1:
            raise ValueError(
                f"qa_per_row must be at least 1 (or None for all), got {qa_per_row}; `with_qa: false` trains on captions alone."
            )
        self.dataset_dir = Path(dataset_dir)
        self.with_qa = with_qa
        self.qa_per_row = qa_per_row
        self.skip_invalid = skip_invalid
        self.skipped: dict[str, str] = {}

    def problem(self, row: dict) -> str | None:
        if not (row["caption"] or "").strip():
            return "empty caption"
        try:
            probe_video(self.dataset_dir / row["video"])
        except VideoReadError as err:
            return f"unusable video: {err}"
        return None

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        out = {name: [] for name in CONVERSATION_COLUMNS}
        for index, row_id in enumerate(batch["id"]):
            row = {name: values[index] for name, values in batch.items()}
            problem = self.problem(row)
            if problem is not None:
                if not self.skip_invalid:
                    raise InvalidRowError(
                        f"Row {row_id!r}: {problem}. Fix the row, or set `skip_invalid_rows: true` to skip such rows."
                    )
                self.skipped[row_id] = problem
                continue
            questions = (row["qa"] or []) if self.with_qa else []
            if self.qa_per_row is not None and len(questions) > self.qa_per_row:
                questions = random.Random(row_id).sample(questions, self.qa_per_row)
            pairs = [(DEFAULT_PROMPT, row["caption"])] + [(qa_prompt(qa), qa["answer"]) for qa in questions]
            for prompt, answer in pairs:
                out["id"].append(row_id)
                out["video"].append(str(self.dataset_dir / row["video"]))
                out["prompt"].append(prompt)
                out["answer"].append(answer)
                out["motion"].append(row["motion"])
        return out

    def summary(self) -> str:
        if not self.skipped:
            return "no invalid rows"
        lines = [f"skipped {len(self.skipped)} invalid row(s):"] + [
            f"  - {i}: {why}" for i, why in self.skipped.items()
        ]
        return "\n".join(lines)


def load_conversations(dataset_dir: Path, split: str, streaming: bool, to_conversations: RowsToConversations):
    """The split as conversations (an `IterableDataset` when streaming)."""
    datasets = require_datasets()
    rows = load_hmi_split(dataset_dir, split, streaming=streaming)
    features = rows.features
    conversation_features = None
    if features is not None:
        conversation_features = datasets.Features(
            {
                "id": features["id"],
                "video": features["video"],
                "prompt": datasets.Value("string"),
                "answer": datasets.Value("string"),
                "motion": features["motion"],
            }
        )
    columns = list(features) if features is not None else None
    if streaming:
        return rows.map(to_conversations, batched=True, remove_columns=columns, features=conversation_features)
    # Not from the cache: the check must run, so that skipped rows are counted on every run.
    return rows.map(
        to_conversations,
        batched=True,
        remove_columns=columns,
        features=conversation_features,
        load_from_cache_file=False,
    )


def available_splits(dataset_dir: Path) -> list[str]:
    return list(require_datasets().get_dataset_split_names(str(dataset_dir)))


__all__ = [
    "CONVERSATION_COLUMNS",
    "InvalidRowError",
    "RowsToConversations",
    "available_splits",
    "load_conversations",
    "resolve_dataset_dir",
]
