"""A walk or a run named from the motion instead of by the language model's habit.

On the real set's pedestrians (`bench/bench_real.py`) the embedded model's language model calls five walkers
runners whose clips its own action head reads as walks (walk 0.72-0.96 of the windows' mean probability, run
0.01-0.27), and sampling more captions does not help: its samples say "runs" too. As with limb sides
(`side_grounding.py`), whether a gait is named stays the language model's choice and which gait is the
motion's: whenever it is about to write a word that names a walk or a run (the one-token spellings of
`config.side_grounding["words"]`: " walks", " takes", " runs", " jogs", ...), `MotionGaitLogitsProcessor` keeps
the probability it gives all of them and splits it between the walk words and the run words as sigmoid(z) :
sigmoid(-z), z being the step's log-odds of a walk against a run; within each group the language model's own
preference stays.

The step: the k-th gait word of the answer reads the k-th run of windows whose most probable action is a walk
or a run (every window, where there are fewer runs); z is the log of the ratio of the walk and run
probabilities summed over those windows.

Where it does not reach: a spelling in several tokens (SmolLM2's " jogs", for `macm-135m`) is left to the
language model; a model whose words hold no one-token walk or run gets no gait grounding.
"""

import torch
from transformers import LogitsProcessor

from .side_grounding import clip_of_rows, window_runs

GAIT = ("walk", "run")
EPS = 1e-6  # evidence floor, so that z stays finite


class MotionGaitLogitsProcessor(LogitsProcessor):
    r"""
    Args:
        action_probs (`torch.Tensor` `[C, Q, A]`): the action head's probabilities per window, zero where a window
            has no frame.
        clip_of_row (`list[int | None]`): the motion clip of each batch row (None: no motion).
        walk_ids, run_ids (`list[int]`): the tokens that name a walk and a run.
        gait (`tuple[int, int]`): the action head's indices of the walk and the run.
        prompt_length (`int`): length of the prompt; gait words after it are the answer's.
    """

    def __init__(self, action_probs, clip_of_row, walk_ids, run_ids, gait, prompt_length):
        self.action_probs, self.clip_of_row, self.prompt_length = action_probs, clip_of_row, prompt_length
        self.walk_ids, self.run_ids = list(walk_ids), list(run_ids)
        self.words = torch.tensor(self.walk_ids + self.run_ids)
        self.gait = list(gait)
        self.cache: dict[tuple[int, int], torch.Tensor] = {}

    @classmethod
    def from_heads(cls, config, input_ids, heads: tuple[dict, torch.Tensor]):
        """For the clips of a `generate` call, from `read_motion_heads`' reading of them (`heads`); None where the
        model's action head or its words know no walk or run in one token each."""
        labels = config.motion_head_labels["action"]
        words = config.side_grounding["words"]
        ids = [[seq[0] for seq in words.get(action, []) if len(seq) == 1] for action in GAIT]
        if not all(action in labels for action in GAIT) or not all(ids):
            return None
        outputs, present = heads
        probs = outputs["action"].float().softmax(-1) * present[..., None]  # [C, Q, A]
        gait = [labels.index(action) for action in GAIT]
        return cls(probs, clip_of_rows(config, input_ids), *ids, gait, input_ids.shape[1])

    def step_log_odds(self, clip: int, k: int) -> torch.Tensor:
        """z of the k-th gait word in clip `clip`."""
        if (clip, k) not in self.cache:
            probs = self.action_probs[clip]  # [Q, A]
            moving = torch.isin(probs.argmax(-1), torch.tensor(self.gait)) & (probs.sum(-1) > 0)  # [Q]
            starts, ends = window_runs(moving)
            if k < len(starts):
                probs = probs[starts[k] : ends[k]]
            walk, run = probs[:, self.gait].sum(0)
            self.cache[clip, k] = (walk + EPS).log() - (run + EPS).log()
        return self.cache[clip, k]

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        expansion = len(input_ids) // len(self.clip_of_row)  # beams and returned sequences per prompt
        said = torch.isin(input_ids[:, self.prompt_length :], self.words.to(input_ids.device)).sum(-1)
        for row in range(len(input_ids)):
            clip = self.clip_of_row[row // expansion]
            walk, run = scores[row, self.walk_ids].logsumexp(0), scores[row, self.run_ids].logsumexp(0)
            if clip is None or not (torch.isfinite(walk) and torch.isfinite(run)):
                continue  # no motion, or another processor has ruled a group out
            z = self.step_log_odds(clip, int(said[row]))
            both = torch.logaddexp(walk, run)
            scores[row, self.walk_ids] += both - walk + torch.nn.functional.logsigmoid(z)
            scores[row, self.run_ids] += both - run + torch.nn.functional.logsigmoid(-z)
        return scores


__all__ = ["MotionGaitLogitsProcessor"]
