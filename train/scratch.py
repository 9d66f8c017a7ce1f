"""A MACM model and processor built from a recipe's `init_model_config`, for training from scratch
(the tiny CPU recipe, the default model trained on HMI-Synth). Real runs start from a checkpoint."""

from itertools import islice

import numpy as np

from dataset_scripts.schema import row_to_track
from modeling_macm import MACMConfig, MACMForConditionalGeneration
from processing_macm import DEFAULT_PROMPT, MACMProcessor
from processing_macm.kinematic import KINEMATIC_FEATURE_SIZES, KINEMATIC_FEATURE_VERSION
from train.tokenizer import train_tokenizer

MAX_SCAN = 10_000  # conversations read for the tokenizer and the motion statistics


def build_from_scratch(model_config: dict, processor_config: dict, conversations, vocab_size: int):
    """Trains a tokenizer on the conversations' text, then builds the config (token ids and vocabulary
    from that tokenizer), a random model and a processor whose token counts come from the config.

    Args:
        model_config: `MACMConfig` keyword arguments (vision_config, text_config, motion settings)
            without token ids or `text_config.vocab_size`, which come from the tokenizer.
        processor_config: `MACMProcessor` settings that are not in the config (num_frames,
            keyframe_sampling, motion_fps).
        conversations: what `train.data.load_conversations` gives (the first `MAX_SCAN` are read).
        vocab_size: size of the trained tokenizer's vocabulary.
    """
    examples = list(islice(conversations, MAX_SCAN))
    texts = [DEFAULT_PROMPT] + [text for example in examples for text in (example["prompt"], example["answer"])]
    tokenizer = train_tokenizer(texts, vocab_size=vocab_size)
    text_config = dict(
        model_config.get("text_config") or {},
        vocab_size=len(tokenizer),
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    # A new model reads the newest kinematic features, unless the recipe names a version.
    version = model_config.get("kinematic_feature_version", KINEMATIC_FEATURE_VERSION)
    model_config = {
        "motion_feature_size": KINEMATIC_FEATURE_SIZES[version],
        **model_config,
        "kinematic_feature_version": version,
    }
    config = MACMConfig(
        **{**model_config, "text_config": text_config},
        video_token_id=tokenizer.video_token_id,
        motion_token_id=tokenizer.motion_token_id,
    )
    processor = MACMProcessor.from_model_config(config, tokenizer, **processor_config)
    if config.motion_representation == "kinematic":
        _set_motion_stats(processor, examples)
    return MACMForConditionalGeneration(config), processor


def _set_motion_stats(processor: MACMProcessor, examples: list[dict]) -> None:
    """The processor's kinematic normalisation, from the distinct tracks among the examples."""
    from processing_macm.kinematic import compute_feature_stats, kinematic_features

    tracks = {example["id"]: row_to_track(example["motion"]) for example in examples if example["motion"] is not None}
    version = processor.kinematic_feature_version
    features = [
        kinematic_features(track, processor.motion_fps, version=version)
        for track in tracks.values()
        if track.has_person
    ]
    if not features:
        return
    mean, std = compute_feature_stats([f for f, _ in features], [m for _, m in features])
    processor.motion_feature_mean, processor.motion_feature_std = np.asarray(mean).tolist(), np.asarray(std).tolist()


__all__ = ["build_from_scratch"]
