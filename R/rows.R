# glm()'s `subset` and `na.action`, applied in R before the data cross to Python: `subset`
# picks rows of the data frame, `na.action` becomes the Python option na_action.

.na_actions <- c(na.omit = "omit", na.exclude = "omit", na.fail = "fail")

# The rows to fit and the options to send: list(data, options, exclude), `exclude` TRUE for
# na.exclude (fitted values and residuals padded with NA).  `priors` (from .prior_options():
# column names or one number per row of `data`) are subset with the rows, as glm()'s model
# frame does, then encoded.
.glm_rows <- function(data, subset, env, na.action, options, call, priors = list()) {
  n <- if (is.data.frame(data)) nrow(data) else NA
  if (!is.null(subset) && is.data.frame(data)) {
    keep <- .subset_rows(data, subset, env, call)
    data <- data[keep, , drop = FALSE]
    priors <- lapply(priors, function(v) if (is.numeric(v) && length(v) == n) v[keep] else v)
  }
  for (name in names(priors)) {
    if (is.numeric(priors[[name]])) {
      priors[[name]] <- .encode_column(as.double(priors[[name]]), name, name)
    }
  }
  options <- c(options, priors)
  name <- .na_action_name(na.action, call)
  if (!is.null(name)) {
    wanted <- .na_actions[[name]]
    if (!is.null(options$na_action) && !identical(options$na_action, wanted)) {
      .abort("give na.action or na_action, not both: na.action = %s means na_action = \"%s\", but na_action = %s was given.",
             name, wanted, .show(options$na_action), call = call)
    }
    options$na_action <- wanted
  }
  list(data = data, options = options, exclude = identical(name, "na.exclude"))
}

# glm()'s subset, na.action, weights and offset as given to the formula function running in
# `env` (called by `caller`): the `rows` step of .formula_endpoint().
.glm_rows_given <- function(data, options, env, caller, call) {
  subset <- if (!eval(quote(missing(subset)), env)) eval(quote(substitute(subset)), env)
  .glm_rows(data, subset, caller, get("na.action", envir = env), options, call,
            .prior_options(env, data, caller))
}

# The row positions `subset` picks.
.subset_rows <- function(data, subset, env, call) {
  rows <- tryCatch(eval(subset, data, env), error = function(e) {
    .abort("subset = %s could not be evaluated in data: %s", .show(subset), conditionMessage(e),
           call = call)
  })
  n <- nrow(data)
  if (is.logical(rows) && length(rows) == n) return(which(rows & !is.na(rows)))
  whole <- is.numeric(rows) && !anyNA(rows) && all(rows == round(rows)) && all(abs(rows) <= n)
  if (whole && (all(rows > 0) || all(rows < 0))) return(seq_len(n)[rows])
  .abort("subset must be a logical vector with one value per row of data (%d) or row positions (all positive or all negative, at most %d), as in glm(); got %s.",
         n, n, .show(rows), call = call)
}

.na_action_name <- function(na.action, call) {
  if (is.null(na.action)) return(NULL)
  if (is.function(na.action)) {
    for (name in names(.na_actions)) {
      if (identical(na.action, get(name, envir = asNamespace("stats")))) return(name)
    }
  } else if (is.character(na.action) && length(na.action) == 1L && na.action %in% names(.na_actions)) {
    return(na.action)
  }
  .abort("na.action must be na.omit, na.exclude or na.fail (the function or its name); got %s. Other actions (na.pass) are not offered: dlstat cannot fit rows with missing values.",
         if (is.function(na.action)) "another function" else .show(na.action), call = call)
}
