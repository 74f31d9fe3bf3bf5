#!/usr/bin/env bash
# The R package at the root of this repository: R CMD build, then R CMD check --no-manual on the
# tarball (which runs the testthat tests and rebuilds the vignette), against the Python in .venv.
# Exits non-zero on any ERROR or WARNING (NOTEs are reported, not fatal).
#
#   bash scripts/r-check.sh            # after scripts/setup.sh test
#   DLSTAT_PYTHON=/path/to/python bash scripts/r-check.sh
#
# Debian packages needed: r-base-core r-cran-reticulate r-cran-generics r-cran-testthat
# r-cran-knitr r-cran-rmarkdown r-cran-roxygen2 pandoc dataset-fashion-mnist.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

python=${DLSTAT_PYTHON:-$root/.venv/bin/python}
if [ ! -x "$python" ]; then
  echo "r-check: no Python at $python; run scripts/setup.sh test first or set DLSTAT_PYTHON" >&2
  exit 2
fi
"$python" -c "import dlstat.fronts.rbridge" || {
  echo "r-check: $python cannot import dlstat.fronts.rbridge; run scripts/setup.sh test" >&2
  exit 2
}
export DLSTAT_PYTHON=$python RETICULATE_PYTHON=$python
export DLSTAT_REQUIRE_PYTHON=true        # tests fail (not skip) when Python is missing
export DLSTAT_VIGNETTE_N=${DLSTAT_VIGNETTE_N:-2000}   # the vignette on a subset
export TF_CPP_MIN_LOG_LEVEL=2 MPLBACKEND=Agg NOT_CRAN=true
export _R_CHECK_FORCE_SUGGESTS_=true _R_CHECK_CRAN_INCOMING_=false
export _R_CHECK_SYSTEM_CLOCK_=0          # no network look-up of the time

work=$(mktemp -d "${TMPDIR:-/tmp}/dlstat-rcheck.XXXXXX")
keep=${DLSTAT_RCHECK_KEEP:-}
trap '[ -n "$keep" ] || rm -rf "$work"' EXIT
start=$(date +%s)

echo "== R CMD build"
(cd "$work" && R CMD build "$root") 2>&1 | tee "$work/build.log"
tarball=$(ls "$work"/dlstat_*.tar.gz)

echo "== R CMD check --no-manual $(basename "$tarball")"
set +e
(cd "$work" && R CMD check --no-manual "$tarball") 2>&1 | tee "$work/check.log"
status=${PIPESTATUS[0]}
set -e

if [ -f "$work/dlstat.Rcheck/tests/testthat.Rout.fail" ]; then
  echo "== testthat output (failed)"; cat "$work/dlstat.Rcheck/tests/testthat.Rout.fail"
elif [ -f "$work/dlstat.Rcheck/tests/testthat.Rout" ]; then
  echo "== testthat summary"; grep -m1 -E "^\[ FAIL" "$work/dlstat.Rcheck/tests/testthat.Rout" || true
fi
echo "== R check took $(( $(date +%s) - start )) s"

problems=$(grep -E "^\* .*\.\.\. *(ERROR|WARNING)$|^ *(ERROR|WARNING)$" "$work/check.log" || true)
if [ "$status" -ne 0 ] || [ -n "$problems" ] || ! grep -q "^Status: " "$work/check.log"; then
  echo "r-check: R CMD check failed:" >&2
  echo "$problems" >&2
  keep=1
  echo "r-check: logs kept in $work/dlstat.Rcheck" >&2
  exit 1
fi
if grep -q "^Status: .*\(ERROR\|WARNING\)" "$work/check.log"; then
  keep=1
  echo "r-check: R CMD check reported errors or warnings; logs kept in $work/dlstat.Rcheck" >&2
  exit 1
fi
grep -A6 "NOTE$" "$work/check.log" || true
echo "r-check: OK ($(grep '^Status: ' "$work/check.log"))"
