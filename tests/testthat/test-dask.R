# client = "tcp://host:port" (a Dask scheduler's address) gives the same numbers as training here.

test_that("cv_dnn() through a Dask scheduler address equals the local run", {
  skip_if_no_python()
  skip_if_not(reticulate::py_module_available("distributed"), "dask is not installed")
  distributed <- reticulate::import("distributed")
  # A scheduler and a worker kept alive for the test, reached by their TCP address only.
  cluster <- distributed$LocalCluster(n_workers = 1L, threads_per_worker = 2L,
                                      processes = FALSE, protocol = "tcp://",
                                      dashboard_address = ":0", silence_logs = 40L)
  on.exit(cluster$close(), add = TRUE)
  address <- cluster$scheduler_address
  expect_match(address, "^tcp://")
  args <- list(mpg ~ wt + hp + factor(cyl), data = mtcars, folds = 4, hidden = c(3),
               epochs = 5, seed = 2, verbose = 0)
  here <- do.call(cv_dnn, args)
  there <- do.call(cv_dnn, c(args, client = address))
  expect_identical(there$metrics, here$metrics)
  expect_identical(there$predictions, here$predictions)
  expect_identical(there$fits[[2]]$history, here$fits[[2]]$history)
  expect_error(cv_dnn(mpg ~ wt, data = mtcars, folds = 4, epochs = 2, client = "tcp://127.0.0.1:9"),
               "dask scheduler")
})
