"""Fast tests of the training pieces: conversations, the collator's labels, the stage-1 freeze, the
stage-2 LoRA scope, the recipes and the accelerate launch configs."""

from pathlib import Path

import pytest
import torch
import yaml
from train_helpers import CAPTIONS, REPO, write_hmi_dataset
from utils import tiny_config, tiny_model, tiny_processor

from dataset_scripts.loading import load_hmi_split
from processing_macm import DEFAULT_PROMPT
from train.collator import MACMCollator
from train.data import InvalidRowError, RowsToConversations, load_conversations
from train.sft import freeze_for_alignment, lora_config

CONFIGS = REPO / "train" / "configs"


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory):
    return write_hmi_dataset(tmp_path_factory.mktemp("hmi"), num_train=3, num_test=1)


def test_captions_and_qa_become_conversations(dataset_dir):
    conversations = load_conversations(dataset_dir, "train", False, RowsToConversations(dataset_dir))
    assert len(conversations) == 6  # 3 rows x (caption + one QA pair)
    first = conversations[0], conversations[1]
    assert first[0]["answer"] == CAPTIONS[0] and first[0]["prompt"] == "Describe the person's movements in detail."
    assert first[1]["prompt"] == "Does the person squat? Answer true or false." and first[1]["answer"] == "False"
    assert Path(first[0]["video"]).is_file()
    without_qa = load_conversations(dataset_dir, "train", False, RowsToConversations(dataset_dir, with_qa=False))
    assert len(without_qa) == 3


def test_qa_per_row_keeps_the_same_few_questions_of_a_row(dataset_dir):
    row = dict(load_hmi_split(dataset_dir, "train")[0])
    row["qa"] = [dict(row["qa"][0], question=f"Is this question {i}?") for i in range(6)]
    batch = {name: [value] for name, value in row.items()}
    every = RowsToConversations(dataset_dir)(batch)["prompt"]
    runs = [RowsToConversations(dataset_dir, qa_per_row=2)(batch)["prompt"] for _ in range(2)]
    assert len(every) == 7 and runs[0] == runs[1] and len(runs[0]) == 3
    assert runs[0][0] == DEFAULT_PROMPT and set(runs[0][1:]) < set(every[1:])
    with pytest.raises(ValueError, match="qa_per_row must be at least 1.*with_qa: false"):
        RowsToConversations(dataset_dir, qa_per_row=0)


@pytest.mark.parametrize(
    "overrides, reason", [({"caption": "  "}, "empty caption"), ({"video": "videos/missing.mp4"}, "unusable video")]
)
def test_invalid_row_is_named_or_skipped_and_counted(tmp_path, overrides, reason):
    dataset_dir = write_hmi_dataset(tmp_path, num_train=2, num_test=1, bad_rows={"broken": overrides})
    with pytest.raises(InvalidRowError, match=rf"Row 'broken': {reason}.*skip_invalid_rows"):
        load_conversations(dataset_dir, "train", False, RowsToConversations(dataset_dir))
    for streaming in (False, True):
        check = RowsToConversations(dataset_dir, skip_invalid=True)
        conversations = list(load_conversations(dataset_dir, "train", streaming, check))
        assert len(conversations) == 4 and "broken" not in {c["id"] for c in conversations}
        assert list(check.skipped) == ["broken"] and reason in check.skipped["broken"]
        assert "skipped 1 invalid row(s)" in check.summary()


@pytest.fixture(scope="module")
def kinematic(tokenizer):
    config = tiny_config(tokenizer, motion_representation="kinematic")
    return tiny_model(config), tiny_processor(tokenizer, config)


@pytest.mark.parametrize("use_motion", [True, False])
def test_collator_labels_only_the_answer(dataset_dir, kinematic, use_motion):
    model, processor = kinematic
    conversations = load_conversations(dataset_dir, "train", False, RowsToConversations(dataset_dir))
    examples = [conversations[i] for i in (0, 1, 4)]  # row 2 (conversation 4) has no motion track
    batch = MACMCollator(processor, use_motion=use_motion)(examples)
    tokenizer = processor.tokenizer
    assert batch["motion_mask"].tolist() == ([True, True, False] if use_motion else [False] * 3)
    for i, example in enumerate(examples):
        labelled = batch["labels"][i][batch["labels"][i] != -100]
        assert tokenizer.decode(labelled) == example["answer"] + tokenizer.eos_token
    for token_id in (processor.video_token_id, processor.motion_token_id, tokenizer.pad_token_id):
        assert not (batch["labels"][batch["input_ids"] == token_id] != -100).any()
    assert (batch["input_ids"] == processor.motion_token_id).sum() == (
        processor.num_motion_tokens * 2 if use_motion else 0
    )
    loss = model(**batch).loss
    assert torch.isfinite(loss)


def test_collator_names_the_row_of_an_unreadable_video(dataset_dir, kinematic, tmp_path):
    conversation = dict(load_conversations(dataset_dir, "train", False, RowsToConversations(dataset_dir))[0])
    conversation.update(id="gone", video=str(tmp_path / "gone.mp4"))
    with pytest.raises(ValueError, match=r"Rows \['gone'\].*not found"):
        MACMCollator(kinematic[1])([conversation])


def test_motion_dropout_shows_some_examples_without_motion(dataset_dir, kinematic):
    conversations = [
        dict(c) for c in load_conversations(dataset_dir, "train", False, RowsToConversations(dataset_dir))
    ]
    with_motion = [c for c in conversations if c["motion"] is not None][:2] * 16
    torch.manual_seed(0)
    masks = [MACMCollator(kinematic[1], motion_dropout=0.5)([c])["motion_mask"].item() for c in with_motion]
    assert 0 < sum(masks) < len(masks)
    assert all(MACMCollator(kinematic[1])([c])["motion_mask"].item() for c in with_motion[:4])
    with pytest.raises(ValueError, match=r"motion_dropout must be in \[0, 1\), got 1.0"):
        MACMCollator(kinematic[1], motion_dropout=1.0)


def test_stage1_trains_projectors_and_motion_encoder_only(tokenizer):
    model = tiny_model(tiny_config(tokenizer, motion_representation="kinematic"))
    freeze_for_alignment(model)
    trainable = {name.split(".")[1] for name, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"video_projector", "video_newline", "motion_encoder", "motion_projector"}


def test_stage2_lora_hits_the_language_model_only(tokenizer):
    from peft import get_peft_model
    from trl import ModelConfig

    model = tiny_model(tiny_config(tokenizer, motion_representation="kinematic"))
    peft_model = get_peft_model(model, lora_config(model, ModelConfig(lora_target_modules=["q_proj", "v_proj"])))
    lora_names = [name for name, _ in peft_model.named_modules() if name.endswith("lora_A")]
    assert lora_names and all(".language_model." in name for name in lora_names)
    assert len(lora_names) == 2 * 2  # q_proj and v_proj of 2 layers; the vision tower's q_proj/v_proj untouched
    trainable = {name for name, p in peft_model.named_parameters() if p.requires_grad and "lora_" not in name}
    assert {name.split(".")[3] for name in trainable} == {"video_projector", "motion_encoder", "motion_projector"}


LAUNCH_CONFIGS = {
    "ddp.yaml": ("MULTI_GPU", None),
    "fsdp.yaml": ("FSDP", None),
    "deepspeed_zero2.yaml": ("DEEPSPEED", 2),
    "deepspeed_zero3.yaml": ("DEEPSPEED", 3),
}
RECIPES = sorted(path.name for path in CONFIGS.glob("*.yaml"))  # the launch configs live in accelerate/


@pytest.mark.parametrize("recipe", RECIPES)
def test_recipes_parse(recipe):
    from trl import ModelConfig, SFTConfig, TrlParser

    from train.sft import MACMScriptArguments

    parser = TrlParser((MACMScriptArguments, SFTConfig, ModelConfig))
    # The GPU recipes ask for bf16, which TrainingArguments refuses on a machine without a GPU.
    on_cpu = [] if torch.cuda.is_available() else ["--bf16", "false", "--use_cpu", "true"]
    script_args, training_args, model_args = parser.parse_args_and_config(["--config", str(CONFIGS / recipe), *on_cpu])
    assert model_args.use_peft == (script_args.stage == "instruct")


@pytest.mark.parametrize("name", sorted(LAUNCH_CONFIGS))
def test_launch_configs_validate(name, tokenizer):
    """What `accelerate launch --config_file` does before it starts anything (unknown keys fail here)."""
    from accelerate.commands.config.config_args import load_config_from_file
    from accelerate.commands.launch import _validate_launch_command, launch_command_parser

    path = CONFIGS / "accelerate" / name
    kind, zero_stage = LAUNCH_CONFIGS[name]
    assert load_config_from_file(str(path)).distributed_type.value == kind
    args = launch_command_parser().parse_args(["--config_file", str(path), "train/sft.py", "--config", "recipe.yaml"])
    args, _, _ = _validate_launch_command(args)
    assert (args.use_fsdp, args.use_deepspeed, args.multi_gpu) == (
        kind == "FSDP",
        kind == "DEEPSPEED",
        kind == "MULTI_GPU",
    )
    if zero_stage is not None:
        assert int(args.zero_stage) == zero_stage
    if kind == "FSDP":  # the layer classes to wrap must exist in a MACM model (Qwen2 LM, SigLIP tower)
        classes = {type(m).__name__ for m in tiny_model(tiny_config(tokenizer)).modules()}
        assert (
            set(yaml.safe_load(path.read_text())["fsdp_config"]["fsdp_transformer_layer_cls_to_wrap"].split(","))
            <= classes
        )
