test_that("bootstrap effects, importance and partial dependence equal Python's numbers", {
  skip_if_no_python()
  fit <- dnn(mpg ~ wt + hp + factor(cyl), data = mtcars, hidden = c(), optimizer = "lbfgs",
             bootstrap = 10, seed = 2, verbose = 0)
  dl <- dl_py()
  py_fit <- dl$dnn("mpg ~ wt + hp + factor(cyl)", data = dl$datasets$mtcars(),
                   hidden = reticulate::tuple(), optimizer = "lbfgs", bootstrap = 10L,
                   seed = 2L, verbose = 0L)
  py_table <- function(result) .decode_frame(.rcall("tidy", result))

  e <- effects(fit)
  expect_s3_class(e, "dlstat_effects")
  expect_named(tidy(e), c("term", "contrast", "estimate", "std.error", "statistic",
                          "p.value", "conf.low", "conf.high", "sd"))
  expect_equal(tidy(e), py_table(py_fit$effects()), tolerance = 1e-10)
  expect_equal(tidy(e)$estimate[1:2], unname(coef(fit)[c("wt", "hp")]), tolerance = 1e-6)
  expect_equal(tidy(effects(fit, level = 0.8))$conf.low,
               py_table(py_fit$effects(level = 0.8))$conf.low, tolerance = 1e-10)

  imp <- importance(fit)
  expect_equal(tidy(imp), py_table(py_fit$importance()), tolerance = 1e-10)
  expect_match(paste(capture.output(print(imp)), collapse = "\n"), "Signif. codes")

  pd <- partial_dependence(fit, "wt", grid = 5)
  expect_equal(tidy(pd), py_table(py_fit$partial_dependence("wt", grid = 5L)),
               tolerance = 1e-10)
  expect_equal(nrow(tidy(partial_dependence(fit, "hp", kind = "ice", grid = 3))), 3 * 32)
  expect_equal(tidy(partial_dependence(fit, "cyl"))$value, c("4", "6", "8"))
  path <- tempfile(fileext = ".png")
  grDevices::png(path)
  expect_identical(plot(pd), pd)
  plot(partial_dependence(fit, "cyl"))
  plot(partial_dependence(fit, "hp", kind = "ice", grid = 3))
  ir <- dnn(Species ~ Sepal.Length + Petal.Width, data = iris, hidden = c(3), epochs = 5,
            bootstrap = 2, seed = 1, verbose = 0)
  ir_pd <- partial_dependence(ir, "Petal.Width", grid = 4)
  expect_equal(unique(tidy(ir_pd)$response), levels(iris$Species))
  plot(ir_pd)
  grDevices::dev.off()
  expect_true(file.exists(path))

  text <- paste(capture.output(print(summary(fit))), collapse = "\n")
  expect_match(text, "Average marginal effects:")
  expect_match(text, "Permutation importance:")
})

test_that("bad bootstrap values and mistaken calls are refused with dlstat's message", {
  skip_if_no_python()
  expect_error(dnn(mpg ~ wt, data = mtcars, bootstrap = -1), "bootstrap must be at least 2",
               class = "dlstat_error")
  expect_error(dnn(mpg ~ wt, data = mtcars, bootstrap = 1.5), "bootstrap must be a whole number",
               class = "dlstat_error")
  expect_error(dnn(mpg ~ wt, data = mtcars, bootstrap = "10"), "bootstrap",
               class = "dlstat_error")
  expect_error(dnn(mpg ~ wt, data = mtcars, bootstrap = 1e6), "at most 1000",
               class = "dlstat_error")
  fit <- dnn(mpg ~ wt, data = mtcars, hidden = c(), optimizer = "lbfgs", verbose = 0)
  expect_true(all(is.na(tidy(effects(fit, per = "column"))$std.error)))
  expect_error(partial_dependence(fit, "nope"), "choose one of", class = "dlstat_error")
  expect_error(partial_dependence(fit, "wt", kind = "x"), "should be one of")
  expect_error(partial_dependence(mtcars, "wt"), "model from dnn")
  boot <- dnn(mpg ~ wt, data = mtcars, hidden = c(), optimizer = "lbfgs", bootstrap = 3,
              verbose = 0)
  expect_error(save_dnn(boot, tempfile()), "drop_bootstrap", class = "dlstat_error")
})

test_that("predict(interval = \"confidence\") of a bootstrapped network gives its percentile interval", {
  skip_if_no_python()
  set.seed(1)
  d <- data.frame(x1 = rnorm(80), x2 = rnorm(80))
  d$y <- sin(d$x1) + rnorm(80, sd = 0.3)
  # trained until the validation loss stopped falling (an unconverged fit gets NA intervals)
  fit <- dnn(y ~ x1 + x2, d, hidden = c(4), epochs = 500, learning_rate = 0.02,
             validation = 0.2, early_stopping = 3, bootstrap = 3, seed = 2, verbose = 0)
  p <- predict(fit, d[1:3, ], interval = "confidence", level = 0.9)
  expect_true(is.matrix(p))
  expect_identical(colnames(p), c("fit", "lwr", "upr"))
  expect_true(all(p[, "lwr"] <= p[, "upr"]))
  expect_equal(unname(p[, "fit"]), unname(predict(fit, d[1:3, ])), tolerance = 1e-12)
})

test_that("an unconverged network's effects keep their estimates, not their intervals", {
  skip_if_no_python()
  set.seed(1)
  d <- data.frame(x1 = runif(120, -2, 2), x2 = runif(120, -2, 2))
  d$y <- sin(d$x1) + d$x2 + rnorm(120, sd = 0.5)
  fit <- dnn(y ~ x1 + x2, d, hidden = c(8), epochs = 10, bootstrap = 3, seed = 1, verbose = 0)
  e <- tidy(effects(fit))
  expect_true(all(is.finite(e$estimate)))
  expect_true(all(is.na(e$std.error)) && all(is.na(e$conf.low)) && all(is.na(e$conf.high)))
  expect_match(paste(capture.output(print(effects(fit))), collapse = "\n"), "not converged")
  # the same refusal for its prediction intervals and its importance
  expect_warning(p <- predict(fit, d[1:3, ], interval = "confidence"), "not converged",
                 class = "dlstat_warning")
  expect_true(all(is.finite(p[, "fit"])) && all(is.na(p[, c("lwr", "upr")])))
  imp <- tidy(importance(fit))
  expect_true(all(is.finite(imp$estimate)) && all(is.na(imp$conf.low)))
})
