"""Caption metrics equal the reference implementations' own values on fixed prediction/reference sets."""

import pytest

from train.metrics import METRIC_NAMES, caption_metrics, ptb_tokenize, rouge_n, sacrebleu_bleu4

PREDICTIONS = {
    "clip1": "A man raises his left arm twice, then waves with his right hand.",
    "clip2": "The woman walks forward slowly and turns to the left.",
    "clip3": "A person squats three times quickly.",
    "clip4": "Someone jumps.",
    "clip5": "A boy kicks a ball with the right leg while smiling.",
}
REFERENCES = {
    "clip1": [
        "The man lifts his left arm two times and then waves his right hand.",
        "A man raises the left arm twice and waves.",
    ],
    "clip2": ["A woman walks slowly forward, then turns left."],
    "clip3": ["The person squats three times, quickly.", "Someone does three fast squats."],
    "clip4": ["A person jumps twice on the spot."],
    "clip5": ["A smiling boy kicks the ball with his right foot."],
}
# Recorded with pycocoevalcap 1.2 and rouge-score 0.1.2 (a regression guard: a tokenizer, reference
# handling or averaging change shows up here).
EXPECTED = {
    "BLEU-1": 0.7093811655, "BLEU-2": 0.5174567744, "BLEU-3": 0.3792204307, "BLEU-4": 0.2454039381,
    "METEOR": 0.3732373327, "ROUGE-1": 0.6301587302, "ROUGE-2": 0.3071052632, "ROUGE-L": 0.5837864647,
    "CIDEr": 2.5463399079,
}  # fmt: skip


@pytest.fixture(scope="module")
def scores():
    return caption_metrics(PREDICTIONS, REFERENCES)


@pytest.mark.slow
def test_metrics_equal_pycocoevalcap_pipeline(scores):
    """The COCOEvalCap.evaluate sequence (PTB tokenizer, then each scorer), written out here because
    COCOEvalCap itself constructs SPICE, which downloads CoreNLP."""
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.meteor.meteor import Meteor
    from pycocoevalcap.rouge.rouge import Rouge
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    tokenizer = PTBTokenizer()
    gts = tokenizer.tokenize({k: [{"caption": c} for c in refs] for k, refs in REFERENCES.items()})
    res = tokenizer.tokenize({k: [{"caption": c}] for k, c in PREDICTIONS.items()})
    bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
    own = {f"BLEU-{n + 1}": b for n, b in enumerate(bleu)}
    own["METEOR"] = Meteor().compute_score(gts, res)[0]
    own["ROUGE-L"] = Rouge().compute_score(gts, res)[0]
    own["CIDEr"] = Cider().compute_score(gts, res)[0]
    for name, value in own.items():
        assert scores[name] == pytest.approx(value, abs=1e-12), name


@pytest.mark.slow
def test_metrics_match_recorded_values(scores):
    assert list(scores) == list(METRIC_NAMES)
    for name in METRIC_NAMES:
        assert scores[name] == pytest.approx(EXPECTED[name], abs=1e-6), name


@pytest.mark.slow
def test_perfect_and_disjoint_predictions():
    refs = {"a": ["the person raises the left arm twice"], "b": ["a woman jumps over a small fence"]}
    perfect = caption_metrics({k: v[0] for k, v in refs.items()}, refs)
    for name in ("BLEU-1", "BLEU-4", "ROUGE-1", "ROUGE-2", "ROUGE-L"):
        assert perfect[name] == pytest.approx(1.0), name
    assert perfect["METEOR"] > 0.9
    disjoint = caption_metrics({"a": "xylophone quartz", "b": ""}, refs)  # an empty caption scores, as zero
    assert all(disjoint[name] == pytest.approx(0.0, abs=1e-6) for name in METRIC_NAMES)


def test_rouge_n_by_hand():
    # unigrams 3/4 shared -> F1 0.75; bigrams 2 of 3 shared -> F1 2/3. The best of two references counts.
    got = rouge_n({"x": "a b c d"}, {"x": ["z z z z", "a b c e"]})
    assert got == {"ROUGE-1": pytest.approx(0.75), "ROUGE-2": pytest.approx(2 / 3)}


@pytest.mark.slow
def test_bleu_agrees_with_sacrebleu(scores):
    gts, res = ptb_tokenize(PREDICTIONS, REFERENCES)
    # Same tokens: identical up to pycocoevalcap's 1e-9 smoothing constants.
    assert sacrebleu_bleu4({k: v[0] for k, v in res.items()}, gts, tokenize="none") == pytest.approx(
        scores["BLEU-4"], abs=1e-6
    )
    # Raw text with sacrebleu's 13a tokenizer: punctuation becomes tokens, so only close (sacrebleu README).
    assert sacrebleu_bleu4(PREDICTIONS, REFERENCES) == pytest.approx(scores["BLEU-4"], abs=0.08)


def test_mismatched_or_empty_inputs_are_refused():
    with pytest.raises(ValueError, match="same ids"):
        caption_metrics({"a": "x"}, {"b": ["y"]})
    with pytest.raises(ValueError, match="No predictions"):
        caption_metrics({}, {})
    with pytest.raises(ValueError, match="non-empty reference"):
        caption_metrics({"a": "x"}, {"a": ["  "]})
