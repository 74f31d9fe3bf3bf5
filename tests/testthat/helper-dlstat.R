# Find the dlstat Python for the tests: DLSTAT_PYTHON or RETICULATE_PYTHON if set (CI sets them in
# scripts/r-check.sh), else the .venv of the source checkout these tests run from.
if (!nzchar(Sys.getenv("DLSTAT_PYTHON")) && !nzchar(Sys.getenv("RETICULATE_PYTHON"))) {
  for (up in c("..", "../..", "../../..", "../../../..")) {
    bin <- file.path(up, ".venv", "bin")
    if (file.exists(file.path(bin, "python"))) {
      Sys.setenv(DLSTAT_PYTHON = file.path(normalizePath(bin), "python"))
      break
    }
  }
}
Sys.setenv(TF_CPP_MIN_LOG_LEVEL = "2", MPLBACKEND = "Agg")

# With DLSTAT_REQUIRE_PYTHON=true (CI) a missing Python is a failure, not a skip.
skip_if_no_python <- function() {
  if (identical(tolower(Sys.getenv("DLSTAT_REQUIRE_PYTHON")), "true")) return(invisible(TRUE))
  testthat::skip_if_not(dlstat_available(), "the dlstat Python package is not available")
}

dl_py <- function() reticulate::import("dlstat", convert = FALSE)

# Run `code` with a function of the dlstat namespace replaced.
with_replaced <- function(name, value, code) {
  old <- get(name, envir = asNamespace("dlstat"))
  utils::assignInNamespace(name, value, ns = "dlstat")
  on.exit(utils::assignInNamespace(name, old, ns = "dlstat"))
  force(code)
}

# Types of every kind, with NA in each column and row names.
all_types <- function() {
  data.frame(
    num = c(1.5, NA, -3, 2),
    int = c(1L, NA, 3L, 4L),
    lgl = c(TRUE, NA, FALSE, TRUE),
    chr = c("a", NA, "b", "a"),
    fac = factor(c("z", NA, "a", "z"), levels = c("z", "a", "m")),
    ord = factor(c("lo", "hi", NA, "mid"), levels = c("lo", "mid", "hi"), ordered = TRUE),
    date = as.Date(c("2020-01-01", NA, "1969-12-31", "2000-02-29")),
    stringsAsFactors = FALSE, row.names = c("r1", "r2", "r3", "r4")
  )
}

glm_fit <- function(formula = mpg ~ wt + hp, data = mtcars, ...) {
  dnn(formula, data = data, hidden = c(), optimizer = "lbfgs", ...)
}
