small_path <- function() {
  dnn_path(mpg ~ wt + hp + qsec, data = mtcars, hidden = c(), optimizer = "lbfgs",
           n_penalties = 4, folds = 3, foldid = rep(1:3, length.out = 32), seed = 1)
}

test_that("path objects print, summarise, tidy and plot", {
  skip_if_no_python()
  p <- small_path()
  expect_s3_class(p, "dlstat_path")
  expect_true(p$penalty_min %in% p$table$penalty)
  expect_true(p$penalty_1se >= p$penalty_min)
  expect_equal(names(p$term_norms), c("penalty", "wt", "hp", "qsec"))
  expect_equal(p$term_norms$penalty, p$table$penalty)
  expect_null(p$entry)
  out <- capture.output(print(p))
  expect_true(any(grepl("dnn_path(formula = mpg ~ wt + hp + qsec", out, fixed = TRUE)))
  s <- summary(p)
  expect_s3_class(s, "summary.dlstat_path")
  expect_identical(capture.output(print(s)), out)
  expect_tables_match(s$tables, py_result(p, "summary")$tables)
  expect_tables_match(list(tidy = tidy(p), glance = glance(p)),
                      reticulate::dict(tidy = py_result(p, "tidy"), glance = py_result(p, "glance")))
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
