#' Split data into training, validation and test sets
#'
#' The training set fits the parameters, the validation set selects the
#' model, the test set estimates how well it generalises. The parts are rows
#' of `data` itself, with its columns, types and row names unchanged.
#'
#' @param data A data frame.
#' @param validation,test Fractions of the rows for the validation and test
#'   sets (the rest is for training).
#' @param stratify Name of a column whose classes keep their proportions in
#'   each part.
#' @param groups Name of a column whose groups stay within one part.
#' @param seed A whole number; the same seed gives the same parts.
#' @return An object of class `dlstat_partition`: a list of three data frames,
#'   `train`, `validation` and `test`.
#' @examplesIf dlstat_available()
#' parts <- partition(iris, validation = 0.2, test = 0.2, stratify = "Species", seed = 1)
#' parts
#' table(parts$test$Species)
#' @export
partition <- function(data, validation = 0.2, test = 0.2, stratify = NULL, groups = NULL,
                      seed = NULL) {
  call <- match.call()
  if (!is.data.frame(data)) {
    .abort("data must be a data frame; got an object of class %s.", paste(class(data), collapse = "/"))
  }
  options <- .given(environment(), c("validation", "test", "stratify", "groups", "seed"))
  wanted <- c(if (is.character(stratify)) stratify, if (is.character(groups)) groups)
  # Python needs only the columns it splits by (all of them if one is misnamed, for its message).
  sent <- if (all(wanted %in% names(data))) data[unique(wanted)] else data
  rows <- .rcall("partition", .encode_frame(sent), .options_dict(options), call = call)
  parts <- lapply(rows[c("train", "validation", "test")], function(spec) {
    data[.decode_frame(spec)[[1L]] + 1L, , drop = FALSE]
  })
  structure(parts, class = "dlstat_partition")
}

#' @export
print.dlstat_partition <- function(x, ...) {
  n <- vapply(x, nrow, integer(1))
  cat("<dlstat partition: train ", n[["train"]], " rows, validation ", n[["validation"]],
      ", test ", n[["test"]], ">\n", sep = "")
  invisible(x)
}
