"""`macm train --config RECIPE.yaml [--key value ...]`: supervised fine-tuning of M-ACM with TRL, in
the shape of TRL's `examples/scripts/sft_vlm.py`. Also runs as `accelerate launch train/sft.py --config ...`.

The paper's two stages (Song et al., ACM MM 2025, arXiv 2510.24767: a projection stage, then decoder
fine-tuning), chosen with `stage`:
- "align": the language model and the vision tower are frozen; the video projector, the newline
  token and the motion pathway (encoder, projector) train.
- "instruct": LoRA on the language model only (`lora_target_modules` names its projections; the
  script scopes them to `model.language_model` with a regex, since plain names also hit the vision
  tower), with the projectors and motion encoder trained in full as `modules_to_save`. The adapter is
  saved in `output_dir`, and with `merge_adapter` a merged model in `output_dir/merged`.
- "full": every parameter trains, for a model built from scratch (nothing pretrained to keep frozen).

The model comes from `model_name_or_path` (a MACM checkpoint: stage 1's output feeds stage 2), or,
without one, is built on the pretrained language model `init_language_model` (train/pretrained.py), or
from the recipe's `init_model_config` with a tokenizer trained on the dataset's text (see train/scratch.py).
The dataset is an HMI folder or Hub repo (`macm build`);
`dataset_streaming: true` streams it. The resolved arguments are written to
`output_dir/train_config.yaml`, itself a recipe that reruns the same training.
"""

import json
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path

from trl import ModelConfig, ScriptArguments, SFTConfig, SFTTrainer, TrlParser

# Submodules of MACMModel that train in full in both stages (absent ones are skipped).
PROJECTOR_MODULES = ("video_projector", "motion_encoder", "motion_projector")
STAGES = ("align", "instruct", "full")
CONFIG_FILE = "train_config.yaml"
SKIPPED_FILE = "skipped_rows.json"
MOTION_PRETRAIN_FILE = "motion_pretrain.json"
# Every projection of a Llama/Qwen2-style decoder layer: LoRA's targets when a recipe names none.
LORA_TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass
class MACMScriptArguments(ScriptArguments):
    stage: str = field(
        default="instruct",
        metadata={"help": "'align' (projectors only), 'instruct' (LoRA + projectors) or 'full' (everything)."},
    )
    use_motion: bool = field(default=True, metadata={"help": "False: ignore motion tracks (the video-only ablation)."})
    motion_dropout: float = field(
        default=0.0,
        metadata={"help": "Probability of showing an example without its motion (one model for both modes)."},
    )
    mirror_prob: float = field(
        default=0.0,
        metadata={"help": "Probability of mirroring an example left to right (kinematic models; train/augment.py)."},
    )
    motion_jitter: bool = field(
        default=False,
        metadata={"help": "Kinematic models: noise and dropped frames on the motion features (train/augment.py)."},
    )
    perturb_tracks: bool = field(
        default=False,
        metadata={
            "help": "Kinematic models: a random movement gain and noise on every track, in motion pretraining and "
            "captioning (train/augment.py `perturb_track`)."
        },
    )
    with_qa: bool = field(default=True, metadata={"help": "Train on the rows' QA pairs as well as their captions."})
    qa_per_row: int | None = field(
        default=None,
        metadata={"help": "At most this many QA pairs of each row (the same ones on every run; default: all)."},
    )
    skip_invalid_rows: bool = field(
        default=False,
        metadata={"help": "Skip (and count) rows with an unusable video or an empty caption instead of failing."},
    )
    init_model_config: dict | str | None = field(
        default=None,
        metadata={"help": "MACMConfig kwargs for a model built from scratch (when no model_name_or_path)."},
    )
    init_processor_config: dict | str | None = field(
        default=None,
        metadata={"help": "MACMProcessor kwargs not in the config (num_frames, motion_fps, ...), from scratch."},
    )
    tokenizer_vocab_size: int = field(
        default=1000, metadata={"help": "Vocabulary of the tokenizer trained from scratch."}
    )
    init_language_model: str | None = field(
        default=None,
        metadata={
            "help": "Without model_name_or_path: a pretrained language model ('smollm2' or a causal LM folder) to build on."
        },
    )
    init_vision_model: str | None = field(
        default=None,
        metadata={
            "help": "With init_language_model: the vision tower's checkpoint (SigLIP/CLIP, or 'macm': the embedded model's)."
        },
    )
    init_motion_model: str | None = field(
        default=None,
        metadata={
            "help": "With init_language_model: a kinematic M-ACM ('macm': the embedded one) whose motion encoder, "
            "motion heads and feature normalisation to start from (else the motion pathway starts random)."
        },
    )
    kinematic_feature_version: int | None = field(
        default=None,
        metadata={
            "help": "A kinematic checkpoint whose features are an older version that this one extends (2 -> 3): read "
            "this version from now on, the new inputs starting at zero weight (train/feature_upgrade.py)."
        },
    )
    motion_pretrain_steps: int = field(
        default=0,
        metadata={
            "help": "Kinematic models: first train the motion encoder this many steps on the rows' program labels "
            "(HMI-Synth; train/motion_pretrain.py)."
        },
    )
    motion_pretrain_learning_rate: float = field(
        default=1e-3,
        metadata={"help": "Motion pretraining's learning rate (lower to fine-tune a trained encoder on few clips)."},
    )
    motion_side_labels: str = field(
        default="all",
        metadata={
            "help": "Motion pretraining: train the side head on every frame ('all') or only on frames of a left or "
            "right action ('left_right'; otherwise 'none' swamps it and the encoder never tells left from right)."
        },
    )
    motion_heads: bool = field(
        default=False,
        metadata={
            "help": "Motion pretraining: keep its heads in the model (train/motion_heads.py); `generate` then names limb "
            "sides from the motion (modeling_macm/side_grounding.py). A model that has heads keeps them anyway."
        },
    )
    side_loss_weight: float = field(
        default=1.0,
        metadata={
            "help": "How many times the loss on the answer's 'left'/'right' tokens counts (train/side_loss.py): above 1, "
            "a side named by habit costs more than the rest of the caption."
        },
    )
    freeze_motion_encoder: bool = field(
        default=False, metadata={"help": "Keep the motion encoder fixed while captioning trains (after pretraining)."}
    )
    merge_adapter: bool = field(
        default=True, metadata={"help": "'instruct': also write the merged model to output_dir/merged."}
    )

    def __post_init__(self):
        if self.stage not in STAGES:
            raise ValueError(f"stage must be one of {STAGES}, got {self.stage!r}.")
        # From the command line these arrive as JSON text; from the recipe, as mappings.
        for name in ("init_model_config", "init_processor_config"):
            if isinstance(getattr(self, name), str):
                setattr(self, name, json.loads(getattr(self, name)))


def load_model_and_processor(script_args, model_args, training_args, conversations):
    """The model and processor: from `model_name_or_path` with the loading flags of the recipe (`dtype`,
    `attn_implementation`, `load_in_4bit`/`load_in_8bit`, `trust_remote_code`, `model_init_kwargs`), or built
    from scratch, where those flags have nothing to apply to and are refused."""
    from trl import get_quantization_config

    quantization_config = get_quantization_config(model_args)
    if model_args.model_name_or_path is None:
        if script_args.init_model_config is None and script_args.init_language_model is None:
            raise ValueError(
                "Give `model_name_or_path` (a MACM checkpoint), `init_language_model` (a model built on a pretrained "
                "language model) or `init_model_config` (a model built from scratch)."
            )
        loading_flags = {
            "load_in_4bit/load_in_8bit": quantization_config is not None,
            "trust_remote_code": training_args.trust_remote_code,
            "model_init_kwargs": bool(training_args.model_init_kwargs),
        }
        if any(loading_flags.values()):
            raise ValueError(
                f"{[name for name, given in loading_flags.items() if given]} apply to loading a checkpoint, but this "
                f"recipe builds its model (`init_model_config`, `init_language_model`); drop them or give "
                f"`model_name_or_path`."
            )
        if script_args.init_language_model is not None:
            from train.pretrained import build_on_pretrained

            return build_on_pretrained(
                script_args.init_language_model, script_args.init_vision_model, script_args.init_model_config or {},
                script_args.init_processor_config or {}, conversations, script_args.init_motion_model,
            )  # fmt: skip
        for name in ("init_vision_model", "init_motion_model"):
            if getattr(script_args, name) is not None:
                raise ValueError(f"{name} needs init_language_model (a model built on pretrained parts).")
        from train.scratch import build_from_scratch

        return build_from_scratch(
            script_args.init_model_config,
            script_args.init_processor_config or {},
            conversations,
            script_args.tokenizer_vocab_size,
        )
    if quantization_config is not None and script_args.stage == "full":
        raise ValueError(
            "Quantized (4-/8-bit) weights cannot be trained in full: use stage 'instruct' (QLoRA) or 'align' "
            "(frozen, quantized towers), or drop load_in_4bit/load_in_8bit."
        )
    from accelerate import PartialState
    from transformers import AutoModelForImageTextToText, AutoProcessor

    import modeling_macm  # noqa: F401  (registers the Auto classes)

    model_kwargs = dict(
        revision=model_args.model_revision,
        dtype=model_args.dtype or "auto",
        attn_implementation=model_args.attn_implementation,
        trust_remote_code=training_args.trust_remote_code,
        quantization_config=quantization_config,
        # Quantized weights load straight onto this process's device (what TRL's removed get_kbit_device_map gave).
        device_map={"": PartialState().local_process_index} if quantization_config is not None else None,
    )
    clashes = sorted(set(model_kwargs) & set(training_args.model_init_kwargs or {}))
    if clashes:
        raise ValueError(f"model_init_kwargs sets {clashes}, which have their own flags: set those flags instead.")
    model = AutoModelForImageTextToText.from_pretrained(
        model_args.model_name_or_path, **model_kwargs, **(training_args.model_init_kwargs or {})
    )
    processor = AutoProcessor.from_pretrained(
        model_args.model_name_or_path,
        revision=model_args.model_revision,
        trust_remote_code=training_args.trust_remote_code,
    )
    return model, processor


def projector_modules(model) -> list[str]:
    return [name for name in PROJECTOR_MODULES if getattr(model.model, name) is not None]


def freeze_for_alignment(model) -> None:
    """Stage 1: only the projectors, the motion encoder and the video newline token train."""
    model.requires_grad_(False)
    for name in projector_modules(model):
        getattr(model.model, name).requires_grad_(True)
    if model.model.video_newline is not None:
        model.model.video_newline.requires_grad_(True)


def lora_config(model, model_args, frozen: tuple[str, ...] = ()):
    """Stage 2: LoRA on the language model's projections, projectors and motion encoder in full (but `frozen`)."""
    import re

    from peft import LoraConfig

    names = model_args.lora_target_modules or list(LORA_TARGET_MODULES)
    return LoraConfig(
        task_type=model_args.lora_task_type,
        r=model_args.lora_r,
        lora_alpha=model_args.lora_alpha,
        lora_dropout=model_args.lora_dropout,
        target_modules=rf"model\.language_model\..*\.({'|'.join(map(re.escape, names))})",
        modules_to_save=model_args.lora_modules_to_save or [m for m in projector_modules(model) if m not in frozen],
        use_rslora=model_args.use_rslora,
        use_dora=model_args.use_dora,
        bias="none",
    )


def save_resolved_config(path: Path, *args) -> None:
    """All arguments, as a recipe: `macm train --config PATH` reruns the same training."""
    import yaml

    resolved = {}
    for group in args:
        values = group.to_dict() if hasattr(group, "to_dict") else vars(group)
        resolved.update({f.name: values[f.name] for f in fields(group) if f.init and f.name in values})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(resolved, sort_keys=True))


def merge_adapter(adapter_dir, out_dir) -> None:
    """Reloads base + adapter from disk and merges them (so it works however training was sharded),
    writing a full model, with its processor, that loads through the Auto classes."""
    from peft import PeftModel
    from transformers import AutoModelForImageTextToText, AutoProcessor

    import modeling_macm  # noqa: F401  (registers the Auto classes)

    base_path = json.loads((Path(adapter_dir) / "adapter_config.json").read_text())["base_model_name_or_path"]
    base = AutoModelForImageTextToText.from_pretrained(base_path, dtype="auto")
    merged = PeftModel.from_pretrained(base, adapter_dir).merge_and_unload()
    merged.save_pretrained(out_dir)
    AutoProcessor.from_pretrained(adapter_dir).save_pretrained(out_dir)


def pretrain_motion(model, processor, dataset_dir, script_args, training_args) -> None:
    """Stage 0 (train/motion_pretrain.py) on the train split, scored on the eval split; the log goes to
    output_dir/motion_pretrain.json."""
    from dataset_scripts.loading import load_hmi_split
    from train.motion_pretrain import pretrain_motion_encoder

    if getattr(model.model, "motion_encoder", None) is None:
        raise ValueError("motion_pretrain_steps needs a kinematic model; this one's motion pathway is 'overlay'.")
    if training_args.resume_from_checkpoint:
        raise ValueError(
            "Resuming restores the pretrained motion encoder from the checkpoint: set motion_pretrain_steps: 0."
        )
    columns = ["motion", "ground_truth"]
    train_rows = load_hmi_split(dataset_dir, script_args.dataset_train_split).select_columns(columns)
    eval_rows = load_hmi_split(dataset_dir, script_args.dataset_test_split).select_columns(columns)
    log = pretrain_motion_encoder(
        model, processor, train_rows, eval_rows, steps=script_args.motion_pretrain_steps,
        learning_rate=script_args.motion_pretrain_learning_rate,
        mirror=script_args.mirror_prob > 0, perturb=script_args.perturb_tracks,
        side_labels=script_args.motion_side_labels, seed=training_args.seed,
    )  # fmt: skip
    if training_args.process_index == 0:
        Path(training_args.output_dir).mkdir(parents=True, exist_ok=True)
        (Path(training_args.output_dir) / MOTION_PRETRAIN_FILE).write_text(json.dumps(log, indent=2) + "\n")
    print(f"motion pretraining: {json.dumps(log)}")


def main(argv: list[str] | None = None) -> int:
    from transformers import set_seed

    from train.collator import MACMCollator
    from train.data import RowsToConversations, load_conversations, resolve_dataset_dir
    from train.side_loss import SideWeightedSFTTrainer

    parser = TrlParser((MACMScriptArguments, SFTConfig, ModelConfig), prog="macm train")
    script_args, training_args, model_args = parser.parse_args_and_config(sys.argv[1:] if argv is None else argv)
    if model_args.use_peft != (script_args.stage == "instruct"):
        raise ValueError(
            f"stage {script_args.stage!r} needs use_peft={script_args.stage == 'instruct'} (LoRA is stage 2's)."
        )
    if script_args.dataset_name is None:
        raise ValueError("Give `dataset_name`: an HMI dataset folder or Hub repo (`macm build` makes one).")
    if model_args.model_name_or_path is not None:
        from macm_cli import check_pretrained

        check_pretrained(model_args.model_name_or_path, "--model_name_or_path")  # before the dataset is loaded
    # The collator builds the labels; TRL must neither prepare the dataset nor drop its columns.
    training_args.dataset_kwargs = {"skip_prepare_dataset": True}
    training_args.remove_unused_columns = False
    output_dir = Path(training_args.output_dir)

    dataset_dir = resolve_dataset_dir(script_args.dataset_name)
    to_conversations = RowsToConversations(
        dataset_dir, script_args.with_qa, script_args.skip_invalid_rows, script_args.qa_per_row
    )
    # One process at a time: each rebuilds the dataset's cache copy (train/data.py), and two processes
    # rebuilding the same copy at once crash each other.
    with training_args.main_process_first(desc="loading the dataset"):
        train_dataset = load_conversations(
            dataset_dir, script_args.dataset_train_split, script_args.dataset_streaming, to_conversations
        )
        eval_dataset = None
        if training_args.eval_strategy != "no" or training_args.eval_on_start:
            eval_dataset = load_conversations(
                dataset_dir, script_args.dataset_test_split, script_args.dataset_streaming, to_conversations
            )

    set_seed(training_args.seed)  # the model built from scratch must not depend on the process
    model, processor = load_model_and_processor(script_args, model_args, training_args, train_dataset)
    version = script_args.kinematic_feature_version
    if version is not None and version != model.config.kinematic_feature_version:
        if model_args.model_name_or_path is None:
            raise ValueError(
                "kinematic_feature_version upgrades a checkpoint; a new model takes it in init_model_config."
            )
        from dataset_scripts.loading import load_hmi_split
        from train.feature_upgrade import upgrade_kinematic_features

        rows = load_hmi_split(dataset_dir, script_args.dataset_train_split).select_columns(["motion"])
        upgrade_kinematic_features(model, processor, version, rows)
    frozen = ("motion_encoder",) if script_args.freeze_motion_encoder else ()
    peft_config = lora_config(model, model_args, frozen) if script_args.stage == "instruct" else None
    if script_args.stage == "align":
        freeze_for_alignment(model)

    collator = MACMCollator(
        processor,
        use_motion=script_args.use_motion,
        motion_dropout=script_args.motion_dropout,
        mirror_prob=script_args.mirror_prob,
        motion_jitter=script_args.motion_jitter,
        perturb_tracks=script_args.perturb_tracks,
    )
    if script_args.motion_heads:
        from train.motion_heads import attach_motion_heads

        if not script_args.motion_pretrain_steps:
            raise ValueError("motion_heads: true keeps motion pretraining's heads; set motion_pretrain_steps.")
        if model.model.motion_heads is None:
            attach_motion_heads(model, processor.tokenizer)
    if getattr(model.model, "motion_heads", None) is not None:
        model.config.motion_feature_mirror = processor.motion_feature_mirror()  # the normalisation is final here
    if script_args.motion_pretrain_steps:
        pretrain_motion(model, processor, dataset_dir, script_args, training_args)
    if script_args.freeze_motion_encoder:
        model.model.motion_encoder.requires_grad_(False)
    if getattr(model.model, "motion_heads", None) is not None:
        model.model.motion_heads.requires_grad_(False)  # learned in motion pretraining; captioning does not read them

    # A side weight of 1 is TRL's own trainer, unchanged.
    side = {"side_loss_weight": script_args.side_loss_weight} if script_args.side_loss_weight != 1.0 else {}
    trainer = (SideWeightedSFTTrainer if side else SFTTrainer)(
        model=model,
        args=training_args,
        data_collator=collator,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=processor,
        peft_config=peft_config,
        **side,
    )
    if trainer.accelerator.is_main_process:
        save_resolved_config(output_dir / CONFIG_FILE, script_args, training_args, model_args)
    trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    trainer.save_model(training_args.output_dir)
    trainer.save_state()  # trainer_state.json beside the model: the whole log, train metrics included
    trainer.accelerator.wait_for_everyone()
    if trainer.accelerator.is_main_process:
        (output_dir / SKIPPED_FILE).write_text(json.dumps(to_conversations.skipped, indent=2) + "\n")
        trainer.accelerator.print(to_conversations.summary())
        if script_args.stage == "instruct" and script_args.merge_adapter:
            merge_adapter(output_dir, output_dir / "merged")
            trainer.accelerator.print(f"merged model saved to {output_dir / 'merged'}")
    trainer.accelerator.wait_for_everyone()
    trainer.end()
    return 0


if __name__ == "__main__":
    sys.exit(main())
