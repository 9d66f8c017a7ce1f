"""`side_loss_weight`: the answer's "left"/"right" tokens count that many times in the loss (train/side_loss.py)."""

import json

import pyarrow.parquet as pq
import pytest
from train_helpers import REPO, train, write_hmi_dataset
from utils import tiny_tokenizer

from dataset_scripts.build import write_parquet
from train.side_loss import side_token_ids
from train.tokenizer import train_tokenizer


def test_side_words_must_be_single_tokens():
    assert len(side_token_ids(tiny_tokenizer())) == 2
    with pytest.raises(ValueError, match="one token"):
        side_token_ids(train_tokenizer(["a b c d e f"], vocab_size=60))


def _sided_dataset(root):
    """The helper's dataset, its second kind of clip captioned with a right-side action instead."""
    dataset = write_hmi_dataset(root, num_train=4, num_test=2)
    for path in (dataset / "data").glob("*.parquet"):
        rows = pq.read_table(path).to_pylist()
        for row in rows[1::2]:
            row["caption"] = "The person kicks with the right leg twice."
        write_parquet(path, rows)
    return dataset


def _first_loss(tmp_path, dataset, weight: float, recipe: str = "tiny_cpu.yaml", *extra: str) -> float:
    out = tmp_path / f"{recipe}-{weight}"
    args = ["--max_steps", "1", "--eval_strategy", "no", "--save_strategy", "no", "--side_loss_weight", str(weight)]
    assert train(REPO / "train" / "configs" / recipe, dataset, out, *args, *extra) == 0
    history = json.loads((out / "trainer_state.json").read_text())["log_history"]
    return next(entry["loss"] for entry in history if "loss" in entry)


def test_the_side_term_grows_with_its_weight(tmp_path):
    # Same seed, same first batch, same weights: the loss is the base loss plus (weight - 1) times the side term.
    dataset = _sided_dataset(tmp_path / "hmi")
    one, three, five = (
        _first_loss(tmp_path, dataset, weight, "tiny_cpu.yaml", "--stage", "full") for weight in (1, 3, 5)
    )
    assert three > one
    assert five - one == pytest.approx(2 * (three - one), rel=1e-3)


def test_the_side_term_with_lora(tmp_path):
    # Stage 2: the forward goes through PEFT's wrapper; the hook still reads the fused head's log-probabilities.
    dataset = _sided_dataset(tmp_path / "hmi")
    aligned = tmp_path / "align"
    assert train(REPO / "train" / "configs" / "tiny_cpu.yaml", dataset, aligned, "--max_steps", "1") == 0
    start = ("--model_name_or_path", str(aligned), "--merge_adapter", "false")
    one, three, five = (
        _first_loss(tmp_path, dataset, weight, "tiny_cpu_instruct.yaml", *start) for weight in (1, 3, 5)
    )
    assert three > one
    assert five - one == pytest.approx(2 * (three - one), rel=1e-3)


def test_a_weight_below_one_is_refused(tmp_path):
    dataset = _sided_dataset(tmp_path / "hmi")
    with pytest.raises(ValueError, match="at least 1"):
        _first_loss(tmp_path, dataset, 0.5)
