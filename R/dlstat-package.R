#' dlstat: neural networks with the habits of lm() and glm()
#'
#' [dnn()] fits a network from a formula and a data frame; [cv_dnn()],
#' [dnn_path()] and [compare()] validate and regularise it; [partition()]
#' splits data; [save_dnn()] and [load_dnn()] share model files with Python.
#' The networks train in the dlstat Python package (TensorFlow), reached through
#' reticulate: see [install_dlstat()] and [use_dlstat_python()].
#'
#' Values cross between R and Python as plain data (raw bytes for numbers,
#' codes and levels for factors and strings), so numeric, integer, logical,
#' character, factor, ordered factor and Date columns keep their types, factor
#' levels keep R's order, `NA` survives both ways and predictions keep the
#' row names and row order of `newdata`. Errors from Python arrive as R errors
#' of class `dlstat_error` with dlstat's message.
#'
#' @keywords internal
#' @importFrom stats predict coef fitted nobs deviance formula
"_PACKAGE"
