#' Fit a neural network from a formula
#'
#' `dnn()` fits a feed-forward neural network as [stats::glm()] fits a GLM: a
#' formula and a data frame in, a fitted model with `print()`,
#' [summary()][summary.dlstat_fit], [predict()][predict.dlstat_fit],
#' [plot()][plot.dlstat_fit], [tidy()][tidy.dlstat_fit], `glance()`, `augment()`
#' and, for networks without hidden layers (a GLM), [coef()][coef.dlstat_fit]
#' out. The network is trained on the family's deviance, so `hidden = c()` with
#' `optimizer = "lbfgs"` reproduces `glm()`.
#'
#' Arguments and defaults are those of the Python function `dlstat.dnn()`;
#' options left out take the Python package's defaults.
#'
#' @param formula A formula such as `mpg ~ wt + hp + factor(cyl)` or
#'   `Species ~ .` (or the same as a string). Supported: `+ - . : * ^`, `-1`,
#'   `I()`, `factor()`, `log()`, `exp()`, `sqrt()`, `poly()`, `bs()`,
#'   `scale()`, `cbind(y1, y2) ~ .`, backquoted names.
#' @param data A data frame. Columns may be numeric, integer, logical,
#'   character, factor, ordered factor or Date; `NA` marks missing values.
#'   `dnn()` also takes a named list holding an image or sequence array (see
#'   the section Arrays of [dnn()]).
#' @param family `"gaussian"`, `"binomial"`, `"multinomial"`, `"poisson"`,
#'   `"negative_binomial"`, `"gamma"`, `"inverse_gaussian"`, `"tweedie"`,
#'   `"quasipoisson"`, `"quasibinomial"` or `"cox"` (a `Surv(time, status)`
#'   response, as [survival::coxph()]), or an R family object such as
#'   `poisson(link = "log")`, `Gamma("log")` or `MASS::negative.binomial(2)`;
#'   `NULL` chooses from the response (a factor with two levels is binomial,
#'   with more multinomial, a `Surv()` response cox, counts are not assumed).
#' @param link The link function, one of the family's links: `"identity"`,
#'   `"log"`, `"logit"`, `"probit"`, `"cloglog"`, `"inverse"`, `"1/mu^2"`,
#'   `"sqrt"`, `"softmax"`; `NULL` is the family's default, as R's.
#' @param ties How the `"cox"` family handles tied event times, as
#'   [survival::coxph()]: `"efron"` or `"breslow"`; `NULL` is `"efron"`,
#'   coxph's default.
#' @param theta The negative binomial's theta (variance `mu + mu^2/theta`),
#'   fixed, as `glm(family = MASS::negative.binomial(theta))`; `NULL`
#'   estimates it by maximum likelihood, as [MASS::glm.nb()] (reported with
#'   its standard error by `summary()` and `glance()`).
#' @param var_power The Tweedie family's variance power p (variance `mu^p`),
#'   between 1 and 2; needed with `family = "tweedie"`.
#' @param hidden Widths of the hidden layers, e.g. `c(32, 16)`; `c()`, `NULL`
#'   or `integer(0)` for none (a GLM).
#' @param activation Activation of the hidden layers: `"relu"`, `"sigmoid"`,
#'   `"tanh"`, `"elu"`, `"selu"`, `"gelu"`, `"swish"`, `"softplus"`, `"linear"`.
#' @param architecture A list of layer specifications ([layers]), e.g.
#'   `list(dense(32), dropout(0.2), dense(16))` or, for an image,
#'   `list(conv2d(16, 3), maxpool(2), flatten(), dense(32))`, instead of
#'   `hidden`, `activation`, `dropout` and `batchnorm` (giving those too is an
#'   error).
#' @param dropout Dropout rate after each hidden layer (0 = none).
#' @param batchnorm Batch normalisation after each hidden layer.
#' @param penalty The penalty (glmnet's lambda) on the weights. With
#'   `optimizer = "adamw"` its L2 part is decoupled weight decay, not
#'   glmnet's objective (a warning says so).
#' @param mixture 0 = ridge (L2) ... 1 = lasso (L1), as glmnet's alpha.
#' @param max_norm Max-norm constraint on each unit's incoming weights.
#' @param optimizer `"sgd"`, `"momentum"`, `"nesterov"`, `"adagrad"`,
#'   `"adadelta"`, `"rmsprop"`, `"adam"`, `"adamw"` or full-batch `"lbfgs"`.
#' @param learning_rate Learning rate (`NULL` = the optimizer's default; not
#'   used by `"lbfgs"`, which warns if given).
#' @param learning_rate_decay Factor multiplying the learning rate after each
#'   epoch: epoch e steps at `learning_rate * learning_rate_decay^e` (1 =
#'   constant; not used by `"lbfgs"`).
#' @param batch_size Mini-batch size (`NULL` = full batch; not used by
#'   `"lbfgs"`, which warns if given).
#' @param epochs Number of epochs (`NULL` = 100; L-BFGS iterations: 1000).
#' @param validation A fraction of rows to hold out (e.g. `0.2`) or a data
#'   frame, watched during training (and by early stopping).
#' @param test A data frame only evaluated, never used for training.
#' @param early_stopping Patience in epochs (needs `validation`).
#' @param na_action `"omit"` (drop incomplete rows, with a warning) or
#'   `"fail"`.
#' @param unseen What predict() does with factor levels not seen in fitting:
#'   `"error"` or `"na"`.
#' @param seed A whole number; the same seed and data give the same network.
#' @param bootstrap `NULL` (none) or the number B (2 to 1000) of case-resampled
#'   networks trained in the same engine call as the full-data fit, for
#'   [effects()][effects.dlstat_fit], [importance()] and
#'   [partial_dependence()] with bootstrap intervals. The replicates share the
#'   fit's validation rows; a model file does not keep them. The intervals are
#'   calibrated for networks trained to convergence with a little weight decay,
#'   `optimizer = "lbfgs", penalty = 1e-3` (coverage in the inference vignette);
#'   a network still improving at its epoch limit gets none.
#' @param client `NULL` (train here) or the address of a Dask scheduler, e.g.
#'   `"tcp://10.0.0.5:8786"` (start one with `dask scheduler` and workers with
#'   `dask worker <address>`): the networks of the call (folds, penalties,
#'   bootstrap replicates) are split into chunks trained on the cluster's
#'   workers, with the same numbers as locally. An address that does not answer
#'   Dask's handshake within 10 s, and workers that run another dlstat, TensorFlow
#'   or engine, are refused with an error. Use only clusters you trust: Dask
#'   unpickles what they send. Needs the Python package's
#'   `dask` extra (`pip install "dlstat[dask]"`).
#' @param verbose 0 (silent) or 1 (a progress bar for long work).
#' @param weights Prior weights, as [stats::glm()] takes them: a column of
#'   `data` named unquoted (`weights = trials`) or as a string, or a numeric
#'   vector with one non-negative value per row. They multiply each row's
#'   deviance; rows of weight 0 do not count as observations.
#' @param offset An offset added to the linear predictor, as [stats::glm()]'s: a
#'   column named unquoted or as a string, or one number per row. `offset(expr)`
#'   terms in the formula (e.g. `offset(log(exposure))`) add to it, and
#'   [predict()] evaluates them on `newdata`.
#' @param subset Rows of `data` to use, as in [stats::glm()]: a logical
#'   vector or row positions, evaluated in `data` (`subset = cyl != 6`).
#' @param na.action What to do with incomplete rows, as in [stats::glm()]:
#'   `na.omit`, `na.exclude` (as `na.omit`, but [residuals()][dlstat_generics]
#'   and [fitted()] are padded with `NA` for the rows left out) or `na.fail`,
#'   a function or its name; instead of `na_action`.
#' @param base A network to start from (transfer learning): a `dlstat_fit`
#'   or the path of a model file written by [save_dnn()]. Its layers up to
#'   `upto` come first, with their weights and input standardisation; the
#'   new hidden layers and output layer follow.
#' @param upto How much of `base` is kept: `NULL` (every hidden layer), a
#'   layer kind such as `"flatten"` (up to the last such layer), a number of
#'   its layers, or `"output"` (the whole network, to fine-tune it).
#' @param freeze `TRUE` keeps the kept layers of `base` fixed (feature
#'   extraction), `FALSE` trains them too (fine-tuning, usually with a small
#'   `learning_rate`), a number freezes that many first layers.
#' @param ... Further options of the Python `dlstat.dnn()`.
#' @section Arrays:
#' For images or sequences, `data` is a named list of columns and one array
#' (observations first: `x[i, , ]` is image `i`), e.g. `list(label = y, image
#' = x)` with `x` an `n` x 28 x 28 array, or a data frame with a matrix
#' column. The formula names the array as a term of its own (`label ~ image +
#' age`; never inside a transform or an interaction); the architecture's
#' convolutional part reads it and the other columns join after `flatten()` or
#' `global_avgpool()`. Arrays cross to Python as raw bytes plus `dim`;
#' [predict()][predict.dlstat_fit] takes the same kind of list and checks the
#' array's shape.
#' @return An object of class `dlstat_fit`: a list with the `call`, the
#'   `formula`, the `family`, `history` (a data frame of the loss by epoch),
#'   numbers describing the fit, and `py`, the Python model.
#' @seealso [cv_dnn()], [dnn_path()], [compare()], [save_dnn()]
#' @examplesIf dlstat_available()
#' fit <- dnn(mpg ~ wt + hp, data = mtcars, hidden = c(4), epochs = 20, seed = 1)
#' fit
#' predict(fit, newdata = head(mtcars))
#' glm_like <- dnn(am ~ wt, data = mtcars, hidden = c(), optimizer = "lbfgs")
#' coef(glm_like)
#' @export
dnn <- function(formula, data, family = NULL, link = NULL, ties = NULL, theta = NULL,
                var_power = NULL, hidden = c(32, 16), activation = "relu",
                architecture = NULL, dropout = 0, batchnorm = FALSE, penalty = 0,
                mixture = 0, max_norm = NULL, optimizer = "adam", learning_rate = NULL,
                learning_rate_decay = 1, batch_size = 32, epochs = NULL, validation = NULL,
                test = NULL, early_stopping = NULL, na_action = "omit", unseen = "error", seed = NULL,
                bootstrap = NULL, client = NULL, verbose = 1, base = NULL, upto = NULL, freeze = TRUE,
                weights = NULL, offset = NULL, subset, na.action = NULL, ...) {
  sent <- .formula_endpoint("fit", .rcall, convert = FALSE, encode = .encode_data,
                            rows = .glm_rows_given)
  fit <- .new_fit(sent$value, call = sent$call, data = sent$data, formula = formula)
  fit$na_exclude <- sent$exclude
  fit
}

.new_fit <- function(py, call = NULL, data = NULL, formula = NULL) {
  info <- .rcall("describe", py)
  info$history <- .decode_frame(info$history)
  info$formula_text <- info$formula
  info$formula <- NULL
  for (key in c("levels", "outputs", "response", "hidden", "layers", "notes", "columns")) {
    info[key] <- list(if (key == "hidden") as.integer(unlist(info[[key]]))
                      else if (is.null(info[[key]])) NULL else as.character(unlist(info[[key]])))
  }
  if (is.null(formula) || is.character(formula)) {
    formula <- tryCatch(stats::as.formula(info$formula_text, env = globalenv()),
                        error = function(e) info$formula_text)
  }
  structure(c(list(py = py, call = call, formula = formula, data = data), info),
            class = c("dlstat_fit", "dlstat_result"))
}

.py <- function(x) {
  p <- x$py
  if (is.null(p) || !inherits(p, "python.builtin.object") || reticulate::py_is_null_xptr(p)) {
    .abort("this %s has lost its Python object (it was saved with saveRDS()/save() and reloaded, or Python restarted). Keep models across sessions with save_dnn() and load_dnn().",
           class(x)[1L])
  }
  p
}

#' @export
print.dlstat_fit <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  cat("dlstat neural network\n\n")
  cat("Call:\n", .call_text(x), "\n\n", sep = "")
  cat("Family:       ", x$family, " (link: ", x$link, ")\n", sep = "")
  cat("Layers:       ", .layers_text(x), "\n", sep = "")
  cat("Parameters:   ", x$n_parameters, "\n", sep = "")
  cat("Observations: ", x$n_obs, " used", if (x$n_dropped) paste0(", ", x$n_dropped, " dropped (NA)"),
      if (x$n_validation) paste0(", ", x$n_validation, " held out for validation"), "\n", sep = "")
  cat("Training:     ", x$optimizer, ", ", x$epochs, if (x$optimizer == "lbfgs") " iterations" else " epochs",
      if (x$best_epoch) paste0(" (best epoch ", x$best_epoch, ")"), "\n", sep = "")
  cat("Deviance:     ", format(x$deviance, digits = digits), " (null ",
      format(x$null_deviance, digits = digits), "; ",
      format(100 * x$dev_explained, digits = digits), "% explained)\n", sep = "")
  invisible(x)
}

.layers_text <- function(x) {
  paste(c(paste("input", x$n_inputs), x$layers, paste0("output ", x$n_outputs, " (", x$link, ")")),
        collapse = " -> ")
}

#' Summarise a fitted network
#'
#' `summary()` returns the tables of an lm-style summary (model, architecture,
#' training and fit statistics, with numbered notes), computed by the Python
#' package; printing shows its text with the R call (see
#' [print.dlstat_summary()]); `summary()` is the method every result shares
#' ([dlstat_result]).
#'
#' @return An object of class `summary.dlstat_fit` (and `dlstat_summary`): a
#'   list with `title`, `call`, `tables` (data frames such as `model`,
#'   `architecture`, `training`, `fit`), `notes` and `text`.
#' @examplesIf dlstat_available()
#' fit <- dnn(mpg ~ wt + hp, data = mtcars, hidden = c(4), epochs = 20, seed = 1)
#' s <- summary(fit)
#' s$tables$fit
#' s
#' @name summary.dlstat_fit
NULL

#' Predictions from a fitted network
#'
#' @param object A `dlstat_fit` from [dnn()].
#' @param newdata A data frame (or, for a model of arrays, a named list with
#'   the array, as in [dnn()]); `NULL` predicts the training rows.
#' @param type `"response"` (the mean: numbers, or class probabilities for a
#'   multinomial model), `"link"` (the linear predictor), `"class"` (a factor
#'   with the response's levels) or `"prob"` (a data frame with one column of
#'   probabilities per level); a `"cox"` model: `"link"` (the linear predictor,
#'   centred as [survival::predict.coxph()]'s `"lp"`), `"risk"` (its
#'   exponential) or `"survival"` (the probability of surviving past each of
#'   `times`, one column per time, as [survival::survfit.coxph()]).
#' @param times The times of `type = "survival"`.
#' @param unseen `"error"` or `"na"` for factor levels the model never saw;
#'   `NULL` uses the model's setting.
#' @param se.fit Also give standard errors, on the scale of `type` (the
#'   delta method), as [stats::predict.glm()]; a GLM (`hidden = c()`) only.
#'   `"set"` gives a classifier's conformal prediction set at `level`: a
#'   logical matrix, one column per class.
#' @param interval `"none"`, `"confidence"` (Wald intervals at `level` on
#'   the link scale, transformed to the scale of `type`, for a GLM; bootstrap
#'   percentile intervals for a network fitted with `bootstrap = B`) or
#'   `"prediction"`: an interval for a new observation of the response, as
#'   [stats::predict.lm()]'s for a gaussian GLM, otherwise conformal (split
#'   conformal on the validation rows, or jackknife+-after-bootstrap with
#'   `bootstrap = B`); `attr(, "method")` says which.
#' @param level The confidence level of `interval` (or of `type = "set"`).
#' @param weights The new rows' prior weights for `interval = "prediction"`
#'   (a numeric vector, or a one-sided formula evaluated in `newdata`), as
#'   [stats::predict.lm()]'s.
#' @param method `NULL` (chosen from the fit) or one of `"lm"`, `"split"`,
#'   `"jackknife+ab"`, for `interval = "prediction"` and `type = "set"`.
#' @param ... Not used.
#' @return A named numeric vector or factor (names are the row names of
#'   `newdata`, in its order; rows that cannot be predicted are `NA`), or a
#'   data frame with the same row names. With `interval = "confidence"` a
#'   matrix with columns `fit`, `lwr` and `upr` (as [stats::predict.lm()]); with
#'   `se.fit = TRUE` a list of `fit`, `se.fit` and `residual.scale` (as
#'   [stats::predict.glm()]). With `interval = "prediction"` a matrix `fit`,
#'   `lwr`, `upr` with attribute `method`.
#' @examplesIf dlstat_available()
#' fit <- dnn(Species ~ ., data = iris, hidden = c(4), epochs = 20, seed = 1)
#' predict(fit, head(iris), type = "class")
#' predict(fit, head(iris), type = "prob")
#' @export
predict.dlstat_fit <- function(object, newdata = NULL,
                               type = c("response", "link", "class", "prob", "set", "risk",
                                        "survival"),
                               unseen = NULL, se.fit = FALSE,
                               interval = c("none", "confidence", "prediction"),
                               level = 0.95, weights = NULL, method = NULL, times = NULL, ...) {
  call <- .method_call("predict")
  py <- .py(object)
  type <- match.arg(type)
  interval <- match.arg(interval)
  frame <- if (is.null(newdata)) NULL else .encode_data(newdata, "newdata")
  names <- if (is.null(newdata)) NULL else .data_labels(newdata)
  if (type == "set" || interval == "prediction") {
    return(.predict_conformal(py, newdata, frame, names, type, unseen, level, weights, method,
                              call))
  }
  if (isTRUE(se.fit) || interval != "none") {
    res <- .rcall("predict_se", py, frame, type, unseen, interval, level, call = call)
    return(.predict_se_result(.decode_result(res$frame, names = names), res$residual_scale,
                              isTRUE(se.fit), interval))
  }
  spec <- .rcall("predict", py, frame, type, unseen, if (is.null(times)) NULL else as.list(as.numeric(times)),
                 call = call)
  .decode_result(spec, names = names)
}

# Python's fit / lwr / upr / se_fit columns shaped as predict.lm (interval) and predict.glm
# (se.fit) return them.
.predict_se_result <- function(frame, residual_scale, se_fit, interval) {
  labels <- rownames(frame)
  fit <- if (interval == "none") stats::setNames(frame$fit, labels)
         else as.matrix(frame[c("fit", "lwr", "upr")])
  if (!se_fit) return(fit)
  list(fit = fit, se.fit = stats::setNames(frame$se_fit, labels),
       residual.scale = residual_scale)
}

#' @export
fitted.dlstat_fit <- function(object, ...) {
  .pad_excluded(predict(object, type = "response"), object)
}

#' @export
nobs.dlstat_fit <- function(object, ...) object$n_obs

#' @export
deviance.dlstat_fit <- function(object, ...) object$deviance

#' @export
formula.dlstat_fit <- function(x, ...) x$formula

#' Coefficients of a network without hidden layers
#'
#' A network fitted with `hidden = c()` is a GLM; `coef()` gives its
#' coefficients on the scale of the design (as [stats::coef()] of a `glm`).
#'
#' @param object A `dlstat_fit` fitted with `hidden = c()`.
#' @param ... Not used.
#' @return A named numeric vector; for a multinomial model a matrix with one
#'   row per term and one column per response level.
#' @examplesIf dlstat_available()
#' fit <- dnn(mpg ~ wt + hp, data = mtcars, hidden = c(), optimizer = "lbfgs")
#' coef(fit)
#' @export
coef.dlstat_fit <- function(object, ...) {
  call <- .method_call("coef")
  t <- .decode_frame(.rcall("coef", .py(object), call = call))
  if (!"response" %in% names(t)) return(stats::setNames(t$estimate, t$term))
  terms <- unique(t$term)
  responses <- unique(t$response)
  out <- matrix(NA_real_, length(terms), length(responses), dimnames = list(terms, responses))
  out[cbind(match(t$term, terms), match(t$response, responses))] <- t$estimate
  out
}

#' Plot the training history of a network
#'
#' Training (and validation) loss by epoch, in base graphics.
#'
#' @param x A `dlstat_fit`.
#' @param main,xlab,ylab Titles.
#' @param ... Passed to [graphics::plot()].
#' @return `x`, invisibly.
#' @examplesIf dlstat_available()
#' fit <- dnn(mpg ~ wt + hp, data = mtcars, hidden = c(4), epochs = 30,
#'            validation = 0.25, seed = 1)
#' plot(fit)
#' @export
plot.dlstat_fit <- function(x, main = paste(deparse(x$formula), collapse = " "), xlab = "epoch",
                            ylab = "loss (mean deviance / 2)", ...) {
  h <- x$history
  has_val <- "val_loss" %in% names(h)
  ylim <- range(c(h$loss, if (has_val) h$val_loss), finite = TRUE)
  graphics::plot(h$epoch, h$loss, type = "l", lwd = 2, col = "black", ylim = ylim,
                 main = main, xlab = xlab, ylab = ylab, ...)
  if (has_val) {
    graphics::lines(h$epoch, h$val_loss, lwd = 2, lty = 2, col = "firebrick")
    if (x$best_epoch) graphics::abline(v = x$best_epoch, lty = 3, col = "grey50")
    graphics::legend("topright", legend = c("training", "validation"), lty = c(1, 2),
                     lwd = 2, col = c("black", "firebrick"), bty = "n")
  }
  invisible(x)
}

#' Tidy, glance and augment a fitted network
#'
#' broom-style tables (`tidy()` and `glance()` are the methods every result
#' shares, [dlstat_result]). `tidy()` gives one row per coefficient for a network
#' without hidden layers (a GLM), otherwise one row per design column with the
#' norm of its first-layer weights; `glance()` one row of model statistics;
#' `augment()` the data with `.fitted` and `.resid` (or `.pred_class` and
#' `.prob_*` for classifiers) added.
#'
#' @param x A `dlstat_fit`.
#' @param data,newdata The data to augment; by default the training data.
#' @param ... Not used.
#' @return A data frame.
#' @name tidy.dlstat_fit
#' @examplesIf dlstat_available()
#' fit <- dnn(mpg ~ wt + hp, data = mtcars, hidden = c(), optimizer = "lbfgs")
#' tidy(fit)
#' glance(fit)
#' head(augment(fit))
NULL

#' @rdname tidy.dlstat_fit
#' @export
augment.dlstat_fit <- function(x, data = NULL, newdata = NULL, ...) {
  .augment_of(x, newdata %||% data %||% x$data)
}

#' @importFrom generics tidy
#' @export
generics::tidy

#' @importFrom generics glance
#' @export
generics::glance

#' @importFrom generics augment
#' @export
generics::augment

#' Save and load fitted networks
#'
#' `save_dnn()` writes the Python model file (a JSON specification and the
#' weights; no pickle); `load_dnn()` reads one, whether it was written in R or
#' by `fit.save()` in Python, and `dlstat.load()` in Python reads files written
#' here.
#'
#' Saving is atomic: the file is written beside `path` and renamed over it, so
#' a failed save (a full disk) leaves a model already at `path` unchanged.
#' Loading trusts nothing in the file: a file that was edited, or that asks for
#' more memory than its size can vouch for (at most 16 times its size plus
#' 64 MiB), is refused with an error before anything in it is evaluated.
#'
#' @param fit A `dlstat_fit`.
#' @param path File name (`.dlstat` is a good suffix).
#' @param drop_bootstrap A fit with `bootstrap = B` is refused (a model file
#'   holds one network) unless `TRUE`, which saves the full-data network alone.
#' @return `save_dnn()` returns `path` invisibly; `load_dnn()` a `dlstat_fit`
#'   (without training data: pass `newdata` to [predict()][predict.dlstat_fit]).
#' @examplesIf dlstat_available()
#' fit <- dnn(mpg ~ wt, data = mtcars, hidden = c(), optimizer = "lbfgs")
#' file <- tempfile(fileext = ".dlstat")
#' save_dnn(fit, file)
#' same <- load_dnn(file)
#' all.equal(predict(fit, mtcars), predict(same, mtcars))
#' @export
save_dnn <- function(fit, path, drop_bootstrap = FALSE) {
  call <- sys.call()
  if (!inherits(fit, "dlstat_fit")) {
    .abort("fit must be a model from dnn() (class dlstat_fit); got %s.", paste(class(fit), collapse = "/"))
  }
  if (!is.character(path) || length(path) != 1L || is.na(path)) {
    .abort("path must be one file name, e.g. \"model.dlstat\"; got %s.", .show(path))
  }
  .rcall("save", .py(fit), path.expand(path), drop_bootstrap, call = call)
  invisible(path)
}

#' @rdname save_dnn
#' @export
load_dnn <- function(path) {
  call <- sys.call()
  if (!is.character(path) || length(path) != 1L || is.na(path)) {
    .abort("path must be one file name, e.g. \"model.dlstat\"; got %s.", .show(path))
  }
  py <- .rcall("load", path.expand(path), convert = FALSE, call = call)
  .new_fit(py)
}
