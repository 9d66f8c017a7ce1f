"""The real-footage set (bench/real_footage/labels.jsonl): its clips are valid cuts of the installed
sources with a person in them, and its scorer counts right."""

import json

import numpy as np
import pytest

from macm_cli.answers import FAINT, UNNAMED
from processing_macm.video_io import probe_video, read_video
from train.real_footage import (
    KINDS,
    LOOK_QUESTIONS,
    absent_questions,
    build_clips,
    caption_clips,
    handheld,
    hedged,
    iter_source,
    leg_or_body_actions,
    load_labels,
    look_checks,
    made_up,
    named_actions,
    score_caption,
    source_path,
    summarize,
)  # fmt: skip

SAMPLE = (
    "vtest-04",
    "vtest-18",
    "vtest-45",
    "carphone",
    "still-messi5",
    "handheld-messi5-b",
)  # built for real in these tests


@pytest.fixture(scope="module")
def clips() -> dict[str, dict]:
    return {clip["id"]: clip for clip in load_labels()}


@pytest.fixture(scope="module")
def built(clips, tmp_path_factory) -> dict:
    return build_clips([clips[i] for i in SAMPLE], tmp_path_factory.mktemp("real_footage"))


def test_every_kind_is_labelled(clips):
    kinds = [clip["kind"] for clip in clips.values()]
    assert set(kinds) == set(KINDS)
    assert kinds.count("pedestrian") >= 30
    for clip in clips.values():
        if clip["kind"] == "pedestrian":
            assert clip["label"]["direction"] is not None, clip["id"]
            assert 3.0 <= (clip["frames"][1] - clip["frames"][0]) / 10 <= 8.0, clip["id"]  # vtest runs at 10 fps


def test_clip_definitions_are_inside_their_sources(clips):
    for source in {clip["source"] for clip in clips.values()}:
        if source_path(source).suffix in (".jpg", ".png"):
            _, image = next(iter_source(source))
            height, width, num_frames = *image.shape[:2], 1
        else:
            info = probe_video(source_path(source))
            width, height, num_frames = info.width, info.height, info.num_frames
        for clip in (c for c in clips.values() if c["source"] == source):
            assert (clip["frames"] or (0, 1))[1] <= num_frames, clip["id"]
            if clip["box"] is not None:
                assert clip["box"][0] <= width and clip["box"][1] <= height, clip["id"]
                assert all(0 <= x < width and 0 <= y < height for _, x, y in clip["path"]), clip["id"]


@pytest.mark.slow
def test_clips_are_built_with_a_person_in_them(clips, built):
    from processing_macm.pose_backends import extract_motion

    for clip_id, path in built.items():
        frames, _ = read_video(path)
        assert frames.shape[1] == 256, clip_id  # upscaled to CLIP_HEIGHT
        label = clips[clip_id]["label"]
        if label["still"] and clips[clip_id].get("handheld"):
            assert len(frames) == 40 and np.abs(frames.astype(int) - frames[:1]).mean() > 2, clip_id  # it shakes
        elif label["still"]:
            assert len(frames) == 30 and np.abs(frames.astype(int) - frames[:1]).mean() < 2, clip_id
        else:
            first, last = clips[clip_id]["frames"]
            assert len(frames) == last - first, clip_id
    # The person is inside the box: MediaPipe finds one in most frames of each pedestrian crop.
    for clip_id in ("vtest-04", "vtest-45"):
        track = extract_motion(built[clip_id], progress=False)
        assert track.valid.mean() >= 0.6, (clip_id, track.valid.mean())


def test_a_hand_held_camera_shakes_the_view_the_same_way_each_time(clips, tmp_path):
    image = np.random.default_rng(0).integers(0, 255, (64, 48, 3), dtype=np.uint8)
    shaken = handheld([image] * 20, seed=3, shake_px=1.5)
    assert len(shaken) == 20 and all(frame.shape == image.shape and frame.dtype == np.uint8 for frame in shaken)
    assert all(np.array_equal(a, b) for a, b in zip(shaken, handheld([image] * 20, seed=3, shake_px=1.5)))
    assert np.abs(shaken[0].astype(int) - shaken[-1]).mean() > 10  # the view moved
    path = tmp_path / "labels.jsonl"
    path.write_text(json.dumps(dict(clips["still-messi5"], handheld={"seed": 0, "shake_px": 9})) + "\n")
    with pytest.raises(ValueError, match=r"line 1 .*handheld must be .* on a still clip"):
        load_labels(path)


def test_scores_count_known_captions(clips):
    walk, talk, still = clips["vtest-04"], clips["carphone"], clips["still-messi5"]
    cases = [
        (walk, "First, the person walks forward at a steady pace. Finally, the person kicks the left leg twice.",
         ["walk", "kick"], ["kick"], True),
        (walk, "The person waves the right arm three times slowly.", ["wave"], ["wave"], False),
        (talk, "The person claps twice quickly.", ["clap"], ["clap"], True),
        (talk, "First, the person waves the left arm twice. Finally, the person squats down once.",
         ["wave", "squat"], ["wave", "squat"], False),
        (still, "The person stands still.", None, [], True),
        (still, "The person jumps twice.", ["jump"], ["jump"], False),
        (still, "A photograph of a football match.", [], [], True),
    ]  # fmt: skip
    scores = []
    for clip, caption, named, invented, passed in cases:
        score = score_caption(clip, caption)
        if named is not None:  # "stands still" is read as the grammar's stillness action, if it has one
            assert score["named"] == named, caption
        assert (score["invented"], score["passed"]) == (invented, passed), caption
        scores.append(score)
    assert "squat" in leg_or_body_actions() and "wave" not in leg_or_body_actions()
    summary = summarize([case[0] for case in cases], scores)
    assert summary["pedestrian"] == {"clips": 2, "passed": 1, "rate": 0.5}
    assert summary["talking"] == {"clips": 2, "passed": 1, "rate": 0.5}
    assert summary["still"] == {"clips": 3, "passed": 2, "rate": 2 / 3}
    assert summary["actions_invented"] == 6 and summary["clips_with_invented"] == 5
    assert summary["invented_rate"] == 6 / summary["actions_named"]


def test_the_direction_named_is_read_as_the_camera_sees_it(clips):
    across = dict(clips["vtest-00"])  # labelled left-to-right
    assert across["label"]["direction"] == "left-to-right"
    captions = {
        "The person walks across the scene from left to right.": "left-to-right",
        "The person walks diagonally away from the camera, then runs toward the camera.": "diagonal",
        "The person runs toward the camera. Then walks from right to left.": "toward",
        "The person waves the left arm.": None,
    }
    scores = [score_caption(across, caption) for caption in captions]
    assert [score["direction"] for score in scores] == list(captions.values())
    unlabelled = dict(across, label=dict(across["label"], direction=None))
    summary = summarize([across] * 4 + [unlabelled], scores + [score_caption(unlabelled, "It walks.")])
    assert summary["direction"] == {"clips": 4, "passed": 1, "rate": 0.25}


def test_a_bad_labels_file_names_its_line(clips, tmp_path):
    bad = dict(clips["vtest-04"], label=dict(clips["vtest-04"]["label"], actions=["moonwalk"]))
    path = tmp_path / "labels.jsonl"
    path.write_text(json.dumps(clips["carphone"]) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(ValueError, match=r"line 2 .*\['moonwalk'\] are not in the caption grammar's vocabulary"):
        load_labels(path)
    beige = dict(clips["vtest-04"], label=dict(clips["vtest-04"]["label"], clothes={"shirt": ["beige"]}))
    path.write_text(json.dumps(beige) + "\n")
    with pytest.raises(ValueError, match=r"line 1 .*label.clothes.shirt must list colours of the palette"):
        load_labels(path)
    too_long = dict(clips["carphone"], frames=[100, 130])  # carphone has 120 frames
    with pytest.raises(ValueError, match="needs frames 100..129 of 'carphone', which ends at frame 119"):
        build_clips([too_long], tmp_path)


@pytest.mark.slow
def test_embedded_model_run_is_scored(clips, built):
    from macm_cli import MACMCaptioner

    captioner = MACMCaptioner.from_pretrained("macm")
    [record] = caption_clips(captioner, [clips["carphone"]], built, use_motion=True)
    assert record["caption"] and record["motion_used"]  # MediaPipe finds the man in the car
    score = score_caption(clips["carphone"], record["caption"])
    assert {key: record[key] for key in score} == score
    # Asked how many times the man in the car squats, jumps, waves, ...: no count is given.
    assert list(record["answers"]) == absent_questions(clips["carphone"])
    assert not [answer for answer in record["answers"].values() if made_up(answer)], record["answers"]
    # Asked what the clip shows: not the whole body, a person who moves, and who stays in the car.
    assert record["looks_right"] == {"framing": True, "moving": True, "travel": True, "motive": True}, record["looks"]


def test_counts_given_for_actions_a_clip_lacks_are_made_up(clips):
    carphone = clips["carphone"]
    questions = absent_questions(carphone)
    assert "How many times does the person squat?" in questions and len(questions) == 12
    assert not any("talk" in question or "turn around" in question for question in questions)  # held, not counted
    faint = f"Once{FAINT}"  # a count the heads barely read, for an action only the question names
    answers = [
        "None: the caption names no squat.",
        "Twice.",
        "No person was found in the video.",
        "Not said: x.",
        faint,
        f"Once{UNNAMED}",  # a count the heads read where the caption names nothing of it
    ]
    assert [made_up(answer) for answer in answers] == [False, True, False, False, True, True]
    assert [hedged(answer) for answer in answers] == [False, False, False, False, True, True]
    score = dict(score_caption(carphone, "The person talks."), answers=dict(zip(questions, answers)))
    summary = summarize([carphone, carphone], [score, dict(score, answers={questions[0]: "Once."})])
    assert (summary["absent_questions"], summary["made_up_answers"], summary["clips_with_made_up"]) == (7, 4, 2)
    assert summary["hedged_answers"] == 2


def test_answers_about_what_a_clip_shows_are_checked_against_its_labels(clips):
    walker, carphone = clips["vtest-00"], clips["carphone"]
    assert walker["label"]["clothes"] == {"shirt": ["black", "brown"], "trousers": ["black"]}
    right = {"framing": "The whole body.", "moving": "Yes: the person walks.", "travel": "Yes: the person walks.",
             "shirt": "Brown.", "trousers": "Black.", "motive": "They are going somewhere: the person walks."}  # fmt: skip
    assert look_checks(walker, right) == dict.fromkeys(LOOK_QUESTIONS, True)
    assert look_checks(walker, {**right, "shirt": "Black or brown."})["shirt"] is False  # one colour, not two
    assert look_checks(carphone, right) == {"framing": False, "moving": True, "travel": False, "motive": False}
    cut = {"framing": "The head and shoulders; the rest of the body is out of frame.", "travel": "No: ...",
           "motive": "They are talking with someone: the person talks."}  # fmt: skip
    assert look_checks(carphone, {**right, **cut}) == dict.fromkeys(("framing", "moving", "travel", "motive"), True)
    nobody = dict.fromkeys(LOOK_QUESTIONS, "No person was found in the video.")
    assert look_checks(walker, nobody) == dict.fromkeys(LOOK_QUESTIONS, False)
    summary = summarize([walker, carphone], [dict(score_caption(walker, "x"), looks_right=look_checks(walker, right)),
                                             dict(score_caption(carphone, "x"), looks_right=look_checks(carphone, right))])  # fmt: skip
    assert summary["looks"] == {"framing": {"clips": 2, "passed": 1}, "moving": {"clips": 2, "passed": 2},
                                "travel": {"clips": 2, "passed": 1}, "shirt": {"clips": 1, "passed": 1},
                                "trousers": {"clips": 1, "passed": 1}, "motive": {"clips": 2, "passed": 1}}  # fmt: skip


@pytest.mark.slow
def test_the_direction_named_is_the_tracks(clips, built):
    """The embedded model's caption of a pedestrian names the direction that the track's facing gives
    (macm_cli/directions.py), whichever the language model would have started; the story retold from the motion heads
    (the default) names it as the facing gives it over the walk's own frames (macm_cli/story.py)."""
    from macm_cli import MACMCaptioner
    from macm_cli.answers import read_heads
    from macm_cli.directions import travel_phrase
    from macm_cli.story import RUN_EVIDENCE
    from processing_macm.segments import slice_track

    captioner = MACMCaptioner.from_pretrained("macm")
    video = built["vtest-45"]
    track = captioner.estimate_motion(video)
    phrase = travel_phrase(track)
    [written] = captioner.caption([video], tracks=[track], ground_story=False)
    assert phrase is not None and phrase in written.caption, (phrase, written.caption)
    reading = read_heads(captioner.model, captioner.processor, track)
    walks = [(first, stop) for action, first, stop in reading.runs(RUN_EVIDENCE, keep={"walk"}) if action == "walk"]
    phrases = {travel_phrase(slice_track(track, reading.frames[f][0], reading.frames[s - 1][1])) for f, s in walks}
    [retold] = captioner.caption([video], tracks=[track])
    assert any(f"walks {walked}" in retold.caption for walked in phrases), (phrases, retold.caption)


@pytest.mark.slow
def test_a_walker_is_named_walking_by_the_motion_heads(clips, built):
    """vtest-18: the embedded model's language model alone calls this pedestrian a runner (session 20, greedy,
    `ground_gait=False`: "runs toward the camera"); its action head reads a walk, and gait grounding
    (modeling_macm/gait_grounding.py) names one."""
    from macm_cli import MACMCaptioner

    captioner = MACMCaptioner.from_pretrained("macm")
    [result] = captioner.caption([built["vtest-18"]], decoding="greedy")
    assert "walk" in named_actions(result.caption) and "run" not in named_actions(result.caption), result.caption
