"""Motion Synergetic Decoding: the scoring on built distributions, and generation on tiny random models."""

import pytest
import torch
from test_modeling import motion_for
from transformers import MaxLengthCriteria, StoppingCriteriaList
from utils import moving_square_frames, tiny_config, tiny_model, tiny_processor

from modeling_macm.decoding_msd import msd_scores

ALPHA, BETA, THETA = [0.5, 0.2, 0.4, 0.8, 0.3, 2.0], 0.2, 2.0  # the paper's
PROMPTS = ["Describe the person's movements in detail.", "What does the left leg do?", "Describe the person."]


def logits_of(probabilities: dict[int, float], vocab_size: int = 8) -> torch.Tensor:
    """`[1, V]` logits whose softmax gives `probabilities` (token → p), the rest spread evenly."""
    p = torch.full((1, vocab_size), (1 - sum(probabilities.values())) / (vocab_size - len(probabilities)))
    p[0, list(probabilities)] = torch.tensor(list(probabilities.values()))
    return p.log()


def test_agreeing_branches_choose_the_motion_branch_greedy_token():
    logits = torch.randn(64, 50, generator=torch.Generator().manual_seed(0)) * 3
    assert torch.equal(msd_scores(logits, logits, ALPHA, BETA, THETA).argmax(-1), logits.argmax(-1))


def test_motion_preference_wins_when_both_tokens_are_plausible():
    video, motion = logits_of({0: 0.5, 1: 0.4}), logits_of({0: 0.4, 1: 0.5})  # video prefers token 0, motion token 1
    scores = msd_scores(motion, video, ALPHA, BETA, THETA)
    assert torch.isfinite(scores[0, :2]).all()
    assert scores.argmax(-1).item() == 1


def test_token_outside_the_video_head_is_never_chosen():
    video = logits_of({0: 0.9, 1: 0.001})  # token 1 is implausible without motion...
    motion = logits_of({0: 0.001, 1: 0.99})  # ...however sure the motion branch is
    scores = msd_scores(motion, video, ALPHA, BETA, THETA)
    assert scores[0, 1] == float("-inf")
    assert scores.argmax(-1).item() == 0


@pytest.mark.parametrize("beta", [0.2, 1.0, 10.0])
def test_head_is_never_empty(beta):
    motion, video = torch.randn(2, 16, 50, generator=torch.Generator().manual_seed(1)) * 3
    scores = msd_scores(motion, video, ALPHA, beta, THETA)
    kept = torch.isfinite(scores)
    assert kept.any(-1).all()
    assert kept.gather(-1, video.argmax(-1, keepdim=True)).all()
    if beta == 10.0:  # β·(1 + S) > 1 for every token: only the video branch's best is left
        assert (kept.sum(-1) == 1).all()


def mixed_batch(tokenizer, representation="overlay", with_motion=(True, False, True)):
    """Three prompts of different lengths (so left padding), with or without motion; and the processor."""
    config = tiny_config(tokenizer, representation)
    processor = tiny_processor(tokenizer, config)
    prompts = [processor.default_prompt(p, with_motion=m) for p, m in zip(PROMPTS, with_motion)]
    videos = [moving_square_frames(seed=i) for i in range(len(prompts))]
    motions = [motion_for(representation, i) if m else None for i, m in enumerate(with_motion)]
    return config, processor, processor(text=prompts, videos=videos, motion=motions), (prompts, videos, motions)


@pytest.mark.parametrize("representation", ["overlay", pytest.param("kinematic", marks=pytest.mark.slow)])
def test_batched_branches_give_the_logits_of_separate_passes(tokenizer, representation):
    config, processor, batch, (prompts, videos, motions) = mixed_batch(tokenizer, representation)
    model = tiny_model(config)
    steps = []
    hook = model.register_forward_hook(lambda module, args, output: steps.append(output.logits[:, -1]))
    new_tokens = model.generate(**batch, motion_synergetic=True, max_new_tokens=5, eos_token_id=None)
    hook.remove()
    new_tokens = new_tokens[:, batch["input_ids"].shape[1] :]
    assert len(steps) == 5 and all(step.shape[0] == 3 + 2 for step in steps)  # 3 motion rows, 2 video-only

    def last_logits(inputs, tokens):
        ids = torch.cat([inputs["input_ids"], tokens[None]], dim=-1)
        mask = torch.ones_like(ids)
        return model(**{**inputs, "input_ids": ids, "attention_mask": mask}).logits[0, -1]

    video_only_rows = iter(range(3, 5))
    with torch.no_grad():
        for i, has_motion in enumerate([True, False, True]):
            alone = processor(text=prompts[i], videos=videos[i], motion=motions[i])
            video_only = processor(text=prompts[i].replace(processor.motion_token, ""), videos=videos[i])
            row = next(video_only_rows) if has_motion else None
            for t, step in enumerate(steps):
                torch.testing.assert_close(step[i], last_logits(alone, new_tokens[i, :t]), atol=1e-5, rtol=1e-4)
                if row is not None:
                    torch.testing.assert_close(
                        step[row], last_logits(video_only, new_tokens[i, :t]), atol=1e-5, rtol=1e-4
                    )


def test_sample_without_motion_decodes_exactly_greedy(tokenizer):
    config, processor, batch, (prompts, videos, _) = mixed_batch(tokenizer)
    model = tiny_model(config)
    msd = model.generate(**batch, motion_synergetic=True, max_new_tokens=6, eos_token_id=None)
    alone = processor(text=prompts[1], videos=videos[1])
    greedy = model.generate(**alone, max_new_tokens=6, min_new_tokens=6, do_sample=False)
    assert torch.equal(msd[1, batch["input_ids"].shape[1] :], greedy[0, alone["input_ids"].shape[1] :])


def test_without_synergy_msd_is_greedy_on_the_motion_branch(tokenizer):
    config, _, batch, _ = mixed_batch(tokenizer)
    model = tiny_model(config)
    greedy = model.generate(**batch, max_new_tokens=6, min_new_tokens=6, do_sample=False)
    # θ = 0 and β = 0: score = log p_m over the whole vocabulary (per-call overrides of the config)
    msd = model.generate(
        **batch, motion_synergetic=True, msd_theta=0.0, msd_beta=0.0, max_new_tokens=6, eos_token_id=None
    )
    assert torch.equal(msd, greedy)


@pytest.mark.parametrize(
    ("video", "motion", "expected"),
    [
        ({10: 0.5, 11: 0.4}, {10: 0.4, 11: 0.5}, 11),  # both plausible: the motion branch's choice
        ({10: 0.9, 11: 0.001}, {10: 0.001, 11: 0.99}, 10),  # 11 is outside V_head: never chosen
    ],
)
def test_generation_feeds_each_branch_to_its_side_of_the_score(tokenizer, video, motion, expected):
    """The random tiny model's branches nearly agree, so a hook writes built distributions into the logits:
    `motion` for rows that hold `<motion>` tokens, `video` for the others. Swapped branches would fail."""
    config, processor, _, (prompts, videos, motions) = mixed_batch(tokenizer)
    model = tiny_model(config)
    inputs = processor(text=prompts[0], videos=videos[0], motion=motions[0])
    vocab_size = config.text_config.vocab_size
    video, motion = logits_of(video, vocab_size), logits_of(motion, vocab_size)
    motion_rows = []  # found at prefill; the rows keep their order while decoding

    def built_logits(module, args, kwargs, output):
        if not motion_rows:
            motion_rows.append((kwargs["input_ids"] == config.motion_token_id).any(-1, keepdim=True))
        output.logits[:, -1] = torch.where(motion_rows[0], motion, video)

    model.register_forward_hook(built_logits, with_kwargs=True)
    new_tokens = model.generate(**inputs, motion_synergetic=True, max_new_tokens=3)[0, inputs["input_ids"].shape[1] :]
    assert new_tokens.tolist() == [expected] * 3


def test_defaults_are_deterministic_and_stop_each_sample_at_its_eos(tokenizer):
    config, _, batch, _ = mixed_batch(tokenizer)
    model = tiny_model(config)
    prompt_length, pad = batch["input_ids"].shape[1], config.text_config.pad_token_id
    free = model.generate(**batch, motion_synergetic=True, max_new_tokens=8, eos_token_id=None)
    assert torch.equal(free, model.generate(**batch, motion_synergetic=True, max_new_tokens=8, eos_token_id=None))
    free = free[:, prompt_length:]
    # Samples 0 and 1 share a token that sample 2 never emits, and vice versa: stop one sample, then all.
    only_in_2 = next(token for token in free[2].tolist() if token not in free[:2])
    shared = next(token for token in reversed(free[0, :-1].tolist()) if token in free[1] and token not in free[2])
    for eos, some_run_to_the_end in (([only_in_2], True), ([only_in_2, shared], False)):
        ends = [next((t + 1 for t, token in enumerate(row) if token in eos), 8) for row in free.tolist()]
        assert len(set(ends)) > 1 and (max(ends) == 8) == some_run_to_the_end, ends
        stopped = model.generate(**batch, motion_synergetic=True, max_new_tokens=8, eos_token_id=eos)
        stopped = stopped[:, prompt_length:]
        assert stopped.shape[1] == max(ends)
        for row, end in enumerate(ends):
            assert torch.equal(stopped[row, :end], free[row, :end])
            assert (stopped[row, end:] == pad).all()
    criteria = StoppingCriteriaList([MaxLengthCriteria(prompt_length + 3)])
    stopped = model.generate(
        **batch, motion_synergetic=True, max_new_tokens=8, stopping_criteria=criteria, eos_token_id=None
    )
    assert torch.equal(stopped, torch.cat([batch["input_ids"], free[:, :3]], dim=-1))


def test_sampling(tokenizer):
    config, _, batch, _ = mixed_batch(tokenizer)
    model = tiny_model(config)
    kwargs = dict(motion_synergetic=True, max_new_tokens=6, eos_token_id=None)
    greedy = model.generate(**batch, **kwargs)
    assert torch.equal(model.generate(**batch, do_sample=True, top_k=1, **kwargs), greedy)
    torch.manual_seed(0)
    first = model.generate(**batch, do_sample=True, temperature=5.0, **kwargs)
    torch.manual_seed(0)
    assert torch.equal(first, model.generate(**batch, do_sample=True, temperature=5.0, **kwargs))
    assert not torch.equal(first, greedy), "a hot temperature should sample some other token"


def test_msd_options_without_msd_are_refused(tokenizer):
    config, _, batch, _ = mixed_batch(tokenizer)
    with pytest.raises(ValueError, match="apply only with motion_synergetic=True"):
        tiny_model(config).generate(**batch, msd_beta=0.5, max_new_tokens=2)
    with pytest.raises(ValueError, match="num_beams=2 is not supported"):
        tiny_model(config).generate(**batch, motion_synergetic=True, num_beams=2, max_new_tokens=2)
    with pytest.raises(ValueError, match=r"does not support \['min_new_tokens', 'repetition_penalty'\]"):
        tiny_model(config).generate(
            **batch, motion_synergetic=True, min_new_tokens=3, repetition_penalty=1.2, max_new_tokens=4
        )


def test_streamer_receives_the_prompt_then_each_token(tokenizer):
    config, _, batch, _ = mixed_batch(tokenizer, with_motion=(True,))
    model = tiny_model(config)

    class Recorder:
        def __init__(self):
            self.chunks, self.ended = [], False

        def put(self, value):
            self.chunks.append(value)

        def end(self):
            self.ended = True

    recorder = Recorder()
    output = model.generate(**batch, motion_synergetic=True, max_new_tokens=5, eos_token_id=None, streamer=recorder)
    assert torch.equal(recorder.chunks[0], batch["input_ids"])
    assert torch.equal(torch.cat(recorder.chunks[1:]), output[0, batch["input_ids"].shape[1] :])
    assert recorder.ended
