test_that("a model file that asks for more memory than it holds is an R error", {
  skip_if_no_python()
  dir <- tempfile("models")
  dir.create(dir)
  fit <- dnn(mpg ~ wt + hp, data = mtcars, hidden = c(3), epochs = 2, seed = 1, verbose = 0)
  good <- file.path(dir, "good.dlstat")
  save_dnn(fit, good)
  # 1e6 x 128 float16 zeros, deflated: a 0.26 MB file that would take 1.3 GB once read
  bombs <- reticulate::import_from_path("model_bombs", path = testthat::test_path())
  bomb <- bombs$inflated_model(good, file.path(dir, "bomb.dlstat"))
  expect_lt(file.size(bomb), 4e5)
  expect_error(load_dnn(bomb), class = "dlstat_error",
               regexp = "but its members unpack to .* at most 16 times its size plus 64 MiB")
  expect_error(dnn(mpg ~ wt + hp, data = mtcars, base = bomb, verbose = 0),
               class = "dlstat_error", regexp = "unpack to")
  expect_equal(predict(load_dnn(good), mtcars), predict(fit, mtcars))
})

test_that("save_dnn() where no file can be written is an R error and keeps the old file", {
  skip_if_no_python()
  dir <- tempfile("models")
  dir.create(dir)
  fit <- dnn(mpg ~ wt, data = mtcars, hidden = c(), optimizer = "lbfgs", verbose = 0)
  expect_error(save_dnn(fit, dir), class = "dlstat_error", regexp = "it is a directory")
  expect_error(save_dnn(fit, file.path(dir, "no", "m.dlstat")), class = "dlstat_error",
               regexp = "there is no directory")
  path <- file.path(dir, "m.dlstat")
  save_dnn(fit, path)
  before <- readBin(path, "raw", file.size(path))
  other <- dnn(mpg ~ wt + hp, data = mtcars, hidden = c(), optimizer = "lbfgs", verbose = 0)
  # a writer that fails halfway, as on a full disk
  reticulate::py_run_string(paste(
    "import numpy as _np",
    "def _full_disk(fh, **arrays):",
    "    fh.write(b'half a model')",
    "    raise OSError(28, 'No space left on device')",
    "_saved, _np.savez_compressed = _np.savez_compressed, _full_disk", sep = "\n"))
  expect_error(save_dnn(other, path), class = "dlstat_error",
               regexp = "No space left on device \\(the file already there is unchanged\\)")
  reticulate::py_run_string("_np.savez_compressed = _saved")
  expect_identical(readBin(path, "raw", file.size(path)), before)
})
