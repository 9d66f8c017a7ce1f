"""`macm`: a thin dispatcher. Each command lives beside the code it drives and is imported only when
called, so `macm --help` stays fast and a missing optional extra only breaks its own command."""

import importlib
import sys

# command -> (module, one-line help). Each module has `main(argv: list[str] | None = None) -> int | None`.
COMMANDS = {
    "caption": ("macm_cli.caption", "caption a video (motion-augmented, offline default model)"),
    "motion": ("macm_cli.motion", "extract a MotionTrack (.npz) from a video, with an optional overlay preview"),
    "synth": ("dataset_scripts.synth", "generate HMI-Synth clips with ground-truth captions and QA"),
    "build": ("dataset_scripts.build", "build an HMI-format dataset (Parquet + card) from a source"),
    "curate": ("dataset_scripts.curation", "scene cuts, 2-10 s segments, pose/movement filters with a keep/drop report"),
    "train": ("train.sft", "fine-tune with TRL SFT + LoRA from a recipe"),
    "eval": ("train.evaluate", "evaluate on HMI-Bench-format data with the paper's metrics"),
    "demo": ("space.app", "run the Gradio demo locally"),
    "convert": ("modeling_macm.convert_llava_onevision", "convert a LLaVA-OneVision checkpoint to M-ACM"),
}


def __getattr__(name):
    # The Python API (`from macm_cli import MACMCaptioner`) loads torch and transformers only when asked for.
    if name in ("MACMCaptioner", "CaptionResult"):
        from . import captioner

        return getattr(captioner, name)
    raise AttributeError(f"module 'macm_cli' has no attribute {name!r}")


def usage() -> str:
    lines = ["usage: macm COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<8} {help_text}" for name, (_, help_text) in COMMANDS.items()]
    lines += ["", "`macm COMMAND --help` for a command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"macm: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    return module.main(rest) or 0


__all__ = ["COMMANDS", "CaptionResult", "MACMCaptioner", "main"]
