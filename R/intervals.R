# Prediction intervals for new observations, conformal prediction sets and the calibration of
# classifiers: the Python package computes every number (dlstat.results.prediction,
# dlstat.results.calibration); R shapes them as predict.lm does.

# predict(interval = "prediction") / predict(type = "set") of a fit or a cross-validation.
.predict_conformal <- function(py, newdata, frame, names, type, unseen, level, weights, method,
                               call) {
  if (inherits(weights, "formula")) {
    if (length(weights) != 2L) .abort("'weights' as formula should be one-sided.")
    weights <- eval(weights[[2L]], newdata, environment(weights))
  }
  if (!is.null(weights)) weights <- as.numeric(weights)
  res <- .rcall("predict_interval", py, frame, type, unseen, level, method, weights,
                call = call)
  out <- .decode_result(res$frame, names = names)
  columns <- if (type == "set") names(out) else c("fit", "lwr", "upr")
  out <- as.matrix(out[columns])
  structure(out, method = res$method)
}

#' Predictions of a cross-validation: the fold networks' mean and CV+
#'
#' The mean of the fold networks' predictions for `newdata`; with
#' `interval = "prediction"` also `lwr` and `upr`, the CV+ interval at
#' `level` (Barber, Candès, Ramdas & Tibshirani 2021) from the out-of-fold
#' residuals; for a classifier `type = "set"` the CV+ set of classes (a
#' logical matrix, one column per class). One repeat only.
#'
#' @param object A `dlstat_cv` from [cv_dnn()].
#' @param newdata A data frame.
#' @param type `"response"` or `"set"`.
#' @param interval `"none"` or `"prediction"`.
#' @param level The coverage level of the interval or set.
#' @param unseen `"error"` or `"na"` for factor levels a fold never saw.
#' @param weights The new rows' prior weights (a numeric vector or a one-sided
#'   formula evaluated in `newdata`).
#' @param ... Not used.
#' @return A named vector (`interval = "none"`), or a matrix (`fit`, `lwr`,
#'   `upr`; or one logical column per class) with attribute `method`.
#' @examplesIf dlstat_available()
#' cv <- cv_dnn(mpg ~ wt + hp, data = mtcars, folds = 4, hidden = c(),
#'              optimizer = "lbfgs")
#' predict(cv, head(mtcars), interval = "prediction", level = 0.9)
#' @export
predict.dlstat_cv <- function(object, newdata, type = c("response", "set"),
                              interval = c("none", "prediction"), level = 0.95,
                              unseen = NULL, weights = NULL, ...) {
  call <- .method_call("predict")
  type <- match.arg(type)
  interval <- match.arg(interval)
  frame <- .encode_data(newdata, "newdata")
  names <- .data_labels(newdata)
  if (type == "set" || interval == "prediction") {
    return(.predict_conformal(.py(object), newdata, frame, names, type, unseen, level, weights,
                              NULL, call))
  }
  .decode_result(.rcall("predict", .py(object), frame, type, unseen, call = call),
                 names = names)
}

#' Calibration of a classifier: reliability curve and expected calibration error
#'
#' Rows are grouped by predicted probability into `bins` (equal-width, or
#' equal-count with `strategy = "quantile"`); in each bin the mean predicted
#' probability is set beside the observed frequency. The expected calibration
#' error (ECE) is the mean absolute gap weighted by the bins' shares of the
#' rows. A binomial fit's probability is P(y = second level); a multinomial
#' fit's the top-label confidence. Scored on `newdata`, else the fit's test
#' rows, else its validation rows, else its training rows.
#'
#' @param object A classifier from [dnn()] (binomial or multinomial).
#' @param newdata A data frame with the response, or `NULL`.
#' @param bins The number of bins.
#' @param strategy `"uniform"` (equal-width bins) or `"quantile"`.
#' @param ... Not used.
#' @return A `dlstat_calibration` result (see [dlstat_result]): `tidy()` the
#'   curve, `glance()` the ECE, `plot()` the reliability diagram.
#' @examplesIf dlstat_available()
#' fit <- dnn(am ~ wt + hp, data = mtcars, hidden = c(), optimizer = "lbfgs")
#' cal <- calibration(fit)
#' glance(cal)
#' plot(cal)
#' @export
calibration <- function(object, ...) UseMethod("calibration")

#' @rdname calibration
#' @export
calibration.dlstat_fit <- function(object, newdata = NULL, bins = 10,
                                   strategy = c("uniform", "quantile"), ...) {
  call <- .method_call("calibration")
  strategy <- match.arg(strategy)
  frame <- if (is.null(newdata)) NULL else .encode_data(newdata, "newdata")
  py <- .rcall("calibration", .py(object), frame, bins, strategy, convert = FALSE, call = call)
  structure(list(py = py, call = call), class = c("dlstat_calibration", "dlstat_result"))
}

#' @rdname calibration
#' @param x A `dlstat_calibration` from `calibration()`.
#' @param main,xlab,ylab Title and axis labels.
#' @export
plot.dlstat_calibration <- function(x, main = "Reliability diagram",
                                    xlab = "mean predicted probability",
                                    ylab = "observed frequency", ...) {
  curve <- .decode_frame(.rcall("calibration_curve", .py(x)))
  graphics::plot(curve$predicted, curve$observed, type = "b", pch = 19, xlim = c(0, 1),
                 ylim = c(0, 1), main = main, xlab = xlab, ylab = ylab, ...)
  graphics::abline(0, 1, lty = 2, col = "grey50")
  invisible(x)
}
