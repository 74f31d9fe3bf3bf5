# Prior weights, offsets and binomial counts against R's own glm().

glm_numbers <- function(g) {
  list(coef = unname(stats::coef(g)), se = unname(summary(g)$coefficients[, 2]),
       deviance = stats::deviance(g), null = g$null.deviance, aic = stats::AIC(g),
       loglik = as.numeric(stats::logLik(g)))
}

expect_matches_glm <- function(fit, g) {
  ref <- glm_numbers(g)
  t <- tidy(fit)
  gl <- glance(fit)
  expect_equal(unname(coef(fit)), ref$coef, tolerance = 1e-5)
  expect_equal(t$std.error, ref$se, tolerance = 1e-4)
  expect_equal(fit$deviance, ref$deviance, tolerance = 1e-6)
  expect_equal(fit$null_deviance, ref$null, tolerance = 1e-6)
  expect_equal(gl$AIC, ref$aic, tolerance = 1e-6)
  expect_equal(gl$logLik, ref$loglik, tolerance = 1e-6)
}

test_that("prior weights: a vector, a string and an unquoted column give glm()'s fit", {
  skip_if_no_python()
  w <- rep(c(1, 2, 3, 0.5), 8)
  g <- stats::glm(mpg ~ wt + hp, data = mtcars, weights = w)
  by_vector <- dnn(mpg ~ wt + hp, data = mtcars, hidden = c(), optimizer = "lbfgs",
                   weights = w, verbose = 0)
  expect_matches_glm(by_vector, g)
  cars <- transform(mtcars, pw = w)
  by_name <- dnn(mpg ~ wt + hp, data = cars, hidden = c(), optimizer = "lbfgs",
                 weights = pw, verbose = 0)
  by_string <- dnn(mpg ~ wt + hp, data = cars, hidden = c(), optimizer = "lbfgs",
                   weights = "pw", verbose = 0)
  expect_equal(coef(by_name), coef(by_vector), tolerance = 1e-8)
  expect_equal(coef(by_string), coef(by_vector), tolerance = 1e-8)
})

test_that("cbind(successes, failures) with binomial is glm()'s counts model", {
  skip_if_no_python()
  es <- within(esoph, {agegp <- factor(agegp, ordered = FALSE)
                       alcgp <- factor(alcgp, ordered = FALSE)})
  fit <- dnn(cbind(ncases, ncontrols) ~ agegp + alcgp, data = es, family = "binomial",
             hidden = c(), optimizer = "lbfgs", verbose = 0)
  g <- stats::glm(cbind(ncases, ncontrols) ~ agegp + alcgp, data = es, family = binomial)
  expect_matches_glm(fit, g)
  expect_equal(unname(fitted(fit)), unname(stats::fitted(g)), tolerance = 1e-5)
  es$trials <- es$ncases + es$ncontrols
  prop <- dnn(p ~ agegp + alcgp, data = transform(es, p = ncases / trials),
              family = "binomial", hidden = c(), optimizer = "lbfgs", weights = trials,
              verbose = 0)
  expect_equal(unname(coef(prop)), unname(coef(fit)), tolerance = 1e-6)
})

test_that("an offset (a formula term or offset =) is glm()'s, in prediction too", {
  skip_if_no_python()
  es <- within(esoph, {agegp <- factor(agegp, ordered = FALSE)
                       alcgp <- factor(alcgp, ordered = FALSE)
                       n <- ncases + ncontrols})
  fit <- dnn(ncases ~ agegp + alcgp + offset(log(n)), data = es, family = "poisson",
             hidden = c(), optimizer = "lbfgs", verbose = 0)
  g <- stats::glm(ncases ~ agegp + alcgp + offset(log(n)), data = es, family = poisson,
                  control = stats::glm.control(epsilon = 1e-14, maxit = 100))
  expect_matches_glm(fit, g)
  new <- es[1:5, ]
  expect_equal(unname(predict(fit, newdata = new, type = "link")),
               unname(stats::predict(g, newdata = new, type = "link")), tolerance = 1e-5)
  es$logn <- log(es$n)
  by_option <- dnn(ncases ~ agegp + alcgp, data = es, family = "poisson", hidden = c(),
                   optimizer = "lbfgs", offset = logn, verbose = 0)
  expect_equal(coef(by_option), coef(fit), tolerance = 1e-8)
  expect_error(predict(fit, newdata = es[, c("agegp", "alcgp", "ncases")]), "\\bn\\b",
               class = "dlstat_error")
})

test_that("offset = names its column whatever the name, and never splices formula text", {
  skip_if_no_python()
  cars <- mtcars
  cars[["log disp) + hp"]] <- log(cars$disp)
  fit <- dnn(mpg ~ wt, data = cars, hidden = c(), optimizer = "lbfgs",
             offset = "log disp) + hp", verbose = 0)
  g <- stats::glm(mpg ~ wt + offset(log(disp)), data = mtcars)
  expect_equal(coef(fit), coef(g), tolerance = 1e-6)
  cars$x <- 0
  cars$y <- 0
  cars[["x` + log(hp) + `y"]] <- log(cars$disp)
  expect_error(dnn(mpg ~ wt, data = cars, hidden = c(), offset = "x` + log(hp) + `y"),
               "backquote", class = "dlstat_error")
})

test_that("bad weights are refused with dlstat errors that name the problem", {
  skip_if_no_python()
  expect_error(dnn(mpg ~ wt, data = mtcars, hidden = c(), weights = -rep(1, 32)),
               "non-negative", class = "dlstat_error")
  expect_error(dnn(mpg ~ wt, data = mtcars, hidden = c(), weights = rep(1, 3)),
               "one number per row", class = "dlstat_error")
  expect_error(dnn(mpg ~ wt, data = mtcars, hidden = c(), weights = list(1)),
               "numeric vector", class = "dlstat_error")
  expect_error(dnn(mpg ~ wt + offset(system("ls")), data = mtcars, hidden = c()),
               class = "dlstat_error")
})

test_that("cv_dnn, compare and dnn_path take weights and offset", {
  skip_if_no_python()
  w <- rep(c(1, 2), 16)
  cv <- cv_dnn(mpg ~ wt, data = mtcars, folds = 4, hidden = c(), optimizer = "lbfgs",
               weights = w, offset = hp / 100, seed = 1, verbose = 0)
  expect_equal(nrow(cv$metrics), 4)
  cmp <- compare(mpg ~ wt, data = mtcars, folds = 4, hidden = c(), optimizer = "lbfgs",
                 weights = w, seed = 1, verbose = 0)
  expect_true(all(c("null", "glm") %in% cmp$table$model))
  path <- dnn_path(mpg ~ wt + hp, data = mtcars, n_penalties = 3, folds = 3, hidden = c(),
                   optimizer = "lbfgs", weights = w, verbose = 0)
  expect_equal(nrow(tidy(path)), 3)
})
