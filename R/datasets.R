#' Fashion-MNIST
#'
#' Zalando's 28 x 28 grey-scale images of clothing in 10 classes (60,000 for
#' training, 10,000 for testing), read from the IDX files of Debian's
#' `dataset-fashion-mnist` package (`/usr/share/datasets/fashion-mnist`), the
#' directory in the `DLSTAT_FASHION_MNIST` environment variable, or `path`.
#'
#' @param kind `"train"` or `"test"`.
#' @param n Read only the first `n` images (`NULL`: all).
#' @param flatten Return the images as an `n` x 784 matrix (one image per row,
#'   pixels row by row) instead of an `n` x 28 x 28 array.
#' @param as_frame Return one data frame with integer columns `pixel1` ...
#'   `pixel784` and the factor `label`.
#' @param path Directory holding the four `*-ubyte.gz` files.
#' @return A list with `x` (integers 0-255; `x[i, , ]` is image `i`, row by
#'   row) and `y` (a factor with levels `"T-shirt/top"`, `"Trouser"`, ...,
#'   `"Ankle boot"`), or a data frame when `as_frame = TRUE`.
#' @examplesIf dlstat_available() && dir.exists("/usr/share/datasets/fashion-mnist")
#' fm <- fashion_mnist("test", n = 5)
#' fm$y
#' image(t(fm$x[1, 28:1, ]), col = grey.colors(256, start = 1, end = 0), axes = FALSE)
#' @export
fashion_mnist <- function(kind = "train", n = NULL, flatten = FALSE, as_frame = FALSE, path = NULL) {
  call <- sys.call()
  res <- .rcall("fashion_mnist", kind, n, if (is.null(path)) NULL else path.expand(path),
                call = call)
  count <- as.integer(res$n)
  pixels <- as.integer(res$images)  # raw -> 0..255
  labels <- factor(as.character(unlist(res$levels))[as.integer(res$codes) + 1L],
                   levels = as.character(unlist(res$levels)))
  if (as_frame) {
    m <- matrix(pixels, nrow = count, ncol = 784L, byrow = TRUE)
    frame <- as.data.frame(m)
    names(frame) <- paste0("pixel", seq_len(784L))
    frame$label <- labels
    return(frame)
  }
  x <- if (flatten) matrix(pixels, nrow = count, ncol = 784L, byrow = TRUE)
       else aperm(array(pixels, dim = c(28L, 28L, count)), c(3L, 2L, 1L))
  list(x = x, y = labels)
}

#' Forecasting windows of a time series
#'
#' Cuts a series into windows of `steps` consecutive values and the value
#' after each (the target), split in time order: the latest `test` fraction of
#' the targets is the test part, and no training window sees a test target (a
#' test window's inputs may reach back into the training years; those values
#' are known by then). The same function as Python's
#' `dlstat.datasets.series_windows()`.
#'
#' @param series A numeric vector or time series (`ts`) in time order, without
#'   missing values, e.g. `sunspot.year`.
#' @param steps The window length: each target is predicted from the `steps`
#'   values before it.
#' @param test The fraction of the targets, the latest ones, held out.
#' @return A list with `X_train` and `X_test` (arrays `n` x `steps` x 1, for
#'   [dnn()] with an [lstm()] or a [conv1d()] first), the targets `y_train`
#'   and `y_test`, and the targets' times `t_train` and `t_test` (the
#'   `time()` of a `ts`, else positions).
#' @examplesIf dlstat_available()
#' w <- series_windows(sunspot.year, steps = 10)
#' dim(w$X_train)
#' range(w$t_test)
#' @export
series_windows <- function(series, steps, test = 0.2) {
  call <- sys.call()
  if (!is.numeric(series) || !is.null(dim(series)) && NCOL(series) > 1L) {
    .abort("series must be a numeric vector or a univariate time series; got %s.",
           paste(class(series), collapse = "/"), call = call)
  }
  times <- if (stats::is.ts(series)) as.numeric(stats::time(series)) else seq_along(series)
  res <- .rcall("series_windows", .encode_column(as.double(series), "series"),
                .encode_column(times, "times"), steps, test, call = call)
  list(X_train = .decode_array(res$X_train), y_train = .decode_column(res$y_train),
       X_test = .decode_array(res$X_test), y_test = .decode_column(res$y_test),
       t_train = .decode_column(res$t_train), t_test = .decode_column(res$t_test))
}
