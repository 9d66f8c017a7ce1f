"""Caption metrics of HMI-Bench with the reference implementations, over the whole corpus.

BLEU-1..4, METEOR, ROUGE-L and CIDEr come from pycocoevalcap after its PTB tokenizer (lower-cased,
punctuation dropped), exactly as its `COCOEvalCap.evaluate` does them; SPICE is left out because it
downloads Stanford CoreNLP at run time. ROUGE-1/2 come from Google's rouge-score (its own tokenizer,
no stemming), the best-matching reference per item, averaged over items. BLEU and METEOR are corpus
statistics; ROUGE and CIDEr are means of per-item scores (CIDEr's IDF comes from the whole corpus).
"""

import functools
import importlib
from collections.abc import Mapping, Sequence

METRIC_NAMES = ("BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "METEOR", "ROUGE-1", "ROUGE-2", "ROUGE-L", "CIDEr")


def require(module: str, extra: str = "eval"):
    """Imports an optional dependency or says which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(f"{module} is needed for evaluation: pip install -e .[{extra}]") from err


def _check(predictions: Mapping[str, str], references: Mapping[str, Sequence[str]]) -> None:
    if not predictions:
        raise ValueError("No predictions to score.")
    if set(predictions) != set(references):
        missing = sorted(set(predictions) ^ set(references))[:5]
        raise ValueError(f"Predictions and references must have the same ids; these differ: {missing}")
    empty = [key for key, refs in references.items() if not any(r.strip() for r in refs)]
    if empty:
        raise ValueError(f"Items without a non-empty reference caption: {empty[:5]}")


def ptb_tokenize(predictions: Mapping[str, str], references: Mapping[str, Sequence[str]]):
    """pycocoevalcap's tokenization: `(references, predictions)` as `{id: [tokenized str, ...]}`."""
    require("pycocoevalcap")
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    # One call for both sides: each call starts a JVM (~1 s).
    captions = {("ref", k): [{"caption": r} for r in refs if r.strip()] for k, refs in references.items()}
    captions.update({("pred", k): [{"caption": predictions[k]}] for k in references})
    tokens = PTBTokenizer().tokenize(captions)
    return {k: tokens[("ref", k)] for k in references}, {k: tokens[("pred", k)] for k in references}


@functools.cache
def _meteor():
    """One METEOR scorer per process: each starts a JVM that loads its paraphrase tables (seconds of
    CPU), and its `compute_score` is lock-protected, so repeated evaluations share it."""
    require("pycocoevalcap")
    from pycocoevalcap.meteor.meteor import Meteor

    return Meteor()


def coco_metrics(gts: Mapping[str, list[str]], res: Mapping[str, list[str]]) -> dict[str, float]:
    """BLEU-1..4, METEOR, ROUGE-L, CIDEr on PTB-tokenized text, as `COCOEvalCap.evaluate` runs them."""
    require("pycocoevalcap")
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.rouge.rouge import Rouge

    bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
    scores = {f"BLEU-{n + 1}": float(b) for n, b in enumerate(bleu)}
    scores["METEOR"] = float(_meteor().compute_score(gts, res)[0])
    scores["ROUGE-L"] = float(Rouge().compute_score(gts, res)[0])
    scores["CIDEr"] = float(Cider().compute_score(gts, res)[0])
    return scores


def rouge_n(predictions: Mapping[str, str], references: Mapping[str, Sequence[str]]) -> dict[str, float]:
    """Mean ROUGE-1/2 F-measure; each item is scored against its best reference (`score_multi`)."""
    require("rouge_score")
    from rouge_score.rouge_scorer import RougeScorer

    scorer = RougeScorer(["rouge1", "rouge2"], use_stemmer=False)
    totals = {"ROUGE-1": 0.0, "ROUGE-2": 0.0}
    for key, refs in references.items():
        scores = scorer.score_multi([r for r in refs if r.strip()], predictions[key])
        totals["ROUGE-1"] += scores["rouge1"].fmeasure
        totals["ROUGE-2"] += scores["rouge2"].fmeasure
    return {name: total / len(references) for name, total in totals.items()}


def caption_metrics(predictions: Mapping[str, str], references: Mapping[str, Sequence[str]]) -> dict[str, float]:
    """All caption metrics, keyed by `METRIC_NAMES`, for `{id: caption}` against `{id: [reference, ...]}`."""
    _check(predictions, references)
    scores = coco_metrics(*ptb_tokenize(predictions, references))
    scores.update(rouge_n(predictions, references))
    return {name: scores[name] for name in METRIC_NAMES}


def sacrebleu_bleu4(
    predictions: Mapping[str, str],
    references: Mapping[str, Sequence[str]],
    tokenize: str = "13a",
    lowercase: bool = True,
) -> float:
    """Corpus BLEU-4 from sacrebleu (0..1), a cross-check of pycocoevalcap's BLEU-4.

    On the same tokens (`ptb_tokenize` output with `tokenize="none"`) the two agree to ~1e-6: both use
    the closest reference length. On raw text they differ by tokenization only: sacrebleu's 13a keeps
    punctuation as tokens, the PTB tokenizer drops it (sacrebleu README, "tokenization").
    """
    _check(predictions, references)
    sacrebleu = require("sacrebleu")
    ids = list(references)
    most = max(len(references[k]) for k in ids)
    # sacrebleu takes one stream per reference slot; `None` marks a missing reference for that item.
    streams = [[refs[i] if i < len(refs) else None for refs in (references[k] for k in ids)] for i in range(most)]
    result = sacrebleu.corpus_bleu([predictions[k] for k in ids], streams, tokenize=tokenize, lowercase=lowercase)
    return result.score / 100.0


__all__ = ["METRIC_NAMES", "caption_metrics", "coco_metrics", "ptb_tokenize", "require", "rouge_n", "sacrebleu_bleu4"]
