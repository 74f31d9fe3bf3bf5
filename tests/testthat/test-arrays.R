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
