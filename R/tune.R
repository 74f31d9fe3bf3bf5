#' Tune a network's options by cross-validation
#'
#' Every configuration of `grid` is cross-validated on the same folds, as
#' [cv_dnn()] would cross-validate it alone (and with the same numbers), but
#' all configurations x folds train in as few TensorFlow calls as their
#' shapes allow: configurations that differ only in `learning_rate`,
#' `learning_rate_decay`, `dropout`, `penalty`, `mixture` or `max_norm` share
#' one stack; each combination of shape-changing options (`hidden`,
#' `batch_size`, `activation`, `epochs`, ...) makes a stack of its own. Within
#' a fold every configuration sees the same batches in the same order (common
#' random numbers). The best configuration has the smallest mean held-out
#' deviance; the one-standard-error choice (as `cv.glmnet`'s `lambda.1se`) is
#' the simplest configuration within one SE of it: fewest hidden units, then
#' most dropout, most penalty, smallest `max_norm`, fewest epochs.
#'
#' @inheritParams cv_dnn
#' @param grid A named list of the values to try, e.g.
#'   `list(learning_rate = c(0.01, 0.03), dropout = c(0, 0.2),
#'   hidden = list(8, c(16, 8)))`; every combination is tried. With
#'   `n_random`, an entry may also be a range made by [tune_range()].
#' @param n_random Draw this many configurations from `grid`'s values and
#'   ranges (reproducibly from `seed`) instead of trying every combination.
#' @param ... Fixed options of [dnn()] shared by every configuration.
#' @return An object of class `dlstat_tune`: a list with `table` (one row per
#'   configuration: its tuned options, the engine call `stack` it trained in,
#'   each held-out metric's `_mean` and `_se`), `best` and `one_se` (rows of
#'   the table), `best_params` and `params_1se` (their options), `n_stacks`
#'   and `notes`. [refit()] trains a configuration on all the data.
#' @seealso [cv_dnn()], [dnn_path()], [refit()]
#' @examplesIf dlstat_available()
#' tuned <- tune_dnn(mpg ~ wt + hp, data = mtcars, folds = 4, hidden = 4,
#'                   epochs = 20, seed = 1,
#'                   grid = list(learning_rate = c(0.01, 0.03), penalty = c(0, 0.1)))
#' tuned
#' plot(tuned)
#' best <- refit(tuned, "1se")
#' @export
tune_dnn <- function(formula, data, grid = NULL, n_random = NULL, folds = 10, stratify = NULL,
                     groups = NULL, foldid = NULL, seed = NULL, weights = NULL, offset = NULL,
                     client = NULL, subset, na.action = NULL, ...) {
  sent <- .formula_endpoint("tune", .rcall, encode = .encode_data, rows = .glm_rows_given)
  res <- sent$value
  structure(list(
    call = sent$call, python_call = res$call, family = res$family,
    table = .decode_frame(res$table), best = res$best, one_se = res$one_se,
    best_params = res$best_params, params_1se = res$params_1se, n_stacks = res$n_stacks,
    notes = as.character(unlist(res$notes)), py = res$object
  ), class = c("dlstat_tune", "dlstat_result"))
}

#' A range of values for random tuning
#'
#' @param low,high The ends of the range.
#' @param log `TRUE` to draw uniformly on the log scale (both ends positive).
#' @return A `dlstat_range`, an entry of [tune_dnn()]'s `grid` with `n_random`.
#' @examples
#' tune_range(1e-3, 1e-1, log = TRUE)
#' @export
tune_range <- function(low, high, log = FALSE) {
  if (!is.numeric(low) || !is.numeric(high) || length(low) != 1L || length(high) != 1L ||
      is.na(low) || is.na(high)) {
    .abort("tune_range() needs two numbers, low and high; got %s and %s.", .show(low),
           .show(high))
  }
  structure(list(`__dlstat__` = "range", low = as.numeric(low), high = as.numeric(high),
                 log = isTRUE(log)), class = "dlstat_range")
}

#' @rdname refit
#' @export
refit.dlstat_tune <- function(object, which = "best", ...) {
  call <- .method_call("refit")
  if (!(is.character(which) || is.numeric(which)) || length(which) != 1L || is.na(which)) {
    .abort("which must be \"best\", \"1se\" or a row of the table; got %s.", .show(which))
  }
  py <- .rcall("tune_refit", .py(object), which, convert = FALSE, call = call)
  .new_fit(py)
}

#' Summaries, tables and plots of tuning
#'
#' The Python package computes every number: `summary()` gives its tables
#' (the configurations with each metric's mean and SE, the two choices) and
#' notes; `tidy()` one row per configuration and metric, `glance()` one row.
#' `plot()` shows every configuration's mean held-out metric with one SE,
#' the best (filled red) and the one-SE choice (open square).
#'
#' @param x A `dlstat_tune` from [tune_dnn()].
#' @param metric The metric to plot, e.g. `"mean_deviance"`, `"rmse"`.
#' @param ... Passed to [graphics::plot()] by `plot()`; otherwise not used.
#' @return `plot()` `x` invisibly. `summary()`, `tidy()` and `glance()` are
#'   the methods every result shares (see [dlstat_result]).
#' @name summary.dlstat_tune
NULL

#' @rdname summary.dlstat_tune
#' @export
plot.dlstat_tune <- function(x, metric = "mean_deviance", ...) {
  t <- x$table
  column <- paste0(metric, "_mean")
  if (!column %in% names(t)) {
    .abort("metric must be one of %s; got %s.",
           paste(sub("_mean$", "", grep("_mean$", names(t), value = TRUE)), collapse = ", "),
           .show(metric))
  }
  m <- t[[column]]
  se <- t[[paste0(metric, "_se")]]
  i <- seq_along(m)
  graphics::plot(i, m, pch = 19, ylim = range(c(m - se, m + se), finite = TRUE),
                 xlab = "configuration", ylab = paste(metric, "(held out)"), ...)
  ok <- is.finite(se) & se > 0
  if (any(ok)) {
    graphics::arrows(i[ok], (m - se)[ok], i[ok], (m + se)[ok], angle = 90, code = 3,
                     length = 0.03, col = "grey40")
  }
  graphics::points(x$best, m[x$best], pch = 19, col = "firebrick")
  graphics::points(x$one_se, m[x$one_se], pch = 0, cex = 2, col = "darkgreen")
  graphics::legend("topright", legend = c("best", "1 SE"), pch = c(19, 0),
                   col = c("firebrick", "darkgreen"), bty = "n")
  invisible(x)
}
