"""Conversations → a training batch for `MACMForConditionalGeneration`, with completion-only labels."""

import torch

from dataset_scripts.schema import row_to_track
from processing_macm.video_io import VideoReadError


class MACMCollator:
    """Holds its processor (TRL's VLM collator pattern); called by the Trainer's DataLoader.

    Each example (see `train.data`) becomes the chat prompt (video, motion when present, question),
    then the answer and the end-of-turn token. Labels are the input ids with -100 everywhere but the
    answer and its end-of-turn token: the prompt, the `<video>`/`<motion>` placeholders and the
    padding carry no loss (TRL builds no labels with `skip_prepare_dataset`, ENVIRONMENT.md).

    Args:
        processor: the model's `MACMProcessor`.
        use_motion: False gives the video-only ablation (motion tracks are ignored).
    """

    def __init__(self, processor, use_motion: bool = True):
        self.processor = processor
        self.use_motion = use_motion

    def __call__(self, examples: list[dict]) -> dict[str, torch.Tensor]:
        tokenizer = self.processor.tokenizer
        texts, videos, motion, completions = [], [], [], []
        for example in examples:
            track = row_to_track(example["motion"]) if self.use_motion and example["motion"] is not None else None
            try:
                videos.append(self.processor.load_frames(example["video"]))
            except VideoReadError as err:
                raise VideoReadError(f"Row {example['id']!r}: {err}") from err
            completion = example["answer"] + tokenizer.eos_token
            texts.append(self.processor.default_prompt(example["prompt"], with_motion=track is not None) + completion)
            motion.append(track)
            completions.append(tokenizer(completion, add_special_tokens=False)["input_ids"])
        batch = self.processor(text=texts, videos=videos, motion=motion)

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
