"""`macm export MODEL -o DIR`: a model as one plain folder (config, safetensors weights, processor) that loads with
`AutoModelForImageTextToText.from_pretrained(DIR)` and `AutoProcessor.from_pretrained(DIR)`, no package or
adapter needed. For "macm-135m" that is SmolLM2 with the trained parts added and the LoRA adapter merged."""

import argparse
from pathlib import Path

from . import UserError, check_pretrained


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="macm export", description=__doc__)
    parser.add_argument("model", help='a model name ("macm", "macm-135m") or checkpoint folder')
    parser.add_argument("-o", "--output", required=True, help="the folder to write (must not exist, or be empty)")
    args = parser.parse_args(argv)
    output = Path(args.output)
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise UserError(f"-o {output}: already exists and is not an empty folder; choose a new path.")
    check_pretrained(args.model, "MODEL")

    from modeling_macm import MACMForConditionalGeneration
    from processing_macm import MACMProcessor

    model = MACMForConditionalGeneration.from_pretrained(args.model)
    processor = MACMProcessor.from_pretrained(args.model)
    model.save_pretrained(output)
    processor.save_pretrained(output)
    print(f"{args.model}: {sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters written to {output}")
    return 0
