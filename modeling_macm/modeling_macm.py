"""PyTorch M-ACM: a LLaVA-OneVision-style video-language model with a second, motion pathway.

Song et al., "Towards Fine-Grained Human Motion Video Captioning", ACM MM 2025 (arXiv 2510.24767).
The visual pathway follows transformers' `LlavaOnevisionModel` (project, then pool frames 2×2, one
newline token per clip) so that LLaVA-OneVision checkpoints convert with identical video-only logits.
"""

import math
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from transformers import AutoModel, GenerationMixin, LogitsProcessorList, PreTrainedModel
from transformers import initialization as init
from transformers.activations import ACT2FN
from transformers.cache_utils import Cache
from transformers.modeling_outputs import BaseModelOutputWithPast, BaseModelOutputWithPooling, ModelOutput
from transformers.utils import TransformersKwargs, torch_compilable_check
from transformers.utils.generic import can_return_tuple
from transformers.utils.output_capturing import select_hidden_states
from typing_extensions import Unpack

from .configuration_macm import MACMConfig
from .decoding_msd import motion_synergetic_generate
from .gait_grounding import MotionGaitLogitsProcessor
from .side_grounding import MotionSideLogitsProcessor, read_motion_heads

# The small model trained here on HMI-Synth ships inside this package (default_model/README.md is its
# card): `from_pretrained("macm")` loads it unless a local folder named "macm" exists.
EMBEDDED_MODEL_NAME = "macm"
EMBEDDED_MODEL_DIR = Path(__file__).parent / "default_model"

MOTION_INPUT_NAMES = ("motion_pixel_values", "motion_features", "motion_attention_mask", "motion_mask")


@dataclass
class MACMModelOutputWithPast(BaseModelOutputWithPast):
    r"""
    video_hidden_states (`torch.FloatTensor` of shape `(num_videos, video_tokens, hidden_size)`, *optional*):
        Projected video features that replaced the `<video>` placeholders.
    motion_hidden_states (`torch.FloatTensor` of shape `(num_motion_clips, motion_tokens, hidden_size)`, *optional*):
        Projected motion features that replaced the `<motion>` placeholders.
    """

    video_hidden_states: torch.FloatTensor | None = None
    motion_hidden_states: torch.FloatTensor | None = None


@dataclass
class MACMCausalLMOutputWithPast(ModelOutput):
    r"""
    loss (`torch.FloatTensor` of shape `(1,)`, *optional*): next-token loss, when `labels` are given.
    logits (`torch.FloatTensor` of shape `(batch_size, sequence_length, vocab_size)`): next-token scores.
    past_key_values (`Cache`, *optional*): the language model's key/value cache.
    hidden_states (`tuple(torch.FloatTensor)`, *optional*): per-layer hidden states of the language model.
    attentions (`tuple(torch.FloatTensor)`, *optional*): per-layer attention weights of the language model.
    video_hidden_states (`torch.FloatTensor` of shape `(num_videos, video_tokens, hidden_size)`, *optional*):
        Projected video features that replaced the `<video>` placeholders.
    motion_hidden_states (`torch.FloatTensor` of shape `(num_motion_clips, motion_tokens, hidden_size)`, *optional*):
        Projected motion features that replaced the `<motion>` placeholders.
    """

    loss: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    past_key_values: Cache | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None
    video_hidden_states: torch.FloatTensor | None = None
    motion_hidden_states: torch.FloatTensor | None = None


class MACMProjector(nn.Module):
    """The paper's 2-layer MLP projector (Linear-GELU-Linear, LLaVA style)."""

    def __init__(self, in_features: int, config: MACMConfig):
        super().__init__()
        out_features = config.text_config.hidden_size
        self.linear_1 = nn.Linear(in_features, out_features, bias=config.multimodal_projector_bias)
        self.act = ACT2FN[config.projector_hidden_act]
        self.linear_2 = nn.Linear(out_features, out_features, bias=config.multimodal_projector_bias)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.linear_2(self.act(self.linear_1(features)))


class MACMMotionEncoder(nn.Module):
    """Kinematic pathway (ours, not in the paper): per-frame joint features → temporal transformer →
    `motion_num_tokens` time windows, each the mean of its valid frames, so a clip of any length up to
    `motion_max_frames` gives a fixed number of tokens in time order ("first ... then ..." stays
    readable). The windows split each clip's valid frames evenly."""

    def __init__(self, config: MACMConfig):
        super().__init__()
        hidden = config.motion_hidden_size
        self.num_tokens = config.motion_num_tokens
        self.input_proj = nn.Linear(config.motion_feature_size, hidden)
        self.position_embedding = nn.Parameter(torch.zeros(config.motion_max_frames, hidden))
        layer = nn.TransformerEncoderLayer(
            hidden,
            config.motion_num_heads,
            4 * hidden,
            dropout=0.0,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.layers = nn.TransformerEncoder(layer, config.motion_num_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(hidden)

    def window_weights(self, valid: torch.Tensor) -> torch.Tensor:
        """`valid [B, T]` bool → averaging weights `[B, Q, T]`: the k-th valid frame of a clip with n of
        them goes to window floor(k * Q / n); a window with no frame (n < Q) is all zero."""
        rank = valid.long().cumsum(-1) - 1  # [B, T]
        count = valid.sum(-1, keepdim=True).clamp(min=1)  # [B, 1]
        window = torch.div(rank * self.num_tokens, count, rounding_mode="floor")  # [B, T]
        windows = torch.arange(self.num_tokens, device=valid.device)[None, :, None]  # [1, Q, 1]
        weights = ((window[:, None] == windows) & valid[:, None]).to(torch.float32)  # [B, Q, T]
        return weights / weights.sum(-1, keepdim=True).clamp(min=1)

    def forward(self, motion_features: torch.Tensor, motion_attention_mask: torch.Tensor | None) -> torch.Tensor:
        batch_size, num_frames, _ = motion_features.shape  # [B, T, F]
        hidden = self.input_proj(motion_features) + self.position_embedding[:num_frames]  # [B, T, H]
        if motion_attention_mask is None:
            valid = torch.ones(batch_size, num_frames, dtype=torch.bool, device=motion_features.device)
        else:
            valid = motion_attention_mask.bool()
        # A clip with no valid frame (its person seen in none of the frames at this rate) attends over its zeroed
        # frames rather than over nothing, which is NaN; its windows still pool no frame.
        attend = valid | ~valid.any(-1, keepdim=True)  # [B, T]
        hidden = self.layers(hidden, src_key_padding_mask=~attend)  # [B, T, H]
        pooled = self.window_weights(valid).to(hidden.dtype) @ hidden  # [B, Q, H]
        return self.norm(pooled)


class MACMMotionHeads(nn.Module):
    """Linear read-outs of the motion encoder's windows `[B, Q, H]`, one per label set (`{"action": [...],
    "side": [...]}`): what each window shows. Motion pretraining (train/motion_pretrain.py) trains them;
    `generate` reads the action and side heads to name limb sides (side_grounding.py)."""

    def __init__(self, hidden_size: int, labels: dict[str, list[str]]):
        super().__init__()
        self.heads = nn.ModuleDict({name: nn.Linear(hidden_size, len(names)) for name, names in labels.items()})

    def forward(self, windows: torch.Tensor) -> dict[str, torch.Tensor]:
        return {name: head(windows) for name, head in self.heads.items()}  # each [B, Q, C]


class MACMPreTrainedModel(PreTrainedModel):
    config: MACMConfig
    base_model_prefix = "model"
    input_modalities = ("video", "text")
    supports_gradient_checkpointing = True
    _skip_keys_device_placement = ["past_key_values"]
    _supports_flash_attn = True
    _supports_sdpa = True
    _supports_flex_attn = True
    _supports_attention_backend = True
    # No data-dependent Python control flow in the forward: the placeholder checks are `torch_compilable_check`s.
    _can_compile_fullgraph = True

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, *args, **kwargs):
        if (
            str(pretrained_model_name_or_path) == EMBEDDED_MODEL_NAME
            and not os.path.isdir(pretrained_model_name_or_path)
            and EMBEDDED_MODEL_DIR.is_dir()
        ):
            pretrained_model_name_or_path = EMBEDDED_MODEL_DIR
        # A model shipped as trained parts over a packaged language model ("macm-135m"): composed, not loaded. An
        # absolute import in a `try`, as in `from_pretrained_components`, so that remote code does not need it.
        try:
            from modeling_macm.composed import compose, composed_folder
        except ImportError:
            composed_folder = None
        folder = None
        if composed_folder is not None and pretrained_model_name_or_path is not None:  # None: weights in `state_dict`
            folder = composed_folder(pretrained_model_name_or_path)
        if folder is not None:
            model = compose(folder, **kwargs)
            return model if isinstance(model, cls) else model.model
        return super().from_pretrained(pretrained_model_name_or_path, *args, **kwargs)

    @torch.no_grad()
    def _init_weights(self, module):
        super()._init_weights(module)
        if isinstance(module, MACMModel) and module.video_newline is not None:
            init.normal_(module.video_newline, mean=0.0, std=1 / math.sqrt(self.config.text_config.hidden_size))
        elif isinstance(module, MACMMotionEncoder):
            init.normal_(module.position_embedding, mean=0.0, std=0.02)


class MACMModel(MACMPreTrainedModel):
    """Vision tower, projectors, motion pathway and language model, without the LM head."""

    def __init__(self, config: MACMConfig):
        super().__init__(config)
        self.vision_tower = AutoModel.from_config(config.vision_config)
        self.video_projector = MACMProjector(config.vision_config.hidden_size, config)
        self.video_newline = (
            nn.Parameter(torch.zeros(config.text_config.hidden_size)) if config.use_video_newline else None
        )
        if config.motion_representation == "kinematic":
            self.motion_encoder = MACMMotionEncoder(config)
            self.motion_projector = MACMProjector(config.motion_hidden_size, config)
            self.motion_heads = (
                MACMMotionHeads(config.motion_hidden_size, config.motion_head_labels)
                if config.motion_head_labels
                else None
            )
        else:
            self.motion_encoder = self.motion_heads = None
            self.motion_projector = MACMProjector(config.vision_config.hidden_size, config)
        self.language_model = AutoModel.from_config(config.text_config)
        self.post_init()

    def get_input_embeddings(self):
        return self.language_model.get_input_embeddings()

    def set_input_embeddings(self, value):
        self.language_model.set_input_embeddings(value)

    def _encode_frames(
        self, pixel_values: torch.Tensor, projector: MACMProjector, **kwargs: Unpack[TransformersKwargs]
    ) -> BaseModelOutputWithPooling:
        """`[B, N, 3, H, W]` frames → vision tower → projector → 2D pooling: the tower's outputs, with its last
        layer per clip as `last_hidden_state` `[B, N * P, Dv]` and the features as `pooler_output`
        `[B, N * tokens_per_frame, D]`. The tower's `hidden_states` stay per frame: `[B * N, P, Dv]` each."""
        batch_size, num_frames = pixel_values.shape[:2]
        outputs = self.vision_tower(pixel_values.flatten(0, 1), return_dict=True, **kwargs)
        last = outputs.last_hidden_state  # [B*N, P, Dv]
        outputs.last_hidden_state = last.reshape(batch_size, num_frames * last.shape[1], last.shape[2])
        features = outputs.hidden_states[self.config.vision_feature_layer]  # [B*N, P, Dv]
        if self.config.vision_feature_select_strategy == "default":
            features = features[:, 1:]
        features = projector(features)  # [B*N, P, D]
        side = self.config.vision_config.image_size // self.config.vision_config.patch_size
        features = features.view(batch_size * num_frames, side, side, -1).permute(0, 3, 1, 2)
        pooled_side = math.ceil(side / self.config.video_pool_stride)
        features = nn.functional.interpolate(features, size=(pooled_side, pooled_side), mode="bilinear")
        outputs.pooler_output = features.permute(0, 2, 3, 1).reshape(batch_size, num_frames * pooled_side**2, -1)
        return outputs

    # `select_hidden_states`: unless all are asked for, the tower keeps only the projected layer (LLaVA-OneVision).
    @can_return_tuple
    @select_hidden_states(lambda model: model.config.vision_feature_layer)
    def get_video_features(
        self, pixel_values_videos: torch.FloatTensor, **kwargs: Unpack[TransformersKwargs]
    ) -> tuple | BaseModelOutputWithPooling:
        r"""
        pixel_values_videos (`[B, N, 3, H, W]`): sampled frames.

        Returns the vision tower's outputs; `pooler_output` `[B, N * tokens_per_frame (+1 newline), D]` holds the
        features that replace the `<video>` placeholders.
        """
        outputs = self._encode_frames(pixel_values_videos, self.video_projector, **kwargs)
        if self.video_newline is not None:
            features = outputs.pooler_output
            newline = self.video_newline.to(features.dtype).expand(features.shape[0], 1, -1)
            outputs.pooler_output = torch.cat([features, newline], dim=1)
        return outputs

    @can_return_tuple
    @select_hidden_states(lambda model: model.config.vision_feature_layer)
    def get_motion_features(
        self,
        motion_pixel_values: torch.FloatTensor | None = None,
        motion_features: torch.FloatTensor | None = None,
        motion_attention_mask: torch.LongTensor | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> tuple | BaseModelOutputWithPooling:
        r"""
        motion_pixel_values (`[B, K, 3, H, W]`): overlay keyframes ("overlay").
        motion_features (`[B, T, F]`), motion_attention_mask (`[B, T]`): kinematic features ("kinematic").

        Returns the encoder's outputs (the vision tower's, or the motion encoder's windows `[B, Q, H]` as
        `last_hidden_state`); `pooler_output` `[B, motion_tokens_per_clip, D]` replaces the `<motion>` placeholders.
        """
        if self.config.motion_representation == "overlay":
            if motion_pixel_values is None:
                raise ValueError(
                    "This model's motion pathway is 'overlay': pass `motion_pixel_values` [B, K, 3, H, W]."
                )
            if motion_pixel_values.shape[1] != self.config.num_keyframes:
                raise ValueError(
                    f"motion_pixel_values has {motion_pixel_values.shape[1]} keyframes per clip; the model was "
                    f"configured for num_keyframes={self.config.num_keyframes}."
                )
            return self._encode_frames(motion_pixel_values, self.motion_projector, **kwargs)
        if motion_features is None:
            raise ValueError("This model's motion pathway is 'kinematic': pass `motion_features` [B, T, F].")
        if motion_features.ndim != 3 or motion_features.shape[-1] != self.config.motion_feature_size:
            raise ValueError(
                f"motion_features must be [B, T, {self.config.motion_feature_size}], "
                f"got {list(motion_features.shape)}."
            )
        if motion_features.shape[1] > self.config.motion_max_frames:
            raise ValueError(
                f"motion_features has {motion_features.shape[1]} frames, more than motion_max_frames="
                f"{self.config.motion_max_frames}; resample the track to a lower rate."
            )
        dtype = self.motion_projector.linear_1.weight.dtype
        encoded = self.motion_encoder(motion_features.to(dtype), motion_attention_mask)  # [B, Q, H]
        return BaseModelOutputWithPooling(last_hidden_state=encoded, pooler_output=self.motion_projector(encoded))

    def get_placeholder_mask(
        self, input_ids: torch.LongTensor | None, inputs_embeds: torch.FloatTensor, token_id: int
    ) -> torch.BoolTensor:
        """`[B, L, 1]`: where the placeholder `token_id` sits, read from `input_ids` or, without them, from the
        embeddings (the placeholder's own embedding row)."""
        if input_ids is None:
            token = torch.full((), token_id, dtype=torch.long, device=inputs_embeds.device)
            mask = (inputs_embeds == self.get_input_embeddings()(token)).all(-1)
        else:
            mask = input_ids == token_id
        return mask.unsqueeze(-1).to(inputs_embeds.device)

    def _scatter(self, inputs_embeds, mask, features, name: str, input_name: str) -> torch.Tensor:
        """Writes `features [C, tokens, D]` into the `<name>` positions; the counts must match exactly (no
        features: no placeholder). The check is a compiler hint, not a host sync, under `torch.compile`."""
        num_tokens = mask.sum()
        num_features = 0 if features is None else features.shape[0] * features.shape[1]
        torch_compilable_check(
            num_tokens == num_features,
            lambda: (
                f"{name.capitalize()} placeholder tokens and {name} features do not match: input_ids hold "
                f"{int(num_tokens)} `<{name}>` tokens but `{input_name}` gives {num_features} feature vectors. Build "
                f"inputs with MACMProcessor from the same checkpoint, so that both counts come from one config."
            ),
        )
        if features is None:
            return inputs_embeds
        features = features.reshape(-1, features.shape[-1]).to(inputs_embeds.device, inputs_embeds.dtype)
        return inputs_embeds.masked_scatter(mask, features)

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        pixel_values_videos: torch.FloatTensor | None = None,
        motion_pixel_values: torch.FloatTensor | None = None,
        motion_features: torch.FloatTensor | None = None,
        motion_attention_mask: torch.LongTensor | None = None,
        motion_mask: torch.BoolTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        past_key_values: Cache | None = None,
        inputs_embeds: torch.FloatTensor | None = None,
        use_cache: bool | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> tuple | MACMModelOutputWithPast:
        r"""
        pixel_values_videos (`[num_videos, num_frames, 3, H, W]`): sampled frames, one clip per sample that
            has `<video>` tokens, in batch order.
        motion_pixel_values (`[num_motion_clips, num_keyframes, 3, H, W]`): overlay keyframes ("overlay").
        motion_features (`[num_motion_clips, T, motion_feature_size]`),
        motion_attention_mask (`[num_motion_clips, T]`): kinematic features and their valid frames ("kinematic").
            Motion inputs hold one clip per sample that has `<motion>` tokens; a sample without motion has none
            and runs video-only.
        motion_mask (`[batch_size]` bool, *optional*): which samples carry a motion clip (from the processor);
            checked against the number of motion clips.
        """
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("Pass exactly one of `input_ids` or `inputs_embeds`.")
        if inputs_embeds is None:
            inputs_embeds = self.get_input_embeddings()(input_ids)
        video_positions = self.get_placeholder_mask(input_ids, inputs_embeds, self.config.video_token_id)
        motion_positions = self.get_placeholder_mask(input_ids, inputs_embeds, self.config.motion_token_id)

        video_features = None
        if pixel_values_videos is not None:
            video_features = self.get_video_features(pixel_values_videos.to(inputs_embeds.dtype)).pooler_output
        inputs_embeds = self._scatter(inputs_embeds, video_positions, video_features, "video", "pixel_values_videos")

        motion_hidden = None
        if motion_pixel_values is not None or motion_features is not None:
            motion_hidden = self.get_motion_features(
                None if motion_pixel_values is None else motion_pixel_values.to(inputs_embeds.dtype),
                motion_features,
                motion_attention_mask,
            ).pooler_output
            if motion_mask is not None:
                torch_compilable_check(
                    motion_mask.sum() == motion_hidden.shape[0],
                    lambda: (
                        f"motion_mask marks {int(motion_mask.sum())} samples with motion but {motion_hidden.shape[0]} "
                        f"motion clips were given."
                    ),
                )
        motion_input = "motion_pixel_values" if self.config.motion_representation == "overlay" else "motion_features"
        inputs_embeds = self._scatter(inputs_embeds, motion_positions, motion_hidden, "motion", motion_input)

        outputs = self.language_model(
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=past_key_values,
            inputs_embeds=inputs_embeds,
            use_cache=use_cache,
            **kwargs,
        )
        return MACMModelOutputWithPast(
            last_hidden_state=outputs.last_hidden_state,
            past_key_values=outputs.past_key_values,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
            video_hidden_states=video_features,
            motion_hidden_states=motion_hidden,
        )


class MACMForConditionalGeneration(MACMPreTrainedModel, GenerationMixin):
    """M-ACM with a language-modelling head: captions and answers questions about human motion in video."""

    _tied_weights_keys = {"lm_head.weight": "model.language_model.embed_tokens.weight"}
    _tp_plan = {"lm_head": "colwise_gather_output"}

    def __init__(self, config: MACMConfig):
        super().__init__(config)
        self.model = MACMModel(config)
        self.lm_head = nn.Linear(config.text_config.hidden_size, config.text_config.vocab_size, bias=False)
        self.post_init()

    def get_input_embeddings(self):
        return self.model.get_input_embeddings()

    def set_input_embeddings(self, value):
        self.model.set_input_embeddings(value)

    def get_output_embeddings(self) -> nn.Module:
        return self.lm_head

    @property
    def placeholder_token_ids(self) -> list[int]:
        """`<video>` and `<motion>`: tokens the processor writes and the model fills, never ones to generate."""
        return [self.config.video_token_id, self.config.motion_token_id]

    def get_video_features(
        self, pixel_values_videos: torch.FloatTensor, **kwargs: Unpack[TransformersKwargs]
    ) -> tuple | BaseModelOutputWithPooling:
        """See [`MACMModel.get_video_features`]."""
        return self.model.get_video_features(pixel_values_videos, **kwargs)

    def get_motion_features(
        self,
        motion_pixel_values: torch.FloatTensor | None = None,
        motion_features: torch.FloatTensor | None = None,
        motion_attention_mask: torch.LongTensor | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> tuple | BaseModelOutputWithPooling:
        """See [`MACMModel.get_motion_features`]."""
        return self.model.get_motion_features(motion_pixel_values, motion_features, motion_attention_mask, **kwargs)

    @classmethod
    def from_pretrained_components(cls, vision, language, tokenizer=None, **kwargs) -> "MACMForConditionalGeneration":
        """An M-ACM from a pretrained vision tower and language model; see `modeling_macm.composition`."""
        # An absolute import in a `try`: transformers' remote-code check skips it, so checkpoints still load with
        # `trust_remote_code` where the package (which composition needs) is not installed.
        try:
            from modeling_macm.composition import from_pretrained_components
        except ImportError as error:
            raise ImportError("from_pretrained_components needs the `macm` package: pip install macm") from error
        return from_pretrained_components(vision, language, tokenizer, **kwargs)

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        pixel_values_videos: torch.FloatTensor | None = None,
        motion_pixel_values: torch.FloatTensor | None = None,
        motion_features: torch.FloatTensor | None = None,
        motion_attention_mask: torch.LongTensor | None = None,
        motion_mask: torch.BoolTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        past_key_values: Cache | None = None,
        inputs_embeds: torch.FloatTensor | None = None,
        labels: torch.LongTensor | None = None,
        use_cache: bool | None = None,
        logits_to_keep: int | torch.Tensor = 0,
        **kwargs: Unpack[TransformersKwargs],
    ) -> tuple | MACMCausalLMOutputWithPast:
        r"""
        labels (`[B, L]`, *optional*): target ids; -100 marks positions without loss (prompt, placeholders, padding).
        See [`MACMModel.forward`] for the video and motion inputs.
        """
        outputs = self.model(
            input_ids=input_ids,
            pixel_values_videos=pixel_values_videos,
            motion_pixel_values=motion_pixel_values,
            motion_features=motion_features,
            motion_attention_mask=motion_attention_mask,
            motion_mask=motion_mask,
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=past_key_values,
            inputs_embeds=inputs_embeds,
            use_cache=use_cache,
            **kwargs,
        )
        hidden_states = outputs.last_hidden_state
        keep = slice(-logits_to_keep, None) if isinstance(logits_to_keep, int) else logits_to_keep
        logits = self.lm_head(hidden_states[:, keep, :])
        loss = None
        if labels is not None:
            loss = self.loss_function(
                logits=logits, labels=labels, vocab_size=self.config.text_config.vocab_size, **kwargs
            )
        return MACMCausalLMOutputWithPast(
            loss=loss,
            logits=logits,
            past_key_values=outputs.past_key_values,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
            video_hidden_states=outputs.video_hidden_states,
            motion_hidden_states=outputs.motion_hidden_states,
        )

    def generate(
        self,
        *args,
        motion_synergetic: bool = False,
        msd_alpha: list[float] | None = None,
        msd_beta: float | None = None,
        msd_theta: float | None = None,
        ground_sides: bool | None = None,
        ground_gait: bool | None = None,
        **kwargs,
    ):
        r"""
        motion_synergetic (`bool`, *optional*, defaults to `False`): decode with Motion Synergetic Decoding
            (the paper's MSD, see `decoding_msd.py`), greedy or sampling, instead of the usual strategies.
        msd_alpha (`list[float]`), msd_beta (`float`), msd_theta (`float`), *optional*: MSD hyper-parameters
            for this call; default to the config's.
        ground_sides (`bool`, *optional*): name limb sides from the motion heads (`side_grounding.py`). Defaults
            to doing so wherever it can: a model with `config.side_grounding`, kinematic motion in the inputs, and
            not MSD. `True` raises where it cannot; `False` leaves sides to the language model.
        ground_gait (`bool`, *optional*): name a walk or a run from the motion heads (`gait_grounding.py`), where
            they can, as `ground_sides`; `False` leaves the gait to the language model.
        Everything else as in [`GenerationMixin.generate`].
        """
        generation_config = kwargs.get("generation_config") or self.generation_config
        if "suppress_tokens" not in kwargs and not generation_config.suppress_tokens:
            # A sampled placeholder would have no features to fill it on the next step (transformers' VLMs embed it
            # as a plain token instead; this model refuses a count mismatch), so it is never generated.
            kwargs["suppress_tokens"] = self.placeholder_token_ids
        can_ground = self.config.side_grounding is not None and kwargs.get("motion_features") is not None
        for name, asked in (("ground_sides", ground_sides), ("ground_gait", ground_gait)):
            if asked and not can_ground:
                raise ValueError(
                    f"{name}=True needs a model with motion heads and `config.side_grounding` "
                    "(train/motion_heads.py) and kinematic `motion_features` in the inputs."
                )
            if asked and motion_synergetic:
                raise ValueError(f"{name}=True does not apply to Motion Synergetic Decoding; pass one of them.")
        if not motion_synergetic:
            if (msd_alpha, msd_beta, msd_theta) != (None, None, None):
                raise ValueError("msd_alpha, msd_beta and msd_theta apply only with motion_synergetic=True.")
            if can_ground:
                input_ids = args[0] if args else kwargs["input_ids"]
                heads = read_motion_heads(self, kwargs["motion_features"], kwargs.get("motion_attention_mask"))
                asked = ((MotionSideLogitsProcessor, ground_sides), (MotionGaitLogitsProcessor, ground_gait))
                grounding = [p.from_heads(self.config, input_ids, heads) for p, ask in asked if ask is not False]
                if ground_gait and grounding[-1] is None:
                    raise ValueError(
                        "ground_gait=True needs one-token words for a walk and a run in the action head's labels."
                    )
                grounding = [processor for processor in grounding if processor is not None]
                kwargs["logits_processor"] = LogitsProcessorList([*(kwargs.get("logits_processor") or []), *grounding])
            return super().generate(*args, **kwargs)
        return motion_synergetic_generate(
            self,
            *args,
            alpha=self.config.msd_alpha if msd_alpha is None else msd_alpha,
            beta=self.config.msd_beta if msd_beta is None else msd_beta,
            theta=self.config.msd_theta if msd_theta is None else msd_theta,
            **kwargs,
        )

    def prepare_inputs_for_generation(
        self,
        input_ids: torch.LongTensor,
        next_sequence_length: int | None = None,
        past_key_values: Cache | None = None,
        attention_mask: torch.LongTensor | None = None,
        inputs_embeds: torch.FloatTensor | None = None,
        is_first_iteration: bool | None = False,
        **kwargs,
    ):
        model_inputs = super().prepare_inputs_for_generation(
            input_ids,
            next_sequence_length=next_sequence_length,
            past_key_values=past_key_values,
            attention_mask=attention_mask,
            inputs_embeds=inputs_embeds,
            is_first_iteration=is_first_iteration,
            **kwargs,
        )
        # The video and motion inputs go with the prompt's placeholders: on the prefill, and on every step
        # without a cache. transformers keeps our motion inputs on every step, and drops `pixel_values_videos`
        # after the first iteration, but an assistant model (assisted decoding) reads its prompt with
        # `is_first_iteration=False`: an empty cache is what says the prompt is still to be read.
        reads_prompt = past_key_values is None or past_key_values.get_seq_length() == 0
        if is_first_iteration or reads_prompt or not kwargs.get("use_cache", True):
            if kwargs.get("pixel_values_videos") is not None:
                model_inputs.setdefault("pixel_values_videos", kwargs["pixel_values_videos"])
        else:
            for name in MOTION_INPUT_NAMES:
                model_inputs.pop(name, None)
        return model_inputs


__all__ = ["MACMModel", "MACMPreTrainedModel", "MACMForConditionalGeneration"]
