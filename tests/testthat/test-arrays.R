# Layer specs (R/layers.R), array inputs to dnn() and the array transport.

py_spec <- function(layer) {
  arch <- reticulate::import("dlstat.architecture", convert = FALSE)
  reticulate::py_to_r(arch$to_json(reticulate::tuple(layer)))[[1L]]
}

test_that("each R layer function builds the Python layer of the same name", {
  skip_if_no_python()
  dl <- dl_py()
  cases <- list(
    list(dense(32, activation = "tanh"), dl$dense(32L, "tanh")),
    list(dropout(0.25), dl$dropout(0.25)),
    list(batchnorm(momentum = 0.5), dl$batchnorm(0.5)),
    list(activation("gelu"), dl$activation("gelu")),
    list(conv1d(4, 3, dilation = 2L), dl$conv1d(4L, 3L, dilation = 2L)),
    list(conv2d(16, c(3, 5), padding = "same"), dl$conv2d(16L, reticulate::tuple(3L, 5L), padding = "same")),
    list(maxpool(2), dl$maxpool(2L)),
    list(avgpool(c(2L, 2L), strides = 1), dl$avgpool(reticulate::tuple(2L, 2L), strides = 1L)),
    list(flatten(), dl$flatten()),
    list(global_avgpool(), dl$global_avgpool()),
    list(reshape(c(28, 28, 1)), dl$reshape(reticulate::tuple(28L, 28L, 1L)))
  )
  for (case in cases) {
    expect_s3_class(case[[1]], "dlstat_layer")
    expect_identical(case[[1]]$spec, py_spec(case[[2]]))
  }
  expect_output(print(conv2d(8, 3)), "<dlstat layer> conv2d\\(8, \\(3, 3\\), relu\\)")
  # Plain data: survives saveRDS() (no Python pointer inside).
  file <- tempfile(fileext = ".rds")
  saveRDS(conv2d(8, 3), file)
  expect_identical(readRDS(file), conv2d(8, 3))
})

test_that("layer functions give dlstat errors naming the fix", {
  skip_if_no_python()
  expect_error(dense(NA), "dense\\(\\) got NA", class = "dlstat_error")
  expect_error(dense(0), "positive whole numbers", class = "dlstat_error")
  expect_error(dense(unit = 3), "its arguments are dense\\(units, activation", class = "dlstat_error")
  expect_error(conv2d(8, c(3, 3, 3)), "kernel_size", class = "dlstat_error")
  expect_error(maxpool(2, padding = "full"), "padding", class = "dlstat_error")
})

test_that("reshape() still reshapes data frames as stats::reshape() does", {
  wide <- data.frame(id = 1:2, x1 = c(5, 6), x2 = c(7, 8))
  expect_identical(reshape(wide, direction = "long", varying = c("x1", "x2"), sep = ""),
                   stats::reshape(wide, direction = "long", varying = c("x1", "x2"), sep = ""))
})

test_that("an architecture of R layers fits the network Python fits", {
  skip_if_no_python()
  arch <- list(dense(4), batchnorm(), activation("tanh"), dropout(0.1), dense(3, "sigmoid"))
  fit <- dnn(mpg ~ wt + hp, data = mtcars, architecture = arch, epochs = 5, seed = 3, verbose = 0)
  expect_equal(fit$layers, c("dense(4, relu)", "batchnorm()", "activation(tanh)", "dropout(0.1)",
                             "dense(3, sigmoid)"))
  dl <- dl_py()
  py_arch <- list(dl$dense(4L), dl$batchnorm(), dl$activation("tanh"), dl$dropout(0.1),
                  dl$dense(3L, "sigmoid"))
  py_fit <- dnn(mpg ~ wt + hp, data = mtcars, architecture = py_arch, epochs = 5, seed = 3,
                verbose = 0)
  expect_identical(predict(fit, mtcars), predict(py_fit, mtcars))
  one <- dnn(mpg ~ wt, data = mtcars, architecture = dense(2), epochs = 2, seed = 1, verbose = 0)
  expect_equal(one$layers, "dense(2, relu)")
})

roundtrip_data <- function(data) {
  res <- .rcall("roundtrip_data", .encode_data(data))
  out <- lapply(res$values, function(v) {
    if (identical(v$type, "array")) .decode_array(v)
    else if (identical(v[["__dlstat__"]], "frame")) .decode_frame(v)
    else .decode_column(v)
  })
  stats::setNames(out, unlist(res$names))
}

test_that("arrays and matrix columns cross to Python as bytes and back, NA included", {
  skip_if_no_python()
  ints <- array(c(1:23, NA), c(2L, 3L, 4L))
  dbl <- array(c(rnorm(29), NA, NaN, Inf), c(4L, 2L, 2L, 2L))
  lgl <- matrix(c(TRUE, NA, FALSE, TRUE), 2L)
  back <- roundtrip_data(list(i = ints, d = dbl, l = lgl, f = factor(c("a", NA))))
  expect_identical(back$i, array(as.double(c(1:23, NA)), c(2L, 3L, 4L)))  # NA: a float array
  expect_identical(back$d[-(30:31)], dbl[-(30:31)])
  expect_true(all(is.na(back$d[30:31])))
  expect_identical(back$l, matrix(c(1, NA, 0, 1), 2L))
  expect_identical(back$f, factor(c("a", NA)))
  # Python indexes the array as R does: observation first, then R's own dims
  seen <- .rcall("roundtrip_data", .encode_data(list(x = ints)))
  expect_identical(unlist(seen$values[[1]]$dim), c(2L, 3L, 4L))
  frame <- data.frame(y = 1:2)
  frame$m <- matrix(c(1.5, 2.5, 3.5, 4.5), 2L)  # a matrix column
  back <- roundtrip_data(frame)
  expect_identical(back$m, frame$m)
  expect_identical(back$y, 1:2)
})

test_that("a Fashion-MNIST-sized array crosses intact", {
  skip_if_no_python()
  big <- array(sample.int(256L, 60000L * 784L, TRUE) - 1L, c(60000L, 28L, 28L))
  big[17L, 3L, 5L] <- NA
  back <- roundtrip_data(list(image = big))$image
  expect_identical(dim(back), dim(big))
  expect_true(is.na(back[17L, 3L, 5L]))
  expect_identical(sum(is.na(back)), 1L)
  expect_identical(back[1:50, 28L, ], array(as.double(big[1:50, 28L, ]), c(50L, 28L)))
})

test_that("data that cannot cross is refused naming the problem", {
  skip_if_no_python()
  expect_error(.encode_data(list(1:3, x = 1:3)), "named list", class = "dlstat_error")
  expect_error(.encode_data(list(x = array(letters[1:8], c(2L, 2L, 2L)))), "must hold numbers",
               class = "dlstat_error")
  expect_error(dnn(y ~ image, data = list(y = 1:3, image = array(0, c(4L, 2L, 2L))),
                   architecture = list(conv2d(1, 2), flatten()), verbose = 0),
               "same length", class = "dlstat_error")
  expect_error(dnn(y ~ log(image), data = list(y = 1:3, image = array(0, c(3L, 2L, 2L))),
                   architecture = list(conv2d(1, 2), flatten()), verbose = 0),
               "array input", class = "dlstat_error")
})

# n 6 x 6 images and an age; the response is the images' centre brightness plus age.
image_data <- function(n, seed) {
  set.seed(seed)
  x <- array(rnorm(n * 36L), c(n, 6L, 6L))
  age <- rnorm(n)
  list(y = apply(x[, 3:4, 3:4], 1, mean) + age, image = x, age = age)
}

test_that("an image plus covariates fits from R: a list or a data frame with a matrix column", {
  skip_if_no_python()
  n <- 80L
  d <- image_data(n, 2)
  x <- d$image
  age <- d$age
  y <- d$y
  arch <- list(conv2d(2, 3), maxpool(2), flatten(), dense(4))
  fit <- dnn(y ~ image + age, data = list(y = y, image = x, age = age), architecture = arch,
             epochs = 3, seed = 1, verbose = 0)
  expect_match(fit$layers[[1]], "reshape\\(\\(6, 6, 1\\), joined=1\\)")
  p <- predict(fit, list(image = x[1:4, , ], age = age[1:4]))
  expect_named(p, as.character(1:4))
  frame <- data.frame(y = y, age = age)
  frame$image <- matrix(x, n)  # each row an image's 36 values in R's (column-major) order
  expect_error(predict(fit, list(image = x[1:4, 1:5, ], age = age[1:4])), "fitted shape",
               class = "dlstat_error")
  expect_error(predict(fit, frame[1:4, c("y", "age")]), "must map names to arrays",
               class = "dlstat_error")
  dense_fit <- dnn(y ~ image + age, data = frame, hidden = c(3), epochs = 2, seed = 1, verbose = 0)
  expect_equal(dense_fit$n_inputs, 37L)
  expect_length(predict(dense_fit, frame[1:5, ]), 5L)
})

test_that("a small CNN on Fashion-MNIST from R gives Python's numbers", {
  skip_if_no_python()
  skip_if_not(dir.exists("/usr/share/datasets/fashion-mnist") ||
                nzchar(Sys.getenv("DLSTAT_FASHION_MNIST")), "Fashion-MNIST is not installed")
  fm <- fashion_mnist(n = 150)
  expect_identical(dim(fm$x), c(150L, 28L, 28L))
  expect_s3_class(fm$y, "factor")
  fit <- dnn(label ~ image, data = list(label = fm$y, image = fm$x),
             architecture = list(conv2d(2, 3), maxpool(4), flatten(), dense(8)), epochs = 2,
             seed = 3, verbose = 0)
  r_prob <- predict(fit, list(image = fm$x[1:10, , ]), type = "prob")
  py <- reticulate::py_run_string(paste(
    "import dlstat as dl",
    "x, y = dl.datasets.fashion_mnist(n=150)",
    "fit = dl.dnn('label ~ image', {'label': y, 'image': x}, architecture=[dl.conv2d(2, 3),",
    "             dl.maxpool(4), dl.flatten(), dl.dense(8)], epochs=2, seed=3, verbose=0)",
    "prob = fit.predict({'image': x[:10]}, type='prob').to_numpy().ravel().tolist()",
    sep = "\n"), local = TRUE)
  expect_equal(as.vector(t(as.matrix(r_prob))), unlist(py$prob), tolerance = 1e-12)
})

test_that("cv_dnn() cross-validates a CNN on a list of arrays with Python's numbers", {
  skip_if_no_python()
  n <- 60L
  d <- image_data(n, 5)
  x <- d$image
  age <- d$age
  y <- d$y
  x[7L, 2L, 2L] <- NA  # an incomplete image: left out, NA fold and prediction
  arch <- list(conv2d(2, 3), global_avgpool())
  expect_warning(
    cv <- cv_dnn(y ~ image + age, data = list(y = y, image = x, age = age), folds = 3,
                 architecture = arch, epochs = 3, seed = 1, verbose = 0),
    "missing values in .image.")
  expect_s3_class(cv, "dlstat_cv")
  expect_equal(cv$metrics$fold, 1:3)
  expect_equal(sum(cv$metrics$n_test), n - 1L)
  expect_named(cv$predictions, as.character(seq_len(n)))
  expect_true(is.na(cv$predictions[[7L]]) && is.na(cv$fold_ids[[7L]]))
  expect_equal(sort(unique(unname(cv$fold_ids[-7L]))), 1:3)
  # the same data in Python (R's column-major array read back with R's indexing)
  main <- reticulate::import_main()
  main$r_x <- as.vector(aperm(x, 3:1))
  main$r_y <- y
  main$r_age <- age
  py <- reticulate::py_run_string(paste(
    "import numpy as np, warnings, dlstat as dl",
    "x = np.array(r_x).reshape(60, 6, 6)",
    "with warnings.catch_warnings():",
    "    warnings.simplefilter('ignore')",
    "    cv = dl.cv_dnn('y ~ image + age', {'y': np.array(r_y), 'image': x, 'age': np.array(r_age)},",
    "                   folds=3, architecture=[dl.conv2d(2, 3), dl.global_avgpool()], epochs=3,",
    "                   seed=1, verbose=0)",
    "rmse = cv.metrics['rmse'].tolist()",
    sep = "\n"), local = TRUE)
  expect_equal(cv$metrics$rmse, unlist(py$rmse), tolerance = 1e-12)
  foldid <- rep(1:3, length.out = n)
  given <- cv_dnn(y ~ image, data = list(y = y, image = x), foldid = foldid,
                  architecture = arch, epochs = 1, seed = 1, verbose = 0) |>
    suppressWarnings()
  expect_equal(unname(given$fold_ids[-7L]), foldid[-7L])
  expect_error(cv_dnn(y ~ image, data = list(y = y, image = x), foldid = 1:5,
                      architecture = arch, epochs = 1, verbose = 0) |> suppressWarnings(),
               "one fold per observation of data \\(60\\)", class = "dlstat_error")
  expect_error(cv_dnn(y ~ image, data = list(y = y[-1], image = x), architecture = arch,
                      verbose = 0), "same length", class = "dlstat_error")
})

test_that("series_windows() gives Python's windows of sunspot.year", {
  skip_if_no_python()
  w <- series_windows(sunspot.year, steps = 10)
  expect_identical(dim(w$X_train), c(223L, 10L, 1L))
  expect_identical(w$t_test[[1]], 1933)
  expect_identical(w$X_train[1, , 1], as.numeric(sunspot.year[1:10]))
  expect_identical(w$y_train[[1]], as.numeric(sunspot.year[11]))
  expect_identical(length(w$y_test), length(sunspot.year) - 10L - 223L)
  expect_error(series_windows(letters, steps = 2), "numeric vector", class = "dlstat_error")
})
