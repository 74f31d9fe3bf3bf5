# Hostile surroundings: a graph cache directory other users can write (a shared DLSTAT_CACHE_DIR
# on a cluster or a lab server) is not used; the fit traces its graph, warns once, and its
# numbers are those of a fit without the cache.

# Set (or, with NULL, remove) environment variables of the embedded Python, which read its
# environment once at start-up (Sys.setenv() is not seen by it); the old values are returned.
set_python_env <- function(values) {
  environ <- reticulate::import("os", convert = FALSE)$environ
  old <- lapply(names(values), function(name) {
    reticulate::py_to_r(environ$get(name))
  })
  names(old) <- names(values)
  for (name in names(values)) {
    if (is.null(values[[name]])) environ$pop(name, NULL)
    else environ$`__setitem__`(name, values[[name]])
  }
  invisible(old)
}

# Forget the traced graphs of this R session (so the next fit looks in the cache on disk) and
# that the cache has warned.
forget_graphs <- function() {
  reticulate::import("dlstat.engine.graph", convert = FALSE)$`_CACHE`$clear()
  cache <- reticulate::import("dlstat.engine.cache", convert = FALSE)
  if (reticulate::py_has_attr(cache, "_WARNED")) cache$`_WARNED`$clear()
}

test_that("a graph cache directory others can write is refused with a warning", {
  skip_if_no_python()
  shared <- tempfile("shared-cache")
  dir.create(shared)
  Sys.chmod(shared, "0777", use_umask = FALSE)
  old <- set_python_env(list(DLSTAT_GRAPH_CACHE = "0", DLSTAT_CACHE_DIR = shared,
                             XDG_CONFIG_HOME = tempfile("config")))
  withr::defer({
    set_python_env(old)
    forget_graphs()
  })
  args <- list(mpg ~ wt + hp, data = mtcars, hidden = c(3, 2), dropout = 0.2, epochs = 5,
               seed = 4, verbose = 0)
  forget_graphs()
  reference <- do.call(dnn, args)
  set_python_env(list(DLSTAT_GRAPH_CACHE = "1"))
  forget_graphs()
  expect_warning(fit <- do.call(dnn, args), "does not use the graph cache.*chmod go-w")
  expect_identical(predict(fit, newdata = mtcars), predict(reference, newdata = mtcars))
  expect_false(dir.exists(file.path(shared, "graphs")))
})
