#!/usr/bin/env bash
# Idempotent set-up in layers; each layer includes the ones before it.
#
#   bash scripts/setup.sh core   # .venv with dlstat (editable) and its requirements, TensorFlow
#                                # among them: all that dnn(), the CLI and scripts/demo.sh need
#   bash scripts/setup.sh test   # + Debian's R (reticulate, testthat, glmnet, MASS, survival,
#                                # mlbench, Biostrings, knitr, rmarkdown, pandoc) and
#                                # Fashion-MNIST; the r (rpy2), dask and dev extras: the tests
#   bash scripts/setup.sh docs   # + pkgdown, pkgload, Chromium and its driver; the docs extra
#   bash scripts/setup.sh        # all layers (= docs)
#
# Debian packages are installed only when missing, after one `apt-get update` (as root;
# otherwise the missing ones are named).  pip runs again only when
# pyproject.toml or the layer changed (a stamp in .venv records what was installed).
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages of each layer (the core layer needs none beyond Python's venv).
test_apt=(dataset-fashion-mnist r-base-core r-base-dev r-cran-reticulate r-cran-glmnet r-cran-mass
          r-cran-survival r-cran-mlbench r-bioc-biostrings r-cran-testthat r-cran-generics
          r-cran-roxygen2 r-cran-knitr r-cran-rmarkdown pandoc)
docs_apt=("${test_apt[@]}" r-cran-pkgdown r-cran-pkgload chromium chromium-driver)

layer=${1:-all}
case "$layer" in
  core) apt_packages=(); extras="" ;;
  test) apt_packages=("${test_apt[@]}"); extras="dev,r,dask" ;;
  docs|all) layer=docs; apt_packages=("${docs_apt[@]}"); extras="dev,r,dask,docs" ;;
  *) echo "setup: unknown layer '$layer'; use core, test, docs or all" >&2; exit 2 ;;
esac

missing=()
for p in "${apt_packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: please install Debian packages: ${missing[*]} (sudo apt-get install ...)" >&2
  fi
fi

# pip runs only when pyproject.toml changed or this layer asks for an extra not yet installed:
# .venv/.dlstat-setup holds the hash of pyproject.toml and the extras installed from it.
stamp=.venv/.dlstat-setup
digest=$(sha256sum pyproject.toml | cut -d' ' -f1)
up_to_date() {
  [ -x .venv/bin/python ] && [ -f "$stamp" ] || return 1
  local stamped_digest stamped_extras e
  read -r stamped_digest stamped_extras <"$stamp" || true
  [ "$stamped_digest" = "$digest" ] || return 1
  for e in ${extras//,/ }; do
    case ",$stamped_extras," in *",$e,"*) ;; *) return 1 ;; esac
  done
  .venv/bin/python -c "import dlstat" 2>/dev/null
}
if up_to_date; then
  echo "setup: .venv is up to date for the $layer layer"
else
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".${extras:+[$extras]}"
  echo "$digest $extras" >"$stamp"
fi
.venv/bin/python -c "import dlstat; print('dlstat', dlstat.__version__, 'ready in .venv')"
