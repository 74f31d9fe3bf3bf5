# The R <-> Python boundary, R's half; dlstat/fronts/rcodec.py is the Python half and documents
# the format.  No NumPy conversion happens here (reticulate builds may not match the installed
# NumPy): columns travel as raw bytes (writeBin of doubles or 32-bit integers), strings and
# factors as integer codes plus a list of levels.  This one file serves both bridges: the R
# package (reticulate) and rpy2, which sources it (the Python package ships it as
# dlstat/fronts/convert.R), so it uses base R only.

.encode_frame <- function(data, what = "data") {
  if (!is.data.frame(data)) {
    .abort("%s must be a data frame; got an object of class %s. Convert it with as.data.frame().",
           what, paste(class(data), collapse = "/"))
  }
  names <- names(data)
  columns <- vector("list", length(data))
  # Columns handed over to Python by an earlier call stay alive until R next collects its
  # garbage: before a large frame, collect, so that two such frames are never held at once.
  if (.hands_over() && as.double(nrow(data)) * length(data) > 2^23) {
    invisible(gc(verbose = FALSE))
  }
  for (j in seq_along(data)) {
    columns[[j]] <- .hand_over(.encode_column(data[[j]], names[[j]], what))
  }
  rownames <- NULL
  if (.row_names_info(data, type = 1L) > 0L) {
    rownames <- .encode_column(attr(data, "row.names"), "row names", what)
  }
  list(`__dlstat__` = "frame", names = as.list(enc2utf8(as.character(names))),
       nrow = nrow(data), columns = columns, rownames = rownames)
}

# An encoded column, handed to Python as soon as it is made when the bridge can take it (the R
# package defines .bridge_column with reticulate): a wide frame's bytes are then never held by R
# and by Python at once.  rpy2, which sources this file alone, converts the whole spec instead.
.hand_over <- function(column) {
  if (.hands_over()) .bridge_column(column) else column
}
.hands_over <- function() exists(".bridge_column", mode = "function")

# Data that may hold arrays: a data frame with matrix or array columns, or a named list of
# columns, arrays and data frames -> a mapping spec (names and values; Python reads it as a dict).
# A data frame of plain columns stays a frame spec.
.encode_data <- function(data, what = "data") {
  if (is.data.frame(data) && !any(vapply(data, is.array, NA))) return(.encode_frame(data, what))
  if (!is.list(data) || is.null(names(data)) || any(!nzchar(names(data))) || anyNA(names(data))) {
    .abort("%s must be a data frame, or a named list of columns and arrays (e.g. list(label = y, image = x)); got %s.",
           what, if (is.list(data)) "a list with unnamed elements" else paste0("an object of class ", paste(class(data), collapse = "/")))
  }
  values <- lapply(seq_along(data), function(j) {
    x <- data[[j]]
    if (is.data.frame(x)) .encode_frame(x, what = names(data)[[j]])
    else if (is.array(x) && length(dim(x)) >= 2L) .encode_array(x, names(data)[[j]], what)
    else .encode_column(x, names(data)[[j]], what)
  })
  list(`__dlstat__` = "mapping", names = as.list(enc2utf8(names(data))), values = values)
}

# An array (observations first, as x[i, , ] is observation i) as raw bytes in R's (column-major)
# order plus its dim; integers and logicals as 32-bit integers, numbers as doubles; NA survives.
.encode_array <- function(x, name, what = "data") {
  if (!is.numeric(x) && !is.logical(x)) {
    .abort("array %s of %s has type %s; an array input must hold numbers. Convert it with storage.mode(x) <- \"double\".",
           .show(name), what, typeof(x))
  }
  if (is.logical(x)) storage.mode(x) <- "integer"
  list(type = "array", storage = typeof(x), data = writeBin(as.vector(x), raw()),
       dim = as.list(as.integer(dim(x))))
}

.decode_array <- function(spec) {
  data <- spec$data
  values <- if (identical(spec$storage, "double")) {
    .nan_to_na(readBin(data, "double", n = length(data) %/% 8L, size = 8L))
  } else {
    readBin(data, "integer", n = length(data) %/% 4L, size = 4L)
  }
  array(values, dim = as.integer(unlist(spec$dim)))
}

# Row labels of data sent with .encode_data(): a data frame's, else 1..n.
.data_labels <- function(data) {
  if (is.data.frame(data)) return(.row_labels(data))
  first <- data[[1L]]
  n <- if (is.data.frame(first)) nrow(first) else if (is.array(first)) dim(first)[[1L]] else length(first)
  as.character(seq_len(n))
}

.encode_column <- function(x, name, what = "data") {
  if (is.matrix(x) || is.data.frame(x) || (is.list(x) && !is.object(x))) {
    .abort("column %s of %s is a %s; dlstat needs plain columns (numeric, integer, logical, character, factor, Date). Split it into separate columns.",
           .show(name), what, if (is.data.frame(x)) "data frame" else if (is.matrix(x)) "matrix" else "list")
  }
  if (is.factor(x)) {
    codes <- as.integer(x) - 1L
    codes[is.na(codes)] <- -1L
    return(list(type = "factor", data = writeBin(codes, raw()),
                levels = as.list(enc2utf8(levels(x))), ordered = is.ordered(x)))
  }
  if (inherits(x, "Date")) {
    return(list(type = "Date", data = writeBin(as.double(unclass(x)), raw())))
  }
  if (inherits(x, "POSIXt")) {
    x <- as.POSIXct(x)
    tz <- attr(x, "tzone")
    tz <- if (is.null(tz) || !nzchar(tz[[1]])) Sys.timezone() else tz[[1]]
    if (is.na(tz) || !nzchar(tz)) tz <- "UTC"
    return(list(type = "POSIXct", data = writeBin(as.double(unclass(x)), raw()), tz = tz))
  }
  if (is.logical(x)) {
    return(list(type = "logical", data = writeBin(as.integer(x), raw())))
  }
  if (is.integer(x)) {
    return(list(type = "integer", data = writeBin(as.vector(unclass(x)), raw())))
  }
  if (is.double(x)) {
    return(list(type = "double", data = writeBin(as.vector(as.double(x)), raw())))
  }
  if (is.character(x)) {
    x <- enc2utf8(as.vector(x))
    levels <- unique(x[!is.na(x)])
    codes <- match(x, levels) - 1L
    codes[is.na(codes)] <- -1L
    return(list(type = "character", data = writeBin(codes, raw()), levels = as.list(levels)))
  }
  .abort("column %s of %s has type %s, which dlstat cannot use; convert it to numeric, integer, logical, character, factor or Date.",
         .show(name), what, paste(class(x), collapse = "/"))
}

.decode_column <- function(spec) {
  data <- spec$data
  if (is.null(data)) data <- raw()
  levels <- as.character(unlist(spec$levels))
  switch(spec$type,
    double = .nan_to_na(readBin(data, "double", n = length(data) %/% 8L, size = 8L)),
    integer = readBin(data, "integer", n = length(data) %/% 4L, size = 4L),
    logical = as.logical(readBin(data, "integer", n = length(data) %/% 4L, size = 4L)),
    factor = {
      codes <- readBin(data, "integer", n = length(data) %/% 4L, size = 4L) + 1L
      codes[codes < 1L] <- NA_integer_
      structure(codes, levels = levels,
                class = if (isTRUE(spec$ordered)) c("ordered", "factor") else "factor")
    },
    character = {
      codes <- readBin(data, "integer", n = length(data) %/% 4L, size = 4L) + 1L
      codes[codes < 1L] <- NA_integer_
      levels[codes]
    },
    Date = structure(.nan_to_na(readBin(data, "double", n = length(data) %/% 8L, size = 8L)),
                     class = "Date"),
    POSIXct = .POSIXct(.nan_to_na(readBin(data, "double", n = length(data) %/% 8L, size = 8L)),
                       tz = spec$tz %||% "UTC"),
    .abort("the dlstat Python package sent a column of unknown type %s; reinstall matching versions of the R and Python packages.",
           .show(spec$type))
  )
}

.nan_to_na <- function(x) {
  x[is.nan(x)] <- NA_real_
  x
}

# A frame spec from Python -> data.frame; the index becomes row names (integer positions + 1).
.decode_frame <- function(spec) {
  if (is.null(spec)) return(NULL)
  columns <- lapply(spec$columns, .decode_column)
  names(columns) <- as.character(unlist(spec$names))
  nrow <- as.integer(spec$nrow)
  frame <- structure(columns, class = "data.frame", row.names = .set_row_names(nrow))
  rownames <- .decode_rownames(spec)
  if (!is.null(rownames) && !anyDuplicated(rownames) && !anyNA(rownames)) {
    attr(frame, "row.names") <- rownames
  }
  frame
}

.decode_rownames <- function(spec) {
  if (is.null(spec$rownames)) return(NULL)
  values <- .decode_column(spec$rownames)
  if (identical(spec$rownames_kind, "position")) as.character(values + 1L) else as.character(values)
}

# A frame spec holding a Series -> a vector (numeric or factor), or a data frame.
.decode_result <- function(spec, names = NULL) {
  frame <- .decode_frame(spec)
  if (isTRUE(spec$series)) {
    out <- frame[[1L]]
    names(out) <- names %||% .decode_rownames(spec) %||% as.character(seq_along(out))
    return(out)
  }
  if (!is.null(names) && length(names) == nrow(frame)) attr(frame, "row.names") <- names
  frame
}

.row_labels <- function(data) {
  if (.row_names_info(data, type = 1L) > 0L) as.character(attr(data, "row.names"))
  else as.character(seq_len(nrow(data)))
}

.formula_text <- function(formula) {
  if (is.character(formula) && length(formula) == 1L && !is.na(formula)) return(formula)
  if (inherits(formula, "formula") || is.call(formula)) {
    text <- paste(deparse(formula, width.cutoff = 500L), collapse = " ")
    text <- gsub("survival::Surv(", "Surv(", text, fixed = TRUE)  # the response dlstat reads
    return(gsub("[[:space:]]+", " ", text))
  }
  .abort("formula must be a formula such as y ~ x1 + x2, or a string; got %s.", .show(formula))
}

# The options a user actually gave (so Python's own defaults apply to the rest).
.given <- function(env, names) {
  out <- list()
  for (name in names) {
    if (!eval(call("missing", as.name(name)), env)) out[name] <- list(get(name, envir = env))
  }
  out
}

# Arguments of a formula function that are not options sent by name: the formula and the data,
# and glm()'s arguments, which pick rows or travel as prior weights and offsets (R/rows.R).
.not_options <- c("formula", "data", "...", "weights", "offset", "subset", "na.action")

# The prelude of every formula function, written once: dnn(), cv_dnn(), compare() and
# dnn_path() of the R package, and the same functions the rpy2 bridge defines in R.  Called
# first thing in such a function, it takes that function's call and the options given to it
# (its own arguments that were given, then `...`); `rows(data, options, env, caller, call)`
# picks the rows to send and adds options (the R package's .glm_rows_given(): glm()'s subset,
# na.action, weights and offset); then endpoint `endpoint` is called through `send` (.rcall()
# or the bridge's call_py()) with the formula, the rows encoded by `encode`, the options, and
# `...`.  The value: list(value = the endpoint's answer, call, data = the rows sent, exclude).
.formula_endpoint <- function(endpoint, send, ..., encode = .encode_frame, rows = .all_rows) {
  env <- parent.frame()
  caller <- parent.frame(2L)
  fun <- sys.function(sys.parent())
  call <- match.call(fun, sys.call(sys.parent()), envir = caller)
  options <- c(.given(env, setdiff(names(formals(fun)), .not_options)),
               eval(quote(list(...)), env))
  picked <- rows(get("data", envir = env), options, env, caller, call)
  text <- .formula_text(get("formula", envir = env))
  frame <- encode(picked$data)
  value <- send(endpoint, text, frame, .options_dict(picked$options), ..., call = call)
  list(value = value, call = call, data = picked$data, exclude = isTRUE(picked$exclude))
}

# Every row, the options as given (no glm() arguments to apply).
.all_rows <- function(data, options, env, caller, call) list(data = data, options = options)

# weights = and offset = as glm() takes them (they are not forced as promises): a column named
# unquoted (weights = trials) or as a string stays a name; any other expression is evaluated in
# data, then in the caller's frame, and a numeric result travels as raw doubles.
.prior_options <- function(env, data, caller) {
  out <- list()
  for (name in c("weights", "offset")) {
    if (eval(call("missing", as.name(name)), env)) next
    expr <- eval(call("substitute", as.name(name)), env)
    if (is.name(expr) && is.data.frame(data) && as.character(expr) %in% names(data)) {
      out[name] <- list(as.character(expr))
      next
    }
    value <- eval(expr, if (is.data.frame(data)) data else NULL, caller)
    if (is.numeric(value) && !is.object(value)) {
      value <- as.double(value)  # encoded by .glm_rows(), after any subset
    } else if (!is.null(value) && !(is.character(value) && length(value) == 1L)) {
      .abort("%s must name a column of data or be a numeric vector (one value per row); got %s.",
             name, .show(value))
    }
    out[name] <- list(value)
  }
  out
}

# An R family object (or function) as dlstat's family name and link; R's names Gamma and
# inverse.gaussian are dlstat's gamma and inverse_gaussian, and MASS's negative.binomial(theta)
# is negative_binomial with its theta.
.family_spec <- function(family, link = NULL) {
  if (is.function(family)) family <- family()
  name <- family$family
  theta <- NULL
  if (is.character(name) && startsWith(name, "Negative Binomial(")) {
    theta <- get0(".Theta", envir = environment(family$variance), inherits = FALSE)
    name <- "negative_binomial"
  }
  name <- if (identical(name, "Gamma")) "gamma"
          else if (identical(name, "inverse.gaussian")) "inverse_gaussian" else name
  if (!is.null(link) && !identical(link, family$link)) {
    .abort("family = %s(link = \"%s\") and link = \"%s\" disagree; give the link once.",
           family$family, family$link, link)
  }
  list(family = name, link = family$link, theta = theta)
}

# Options for an endpoint: a named list (a dict in Python, where an empty list means none) whose
# data frames, hidden widths, folds and penalties are encoded for the codec.
.options_dict <- function(options) {
  out <- list()
  for (name in names(options)) {
    if (!nzchar(name)) {
      .abort("every option must be named, e.g. hidden = c(32, 16); got an unnamed value %s.",
             .show(options[[which(names(options) == name)[1L]]]))
    }
    value <- options[[name]]
    if (name == "family" && (is.function(value) || inherits(value, "family"))) {
      family <- .family_spec(value, options$link)  # R's poisson(link = "log") and the like
      value <- family$family
      out$link <- family$link
      if (!is.null(family$theta)) {
        if (!is.null(options$theta) && !isTRUE(all.equal(options$theta, family$theta))) {
          .abort("family = negative.binomial(%s) and theta = %s disagree; give theta once.",
                 format(family$theta), format(options$theta))
        }
        out$theta <- family$theta
      }
    }
    if (is.data.frame(value)) {
      value <- .encode_frame(value, what = name)
    } else if (inherits(value, "dlstat_fit")) {
      value <- .py(value)  # a base network: Python reads the fitted model itself
    } else if (name == "base" && is.character(value) && length(value) == 1L && !is.na(value)) {
      value <- path.expand(value)  # a model file written by save_dnn()
    } else if (name == "hidden") {
      if (is.numeric(value) && anyNA(value)) .abort("hidden has NA widths; give whole numbers, e.g. hidden = c(32, 16), or c() for a GLM.")
      value <- if (is.numeric(value)) as.list(as.numeric(value)) else value
    } else if (name == "foldid" && !is.null(value)) {
      value <- .encode_column(value, "foldid", "foldid")
    } else if (name == "penalties" && is.numeric(value)) {
      value <- as.list(as.numeric(value))
    } else if (name == "architecture" && is.list(value)) {
      value <- if (inherits(value, "dlstat_layer")) list(unclass(value))
               else lapply(value, function(v) if (inherits(v, "dlstat_layer")) unclass(v) else v)
    } else if (name == "grid" && is.list(value)) {
      value <- .grid_dict(value)
    } else if (name == "models" && is.list(value)) {
      if (is.null(names(value)) || any(!nzchar(names(value)))) {
        .abort("models must be a named list of option lists, e.g. models = list(small = list(hidden = 8), big = list(hidden = c(64, 32))).")
      }
      value <- lapply(value, function(o) .options_dict(as.list(o)))
    } else if (is.atomic(value) && length(value) == 1L && is.na(value)) {
      .abort("%s is NA; give a value, or leave it out for the default.", name)
    }
    out[name] <- list(value)
  }
  out
}

# tune_dnn()'s grid: each entry a list of values (a vector's elements, or a list's items such as
# hidden = list(8, c(16, 8))), or a tune_range() as it is.
.grid_dict <- function(grid) {
  if (is.null(names(grid)) || any(!nzchar(names(grid)))) {
    .abort("grid must be a named list of values to try, e.g. grid = list(learning_rate = c(0.01, 0.03), dropout = c(0, 0.2)).")
  }
  lapply(grid, function(entry) {
    if (inherits(entry, "dlstat_range")) return(unclass(entry))
    if (is.list(entry)) {
      return(lapply(entry, function(v) if (is.numeric(v) && length(v) != 1L) as.list(as.numeric(v)) else v))
    }
    if (is.numeric(entry)) as.list(as.numeric(entry)) else as.list(entry)
  })
}

# The answer of an endpoint (a list: ok, value, warnings, or ok, message, type) -> its value.
# Python's errors become dlstat_error conditions and its warnings dlstat_warning ones.
.endpoint_value <- function(res, call = NULL) {
  if (!isTRUE(res$ok)) .abort_condition(res$message, type = res$type, call = call)
  for (w in as.character(unlist(res$warnings))) {
    warning(structure(class = c("dlstat_warning", "warning", "condition"),
                      list(message = w, call = call)))
  }
  res$value
}

.abort_condition <- function(message, type = NULL, call = NULL) {
  stop(structure(class = c("dlstat_error", "error", "condition"),
                 list(message = message, call = call, python_type = type)))
}

.abort <- function(fmt, ..., call = NULL) {
  .abort_condition(sprintf(fmt, ...), call = call)
}

.show <- function(x) {
  if (is.null(x)) return("NULL")
  text <- paste(utils::capture.output(dput(x)), collapse = " ")
  if (nchar(text) > 60) paste0(substr(text, 1, 57), "...") else text
}

`%||%` <- function(a, b) if (is.null(a)) b else a
