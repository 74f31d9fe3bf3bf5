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

# `method` of the Python object behind a dlstat result, called without conversion to R.
py_result <- function(x, method) {
  reticulate::py_call(reticulate::import_builtins(convert = FALSE)$getattr(x$py, method))
}

# A pandas DataFrame read through reticulate column by column (lists, no NumPy, no dlstat
# codec), so that R's tables are checked against Python's by an independent path.
py_table <- function(frame) {
  values <- function(series) {
    vapply(reticulate::py_to_r(series$tolist()), function(v) if (is.null(v)) NA_character_
           else as.character(v), "", USE.NAMES = FALSE)
  }
  columns <- as.character(unlist(reticulate::py_to_r(frame$columns$tolist())))
  everything <- reticulate::import_builtins(convert = FALSE)$slice(NULL)
  out <- lapply(seq_along(columns) - 1L, function(j) {
    values(frame$iloc$`__getitem__`(reticulate::tuple(everything, j)))
  })
  names(out) <- columns
  # The codec sends an integer index as 0-based positions, which become R's row numbers.
  positions <- reticulate::py_to_r(reticulate::import("pandas", convert = FALSE)$api$types$
                                     is_integer_dtype(frame$index$dtype))
  index <- values(frame$index)
  list(columns = out, index = if (positions) as.character(as.integer(index) + 1L) else index,
       default_index = inherits(frame$index, "pandas.core.indexes.range.RangeIndex"))
}

# R's tables (data frames) hold the names and values of Python's (a dict of DataFrames).
expect_tables_match <- function(r_tables, py_tables) {
  names_py <- as.character(unlist(reticulate::py_to_r(reticulate::import_builtins(
    convert = FALSE)$list(py_tables))))
  expect_equal(names(r_tables), names_py)
  for (name in names_py) {
    expected <- py_table(reticulate::py_get_item(py_tables, name))
    got <- r_tables[[name]]
    expect_equal(names(got), names(expected$columns), info = name)
    if (!expected$default_index) expect_equal(rownames(got), expected$index, info = name)
    for (column in names(got)) {
      want <- expected$columns[[column]]
      have <- got[[column]]
      if (is.numeric(have)) {
        want <- suppressWarnings(as.numeric(ifelse(want == "True", "1", ifelse(want == "False", "0", want))))
        expect_equal(unname(as.numeric(have)), want, tolerance = 1e-12, info = paste(name, column))
      } else {
        have <- as.character(have)
        have[have %in% c("TRUE", "FALSE")] <- c(`TRUE` = "True", `FALSE` = "False")[have[have %in% c("TRUE", "FALSE")]]
        expect_equal(have, unname(want), info = paste(name, column))
      }
    }
  }
}
