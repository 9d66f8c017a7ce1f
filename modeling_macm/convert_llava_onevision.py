"""`macm convert SRC -o DST`: a transformers-native LLaVA-OneVision checkpoint → an M-ACM checkpoint and processor.

M-ACM's visual pathway is LLaVA-OneVision's video path (same tower, projector, 2×2 pooling, one newline per
clip), so those weights carry over by name and a converted model gives LLaVA-OneVision's logits on video-only
inputs. The paper starts M-ACM from LLaVA-OneVision-Qwen2-7B but does not say how its separate motion projector
starts; ours starts as a copy of the video projector (the overlay keyframes are frames like any other), so
motion tokens are meaningful before any training.

Not part of the model's remote code: it imports the processing package.
"""

import argparse
import os
import re
import shutil
import tempfile
import warnings
from pathlib import Path

import torch
from transformers import (
    AutoModelForImageTextToText,
    LlavaOnevisionConfig,
    LlavaOnevisionForConditionalGeneration,
    LlavaOnevisionProcessor,
    PreTrainedConfig,
)
from transformers.initialization import no_init_weights

from processing_macm import CHAT_TEMPLATE

from .composition import (
    MOTION_TOKEN,
    VIDEO_TOKEN,
    build_processor,
    fit_vocabulary,
    image_processor_for,
    load_tokenizer,
)
from .configuration_macm import MACMConfig

SOURCE_MODEL_TYPE = LlavaOnevisionConfig.model_type
# `LlavaOnevisionForConditionalGeneration.state_dict()` names → M-ACM's; everything else keeps its name.
RENAMES = {"model.multi_modal_projector.": "model.video_projector.", "model.image_newline": "model.video_newline"}
# LLaVA-OneVision's chat templates render each message's video items in one loop; M-ACM adds a motion loop after it.
VIDEO_LOOP = re.compile(
    r"\{%-?\s*for \w+ in message\['content'\] \| selectattr\('type', 'equalto', 'video'\).*?endfor\s*-?%\}", re.S
)


def check_source(source: str | os.PathLike, **hub_kwargs) -> LlavaOnevisionConfig:
    """The source's config; a clear error when it is not a transformers-native LLaVA-OneVision checkpoint."""
    config_dict, _ = PreTrainedConfig.get_config_dict(source, **hub_kwargs)
    model_type = config_dict.get("model_type")
    if model_type != SOURCE_MODEL_TYPE:
        found = f"model_type {model_type!r} (architectures {config_dict.get('architectures')})"
        hint = {
            MACMConfig.model_type: " It is already an M-ACM checkpoint: load it with MACMForConditionalGeneration.",
            "llava": " Original lmms-lab checkpoints are not supported: use the llava-hf '-hf' conversion of the same model.",
        }.get(model_type, "")
        raise ValueError(
            f"{source!s} holds {found}; `macm convert` expects a transformers-native LLaVA-OneVision checkpoint "
            f"(model_type {SOURCE_MODEL_TYPE!r}, LlavaOnevisionForConditionalGeneration), e.g. "
            f"llava-hf/llava-onevision-qwen2-7b-ov-hf.{hint}"
        )
    config = LlavaOnevisionConfig.from_pretrained(source, **hub_kwargs)
    if not isinstance(config.vision_feature_layer, int):
        raise ValueError(
            f"{source!s} reads the vision tower at several layers {config.vision_feature_layer}; M-ACM reads one "
            f"(`vision_feature_layer` must be an int)."
        )
    return config


def macm_config_from(source: LlavaOnevisionConfig, motion_token_id: int, **overrides) -> MACMConfig:
    """LLaVA-OneVision's config → an overlay M-ACM config with the same towers, projector and video token."""
    return MACMConfig(
        vision_config=source.vision_config.to_dict(),
        text_config=source.text_config.to_dict(),
        video_token_id=source.video_token_id,
        motion_token_id=motion_token_id,
        projector_hidden_act=source.projector_hidden_act,
        multimodal_projector_bias=source.multimodal_projector_bias,
        vision_feature_layer=source.vision_feature_layer,
        vision_feature_select_strategy=source.vision_feature_select_strategy,
        tie_word_embeddings=source.tie_word_embeddings,
        motion_representation="overlay",
        **overrides,
    )


def macm_state_dict(source_state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """LLaVA-OneVision weights under M-ACM's names, plus the motion projector as a copy of the video projector."""
    state = {}
    for name, tensor in source_state.items():
        for old, new in RENAMES.items():
            if name.startswith(old):
                name = new + name[len(old) :]
        state[name] = tensor
    projector = "model.video_projector."
    state.update(
        {"model.motion_projector." + n[len(projector) :]: t for n, t in state.items() if n.startswith(projector)}
    )
    return state


def motion_chat_template(template: str | dict | None) -> str:
    """The source's chat template, extended to render a `{"type": "motion"}` item as `<motion>` right after the
    video; M-ACM's ChatML template (the Qwen2 layout) when the source's has no recognisable video loop."""
    if isinstance(template, dict):
        template = template.get("default")
    if template and "'motion'" in template:
        return template
    match = VIDEO_LOOP.search(template or "")
    if match is None:
        warnings.warn(
            "The source has no LLaVA-OneVision chat template with a video loop; using M-ACM's ChatML template.",
            stacklevel=2,
        )
        return CHAT_TEMPLATE
    motion_loop = match.group(0).replace("'video'", "'motion'").replace(VIDEO_TOKEN, MOTION_TOKEN)
    return template[: match.end()] + motion_loop + template[match.end() :]


def convert(
    source: str | os.PathLike,
    output: str | os.PathLike,
    dtype: str = "auto",
    overwrite: bool = False,
    revision: str | None = None,
    num_frames: int | None = None,
    **config_overrides,
) -> Path:
    """Converts `source` (a local folder or a Hub id) and writes the M-ACM model and processor to `output`.

    The output appears only when complete (written to a temporary folder beside it, then renamed). `dtype="auto"`
    keeps the checkpoint's (bf16 for the published ones). Peak memory is about twice the model in that dtype.
    `config_overrides` are `MACMConfig` fields (e.g. `num_keyframes`). Returns the output folder.
    """
    output = Path(output)
    if output.exists() and not overwrite:
        raise FileExistsError(f"{output} exists; pass --overwrite to replace it.")
    hub_kwargs = {"revision": revision} if revision else {}

    print(f"[1/4] checking {source}")
    source_config = check_source(source, **hub_kwargs)
    tokenizer = load_tokenizer(source, **hub_kwargs)
    if tokenizer.convert_tokens_to_ids(VIDEO_TOKEN) != source_config.video_token_id:
        raise ValueError(
            f"The tokenizer of {source!s} maps {VIDEO_TOKEN} to id {tokenizer.convert_tokens_to_ids(VIDEO_TOKEN)} but its "
            f"config says video_token_index={source_config.video_token_id}."
        )
    config = macm_config_from(source_config, tokenizer.convert_tokens_to_ids(MOTION_TOKEN), **config_overrides)
    processor_dict, _ = LlavaOnevisionProcessor.get_processor_dict(source, **hub_kwargs)
    processor = build_processor(
        config,
        tokenizer,
        image_processor_for(source, config.vision_config.image_size, **hub_kwargs),
        chat_template=motion_chat_template(processor_dict.get("chat_template") or tokenizer.chat_template),
        **({"num_frames": num_frames} if num_frames else {}),
    )

    print(f"[2/4] loading LLaVA-OneVision weights ({dtype})")
    llava = LlavaOnevisionForConditionalGeneration.from_pretrained(source, dtype=dtype, **hub_kwargs)
    print("[3/4] building M-ACM (motion projector = copy of the video projector)")
    with no_init_weights():  # every weight is overwritten below; random init of a 7B model takes minutes
        model = AutoModelForImageTextToText.from_config(config, dtype=llava.dtype)
    model.load_state_dict(macm_state_dict(llava.state_dict()), strict=True)
    model.generation_config = llava.generation_config
    del llava
    fit_vocabulary(model, tokenizer)

    print(f"[4/4] writing {output}")
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
    try:
        model.save_pretrained(staging)
        processor.save_pretrained(staging)
        if output.exists():
            shutil.rmtree(output)
        os.replace(staging, output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="macm convert",
        description="Convert a transformers-native LLaVA-OneVision checkpoint (folder or Hub id, e.g. "
        "llava-hf/llava-onevision-qwen2-7b-ov-hf) into an M-ACM checkpoint with the overlay motion pathway.",
    )
    parser.add_argument("source", metavar="SRC", help="LLaVA-OneVision checkpoint: a local folder or a Hub id")
    parser.add_argument("-o", "--output", metavar="DST", required=True, help="folder to write the M-ACM checkpoint to")
    parser.add_argument("--dtype", default="auto", choices=["auto", "bfloat16", "float16", "float32"])
    parser.add_argument(
        "--num-frames", type=int, help="frames the processor samples per video (default: MACMProcessor's)"
    )
    parser.add_argument(
        "--num-keyframes", type=int, default=MACMConfig.num_keyframes, help="overlay keyframes per clip"
    )
    parser.add_argument("--revision", help="Hub revision of SRC")
    parser.add_argument("--overwrite", action="store_true", help="replace DST if it exists")
    args = parser.parse_args(argv)
    try:
        output = convert(
            args.source,
            args.output,
            dtype=args.dtype,
            overwrite=args.overwrite,
            revision=args.revision,
            num_frames=args.num_frames,
            num_keyframes=args.num_keyframes,
        )
    except (ValueError, FileExistsError) as error:
        parser.exit(2, f"macm convert: error: {error}\n")
    print(f"M-ACM checkpoint written to {output}")
    return 0


__all__ = ["check_source", "convert", "macm_config_from", "macm_state_dict", "motion_chat_template", "main"]


if __name__ == "__main__":
    raise SystemExit(main())
