# The negative binomial from R: theta by maximum likelihood equal to MASS::glm.nb, a fixed theta
# (by name or as MASS::negative.binomial(theta)) equal to glm(), and tweedie's var_power refused
# with another family.

quine <- MASS::quine
ctl <- glm.control(epsilon = 1e-14, maxit = 100)

test_that("family = \"negative_binomial\" at hidden = c() is MASS::glm.nb", {
  skip_if_no_python()
  fit <- dnn(Days ~ ., data = quine, family = "negative_binomial", hidden = c(),
             optimizer = "lbfgs")
  ref <- MASS::glm.nb(Days ~ ., data = quine, control = ctl)
  expect_equal(unname(coef(fit)), unname(coef(ref)), tolerance = 1e-6)
  expect_equal(unname(sqrt(diag(vcov(fit)))), unname(sqrt(diag(vcov(ref)))), tolerance = 1e-5)
  g <- glance(fit)
  expect_equal(g$theta, ref$theta, tolerance = 1e-6)
  expect_equal(g$SE.theta, ref$SE.theta, tolerance = 1e-5)
  expect_equal(g$twologlik, ref$twologlik, tolerance = 1e-8)
  expect_equal(AIC(fit), AIC(ref), tolerance = 1e-8)
  expect_equal(g$deviance, deviance(ref), tolerance = 1e-6)
  for (type in c("deviance", "pearson", "working", "response")) {
    expect_equal(unname(residuals(fit, type = type)), unname(residuals(ref, type = type)),
                 tolerance = 1e-5, info = type)
  }
})

test_that("a fixed theta, by name or as negative.binomial(theta), is glm()'s", {
  skip_if_no_python()
  ref <- glm(Days ~ Sex + Lrn, data = quine, family = MASS::negative.binomial(2),
             control = ctl)
  for (fit in list(dnn(Days ~ Sex + Lrn, data = quine, family = "negative_binomial",
                       theta = 2, hidden = c(), optimizer = "lbfgs"),
                   dnn(Days ~ Sex + Lrn, data = quine, family = MASS::negative.binomial(2),
                       hidden = c(), optimizer = "lbfgs"))) {
    expect_equal(unname(coef(fit)), unname(coef(ref)), tolerance = 1e-6)
    expect_equal(AIC(fit), AIC(ref), tolerance = 1e-8)
    expect_equal(glance(fit)$theta, 2)
  }
})

test_that("a family parameter with a family that does not use it is refused", {
  skip_if_no_python()
  expect_error(dnn(Days ~ Sex, data = quine, family = "poisson", theta = 2, hidden = c(),
                   optimizer = "lbfgs"), 'theta = 2.* is a parameter of family "negative_binomial"')
  expect_error(dnn(Days ~ Sex, data = quine, family = "tweedie", hidden = c(),
                   optimizer = "lbfgs"), "needs var_power")
})
