# The prelude dnn(), cv_dnn(), compare() and dnn_path() share (.formula_endpoint() in
# R/convert.R): the call, the options given and glm()'s row arguments of the function that
# called it, also when that function is reached through a wrapper's `...`.

test_that("a formula function called through a wrapper reads its own call, subset and weights", {
  skip_if_no_python()
  wrap <- function(d, ...) dnn(mpg ~ wt, data = d, hidden = c(), optimizer = "lbfgs", ...)
  fit <- wrap(mtcars, subset = cyl > 4, weights = hp)
  ref <- glm(mpg ~ wt, data = mtcars, subset = cyl > 4, weights = hp)
  expect_equal(fit$n_obs, sum(mtcars$cyl > 4))
  expect_equal(unname(coef(fit)), unname(coef(ref)), tolerance = 1e-6)
  expect_identical(fit$call[[1L]], as.name("dnn"))
  expect_identical(fit$call$data, as.name("d"))
})

test_that("each formula function sends only the options it was given, under their names", {
  skip_if_no_python()
  cv <- cv_dnn(mpg ~ wt, data = mtcars, folds = 3, hidden = c(), optimizer = "lbfgs", seed = 2,
               subset = am == 1)
  expect_identical(cv$call, quote(cv_dnn(formula = mpg ~ wt, data = mtcars, folds = 3, seed = 2,
                                         subset = am == 1, hidden = c(),
                                         optimizer = "lbfgs")))
  expect_length(cv$fold_ids, sum(mtcars$am == 1))
  expect_match(cv$python_call, "folds=3")
  expect_no_match(cv$python_call, "repeats")  # not given: Python's default applies
  expect_error(dnn_path(mpg ~ wt, data = mtcars, hidden = c(), na.action = na.fail,
                        na_action = "omit"), "give na.action or na_action, not both")
})
