"""transformers' own common model tests (`ModelTesterMixin`, `ConfigTester` of the installed release, fetched
from its source distribution: see `utils.import_transformers_tests`), run on M-ACM as transformers runs them on
LLaVA-OneVision (tests/models/llava_onevision/test_modeling_llava_onevision.py), for both motion pathways.

The sdist does not ship `tests/generation/test_utils.py`, so `GenerationTesterMixin` cannot run here; the
generation behaviour it would cover for this model (inputs_embeds, assisted decoding, static cache, placeholders
never generated) is tested in test_modeling_generation.py instead.
"""

import unittest

import pytest
import torch
import transformers
from transformers.models.auto.modeling_auto import MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES, MODEL_MAPPING_NAMES
from transformers.testing_utils import torch_device
from utils import import_transformers_tests

from modeling_macm import MACMConfig, MACMForConditionalGeneration, MACMModel

try:
    import_transformers_tests(transformers.__version__)
except RuntimeError as error:  # the package registry is out of reach and nothing is cached: nothing to run
    pytest.skip(str(error), allow_module_level=True)
from transformers_tests.test_configuration_common import ConfigTester  # noqa: E402
from transformers_tests.test_modeling_common import ModelTesterMixin, floats_tensor, ids_tensor  # noqa: E402

pytestmark = pytest.mark.slow

# The common tests read each class's role (base model: no loss; image-text-to-text head: per-sample pooled
# features) from transformers' tables of its own models, which `AutoModel.register` does not extend: list
# M-ACM there as an in-library model would be.
MODEL_MAPPING_NAMES.setdefault(MACMConfig.model_type, MACMModel.__name__)
MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES.setdefault(MACMConfig.model_type, MACMForConditionalGeneration.__name__)

PAD, VIDEO, MOTION = 0, 1, 2  # token ids of the tester's vocabulary; text tokens are drawn above them


class MACMModelTester:
    """Tiny configs and inputs for the common tests: `batch_size` prompts, each `<video>` × (frames × 1 + newline),
    `<motion>` × its pathway's tokens, then text."""

    def __init__(self, parent, motion_representation: str):
        self.parent = parent
        self.motion_representation = motion_representation
        # 7: `test_eager_matches_sdpa_inference` pads smaller batches with random ids, which would hold placeholders
        # without features (this model refuses that; LLaVA embeds them as text).
        self.batch_size = 7
        self.num_frames = 2
        self.num_keyframes = 2
        self.motion_num_tokens = 3
        self.motion_frames = 6
        self.motion_feature_size = 10
        self.text_length = 7
        self.is_training = True
        self.vision_config = {
            "model_type": "siglip_vision_model",
            "image_size": 16,
            "patch_size": 8,
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "vision_use_head": False,
        }
        self.text_config = {
            "model_type": "qwen2",
            "vocab_size": 99,
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "max_position_embeddings": 64,
            "pad_token_id": PAD,
            "eos_token_id": 3,
        }
        self.vocab_size = self.text_config["vocab_size"]
        self.hidden_size = self.text_config["hidden_size"]
        self.num_hidden_layers = self.text_config["num_hidden_layers"]
        self.num_attention_heads = self.text_config["num_attention_heads"]
        config = self.get_config()
        self.num_video_tokens = config.video_tokens(self.num_frames)
        self.num_motion_tokens = config.motion_tokens_per_clip
        self.seq_length = self.num_video_tokens + self.num_motion_tokens + self.text_length

    def get_config(self) -> MACMConfig:
        return MACMConfig(
            vision_config=self.vision_config,
            text_config=self.text_config,
            video_token_id=VIDEO,
            motion_token_id=MOTION,
            motion_representation=self.motion_representation,
            num_keyframes=self.num_keyframes,
            motion_feature_size=self.motion_feature_size,
            motion_max_frames=self.motion_frames,
            motion_num_tokens=self.motion_num_tokens,
            motion_hidden_size=16,
            motion_num_layers=1,
            motion_num_heads=2,
        )

    def motion_inputs(self) -> dict[str, torch.Tensor]:
        size = self.vision_config["image_size"]
        if self.motion_representation == "overlay":
            return {"motion_pixel_values": floats_tensor([self.batch_size, self.num_keyframes, 3, size, size])}
        return {
            "motion_features": floats_tensor([self.batch_size, self.motion_frames, self.motion_feature_size]),
            "motion_attention_mask": torch.ones(self.batch_size, self.motion_frames, dtype=torch.long),
        }

    def prepare_config_and_inputs_for_common(self):
        config = self.get_config()
        size = self.vision_config["image_size"]
        input_ids = ids_tensor([self.batch_size, self.seq_length], self.vocab_size - 4) + 4
        input_ids[:, : self.num_video_tokens] = VIDEO
        input_ids[:, self.num_video_tokens : self.num_video_tokens + self.num_motion_tokens] = MOTION
        labels = input_ids.masked_fill(input_ids < 4, -100)  # no loss on the placeholders
        inputs = {
            "input_ids": input_ids,
            "attention_mask": torch.ones_like(input_ids),
            "labels": labels,
            "pixel_values_videos": floats_tensor([self.batch_size, self.num_frames, 3, size, size]),
            **self.motion_inputs(),
        }
        return config, {name: value.to(torch_device) for name, value in inputs.items()}


class MACMCommonTests(ModelTesterMixin):
    """The mixin's tests, less those that do not apply (each skip says why)."""

    all_model_classes = (MACMModel, MACMForConditionalGeneration)
    pipeline_model_mapping = {}
    _is_composite = True
    # Inputs `test_eager_matches_sdpa_inference` passes besides `input_ids` (the placeholders need their features).
    additional_model_inputs = [
        "pixel_values_videos",
        "motion_pixel_values",
        "motion_features",
        "motion_attention_mask",
    ]
    motion_representation: str

    def setUp(self):
        self.model_tester = MACMModelTester(self, self.motion_representation)
        self.config_tester = ConfigTester(
            self, config_class=MACMConfig, has_text_modality=False, common_properties=["video_token_id"]
        )

    def test_config(self):
        self.config_tester.run_common_tests()

    # LLaVA-OneVision's overrides: with `inputs_embeds` the placeholders are read from the embeddings, so the
    # video and motion inputs stay (LLaVA deletes its pixels instead: it tolerates placeholders without features).
    def test_inputs_embeds_matches_input_ids(self):
        config, inputs_dict = self.model_tester.prepare_config_and_inputs_for_common()
        for model_class in self.all_model_classes:
            model = model_class(config).to(torch_device).eval()
            inputs = self._prepare_for_class(inputs_dict, model_class)
            input_ids = inputs.pop("input_ids")
            inputs_embeds = model.get_input_embeddings()(input_ids)
            with torch.no_grad():
                out_ids = model(input_ids=input_ids, **inputs)[0]
                out_embeds = model(inputs_embeds=inputs_embeds, **inputs)[0]
            torch.testing.assert_close(out_embeds, out_ids)

    @unittest.skip("GenerationTesterMixin is not in transformers' sdist; generation: test_modeling_generation.py")
    def test_generation_tester_mixin_inheritance(self):
        pass

    # One test per RoPE type (`parameterized` names them).
    test_model_rope_scaling_from_config_0_linear = test_model_rope_scaling_from_config_1_dynamic = (
        test_model_rope_scaling_from_config_2_yarn
    ) = unittest.skip(
        "Feeds random ids of the whole vocabulary, placeholders included, with no video or motion: this model "
        "refuses placeholders without features (LLaVA embeds them as text). RoPE is the language model's (Qwen2)"
    )(lambda self: None)

    @unittest.skip(
        "As LLaVA-OneVision: the SigLIP tower's gradients under gradient checkpointing are not computed standalone"
    )
    def test_training_gradient_checkpointing(self):
        pass

    @unittest.skip(
        "As LLaVA-OneVision: the SigLIP tower's gradients under gradient checkpointing are not computed standalone"
    )
    def test_training_gradient_checkpointing_use_reentrant_false(self):
        pass

    @unittest.skip(
        "As LLaVA-OneVision: the SigLIP tower's gradients under gradient checkpointing are not computed standalone"
    )
    def test_training_gradient_checkpointing_use_reentrant_true(self):
        pass


class MACMKinematicCommonTest(MACMCommonTests, unittest.TestCase):
    motion_representation = "kinematic"


class MACMOverlayCommonTest(MACMCommonTests, unittest.TestCase):
    motion_representation = "overlay"
