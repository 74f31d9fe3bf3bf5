#' Layer specifications for `architecture`
#'
#' The layers of a network, listed in `dnn(..., architecture = list(...))`
#' (and `cv_dnn()`, `dnn_path()`, `compare()`), e.g.
#' `list(conv2d(16, 3), maxpool(2), flatten(), dense(32))`. Each function is the
#' Python function of the same name in `dlstat` (`dlstat.conv2d()`, ...): it
#' takes the same arguments, by position or by name, checks them in Python and
#' returns the layer as plain R data (so it survives [saveRDS()]). The output
#' layer is not listed: the family decides it.
#'
#' \describe{
#'   \item{`dense(units, activation = "relu")`}{a fully connected layer.}
#'   \item{`dropout(rate)`}{zero a fraction `rate` of the units while training.}
#'   \item{`batchnorm(momentum = 0.9, epsilon = 0.001)`}{batch normalisation.}
#'   \item{`activation(name)`}{an activation on its own (after `batchnorm()`).}
#'   \item{`conv1d(filters, kernel_size, strides = 1, padding = "valid", dilation = 1, activation = "relu")`,
#'     `conv2d(...)`}{convolutions of sequences `[T, channels]` and images
#'     `[h, w, channels]`; sizes are one number or one per axis, e.g. `c(3, 5)`.}
#'   \item{`maxpool(pool_size = 2, strides = NULL, padding = "valid")`, `avgpool(...)`}{pooling
#'     (1-D or 2-D by the input).}
#'   \item{`flatten()`, `global_avgpool()`}{the array of each row as one vector; one mean per channel.}
#'   \item{`reshape(shape)`}{read each row's values as an array, e.g. `reshape(c(28, 28, 1))`.}
#'   \item{`rnn(units, ...)`, `lstm(units, ...)`, `gru(units, ...)`, `bidirectional(layer)`,
#'     `embedding(...)`}{recurrent layers and embeddings, where the Python package has them
#'     (see `help("lstm", package = "dlstat")` in Python's documentation for the arguments).}
#' }
#'
#' Names shared with other packages: `reshape()` is also [stats::reshape()];
#' called with a data frame first, dlstat's `reshape()` calls
#' `stats::reshape()`, so code reshaping data frames keeps working after
#' `library(dlstat)`. `flatten()` is also in purrr and jsonlite and
#' `bidirectional()` in keras: whichever package is attached last wins; write
#' `dlstat::flatten()` when both are attached.
#'
#' @param ... The arguments of the Python function of the same name (above),
#'   by position or by name; whole numbers may be doubles or integers, vectors
#'   become tuples.
#' @return An object of class `dlstat_layer`: a list with `spec` (the layer's
#'   settings, as saved in model files) and `text` (its description).
#' @examplesIf dlstat_available()
#' conv2d(16, 3, padding = "same")
#' cnn <- list(conv2d(8, 3), maxpool(2), flatten(), dense(32), dropout(0.2))
#' fit <- dnn(mpg ~ wt + hp, data = mtcars, architecture = list(dense(4), dense(2, "tanh")),
#'            epochs = 5, seed = 1)
#' @name layers
NULL

# One R function per Python layer constructor: name and arguments go to the "layer" endpoint.
.layer_function <- function(name) {
  force(name)
  function(...) .make_layer(name, list(...), call = sys.call())
}

.make_layer <- function(name, args, call = NULL) {
  labels <- names(args) %||% rep("", length(args))
  for (value in args) {
    if (is.atomic(value) && anyNA(value)) {
      .abort("%s() got NA for an argument (%s); give a value or leave the argument out.",
             name, .show(value), call = call)
    }
  }
  values <- lapply(unname(args), .layer_argument)
  spec <- .rcall("layer", name, as.list(labels), values, call = call)
  structure(spec, class = "dlstat_layer")
}

.layer_argument <- function(value) {
  if (inherits(value, "dlstat_layer")) return(unclass(value))
  if (is.atomic(value) && length(value) > 1L) return(as.list(value))  # a tuple, even c(3, 3)
  value
}

#' @rdname layers
#' @export
dense <- .layer_function("dense")
#' @rdname layers
#' @export
dropout <- .layer_function("dropout")
#' @rdname layers
#' @export
batchnorm <- .layer_function("batchnorm")
#' @rdname layers
#' @export
activation <- .layer_function("activation")
#' @rdname layers
#' @export
conv1d <- .layer_function("conv1d")
#' @rdname layers
#' @export
conv2d <- .layer_function("conv2d")
#' @rdname layers
#' @export
maxpool <- .layer_function("maxpool")
#' @rdname layers
#' @export
avgpool <- .layer_function("avgpool")
#' @rdname layers
#' @export
flatten <- .layer_function("flatten")
#' @rdname layers
#' @export
global_avgpool <- .layer_function("global_avgpool")
#' @rdname layers
#' @export
rnn <- .layer_function("rnn")
#' @rdname layers
#' @export
lstm <- .layer_function("lstm")
#' @rdname layers
#' @export
gru <- .layer_function("gru")
#' @rdname layers
#' @export
bidirectional <- .layer_function("bidirectional")
#' @rdname layers
#' @export
embedding <- .layer_function("embedding")

#' @rdname layers
#' @export
reshape <- function(...) {
  if (...length() && is.data.frame(..1)) return(stats::reshape(...))
  .make_layer("reshape", list(...), call = sys.call())
}

#' @export
print.dlstat_layer <- function(x, ...) {
  cat("<dlstat layer> ", x$text, "\n", sep = "")
  invisible(x)
}
