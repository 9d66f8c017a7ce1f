"""`generate` beyond greedy decoding from `input_ids`: from `inputs_embeds`, assisted decoding, a static cache,
`torch.compile`, and the placeholders it must never produce (what transformers' `GenerationTesterMixin` would
check; its module is not in the transformers sdist that tests/test_transformers_common.py runs)."""

import pytest
import torch
from transformers import StaticCache
from utils import moving_square_frames, tiny_config, tiny_model, tiny_processor

GREEDY = dict(max_new_tokens=6, min_new_tokens=6, do_sample=False)


def motion_item(representation: str):
    generator = torch.Generator().manual_seed(0)
    if representation == "overlay":
        return torch.randint(0, 255, (2, 40, 40, 3), dtype=torch.uint8, generator=generator).numpy()  # [K, H, W, 3]
    return torch.randn(20, 202, generator=generator).numpy()  # [T, F]


def prompt_inputs(tokenizer, config):
    processor = tiny_processor(tokenizer, config)
    return processor(
        text=processor.default_prompt(),
        videos=moving_square_frames(),
        motion=motion_item(config.motion_representation),
    )


@pytest.mark.parametrize("representation", ["overlay", "kinematic"])
def test_generate_from_inputs_embeds_equals_from_ids(tokenizer, representation):
    config = tiny_config(tokenizer, representation)
    model, inputs = tiny_model(config), prompt_inputs(tokenizer, config)
    from_ids = model.generate(**inputs, **GREEDY)[:, inputs["input_ids"].shape[1] :]
    embeds = model.get_input_embeddings()(inputs["input_ids"])  # the placeholders are found in the embeddings
    without_ids = {k: v for k, v in inputs.items() if k != "input_ids"}
    from_embeds = model.generate(**without_ids, inputs_embeds=embeds, **GREEDY)
    assert torch.equal(from_embeds, from_ids)


@pytest.mark.slow
@pytest.mark.parametrize("representation", ["overlay", "kinematic"])
def test_assisted_decoding_equals_greedy(tokenizer, representation):
    """The assistant reads the prompt (video and motion included) on its own prefill; greedy verification then
    keeps exactly the main model's greedy tokens."""
    config = tiny_config(tokenizer, representation)
    model, assistant, inputs = tiny_model(config), tiny_model(config, seed=1), prompt_inputs(tokenizer, config)
    assisted = model.generate(**inputs, assistant_model=assistant, **GREEDY)
    assert torch.equal(assisted, model.generate(**inputs, **GREEDY))


def test_static_cache_generation_equals_dynamic(tokenizer):
    config = tiny_config(tokenizer, "kinematic")
    model, inputs = tiny_model(config), prompt_inputs(tokenizer, config)
    static = model.generate(**inputs, cache_implementation="static", **GREEDY)
    assert torch.equal(static, model.generate(**inputs, **GREEDY))


def test_placeholders_are_never_generated(tokenizer):
    config = tiny_config(tokenizer, "kinematic")
    model, inputs = tiny_model(config), prompt_inputs(tokenizer, config)
    with torch.no_grad():  # make `<video>` the clear favourite for the first new token
        last = model.model(**inputs).last_hidden_state[0, -1]  # [D]
        model.lm_head.weight[config.video_token_id] = 50 * last / last.square().sum()
    with pytest.raises(ValueError, match="1 `<video>` tokens but `pixel_values_videos` gives 0 feature vectors"):
        model.generate(**inputs, suppress_tokens=[], **GREEDY)  # a generated placeholder has nothing to fill it
    new = model.generate(**inputs, **GREEDY)[:, inputs["input_ids"].shape[1] :]
    assert not torch.isin(new, torch.tensor(model.placeholder_token_ids)).any()
    msd = model.generate(**inputs, motion_synergetic=True, max_new_tokens=6)[:, inputs["input_ids"].shape[1] :]
    assert not torch.isin(msd, torch.tensor(model.placeholder_token_ids)).any()


def decoding_step_logits(forward, model, inputs) -> torch.Tensor:
    """Prefill a static cache eagerly (it reads the video and motion), then one decoding step through `forward`."""
    length = inputs["input_ids"].shape[1]
    cache = StaticCache(config=model.config, max_cache_len=length + 1)
    with torch.no_grad():
        model(**inputs, past_key_values=cache)
        return forward(
            input_ids=inputs["input_ids"][:, -1:],  # a decoding step: one new token, no placeholder, no features
            attention_mask=torch.ones(1, length + 1, dtype=torch.long),
            position_ids=torch.tensor([[length]]),
            past_key_values=cache,
        ).logits


@pytest.mark.slow
def test_decoding_step_compiles_as_one_graph(tokenizer):
    """No host sync in a decoding step (the placeholder checks are `torch_compilable_check`s, not `int(mask.sum())`):
    it compiles with `fullgraph=True`, as `generate` compiles static-cache decoding, and gives the eager logits."""
    config = tiny_config(tokenizer, "kinematic")
    model, inputs = tiny_model(config), prompt_inputs(tokenizer, config)
    compiled = torch.compile(model, fullgraph=True, dynamic=False)
    eager = decoding_step_logits(model, model, inputs)
    torch.testing.assert_close(decoding_step_logits(compiled, model, inputs), eager)
