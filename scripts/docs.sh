#!/usr/bin/env bash
# Build the documentation: the Python site (Sphinx, warnings as errors, tutorials executed) into
# docs/_build/html and the R package's pkgdown site into docs/_build/html/r (linked from it),
# then check both in headless Chromium (tests/test_docs_site.py; screenshots in
# docs/_build/screenshots).  Sets up first (scripts/setup.sh docs: R, pkgdown, Chromium, the
# docs extra), unless DLSTAT_PYTHON names a Python that has them.
#
#   bash scripts/docs.sh                          # build both sites and run the browser test
#   DLSTAT_DOCS_SKIP_R=1 bash scripts/docs.sh     # the Python site only
#   DLSTAT_PYTHON=/path/to/python bash scripts/docs.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
[ -n "${DLSTAT_PYTHON:-}" ] || bash scripts/setup.sh docs
python=${DLSTAT_PYTHON:-$root/.venv/bin/python}
export DLSTAT_PYTHON=$python RETICULATE_PYTHON=$python
export PYTHONPATH=$root${PYTHONPATH:+:$PYTHONPATH}
export MPLBACKEND=Agg TF_CPP_MIN_LOG_LEVEL=2 DLSTAT_VIGNETTE_N=${DLSTAT_VIGNETTE_N:-2000}
out=docs/_build/html
start=$(date +%s)

echo "== Sphinx (-W, nitpicky): $out"
"$python" -m sphinx -W --keep-going -n -q -b html docs "$out"
echo "== Python site took $(( $(date +%s) - start )) s"

if [ -z "${DLSTAT_DOCS_SKIP_R:-}" ]; then
  r_start=$(date +%s)
  echo "== pkgdown: $out/r"
  # Installed into a private library, so that code on the pages linking dlstat resolves
  # locally (downlit would ask CRAN about a package it cannot find; the build is offline).
  # devel = TRUE: examples and vignettes run in this process over pkgload::load_all(); they
  # reach Python through DLSTAT_PYTHON.
  rlib=$(mktemp -d "${TMPDIR:-/tmp}/dlstat-rlib.XXXXXX")
  trap 'rm -rf "$rlib"' EXIT
  R CMD INSTALL --no-test-load -l "$rlib" . >"$rlib/install.log" 2>&1 || {
    cat "$rlib/install.log" >&2; exit 1; }
  R_LIBS="$rlib${R_LIBS:+:$R_LIBS}" Rscript -e 'pkgdown::build_site(".", preview = FALSE,
    new_process = FALSE, install = FALSE, devel = TRUE)'
  # pkgdown links Font Awesome's icon stylesheets from a CDN (the site must work offline and
  # shows no icon it needs), and without a logo its reference pages hold an empty
  # <img src="">: both go (tests/test_docs_site.py checks for them).
  find "$out/r" -name '*.html' -exec sed -i -E \
    -e 's#<link rel="stylesheet" href="https://cdnjs\.cloudflare\.com/ajax/libs/font-awesome/[^>]*>##g' \
    -e 's#<img src="" class="logo" alt="">##g' {} +
  echo "== R site took $(( $(date +%s) - r_start )) s"
fi

echo "== browser check (headless Chromium)"
DLSTAT_DOCS_BUILT=1 "$python" -m pytest -q tests/test_docs_site.py
echo "== docs took $(( $(date +%s) - start )) s"
