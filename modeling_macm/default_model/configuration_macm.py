"""M-ACM configuration."""

import math
from typing import Literal

from transformers import AutoConfig, PreTrainedConfig
from transformers.configuration_utils import SubConfigSpec


class MACMConfig(PreTrainedConfig):
    r"""
    Configuration of [`MACMForConditionalGeneration`]: a vision tower and a causal language model
    (each any transformers config, composed through `AutoConfig`), a video projector, and a motion
    pathway with its own projector.

    Args:
        vision_config (`dict` or `PreTrainedConfig`, *optional*):
            Any SigLIP or CLIP vision config. Defaults to the SigLIP-so400m tower of LLaVA-OneVision.
        text_config (`dict` or `PreTrainedConfig`, *optional*):
            Any Llama/Qwen2-family causal LM config. Defaults to Qwen2.
        video_token_id (`int`): id of the `<video>` placeholder token (set from the tokenizer).
        motion_token_id (`int`): id of the `<motion>` placeholder token (set from the tokenizer).
        vision_feature_layer (`int`): hidden state of the vision tower that is projected.
        vision_feature_select_strategy (`"default"` or `"full"`): `"default"` drops the CLS token (CLIP),
            `"full"` keeps every patch (SigLIP has no CLS token).
        video_pool_stride (`int`): frames are pooled bilinearly by this factor per side after projection,
            as LLaVA-OneVision does for video (stride 2).
        use_video_newline (`bool`): append one learned separator token after each clip (LLaVA-OneVision).
        motion_representation (`"overlay"` or `"kinematic"`): `"overlay"` sends the keyframes with the
            body drawn over the person through the vision tower (the paper's pathway); `"kinematic"` reads
            joint features with a small temporal transformer (ours).
        num_keyframes (`int`): keyframes per clip for the overlay pathway.
        motion_feature_size (`int`): features per frame of the kinematic pathway (F in `[B, T, F]`).
        kinematic_feature_version (`int`): which kinematic features the pathway reads
            (`processing_macm.kinematic`: 1 = 202 per frame, 2 = 224 with per-joint visibility). Defaults to
            1, the version of checkpoints saved before it was recorded; new models get the newest.
        motion_max_frames (`int`): longest kinematic sequence (positions of the motion encoder).
        motion_num_tokens (`int`): tokens the kinematic pathway gives the language model per clip, one per time
            window of the clip's valid frames.
        motion_hidden_size, motion_num_layers, motion_num_heads (`int`): size of the motion encoder.
        msd_alpha (`list[float]`), msd_beta (`float`), msd_theta (`float`): Motion Synergetic Decoding
            hyper-parameters; the defaults are the paper's.
        motion_head_labels (`dict[str, list[str]]`, *optional*): kinematic pathway only: linear read-outs kept on
            the motion encoder's windows, one per key, with these labels (e.g. `{"action": [...], "side":
            ["none", "left", "right", "both"]}`). They do not change the logits of `forward`.
        side_grounding (`dict`, *optional*): with an `action` and a `side` head, `generate` names limb sides from
            the motion (`side_grounding.py`): `{"left": id, "right": id, "words": {action: [[ids], ...]}, "sided":
            [actions]}`, the token ids of the side words and of the words that name each action; optionally
            `"pairs": [[left id, right id], ...]`, every spelling of the side words (else the one pair).
        motion_feature_mirror (`dict`, *optional*): with motion heads, the map of the processor's normalised
            kinematic features to those of the left-right mirror image of the clip, `{"index": [F], "scale": [F],
            "shift": [F]}` (`mirrored = scale * features[..., index] + shift`, `MACMProcessor.motion_feature_mirror`).
            The heads are then read on the clip and on its mirror image, sides swapped back, and averaged
            (`side_grounding.read_motion_heads`), so a clip and its mirror image get opposite sides.
    """

    model_type = "macm"
    sub_configs_defaults = {
        "vision_config": SubConfigSpec(
            config_class=AutoConfig,
            model_type="siglip_vision_model",
            init_kwargs={
                "hidden_size": 1152,
                "intermediate_size": 4304,
                "patch_size": 14,
                "image_size": 384,
                "num_hidden_layers": 26,
                "num_attention_heads": 16,
                "vision_use_head": False,
            },
        ),
        "text_config": SubConfigSpec(config_class=AutoConfig, model_type="qwen2"),
    }

    vision_config: dict | PreTrainedConfig | None = None
    text_config: dict | PreTrainedConfig | None = None
    video_token_id: int = 151647
    motion_token_id: int = 151648
    projector_hidden_act: str = "gelu"
    multimodal_projector_bias: bool = True
    vision_feature_layer: int = -1
    vision_feature_select_strategy: Literal["default", "full"] = "full"
    video_pool_stride: int = 2
    use_video_newline: bool = True
    motion_representation: Literal["overlay", "kinematic"] = "overlay"
    num_keyframes: int = 4
    motion_feature_size: int = 202
    kinematic_feature_version: int = 1
    motion_max_frames: int = 128
    motion_num_tokens: int = 16
    motion_hidden_size: int = 256
    motion_num_layers: int = 2
    motion_num_heads: int = 4
    msd_alpha: list[float] | tuple[float, ...] = (0.5, 0.2, 0.4, 0.8, 0.3, 2.0)
    msd_beta: float = 0.2
    msd_theta: float = 2.0
    tie_word_embeddings: bool = False
    motion_head_labels: dict[str, list[str]] | None = None
    side_grounding: dict | None = None
    motion_feature_mirror: dict | None = None

    def __post_init__(self, **kwargs):
        super().__post_init__(**kwargs)
        self.msd_alpha = list(self.msd_alpha)
        if self.motion_representation not in ("overlay", "kinematic"):
            raise ValueError(
                f"motion_representation must be 'overlay' or 'kinematic', got {self.motion_representation!r}."
            )
        if self.vision_feature_select_strategy not in ("default", "full"):
            raise ValueError(
                f"vision_feature_select_strategy must be 'default' or 'full', got {self.vision_feature_select_strategy!r}."
            )
        if len(self.msd_alpha) != 6:
            raise ValueError(f"msd_alpha needs 6 values (α1..α6), got {len(self.msd_alpha)}: {self.msd_alpha}.")
        if self.motion_hidden_size % self.motion_num_heads:
            raise ValueError(
                f"motion_hidden_size ({self.motion_hidden_size}) must be divisible by motion_num_heads "
                f"({self.motion_num_heads})."
            )
        if self.motion_head_labels and self.motion_representation != "kinematic":
            raise ValueError(
                "motion_head_labels read the kinematic motion encoder's windows; this model is 'overlay'."
            )
        if self.side_grounding and not {"action", "side"} <= set(self.motion_head_labels or {}):
            raise ValueError("side_grounding needs motion heads named 'action' and 'side' (motion_head_labels).")
        mirror = self.motion_feature_mirror
        if mirror is not None and {len(mirror.get(k, ())) for k in ("index", "scale", "shift")} != {
            self.motion_feature_size
        }:
            raise ValueError(
                f"motion_feature_mirror needs 'index', 'scale' and 'shift' of motion_feature_size="
                f"{self.motion_feature_size} values each (MACMProcessor.motion_feature_mirror())."
            )
        # Follow the language model's choice (LLaVA does the same), so tied checkpoints reload tied.
        if not self.tie_word_embeddings and getattr(self.text_config, "tie_word_embeddings", False):
            self.tie_word_embeddings = True

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, **kwargs) -> "MACMConfig":
        # transformers only warns when a checkpoint of another model type is loaded into this class, and
        # then builds a model with random weights; fail instead, and say what to do.
        config_dict, _ = cls.get_config_dict(pretrained_model_name_or_path, **kwargs)
        model_type = config_dict.get("model_type")
        if model_type != cls.model_type:
            hint = " Convert it with `macm convert`." if model_type == "llava_onevision" else ""
            raise ValueError(
                f"{pretrained_model_name_or_path!s} holds a {model_type!r} checkpoint, not an M-ACM ({cls.model_type!r}) one.{hint}"
            )
        return super().from_pretrained(pretrained_model_name_or_path, **kwargs)

    @property
    def tokens_per_frame(self) -> int:
        """Tokens one frame gives after pooling: ceil(patches per side / stride)²."""
        side = self.vision_config.image_size // self.vision_config.patch_size
        return math.ceil(side / self.video_pool_stride) ** 2

    @property
    def motion_tokens_per_clip(self) -> int:
        if self.motion_representation == "overlay":
            return self.num_keyframes * self.tokens_per_frame
        return self.motion_num_tokens

    def video_tokens(self, num_frames: int) -> int:
        return num_frames * self.tokens_per_frame + int(self.use_video_newline)


__all__ = ["MACMConfig"]
