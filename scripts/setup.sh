#!/usr/bin/env bash
# Idempotent set-up: Debian packages (Fashion-MNIST; R with mlbench and Biostrings for the
# sequence data, glmnet, reticulate and testthat for
# the R package and the glmnet comparisons; pkgdown, Chromium and its driver for the
# documentation), a virtual environment in .venv, and dlstat installed into it in editable mode
# (TensorFlow is a regular dependency) with its R-bridge, Dask, documentation and development extras.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(dataset-fashion-mnist r-base-core r-base-dev r-cran-glmnet r-cran-mass r-cran-survival r-cran-reticulate
              r-cran-mlbench r-bioc-biostrings
              r-cran-testthat r-cran-generics r-cran-roxygen2 r-cran-knitr r-cran-rmarkdown
              pandoc r-cran-pkgdown r-cran-pkgload chromium chromium-driver)
missing=()
for p in "${apt_packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: please install Debian packages: ${missing[*]} (sudo apt-get install ...)" >&2
  fi
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[dev,r,dask,docs]"
.venv/bin/python -c "import dlstat, sys; print('dlstat', dlstat.__version__, 'ready in .venv')"
