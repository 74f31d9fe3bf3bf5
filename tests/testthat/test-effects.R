# Effects per variable from R equal Python's numbers, and at hidden = c() they are what R's
# glm gives: the average contrast and its delta-method standard error, computed here from
# coef(), vcov() and predict() on the moved data.
budworm_data <- function() {
  b <- data.frame(ldose = rep(0:5, 2), numdead = c(1, 4, 9, 13, 18, 20, 0, 2, 6, 10, 12, 16),
                  sex = factor(rep(c("M", "F"), c(6, 6))))
  b$numalive <- 20 - b$numdead
  b
}

test_that("effects() per variable equal Python's and R's glm with the delta method", {
  skip_if_no_python()
  b <- budworm_data()
  fit <- dnn(cbind(numdead, numalive) ~ sex * ldose, data = b, family = "binomial",
             hidden = c(), optimizer = "lbfgs", verbose = 0)
  e <- tidy(effects(fit))
  expect_equal(e$term, c("sex", "ldose"))
  expect_equal(e$contrast, c("M - F", "dY/dX"))

  g <- glm(cbind(numdead, numalive) ~ sex * ldose, family = binomial, data = b,
           control = glm.control(epsilon = 1e-14, maxit = 100))
  contrast <- function(beta) {
    g$coefficients <- beta
    m <- b; m$sex <- factor("M", levels = c("F", "M"))
    f <- b; f$sex <- factor("F", levels = c("F", "M"))
    mean(predict(g, m, type = "response") - predict(g, f, type = "response"))
  }
  beta <- coef(g)
  J <- sapply(seq_along(beta), function(i) {
    up <- beta; dn <- beta; up[i] <- up[i] + 1e-6; dn[i] <- dn[i] - 1e-6
    (contrast(up) - contrast(dn)) / 2e-6
  })
  expect_equal(e$estimate[1], contrast(beta), tolerance = 1e-6)
  expect_equal(e$std.error[1], sqrt(drop(t(J) %*% vcov(g) %*% J)), tolerance = 1e-5)

})

test_that("effects() passes variables, by, newdata, hypothesis, equivalence and per to Python", {
  skip_if_no_python()
  fit <- dnn(mpg ~ wt * factor(am) + I(hp^2), data = mtcars, hidden = c(),
             optimizer = "lbfgs", verbose = 0)
  dl <- dl_py()
  py_fit <- dl$dnn("mpg ~ wt * factor(am) + I(hp^2)", data = dl$datasets$mtcars(),
                   hidden = reticulate::tuple(), optimizer = "lbfgs", verbose = 0L)
  py_table <- function(result) .decode_frame(.rcall("tidy", result))
  expect_equal(tidy(effects(fit)), py_table(py_fit$effects()), tolerance = 1e-10)
  by_am <- tidy(effects(fit, variables = "wt", by = "am", hypothesis = "b2 - b1 = 0",
                        equivalence = c(-1, 1)))
  expect_equal(by_am, py_table(py_fit$effects(variables = "wt", by = "am",
                                              hypothesis = "b2 - b1 = 0",
                                              equivalence = reticulate::tuple(-1, 1))),
               tolerance = 1e-10)
  # the slope of wt differs between the am groups by the interaction coefficient
  expect_equal(by_am$estimate, unname(coef(fit)["wt:factor(am)1"]), tolerance = 1e-6)
  expect_true("p.value.equiv" %in% names(by_am))
  new <- mtcars[1:10, ]
  expect_equal(tidy(effects(fit, newdata = new, variables = c("hp", "wt"))),
               py_table(py_fit$effects(newdata = dl$datasets$mtcars()$head(10L),
                                       variables = list("hp", "wt"))), tolerance = 1e-10)
  expect_equal(tidy(effects(fit, per = "column"))$term,
               c("wt", "factor(am)1", "I(hp^2)", "wt:factor(am)1"))
  expect_error(effects(fit, variables = "nope"), "not among", class = "dlstat_error")
  expect_error(effects(fit, hypothesis = "system('ls')"), "hypothesis", class = "dlstat_error")
})
