# Prediction intervals (predict.lm's for a gaussian GLM, conformal otherwise), conformal sets
# and the calibration of classifiers.

test_that("a gaussian GLM's prediction interval is predict.lm's, with and without weights", {
  skip_if_no_python()
  new <- mtcars[seq(1, 32, by = 3), ]
  fit <- dnn(mpg ~ wt + hp + factor(cyl), data = mtcars, hidden = c(), optimizer = "lbfgs",
             verbose = 0)
  got <- predict(fit, new, interval = "prediction", level = 0.9)
  ref <- predict(lm(mpg ~ wt + hp + factor(cyl), data = mtcars), new,
                 interval = "prediction", level = 0.9)
  expect_equal(unclass(got)[, 1:3], ref, tolerance = 1e-8, ignore_attr = TRUE)
  expect_equal(colnames(got), c("fit", "lwr", "upr"))
  expect_equal(rownames(got), rownames(new))
  expect_match(attr(got, "method"), "predict.lm")

  cars <- transform(mtcars, w = seq(0.5, 2, length.out = 32))
  weighted <- dnn(mpg ~ wt + hp, data = cars, weights = w, hidden = c(), optimizer = "lbfgs",
                  verbose = 0)
  g <- lm(mpg ~ wt + hp, data = cars, weights = w)
  nd <- cars[1:5, ]
  expect_equal(unclass(predict(weighted, nd, interval = "prediction", weights = ~w))[, 1:3],
               predict(g, nd, interval = "prediction", weights = ~w), tolerance = 1e-8,
               ignore_attr = TRUE)
  expect_equal(unclass(predict(weighted, nd, interval = "prediction", weights = nd$w))[, 1:3],
               predict(g, nd, interval = "prediction", weights = nd$w), tolerance = 1e-8,
               ignore_attr = TRUE)
  expect_warning(predict(weighted, nd, interval = "prediction"), "constant prediction variance")
})

test_that("conformal intervals, sets, CV+ and calibration reach R", {
  skip_if_no_python()
  net <- dnn(mpg ~ wt + hp, data = mtcars, hidden = c(4), epochs = 20, validation = 0.25,
             seed = 1, verbose = 0)
  p <- predict(net, mtcars[1:4, ], interval = "prediction", level = 0.8)
  expect_match(attr(p, "method"), "split conformal")
  expect_true(all(p[, "lwr"] <= p[, "fit"] & p[, "fit"] <= p[, "upr"]))
  expect_error(predict(net, mtcars, type = "set"), "binomial or multinomial")

  cls <- dnn(Species ~ ., data = iris, hidden = c(4), epochs = 20, validation = 0.3, seed = 1,
             verbose = 0)
  s <- predict(cls, iris[c(1, 51, 101), ], type = "set", level = 0.9)
  expect_equal(colnames(s), levels(iris$Species))
  expect_type(s, "logical")
  expect_match(attr(s, "method"), "LAC")

  cv <- cv_dnn(mpg ~ wt + hp, data = mtcars, folds = 4, hidden = c(), optimizer = "lbfgs",
               verbose = 0)
  q <- predict(cv, mtcars[1:3, ], interval = "prediction", level = 0.8)
  expect_match(attr(q, "method"), "CV\\+")
  expect_equal(dim(q), c(3L, 3L))

  logit <- dnn(am ~ wt + hp, data = mtcars, hidden = c(), optimizer = "lbfgs", verbose = 0)
  cal <- calibration(logit, bins = 4, strategy = "quantile")
  expect_equal(tidy(cal)$n, c(8, 8, 8, 8))
  p1 <- predict(logit, type = "response")
  bins <- split(seq_along(p1), cut(rank(p1, ties.method = "first"), 4))
  gaps <- vapply(bins, function(i) abs(mean(mtcars$am[i]) - mean(p1[i])), numeric(1))
  expect_equal(glance(cal)$ece, sum(gaps * lengths(bins)) / 32, tolerance = 1e-10)
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off(), add = TRUE)
  expect_s3_class(plot(cal), "dlstat_calibration")
})
