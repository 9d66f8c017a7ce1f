"""Grounded decoding: a caption that names an action the motion heads do not see is replaced by one the language
model also writes whose actions they do see.

On footage unlike its renders, the embedded model's language model names actions its motion encoder does not
show: among the 51 `vtest.avi` pedestrians (bench/bench_real.py) greedy captions call two people runners whose
clips the action head gives a run under 2%, and add a kick and a jump to a third's walk. The support of a
caption is the least evidence among the actions it names (read with the synthetic grammar's parser,
`parse_caption`), evidence being the action head's probability averaged over the clip's windows.
`generate_grounded` writes the greedy caption; it stays unless its support is below THRESHOLD (a caption that
names no action, such as the answer "three", has none to check). Then `SAMPLES` captions are sampled (the full
distribution, a fixed seed) and the one with the most support wins (ties: the higher mean log-probability a
token). Only such clips pay for the sampling.

Replacing the greedy caption more often costs accuracy on the clips the model knows: on the HMI-Synth v4
validation split, any reranking by the language model's log-probability, or a threshold of 0.05, lowered the
side and count scores; THRESHOLD is the largest that left them as greedy's (bench/bench_grounding.py; the test
split and the real set were scored after; numbers in modeling_macm/default_model/README.md).
"""

from dataclasses import dataclass

import numpy as np
import torch

from dataset_scripts.synth.grammar import parse_caption
from modeling_macm.side_grounding import clip_of_rows, read_motion_heads

SAMPLES = 8  # sampled captions per prompt, beside the greedy one
THRESHOLD = 0.02
SEED = 0


def clip_evidence(model, motion_features, motion_attention_mask=None) -> np.ndarray:
    """The action head's probability of each action averaged over the windows of each clip of `motion_features
    [C, T, F]`: `[C, A]`."""
    outputs, present = read_motion_heads(model, motion_features, motion_attention_mask)
    probs = outputs["action"].float().softmax(-1) * present[..., None]  # [C, Q, A]
    return (probs.sum(1) / present.sum(1, keepdim=True).clamp(min=1)).cpu().numpy()


def action_evidence(model, inputs) -> list[np.ndarray | None]:
    """Per prompt, `clip_evidence` of its motion clip `[A]`; None for a prompt without motion, and for all when the
    model has no heads or no kinematic motion."""
    features = inputs.get("motion_features")
    rows = len(inputs["input_ids"])
    if model.model.motion_heads is None or features is None or features.ndim != 3:
        return [None] * rows
    evidence = clip_evidence(model, features, inputs.get("motion_attention_mask"))  # [C, A]
    return [None if clip is None else evidence[clip] for clip in clip_of_rows(model.config, inputs["input_ids"])]


def support(text: str, evidence: np.ndarray, labels: list[str]) -> float | None:
    """The least evidence among the actions `text` names (those the heads know); None if it names none."""
    named = [labels.index(step["action"]) for step in parse_caption(text) if step["action"] in labels]
    return float(evidence[named].min()) if named else None


def _generated(model, inputs, options: dict, prompt_length: int, **sampling) -> tuple[torch.Tensor, torch.Tensor]:
    """New tokens `[N, L]` of one `generate` call and their mean log-probability a token `[N]`, up to the end
    of sequence (the scores the logits processors leave, renormalised)."""
    output = model.generate(**inputs, **options, return_dict_in_generate=True, output_scores=True, **sampling)
    scores = model.compute_transition_scores(output.sequences, output.scores, normalize_logits=True)  # [N, L]
    tokens = output.sequences[:, prompt_length:]
    ended = torch.isin(tokens, torch.tensor(model.generation_config.eos_token_id, device=tokens.device))
    counted = ((ended.cumsum(-1) - ended.long()) == 0) & torch.isfinite(scores)  # [N, L]: up to the end
    return tokens, scores.masked_fill(~counted, 0.0).sum(-1) / counted.sum(-1).clamp(min=1)


@dataclass
class Candidates:
    """One prompt's captions, the greedy one first."""

    tokens: list[torch.Tensor]
    texts: list[str]
    log_probs: list[float]  # mean a token
    evidence: np.ndarray | None  # [A], None without motion

    def vetoed(self, labels: list[str], threshold: float = THRESHOLD) -> bool:
        """Whether the greedy caption names an action with less evidence than `threshold`."""
        greedy = None if self.evidence is None else support(self.texts[0], self.evidence, labels)
        return greedy is not None and greedy < threshold

    def choice(self, labels: list[str], threshold: float = THRESHOLD) -> int:
        """The index of the grounded caption: the greedy one (0) unless it is `vetoed`, else the best supported
        (ties: the higher mean log-probability, then the first)."""
        if not self.vetoed(labels, threshold):
            return 0
        supports = [support(t, self.evidence, labels) for t in self.texts]
        named = [i for i, s in enumerate(supports) if s is not None]  # the greedy caption among them
        return max(named, key=lambda i: (supports[i], self.log_probs[i]))


def _labels(model) -> list[str]:
    return model.config.motion_head_labels["action"] if model.model.motion_heads is not None else []


def caption_candidates(
    model, tokenizer, inputs, threshold: float = THRESHOLD, samples: int = SAMPLES, **options
) -> list[Candidates]:
    """Per prompt of `inputs`: the greedy caption and, where the prompt has motion, `samples` sampled ones (the
    full distribution, seed `SEED`). Sampling runs only when some greedy caption's support is below `threshold`
    (1.0: always), for the whole batch. `options` go to `generate` (`max_new_tokens`, logits processors; a
    streamer follows the greedy caption only)."""
    prompt_length = inputs["input_ids"].shape[1]
    options = {key: value for key, value in options.items() if key != "do_sample"}
    greedy, greedy_scores = _generated(model, inputs, options, prompt_length, do_sample=False)
    texts = tokenizer.batch_decode(greedy, skip_special_tokens=True)
    result = [
        Candidates([tokens], [text], [score], evidence)
        for tokens, text, score, evidence in zip(greedy, texts, greedy_scores.tolist(), action_evidence(model, inputs))
    ]
    labels = _labels(model)
    if not any(c.vetoed(labels, threshold) for c in result):
        return result
    options.pop("streamer", None)
    with torch.random.fork_rng():  # the same captions on every call; the caller's random state untouched
        torch.manual_seed(SEED)
        sampled, scores = _generated(
            model, inputs, options, prompt_length, do_sample=True, top_k=0, num_return_sequences=samples
        )
    texts = tokenizer.batch_decode(sampled, skip_special_tokens=True)
    for row, candidates in enumerate(result):
        if candidates.evidence is not None:
            picked = slice(row * samples, (row + 1) * samples)
            candidates.tokens += list(sampled[picked])
            candidates.texts += texts[picked]
            candidates.log_probs += scores[picked].tolist()
    return result


def generate_grounded(model, tokenizer, inputs, **options) -> list[torch.Tensor]:
    """The new tokens of the grounded caption of each prompt of `inputs` (see the module's docstring)."""
    return [c.tokens[c.choice(_labels(model))] for c in caption_candidates(model, tokenizer, inputs, **options)]


__all__ = [
    "SAMPLES",
    "THRESHOLD",
    "Candidates",
    "action_evidence",
    "caption_candidates",
    "clip_evidence",
    "generate_grounded",
    "support",
]
