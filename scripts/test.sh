#!/usr/bin/env bash
# Set up everything (Debian packages, .venv with all extras) and run the whole test suite, slow tests
# included. Extra arguments go to pytest, e.g. `bash scripts/test.sh -m "not slow"` for the quick subset.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
# The house rules first (pyproject.toml's [tool.ruff]): lint and formatting, as transformers checks them.
.venv/bin/ruff check --quiet .
.venv/bin/ruff format --check --quiet .
exec .venv/bin/python -m pytest -n 2 --dist loadgroup -p no:cacheprovider "$@"
