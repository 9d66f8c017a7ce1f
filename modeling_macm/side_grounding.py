"""Limb sides named from the motion instead of by the language model's habit.

The default model's language model learned which actions take a side but not which side: it names the one
its training made likelier, and a clip and its mirror image get the same caption (`bench/bench_mirror.py`).
The motion encoder's windows carry the side (`bench/bench_side_probe.py`), and motion pretraining trains
linear heads that read, per window, its action and its side (`MACMMotionHeads`). When the language model is
about to write " left" or " right", `MotionSideLogitsProcessor` keeps the probability it gives the pair and
splits it by the motion's evidence for the step being described:

1. the step: the last action named so far, prompt included (so "Which arm does the person use to wave?" grounds
   its answer), found by the token ids of the words that name each action (`config.side_grounding`); an action
   without a side named after it (e.g. "claps") leaves the pair as the language model wrote it;
2. its windows: the k-th mention of an action in the answer reads the k-th run of windows whose action head
   names that action, weighted by that action's probability (every window, where there are fewer runs);
3. the side: the weighted mean z of the windows' side log-odds (left against right); the pair's probability is
   split as sigmoid(z) : sigmoid(-z).

"Both", and whether a side is named at all, stay the language model's choice; which side is the motion's.
"""

import math

import torch
from transformers import LogitsProcessor


class MotionSideLogitsProcessor(LogitsProcessor):
    r"""
    Args:
        side_log_odds (`torch.Tensor` `[C, Q]`): log p(left) - log p(right) of each window of each motion clip.
        action_probs (`torch.Tensor` `[C, Q, A]`): the action head's probabilities per window, zero where a window
            has no frame.
        clip_of_row (`list[int | None]`): the motion clip of each batch row (None: no motion).
        grounding (`dict`): `config.side_grounding`.
        action_labels (`list[str]`): the action head's labels.
        prompt_length (`int`): length of the prompt; mentions after it are the answer's.
    """

    def __init__(self, side_log_odds, action_probs, clip_of_row, grounding, action_labels, prompt_length):
        self.side_log_odds, self.action_probs = side_log_odds, action_probs
        self.clip_of_row = clip_of_row
        # (left, right) token pairs: " left"/" right" mid-sentence, and "left"/"right" opening an answer where the
        # tokenizer spells those apart (SmolLM2's does).
        self.pairs = grounding.get("pairs", [[grounding["left"], grounding["right"]]])
        self.words: dict[int, list[tuple[tuple[int, ...], int]]] = {}  # last token -> (ids, action)
        for action, sequences in grounding["words"].items():
            for ids in sequences:
                self.words.setdefault(ids[-1], []).append((tuple(ids), action_labels.index(action)))
        self.sided = {action_labels.index(action) for action in grounding["sided"]}
        self.prompt_length = prompt_length
        self.mentions: list[dict[int, int]] = []  # per row: start position -> action
        self.scanned = 0
        self.cache: dict[tuple[int, int, int], torch.Tensor | None] = {}

    @classmethod
    def from_heads(cls, config, input_ids, heads: tuple[dict, torch.Tensor]) -> "MotionSideLogitsProcessor":
        """For the clips of a `generate` call, from `read_motion_heads`' reading of them (`heads`)."""
        outputs, present = heads
        sides = config.motion_head_labels["side"]
        side = outputs["side"].float()
        log_odds = side[..., sides.index("left")] - side[..., sides.index("right")]  # [C, Q]
        actions = outputs["action"].float().softmax(-1) * present[..., None]  # [C, Q, A]
        return cls(
            log_odds,
            actions,
            clip_of_rows(config, input_ids),
            config.side_grounding,
            config.motion_head_labels["action"],
            input_ids.shape[1],
        )

    def _scan(self, input_ids: torch.LongTensor) -> None:
        """Records the action words that end at the positions not read yet."""
        rows = input_ids.tolist()
        if not self.mentions:
            self.mentions = [{} for _ in rows]
        for row, mentions in zip(rows, self.mentions):
            for end in range(self.scanned, len(row)):
                for ids, action in self.words.get(row[end], ()):
                    start = end - len(ids) + 1
                    if start >= 0 and tuple(row[start : end + 1]) == ids:
                        mentions[start] = action
        self.scanned = len(rows[0])

    def step_log_odds(self, clip: int, action: int, k: int) -> torch.Tensor | None:
        """z of the k-th mention of `action` in clip `clip`; None where no window shows the action."""
        key = (clip, action, k)
        if key not in self.cache:
            weights = self.action_probs[clip, :, action]  # [Q]
            named = (self.action_probs[clip].argmax(-1) == action) & (self.action_probs[clip].sum(-1) > 0)  # [Q]
            starts, ends = window_runs(named)
            if k < len(starts):
                inside = torch.zeros_like(weights)
                inside[starts[k] : ends[k]] = 1
                weights = weights * inside
            total = weights.sum()
            self.cache[key] = (weights @ self.side_log_odds[clip]) / total if total > 0 else None
        return self.cache[key]

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        self._scan(input_ids)
        expansion = len(input_ids) // len(self.clip_of_row)  # beams and returned sequences per prompt
        for row, mentions in enumerate(self.mentions):
            clip = self.clip_of_row[row // expansion]
            if clip is None or not mentions:
                continue
            action = mentions[max(mentions)]
            if action not in self.sided:
                continue
            k = sum(a == action for start, a in mentions.items() if start >= self.prompt_length) - 1
            z = self.step_log_odds(clip, action, max(k, 0))
            if z is None:
                continue
            for left, right in self.pairs:
                pair = scores[row, [left, right]].logsumexp(0)
                scores[row, left] = pair + torch.nn.functional.logsigmoid(z)
                scores[row, right] = pair + torch.nn.functional.logsigmoid(-z)
        return scores


@torch.no_grad()
def read_motion_heads(model, motion_features, motion_attention_mask=None) -> tuple[dict, torch.Tensor]:
    """`model`'s motion heads on its encoder's windows of `motion_features [C, T, F]`: each head's log-probabilities
    `[C, Q, classes]`, and `[C, Q]` True where a window has frames. With `config.motion_feature_mirror`, the log of
    the mean of the probabilities read on the clip and on its mirror image (sides swapped back): heads that learned
    to favour a side then cannot name it for both."""
    encoder, heads = model.model.motion_encoder, model.model.motion_heads
    if motion_attention_mask is None:
        motion_attention_mask = torch.ones(motion_features.shape[:2], dtype=torch.bool, device=motion_features.device)
    features = motion_features.to(encoder.input_proj.weight.dtype)
    outputs = {
        name: logits.log_softmax(-1) for name, logits in heads(encoder(features, motion_attention_mask)).items()
    }
    mirror = model.config.motion_feature_mirror
    if mirror is not None:
        index, scale, shift = (torch.tensor(mirror[k], device=features.device) for k in ("index", "scale", "shift"))
        mirrored = (
            scale.to(features.dtype) * features[..., index] + shift.to(features.dtype)
        ) * motion_attention_mask[..., None].to(features.dtype)  # [C, T, F]; frames without a person stay zero
        seen = heads(encoder(mirrored, motion_attention_mask))
        sides = model.config.motion_head_labels.get("side", [])
        swap = [sides.index({"left": "right", "right": "left"}.get(side, side)) for side in sides]
        for name, logits in seen.items():
            logits = logits.log_softmax(-1)
            seen_as = logits[..., swap] if name == "side" else logits
            outputs[name] = torch.logaddexp(outputs[name], seen_as) - math.log(2)  # log of the mean probability
    return outputs, encoder.window_weights(motion_attention_mask.bool()).sum(-1) > 0


def window_runs(windows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Start and end (exclusive) indices of each run of consecutive True windows of `windows [Q]`."""
    edges = torch.diff(windows.int(), prepend=windows.new_zeros(1).int(), append=windows.new_zeros(1).int())
    return (edges == 1).nonzero()[:, 0], (edges == -1).nonzero()[:, 0]


def clip_of_rows(config, input_ids: torch.LongTensor) -> list[int | None]:
    """The motion clip of each prompt of `input_ids` (None for a prompt without motion): clips are in row order."""
    clips = iter(range(len(input_ids)))
    return [next(clips) if motion else None for motion in (input_ids == config.motion_token_id).any(-1).tolist()]


__all__ = ["MotionSideLogitsProcessor", "clip_of_rows", "read_motion_heads", "window_runs"]
