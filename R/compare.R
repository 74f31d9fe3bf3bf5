#' Compare a network with the null model and the GLM on the same folds
#'
#' The intercept-only model, the GLM of the same family and one or more
#' networks are fitted on the same cross-validation folds, and their held-out
#' metrics compared: mean and standard error per model, and paired differences
#' from the GLM fold by fold.
#'
#' @inheritParams cv_dnn
#' @param models A named list of option lists, one network each, e.g.
#'   `list(small = list(hidden = 8), wide = list(hidden = c(64, 32)))`; each
#'   is merged over `...`. `NULL`: one network named `"dnn"`.
#' @param ... Options of [dnn()] shared by every network.
#' @return An object of class `dlstat_comparison`: a list with `folds` (one
#'   row per model and fold), `table` (mean and se of each metric per model),
#'   `differences` (each model minus the GLM, paired by fold: difference, se,
#'   t), `winner` (best mean held-out deviance) and `notes`.
#' @seealso [cv_dnn()]
#' @examplesIf dlstat_available()
#' cmp <- compare(mpg ~ wt + hp, data = mtcars, folds = 4, hidden = c(4),
#'                epochs = 20, seed = 1)
#' cmp
#' plot(cmp)
#' @export
compare <- function(formula, data, folds = 10, models = NULL, stratify = NULL, groups = NULL,
                    foldid = NULL, seed = NULL, weights = NULL, offset = NULL, client = NULL,
                    subset, na.action = NULL, ...) {
  sent <- .formula_endpoint("compare", .rcall, rows = .glm_rows_given)
  call <- sent$call
  res <- sent$value
  structure(list(
    call = call, python_call = res$call, family = res$family,
    folds = .decode_frame(res$folds), table = .decode_frame(res$table),
    differences = .decode_frame(res$differences), winner = res$winner,
    notes = as.character(unlist(res$notes)), py = res$object
  ), class = c("dlstat_comparison", "dlstat_result"))
}

#' Summaries, tables and plots of a comparison
#'
#' The Python package computes every number: `summary()` gives its tables
#' (mean and standard error of each metric per model, paired differences from
#' the GLM) and notes; `tidy()` and `glance()` its broom-style tables; `plot()`
#' the mean and one standard error of a metric per model.
#'
#' @param x A `dlstat_comparison` from [compare()].
#' @param metric The metric to plot.
#' @param ... Passed to [graphics::plot()] by `plot()`; otherwise not used.
#' @return `plot()` `x` invisibly. `summary()`, `tidy()` and `glance()` are
#'   the methods every result shares (see [dlstat_result]).
#' @name summary.dlstat_comparison
NULL

#' @rdname summary.dlstat_comparison
#' @export
plot.dlstat_comparison <- function(x, metric = "mean_deviance", ...) {
  t <- x$table[x$table$metric == metric, , drop = FALSE]
  if (!nrow(t)) {
    .abort("metric must be one of %s; got %s.", paste(unique(x$table$metric), collapse = ", "),
           .show(metric))
  }
  at <- seq_len(nrow(t))
  lo <- t$mean - t$se
  hi <- t$mean + t$se
  graphics::plot(at, t$mean, pch = 19, xlim = c(0.5, nrow(t) + 0.5),
                 ylim = range(c(lo, hi, t$mean), finite = TRUE), xaxt = "n", xlab = "model",
                 ylab = paste0("held-out ", metric, " (mean +/- SE)"), ...)
  graphics::axis(1, at = at, labels = t$model)
  ok <- is.finite(lo) & is.finite(hi) & hi > lo
  if (any(ok)) graphics::arrows(at[ok], lo[ok], at[ok], hi[ok], angle = 90, code = 3, length = 0.05)
  invisible(x)
}
