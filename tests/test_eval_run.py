"""`macm eval` end to end with the tiny saved MACM (conftest `tiny_checkpoint`): failures counted,
interrupted runs resumed, the judge wired in, the report files, the ablation and the CLI."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from utils import moving_square_frames, tiny_config, tiny_model, tiny_processor

from dataset_scripts.build import write_parquet
from dataset_scripts.card import write_card
from dataset_scripts.schema import DIMENSIONS, empty_row, track_to_row
from processing_macm import write_video
from processing_macm.motion_track import MEDIAPIPE_LANDMARK_NAMES, NUM_JOINTS, MotionTrack
from train.evaluate import ABLATION, JsonlLog, RunConfig, evaluate, main
from train.judge import Judge, OpenAIChatBackend
from train.metrics import METRIC_NAMES

VISION_ONLY = (RunConfig("vision-only", use_motion=False, decoding="greedy"),)
PROGRAM = [
    {
        "action": "wave",
        "side": "left",
        "limb": "arm",
        "count": 2,
        "speed": "slow",
        "direction": None,
        "start": 0.0,
        "end": 1.0,
    }
]


def person_track(num_frames: int = 12, seed: int = 0) -> MotionTrack:
    """A track with a (random) person in every frame, so the motion pathway runs without MediaPipe."""
    rng = np.random.default_rng(seed)
    keypoints = np.concatenate([rng.uniform(8, 40, (num_frames, len(MEDIAPIPE_LANDMARK_NAMES), 2)),
                                np.ones((num_frames, len(MEDIAPIPE_LANDMARK_NAMES), 1))], axis=-1)  # fmt: skip
    return MotionTrack(
        10.0, (48, 48), keypoints, rng.normal(0, 0.3, (num_frames, NUM_JOINTS, 3)), np.ones(num_frames, bool), "smpl"
    )


@pytest.fixture
def dataset_dir(tmp_path):
    """Six rows: four readable clips (two with stored motion, one HMI-Synth program), a zero-byte
    video and a missing one; three QA items (two true/false, one open)."""

    root = tmp_path / "bench"
    (root / "videos").mkdir(parents=True)
    rows = []
    for i in range(4):
        write_video(root / f"videos/c{i}.mp4", moving_square_frames(seed=i), fps=10)
        rows.append(empty_row(id=f"c{i}", video=f"videos/c{i}.mp4", caption=f"The person raises the left arm {i + 1} times.",
                              motion=track_to_row(person_track(seed=i)) if i < 2 else None, source="test", license="cc0"))  # fmt: skip
    (root / "videos/empty.mp4").write_bytes(b"")
    rows.append(empty_row(id="empty", video="videos/empty.mp4", caption="A man jumps.", source="test", license="cc0"))
    rows.append(
        empty_row(id="missing", video="videos/missing.mp4", caption="A man jumps.", source="test", license="cc0")
    )
    rows[0]["qa"] = [
        {
            "question": "The person uses the left arm.",
            "answer": "True",
            "type": "true_false",
            "dimension": DIMENSIONS[0],
        },
        {"question": "Which arm moves?", "answer": "The left arm.", "type": "open", "dimension": DIMENSIONS[0]},
    ]
    rows[1]["qa"] = [
        {"question": "The person jumps.", "answer": "False", "type": "true_false", "dimension": DIMENSIONS[0]}
    ]
    rows[2]["ground_truth"] = {"joints_3d": np.zeros((12, NUM_JOINTS, 3), np.float32), "program": json.dumps(PROGRAM)}
    (root / "data").mkdir()
    write_parquet(root / "data/test-00000-of-00001.parquet", rows)
    write_card(root, "written by hand")
    return root


@pytest.fixture(scope="module")
def captioner(tiny_checkpoint):
    from macm_cli.captioner import MACMCaptioner

    return MACMCaptioner.from_pretrained(tiny_checkpoint)


class CountingCaptioner:
    """The real captioner, counting the items it captions and optionally interrupted (as by Ctrl-C)
    after `stop_after` calls."""

    def __init__(self, captioner, stop_after: int | None = None):
        self.captioner, self.stop_after, self.calls, self.items = captioner, stop_after, 0, 0

    def estimate_motion(self, video):
        return self.captioner.estimate_motion(video)

    def heads_reading(self, caption, track):
        return self.captioner.heads_reading(caption, track)

    def answer(self, question, caption, reading=None, video=None, track=None, colours=None):
        return self.captioner.answer(question, caption, reading, video, track, colours)

    def clothing_colours(self, video, track):
        return self.captioner.clothing_colours(video, track)

    def caption(self, videos, **kwargs):
        if self.stop_after is not None and self.calls >= self.stop_after:
            raise KeyboardInterrupt
        self.calls += 1
        self.items += len(videos)
        return self.captioner.caption(videos, **kwargs)


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_jsonl_log_drops_a_partial_last_line(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"key": "a", "output": "x"}\n{"key": "b", "outp')
    log = JsonlLog(path)
    assert "a" in log and "b" not in log
    log.append({"key": "b", "output": "y"})
    log.close()
    assert [r["key"] for r in read_jsonl(path)] == ["a", "b"]
    path.write_text('{"key": "a"}\nnot json\n')
    with pytest.raises(ValueError, match="line 2"):
        JsonlLog(path)


@pytest.mark.slow
def test_failures_counted_interrupted_run_resumed_and_reported(captioner, dataset_dir, tmp_path):
    config = (RunConfig("motion", decoding="greedy"),)
    full = evaluate(captioner, dataset_dir, tmp_path / "full", config, batch_size=2, max_new_tokens=8)["motion"]
    assert full["num_items"] == 6 and full["num_failed"] == 2
    assert full["failure_reasons"] == {"VideoReadError": 2} and set(full["failed_items"]) == {"empty", "missing"}
    assert "not found" in full["failed_items"]["missing"]
    assert set(full["caption"]) == set(METRIC_NAMES)
    assert full["qa"]["true_false"]["num"] == 2 and full["qa"]["true_false"]["accuracy"] is not None
    assert full["qa"]["open"]["accuracy"] is None  # no judge given
    assert full["motion"]["num_items"] == 1 and full["judge"] is None
    assert full["notices"] == {"no person": 2}  # the squares of c2 and c3: nobody in them
    records = {r["key"]: r for r in read_jsonl(tmp_path / "full/predictions.jsonl")}
    assert len(records) == 6 + 3  # six captions, three answers
    assert records["empty"]["output"] is None and records["c0"]["error"] is None
    assert records["c0"]["motion_used"] is True  # the stored track was used
    assert records["c1#qa0"]["described"] == records["c1"]["output"] and records["c1#qa0"]["output"] in (
        "True.",
        "False.",
    )
    assert json.loads((tmp_path / "full/metrics.json").read_text())["motion"]["num_failed"] == 2
    table = (tmp_path / "full/results.md").read_text()
    assert "| motion | 4/6 |" in table and "2 of 6 items failed" in table
    assert "- motion: 2 of 6 items (no person 2)" in table
    motion_table = table.split("Motion-detail accuracy:")[1]
    assert "| run | action recall | action precision | side | count | speed | order | exact |" in motion_table
    assert f"| motion | {full['motion']['action_recall']:.3f} | " in motion_table
    assert (tmp_path / "full/results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    out = tmp_path / "resumed"
    with pytest.raises(KeyboardInterrupt):
        evaluate(CountingCaptioner(captioner, stop_after=1), dataset_dir, out, config, batch_size=2, max_new_tokens=8)
    assert [r["key"] for r in read_jsonl(out / "predictions.jsonl")] == ["c0", "c1"]
    resumed = CountingCaptioner(captioner)
    again = evaluate(resumed, dataset_dir, out, config, batch_size=2, max_new_tokens=8)["motion"]
    # c2+c3; two questions (the third, "The person jumps.", is answered from c1's caption). empty+missing fail as a
    # batch and are redone one by one, each at its pose estimation, before captioning.
    assert resumed.items == 2 + 2
    assert {r["key"]: r["output"] for r in read_jsonl(out / "predictions.jsonl")} == {
        k: r["output"] for k, r in records.items()
    }
    for section in ("caption", "qa", "motion", "num_failed", "failed_items"):
        assert again[section] == full[section], section
    with pytest.raises(ValueError, match="other settings"):
        evaluate(captioner, dataset_dir, out, (RunConfig("motion", decoding="msd"),))


class JudgeServer:
    """Answers caption prompts with five scores (malformed when the reference mentions "3 times") and
    QA prompts with `{"correct": true}`; counts requests."""

    def __init__(self):
        self.count = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                server.count += 1
                user = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["messages"][1]["content"]
                if "Question:" in user:
                    content = '{"correct": true}'
                elif "3 times" in user:
                    content = "Scores: good"
                else:
                    content = json.dumps(dict(zip(DIMENSIONS, (8, 6, 4, 2, 5))))
                data = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/v1"


@pytest.mark.slow
def test_a_rows_motion_is_estimated_once_for_its_caption_and_its_answers(tiny_checkpoint, tmp_path):
    from macm_cli.captioner import MACMCaptioner

    captioner, estimated = MACMCaptioner.from_pretrained(tiny_checkpoint), []  # its own: its pose runs are counted
    estimate = captioner.estimate_motion

    def counted(video, **kwargs):
        track = estimate(video, **kwargs)
        estimated.append(str(video))
        return track

    captioner.estimate_motion = counted
    root = tmp_path / "unextracted"  # clips without stored tracks, each with a question read from its motion
    (root / "videos").mkdir(parents=True)
    rows = []
    for i in range(3):
        write_video(root / f"videos/c{i}.mp4", moving_square_frames(seed=i), fps=10)
        rows.append(empty_row(id=f"c{i}", video=f"videos/c{i}.mp4", caption="The person squats.", source="test",
                              license="cc0"))  # fmt: skip
        rows[-1]["qa"] = [{"question": "How many times does the person squat?", "answer": "2", "type": "open",
                           "dimension": DIMENSIONS[0]}]  # fmt: skip
    (root / "data").mkdir()
    write_parquet(root / "data/test-00000-of-00001.parquet", rows)
    write_card(root, "written by hand")
    config = (RunConfig("motion", decoding="greedy"),)
    evaluate(captioner, root, tmp_path / "run", config, batch_size=2, max_new_tokens=8)
    assert sorted(estimated) == sorted(str(root / f"videos/c{i}.mp4") for i in range(3))  # once each


def test_judge_scores_and_judge_failures_in_the_report(captioner, dataset_dir, tmp_path):
    server = JudgeServer()
    try:
        judge = Judge(OpenAIChatBackend(server.url, "judge", timeout=5), retries=1, backoff_s=0.0)
        m = evaluate(captioner, dataset_dir, tmp_path / "out", VISION_ONLY, judge=judge, max_new_tokens=8)[
            "vision-only"
        ]
        # c2's reference says "3 times": two unparsable replies, then a counted failure.
        assert m["judge"]["num_judged"] == 3 and m["judge"]["num_failed"] == 1
        assert m["judge"]["Overall"] == pytest.approx(5.0) and m["judge"]["Details of Movements"] == pytest.approx(8.0)
        assert m["qa"]["open"] == {"num": 1, "num_failed": 0, "accuracy": 1.0, "num_judge_failed": 0}
        assert server.count == 3 + 2 + 1
        assert "| vision-only | 8.00 | 6.00 |" in (tmp_path / "out/results.md").read_text()
        evaluate(captioner, dataset_dir, tmp_path / "out", VISION_ONLY, judge=judge, max_new_tokens=8)
        assert server.count == 6  # verdicts (failures included) come from judgments.jsonl on a rerun
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


@pytest.mark.slow
def test_ablation_writes_one_table(captioner, dataset_dir, tmp_path):
    runs = evaluate(captioner, dataset_dir, tmp_path / "abl", ABLATION, max_samples=3, max_new_tokens=6, with_qa=False)
    assert list(runs) == [c.name for c in ABLATION]
    assert all(m["num_items"] == 3 and m["num_failed"] == 0 for m in runs.values())
    for config in ABLATION:
        assert (tmp_path / "abl" / config.slug / "predictions.jsonl").is_file()
    assert [r["motion_used"] for r in read_jsonl(tmp_path / "abl/vision-only/predictions.jsonl")] == [False] * 3
    table = (tmp_path / "abl/results.md").read_text()
    assert all(f"| {c.name} |" in table for c in ABLATION)


@pytest.mark.slow
def test_cli(tiny_checkpoint, dataset_dir, tmp_path, capsys):
    out = tmp_path / "cli"
    code = main(["--model", tiny_checkpoint, "--dataset", str(dataset_dir), "-o", str(out), "--no-motion",
                 "--decoding", "greedy", "--skip-qa", "--max-samples", "2", "--max-new-tokens", "6"])  # fmt: skip
    assert code == 0 and "| M-ACM | 2/2 |" in capsys.readouterr().out
    assert json.loads((out / "run.json").read_text())["config"]["use_motion"] is False
    with pytest.raises(SystemExit):
        main(["--model", tiny_checkpoint, "--dataset", str(dataset_dir), "-o", str(out), "--judge-url", "http://x"])


@pytest.mark.slow
def test_cli_ablation_of_a_kinematic_model_has_no_keyframe_row(tokenizer, dataset_dir, tmp_path, capsys):
    config = tiny_config(tokenizer, "kinematic")
    checkpoint = tmp_path / "kinematic"
    tiny_model(config).save_pretrained(checkpoint)
    tiny_processor(tokenizer, config).save_pretrained(checkpoint)
    out = tmp_path / "abl"
    code = main(["--model", str(checkpoint), "--dataset", str(dataset_dir), "-o", str(out), "--ablation",
                 "--skip-qa", "--max-samples", "2", "--max-new-tokens", "4"])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0 and "the ablation has no keyframe-sampling row" in printed
    table = (out / "results.md").read_text()
    assert all(f"| {c.name} |" in table for c in ABLATION[:3]) and "+keyframe sampling" not in table
