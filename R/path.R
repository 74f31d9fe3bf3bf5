#' The regularisation path of a network
#'
#' Like `glmnet::cv.glmnet()`: networks are trained over a descending grid of
#' penalties (all folds and penalties at once), scored by cross-validation,
#' and the penalty with the smallest mean held-out deviance (`penalty_min`)
#' and the largest within one standard error of it (`penalty_1se`) are chosen.
#'
#' @inheritParams cv_dnn
#' @param penalties Your own grid of penalties (sorted descending); `NULL`
#'   makes one from the data.
#' @param n_penalties Length of the grid.
#' @param penalty_min_ratio Smallest penalty as a fraction of the largest
#'   (`NULL`: as glmnet).
#' @param mixture 0 = ridge (L2) ... 1 = lasso (L1), as glmnet's alpha.
#' @param folds Number of folds (0: score on a validation split instead).
#' @param sparsity `"inputs"` to make the L1 part a group penalty on each
#'   input's weights, so whole inputs leave the network (then `entry` gives
#'   the order in which they enter).
#' @param ... Options of [dnn()].
#' @return An object of class `dlstat_path`: a list with `table` (one row per
#'   penalty: `penalty`, `df`, `dev_explained`, `train_deviance`, `cv_mean`,
#'   `cv_se`, the main metric's mean and se, `weight_norm`), `penalty_min`,
#'   `penalty_1se`, `entry` (with `sparsity = "inputs"`: `term`,
#'   `entry_penalty`, `order`), `term_norms` (per penalty, the weight norm of
#'   every formula term) and `notes`. [refit()] gives the network at a chosen
#'   penalty.
#' @seealso [refit()], [cv_dnn()]
#' @examplesIf dlstat_available()
#' path <- dnn_path(mpg ~ wt + hp + qsec, data = mtcars, hidden = c(),
#'                  optimizer = "lbfgs", n_penalties = 8, folds = 4, seed = 1)
#' path
#' plot(path)
#' best <- refit(path, "1se")
#' @export
dnn_path <- function(formula, data, penalties = NULL, n_penalties = 20, penalty_min_ratio = NULL,
                     mixture = 0, folds = 5, foldid = NULL, sparsity = NULL, weights = NULL,
                     offset = NULL, client = NULL, subset, na.action = NULL, ...) {
  sent <- .formula_endpoint("path", .rcall, rows = .glm_rows_given)
  .new_path(sent$value, call = sent$call)
}

.new_path <- function(res, call = NULL) {
  structure(list(
    call = call, python_call = res$call, family = res$family,
    table = .decode_frame(res$table),
    penalty_min = res$penalty_min, penalty_1se = res$penalty_1se,
    entry = .decode_frame(res$entry),
    term_norms = .decode_frame(res$term_norms),
    notes = as.character(unlist(res$notes)),
    py = res$object
  ), class = c("dlstat_path", "dlstat_result"))
}

#' Refit at a chosen penalty or configuration
#'
#' @param object A `dlstat_path` from [dnn_path()] or a `dlstat_tune` from
#'   [tune_dnn()].
#' @param which For a path: `"1se"` (the largest penalty within one standard
#'   error of the best), `"min"` (the best) or a penalty value on the path.
#'   For tuning: `"best"`, `"1se"` (the simplest configuration within one
#'   standard error of the best) or a row of the table.
#' @param ... Not used.
#' @return A `dlstat_fit` trained on all the data at that penalty or
#'   configuration.
#' @export
refit <- function(object, ...) UseMethod("refit")

#' @rdname refit
#' @export
refit.dlstat_path <- function(object, which = "1se", ...) {
  call <- .method_call("refit")
  if (!(is.character(which) || is.numeric(which)) || length(which) != 1L || is.na(which)) {
    .abort("which must be \"1se\", \"min\" or one penalty value; got %s.", .show(which))
  }
  py <- .rcall("path_refit", .py(object), which, convert = FALSE, call = call)
  .new_fit(py)
}

#' Summaries, tables and plots of a regularisation path
#'
#' The Python package computes every number: `summary()` gives its tables
#' (the path with Df, %Dev and the penalty, the chosen penalties, the entry of
#' the inputs) and notes; `tidy()` and `glance()` its broom-style tables.
#' `plot()` draws the cross-validation curve with standard-error bars and both
#' chosen penalties (`type = "cv"`), or each formula term's input-weight norm
#' against the log penalty (`type = "terms"`).
#'
#' @param x A `dlstat_path` from [dnn_path()].
#' @param type `"cv"` or `"terms"`.
#' @param ... Passed to [graphics::plot()] by `plot()`; otherwise not used.
#' @return `plot()` `x` invisibly. `summary()`, `tidy()` and `glance()` are
#'   the methods every result shares (see [dlstat_result]).
#' @name summary.dlstat_path
NULL

#' @rdname summary.dlstat_path
#' @export
plot.dlstat_path <- function(x, type = c("cv", "terms"), ...) {
  type <- match.arg(type)
  if (type == "cv") {
    t <- x$table
    lx <- log(t$penalty)
    lo <- t$cv_mean - t$cv_se
    hi <- t$cv_mean + t$cv_se
    graphics::plot(lx, t$cv_mean, pch = 19, col = "firebrick", ylim = range(c(lo, hi, t$cv_mean), finite = TRUE),
                   xlab = "log(penalty)", ylab = "CV mean deviance", ...)
    ok <- is.finite(lo) & is.finite(hi) & hi > lo
    if (any(ok)) {
      graphics::arrows(lx[ok], lo[ok], lx[ok], hi[ok], angle = 90, code = 3, length = 0.03,
                       col = "grey40")
    }
    graphics::abline(v = log(c(x$penalty_min, x$penalty_1se)), lty = c(2, 3))
    graphics::axis(3, at = lx, labels = t$df, tick = FALSE, line = -0.5, cex.axis = 0.7)
    graphics::legend("topleft", legend = c("penalty_min", "penalty_1se"), lty = c(2, 3), bty = "n")
  } else {
    tn <- x$term_norms
    terms <- setdiff(names(tn), "penalty")
    lx <- log(tn$penalty)
    values <- as.matrix(tn[terms])
    graphics::matplot(lx, values, type = "l", lty = 1, col = seq_along(terms),
                      xlab = "log(penalty)", ylab = "input weight norm", ...)
    graphics::abline(v = log(c(x$penalty_min, x$penalty_1se)), lty = c(2, 3), col = "grey50")
    if (length(terms) <= 12L) {
      graphics::legend("topright", legend = terms, lty = 1, col = seq_along(terms), bty = "n",
                       cex = 0.8)
    }
  }
  invisible(x)
}
