# Input attributions and the first convolution's filters (dlstat.results.attributions and
# dlstat.results.logos); arrays come back through the codec as R arrays (observations first).

#' Attributions of a network's output to its inputs
#'
#' Gradients in TensorFlow of one output with respect to the input on the
#' user's scale (before standardisation): `"integrated_gradients"` (from a
#' zero baseline, or the training means with `baseline = "mean"`, by the
#' trapezoid rule on `steps` intervals), `"saliency"` (the gradient) or
#' `"gradient_x_input"`.
#'
#' @param object A fit from [dnn()].
#' @param newdata The rows to explain, as the fit's data (a list with the array).
#' @param method `"integrated_gradients"`, `"saliency"` or `"gradient_x_input"`.
#' @param target A class (or output) name; `NULL`: each row's predicted class.
#' @param scale `"response"` (probability or mean) or `"link"`.
#' @param baseline `NULL` (zeros) or `"mean"`.
#' @param steps Intervals of the trapezoid rule.
#' @param ... Not used.
#' @return A `dlstat_attributions` result (see [dlstat_result]) whose `values`
#'   has the input's shape (`[n, L, k]`, `[n, h, w]`, or `[n, p]` for a tabular
#'   design); `tidy()` gives the long form.
#' @examplesIf dlstat_available()
#' fit <- dnn(mpg ~ wt + hp, data = mtcars, hidden = c(), optimizer = "lbfgs")
#' a <- attributions(fit, mtcars[1:3, ], method = "saliency")
#' a$values
#' @export
attributions <- function(object, ...) UseMethod("attributions")

#' @rdname attributions
#' @export
attributions.dlstat_fit <- function(object, newdata, method = c("integrated_gradients",
                                    "saliency", "gradient_x_input"), target = NULL,
                                    scale = c("response", "link"), baseline = NULL,
                                    steps = 50, ...) {
  call <- .method_call("attributions")
  method <- match.arg(method)
  scale <- match.arg(scale)
  if (!is.null(target)) target <- as.character(target)
  py <- .rcall("attributions", .py(object), .encode_data(newdata, "newdata"), method, target,
               scale, baseline, steps, convert = FALSE, call = call)
  values <- .decode_array(.rcall("attributions_values", py))
  structure(list(py = py, call = call, values = values),
            class = c("dlstat_attributions", "dlstat_result"))
}

#' The first convolution's filters as position weight matrices
#'
#' At each window position, the softmax over channels of the kernel on the
#' user's input scale.
#'
#' @param object A fit from [dnn()] whose first layer is a convolution.
#' @param ... Not used.
#' @return A `dlstat_filters` result (see [dlstat_result]) with `pwm`, an array
#'   `[filters, window, channels]`; `tidy()` gives weights and probabilities.
#' @export
filters <- function(object, ...) UseMethod("filters")

#' @rdname filters
#' @export
filters.dlstat_fit <- function(object, ...) {
  call <- .method_call("filters")
  py <- .rcall("filters", .py(object), convert = FALSE, call = call)
  structure(list(py = py, call = call, pwm = .decode_array(.rcall("filters_pwm", py))),
            class = c("dlstat_filters", "dlstat_result"))
}
