"""The five-dimension judge: reply parsing, an OpenAI-compatible endpoint served by the test itself
(well-formed, malformed, slow and refusing replies), and a tiny local transformers causal LM."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from train.judge import (
    DIMENSIONS,
    OVERALL,
    Judge,
    LocalLMBackend,
    OpenAIChatBackend,
    fill,
    load_prompt,
    parse_correct,
    parse_dimension_scores,
    summarize_scores,
)

GOOD_SCORES = dict(zip(DIMENSIONS, (7, 3, 5, 2, 9)))


def test_prompt_file_has_sections_and_every_dimension():
    prompt = load_prompt("judge_v1")
    assert set(prompt) == {"system", "caption", "qa"}
    for name in DIMENSIONS:
        assert f'"{name}"' in prompt["caption"]
    with pytest.raises(FileNotFoundError, match="judge_v1"):
        load_prompt("judge_v0")


def test_fill_does_not_expand_braces_inside_values():
    text = fill(load_prompt()["caption"], reference="a {prediction} b", prediction="P")
    assert "a {prediction} b" in text and "Candidate: P" in text
    assert '"Details of Movements": 0' in text  # the JSON example in the template is left alone


@pytest.mark.parametrize(
    "reply, expected",
    [
        (json.dumps(GOOD_SCORES), GOOD_SCORES),
        ("Thinking {not json}. Final:\n```json\n" + json.dumps(GOOD_SCORES) + "\n```", GOOD_SCORES),
        ("\n".join(f"{name}: {score}" for name, score in GOOD_SCORES.items()), GOOD_SCORES),
        (json.dumps({**GOOD_SCORES, "Character Attributes": 11}), None),  # out of range
        (json.dumps({k: v for k, v in GOOD_SCORES.items() if k != "Motivation and Reason"}), None),  # one missing
        (json.dumps({**GOOD_SCORES, "Character Attributes": True}), None),
        ("I would rate it a 7.", None),
        ("", None),
    ],
)
def test_parse_dimension_scores(reply, expected):
    assert parse_dimension_scores(reply) == expected


@pytest.mark.parametrize(
    "reply, expected",
    [
        ('{"correct": true}', True),
        ('sure {"correct": false}', False),
        ("correct: yes", True),
        ("maybe", None),
        ('{"correct": "true"}', True),
        ('{"verdict": "incorrect"}', None),
    ],
)
def test_parse_correct(reply, expected):
    assert parse_correct(reply) is expected


def test_summary_overall_is_mean_of_the_five_and_failures_are_counted():
    other = dict(zip(DIMENSIONS, (1, 1, 1, 2, 0)))
    summary = summarize_scores([GOOD_SCORES, None, other])
    assert summary["num_judged"] == 2 and summary["num_failed"] == 1
    assert summary["Details of Movements"] == pytest.approx(4.0)
    assert summary[OVERALL] == pytest.approx((sum(GOOD_SCORES.values()) + sum(other.values())) / 10)
    assert OVERALL not in summarize_scores([None])


class ScriptedServer:
    """An OpenAI-compatible chat endpoint on 127.0.0.1 that answers each POST with the next scripted
    action: ("reply", text), ("sleep", seconds) or ("status", code). It records what it was sent."""

    def __init__(self):
        self.script, self.requests = [], []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
                kind, value = server.script.pop(0) if server.script else ("status", 500)
                if kind == "sleep":
                    time.sleep(value)
                    kind, value = "reply", json.dumps(GOOD_SCORES)
                if kind == "status":
                    payload, code = {"error": {"message": "scripted failure"}}, value
                else:
                    payload, code = (
                        {"choices": [{"index": 0, "message": {"role": "assistant", "content": value}}]},
                        200,
                    )
                data = json.dumps(payload).encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    server = ScriptedServer()
    yield server
    server.close()


def endpoint_judge(server, timeout=5.0, retries=2):
    return Judge(
        OpenAIChatBackend(server.url, "judge-model", api_key="sk-test", timeout=timeout),
        retries=retries,
        backoff_s=0.0,
    )


def test_endpoint_well_formed_reply(server):
    server.script = [("reply", "Scores: " + json.dumps(GOOD_SCORES))]
    verdict = endpoint_judge(server).score_caption("A man raises his left arm.", "A man lifts his left arm twice.")
    assert verdict.ok and verdict.value == GOOD_SCORES and verdict.attempts == 1
    (request,) = server.requests
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer sk-test"
    assert request["body"]["model"] == "judge-model" and request["body"]["temperature"] == 0.0
    user = request["body"]["messages"][1]["content"]
    assert "Reference: A man lifts his left arm twice." in user and "Candidate: A man raises his left arm." in user


def test_endpoint_malformed_reply_is_retried_with_sampling(server):
    server.script = [("reply", "The candidate is pretty good, 8/10."), ("reply", json.dumps(GOOD_SCORES))]
    verdict = endpoint_judge(server).score_caption("a", "b")
    assert verdict.value == GOOD_SCORES and verdict.attempts == 2
    assert [r["body"]["temperature"] for r in server.requests] == [0.0, 0.7]


def test_endpoint_always_malformed_is_a_counted_failure_not_a_score(server):
    server.script = [("reply", "no idea")] * 3
    verdict = endpoint_judge(server).score_caption("a", "b")
    assert not verdict.ok and verdict.value is None and verdict.attempts == 3
    assert verdict.error == "unparsable judge reply" and verdict.reply == "no idea"
    assert summarize_scores([verdict.value])["num_failed"] == 1


def test_endpoint_timeout_then_success(server):
    server.script = [("sleep", 1.5), ("reply", json.dumps(GOOD_SCORES))]
    start = time.perf_counter()
    verdict = endpoint_judge(server, timeout=0.3).score_caption("a", "b")
    assert verdict.value == GOOD_SCORES and verdict.attempts == 2
    assert time.perf_counter() - start < 1.4  # gave up on the slow reply instead of waiting for it


def test_endpoint_timeouts_and_server_errors_become_failures(server):
    server.script = [("sleep", 1.0), ("status", 503)]
    verdict = endpoint_judge(server, timeout=0.3, retries=1).score_caption("a", "b")
    assert not verdict.ok and verdict.attempts == 2 and "HTTP 503" in verdict.error


def test_endpoint_client_error_stops_instead_of_retrying(server):
    server.script = [("status", 404)]
    with pytest.raises(RuntimeError, match="HTTP 404"):
        endpoint_judge(server).score_caption("a", "b")
    assert len(server.requests) == 1


def test_endpoint_unreachable_is_a_failure():
    judge = Judge(OpenAIChatBackend("http://127.0.0.1:9/v1", "m", timeout=0.5), retries=1, backoff_s=0.0)
    verdict = judge.judge_answer("q", "a", "r")
    assert not verdict.ok and "unreachable" in verdict.error


def test_endpoint_qa_verdict(server):
    server.script = [("reply", '{"correct": true}')]
    verdict = endpoint_judge(server).judge_answer("Which arm?", "the left one", "The left arm.")
    assert verdict.value is True
    user = server.requests[0]["body"]["messages"][1]["content"]
    assert (
        "Question: Which arm?" in user
        and "Correct answer: The left arm." in user
        and "Model's answer: the left one" in user
    )


@pytest.fixture(scope="module")
def tiny_causal_lm(tmp_path_factory):
    """A random 2-layer Llama with a word-level tokenizer built offline with `tokenizers`."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    words = sorted(set(" ".join(load_prompt().values()).replace("\n", " ").split()))
    vocab = {tok: i for i, tok in enumerate(["<unk>", "<pad>", "</s>", *words])}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token="<unk>", pad_token="<pad>", eos_token="</s>"
    )
    config = LlamaConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
                         pad_token_id=1, eos_token_id=2, bos_token_id=2)  # fmt: skip
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny_judge")
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.mark.slow
def test_local_lm_random_replies_are_counted_as_failures(tiny_causal_lm):
    backend = LocalLMBackend(tiny_causal_lm, max_new_tokens=12)
    reply = backend.complete([{"role": "user", "content": "Reference: walk"}], temperature=0.0)
    assert isinstance(reply, str) and reply  # it did generate, from a plain-text prompt (no chat template)
    backend.tokenizer.chat_template = "{% for m in messages %}{{ m['content'] }} {% endfor %}Reference:"
    assert backend.complete([{"role": "user", "content": "walk"}], temperature=0.7)  # chat template + sampling
    verdicts = [Judge(backend, retries=1).score_caption("A man waves.", "A man waves twice.") for _ in range(2)]
    verdicts.append(Judge(backend, retries=1).judge_answer("Which arm?", "left", "left"))
    for verdict in verdicts:
        assert verdict.value is None and verdict.attempts == 2 and verdict.error == "unparsable judge reply"
    assert summarize_scores([v.value for v in verdicts[:2]]) == {"num_judged": 0, "num_failed": 2}
