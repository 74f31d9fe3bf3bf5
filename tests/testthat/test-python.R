test_that("dlstat finds its Python and reports it", {
  skip_if_no_python()
  expect_true(dlstat_available())
  expect_true(reticulate::py_module_available("dlstat.fronts.rbridge"))
})

test_that("use_dlstat_python() checks the path and refuses to switch a running Python", {
  skip_if_no_python()
  expect_error(use_dlstat_python(c("a", "b")), "one path", class = "dlstat_error")
  expect_error(use_dlstat_python(file.path(tempdir(), "no", "python")), "no Python found",
               class = "dlstat_error")
  other <- file.path(tempdir(), "other-venv")
  dir.create(file.path(other, "bin"), recursive = TRUE, showWarnings = FALSE)
  file.create(file.path(other, "bin", "python"))
  expect_error(use_dlstat_python(other), "already running in this R session", class = "dlstat_error")
  current <- reticulate::py_config()$python
  old <- options(dlstat.python = NULL)
  on.exit(options(old), add = TRUE)
  expect_identical(use_dlstat_python(current), current)
  expect_identical(getOption("dlstat.python"), current)
})

test_that("a session starts the Python DLSTAT_PYTHON names, over RETICULATE_PYTHON, and restores it", {
  skip_if_no_python()
  python <- reticulate::py_config()$python
  script <- tempfile(fileext = ".R")
  writeLines(c("library(dlstat)", "stopifnot(dlstat_available())",
               "cat(reticulate::py_config()$python, Sys.getenv('RETICULATE_PYTHON'), sep = '\\n')"),
             script)
  env <- c(paste0("DLSTAT_PYTHON=", shQuote(python)), "RETICULATE_PYTHON=/nonexistent/python",
           paste0("R_LIBS=", shQuote(paste(.libPaths(), collapse = .Platform$path.sep))))
  out <- suppressWarnings(system2(file.path(R.home("bin"), "Rscript"), shQuote(script),
                                  stdout = TRUE, stderr = FALSE, env = env))
  expect_null(attr(out, "status"))
  expect_identical(utils::tail(out, 2L), c(python, "/nonexistent/python"))
})

test_that("install_dlstat() installs with reticulate or with a given Python's pip", {
  calls <- list()
  fake_py_install <- function(...) calls$py_install <<- list(...)
  fake_pip <- function(python, packages) {
    calls$pip <<- list(python = python, packages = packages)
    0L
  }
  with_replaced(".py_install", fake_py_install, {
    expect_message(install_dlstat(), "Restart R")
    expect_equal(calls$py_install$packages, "dlstat[cpu]")
    expect_equal(calls$py_install$envname, "r-dlstat")
    expect_true(calls$py_install$pip)
    suppressMessages(install_dlstat("my-env", method = "virtualenv", gpu = TRUE, extra_packages = "rpy2"))
    expect_equal(calls$py_install$packages, c("dlstat[gpu]", "rpy2"))
    expect_equal(calls$py_install$method, "virtualenv")
    src <- tempfile("checkout")
    dir.create(src)
    suppressMessages(install_dlstat(package = src))
    expect_equal(calls$py_install$packages, normalizePath(src))
  })
  exe <- file.path(tempdir(), "other-venv", "bin", "python")
  dir.create(dirname(exe), recursive = TRUE, showWarnings = FALSE)
  file.create(exe)
  with_replaced(".pip_install", fake_pip, {
    expect_message(install_dlstat(python = exe), "use_dlstat_python")
    expect_equal(calls$pip$python, exe)
    expect_equal(calls$pip$packages, "dlstat[cpu]")
  })
  with_replaced(".pip_install", function(python, packages) 1L, {
    expect_error(install_dlstat(python = exe), "failed", class = "dlstat_error")
  })
  expect_error(install_dlstat(gpu = NA), "gpu must be TRUE or FALSE", class = "dlstat_error")
  expect_error(install_dlstat(python = file.path(tempdir(), "nothing")), "not a Python",
               class = "dlstat_error")
  expect_error(install_dlstat(method = "pip"), "should be one of")
})

test_that("fashion_mnist() reads the images and labels", {
  skip_if_no_python()
  skip_if_not(dir.exists("/usr/share/datasets/fashion-mnist") ||
                nzchar(Sys.getenv("DLSTAT_FASHION_MNIST")), "Fashion-MNIST files not installed")
  fm <- fashion_mnist("train", n = 4)
  expect_equal(dim(fm$x), c(4L, 28L, 28L))
  expect_equal(levels(fm$y)[c(1, 10)], c("T-shirt/top", "Ankle boot"))
  expect_equal(as.character(fm$y[1]), "Ankle boot")
  flat <- fashion_mnist("train", n = 4, flatten = TRUE)
  expect_equal(dim(flat$x), c(4L, 784L))
  expect_equal(flat$x[1, ], as.vector(t(fm$x[1, , ])))
  frame <- fashion_mnist("test", n = 3, as_frame = TRUE)
  expect_equal(names(frame)[c(1, 784, 785)], c("pixel1", "pixel784", "label"))
  expect_true(all(vapply(frame[1:784], is.integer, TRUE)))
  expect_error(fashion_mnist("valid"), "kind must be \"train\" or \"test\"", class = "dlstat_error")
  expect_error(fashion_mnist(path = tempdir()), "not found", class = "dlstat_error")
})
