#' k-fold cross-validation of a network
#'
#' Every fold's network is trained at once (one TensorFlow call for all
#' folds); each fold's design (factor levels, standardisation) is learned on
#' its training rows only, and the held-out fold is never seen in training or
#' stopping.
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
                   foldid = NULL, seed = NULL, ...) {
  call <- match.call()
  options <- c(.given(environment(), c("folds", "repeats", "stratify", "groups", "foldid", "seed")),
               list(...))
  res <- .rcall("cv", .formula_text(formula), .encode_frame(data), .options_dict(options),
                call = call)
  labels <- .row_labels(data)
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
  ), class = "dlstat_cv")
}

#' @export
print.dlstat_cv <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  k <- length(unique(x$metrics$fold))
  reps <- length(unique(x$metrics$`repeat`))
  cat(k, "-fold cross-validation", if (reps > 1L) paste0(", ", reps, " repeats"), "\n", sep = "")
  cat("Call: ", .call_text(x), "\n", sep = "")
  cat("Family: ", x$family, "\n\n", sep = "")
  print(x$summary, digits = digits)
  .print_notes(x$notes)
  invisible(x)
}

#' Summaries, tables and plots of cross-validation
#'
#' `summary()` computes the mean, sd and standard error (sd / sqrt(folds), as
#' `cv.glmnet`) of every held-out metric; `tidy()` gives the same as a data
#' frame with a `metric` column, `glance()` one row, `augment()` the data with
#' the out-of-fold predictions (`.fitted`, or `.prob_*` for a multinomial
#' model) and the fold (`.fold`); `plot()` shows the per-fold values of a
#' metric with their mean and a band of one standard error.
#'
#' @param object,x A `dlstat_cv` from [cv_dnn()].
#' @param metric The metric to plot, e.g. `"mean_deviance"`, `"rmse"`,
#'   `"accuracy"`.
#' @param data The data `cv_dnn()` was run on (by default the one kept).
#' @param digits Significant digits to print.
#' @param ... Passed to [graphics::plot()] by `plot()`; otherwise not used.
#' @return `summary()` an object of class `summary.dlstat_cv`; `tidy()`,
#'   `glance()` and `augment()` data frames; `plot()` `x` invisibly.
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
summary.dlstat_cv <- function(object, ...) {
  structure(list(call = object$call, python_call = object$python_call, family = object$family,
                 table = object$summary, metrics = object$metrics, notes = object$notes),
            class = "summary.dlstat_cv")
}

#' @rdname summary.dlstat_cv
#' @export
print.summary.dlstat_cv <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  cat("Cross-validation of a dlstat network\n")
  cat("Call: ", .call_text(x), "\n", sep = "")
  cat("Family: ", x$family, "\n\n", sep = "")
  cat("Held-out metrics (mean, sd, se = sd / sqrt(folds)):\n")
  print(x$table, digits = digits)
  cat("\nPer fold:\n")
  print(x$metrics, digits = digits, row.names = FALSE)
  .print_notes(x$notes)
  invisible(x)
}

#' @rdname summary.dlstat_cv
#' @export
tidy.dlstat_cv <- function(x, ...) {
  data.frame(metric = rownames(x$summary), x$summary, row.names = NULL)
}

#' @rdname summary.dlstat_cv
#' @export
glance.dlstat_cv <- function(x, ...) {
  s <- x$summary
  row <- data.frame(family = x$family, folds = length(unique(x$metrics$fold)),
                    repeats = length(unique(x$metrics$`repeat`)),
                    nobs = sum(!is.na(x$fold_ids)))
  for (m in rownames(s)) {
    row[[m]] <- s[m, "mean"]
    row[[paste0(m, "_se")]] <- s[m, "se"]
  }
  row
}

#' @rdname summary.dlstat_cv
#' @export
augment.dlstat_cv <- function(x, data = NULL, ...) {
  d <- data %||% x$data
  p <- x$predictions
  if (is.data.frame(p)) {
    for (name in names(p)) d[[paste0(".prob_", name)]] <- p[[name]]
  } else {
    d[[".fitted"]] <- unname(p)
  }
  d[[".fold"]] <- unname(x$fold_ids)
  d
}

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
