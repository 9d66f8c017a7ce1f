"""Mirroring (train/augment.py): the mirrored clip's motion is on the other side, in the track, in the
kinematic features the model reads, and in the words of its caption."""

import dataclasses

import numpy as np
import pytest
import torch
from train_helpers import arm_track
from utils import moving_square_frames, tiny_config, tiny_processor

from dataset_scripts.schema import track_to_row
from processing_macm import write_video
from processing_macm.kinematic import kinematic_features, mirror_feature_map
from processing_macm.motion_track import SMPL_JOINT_NAMES
from train.augment import follow_person, jitter_motion, mirror_frames, mirror_text, mirror_track, perturb_track
from train.collator import MACMCollator

LEFT_WRIST, RIGHT_WRIST = SMPL_JOINT_NAMES.index("left_wrist"), SMPL_JOINT_NAMES.index("right_wrist")


def wrist_speed(features: np.ndarray, joint: int) -> float:
    velocity = features[:, 66:132].reshape(len(features), 22, 3)[:, joint]  # [T, 3] in the facing frame
    return float(np.linalg.norm(velocity, axis=-1).mean())


def test_mirroring_moves_the_motion_to_the_other_side_of_the_features():
    track = arm_track(30, speed=2, seed=0)  # the left wrist swings
    features, _ = kinematic_features(track)
    mirrored, _ = kinematic_features(mirror_track(track))
    assert wrist_speed(features, LEFT_WRIST) > 10 * wrist_speed(features, RIGHT_WRIST)
    assert wrist_speed(mirrored, RIGHT_WRIST) > 10 * wrist_speed(mirrored, LEFT_WRIST)
    assert wrist_speed(mirrored, RIGHT_WRIST) == pytest.approx(wrist_speed(features, LEFT_WRIST), rel=1e-4)


@pytest.mark.parametrize("version", [1, 2, 3])
def test_the_mirror_of_the_features_is_the_features_of_the_mirror(version):
    track = arm_track(30, speed=2, seed=3)
    index, sign = mirror_feature_map(version)
    features, valid = kinematic_features(track, version=version)
    mirrored, mirrored_valid = kinematic_features(mirror_track(track), version=version)
    np.testing.assert_array_equal(valid, mirrored_valid)
    assert sorted(index) == list(range(features.shape[1]))
    np.testing.assert_allclose(sign * features[:, index], mirrored, atol=1e-3)
    assert not np.allclose(features, mirrored, atol=1e-3)


def test_mirroring_twice_is_the_identity_and_flips_image_x():
    track = arm_track(12, speed=1, seed=1)
    once, twice = mirror_track(track), mirror_track(mirror_track(track))
    np.testing.assert_allclose(twice.keypoints_2d, track.keypoints_2d, atol=1e-4)
    np.testing.assert_array_equal(twice.joints_3d, track.joints_3d)
    # MediaPipe landmark 11 is the left shoulder, 12 the right one.
    np.testing.assert_allclose(
        once.keypoints_2d[:, 12, 0], track.frame_size[0] - track.keypoints_2d[:, 11, 0], atol=1e-4
    )
    frames = np.arange(2 * 2 * 3 * 3, dtype=np.uint8).reshape(2, 2, 3, 3)
    np.testing.assert_array_equal(mirror_frames(frames)[:, :, 0], frames[:, :, -1])


def test_mirror_text_swaps_sides_and_keeps_case():
    assert (
        mirror_text("Left arm up, then the right leg kicks; turning left.")
        == "Right arm up, then the left leg kicks; turning right."
    )
    assert mirror_text("A bright leftover.") == "A bright leftover."


def _kinematic_example(tokenizer, folder, prompt: str, answer: str):
    """A tiny kinematic processor and one training example (a square's video, an arm track)."""
    processor = tiny_processor(tokenizer, tiny_config(tokenizer, "kinematic"))
    video = write_video(folder / "v.mp4", moving_square_frames(12, seed=0), fps=10)
    motion = track_to_row(arm_track(12, 1, 0))
    return processor, {"id": "a", "video": str(video), "prompt": prompt, "answer": answer, "motion": motion}


def test_the_collator_mirrors_prompt_answer_and_motion(tokenizer, tmp_path):
    processor, example = _kinematic_example(tokenizer, tmp_path, "Which arm?", "The left arm.")
    plain = MACMCollator(processor)([example])
    mirrored = MACMCollator(processor, mirror_prob=1.0)([example])

    def answer(batch):
        return processor.tokenizer.decode(batch["input_ids"][0][batch["labels"][0] != -100], skip_special_tokens=True)

    assert "left" in answer(plain) and "right" in answer(mirrored)
    assert not torch.equal(plain["motion_features"], mirrored["motion_features"])
    with pytest.raises(ValueError, match="mirror_prob"):
        MACMCollator(processor, mirror_prob=1.5)


def test_jitter_adds_noise_and_hides_frames():
    features, valid = torch.ones(4, 50, 8), torch.ones(4, 50, dtype=torch.long)
    valid[:, 40:] = 0  # padding stays padding
    jittered, seen = jitter_motion(
        features, valid, noise=0.1, frame_drop=0.2, generator=torch.Generator().manual_seed(0)
    )
    assert seen.dtype == torch.bool and not seen[:, 40:].any()
    assert 0.6 < seen[:, :40].float().mean() < 0.95  # about 80% of the valid frames kept
    assert (jittered[~seen] == 0).all()  # a hidden frame carries nothing, as masked frames do
    kept = jittered[seen]
    assert 0.05 < (kept - 1).std() < 0.15 and not torch.equal(kept, torch.ones_like(kept))


def test_the_collator_jitters_only_the_motion(tokenizer, tmp_path):
    processor, example = _kinematic_example(tokenizer, tmp_path, "What?", "A wave.")
    plain = MACMCollator(processor)([example])
    jittered = MACMCollator(processor, motion_jitter=True)([example])
    assert not torch.equal(plain["motion_features"], jittered["motion_features"])
    for name in ("input_ids", "labels", "pixel_values_videos"):
        assert torch.equal(plain[name], jittered[name])
    with pytest.raises(ValueError, match="motion_jitter needs a kinematic model"):
        MACMCollator(tiny_processor(tokenizer, tiny_config(tokenizer)), motion_jitter=True)


def test_perturbing_scales_the_movement_and_keeps_the_rest():
    track = arm_track(30, speed=2, seed=0)  # the left wrist swings
    doubled = perturb_track(track, np.random.default_rng(0), gain=(2.0, 2.0), noise=0.0, follow=0.0)
    features, _ = kinematic_features(track)
    assert wrist_speed(kinematic_features(doubled)[0], LEFT_WRIST) == pytest.approx(
        2 * wrist_speed(features, LEFT_WRIST), rel=1e-3
    )
    np.testing.assert_array_equal(doubled.joints_3d[:, 0], track.joints_3d[:, 0])  # the pelvis and its travel
    np.testing.assert_array_equal(doubled.keypoints_2d, track.keypoints_2d)
    np.testing.assert_array_equal(doubled.valid, track.valid)
    noisy = kinematic_features(perturb_track(track, np.random.default_rng(1)))[0]
    assert not np.allclose(noisy, features)
    assert wrist_speed(noisy, LEFT_WRIST) > 2 * wrist_speed(noisy, RIGHT_WRIST)  # still the left arm


def test_following_the_person_removes_the_travel_across_the_image():
    track = arm_track(30, speed=2, seed=0)
    keypoints = track.keypoints_2d.copy()  # [T, 33, 3]
    keypoints[..., :2] = keypoints[:1, :, :2]  # one pose ...
    keypoints[..., 0] += np.linspace(0, 20, 30)[:, None]  # ... drifting 20 px to the right
    walking = dataclasses.replace(track, keypoints_2d=keypoints)

    def root_speed(t):
        return float(np.linalg.norm(kinematic_features(t)[0][:, 198:201], axis=1).mean())

    followed, half = follow_person(walking), follow_person(walking, 0.5)
    assert root_speed(walking) > 0.1 and root_speed(followed) < 1e-4
    assert root_speed(half) == pytest.approx(0.5 * root_speed(walking), rel=0.02)
    np.testing.assert_allclose(
        followed.keypoints_2d[:, :, :2].mean((0, 1)), keypoints[:, :, :2].mean((0, 1)), rtol=1e-5
    )
    np.testing.assert_array_equal(followed.keypoints_2d[..., 2], walking.keypoints_2d[..., 2])
    np.testing.assert_array_equal(followed.joints_3d, walking.joints_3d)
    # perturb_track follows about `follow` of the tracks
    drawn = [perturb_track(walking, np.random.default_rng(seed), noise=0.0) for seed in range(200)]
    share = np.mean([not np.array_equal(t.keypoints_2d, walking.keypoints_2d) for t in drawn])
    assert 0.2 < share < 0.4


def test_the_collator_perturbs_only_the_motion(tokenizer, tmp_path):
    processor, example = _kinematic_example(tokenizer, tmp_path, "What?", "A wave.")
    plain = MACMCollator(processor)([example])
    perturbed = MACMCollator(processor, perturb_tracks=True)([example])
    assert not torch.equal(plain["motion_features"], perturbed["motion_features"])
    for name in ("input_ids", "labels", "pixel_values_videos", "motion_attention_mask"):
        assert torch.equal(plain[name], perturbed[name])
    with pytest.raises(ValueError, match="perturb_tracks needs a kinematic model"):
        MACMCollator(tiny_processor(tokenizer, tiny_config(tokenizer)), perturb_tracks=True)
