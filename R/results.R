# Every result (fit, cross-validation, path, comparison) is summarised in Python, which computes
# every number; R converts its tables and prints its text with R's own call.

#' Summaries and broom-style tables of every dlstat result
#'
#' Fits ([dnn()]), cross-validations ([cv_dnn()]), regularisation paths
#' ([dnn_path()]) and comparisons ([compare()]) are all `dlstat_result`s and
#' share these methods. The Python package computes every number: `summary()`
#' gives its `title`, named `tables` (data frames) and numbered `notes`, and
#' prints Python's text of them with the R call; `tidy()` and `glance()` are
#' its broom-style tables. Printing a cross-validation, path or comparison
#' prints its summary.
#'
#' @param object,x A dlstat result.
#' @param ... Not used.
#' @return `summary()` an object of class `summary.<class>` and
#'   `dlstat_summary` (see [print.dlstat_summary()]); `tidy()` and `glance()`
#'   data frames; `print()` `x`, invisibly.
#' @name dlstat_result
NULL

#' @rdname dlstat_result
#' @export
summary.dlstat_result <- function(object, ...) {
  s <- .rcall("summary", .py(object), .call_text(object))
  structure(list(title = s$title, call = object$call, python_call = s$call,
                 tables = lapply(s$tables, .decode_frame), notes = as.character(unlist(s$notes)),
                 text = s$text),
            class = c(paste0("summary.", class(object)[1L]), "dlstat_summary"))
}

#' @rdname dlstat_result
#' @export
tidy.dlstat_result <- function(x, ...) {
  .decode_frame(.rcall("tidy", .py(x), call = .method_call("tidy")))
}

#' @rdname dlstat_result
#' @export
glance.dlstat_result <- function(x, ...) {
  .decode_frame(.rcall("glance", .py(x), call = .method_call("glance")))
}

#' @rdname dlstat_result
#' @export
print.dlstat_result <- function(x, ...) {
  print(summary(x))
  invisible(x)
}

# Python's augment(data) binds per-row values; R binds the added columns to its own frame.
.augment_of <- function(x, data) {
  if (is.null(data)) {
    .abort("augment() needs the data: this %s keeps none; pass data =.", class(x)[1L])
  }
  added <- .decode_frame(.rcall("augment", .py(x), .encode_frame(data),
                                call = .method_call("augment")))
  for (name in names(added)) data[[name]] <- added[[name]]
  data
}

.call_text <- function(x) {
  if (is.null(x$call)) x$python_call else paste(deparse(x$call), collapse = "\n")
}

#' Print the summary of a dlstat result
#'
#' Every summary (of [dnn()], [cv_dnn()], [dnn_path()] and [compare()]
#' results) is computed by the Python package: a `title`, the `call`, named
#' `tables` (data frames) and numbered `notes`. Printing shows Python's text
#' of those tables, with the R call.
#'
#' @param x A summary, e.g. `summary(fit)`.
#' @param ... Not used.
#' @return `x`, invisibly.
#' @export
print.dlstat_summary <- function(x, ...) {
  cat(x$text, "\n", sep = "")
  invisible(x)
}
