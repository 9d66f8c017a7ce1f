"""`macm`: a thin dispatcher. Each command lives beside the code it drives and is imported only when
called, so `macm --help` stays fast and a missing optional extra only breaks its own command."""

import argparse
import importlib
import os
import socket
import sys
import tempfile
from pathlib import Path

# command -> (module, one-line help). Each module has `main(argv: list[str] | None = None) -> int | None`.
COMMANDS = {
    "caption": ("macm_cli.caption", "caption a video (motion-augmented, offline default model)"),
    "ask": ("macm_cli.ask", "answer a question about a video (short for `macm caption VIDEO --prompt QUESTION`)"),
    "motion": ("macm_cli.motion", "extract a MotionTrack (.npz) from a video, with an optional overlay preview"),
    "synth": ("dataset_scripts.synth", "generate HMI-Synth clips with ground-truth captions and QA"),
    "build": ("dataset_scripts.build", "build an HMI-format dataset (Parquet + card) from a source"),
    "merge": ("dataset_scripts.merge", "merge built HMI datasets into one (hard links, one card)"),
    "curate": (
        "dataset_scripts.curation",
        "scene cuts, 2-10 s segments, pose/movement filters with a keep/drop report",
    ),
    "train": ("train.sft", "fine-tune with TRL SFT + LoRA from a recipe"),
    "eval": ("train.evaluate", "evaluate on HMI-Bench-format data with the paper's metrics"),
    "demo": ("space.app", "run the Gradio demo locally"),
    "convert": ("modeling_macm.convert_llava_onevision", "convert a LLaVA-OneVision checkpoint to M-ACM"),
    "export": ("macm_cli.export", "write a model (e.g. macm-135m, adapter merged) as one plain checkpoint folder"),
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


class UserError(Exception):
    """A mistake in what the user gave (a path, a name, an option): the CLI prints its message as one line,
    `macm COMMAND: error: MESSAGE`, and exits 1. The message says what is wrong and what to do."""


# Exceptions that mean a bad input rather than a bug: our own checks raise ValueError (VideoReadError,
# SourceError, InvalidRowError are ValueErrors) and OSError (missing files, permissions, full disks);
# ImportError is a missing optional extra. Anything else is a bug and keeps its traceback.
USER_ERRORS = (UserError, ValueError, OSError, ImportError)
DEBUG_ENV = "MACM_DEBUG"


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def check_output_file(path: str | os.PathLike, option: str) -> Path:
    """Checks, before any long work, that a file can be written at `path` (its folder is created if missing):
    raises `UserError` naming `option` otherwise. The file itself is not created."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{option} {path}: that is a folder; give a file path.")
    folder = path.parent
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not existing.is_dir():
        raise UserError(f"{option} {path}: {existing} is a file, not a folder; choose another path.")
    try:
        # Really writing tells the truth where os.access does not (root, read-only mounts, ACLs).
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as err:
        raise UserError(
            f"{option} {path}: cannot write in {folder} ({err.strerror or err}); choose another path."
        ) from None
    return path


def check_pretrained(name_or_path: str | os.PathLike, option: str = "--model", repo_type: str = "model") -> None:
    """Fails at once, with `UserError`, for a checkpoint (or dataset) that can be neither a local folder nor a
    Hub repo reachable now: a missing folder, a file, a path-like name, or a Hub id with the Hub offline or
    unreachable and the repo not in the local cache. (Left to the Hub client, these end in a traceback about
    repo ids, or in a minute of retries.)"""
    from processing_macm.processing_macm import resolve_embedded_model

    path = Path(resolve_embedded_model(name_or_path) if repo_type == "model" else name_or_path)
    if path.is_dir():
        return
    if path.exists():
        raise UserError(f"{option} {name_or_path}: that is a file; give a {repo_type} folder or a Hub id.")
    from huggingface_hub import constants, try_to_load_from_cache
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    name = str(name_or_path)
    try:
        validate_repo_id(name)
    except HFValidationError:
        raise UserError(f"{option} {name}: no such folder; check the path.") from None
    marker = "config.json" if repo_type == "model" else "README.md"
    if isinstance(try_to_load_from_cache(name, marker, repo_type=repo_type), str):
        return
    if constants.HF_HUB_OFFLINE:
        raise UserError(
            f"{option} {name}: no such folder, and not in the Hugging Face cache; a Hub id needs network, "
            f"or unset HF_HUB_OFFLINE (it is set)."
        )
    host = constants.ENDPOINT.split("://", 1)[-1].split("/", 1)[0]
    try:
        socket.create_connection((host, 443), timeout=5).close()
    except OSError:
        raise UserError(
            f"{option} {name}: no such folder, and {host} cannot be reached; a Hub id needs network "
            f"(or the repo in the Hugging Face cache, HF_HOME)."
        ) from None


def describe(err: BaseException) -> str:
    """The exception as one line."""
    if isinstance(err, OSError) and err.filename is not None and err.strerror:
        return f"{err.filename}: {err.strerror}"
    return " ".join(str(err).split()) or type(err).__name__


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv or os.environ.get(DEBUG_ENV, "") not in ("", "0")
    argv = [arg for arg in argv if arg != "--debug"]
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"macm: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    if debug:
        os.environ[DEBUG_ENV] = "1"  # the pose backend then keeps MediaPipe's native log lines
    elif not sys.stderr.isatty():
        # transformers' "Loading weights" and the Hub's download bars: for a terminal, not for a log file
        # (transformers reads the variable on import; already imported, it is told directly).
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        if "transformers" in sys.modules:
            sys.modules["transformers"].utils.logging.disable_progress_bar()
    try:
        module = importlib.import_module(COMMANDS[name][0])
        return module.main(rest) or 0
    except KeyboardInterrupt:
        print(f"macm {name}: interrupted", file=sys.stderr)
        return 130
    except USER_ERRORS as err:
        if debug:
            raise
        print(f"macm {name}: error: {describe(err)}", file=sys.stderr)
        return 1


__all__ = [
    "COMMANDS",
    "CaptionResult",
    "MACMCaptioner",
    "UserError",
    "check_output_file",
    "check_pretrained",
    "main",
    "positive_int",
]
