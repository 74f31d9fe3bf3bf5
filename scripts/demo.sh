#!/usr/bin/env bash
# Set up (idempotent) and run the main job: fit a network on built-in data and print its summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh core
.venv/bin/dlstat fit "mpg ~ wt + hp + factor(cyl)" mtcars --hidden 16,8 --penalty 0.001 \
  --epochs 300 --validation 0.2 --early-stopping 30 --seed 1
