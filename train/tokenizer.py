"""A small byte-level BPE tokenizer trained from text, for models built here from scratch (tests, the
default model trained on HMI-Synth captions). Real checkpoints bring their own tokenizer."""

from collections.abc import Iterable

from transformers import PreTrainedTokenizerFast

from processing_macm.processing_macm import CHAT_TEMPLATE, MOTION_TOKEN, VIDEO_TOKEN

PAD_TOKEN, TURN_START, TURN_END = "<|endoftext|>", "<|im_start|>", "<|im_end|>"
SPECIAL_TOKENS = [PAD_TOKEN, TURN_START, TURN_END, VIDEO_TOKEN, MOTION_TOKEN]


def train_tokenizer(texts: Iterable[str], vocab_size: int = 1000) -> PreTrainedTokenizerFast:
    """Trains a byte-level BPE tokenizer on `texts` with the special tokens M-ACM needs.

    Pads on the left (batched generation), ends turns with `<|im_end|>`, carries the ChatML template and names
    its placeholders (`tokenizer.video_token`, `tokenizer.motion_token`), which the processor reads.
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
        eos_token=TURN_END,
        pad_token=PAD_TOKEN,
        bos_token=None,
        extra_special_tokens={"video_token": VIDEO_TOKEN, "motion_token": MOTION_TOKEN},
        padding_side="left",
        chat_template=CHAT_TEMPLATE,
    )


__all__ = ["SPECIAL_TOKENS", "train_tokenizer"]
