"""A small byte-level BPE tokenizer trained from text, for models built here from scratch (tests, the
default model trained on HMI-Synth captions). Real checkpoints bring their own tokenizer."""

from collections.abc import Iterable

from transformers import PreTrainedTokenizerFast

from .processing_macm import CHAT_TEMPLATE


SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<video>", "<motion>"]


def train_tokenizer(texts: Iterable[str], vocab_size: int = 1000) -> PreTrainedTokenizerFast:
    """Trains a byte-level BPE tokenizer on `texts` with the special tokens M-ACM needs.

    Pads on the left (batched generation), ends turns with `<|im_end|>` and carries the ChatML template.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        bos_token=None,
        extra_special_tokens={"video_token": "<video>", "motion_token": "<motion>"},
        padding_side="left",
        chat_template=CHAT_TEMPLATE,
    )


__all__ = ["SPECIAL_TOKENS", "train_tokenizer"]
