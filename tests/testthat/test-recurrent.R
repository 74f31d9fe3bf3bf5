# Recurrent layers and embeddings from R: the same networks and numbers as Python's.

test_that("R's recurrent layer functions build the Python layers of the same name", {
  skip_if_no_python()
  dl <- dl_py()
  arch <- reticulate::import("dlstat.architecture", convert = FALSE)
  spec <- function(layer) reticulate::py_to_r(arch$to_json(reticulate::tuple(layer)))[[1L]]
  expect_identical(lstm(8, return_sequences = TRUE)$spec,
                   spec(dl$lstm(8L, return_sequences = TRUE)))
  expect_identical(gru(4, "relu")$spec, spec(dl$gru(4L, "relu")))
  expect_identical(rnn(3)$spec, spec(dl$rnn(3L)))
  expect_identical(bidirectional(lstm(2), merge = "sum")$spec,
                   spec(dl$bidirectional(dl$lstm(2L), merge = "sum")))
  expect_identical(embedding(4, 2)$spec, spec(dl$embedding(4L, 2L)))
  expect_error(lstm(1e7), "units <= 4,096", class = "dlstat_error")
})

test_that("an LSTM on a sequence array from R predicts what Python predicts", {
  skip_if_no_python()
  set.seed(4)
  n <- 40L
  x <- array(rnorm(n * 6L * 2L), c(n, 6L, 2L))  # observations, time steps, features
  y <- x[, 1, 1] + x[, 2, 2]
  fit <- dnn(y ~ seq, data = list(y = y, seq = x), architecture = list(lstm(3), dense(2)),
             epochs = 2, seed = 3, verbose = 0)
  expect_match(fit$layers[[2]], "lstm\\(3\\)")
  r_pred <- predict(fit, list(seq = x[1:5, , ]))
  main <- reticulate::import_main()
  main$r_values <- as.vector(aperm(x, 3:1))  # feature fastest: C order of [n, T, p]
  main$r_y <- y
  py <- reticulate::py_run_string(paste(
    "import numpy as np, dlstat as dl",
    "x = np.array(r_values, dtype=float).reshape(40, 6, 2)",
    "fit = dl.dnn('y ~ seq', {'y': np.array(r_y), 'seq': x}, architecture=[dl.lstm(3),",
    "             dl.dense(2)], epochs=2, seed=3, verbose=0)",
    "pred = fit.predict({'seq': x[:5]}).to_numpy().tolist()",
    sep = "\n"), local = TRUE)
  py_pred <- unlist(py$pred)
  expect_equal(unname(r_pred), as.vector(py_pred), tolerance = 1e-12)
})

test_that("integer codes outside the embedding are refused from R", {
  skip_if_no_python()
  codes <- matrix(sample(0:3, 60, TRUE), 10L)
  expect_error(dnn(y ~ seq, data = list(y = rnorm(10), seq = codes + 1L),
                   architecture = list(embedding(4, 2), gru(2)), epochs = 1, verbose = 0),
               "not codes of the embedding", class = "dlstat_error")
})
