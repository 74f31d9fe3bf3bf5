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
                    foldid = NULL, seed = NULL, ...) {
  call <- match.call()
  options <- c(.given(environment(), c("folds", "models", "stratify", "groups", "foldid", "seed")),
               list(...))
  res <- .rcall("compare", .formula_text(formula), .encode_frame(data), .options_dict(options),
                call = call)
  structure(list(
    call = call, python_call = res$call, family = res$family,
    folds = .decode_frame(res$folds), table = .decode_frame(res$table),
    differences = .decode_frame(res$differences), winner = res$winner,
    notes = as.character(unlist(res$notes)), py = res$object
  ), class = "dlstat_comparison")
}

.wide_table <- function(table, digits) {
  models <- unique(table$model)
  metrics <- unique(table$metric)
  out <- data.frame(row.names = models)
  for (m in metrics) {
    rows <- table[table$metric == m, ]
    out[[m]] <- paste0(format(rows$mean[match(models, rows$model)], digits = digits), " (",
                       format(rows$se[match(models, rows$model)], digits = 2), ")")
  }
  out
}

#' @export
print.dlstat_comparison <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  k <- length(unique(x$folds$fold))
  cat("Comparison on the same ", k, " folds\n", sep = "")
  cat("Call: ", .call_text(x), "\n", sep = "")
  cat("Family: ", x$family, "\n\nHeld-out metrics, mean (se):\n", sep = "")
  print(.wide_table(x$table, digits))
  cat("\nBest mean held-out deviance: ", x$winner, "\n", sep = "")
  .print_notes(x$notes)
  invisible(x)
}

#' Summaries, tables and plots of a comparison
#'
#' `summary()` adds the paired differences from the GLM to the table of
#' means; `tidy()` gives the long table (model, metric, mean, se); `glance()`
#' one row; `plot()` the mean and one standard error of a metric per model.
#'
#' @param object,x A `dlstat_comparison` from [compare()].
#' @param metric The metric to plot.
#' @param digits Significant digits to print.
#' @param ... Passed to [graphics::plot()] by `plot()`; otherwise not used.
#' @return `summary()` an object of class `summary.dlstat_comparison`;
#'   `tidy()` and `glance()` data frames; `plot()` `x` invisibly.
#' @name summary.dlstat_comparison
NULL

#' @rdname summary.dlstat_comparison
#' @export
summary.dlstat_comparison <- function(object, ...) {
  structure(list(call = object$call, python_call = object$python_call, family = object$family,
                 table = object$table, differences = object$differences, winner = object$winner,
                 folds = length(unique(object$folds$fold)), notes = object$notes),
            class = "summary.dlstat_comparison")
}

#' @rdname summary.dlstat_comparison
#' @export
print.summary.dlstat_comparison <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  cat("Comparison on the same ", x$folds, " folds\n", sep = "")
  cat("Call: ", .call_text(x), "\n\nHeld-out metrics, mean (se):\n", sep = "")
  print(.wide_table(x$table, digits))
  cat("\nPaired differences from the GLM (negative deviance = better than the GLM):\n")
  print(x$differences, digits = digits, row.names = FALSE)
  cat("\nBest mean held-out deviance: ", x$winner, "\n", sep = "")
  .print_notes(x$notes)
  invisible(x)
}

#' @rdname summary.dlstat_comparison
#' @export
tidy.dlstat_comparison <- function(x, ...) x$table

#' @rdname summary.dlstat_comparison
#' @export
glance.dlstat_comparison <- function(x, ...) {
  data.frame(family = x$family, folds = length(unique(x$folds$fold)),
             models = length(unique(x$folds$model)), winner = x$winner)
}

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
