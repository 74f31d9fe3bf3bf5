# The modelling generics of a fitted network, as a glm object has them. Python computes every
# number (dlstat/fronts/rgenerics.py); these methods convert and label.

#' Modelling generics of a fitted network
#'
#' A fit from [dnn()] answers the generics a `glm` object answers, with the
#' same meaning. Without hidden layers (`hidden = c()`) the network is a GLM:
#' `vcov()` is the inverse information times the dispersion (as
#' `summary.glm`), `confint()` Wald intervals (t quantiles for gaussian as
#' `confint.lm`, normal ones otherwise as `confint.default`), `logLik()` a
#' `logLik` object whose `df` and `nobs` make [stats::AIC()] and [stats::BIC()]
#' work, and `anova(fit0, fit1, test = "Chisq")` the likelihood-ratio tests of
#' `anova.glm`. A network with hidden layers has fitted values, residuals and
#' a log-likelihood, but its weights are not identified, so `vcov()`,
#' `confint()`, `AIC()`, `BIC()` and `anova()` stop with an error saying so
#' (its `logLik()` has `df = NA`).
#'
#' `residuals()` gives one value per row used in fitting (`NA` for rows left
#' out when the fit used `na.action = na.exclude`): `"deviance"`, `"pearson"`,
#' `"working"` or `"response"` residuals, as [stats::residuals.glm()]; a
#' multinomial fit has only `"response"` residuals, a matrix with one column
#' per class. `model.matrix()` is the design on the original scale with R's
#' column names; `terms()` the terms of the formula; `update()` refits with a
#' changed formula or arguments, through the stored call, as for any model.
#'
#' @param object,x A `dlstat_fit` from [dnn()].
#' @param parm Coefficients to give intervals for: names or positions (all by
#'   default).
#' @param level The confidence level.
#' @param type The type of residuals (a `"cox"` model: `"martingale"` or
#'   `"deviance"`, as [survival::residuals.coxph()]).
#' @param data A data frame for `model.matrix()`; by default the rows used in
#'   fitting.
#' @param test `"Chisq"` (likelihood-ratio tests) or `"F"` (gaussian fits).
#' @param k The penalty per parameter of [stats::AIC()].
#' @param ... Further fits for `anova()`, `AIC()` and `BIC()` (smallest model
#'   first for `anova()`); otherwise not used.
#' @return `vcov()` a matrix; `confint()` a matrix with columns such as
#'   `2.5 %` and `97.5 %`; `residuals()` a named vector (or a matrix);
#'   `logLik()` an object of class `logLik`; `anova()` an object of class
#'   `anova` (a data frame, printed as `anova.glm` prints); `model.matrix()` a
#'   matrix; `terms()` a `terms` object.
#' @examplesIf dlstat_available()
#' fit <- dnn(am ~ wt + hp, data = mtcars, hidden = c(), optimizer = "lbfgs")
#' vcov(fit)
#' confint(fit)
#' head(residuals(fit, type = "pearson"))
#' AIC(fit)
#' small <- update(fit, . ~ . - hp)
#' anova(small, fit, test = "Chisq")
#' @name dlstat_generics
NULL

#' @rdname dlstat_generics
#' @export
vcov.dlstat_fit <- function(object, ...) {
  as.matrix(.decode_frame(.rcall("vcov", .py(object), call = .method_call("vcov"))))
}

#' @rdname dlstat_generics
#' @export
confint.dlstat_fit <- function(object, parm, level = 0.95, ...) {
  call <- .method_call("confint")
  if (!is.numeric(level) || length(level) != 1L || is.na(level) || level <= 0 || level >= 1) {
    .abort("level must be one number between 0 and 1, e.g. 0.95; got %s.", .show(level), call = call)
  }
  ci <- as.matrix(.decode_frame(.rcall("confint", .py(object), level, call = call)))
  if (missing(parm)) return(ci)
  known <- if (is.character(parm)) parm %in% rownames(ci) else parm %in% seq_len(nrow(ci))
  if (!all(known)) {
    .abort("parm names coefficients that the model does not have: %s. It has %s.",
           .show(parm[!known]), paste(rownames(ci), collapse = ", "), call = call)
  }
  ci[parm, , drop = FALSE]
}

#' @rdname dlstat_generics
#' @export
residuals.dlstat_fit <- function(object, type = c("deviance", "pearson", "working", "response", "martingale"),
                                 ...) {
  call <- .method_call("residuals")
  type <- match.arg(type)
  values <- .decode_result(.rcall("residuals", .py(object), type, call = call))
  .pad_excluded(if (is.data.frame(values)) as.matrix(values) else values, object)
}

#' @rdname dlstat_generics
#' @export
logLik.dlstat_fit <- function(object, ...) {
  ll <- .rcall("loglik", .py(object), call = .method_call("logLik"))
  structure(ll$value, df = if (is.null(ll$df)) NA_integer_ else as.integer(ll$df),
            nobs = as.integer(ll$nobs), class = "logLik")
}

#' @rdname dlstat_generics
#' @importFrom stats AIC
#' @export
AIC.dlstat_fit <- function(object, ..., k = 2) {
  .criterion(list(object, ...), "aic", k, 2, match.call(expand.dots = TRUE), .method_call("AIC"))
}

#' @rdname dlstat_generics
#' @importFrom stats BIC
#' @export
BIC.dlstat_fit <- function(object, ...) {
  .criterion(list(object, ...), "bic", NULL, NULL, match.call(expand.dots = TRUE),
             .method_call("BIC"))
}

# Python's AIC or BIC of each fit (its error for a network); with several fits, a data frame
# with df and the criterion as R's AIC() gives. A k other than 2 uses logLik's df (AIC only).
.criterion <- function(fits, endpoint, k, default_k, mc, call) {
  values <- vapply(fits, function(fit) {
    if (!inherits(fit, "dlstat_fit")) {
      .abort("%s() compares fits from dnn(); got an object of class %s.", toupper(endpoint),
             paste(class(fit), collapse = "/"), call = call)
    }
    value <- .rcall(endpoint, .py(fit), call = call)
    if (!is.null(k) && k != default_k) {
      ll <- stats::logLik(fit)
      value <- -2 * as.numeric(ll) + k * attr(ll, "df")
    }
    value
  }, numeric(1))
  if (length(fits) == 1L) return(values)
  df <- vapply(fits, function(fit) attr(stats::logLik(fit), "df"), integer(1))
  out <- data.frame(df = df, values)
  names(out)[2L] <- toupper(endpoint)
  row.names(out) <- vapply(as.list(mc)[-1L][seq_along(fits)],
                           function(e) paste(deparse(e), collapse = " "), "")
  out
}

#' @rdname dlstat_generics
#' @export
anova.dlstat_fit <- function(object, ..., test = c("Chisq", "F")) {
  call <- .method_call("anova")
  test <- match.arg(test)
  fits <- list(object, ...)
  for (fit in fits) {
    if (!inherits(fit, "dlstat_fit")) {
      .abort("anova() compares fits from dnn(); got an object of class %s.",
             paste(class(fit), collapse = "/"), call = call)
    }
  }
  res <- .rcall("anova", lapply(fits, .py), test, call = call)
  table <- .decode_frame(res$table)
  formulas <- vapply(fits, function(fit) .formula_text(fit$formula), "")
  structure(table, heading = c("Analysis of Deviance Table\n",
                               paste0("Model ", format(seq_along(fits)), ": ", formulas,
                                      collapse = "\n")),
            class = c("anova", "data.frame"))
}

#' @rdname dlstat_generics
#' @export
model.matrix.dlstat_fit <- function(object, data = NULL, ...) {
  call <- .method_call("model.matrix")
  frame <- if (is.null(data)) NULL else .encode_frame(data)
  res <- .rcall("model_matrix", .py(object), frame, call = call)
  mm <- as.matrix(.decode_frame(res$frame))
  if (is.null(rownames(mm))) rownames(mm) <- seq_len(nrow(mm))  # Python's default index
  attr(mm, "assign") <- as.integer(unlist(res$assign))
  mm
}

#' @rdname dlstat_generics
#' @export
terms.dlstat_fit <- function(x, ...) {
  stats::terms(stats::formula(x), data = x$data)
}

# Values of the rows used in fitting, padded with NA for the rows na.exclude left out.
.pad_excluded <- function(values, object) {
  if (!isTRUE(object$na_exclude) || is.null(object$data)) return(values)
  labels <- .row_labels(object$data)
  if (is.data.frame(values)) values <- as.matrix(values)
  if (is.matrix(values)) {
    out <- matrix(NA_real_, length(labels), ncol(values), dimnames = list(labels, colnames(values)))
    out[rownames(values), ] <- values
    return(out)
  }
  out <- stats::setNames(rep(NA, length(labels)), labels)
  storage.mode(out) <- storage.mode(values)
  out[names(values)] <- values
  out
}
