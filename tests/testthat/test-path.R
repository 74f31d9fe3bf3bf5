fake_path <- function() {
  main <- reticulate::py_run_string(paste(
    "import numpy as np, pandas as pd",
    "class FakePath:",
    "    call = \"dnn_path('y ~ a + b', data)\"",
    "    family = 'gaussian'",
    "    penalty_min = 0.1",
    "    penalty_1se = 1.0",
    "    notes = ['a note']",
    "    table = pd.DataFrame({'penalty': [10.0, 1.0, 0.1, 0.01], 'df': [0, 1, 2, 2],",
    "        'dev_explained': [0.0, 0.4, 0.6, 0.61], 'train_deviance': [9.0, 5.0, 4.0, 3.9],",
    "        'cv_mean': [9.0, 5.5, 5.0, 5.1], 'cv_se': [1.0, 0.6, 0.6, 0.7],",
    "        'rmse_mean': [3.0, 2.3, 2.2, 2.25], 'rmse_se': [0.1, 0.1, 0.1, 0.1],",
    "        'weight_norm': [0.0, 0.5, 1.0, 1.1]})",
    "    entry = pd.DataFrame({'term': ['a', 'b'], 'entry_penalty': [1.0, 0.1], 'order': [1, 2]})",
    "    term_norms = pd.DataFrame({'a': [0.0, 0.3, 0.8, 0.9], 'b': [0.0, 0.0, 0.2, 0.3]},",
    "        index=pd.Index([10.0, 1.0, 0.1, 0.01], name='penalty'))",
    "fake = FakePath()", sep = "\n"), convert = FALSE)
  .new_path(.rcall("path_parts", main$fake))
}

test_that("path objects print, summarise, tidy and plot (on a stand-in result)", {
  skip_if_no_python()
  p <- fake_path()
  expect_s3_class(p, "dlstat_path")
  expect_equal(p$penalty_min, 0.1)
  expect_equal(p$penalty_1se, 1)
  expect_equal(names(p$term_norms), c("penalty", "a", "b"))
  expect_equal(p$entry$order, 1:2)
  out <- capture.output(print(p))
  expect_true(any(grepl("%Dev", out)))
  expect_true(any(grepl("penalty_min = 0.1 +penalty_1se = 1", out)))
  expect_true(any(grepl("Entry order: a \\(1\\), b \\(0.1\\)", out)))
  s <- summary(p)
  expect_equal(rownames(s$chosen), c("min", "1se"))
  expect_equal(s$chosen$penalty, c(0.1, 1))
  expect_true(any(grepl("Chosen penalties", capture.output(print(s)))))
  expect_identical(tidy(p), p$table)
  expect_equal(glance(p)$cv_mean_min, 5)
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off(), add = TRUE)
  expect_identical(plot(p), p)
  expect_identical(plot(p, type = "terms"), p)
  expect_error(refit(p, which = NA), "which must be", class = "dlstat_error")
})

test_that("dnn_path() follows the regularisation path and refits", {
  skip_if_no_python()
  skip_if_not(reticulate::py_has_attr(dl_py(), "dnn_path") ||
                reticulate::py_module_available("dlstat.fitting.path"), "dlstat.dnn_path not available")
  path <- dnn_path(mpg ~ wt + hp + qsec, data = mtcars, hidden = c(), optimizer = "lbfgs",
                   n_penalties = 5, folds = 4, foldid = rep(1:4, 8), seed = 1)
  expect_s3_class(path, "dlstat_path")
  expect_equal(nrow(path$table), 5L)
  expect_true(all(diff(path$table$penalty) < 0))
  expect_true(all(c("penalty", "df", "dev_explained", "cv_mean", "cv_se") %in% names(path$table)))
  expect_true(path$penalty_1se >= path$penalty_min)
  expect_true(path$penalty_min %in% path$table$penalty)
  expect_true(all(c("wt", "hp", "qsec") %in% names(path$term_norms)))
  best <- refit(path, "min")
  expect_s3_class(best, "dlstat_fit")
  expect_equal(best$penalty, path$penalty_min)
  expect_length(coef(best), 4L)
  expect_s3_class(refit(path, path$table$penalty[2]), "dlstat_fit")
  expect_error(refit(path, 123456), "not on the path", class = "dlstat_error")
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off(), add = TRUE)
  plot(path)
  plot(path, type = "terms")
  sparse <- dnn_path(mpg ~ wt + hp + qsec, data = mtcars, hidden = c(2), epochs = 5,
                     n_penalties = 3, folds = 3, mixture = 1, sparsity = "inputs", seed = 1)
  expect_equal(sort(sparse$entry$term), c("hp", "qsec", "wt"))
})
