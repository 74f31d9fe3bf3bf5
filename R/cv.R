#' k-fold cross-validation of a network
#'
#' Every fold's network is trained at once (one TensorFlow call for all
#' folds); each fold's design (factor levels, standardisation) is learned on
#' its training rows only, and the held-out fold is never seen in training or
#' stopping.
#'
#' `data` may be a named list holding an image or sequence array, as for
#' [dnn()] (e.g. `list(label = y, image = x)`): the folds split the
#' observations (the first dimension of the array; `foldid` gives one fold
#' per observation) and all folds' networks still train as one stack.
#'
#' @inheritParams dnn
#' @param folds Number of folds.
#' @param repeats Repeated k-fold: independent fold assignments.
#' @param stratify Name of a column whose classes keep their proportions in
#'   every fold.
#' @param groups Name of a column whose groups are never split across folds.
#' @param foldid Your own fold of every row (1, 2, ..., as `cv.glmnet`'s
#'   `foldid`); overrides `folds`.
#' @param seed A whole number; the same seed gives the same folds and networks.
#' @param ... Options of [dnn()] (`hidden`, `penalty`, `epochs`, ...).
#' @return An object of class `dlstat_cv`: a list with `metrics` (one row per
#'   fold), `summary` (mean, sd and standard error of each metric),
#'   `predictions` (out-of-fold predictions for every row of `data`, `NA` for
#'   rows left out), `fold_ids` (the fold of every row, 1-based), `fits` (the
#'   fold models, `dlstat_fit` objects) and `notes`.
#' @seealso [dnn()], [compare()], [dnn_path()]
#' @examplesIf dlstat_available()
#' cv <- cv_dnn(mpg ~ wt + hp, data = mtcars, folds = 4, hidden = c(4),
#'              epochs = 20, seed = 1)
#' cv
#' tidy(cv)
#' plot(cv)
#' @export
cv_dnn <- function(formula, data, folds = 10, repeats = 1, stratify = NULL, groups = NULL,
                   foldid = NULL, seed = NULL, weights = NULL, offset = NULL, client = NULL,
                   subset, na.action = NULL, ...) {
  sent <- .formula_endpoint("cv", .rcall, encode = .encode_data, rows = .glm_rows_given)
  call <- sent$call
  data <- sent$data
  res <- sent$value
  labels <- .data_labels(data)
  fold_ids <- .decode_result(res$fold_ids, names = labels)
  structure(list(
    call = call, python_call = res$call, family = res$family,
    metrics = .decode_frame(res$metrics),
    summary = .decode_frame(res$summary),
    predictions = .decode_result(res$predictions, names = labels),
    fold_ids = fold_ids,
    fits = lapply(res$fits, .new_fit),
    notes = as.character(unlist(res$notes)),
    data = data, py = res$object
  ), class = c("dlstat_cv", "dlstat_result"))
}

#' Summaries, tables and plots of cross-validation
#'
#' The Python package computes every number: `summary()` gives its tables
#' (the mean, sd and standard error, sd / sqrt(folds) as `cv.glmnet`, of
#' every held-out metric, and the metrics per fold) and notes; `tidy()` and
#' `glance()` its broom-style tables; `augment()` the data with the
#' out-of-fold predictions. `plot()` shows the per-fold values of a metric
#' with their mean and a band of one standard error.
#'
#' @param x A `dlstat_cv` from [cv_dnn()].
#' @param metric The metric to plot, e.g. `"mean_deviance"`, `"rmse"`,
#'   `"accuracy"`.
#' @param data The data `cv_dnn()` was run on (by default the one kept).
#' @param ... Passed to [graphics::plot()] by `plot()`; otherwise not used.
#' @return `augment()` a data frame; `plot()` `x` invisibly. `summary()`, `tidy()` and `glance()` are
#'   the methods every result shares (see [dlstat_result]).
#' @name summary.dlstat_cv
#' @examplesIf dlstat_available()
#' cv <- cv_dnn(mpg ~ wt + hp, data = mtcars, folds = 4, hidden = c(4),
#'              epochs = 20, seed = 1)
#' summary(cv)
#' glance(cv)
#' head(augment(cv))
NULL

#' @rdname summary.dlstat_cv
#' @export
augment.dlstat_cv <- function(x, data = NULL, ...) .augment_of(x, data %||% x$data)

#' @rdname summary.dlstat_cv
#' @export
plot.dlstat_cv <- function(x, metric = "mean_deviance", ...) {
  if (!metric %in% names(x$metrics)) {
    .abort("metric must be one of %s; got %s.",
           paste(rownames(x$summary), collapse = ", "), .show(metric))
  }
  values <- x$metrics[[metric]]
  m <- x$summary[metric, "mean"]
  se <- x$summary[metric, "se"]
  ylim <- range(c(values, m - se, m + se), finite = TRUE)
  graphics::plot(seq_along(values), values, pch = 19, ylim = ylim, xlab = "fold", ylab = metric,
                 main = "Cross-validation", xaxt = "n", ...)
  graphics::axis(1, at = seq_along(values), labels = x$metrics$fold)
  graphics::rect(0, m - se, length(values) + 1, m + se, col = grDevices::adjustcolor("orange", 0.25),
                 border = NA)
  graphics::abline(h = m, col = "orange", lwd = 2)
  graphics::legend("topright", legend = c("fold", "mean", "+/- 1 SE"), pch = c(19, NA, 15),
                   lty = c(NA, 1, NA), col = c("black", "orange", grDevices::adjustcolor("orange", 0.4)),
                   bty = "n")
  invisible(x)
}
