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
