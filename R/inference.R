# Inference for networks fitted with dnn(..., bootstrap = B): the Python package computes every
# table (effects, importance, partial dependence); R keeps the Python result and prints it
# through the shared dlstat_result methods.

#' Average marginal effects of a fitted network or GLM
#'
#' As marginaleffects' `avg_slopes()` and `avg_comparisons()` define them, on
#' the response scale: one row per input variable. A numeric variable's effect
#' is the average derivative of the prediction (every column built from it,
#' through `poly()`, `bs()`, `I()` and interactions, moves with it; a centred
#' difference with step `1e-4 *` its range); a factor's is, per non-reference
#' level, the average change of the prediction from the reference level, the
#' other variables at each row's observed values. One block per class for a
#' multinomial model. For a GLM (`hidden = c()`, no penalty) `std.error` is the
#' delta method's with `vcov()` (normal statistics and intervals, as
#' marginaleffects); for a network fitted with `bootstrap = B` it is the sd of
#' the replicates' effects (percentile intervals); otherwise `NA`. `sd` is the
#' spread of the individual rows' effects.
#'
#' @param object A `dlstat_fit` from [dnn()].
#' @param level The confidence level of the intervals.
#' @param per `"variable"` (the default) or `"column"`: the older table, one
#'   row per design column with the other columns held fixed (bootstrap
#'   inference only).
#' @param variables Names of the input variables to report (default: all).
#' @param by Column name(s) of the averaged rows: one average per group.
#' @param newdata The rows to average over (default: the training rows).
#' @param hypothesis A number (the null value), `"pairwise"`, `"reference"`,
#'   `"sequential"` or an equation in the rows `b1`, `b2`, ... such as
#'   `"b1 - b2 = 0"` or `"b1 / b2 = 1"` (parsed, never evaluated).
#' @param equivalence `c(low, high)`: adds marginaleffects' two one-sided
#'   tests (`p.value.noninf`, `p.value.nonsup`, `p.value.equiv`).
#' @param ... Not used.
#' @return A `dlstat_effects` result (see [dlstat_result]): `tidy()` gives
#'   the table with broom's columns (and `contrast`), `summary()` prints it
#'   with significance codes.
#' @seealso [importance()], [partial_dependence()]
#' @examplesIf dlstat_available()
#' fit <- dnn(mpg ~ wt + I(wt^2) + factor(am), data = mtcars, hidden = c(),
#'            optimizer = "lbfgs")
#' effects(fit)
#' tidy(effects(fit, by = "am", variables = "wt", hypothesis = "b2 - b1 = 0"))
#' @importFrom stats effects
#' @export
effects.dlstat_fit <- function(object, level = 0.95, per = c("variable", "column"),
                               variables = NULL, by = NULL, newdata = NULL,
                               hypothesis = NULL, equivalence = NULL, ...) {
  call <- .method_call("effects")
  per <- match.arg(per)
  frame <- if (is.null(newdata)) NULL else .encode_frame(newdata, "newdata")
  names_of <- function(x) if (is.null(x)) NULL else as.list(as.character(x))
  if (!is.null(equivalence)) equivalence <- as.list(as.numeric(equivalence))
  .bootstrap_result(.rcall("effects", .py(object), level, per, names_of(variables),
                           names_of(by), frame, hypothesis, equivalence, convert = FALSE,
                           call = call), call, "dlstat_effects")
}

#' Permutation importance of the terms of a fitted network
#'
#' The increase of the mean deviance per row when a term's columns are
#' permuted, on each bootstrap replicate's out-of-bag rows (a fit with
#' `bootstrap = B`; the estimate is their mean, the interval their
#' percentiles) or on `newdata`; without either, on the training rows (a note
#' says that this is optimistic).
#'
#' @param object A `dlstat_fit` from [dnn()].
#' @param newdata Held-out rows to measure on (with the response), or `NULL`.
#' @param level The confidence level of the intervals.
#' @param ... Not used.
#' @return A `dlstat_importance` result (see [dlstat_result]).
#' @examplesIf dlstat_available()
#' fit <- dnn(mpg ~ wt + hp + qsec, data = mtcars, hidden = c(), optimizer = "lbfgs",
#'            bootstrap = 20, seed = 1)
#' importance(fit)
#' @export
importance <- function(object, ...) UseMethod("importance")

#' @rdname importance
#' @export
importance.dlstat_fit <- function(object, newdata = NULL, level = 0.95, ...) {
  call <- .method_call("importance")
  frame <- if (is.null(newdata)) NULL else .encode_frame(newdata, "newdata")
  .bootstrap_result(.rcall("importance", .py(object), frame, level, convert = FALSE,
                           call = call), call, "dlstat_importance")
}

#' Partial dependence, ICE and accumulated local effects
#'
#' The prediction (response scale) as one design column or factor is set to
#' each point of a grid (the column's training quantiles, or every level),
#' averaged over the training rows (`"pdp"`), row by row (`"ice"`), or as
#' accumulated local effects (`"ale"`, numeric columns); with bootstrap
#' percentile bands for a fit with `bootstrap = B`. `plot()` draws it in base
#' graphics; `tidy()` gives the curve (per row for `"ice"`).
#'
#' @param object A `dlstat_fit` from [dnn()].
#' @param term A design column (e.g. `"wt"`) or a factor (e.g. `"cyl"`).
#' @param kind `"pdp"`, `"ice"` or `"ale"`.
#' @param grid Number of grid points for a numeric column.
#' @param level The confidence level of the bands.
#' @return A `dlstat_dependence` result (see [dlstat_result]).
#' @examplesIf dlstat_available()
#' fit <- dnn(mpg ~ wt + hp, data = mtcars, hidden = c(4), epochs = 30,
#'            bootstrap = 5, seed = 1)
#' pd <- partial_dependence(fit, "wt")
#' plot(pd)
#' @export
partial_dependence <- function(object, term, kind = c("pdp", "ice", "ale"), grid = 20,
                               level = 0.95) {
  call <- match.call()
  if (!inherits(object, "dlstat_fit")) {
    .abort("object must be a model from dnn() (class dlstat_fit); got %s.",
           paste(class(object), collapse = "/"))
  }
  kind <- match.arg(kind)
  py <- .rcall("dependence", .py(object), term, kind, grid, level, convert = FALSE,
               call = call)
  .bootstrap_result(py, call, "dlstat_dependence", term = term, kind = kind)
}

.bootstrap_result <- function(py, call, class, ...) {
  structure(list(py = py, call = call, ...), class = c(class, "dlstat_result"))
}

#' @rdname partial_dependence
#' @param x A `dlstat_dependence` result.
#' @param main,xlab,ylab Titles.
#' @param ... Passed to [graphics::plot()].
#' @export
plot.dlstat_dependence <- function(x, main = NULL, xlab = x$term, ylab = NULL, ...) {
  curve <- .decode_frame(.rcall("dependence_curve", .py(x)))
  main <- main %||% paste(c(pdp = "Partial dependence", ice = "ICE",
                            ale = "Accumulated local effects")[[x$kind]], "of", x$term)
  ylab <- ylab %||% if (x$kind == "ale") "ALE" else "prediction (response scale)"
  if (!is.numeric(curve$value)) {
    at <- seq_along(curve$value)
    lims <- range(c(curve$estimate, curve$conf.low, curve$conf.high), finite = TRUE)
    graphics::plot(at, curve$estimate, xaxt = "n", pch = 19, ylim = lims, main = main,
                   xlab = xlab, ylab = ylab, ...)
    graphics::axis(1, at = at, labels = curve$value)
    ok <- is.finite(curve$conf.low)
    if (any(ok)) graphics::arrows(at[ok], curve$conf.low[ok], at[ok], curve$conf.high[ok],
                                  angle = 90, code = 3, length = 0.05)
    return(invisible(x))
  }
  ice <- if (x$kind == "ice") tidy(x) else NULL
  lims <- range(c(curve$estimate, curve$conf.low, curve$conf.high, ice$estimate), finite = TRUE)
  graphics::plot(curve$value, curve$estimate, type = "n", ylim = lims, main = main,
                 xlab = xlab, ylab = ylab, ...)
  for (row in unique(ice$row)) {
    graphics::lines(ice$value[ice$row == row], ice$estimate[ice$row == row], col = "grey80")
  }
  parts <- if (is.null(curve$response)) list(curve) else split(curve, curve$response)
  colours <- grDevices::hcl.colors(max(2L, length(parts)), "Dark 3")
  for (i in seq_along(parts)) .draw_band(parts[[i]], colours[[i]])
  if (length(parts) > 1L) {
    graphics::legend("topright", legend = names(parts), col = colours[seq_along(parts)],
                     lwd = 2, bty = "n")
  }
  invisible(x)
}

# One curve and, when the fit was bootstrapped, its band.
.draw_band <- function(curve, colour) {
  if (all(is.finite(curve$conf.low))) {
    graphics::polygon(c(curve$value, rev(curve$value)), c(curve$conf.low, rev(curve$conf.high)),
                      col = grDevices::adjustcolor(colour, 0.3), border = NA)
  }
  graphics::lines(curve$value, curve$estimate, lwd = 2, col = colour)
}
