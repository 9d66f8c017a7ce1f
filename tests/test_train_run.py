"""End-to-end runs of the tiny CPU recipe (slow): two stages, resume, 2-process DDP, streaming."""

import json
import shutil
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file
from train_helpers import REPO, TINY_ALIGN, TINY_INSTRUCT, train, write_hmi_dataset

pytestmark = pytest.mark.slow
QUIET = ("--disable_tqdm", "true")


def eval_losses(run_dir, step: int) -> list[float]:
    state = json.loads((run_dir / f"checkpoint-{step}" / "trainer_state.json").read_text())
    return [entry["eval_loss"] for entry in state["log_history"] if "eval_loss" in entry]


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory):
    return write_hmi_dataset(tmp_path_factory.mktemp("hmi"))


@pytest.fixture(scope="module")
def align_dir(dataset_dir, tmp_path_factory):
    """Stage 1 of the tiny recipe: 8 steps, checkpoints at 4 and 8."""
    out = tmp_path_factory.mktemp("runs") / "align"
    assert train(TINY_ALIGN, dataset_dir, out, *QUIET) == 0
    return out


def test_two_stages_then_merged_model_generates(dataset_dir, align_dir, tmp_path):
    from transformers import AutoModelForImageTextToText, AutoProcessor

    import modeling_macm  # noqa: F401

    align_losses = eval_losses(align_dir, 8)  # at steps 0, 4, 8 (eval_on_start)
    assert len(align_losses) == 3 and align_losses[-1] < align_losses[0]
    assert (align_dir / "model.safetensors").is_file() and (align_dir / "processor_config.json").is_file()

    out = tmp_path / "instruct"
    assert train(TINY_INSTRUCT, dataset_dir, out, "--model_name_or_path", str(align_dir), *QUIET) == 0
    instruct_losses = eval_losses(out, 8)
    assert instruct_losses[-1] < instruct_losses[0] < align_losses[0]  # stage 2 starts from stage 1
    adapter = json.loads((out / "adapter_config.json").read_text())
    assert adapter["base_model_name_or_path"] == str(align_dir) and (out / "adapter_model.safetensors").is_file()
    resolved = (out / "train_config.yaml").read_text()
    assert "stage: instruct" in resolved and f"model_name_or_path: {align_dir}" in resolved

    model = AutoModelForImageTextToText.from_pretrained(out / "merged").eval()
    processor = AutoProcessor.from_pretrained(out / "merged")
    assert not any("lora" in name for name in model.state_dict())
    inputs = processor(videos=str(dataset_dir / "videos" / "clip01.mp4"))
    generated = model.generate(**inputs, max_new_tokens=6, do_sample=False)
    assert generated.shape[1] > inputs["input_ids"].shape[1]


def test_resume_reaches_the_same_step_and_weights(dataset_dir, align_dir, tmp_path):
    out = tmp_path / "resumed"
    out.mkdir()
    shutil.copytree(align_dir / "checkpoint-4", out / "checkpoint-4")
    assert train(TINY_ALIGN, dataset_dir, out, "--resume_from_checkpoint", str(out / "checkpoint-4"), *QUIET) == 0
    state = json.loads((out / "checkpoint-8" / "trainer_state.json").read_text())
    assert state["global_step"] == 8
    resumed, uninterrupted = load_file(out / "model.safetensors"), load_file(align_dir / "model.safetensors")
    assert resumed.keys() == uninterrupted.keys()
    for name, tensor in uninterrupted.items():
        torch.testing.assert_close(resumed[name], tensor, msg=name)


def test_ddp_two_processes_on_cpu(dataset_dir, tmp_path):
    out = tmp_path / "ddp"
    command = [
        sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(REPO / "train/configs/accelerate/ddp.yaml"),
        "--num_processes", "2", "--mixed_precision", "no", str(REPO / "train/sft.py"),
        "--config", str(TINY_ALIGN), "--dataset_name", str(dataset_dir), "--output_dir", str(out),
        "--max_steps", "2", "--save_steps", "2", "--eval_strategy", "no", "--eval_on_start", "false", *QUIET,
    ]  # fmt: skip
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    # Both ranks' errors: the last lines alone show only the survivor's "connection closed by peer".
    errors = [line for line in result.stderr.splitlines() if "Error" in line or "rank" in line]
    assert result.returncode == 0, "\n".join(errors[-40:]) + "\n" + result.stderr[-3000:]
    state = json.loads((out / "checkpoint-2" / "trainer_state.json").read_text())
    # 16 conversations (8 rows x caption + QA), 4 per process per step: one epoch in 2 steps only with 2 processes.
    assert state["global_step"] == 2 and state["epoch"] == pytest.approx(1.0)


def test_streaming_skips_and_reports_invalid_rows(align_dir, tmp_path):
    dataset_dir = write_hmi_dataset(
        tmp_path / "hmi", num_train=4, num_test=2, bad_rows={"no-caption": {"caption": ""}}
    )
    out = tmp_path / "streamed"
    overrides = ("--model_name_or_path", str(align_dir), "--dataset_streaming", "true", "--skip_invalid_rows", "true",
                 "--max_steps", "3", "--eval_strategy", "no", "--eval_on_start", "false", "--save_strategy", "no")  # fmt: skip
    assert train(TINY_INSTRUCT, dataset_dir, out, *overrides, *QUIET) == 0
    assert json.loads((out / "skipped_rows.json").read_text()) == {"no-caption": "empty caption"}
    assert (out / "merged" / "model.safetensors").is_file()
