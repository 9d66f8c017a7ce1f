"""Evaluation outputs: `metrics.json`, a markdown table (`results.md`) and a bar chart (`results.png`).

One row per run, so a single evaluation and an ablation share the code. Every file is written to a
temporary name and renamed, so an interrupted write never leaves a half file behind.
"""

import json
from pathlib import Path

from dataset_scripts.schema import DIMENSIONS
from processing_macm.atomic import atomic_path
from train.judge import OVERALL
from train.metrics import METRIC_NAMES, require
from train.motion_accuracy import ASPECTS
from train.qa_accuracy import KINDS


def atomic_write(path, write) -> Path:
    """Calls `write(tmp_path)` then renames the file over `path`."""
    with atomic_path(path) as tmp:
        write(tmp)
    return Path(path)


def write_json(path, data) -> Path:
    return atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps(data, indent=2) + "\n"))


def _fmt(value, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _row(name: str, m: dict) -> list[str]:
    caption, judge, qa = m["caption"] or {}, m["judge"] or {}, m["qa"] or {}
    return [
        name,
        f"{m['num_items'] - m['num_failed']}/{m['num_items']}",
        *(_fmt(caption.get(k), 3) for k in METRIC_NAMES),
        _fmt(judge.get(OVERALL), 2),
        _fmt(qa.get("true_false", {}).get("accuracy"), 3),
        _fmt(qa.get("open", {}).get("accuracy"), 3),
    ]


def _kind_cell(entry: dict | None) -> str:
    if entry is None:
        return "–"
    return f"{_fmt(entry['accuracy'], 3)} ({entry['num'] - entry['num_failed']})"


def results_table(runs: dict[str, dict]) -> str:
    """Markdown: one row per run; `–` where a score was not computed (no judge, no QA, no program).
    Motion-detail accuracy, QA accuracy per kind of question and the judge's five dimensions get tables of their
    own when computed."""
    header = ["run", "captioned", *METRIC_NAMES, "Judge Overall", "QA T/F acc", "QA open acc"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_row(name, m)) + " |" for name, m in runs.items()]
    checked = {name: m["motion"] for name, m in runs.items() if m["motion"]}
    if checked:
        lines += ["", "Motion-detail accuracy:", "", "| run | " + " | ".join(a.replace("_", " ") for a in ASPECTS) + " |",
                  "|" + "---|" * (len(ASPECTS) + 1)]  # fmt: skip
        lines += [
            f"| {name} | " + " | ".join(_fmt(m.get(a), 3) for a in ASPECTS) + " |" for name, m in checked.items()
        ]
    kinds = {name: m["qa"]["kinds"] for name, m in runs.items() if (m["qa"] or {}).get("kinds")}
    if kinds:
        present = [k for k in KINDS if any(k in per_run for per_run in kinds.values())]
        lines += ["", "QA accuracy per kind of question (questions scored):", "",
                  "| run | " + " | ".join(k.replace("_", "/") for k in present) + " |", "|" + "---|" * (len(present) + 1)]  # fmt: skip
        lines += [
            f"| {name} | " + " | ".join(_kind_cell(per_run.get(k)) for k in present) + " |"
            for name, per_run in kinds.items()
        ]
    judged = {name: m["judge"] for name, m in runs.items() if m["judge"] and m["judge"].get(OVERALL) is not None}
    if judged:
        dims = [*DIMENSIONS, OVERALL]
        lines += ["", "| run | " + " | ".join(dims) + " | judge failures |", "|" + "---|" * (len(dims) + 2)]
        lines += [
            f"| {name} | " + " | ".join(_fmt(j.get(d), 2) for d in dims) + f" | {j['num_failed']} |"
            for name, j in judged.items()
        ]
    return "\n".join(lines) + "\n"


def write_markdown(path, runs: dict[str, dict], title: str) -> Path:
    failures = [f"- {name}: {m['num_failed']} of {m['num_items']} items failed {m['failure_reasons']}"
                for name, m in runs.items() if m["num_failed"]]  # fmt: skip
    notices = [f"- {name}: {sum(m['notices'].values())} of {m['num_items']} items "
               f"({', '.join(f'{kind} {n}' for kind, n in m['notices'].items())})"
               for name, m in runs.items() if m.get("notices")]  # fmt: skip
    text = f"# {title}\n\n{results_table(runs)}"
    if notices:
        text += "\nItems the captioner stated instead of describing their motion (the notice's kind):\n"
        text += "\n".join(notices) + "\n"
    if failures:
        text += "\nFailed items (not scored, counted above):\n" + "\n".join(failures) + "\n"
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def write_chart(path, runs: dict[str, dict], title: str) -> Path:
    """Grouped bars: the caption metrics (left) and, when judged, the five dimensions + Overall (right)."""
    require("matplotlib")
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    panels = [("caption metrics", METRIC_NAMES, "caption")]
    if any(m["judge"] and m["judge"].get(OVERALL) is not None for m in runs.values()):
        panels.append(("judge (0-10)", (*DIMENSIONS, OVERALL), "judge"))
    fig, axes = plt.subplots(1, len(panels), figsize=(7 * len(panels), 4.5), squeeze=False)
    width = 0.8 / len(runs)
    for ax, (label, names, section) in zip(axes[0], panels):
        for i, (run, m) in enumerate(runs.items()):
            values = [(m[section] or {}).get(n) or 0.0 for n in names]
            ax.bar([x + i * width for x in range(len(names))], values, width, label=run)
        ax.set_xticks([x + width * (len(runs) - 1) / 2 for x in range(len(names))])
        ax.set_xticklabels([n.replace(" ", "\n", 1) for n in names], rotation=45, ha="right", fontsize=8)
        ax.set_title(label)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    try:
        return atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=120))
    finally:
        plt.close(fig)


def write_report(out_dir, runs: dict[str, dict], title: str) -> dict[str, Path]:
    out_dir = Path(out_dir)
    return {
        "metrics": write_json(out_dir / "metrics.json", runs),
        "table": write_markdown(out_dir / "results.md", runs, title),
        "chart": write_chart(out_dir / "results.png", runs, title),
    }


__all__ = ["atomic_write", "results_table", "write_chart", "write_json", "write_markdown", "write_report"]
