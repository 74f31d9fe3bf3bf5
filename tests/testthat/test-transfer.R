test_that("dnn() starts from a fitted network or a saved model file (transfer learning)", {
  skip_if_no_python()
  base <- dnn(mpg ~ wt + hp + qsec, data = mtcars, hidden = c(3), activation = "tanh",
              epochs = 5, seed = 1, verbose = 0)
  path <- tempfile(fileext = ".dlstat")
  save_dnn(base, path)
  from_fit <- dnn(disp ~ wt + hp + qsec, data = mtcars, base = base, hidden = c(),
                  optimizer = "lbfgs", verbose = 0)
  from_file <- dnn(disp ~ wt + hp + qsec, data = mtcars, base = path, hidden = c(),
                   optimizer = "lbfgs", verbose = 0)
  expect_true(any(grepl("start from the dlstat fit .*\\(frozen\\)", from_fit$notes)))
  expect_equal(predict(from_fit, newdata = mtcars), predict(from_file, newdata = mtcars))
  kernel <- function(fit) {
    reticulate::py_to_r(reticulate::py_get_item(fit$py$params, "dense0/kernel")$tolist())
  }
  expect_identical(kernel(from_fit), kernel(base))  # the frozen layer is the base's, bit for bit
  tuned <- dnn(disp ~ wt + hp + qsec, data = mtcars, base = base, freeze = FALSE, upto = 1,
               hidden = c(2), epochs = 3, seed = 2, verbose = 0)
  expect_false(identical(kernel(tuned), kernel(base)))
  expect_error(dnn(disp ~ wt + hp, data = mtcars, base = base, verbose = 0),
               class = "dlstat_error", regexp = "reads .*wt.*hp.*qsec.*2 design columns")
  expect_error(dnn(disp ~ wt, data = mtcars, upto = 1, verbose = 0), class = "dlstat_error",
               regexp = "pass base")
})
