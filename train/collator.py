"""Conversations → a training batch for `MACMForConditionalGeneration`, with completion-only labels."""

import copy

import numpy as np
import torch

from dataset_scripts.schema import row_to_track
from processing_macm.video_io import VideoReadError

from .augment import can_mirror, jitter_motion, mirror_frames, mirror_text, mirror_track, perturb_track


class MACMCollator:
    """Holds its processor (TRL's VLM collator pattern); called by the Trainer's DataLoader.

    Each example (see `train.data`) becomes the chat prompt (video, motion when present, question),
    then the answer and the end-of-turn token. Labels are the input ids with -100 everywhere but the
    answer and its end-of-turn token: the prompt, the `<video>`/`<motion>` placeholders and the
    padding carry no loss (TRL's `SFTTrainer` builds no labels with `skip_prepare_dataset`).

    Args:
        processor: the model's `MACMProcessor`.
        use_motion: False gives the video-only ablation (motion tracks are ignored).
        motion_dropout: the probability that an example with motion is shown without it, so that one model
            also captions from the video alone (`--no-motion`, and the video-only branch of MSD). Drawn
            from torch's RNG, which the Trainer seeds and restores on resume.
        mirror_prob: the probability that an example is mirrored left to right (frames, track, and "left" /
            "right" in the prompt and answer; `train.augment`). Kinematic models only: the overlay pathway
            draws the track on the source frames.
        motion_jitter: kinematic models: noise and dropped frames on the motion features (`train.augment.jitter_motion`).
        perturb_tracks: kinematic models: each track's movement scaled by a random gain, plus noise
            (`train.augment.perturb_track`), drawn from torch's RNG like the others.
    """

    def __init__(
        self,
        processor,
        use_motion: bool = True,
        motion_dropout: float = 0.0,
        mirror_prob: float = 0.0,
        motion_jitter: bool = False,
        perturb_tracks: bool = False,
    ):
        if not 0.0 <= motion_dropout < 1.0:
            raise ValueError(f"motion_dropout must be in [0, 1), got {motion_dropout}.")
        if not 0.0 <= mirror_prob <= 1.0:
            raise ValueError(f"mirror_prob must be in [0, 1], got {mirror_prob}.")
        if mirror_prob and processor.motion_representation != "kinematic":
            raise ValueError(
                "mirror_prob needs a kinematic model: the overlay pathway draws the track on the source frames."
            )
        # A clip longer than the motion window is read whole at a lower rate rather than refused mid-epoch.
        self.processor = copy.copy(processor)
        self.processor.long_motion = "resample"
        self.use_motion = use_motion
        self.motion_dropout = motion_dropout
        self.mirror_prob = mirror_prob
        for name, value in (("motion_jitter", motion_jitter), ("perturb_tracks", perturb_tracks)):
            if value and processor.motion_representation != "kinematic":
                raise ValueError(f"{name} needs a kinematic model (it perturbs joint features).")
        self.motion_jitter = motion_jitter
        self.perturb_tracks = perturb_tracks

    def __call__(self, examples: list[dict]) -> dict[str, torch.Tensor]:
        tokenizer = self.processor.tokenizer
        texts, videos, motion, completions = [], [], [], []
        for example in examples:
            track = row_to_track(example["motion"]) if self.use_motion and example["motion"] is not None else None
            if track is not None and self.motion_dropout and torch.rand(()) < self.motion_dropout:
                track = None
            # The path, not decoded frames: overlay keyframes are drawn on the source frames at the track's times.
            video, prompt, answer = example["video"], example["prompt"], example["answer"]
            if self.mirror_prob and can_mirror(track) and torch.rand(()) < self.mirror_prob:
                video = mirror_frames(self.processor.load_frames(video))
                track = None if track is None else mirror_track(track)
                prompt, answer = mirror_text(prompt), mirror_text(answer)
            if self.perturb_tracks and track is not None:
                track = perturb_track(track, np.random.default_rng(int(torch.randint(2**31, ()))))
            videos.append(video)
            completion = answer + tokenizer.eos_token
            texts.append(self.processor.default_prompt(prompt, with_motion=track is not None) + completion)
            motion.append(track)
            completions.append(tokenizer(completion, add_special_tokens=False)["input_ids"])
        try:
            batch = self.processor(text=texts, videos=videos, motion=motion)
        except VideoReadError as err:
            raise VideoReadError(f"Rows {[example['id'] for example in examples]}: {err}") from err

        if self.motion_jitter and "motion_features" in batch:
            features, valid = jitter_motion(batch["motion_features"], batch["motion_attention_mask"])
            batch["motion_features"], batch["motion_attention_mask"] = features, valid.long()
        labels = torch.full_like(batch["input_ids"], -100)
        for i, completion in enumerate(completions):
            # The answer is the last len(completion) real tokens, whichever side the tokenizer pads on.
            positions = batch["attention_mask"][i].nonzero().squeeze(-1)[-len(completion) :]
            expected = torch.tensor(completion)
            if not torch.equal(batch["input_ids"][i, positions], expected):
                raise ValueError(
                    f"Row {examples[i]['id']!r}: the tokenizer merges the prompt's last token with the answer's first, "
                    f"so the answer cannot be located for completion-only loss."
                )
            labels[i, positions] = expected
        batch["labels"] = labels
        return dict(batch)


__all__ = ["MACMCollator"]
