"""The LLM judge of HMI-Bench: five-dimension caption scores and open-ended QA correctness.

The paper's judge model and prompt are unpublished; the prompt here is ours and versioned
(`train/prompts/judge_v1.md`). A judge is a chat backend (an OpenAI-compatible endpoint, or a local
transformers causal LM) plus that prompt. A reply that cannot be parsed, or a call that fails, is
retried; when every attempt fails the item is a counted failure, never a silent score.
"""

import json
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from dataset_scripts.schema import DIMENSIONS

PROMPTS_DIR = Path(__file__).parent / "prompts"
DEFAULT_PROMPT_VERSION = "judge_v1"
OVERALL = "Overall"


class JudgeError(RuntimeError):
    """One judge call failed in a way a retry may fix (timeout, connection, server error, bad reply)."""


def load_prompt(version: str = DEFAULT_PROMPT_VERSION) -> dict[str, str]:
    """The `system`, `caption` and `qa` sections of `prompts/<version>.md`, by their `## ` headings."""
    path = PROMPTS_DIR / f"{version}.md"
    if not path.is_file():
        known = sorted(p.stem for p in PROMPTS_DIR.glob("*.md"))
        raise FileNotFoundError(f"No judge prompt {version!r} ({path}); the versions are {known}.")
    sections = dict(re.findall(r"^## (\w+)\n(.*?)(?=^## |\Z)", path.read_text(), flags=re.S | re.M))
    missing = {"system", "caption", "qa"} - set(sections)
    if missing:
        raise ValueError(f"Judge prompt {path} lacks the sections {sorted(missing)}.")
    return {name: text.strip() for name, text in sections.items()}


def fill(template: str, **values: str) -> str:
    """Fills `{name}` placeholders in one pass, so braces inside the values are never re-expanded."""
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), template)


def _json_objects(text: str):
    """Every JSON object embedded in `text`, in order (replies often wrap the object in prose or ```)."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"\{", text):
        try:
            obj, _ = decoder.raw_decode(text, match.start())
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            yield obj


def _as_score(value) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        score = float(value)
    except (TypeError, ValueError):
        return None
    return score if 0.0 <= score <= 10.0 else None


def parse_dimension_scores(reply: str) -> dict[str, float] | None:
    """The five 0-10 scores in a judge reply, or None unless all five are there and in range.

    A JSON object with the five names is preferred (the last one, when the model thinks aloud first);
    `Name: 7` lines are accepted too, since small judges often drop the braces.
    """
    for obj in reversed(list(_json_objects(reply))):
        scores = {name: _as_score(obj.get(name)) for name in DIMENSIONS}
        if all(score is not None for score in scores.values()):
            return scores
    scores = {}
    for name in DIMENSIONS:
        found = re.findall(rf"{re.escape(name)}\W*?[:=]\s*\"?(\d+(?:\.\d+)?)", reply, flags=re.I)
        scores[name] = _as_score(found[-1]) if found else None
    return scores if all(score is not None for score in scores.values()) else None


def parse_correct(reply: str) -> bool | None:
    """The `correct` verdict of a QA judge reply, or None when there is none."""
    for obj in reversed(list(_json_objects(reply))):
        if isinstance(obj.get("correct"), bool):
            return obj["correct"]
    found = re.findall(r"\bcorrect\W*[:=]\s*\"?(true|false|yes|no)\b", reply, flags=re.I)
    return found[-1].lower() in ("true", "yes") if found else None


class OpenAIChatBackend:
    """A chat-completions endpoint (OpenAI, vLLM, llama.cpp server, TGI, ...), with stdlib urllib.

    `url` is the API base (`http://host:8000/v1`) or the full `/chat/completions` address. Timeouts,
    connection errors, 408/429 and 5xx replies raise `JudgeError` (retried by the caller); other 4xx
    replies (bad model name, bad key) raise `RuntimeError`, since retrying cannot fix them.
    """

    def __init__(self, url: str, model: str, api_key: str | None = None, timeout: float = 60.0, max_tokens: int = 256):
        url = url.rstrip("/")
        self.url = url if url.endswith("/chat/completions") else f"{url}/chat/completions"
        self.model, self.api_key, self.timeout, self.max_tokens = model, api_key, timeout, max_tokens

    @property
    def name(self) -> str:
        return f"{self.model}@{self.url}"

    def complete(self, messages: list[dict], temperature: float) -> str:
        body = {"model": self.model, "messages": messages, "temperature": temperature, "max_tokens": self.max_tokens}
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(self.url, data=json.dumps(body).encode(), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = json.loads(response.read().decode())
        except urllib.error.HTTPError as err:
            detail = err.read().decode(errors="replace")[:300]
            if err.code in (408, 429) or err.code >= 500:
                raise JudgeError(f"judge endpoint answered HTTP {err.code}: {detail}") from err
            raise RuntimeError(f"Judge endpoint {self.url} rejected the request (HTTP {err.code}): {detail}") from err
        except (urllib.error.URLError, TimeoutError, OSError) as err:
            raise JudgeError(f"judge endpoint {self.url} unreachable or too slow ({err})") from err
        except json.JSONDecodeError as err:
            raise JudgeError(f"judge endpoint answered non-JSON ({err})") from err
        try:
            return payload["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError) as err:
            raise JudgeError(f"judge endpoint reply has no choices[0].message.content: {str(payload)[:300]}") from err


class LocalLMBackend:
    """A local transformers causal LM (a folder `AutoModelForCausalLM` loads), run on CPU or its device."""

    def __init__(self, path: str, max_new_tokens: int = 128):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.path = str(path)
        self.tokenizer = AutoTokenizer.from_pretrained(self.path)
        self.model = AutoModelForCausalLM.from_pretrained(self.path).eval()
        self.max_new_tokens = max_new_tokens

    @property
    def name(self) -> str:
        return f"local:{Path(self.path).name}"

    def _prompt_ids(self, messages: list[dict]):
        if self.tokenizer.chat_template:
            return self.tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
            )["input_ids"]
        # A base model without a chat template: plain "Role: text" turns, ending on the assistant's.
        text = "".join(f"{m['role'].capitalize()}: {m['content']}\n\n" for m in messages) + "Assistant:"
        return self.tokenizer(text, return_tensors="pt")["input_ids"]

    def complete(self, messages: list[dict], temperature: float) -> str:
        import torch

        input_ids = self._prompt_ids(messages).to(self.model.device)
        sampling = {"do_sample": True, "temperature": temperature} if temperature > 0 else {"do_sample": False}
        pad_id = (
            self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.tokenizer.eos_token_id
        )
        with torch.inference_mode():
            output = self.model.generate(
                input_ids, attention_mask=torch.ones_like(input_ids), max_new_tokens=self.max_new_tokens,
                pad_token_id=pad_id, **sampling,
            )  # fmt: skip
        return self.tokenizer.decode(output[0, input_ids.shape[1] :], skip_special_tokens=True)


@dataclass
class Verdict:
    """One judged item. `value` is the scores dict or the QA bool; None when every attempt failed,
    and then `error` says why. `reply` is the last raw reply, kept for auditing the judge."""

    value: dict[str, float] | bool | None
    attempts: int
    reply: str = ""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.value is not None


class Judge:
    """A backend plus a versioned prompt. The first attempt is greedy (temperature 0) so scores are
    reproducible; retries sample at `retry_temperature`, since a greedy retry would repeat the reply."""

    def __init__(self, backend, prompt_version: str = DEFAULT_PROMPT_VERSION, retries: int = 2,
                 retry_temperature: float = 0.7, backoff_s: float = 1.0):  # fmt: skip
        self.backend, self.prompt_version = backend, prompt_version
        self.prompt = load_prompt(prompt_version)
        self.retries, self.retry_temperature, self.backoff_s = retries, retry_temperature, backoff_s

    @property
    def name(self) -> str:
        return f"{self.backend.name} ({self.prompt_version})"

    def _ask(self, user: str, parse) -> Verdict:
        messages = [{"role": "system", "content": self.prompt["system"]}, {"role": "user", "content": user}]
        reply, error = "", None
        for attempt in range(self.retries + 1):
            try:
                reply = self.backend.complete(messages, 0.0 if attempt == 0 else self.retry_temperature)
            except JudgeError as err:
                error = str(err)
                time.sleep(self.backoff_s * attempt)
                continue
            value = parse(reply)
            if value is not None:
                return Verdict(value, attempt + 1, reply)
            error = "unparsable judge reply"
        return Verdict(None, self.retries + 1, reply, error)

    def score_caption(self, prediction: str, reference: str) -> Verdict:
        """Five 0-10 scores of `prediction` against `reference` (value: `{dimension: score}`)."""
        return self._ask(
            fill(self.prompt["caption"], reference=reference, prediction=prediction), parse_dimension_scores
        )

    def judge_answer(self, question: str, answer: str, reference: str) -> Verdict:
        """Whether an open-ended `answer` means the same as `reference` (value: bool)."""
        user = fill(self.prompt["qa"], question=question, reference=reference, prediction=answer)
        return self._ask(user, parse_correct)


def summarize_scores(scores: list[dict[str, float] | None]) -> dict:
    """Mean score per dimension over the judged items, `Overall` = mean of the five (the paper's table
    copies one column instead for several baselines), and how many items the judge could not score."""
    judged = [s for s in scores if s is not None]
    summary = {"num_judged": len(judged), "num_failed": len(scores) - len(judged)}
    if judged:
        means = {name: sum(s[name] for s in judged) / len(judged) for name in DIMENSIONS}
        summary.update(means, **{OVERALL: sum(means.values()) / len(DIMENSIONS)})
    return summary


__all__ = [
    "DEFAULT_PROMPT_VERSION", "DIMENSIONS", "OVERALL", "Judge", "JudgeError", "LocalLMBackend", "OpenAIChatBackend",
    "Verdict", "load_prompt", "parse_correct", "parse_dimension_scores", "summarize_scores",
]  # fmt: skip
