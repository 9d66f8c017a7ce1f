"""M-ACM model classes, registered with the transformers Auto classes (and `MACMProcessor` with
AutoProcessor) on import.

`save_pretrained` also writes `auto_map` and copies this folder's code, so that a checkpoint loads with
`trust_remote_code=True` where this package is not installed.
"""

from transformers import AutoConfig, AutoModel, AutoModelForImageTextToText, AutoProcessor

from processing_macm import MACMProcessor

from .configuration_macm import MACMConfig
from .modeling_macm import EMBEDDED_MODEL_DIR, MACMForConditionalGeneration, MACMModel, MACMPreTrainedModel

AutoConfig.register(MACMConfig.model_type, MACMConfig, exist_ok=True)
AutoModel.register(MACMConfig, MACMModel, exist_ok=True)
AutoModelForImageTextToText.register(MACMConfig, MACMForConditionalGeneration, exist_ok=True)
AutoProcessor.register(MACMConfig, MACMProcessor, exist_ok=True)
MACMConfig.register_for_auto_class()
MACMModel.register_for_auto_class("AutoModel")
MACMForConditionalGeneration.register_for_auto_class("AutoModelForImageTextToText")

__all__ = ["EMBEDDED_MODEL_DIR", "MACMConfig", "MACMForConditionalGeneration", "MACMModel", "MACMPreTrainedModel"]
