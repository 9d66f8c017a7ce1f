"""`macm eval`: HMI-Bench evaluation of a model with the paper's metrics, resumable.

    macm eval --model PATH --dataset DIR [--split test] -o OUT_DIR [--ablation]
              [--judge-url URL --judge-model NAME | --judge-local PATH] [--batch-size N] [--max-samples N]

Generation writes one line per item to `predictions.jsonl` as it goes (`judgments.jsonl` for the
judge), so a run that stops resumes with the items it has not done. An item that cannot be generated
(unreadable or empty video, generation error) is recorded as a failure with its reason: failures are
final (delete their lines to retry them), left out of the scores and counted in the report.
"""

import argparse
import json
import os
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm.auto import tqdm

from dataset_scripts.loading import load_hmi_split
from dataset_scripts.schema import program_from_row, qa_prompt, row_to_track
from macm_cli import UserError, looks, positive_int
from macm_cli.captioner import is_read
from processing_macm.video_io import VideoReadError
from train.judge import Judge, LocalLMBackend, OpenAIChatBackend, summarize_scores
from train.metrics import caption_metrics
from train.motion_accuracy import motion_accuracy
from train.qa_accuracy import qa_kind_accuracy, true_false
from train.report import write_json, write_report


@dataclass(frozen=True)
class RunConfig:
    """How the captioner runs: one row of the results table."""

    name: str
    use_motion: bool = True
    decoding: str = "msd"
    keyframe_sampling: str = "farthest"
    answers: str = "read"  # the captioner's `answers`: questions it reads come from the row's caption and motion

    @property
    def slug(self) -> str:
        return "".join(c if c.isalnum() else "-" for c in self.name.lower()).strip("-")


# The paper's ablation order (Song et al., arXiv 2510.24767): SFT model without motion, + motion, + MSD, + keyframe sampling.
ABLATION = (
    RunConfig("vision-only", use_motion=False, decoding="greedy", keyframe_sampling="uniform"),
    RunConfig("+motion", decoding="greedy", keyframe_sampling="uniform"),
    RunConfig("+MSD", decoding="msd", keyframe_sampling="uniform"),
    RunConfig("+keyframe sampling", decoding="msd", keyframe_sampling="farthest"),
)


@dataclass(frozen=True)
class Task:
    """One generation: the caption of a row (`qa_index` None) or the answer to one of its questions."""

    key: str
    row_index: int
    prompt: str | None = None
    qa_index: int | None = None


class JsonlLog:
    """Records appended one JSON line at a time and flushed, keyed by their `key`.

    A run killed mid-write leaves a partial last line: it is dropped (and cut from the file) on
    reopening, so that item is simply redone. A later record with the same key wins.
    """

    def __init__(self, path):
        self.path = Path(path)
        self.records: dict[str, dict] = {}
        if self.path.exists():
            text = self.path.read_text()
            complete, _, partial = text.rpartition("\n") if not text.endswith("\n") else (text, "", "")
            if partial:
                with open(self.path, "r+") as f:
                    f.truncate(len(complete.encode()) + (1 if complete else 0))
            for number, line in enumerate(complete.splitlines(), 1):
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as err:
                    raise ValueError(f"{self.path} line {number} is not JSON ({err}); fix or delete it.") from err
                self.records[record["key"]] = record
        self._file = open(self.path, "a")  # noqa: SIM115 (kept open for appends; closed by close())

    def __contains__(self, key: str) -> bool:
        return key in self.records

    def get(self, key: str) -> dict | None:
        return self.records.get(key)

    def append(self, record: dict) -> None:
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()
        self.records[record["key"]] = record

    def close(self) -> None:
        self._file.close()


def load_split(dataset_dir, split: str, max_samples: int | None):
    ds = load_hmi_split(dataset_dir, split)
    return ds.select(range(min(max_samples, len(ds)))) if max_samples is not None else ds


def make_tasks(rows: list[dict], with_qa: bool) -> list[Task]:
    """Every caption first, then every question: consecutive tasks with one prompt share a batch."""
    tasks = [Task(row["id"], index) for index, row in enumerate(rows)]
    for index, row in enumerate(rows if with_qa else []):
        for q, qa in enumerate(row["qa"] or []):
            tasks.append(Task(f"{row['id']}#qa{q}", index, qa_prompt(qa), q))
    return tasks


def row_track(captioner, row: dict, video, tracks: dict):
    """The row's stored track, else the pose backend's: estimated once a row, kept in `tracks` (by row id) for the
    row's caption and its answers."""
    if row["id"] not in tracks:
        tracks[row["id"]] = row_to_track(row) if row.get("motion") else captioner.estimate_motion(video)
    return tracks[row["id"]]


def generate_batch(
    captioner, dataset, dataset_dir: Path, tasks: list[Task], config: RunConfig, max_new_tokens: int, tracks: dict
) -> list[dict]:
    """Records for one batch (all tasks share one prompt). One unreadable video fails the whole call,
    so a failed batch is redone one item at a time to pin the failure on its item."""
    rows = [dataset[t.row_index] for t in tasks]
    videos = [str(dataset_dir / row["video"]) if row["video"] else "" for row in rows]
    start = time.perf_counter()
    try:
        if not all(videos):
            raise VideoReadError("the row has no video path")
        # Rows without a stored track get one from the captioner's pose backend, once for their answers too.
        motion = [row_track(captioner, row, v, tracks) for row, v in zip(rows, videos)] if config.use_motion else None
        results = captioner.caption(
            videos,
            tracks=motion,
            prompt=tasks[0].prompt,
            answers=config.answers,
            use_motion=config.use_motion,
            decoding=config.decoding,
            keyframe_sampling=config.keyframe_sampling,
            max_new_tokens=max_new_tokens,
        )
    # Unreadable videos and torch's RuntimeErrors (e.g. out of memory) belong to the item; anything
    # else (a bad option, a bug) would fail every item alike, so it stops the run instead.
    except (VideoReadError, RuntimeError) as err:
        if len(tasks) > 1:
            return [
                r
                for t in tasks
                for r in generate_batch(captioner, dataset, dataset_dir, [t], config, max_new_tokens, tracks)
            ]
        return [{"key": tasks[0].key, "output": None, "error": f"{type(err).__name__}: {err}"}]
    seconds = (time.perf_counter() - start) / len(tasks)
    return [
        {
            "key": t.key,
            "output": r.caption,
            "error": None,
            "motion_used": bool(r.motion_used),
            "notice": r.notice,
            "described": r.described,
            "seconds": seconds,
        }
        for t, r in zip(tasks, results)
    ]


def batches(pending: list[Task], batch_size: int):
    """Yields batches of up to `batch_size` consecutive tasks that share a prompt."""
    while pending:
        batch = [pending[0]]
        while len(batch) < batch_size and len(pending) > len(batch) and pending[len(batch)].prompt == batch[0].prompt:
            batch.append(pending[len(batch)])
        yield batch
        pending = pending[len(batch) :]


def generate(captioner, dataset, dataset_dir: Path, tasks: list[Task], log: JsonlLog, config: RunConfig,
             batch_size: int, max_new_tokens: int, tracks: dict) -> None:  # fmt: skip
    """Generates every task not yet in `log`, in batches of consecutive tasks that share a prompt (`tracks`: see
    `row_track`)."""
    pending = [t for t in tasks if t.key not in log]
    with tqdm(total=len(pending), desc=f"generating ({config.name})", unit="item") as bar:
        for batch in batches(pending, batch_size):
            for record in generate_batch(captioner, dataset, dataset_dir, batch, config, max_new_tokens, tracks):
                log.append(record)
            bar.update(len(batch))


def read_answers(
    captioner, dataset, dataset_dir: Path, tasks: list[Task], log: JsonlLog, config: RunConfig, tracks: dict
) -> None:
    """Answers to the questions the captioner reads (`answers="read"`), from their row's caption in `log` and its
    motion: what `MACMCaptioner.caption(prompt=question)` returns, without captioning the clip again for each
    question (nor reading its motion or colours again: one track, one `heads_reading` and one colour read a row)."""
    readings, colours = {}, {}
    for task in tasks:
        row = dataset[task.row_index]
        described = log.get(row["id"])
        if task.key in log or described is None:
            continue
        record = {"key": task.key, "output": None, "error": described["error"]}  # the row's caption failed
        if described["output"] is not None:
            video = dataset_dir / row["video"]
            track = row_track(captioner, row, video, tracks) if config.use_motion else None
            if task.row_index not in readings:
                readings[task.row_index] = captioner.heads_reading(described["output"], track)
            reading = readings[task.row_index]
            coloured = looks.question_kind(task.prompt) in looks.COLOURED and track is not None
            if coloured and task.row_index not in colours:  # one read of the video for the row's colour questions
                colours[task.row_index] = captioner.clothing_colours(video, track)
            answer = captioner.answer(
                task.prompt, described["output"], reading, video, track, colours.get(task.row_index)
            )
            record = {**described, "key": task.key, "output": answer, "described": described["output"], "seconds": 0.0}
        log.append(record)


def _reference_true_false(rows: list[dict], task: Task) -> bool:
    answer = rows[task.row_index]["qa"][task.qa_index]["answer"]
    if true_false(answer) is None:
        raise ValueError(
            f"{task.key}: a true_false question whose answer {answer!r} is neither true/false nor yes/no."
        )
    return true_false(answer)


def _judged(judge: Judge, judgments: JsonlLog, key: str, ask) -> dict:
    """The judge's record for `key`, from the log when this judge already gave it."""
    log_key = f"{judge.name}::{key}"
    if log_key not in judgments:
        verdict = ask()
        judgments.append({"key": log_key, "value": verdict.value, "error": verdict.error,
                          "attempts": verdict.attempts, "reply": verdict.reply})  # fmt: skip
    return judgments.get(log_key)


def qa_scores(
    rows: list[dict], tasks: list[Task], records: dict, judge: Judge | None, judgments: JsonlLog | None
) -> dict | None:
    """QA accuracy per type: true/false by exact match of the leading true/false (yes/no), open-ended
    by the judge (None without one); and per kind of HMI-Synth question under "kinds" (train/qa_accuracy.py).
    Failed generations and judge failures are counted, not scored."""
    qa = {}
    for qa_type in ("true_false", "open"):
        typed = [t for t in tasks if t.qa_index is not None and rows[t.row_index]["qa"][t.qa_index]["type"] == qa_type]
        if not typed:
            continue
        answered = [t for t in typed if records[t.key]["error"] is None]
        entry = {"num": len(typed), "num_failed": len(typed) - len(answered), "accuracy": None}
        if qa_type == "true_false":
            correct = [true_false(records[t.key]["output"]) == _reference_true_false(rows, t) for t in answered]
        elif judge is not None:
            verdicts = [
                _judged(judge, judgments, t.key, lambda t=t, qa=rows[t.row_index]["qa"][t.qa_index]: judge.judge_answer(
                    qa["question"], records[t.key]["output"], qa["answer"]))
                for t in tqdm(answered, desc="judging answers", unit="item")
            ]  # fmt: skip
            correct = [v["value"] for v in verdicts if v["value"] is not None]
            entry["num_judge_failed"] = len(verdicts) - len(correct)
        else:
            correct = []  # open-ended answers need a judge
        entry["accuracy"] = sum(correct) / len(correct) if correct else None
        qa[qa_type] = entry
    # HMI-Synth's templates (counts, sides, speeds, order, direction, true/false), checked by rule.
    questions = [t for t in tasks if t.qa_index is not None]
    kinds = qa_kind_accuracy([(rows[t.row_index]["qa"][t.qa_index], records[t.key]["output"]) for t in questions])
    if kinds:
        qa["kinds"] = kinds
    return qa or None


def score(rows: list[dict], tasks: list[Task], log: JsonlLog, judge: Judge | None, judgments: JsonlLog | None) -> dict:
    """Every score of one run from its logged predictions; failed items are counted, not scored."""
    records = {t.key: log.get(t.key) for t in tasks}
    caption_tasks = [t for t in tasks if t.qa_index is None]
    ok = [t for t in caption_tasks if records[t.key]["error"] is None]
    failures = Counter(records[t.key]["error"].split(":")[0] for t in caption_tasks if records[t.key]["error"])
    # What the captioner said instead of using the motion, by kind ("no person", "glimpsed", "still", ...; see
    # `MACMCaptioner.caption`): a stated caption names no action, so these clips bound the action recall.
    notices = Counter(records[t.key]["notice"].split(":")[0] for t in caption_tasks if records[t.key].get("notice"))
    timings = {"generation_s": sum(r.get("seconds", 0.0) for r in records.values())}

    start = time.perf_counter()
    predictions = {t.key: records[t.key]["output"] for t in ok}
    caption = caption_metrics(predictions, {t.key: [rows[t.row_index]["caption"]] for t in ok}) if ok else None
    programs = [(predictions[t.key], program_from_row(rows[t.row_index])) for t in ok]
    programs = [(caption, program) for caption, program in programs if program is not None]
    motion = motion_accuracy(programs) if programs else None
    timings["metrics_s"] = time.perf_counter() - start

    start = time.perf_counter()
    judge_summary = None
    if judge is not None and ok:
        verdicts = [
            _judged(
                judge,
                judgments,
                t.key,
                lambda t=t: judge.score_caption(predictions[t.key], rows[t.row_index]["caption"]),
            )
            for t in tqdm(ok, desc="judging captions", unit="item")
        ]
        judge_summary = {"judge": judge.name, **summarize_scores([v["value"] for v in verdicts])}
    qa = qa_scores(rows, tasks, records, judge, judgments)
    timings["judge_s"] = time.perf_counter() - start
    return {
        "num_items": len(caption_tasks),
        "num_failed": len(caption_tasks) - len(ok),
        "failure_reasons": dict(failures),
        "failed_items": {t.key: records[t.key]["error"] for t in caption_tasks if records[t.key]["error"]},
        "notices": dict(sorted(notices.items())),
        "caption": caption,
        "judge": judge_summary,
        "qa": qa,
        "motion": motion,
        "timings": timings,
    }


def run_dir(out_dir: Path, identity: dict) -> Path:
    """`out_dir`, after checking that an existing run there is the same model, data and settings
    (resuming someone else's predictions would mix two evaluations silently)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    run_file = out_dir / "run.json"
    if run_file.exists():
        previous = json.loads(run_file.read_text())
        if previous != identity:
            changed = sorted(k for k in identity.keys() | previous.keys() if identity.get(k) != previous.get(k))
            raise ValueError(f"{out_dir} holds a run with other settings ({changed}); use another -o to start afresh.")
    else:
        write_json(run_file, identity)
    return out_dir


def evaluate(captioner, dataset_dir, out_dir, configs=(RunConfig("M-ACM"),), split: str = "test", model: str = "",
             judge: Judge | None = None, batch_size: int = 4, max_samples: int | None = None,
             max_new_tokens: int = 128, with_qa: bool = True, generator=None) -> dict[str, dict]:  # fmt: skip
    """Generates (resuming), scores and reports each config; returns `{config name: metrics}`.
    One config writes into `out_dir`, several into `out_dir/<slug>/` with the shared table at the top.
    `generator` (train/ray_eval.py's `RayGenerator`) generates on Ray actors instead of `captioner` here."""
    dataset_dir, out_dir = Path(dataset_dir).resolve(), Path(out_dir)
    dataset = load_split(dataset_dir, split, max_samples)
    # Everything but the motion arrays, which only generation reads (row by row).
    rows = dataset.remove_columns([c for c in ("motion",) if c in dataset.column_names]).to_list()
    tasks = make_tasks(rows, with_qa)
    runs = {}
    for config in configs:
        identity = {"model": model, "dataset": str(dataset_dir), "split": split, "config": asdict(config),
                    "max_new_tokens": max_new_tokens}  # fmt: skip
        directory = run_dir(out_dir / config.slug if len(configs) > 1 else out_dir, identity)
        log, judgments = JsonlLog(directory / "predictions.jsonl"), JsonlLog(directory / "judgments.jsonl")
        try:
            if generator is not None:  # its actors' captioners read the answers, captioning a clip for each
                generator.generate(tasks, log, config, batch_size, max_new_tokens)
            else:
                read = {t for t in tasks if config.answers == "read" and t.qa_index is not None and is_read(t.prompt)}
                generated = [t for t in tasks if t not in read]
                tracks = {}  # row id -> its track, for the row's captions and answers alike
                generate(captioner, dataset, dataset_dir, generated, log, config, batch_size, max_new_tokens, tracks)
                read_answers(captioner, dataset, dataset_dir, [t for t in tasks if t in read], log, config, tracks)
            runs[config.name] = score(rows, tasks, log, judge, judgments)
        finally:
            log.close()
            judgments.close()
        if len(configs) > 1:
            write_json(directory / "metrics.json", {config.name: runs[config.name]})
    write_report(out_dir, runs, f"{Path(model).name or 'model'} on {dataset_dir.name} ({split})")
    return runs


def build_judge(args) -> Judge | None:
    if args.judge_url:
        backend = OpenAIChatBackend(
            args.judge_url, args.judge_model, os.environ.get(args.judge_api_key_env), args.judge_timeout
        )
    elif args.judge_local:
        backend = LocalLMBackend(args.judge_local)
    else:
        return None
    return Judge(backend, args.judge_prompt, retries=args.judge_retries)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="macm eval", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="MACM checkpoint folder")
    p.add_argument("--dataset", required=True, help="HMI-format dataset folder (Parquet + README with configs)")
    p.add_argument("--split", default="test", help="dataset split to evaluate (default: test)")
    p.add_argument("-o", "--output", required=True, help="output folder; an existing run there is resumed")
    p.add_argument("--ablation", action="store_true", help="vision-only, +motion, +MSD, +keyframe sampling: one table")
    p.add_argument("--no-motion", action="store_true", help="single run without the motion pathway")
    p.add_argument(
        "--decoding",
        choices=("greedy", "msd", "grounded"),
        default="msd",
        help="single run's decoding (default: msd, as published)",
    )
    p.add_argument(
        "--keyframe-sampling", choices=("farthest", "uniform"), default="farthest",
        help="single run, overlay models: keyframes by the farthest-pose rule (default) or uniformly in time",
    )  # fmt: skip
    p.add_argument("--batch-size", type=positive_int, default=4, help="items generated together (default 4)")
    p.add_argument("--max-samples", type=positive_int, help="evaluate the first N rows only")
    p.add_argument(
        "--max-new-tokens", type=positive_int, default=128, help="longest generation, in tokens (default 128)"
    )
    p.add_argument("--skip-qa", action="store_true", help="captions only, no question answering")
    p.add_argument(
        "--answers", choices=("read", "generate"), default="read",
        help="read (default): questions about a movement's count, side, speed, direction or order and true/false "
        "statements are answered from the row's caption and motion, as `macm caption --prompt` answers them; "
        "generate: the model answers every question",
    )  # fmt: skip
    p.add_argument(
        "--executor", choices=("local", "ray"), default="local",
        help="generate in this process or on Ray actors, one model each (a GPU each when the cluster has GPUs; `macm[scale]`)",
    )  # fmt: skip
    p.add_argument("--ray-address", help="--executor ray: the cluster's address (default: a local Ray instance)")
    judge = p.add_argument_group("judge (five-dimension scores and open-ended QA; none: those are skipped)")
    judge.add_argument("--judge-url", help="OpenAI-compatible API base, e.g. http://localhost:8000/v1")
    judge.add_argument("--judge-model", help="model name the endpoint serves")
    judge.add_argument(
        "--judge-api-key-env", default="OPENAI_API_KEY", help="environment variable holding the API key"
    )
    judge.add_argument("--judge-local", help="folder of a transformers causal LM to judge with")
    judge.add_argument("--judge-prompt", default="judge_v1", help="prompt version in train/prompts/")
    judge.add_argument("--judge-timeout", type=float, default=60.0, help="seconds per judge call")
    judge.add_argument("--judge-retries", type=int, default=2, help="retries of a failed or unparsable judge call")
    args = p.parse_args(argv)
    if args.judge_url and args.judge_local:
        p.error("give --judge-url or --judge-local, not both")
    if args.judge_url and not args.judge_model:
        p.error("--judge-url needs --judge-model (the model name the endpoint serves)")
    if args.ray_address and args.executor != "ray":
        p.error("--ray-address needs --executor ray")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from macm_cli.captioner import MACMCaptioner

    # The cheap checks first: a typo must not cost the model load.
    if not (Path(args.dataset) / "README.md").is_file():
        raise UserError(
            f"--dataset {args.dataset}: not an HMI dataset folder (no README.md); build one with `macm build`."
        )
    if Path(args.output).exists() and not Path(args.output).is_dir():
        raise UserError(f"-o {args.output}: that is a file; give a folder for the results.")
    judge = build_judge(args)
    captioner, generator = None, None
    if args.executor == "ray":
        from train.ray_eval import RayGenerator

        generator = RayGenerator(args.model, args.dataset, args.split, args.max_samples, args.ray_address)
        representation = generator.motion_representation
    else:
        captioner = MACMCaptioner.from_pretrained(args.model)
        representation = captioner.model.config.motion_representation
    configs = ABLATION if args.ablation else (
        RunConfig("M-ACM", use_motion=not args.no_motion, decoding=args.decoding, keyframe_sampling=args.keyframe_sampling,
                  answers=args.answers),)  # fmt: skip
    if args.ablation and representation == "kinematic":
        configs = tuple(c for c in configs if c.name != "+keyframe sampling")
        print("The kinematic pathway reads every frame, not keyframes: the ablation has no keyframe-sampling row.")
    runs = evaluate(captioner, args.dataset, args.output, configs, args.split, str(Path(args.model).resolve()), judge,
                    args.batch_size, args.max_samples, args.max_new_tokens, with_qa=not args.skip_qa, generator=generator)  # fmt: skip
    print((Path(args.output) / "results.md").read_text())
    return 1 if all(m["num_failed"] == m["num_items"] for m in runs.values()) else 0


__all__ = ["ABLATION", "JsonlLog", "RunConfig", "batches", "evaluate", "generate", "main", "score"]
