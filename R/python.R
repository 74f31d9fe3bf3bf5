# Finding, installing and calling the dlstat Python package.

.state <- new.env(parent = emptyenv())

#' Point dlstat at a Python installation
#'
#' dlstat runs its networks in Python. By default the first Python found among
#' these is used: the one given to `use_dlstat_python()`, the environment
#' variable `DLSTAT_PYTHON`, the environment variable `RETICULATE_PYTHON`, the
#' virtual or conda environment `"r-dlstat"` made by [install_dlstat()], the `.venv` of a
#' source checkout of dlstat, and finally reticulate's own choice. Python is
#' started at the first dlstat call that needs it, and an R session can use only
#' one Python: call `use_dlstat_python()` before anything else uses reticulate.
#'
#' @param python Path to a Python executable, to a virtual environment
#'   directory, or the name of a virtual environment known to reticulate.
#' @return The path of the Python executable, invisibly.
#' @seealso [install_dlstat()], [dlstat_available()]
#' @examples
#' \dontrun{
#' use_dlstat_python("~/venvs/dlstat/bin/python")
#' use_dlstat_python("r-dlstat")
#' }
#' @export
use_dlstat_python <- function(python) {
  if (!is.character(python) || length(python) != 1L || is.na(python) || !nzchar(python)) {
    .abort("python must be one path or environment name, e.g. use_dlstat_python(\"~/venv/bin/python\"); got %s.",
           .show(python))
  }
  exe <- .resolve_python(python)
  if (is.null(exe)) {
    .abort("no Python found at %s: give the path of a Python executable (e.g. \"~/venv/bin/python\"), a virtual environment directory, or the name of an environment made by install_dlstat().",
           .show(python))
  }
  if (reticulate::py_available(initialize = FALSE)) {
    current <- reticulate::py_config()$python
    if (!.same_file(current, exe)) {
      .abort("Python is already running in this R session (%s); an R session can use only one Python. Restart R and call use_dlstat_python(%s) before any other dlstat or reticulate call.",
             current, .show(python))
    }
  }
  options(dlstat.python = exe)
  invisible(exe)
}

#' Is the dlstat Python package available?
#'
#' Starts Python (as chosen by [use_dlstat_python()]) if it is not running and
#' checks that the dlstat Python package can be imported.
#'
#' @return `TRUE` or `FALSE`.
#' @examples
#' dlstat_available()
#' @export
dlstat_available <- function() {
  isTRUE(tryCatch({
    .bridge()
    TRUE
  }, error = function(e) FALSE))
}

#' Install the dlstat Python package
#'
#' Installs the Python package (with TensorFlow) for the R package to use:
#' into a virtual or conda environment through [reticulate::py_install()], or,
#' when `python` is given, with that interpreter's `pip` (for example the
#' Python of an existing virtual environment). Restart R afterwards; the
#' environment `"r-dlstat"` is found automatically, others through
#' [use_dlstat_python()] or the `DLSTAT_PYTHON` environment variable.
#'
#' @param envname Name (or path) of the environment to install into.
#' @param method `"auto"`, `"virtualenv"` or `"conda"`, as in
#'   [reticulate::py_install()].
#' @param package What pip installs: by default `"dlstat[cpu]"` (or
#'   `"dlstat[gpu]"` with `gpu = TRUE`); give a path to a source checkout or a
#'   `git+https://` URL to install from there.
#' @param gpu Install the GPU build of TensorFlow instead of the CPU one.
#' @param python Path of an existing Python executable to install into with its
#'   own pip (then `envname` and `method` are not used).
#' @param python_version Python version for a new environment (>= 3.10).
#' @param extra_packages Further Python packages to install alongside.
#' @param ... Passed on to [reticulate::py_install()].
#' @return The environment name or Python path, invisibly.
#' @seealso [use_dlstat_python()]
#' @examples
#' \dontrun{
#' install_dlstat()                              # virtualenv "r-dlstat"
#' install_dlstat(python = "~/venv/bin/python")  # into an existing venv
#' install_dlstat(package = "~/src/dlstat")      # from a source checkout
#' }
#' @export
install_dlstat <- function(envname = "r-dlstat", method = c("auto", "virtualenv", "conda"),
                           package = NULL, gpu = FALSE, python = NULL,
                           python_version = NULL, extra_packages = NULL, ...) {
  method <- match.arg(method)
  if (!is.logical(gpu) || length(gpu) != 1L || is.na(gpu)) {
    .abort("gpu must be TRUE or FALSE; got %s.", .show(gpu))
  }
  if (is.null(package)) package <- if (gpu) "dlstat[gpu]" else "dlstat[cpu]"
  if (!is.character(package) || length(package) != 1L || is.na(package)) {
    .abort("package must be one pip requirement, e.g. \"dlstat[cpu]\" or a path to a source checkout; got %s.",
           .show(package))
  }
  if (dir.exists(path.expand(package))) package <- normalizePath(path.expand(package))
  packages <- c(package, extra_packages)
  if (!is.null(python)) {
    exe <- .resolve_python(python)
    if (is.null(exe)) {
      .abort("python = %s is not a Python executable or virtual environment; give its path, e.g. \"~/venv/bin/python\".",
             .show(python))
    }
    status <- .pip_install(exe, packages)
    if (!identical(as.integer(status), 0L)) {
      .abort("pip install of %s into %s failed (exit status %s); see pip's output above.",
             paste(packages, collapse = " "), exe, format(status))
    }
    message(sprintf("dlstat installed for %s. Restart R, then call use_dlstat_python(\"%s\") or set DLSTAT_PYTHON.",
                    exe, exe))
    return(invisible(exe))
  }
  .py_install(packages = packages, envname = envname, method = method,
              python_version = python_version, pip = TRUE, ...)
  message(sprintf("dlstat installed in the Python environment \"%s\". Restart R; %s",
                  envname, if (identical(envname, "r-dlstat")) "library(dlstat) will find it."
                  else sprintf("then call use_dlstat_python(\"%s\").", envname)))
  invisible(envname)
}

# The two installers, kept apart so the tests can replace them.
.py_install <- function(...) reticulate::py_install(...)

.pip_install <- function(python, packages) {
  system2(python, c("-m", "pip", "install", shQuote(packages)))
}

.resolve_python <- function(python) {
  # Paths are made absolute but symlinks are kept: a virtual environment's bin/python is a
  # symlink to the base interpreter, and resolving it would leave the environment.
  path <- .absolute(path.expand(python))
  if (file.exists(path) && !dir.exists(path)) return(path)
  if (dir.exists(path)) {
    for (exe in file.path(path, c("bin/python", "Scripts/python.exe", "python.exe", "python"))) {
      if (file.exists(exe) && !dir.exists(exe)) return(exe)
    }
    return(NULL)
  }
  if (!grepl("[/\\\\]", python)) {
    exe <- tryCatch(if (reticulate::virtualenv_exists(python)) reticulate::virtualenv_python(python),
                    error = function(e) NULL)
    if (is.null(exe)) {
      exe <- tryCatch(reticulate::conda_python(python),
                      error = function(e) NULL)
    }
    if (!is.null(exe) && file.exists(exe)) return(.absolute(exe))
  }
  NULL
}

.absolute <- function(path) {
  if (grepl("^(/|[A-Za-z]:[/\\\\]|\\\\\\\\)", path)) path else file.path(getwd(), path)
}

.same_file <- function(a, b) {
  identical(a, b) || identical(normalizePath(a, mustWork = FALSE), normalizePath(b, mustWork = FALSE))
}

# Where to find Python, in order; NULL leaves the choice to reticulate.
.find_python <- function() {
  for (candidate in c(getOption("dlstat.python", ""), Sys.getenv("DLSTAT_PYTHON"))) {
    if (nzchar(candidate)) {
      exe <- .resolve_python(candidate)
      if (is.null(exe)) {
        .abort("DLSTAT_PYTHON / use_dlstat_python() names %s, which is not a Python executable or virtual environment; fix the path or unset it.",
               .show(candidate))
      }
      return(exe)
    }
  }
  if (nzchar(Sys.getenv("RETICULATE_PYTHON"))) return(NULL)
  exe <- .resolve_python("r-dlstat")
  if (!is.null(exe)) return(exe)
  root <- system.file(package = "dlstat")
  for (dir in unique(c(root, dirname(root)))) {
    exe <- file.path(dir, ".venv", "bin", "python")
    if (nzchar(dir) && file.exists(exe)) return(exe)
  }
  NULL
}

.init_python <- function() {
  if (reticulate::py_available(initialize = FALSE)) return(invisible())
  if (!nzchar(Sys.getenv("TF_CPP_MIN_LOG_LEVEL"))) Sys.setenv(TF_CPP_MIN_LOG_LEVEL = "2")
  exe <- .find_python()
  if (!is.null(exe)) {
    # RETICULATE_PYTHON comes first in reticulate's search: point it at our choice while
    # starting.  (Not use_python(required = TRUE) as well: it runs the interpreter once more to
    # read its configuration, 0.1-0.4 s of every session's first call.)
    old <- Sys.getenv("RETICULATE_PYTHON", unset = NA)
    Sys.setenv(RETICULATE_PYTHON = exe)
    on.exit(if (is.na(old)) Sys.unsetenv("RETICULATE_PYTHON") else Sys.setenv(RETICULATE_PYTHON = old))
  }
  reticulate::py_config()
  invisible()
}

# The bridge module (imported once, without automatic conversion).
# One encoded column as a Python object (see .hand_over in convert.R).
.bridge_column <- function(column) {
  .bridge()
  reticulate::r_to_py(column)
}

.bridge <- function() {
  if (!is.null(.state$bridge)) return(.state$bridge)
  .init_python()
  config <- reticulate::py_config()
  if (!reticulate::py_module_available("dlstat")) {
    .abort("the Python package dlstat is not installed in the Python dlstat is using (%s). Install it with install_dlstat(), or point at a Python that has it with use_dlstat_python(\"/path/to/python\") or the DLSTAT_PYTHON environment variable (before any dlstat call, in a fresh R session).",
           config$python)
  }
  # A directory named dlstat in the working directory (R CMD check's copy of the installed R
  # package, for one) would be imported as an empty namespace package; import the real one.
  reticulate::py_run_string(paste(
    "def _real_dlstat():",
    "    import importlib, os, sys",
    "    module = importlib.import_module('dlstat')",
    "    if getattr(module, '__file__', None) is not None:",
    "        return",
    "    for name in [k for k in sys.modules if k == 'dlstat' or k.startswith('dlstat.')]:",
    "        del sys.modules[name]",
    "    saved = list(sys.path)",
    "    sys.path[:] = [p for p in sys.path if p not in ('', '.', os.getcwd())]",
    "    try:",
    "        importlib.import_module('dlstat')",
    "    finally:",
    "        sys.path[:] = saved",
    "_real_dlstat()",
    sep = "\n"), local = TRUE, convert = FALSE)
  bridge <- tryCatch(reticulate::import("dlstat.fronts.rbridge", convert = FALSE),
                     error = function(e) .abort("the dlstat Python package at %s has no R bridge (dlstat.fronts.rbridge): %s. Upgrade it with install_dlstat().",
                                                config$python, conditionMessage(e)))
  bridge$r_session(interactive())  # progress bars only on an interactive console
  .state$bridge <- bridge
  bridge
}

# Call endpoint `fun` of dlstat.fronts.rbridge (see .endpoint_value for errors and warnings).
# `convert = FALSE` returns the value as a Python object.
.rcall <- function(fun, ..., convert = TRUE, call = NULL) {
  res <- .bridge()$rcall(fun, ...)
  item <- function(name, convert = TRUE) {
    value <- reticulate::py_get_item(res, name, silent = TRUE)
    if (convert && !is.null(value)) reticulate::py_to_r(value) else value
  }
  answer <- list(ok = item("ok"), message = item("message"), type = item("type"),
                 warnings = item("warnings"), value = item("value", convert))
  .endpoint_value(answer, call = call)
}

# The call of an S3 method as the user typed it (the generic's name, not the method's).
.method_call <- function(generic) {
  call <- sys.call(-1L)
  call[[1L]] <- as.name(generic)
  call
}
