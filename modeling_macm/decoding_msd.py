"""Motion Synergetic Decoding (MSD): at every step, compare the next-token distribution conditioned on
video + motion with the one conditioned on video only, keep the tokens the video branch finds plausible,
and among them prefer those both branches agree on.

Song et al., "Towards Fine-Grained Human Motion Video Captioning", ACM MM 2025 (arXiv 2510.24767), a
relative of Visual Contrastive Decoding (Leng et al., CVPR 2024). The paper runs two LLM passes per
token; here the two branches are rows of one batch with one cache, so a step is one forward pass.
"""

import copy

import torch
from transformers import (
    DynamicCache,
    GenerationConfig,
    LogitsProcessorList,
    StoppingCriteriaList,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)


def msd_scores(
    motion_logits: torch.Tensor, video_logits: torch.Tensor, alpha: list[float], beta: float, theta: float
) -> torch.Tensor:
    r"""MSD's next-token scores from the two branches' logits `[N, V]` (video + motion, video only) → `[N, V]`.

    With p_m = softmax(motion_logits), p_v = softmax(video_logits), elementwise per token y:

        S(y)   = α1·(exp(p_m·p_v) − 1) + α2·(p_m + p_v)/2 − α3·log(1 + |p_m − p_v|)
                 + α4·(p_m·p_v)^(1/α6) − α5·(p_m − p_v)²
        V_head = { y : p_v(y) ≥ β·(1 + S(y))·max_w p_v(w) }  ∪  { argmax_w p_v(w) }
        score  = log p_m(y) + θ·S(y) on V_head, −inf elsewhere

    This is our reconstruction: the paper describes the five terms of S only in words (joint confidence
    amplified exponentially, an average, a log penalty on disagreement, a power transform, a quadratic
    penalty) and publishes α, β, θ. V_head's bound is relative to the best video-branch token, as VCD's
    plausibility constraint is, and that token is always kept so V_head is never empty for any β.
    Greedy decoding takes the argmax of the score; sampling draws from its softmax.
    """
    a1, a2, a3, a4, a5, a6 = alpha
    p_m, p_v = motion_logits.softmax(-1), video_logits.softmax(-1)
    joint, gap = p_m * p_v, p_m - p_v
    synergy = (
        a1 * torch.expm1(joint)
        + a2 * (p_m + p_v) / 2
        - a3 * torch.log1p(gap.abs())
        + a4 * joint.pow(1 / a6)
        - a5 * gap.square()
    )
    best = p_v.max(-1, keepdim=True).values  # [N, 1]
    head = (p_v >= beta * (1 + synergy) * best) | (p_v == best)
    scores = motion_logits.log_softmax(-1) + theta * synergy
    return scores.masked_fill(~head, float("-inf"))


def two_branch_batch(
    input_ids: torch.LongTensor, attention_mask: torch.Tensor, motion_token_id: int, pad_token_id: int
) -> tuple[torch.LongTensor, torch.Tensor, torch.BoolTensor]:
    """Prompts `[B, L]` → ids and mask `[B + B_m, L']` and `has_motion [B]`: every prompt as given (its
    motion branch), then each of the B_m prompts holding `<motion>` tokens once more without them (its
    video-only branch), all left-padded. Samples without motion need no second branch: both would be
    the same."""
    has_motion = (input_ids == motion_token_id).any(-1)
    rows = [ids[mask.bool()] for ids, mask in zip(input_ids, attention_mask)]
    rows += [row[row != motion_token_id] for row, motion in zip(rows, has_motion) if motion]
    length = max(len(row) for row in rows)
    ids = input_ids.new_full((len(rows), length), pad_token_id)
    mask = torch.zeros_like(ids)
    for i, row in enumerate(rows):
        ids[i, length - len(row) :] = row
        mask[i, length - len(row) :] = 1
    return ids, mask, has_motion


def sampling_warpers(config: GenerationConfig) -> LogitsProcessorList:
    warpers = LogitsProcessorList()
    if config.temperature is not None and config.temperature != 1.0:
        warpers.append(TemperatureLogitsWarper(config.temperature))
    if config.top_k:
        warpers.append(TopKLogitsWarper(config.top_k))
    if config.top_p is not None and config.top_p < 1.0:
        warpers.append(TopPLogitsWarper(config.top_p))
    return warpers


# `generate` options this loop does not implement (it would otherwise ignore them silently).
UNSUPPORTED_OPTIONS = (
    "min_new_tokens",
    "min_length",
    "repetition_penalty",
    "no_repeat_ngram_size",
    "bad_words_ids",
    "logits_processor",
    "return_dict_in_generate",
    "output_scores",
    "output_logits",
    "inputs_embeds",
)


@torch.no_grad()
def motion_synergetic_generate(
    model,
    input_ids: torch.LongTensor,
    attention_mask: torch.Tensor | None = None,
    pixel_values_videos: torch.FloatTensor | None = None,
    generation_config: GenerationConfig | None = None,
    stopping_criteria: StoppingCriteriaList | None = None,
    *,
    alpha: list[float],
    beta: float,
    theta: float,
    **kwargs,
) -> torch.LongTensor:
    """Decodes `input_ids [B, L]` (left-padded, as from `MACMProcessor`) with MSD; returns `[B, L + new]`
    like `generate`. `kwargs` hold generation options (`max_new_tokens`, `do_sample`, `temperature`,
    `top_k`, `top_p`, `eos_token_id`, `pad_token_id`), an optional `streamer`, and the motion inputs,
    passed to the model as is. Options this loop does not implement raise instead of being ignored."""
    unsupported = sorted(name for name in UNSUPPORTED_OPTIONS if kwargs.get(name) not in (None, False))
    if unsupported:
        raise ValueError(
            f"Motion Synergetic Decoding does not support {unsupported}; drop them or decode without MSD."
        )
    streamer = kwargs.pop("streamer", None)
    config = copy.deepcopy(generation_config or model.generation_config)
    model_inputs = config.update(**kwargs)
    if config.num_beams not in (None, 1):
        raise ValueError(
            f"Motion Synergetic Decoding is greedy or sampling; num_beams={config.num_beams} is not supported."
        )
    max_new_tokens = config.max_new_tokens or config.max_length - input_ids.shape[1]
    eos = torch.tensor(
        [] if config.eos_token_id is None else config.eos_token_id, dtype=torch.long, device=input_ids.device
    ).flatten()
    pad_token_id = config.pad_token_id if config.pad_token_id is not None else int(eos[0])
    warpers = sampling_warpers(config)
    if attention_mask is None:
        attention_mask = torch.ones_like(input_ids)

    batch_size = input_ids.shape[0]
    step_ids, mask, has_motion = two_branch_batch(
        input_ids, attention_mask, model.config.motion_token_id, pad_token_id
    )
    # The model scatters motion clips into the rows holding `<motion>` tokens, in order: only the first B
    # rows do, so the motion inputs fit unchanged. Video clips go one per row, so they are duplicated.
    if pixel_values_videos is not None:
        model_inputs["pixel_values_videos"] = torch.cat([pixel_values_videos, pixel_values_videos[has_motion]])
    model_inputs["motion_mask"] = torch.cat([has_motion, torch.zeros_like(has_motion[has_motion])])
    cache = DynamicCache(config=model.config.text_config)
    sequences = input_ids
    if streamer is not None:
        streamer.put(input_ids.cpu())  # as `generate` does: the prompt first, then each new token
    unfinished = torch.ones_like(has_motion)
    for _ in range(max_new_tokens):
        # Positions count real tokens only, so left padding does not shift them (as transformers does).
        position_ids = (mask.cumsum(-1) - 1).clamp(min=0)[:, -step_ids.shape[1] :]
        logits = (
            model(
                input_ids=step_ids,
                attention_mask=mask,
                position_ids=position_ids,
                past_key_values=cache,
                use_cache=True,
                logits_to_keep=1,
                **model_inputs,
            )
            .logits[:, -1]
            .float()
        )  # [B + B_m, V]
        if config.suppress_tokens:  # the placeholders, in both branches (see MACMForConditionalGeneration.generate)
            logits = logits.index_fill(-1, torch.tensor(config.suppress_tokens, device=logits.device), float("-inf"))
        model_inputs = {}  # video and motion now live in the cache
        # Samples without motion keep their raw logits: the same ranking as log p_m, and bit-exact greedy.
        scores = logits[:batch_size].clone()  # [B, V]
        scores[has_motion] = msd_scores(scores[has_motion], logits[batch_size:], alpha, beta, theta)
        if config.do_sample:
            next_tokens = torch.multinomial(warpers(sequences, scores).softmax(-1), 1)[:, 0]
        else:
            next_tokens = scores.argmax(-1)
        next_tokens = next_tokens.where(unfinished, pad_token_id)  # [B]
        sequences = torch.cat([sequences, next_tokens[:, None]], dim=-1)
        if streamer is not None:
            streamer.put(next_tokens.cpu())
        unfinished &= ~torch.isin(next_tokens, eos)
        if stopping_criteria:
            unfinished &= ~stopping_criteria(sequences, scores)
        if not unfinished.any():
            break
        step_ids = torch.cat([next_tokens, next_tokens[has_motion]])[:, None]  # both branches take the token
        mask = torch.cat([mask, mask.new_ones(mask.shape[0], 1)], dim=-1)
    if streamer is not None:
        streamer.end()
    return sequences


__all__ = ["motion_synergetic_generate", "msd_scores"]
