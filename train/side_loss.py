"""A heavier loss on the sides an answer names ("left", "right").

A captioner that names every side by habit loses little: sides are a few tokens of a long caption, and with
mirroring (train/augment.py) each side is as likely as the other, so an even guess costs log 2 per side word
and nothing anywhere else. Teacher-forced on HMI-Synth v3 test captions (`bench/bench_mirror.py
--teacher-forced`), the embedded model's log-odds of " left" against " right" are 0.07 nats in size on
average and flip with the mirror at 1 of 59 side words, while a linear read-out of its motion windows names
the side of 70% of held-out arm and leg windows. `side_loss_weight` makes the habit cost more: the loss on
those tokens counts that many times.
"""

import torch
from trl import SFTTrainer

SIDE_WORDS = (" left", " right")


def side_token_ids(tokenizer) -> list[int]:
    """The ids of " left" and " right", each one token in the tokenizers we train with."""
    ids = []
    for word in SIDE_WORDS:
        pieces = tokenizer(word, add_special_tokens=False)["input_ids"]
        if len(pieces) != 1:
            raise ValueError(
                f"side_loss_weight needs {word!r} to be one token; this tokenizer splits it into {pieces}. "
                "Train without side_loss_weight, or with a tokenizer that keeps the word whole."
            )
        ids += pieces
    return ids


class SideWeightedSFTTrainer(SFTTrainer):
    """TRL's `SFTTrainer` whose loss counts the answer's side tokens `side_loss_weight` times.

    The base loss, its metrics and its normalisation are TRL's; the extra term `(weight - 1) * side NLL` is read
    from the per-token log-probabilities of the same forward (TRL's fused LM head), so it costs no second pass.
    """

    def __init__(self, *args, side_loss_weight: float, **kwargs):
        if side_loss_weight < 1.0:
            raise ValueError(f"side_loss_weight must be at least 1, got {side_loss_weight}.")
        super().__init__(*args, **kwargs)
        if self.args.loss_type != "nll" or self.args.label_smoothing_factor:
            raise ValueError(
                "side_loss_weight weights the plain NLL loss: use loss_type 'nll' and no label smoothing."
            )
        self.side_loss_weight = side_loss_weight
        self.side_ids = torch.tensor(side_token_ids(self.processing_class.tokenizer))

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs["labels"]
        outputs = []
        handle = model.register_forward_hook(lambda module, args, output: outputs.append(output))
        try:
            result = super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        finally:
            handle.remove()
        log_probs = outputs[0].log_probs  # [B, T - 1], the log-probability of labels[:, 1:], 0 where ignored
        side = torch.isin(labels[:, 1:], self.side_ids.to(labels.device))  # [B, T - 1]
        num_tokens = (labels[:, 1:] != -100).sum() if num_items_in_batch is None else num_items_in_batch
        extra = -(self.side_loss_weight - 1.0) * log_probs[side].sum() / torch.as_tensor(num_tokens).clamp(min=1)
        if self.args.average_tokens_across_devices and num_items_in_batch is not None:
            extra = extra * self.accelerator.num_processes  # as TRL scales the base loss
        if return_outputs:
            loss, model_outputs = result
            return loss + extra, model_outputs
        return result + extra


__all__ = ["SideWeightedSFTTrainer", "side_token_ids"]
