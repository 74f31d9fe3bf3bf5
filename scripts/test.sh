#!/usr/bin/env bash
# Set up (idempotent) and run every test: pytest (Python, including the rpy2 bridge and the
# glmnet comparisons), then R CMD build + check of the R package (its testthat tests and the
# vignette). Arguments go to pytest. Exits non-zero when any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
.venv/bin/python -m pytest -q "$@"
bash scripts/r-check.sh
