"""`macm train`'s model-loading flags: passed to `from_pretrained`, or refused with the reason, never ignored."""

import pytest
from trl import ModelConfig, SFTConfig, TrlParser

from train.sft import MACMScriptArguments, load_model_and_processor


def parse(*argv: str):
    parser = TrlParser((MACMScriptArguments, SFTConfig, ModelConfig))
    return parser.parse_args_and_config(["--output_dir", "unused", "--use_cpu", "true", "--bf16", "false", *argv])


def test_model_init_kwargs_reach_from_pretrained(tiny_checkpoint):
    script_args, training_args, model_args = parse(
        "--model_name_or_path", tiny_checkpoint, "--stage", "align", "--trust_remote_code", "true",
        "--model_init_kwargs", '{"msd_beta": 0.5}',
    )  # fmt: skip
    model, processor = load_model_and_processor(script_args, model_args, training_args, conversations=None)
    assert model.config.msd_beta == 0.5  # from_pretrained sets config attributes from its extra kwargs
    assert processor.num_motion_tokens == model.config.motion_tokens_per_clip


def test_flags_without_a_checkpoint_are_refused():
    script_args, training_args, model_args = parse(
        "--stage", "full", "--init_model_config", "{}", "--load_in_4bit", "true", "--trust_remote_code", "true"
    )
    with pytest.raises(ValueError, match=r"\['load_in_4bit/load_in_8bit', 'trust_remote_code'\] apply to loading"):
        load_model_and_processor(script_args, model_args, training_args, conversations=None)


def test_quantized_full_training_and_clashing_init_kwargs_are_refused(tiny_checkpoint):
    script_args, training_args, model_args = parse(
        "--model_name_or_path", tiny_checkpoint, "--stage", "full", "--load_in_8bit", "true"
    )
    with pytest.raises(ValueError, match="cannot be trained in full"):
        load_model_and_processor(script_args, model_args, training_args, conversations=None)
    script_args, training_args, model_args = parse(
        "--model_name_or_path", tiny_checkpoint, "--stage", "align", "--model_init_kwargs", '{"dtype": "float16"}'
    )
    with pytest.raises(ValueError, match=r"model_init_kwargs sets \['dtype'\]"):
        load_model_and_processor(script_args, model_args, training_args, conversations=None)
