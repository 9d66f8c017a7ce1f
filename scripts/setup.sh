#!/usr/bin/env bash
# Idempotent set-up: Debian packages, a virtual environment in .venv and this project in it.
#   bash scripts/setup.sh          what `macm caption` needs
#   bash scripts/setup.sh --dev    everything: training, evaluation, the Space, the test suite
# It does nothing the second time unless setup.cfg changed (a stamp file records its hash).
set -euo pipefail
cd "$(dirname "$0")/.."

extras="motion"
apt_pkgs=""
stamp=".setup-stamp"
if [[ "${1:-}" == "--dev" ]]; then
  extras="all,dev"
  # ffmpeg: Gradio's video component; chromium: the browser test; opencv-doc: a real walking video.
  apt_pkgs="ffmpeg chromium opencv-doc"
  stamp=".setup-stamp-dev"
fi

want="$(sha256sum setup.cfg scripts/setup.sh | sha256sum | cut -c1-16)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x .venv/bin/python ]]; then
  exit 0
fi

if [[ -n "$apt_pkgs" ]]; then
  missing=""
  for p in $apt_pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [[ -n "$missing" ]]; then
    echo "setup: installing Debian packages:$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
fi

[[ -x .venv/bin/python ]] || python3 -m venv .venv
echo "setup: installing Python packages [$extras] into .venv" >&2
# torch is pinned to the CPU build on this disk: an unpinned torch pulls a multi-GB CUDA build.
# (pipefail keeps pip's exit status; grep only hides this machine's noisy index warnings)
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[$extras]" 2>&1 \
  | { grep -v "^WARNING: Location" || true; }
.venv/bin/python -m pip check >/dev/null || { .venv/bin/python -m pip check; exit 1; }
echo "$want" > "$stamp"
