small_tune <- function(...) {
  tune_dnn(mpg ~ wt + hp, data = mtcars, folds = 4, foldid = rep(1:4, 8), epochs = 3,
           batch_size = 8, seed = 2, ...)
}

test_that("tune_dnn() gives each configuration cv_dnn()'s numbers and chooses as cv.glmnet", {
  skip_if_no_python()
  grid <- list(learning_rate = c(0.01, 0.03), dropout = c(0, 0.25), penalty = c(0, 0.1))
  tuned <- small_tune(grid = grid, hidden = 4)
  expect_s3_class(tuned, "dlstat_tune")
  expect_equal(nrow(tuned$table), 8L)
  expect_equal(tuned$n_stacks, 1L)
  for (i in c(1L, 4L, 8L)) {
    row <- tuned$table[i, ]
    alone <- cv_dnn(mpg ~ wt + hp, data = mtcars, foldid = rep(1:4, 8), hidden = 4, epochs = 3,
                    batch_size = 8, seed = 2, learning_rate = row$learning_rate,
                    dropout = row$dropout, penalty = row$penalty)
    expect_equal(row$mean_deviance_mean, alone$summary["mean_deviance", "mean"], tolerance = 1e-5)
    expect_equal(row$rmse_se, alone$summary["rmse", "se"], tolerance = 1e-5)
  }
  # the 1-SE rule by hand: within one SE of the smallest mean, most dropout, then most penalty
  m <- tuned$table$mean_deviance_mean
  best <- which.min(m)
  expect_equal(tuned$best, best)
  within <- which(m <= m[best] + tuned$table$mean_deviance_se[best])
  t <- tuned$table[within, ]
  pick <- within[order(-t$dropout, -t$penalty, t$mean_deviance_mean)[1]]
  expect_equal(tuned$one_se, pick)
  expect_equal(tuned$params_1se$penalty, tuned$table$penalty[pick])
})

test_that("tune_dnn() results print, summarise, plot, refit and refuse bad grids", {
  skip_if_no_python()
  tuned <- small_tune(grid = list(hidden = list(2, c(3, 2)), learning_rate = c(0.01, 0.03)))
  expect_equal(tuned$n_stacks, 2L)
  expect_equal(tuned$table$hidden, c("(2,)", "(2,)", "(3, 2)", "(3, 2)"))
  out <- capture.output(print(tuned))
  expect_true(any(grepl("Within 1 SE", out, fixed = TRUE)))
  expect_tables_match(list(tidy = tidy(tuned), glance = glance(tuned)),
                      reticulate::dict(tidy = py_result(tuned, "tidy"),
                                       glance = py_result(tuned, "glance")))
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off(), add = TRUE)
  expect_identical(plot(tuned), tuned)
  fit <- refit(tuned, "best")
  expect_s3_class(fit, "dlstat_fit")
  expect_s3_class(refit(tuned, 3), "dlstat_fit")
  expect_error(refit(tuned, NA), "which must be", class = "dlstat_error")
  expect_error(small_tune(grid = list(dropout = c(0.1, 1.5)), hidden = 4), "grid entry dropout, value 1.5",
               fixed = TRUE, class = "dlstat_error")
  expect_error(small_tune(grid = list(seed = 1:2)), "cannot be tuned", class = "dlstat_error")
  drawn <- small_tune(grid = list(learning_rate = tune_range(1e-3, 1e-1, log = TRUE)),
                      n_random = 3, hidden = 4)
  again <- small_tune(grid = list(learning_rate = tune_range(1e-3, 1e-1, log = TRUE)),
                      n_random = 3, hidden = 4)
  expect_equal(drawn$table, again$table)
  expect_true(all(drawn$table$learning_rate >= 1e-3 & drawn$table$learning_rate <= 1e-1))
})
