"""Processor for M-ACM: video (and motion) in, model inputs out.

The only contract with the model is the placeholder tokens: `<video>` and `<motion>` expand to exactly
as many tokens as the model scatters in, computed from the same numbers the model config holds
(patch size, pooling stride, frames, keyframes, motion tokens).
"""

import importlib.util
import math
import os
from pathlib import Path

import numpy as np
import torch
from transformers import BatchFeature, PreTrainedConfig, ProcessorMixin

from .video_io import read_video, sample_frame_indices

DEFAULT_PROMPT = "Describe the person's movements in detail."
# The placeholders of tokenizers built here (`train_tokenizer`, `prepare_tokenizer`); a tokenizer that names its
# own (`tokenizer.video_token`, `tokenizer.motion_token`) is read instead.
VIDEO_TOKEN = "<video>"
MOTION_TOKEN = "<motion>"
MOTION_INPUT_NAMES = ["motion_pixel_values", "motion_features", "motion_attention_mask", "motion_mask"]

# ChatML (the Qwen2 / LLaVA-OneVision layout); content items of type "video" and "motion" become
# their placeholder, "text" items their text.
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for item in message['content'] %}"
    f"{{% if item['type'] == 'video' %}}{VIDEO_TOKEN}{{% elif item['type'] == 'motion' %}}{MOTION_TOKEN}"
    "{% elif item['type'] == 'text' %}{{ item['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


# Bare names of the models shipped in `modeling_macm`, and their folders there.
EMBEDDED_MODELS = {"macm": "default_model", "macm-135m": "macm_135m"}


def resolve_embedded_model(name_or_path):
    """A bare name of `EMBEDDED_MODELS` ("macm", "macm-135m"), with no local folder of that name, means the model
    shipped in `modeling_macm` (located without importing it: this package never imports the model code)."""
    name = str(name_or_path)
    spec = (
        importlib.util.find_spec("modeling_macm")
        if name in EMBEDDED_MODELS and not os.path.isdir(name_or_path)
        else None
    )
    if spec is not None and spec.origin is not None:
        embedded = Path(spec.origin).parent / EMBEDDED_MODELS[name]
        if embedded.is_dir():
            return embedded
    return name_or_path


class MACMProcessor(ProcessorMixin):
    r"""
    Wraps an image processor (applied to each sampled frame) and a tokenizer.

    Args:
        image_processor: a SigLIP/CLIP image processor (the PIL backends work without torchvision).
        tokenizer: a tokenizer that knows the `<video>` and `<motion>` placeholders as special tokens.
        chat_template (`str`, *optional*): defaults to ChatML with video/motion items.
        num_frames (`int`): frames sampled uniformly from each video.
        patch_size (`int`), video_pool_stride (`int`), use_video_newline (`bool`): the vision tower's patch size
            and the model's pooling, as in `MACMConfig`; they fix the number of `<video>` tokens.
        motion_representation (`"overlay"` or `"kinematic"`), num_keyframes (`int`), motion_num_tokens (`int`):
            as in `MACMConfig`; they fix the number of `<motion>` tokens.
        keyframe_sampling (`"farthest"` or `"uniform"`): how overlay keyframes are chosen from a MotionTrack
            (the paper's farthest-pose rule, or uniform for the ablation).
        motion_fps (`float`), motion_feature_size (`int`), motion_max_frames (`int`): rate, size per frame and
            longest length of kinematic features, as in `MACMConfig`.
        motion_feature_mean, motion_feature_std (`list[float]`, *optional*): normalisation statistics of the
            kinematic features, computed on the training set.
        kinematic_feature_version (`int`): which kinematic features to compute from a MotionTrack (see
            `processing_macm.kinematic`), as in `MACMConfig`; 1 for processors saved before versions existed.
        video_token, motion_token (`str`, *optional*): the placeholders; default to the tokenizer's own
            (`tokenizer.video_token`, as transformers' video processors read them), else `<video>` and `<motion>`.

    The settings that mirror `MACMConfig` are validated there: build the processor with `from_model_config`.
    """

    # A kinematic track longer than the motion window (`motion_max_frames / motion_fps` seconds): "error" refuses
    # it; "resample" reads the whole clip at the lower rate that fits (training sets it, train/collator.py).
    # Not an __init__ argument: it is not saved with the processor.
    long_motion = "error"

    def __init__(
        self,
        image_processor=None,
        tokenizer=None,
        chat_template=None,
        num_frames: int = 8,
        patch_size: int = 14,
        video_pool_stride: int = 2,
        use_video_newline: bool = True,
        motion_representation: str = "overlay",
        num_keyframes: int = 4,
        motion_num_tokens: int = 16,
        keyframe_sampling: str = "farthest",
        motion_fps: float = 10.0,
        motion_feature_size: int = 202,
        motion_max_frames: int = 128,
        motion_feature_mean: list[float] | None = None,
        motion_feature_std: list[float] | None = None,
        kinematic_feature_version: int = 1,
        video_token: str | None = None,
        motion_token: str | None = None,
        **kwargs,
    ):
        if keyframe_sampling not in ("farthest", "uniform"):
            raise ValueError(f"keyframe_sampling must be 'farthest' or 'uniform', got {keyframe_sampling!r}.")
        self.num_frames = num_frames
        self.patch_size = patch_size
        self.video_pool_stride = video_pool_stride
        self.use_video_newline = use_video_newline
        self.motion_representation = motion_representation
        self.num_keyframes = num_keyframes
        self.motion_num_tokens = motion_num_tokens
        self.keyframe_sampling = keyframe_sampling
        self.motion_fps = motion_fps
        self.motion_feature_size = motion_feature_size
        self.motion_max_frames = motion_max_frames
        self.motion_feature_mean = motion_feature_mean
        self.motion_feature_std = motion_feature_std
        self.kinematic_feature_version = kinematic_feature_version
        self.video_token = video_token or getattr(tokenizer, "video_token", None) or VIDEO_TOKEN
        self.motion_token = motion_token or getattr(tokenizer, "motion_token", None) or MOTION_TOKEN
        self.video_token_id = self.motion_token_id = None
        if tokenizer is not None:
            for token in (self.video_token, self.motion_token):
                if token not in tokenizer.get_vocab():
                    raise ValueError(
                        f"The tokenizer has no {token!r} token: add it with tokenizer.add_special_tokens."
                    )
            self.video_token_id = tokenizer.convert_tokens_to_ids(self.video_token)
            self.motion_token_id = tokenizer.convert_tokens_to_ids(self.motion_token)
        super().__init__(image_processor, tokenizer, chat_template=chat_template or CHAT_TEMPLATE)

    @classmethod
    def from_model_config(cls, config, tokenizer, image_processor=None, **kwargs) -> "MACMProcessor":
        """A processor whose placeholder counts come from `config` (a `MACMConfig`, read by attribute: this
        package does not import the model code). The image processor defaults to SigLIP's at the
        vision tower's size; `kwargs` set the rest (num_frames, keyframe_sampling, motion_fps, ...)."""
        if image_processor is None:
            from transformers import SiglipImageProcessorPil

            size = config.vision_config.image_size
            image_processor = SiglipImageProcessorPil(size={"height": size, "width": size})
        return cls(
            image_processor=image_processor,
            tokenizer=tokenizer,
            patch_size=config.vision_config.patch_size,
            video_pool_stride=config.video_pool_stride,
            use_video_newline=config.use_video_newline,
            motion_representation=config.motion_representation,
            num_keyframes=config.num_keyframes,
            motion_num_tokens=config.motion_num_tokens,
            motion_feature_size=config.motion_feature_size,
            motion_max_frames=config.motion_max_frames,
            kinematic_feature_version=getattr(config, "kinematic_feature_version", 1),
            **kwargs,
        )

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, **kwargs):
        return super().from_pretrained(resolve_embedded_model(pretrained_model_name_or_path), **kwargs)

    @classmethod
    def _load_tokenizer_from_pretrained(
        cls, sub_processor_type, pretrained_model_name_or_path, subfolder="", **kwargs
    ):
        # AutoTokenizer first reads config.json, whose model_type "macm" is known only once the model package
        # is imported; otherwise it asks to run the checkpoint's code. tokenizer_config.json names the class.
        kwargs.setdefault("config", PreTrainedConfig())
        return super()._load_tokenizer_from_pretrained(
            sub_processor_type, pretrained_model_name_or_path, subfolder, **kwargs
        )

    @property
    def model_input_names(self) -> list[str]:
        return [*self.tokenizer.model_input_names, "pixel_values_videos", *MOTION_INPUT_NAMES]

    @property
    def image_size(self) -> int:
        size = self.image_processor.size
        return size["height"] if "height" in size else size["shortest_edge"]

    @property
    def tokens_per_frame(self) -> int:
        return math.ceil(self.image_size // self.patch_size / self.video_pool_stride) ** 2

    @property
    def num_video_tokens(self) -> int:
        return self.num_frames * self.tokens_per_frame + int(self.use_video_newline)

    @property
    def num_motion_tokens(self) -> int:
        if self.motion_representation == "overlay":
            return self.num_keyframes * self.tokens_per_frame
        return self.motion_num_tokens

    def __call__(
        self,
        text: str | list[str] | None = None,
        videos=None,
        motion=None,
        return_tensors: str = "pt",
        **tokenizer_kwargs,
    ) -> BatchFeature:
        r"""
        Args:
            text: one prompt per sample (see `apply_chat_template`); each holds at most one `<video>` and one
                `<motion>` placeholder. Defaults to the chat-formatted `DEFAULT_PROMPT` for each video.
            videos: one per sample: a video path, or frames `[T, H, W, 3]` uint8 RGB; `num_frames` are
                sampled uniformly.
            motion: one per sample (or None): a `MotionTrack`, overlay keyframes `[num_keyframes, H, W, 3]`,
                kinematic features `[T, motion_feature_size]`, or None. A missing motion, or a track in
                which no person was found, makes the sample video-only: its `<motion>` placeholder is
                removed and `motion_mask` is False for it.

        Returns:
            `BatchFeature` with `input_ids`, `attention_mask`, `pixel_values_videos [B, N, 3, H, W]`,
            `motion_mask [B]` (which samples carry motion) and, for those samples only,
            `motion_pixel_values [B_m, K, 3, H, W]` or `motion_features [B_m, T, F]` +
            `motion_attention_mask [B_m, T]`.
        """
        text, videos, motion = self._as_batch(text, videos, motion)
        data = {}
        if videos:
            data["pixel_values_videos"] = torch.stack([self.video_input(video) for video in videos])  # [B, N, 3, H, W]
        motion_inputs = [self.motion_input(item, videos[i] if videos else None) for i, item in enumerate(motion)]
        motion_mask = [item is not None for item in motion_inputs]
        prompts = [
            self.expand_placeholders(i, prompt, bool(videos), has_motion)
            for i, (prompt, has_motion) in enumerate(zip(text, motion_mask))
        ]
        tokenizer_kwargs.setdefault("padding", True)
        data.update(self.tokenizer(prompts, return_tensors=return_tensors, **tokenizer_kwargs))
        data["motion_mask"] = torch.tensor(motion_mask)
        data.update(self._stack_motion([item for item in motion_inputs if item is not None]))
        return BatchFeature(data, tensor_type=return_tensors)

    def _as_batch(self, text, videos, motion) -> tuple[list[str], list, list]:
        """One prompt, video and motion item (or None) per sample; the default prompt when `text` is None."""
        single = isinstance(text, str) or (text is None and _is_single_video(videos))
        videos = [videos] if _is_single_video(videos) else list(videos or [])
        if single and motion is not None and not isinstance(motion, list):
            motion = [motion]
        if text is None:
            if not videos:
                raise ValueError("Pass `text`, `videos`, or both.")
            text = [self.default_prompt(with_motion=motion is not None)] * len(videos)
        text = [text] if isinstance(text, str) else list(text)
        motion = [None] * len(text) if motion is None else list(motion)
        if videos and len(videos) != len(text):
            raise ValueError(f"Got {len(videos)} videos for {len(text)} prompts: pass one video per prompt.")
        if len(motion) != len(text):
            raise ValueError(f"Got {len(motion)} motion items for {len(text)} prompts: pass one per prompt (or None).")
        return text, videos, motion

    def expand_placeholders(self, index: int, prompt: str, has_video: bool, has_motion: bool) -> str:
        """Prompt `index` with `<video>` and `<motion>` repeated as many times as the model fills them; a sample
        without motion loses its `<motion>`."""
        for token in (self.video_token, self.motion_token):
            if prompt.count(token) > 1:
                raise ValueError(
                    f"Prompt {index} holds {prompt.count(token)} {token} placeholders; at most one is supported."
                )
        if self.video_token in prompt and not has_video:
            raise ValueError(f"Prompt {index} has a {self.video_token} placeholder but no video was given.")
        if has_video and self.video_token not in prompt:
            raise ValueError(
                f"Prompt {index} has no {self.video_token} placeholder for its video; see apply_chat_template."
            )
        if has_motion and self.motion_token not in prompt:
            raise ValueError(f"Prompt {index} has no {self.motion_token} placeholder for its motion input.")
        prompt = prompt.replace(self.video_token, self.video_token * self.num_video_tokens)
        return prompt.replace(self.motion_token, self.motion_token * self.num_motion_tokens if has_motion else "")

    def _stack_motion(self, present: list) -> dict[str, torch.Tensor]:
        """The motion inputs of the samples that have one: keyframes `[B_m, K, 3, H, W]`, or features `[B_m, T, F]`
        padded to the longest clip with `motion_attention_mask [B_m, T]`."""
        if not present:
            return {}
        if self.motion_representation == "overlay":
            return {"motion_pixel_values": torch.stack(present)}
        # Kinematic items are (features [T, F], valid [T]); frames past a clip's end are padding.
        length = max(len(features) for features, _ in present)
        features = torch.zeros(len(present), length, self.motion_feature_size)
        attention_mask = torch.zeros(len(present), length, dtype=torch.long)
        for i, (item_features, valid) in enumerate(present):
            features[i, : len(item_features)] = item_features
            attention_mask[i, : len(valid)] = valid.long()
        return {"motion_features": features, "motion_attention_mask": attention_mask}

    def default_prompt(self, prompt: str = DEFAULT_PROMPT, with_motion: bool = True) -> str:
        """The chat-formatted prompt for one clip: video, motion (if any), then the question."""
        content = (
            [{"type": "video"}] + ([{"type": "motion"}] if with_motion else []) + [{"type": "text", "text": prompt}]
        )
        return self.apply_chat_template(
            [{"role": "user", "content": content}], add_generation_prompt=True, tokenize=False
        )

    def load_frames(self, video) -> np.ndarray:
        """A path or a `[T, H, W, 3]` uint8 array → `[T, H, W, 3]` frames (a path decodes `num_frames` only)."""
        if isinstance(video, (str, os.PathLike)):
            return read_video(video, self.num_frames)[0]
        frames = np.asarray(video)
        if frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) == 0:
            raise ValueError(f"Video frames must be a non-empty [T, H, W, 3] RGB array, got shape {frames.shape}.")
        return frames

    def video_input(self, video) -> torch.Tensor:
        """One video (path or frames) → `num_frames` uniformly sampled frames, preprocessed: `[N, 3, H, W]`."""
        frames = self.load_frames(video)
        return self._pixels(frames[sample_frame_indices(len(frames), self.num_frames)])

    def _pixels(self, frames: np.ndarray) -> torch.Tensor:
        return self.image_processor(images=list(frames), return_tensors="pt")["pixel_values"]  # [N, 3, H, W]

    def motion_input(self, item, video=None):
        """One sample's motion → keyframe pixels `[K, 3, H, W]`, or normalised features `[T, F]` with their
        valid frames `[T]`; None if unusable."""
        if item is None:
            return None
        if not isinstance(item, (np.ndarray, torch.Tensor)):
            return self._track_input(item, video)
        array = np.asarray(item)
        if self.motion_representation == "overlay":
            if array.ndim != 4 or array.shape[0] != self.num_keyframes or array.shape[-1] != 3:
                raise ValueError(
                    f"Overlay motion must be [num_keyframes={self.num_keyframes}, H, W, 3] keyframe images, "
                    f"got shape {array.shape}. Pass a MotionTrack to render them."
                )
            return self._pixels(array)
        return self._normalise(array, np.ones(len(array), bool))

    def _normalise(self, features: np.ndarray, valid: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        size = self.motion_feature_size
        if features.ndim != 2 or features.shape[-1] != size or len(features) == 0:
            raise ValueError(
                f"Kinematic motion must be a non-empty [T, {size}] feature array, got shape {features.shape}."
            )
        if len(features) > self.motion_max_frames:
            raise ValueError(
                f"Kinematic motion has {len(features)} frames, more than motion_max_frames={self.motion_max_frames}; "
                f"resample it to a lower rate."
            )
        if self.motion_feature_mean is not None:
            features = (features - np.asarray(self.motion_feature_mean)) / np.asarray(self.motion_feature_std)
        features = np.where(valid[:, None], features, 0.0)  # frames where nobody was seen carry no signal
        return torch.from_numpy(features.astype(np.float32)), torch.from_numpy(valid)

    def motion_feature_mirror(self) -> dict[str, list]:
        """The map of this processor's normalised kinematic features to those of the clip's left-right mirror
        image, for `MACMConfig.motion_feature_mirror`: `mirrored = scale * features[..., index] + shift`."""
        from .kinematic import mirror_feature_map

        if self.motion_representation != "kinematic":
            raise ValueError("Only kinematic motion features have a mirror map; this processor's motion is overlay.")
        index, sign = mirror_feature_map(self.kinematic_feature_version)  # raw: mirrored = sign * x[index]
        mean = np.zeros(len(index)) if self.motion_feature_mean is None else np.asarray(self.motion_feature_mean)
        std = np.ones(len(index)) if self.motion_feature_std is None else np.asarray(self.motion_feature_std)
        # z = (x - mean) / std, so the mirror of z is (sign * (z[index] * std[index] + mean[index]) - mean) / std.
        scale, shift = sign * std[index] / std, (sign * mean[index] - mean) / std
        return {"index": index.tolist(), "scale": scale.tolist(), "shift": shift.tolist()}

    def _track_input(self, track, video) -> torch.Tensor | None:
        from .motion_track import MotionTrack

        if not isinstance(track, MotionTrack):
            raise TypeError(f"Motion items must be a MotionTrack, a numpy array or None, got {type(track).__name__}.")
        if not track.has_person:
            return None
        if self.motion_representation == "kinematic":
            from .kinematic import kinematic_features

            rate = self.motion_rate(track)
            return self._normalise(*kinematic_features(track, rate, version=self.kinematic_feature_version))
        from .overlay import overlay_keyframes

        if video is None:
            raise ValueError("Overlay motion from a MotionTrack needs the sample's video to draw the keyframes on.")
        return self._pixels(overlay_keyframes(video, track, self.keyframe_indices(track)))

    def motion_rate(self, track) -> float:
        """Frames a second at which `track` becomes kinematic features: `motion_fps`, or with `long_motion:
        resample` the lower rate that fits the whole clip in `motion_max_frames`."""
        if self.long_motion == "resample":
            return min(self.motion_fps, self.motion_max_frames * track.fps / track.num_frames)
        return self.motion_fps

    def keyframe_indices(self, track) -> np.ndarray:
        """The track frames the overlay pathway shows: `num_keyframes` by the farthest-pose rule, or uniform."""
        from .keyframes import sample_keyframes

        if self.keyframe_sampling == "farthest":
            return sample_keyframes(track, self.num_keyframes)
        return sample_frame_indices(track.num_frames, self.num_keyframes)


def _is_single_video(videos) -> bool:
    return isinstance(videos, (str, os.PathLike)) or (isinstance(videos, np.ndarray) and videos.ndim == 4)


MACMProcessor.register_for_auto_class("AutoProcessor")

__all__ = ["CHAT_TEMPLATE", "DEFAULT_PROMPT", "MOTION_TOKEN", "MACMProcessor", "VIDEO_TOKEN"]
