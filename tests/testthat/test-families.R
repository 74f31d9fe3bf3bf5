# The family table from R: R's family objects (Gamma("log"), poisson(link = "sqrt"), ...) and
# family names, with every residual type, equal to glm() on the same data.

clotting <- data.frame(u = c(5, 10, 15, 20, 30, 40, 60, 80, 100),
                       lot1 = c(118, 58, 42, 35, 27, 25, 21, 19, 18))
ctl <- glm.control(epsilon = 1e-14, maxit = 100)

test_that("R family objects and dlstat's names give glm's numbers", {
  skip_if_no_python()
  cases <- list(
    list(lot1 ~ log(u), clotting, Gamma, Gamma),
    list(lot1 ~ log(u), clotting, Gamma("log"), Gamma("log")),
    list(lot1 ~ log(u), clotting, "gamma", Gamma),
    list(breaks ~ wool + tension, warpbreaks, quasipoisson, quasipoisson),
    list(am ~ wt, mtcars, binomial(link = "probit"), binomial(link = "probit"))
  )
  for (case in cases) {
    fit <- dnn(case[[1]], data = case[[2]], family = case[[3]], hidden = c(),
               optimizer = "lbfgs")
    ref <- glm(case[[1]], data = case[[2]], family = case[[4]], control = ctl)
    info <- paste(deparse(case[[1]]), format(case[[4]])[1])
    expect_equal(unname(coef(fit)), unname(coef(ref)), tolerance = 1e-6, info = info)
    expect_equal(unname(sqrt(diag(vcov(fit)))), unname(sqrt(diag(vcov(ref)))),
                 tolerance = 1e-5, info = info)
    for (type in c("deviance", "pearson", "working", "response")) {
      expect_equal(unname(residuals(fit, type = type)), unname(residuals(ref, type = type)),
                   tolerance = 1e-5, info = paste(info, type))
    }
  }
})

test_that("a family object and a different link= are refused", {
  skip_if_no_python()
  expect_error(dnn(lot1 ~ log(u), data = clotting, family = Gamma("log"), link = "inverse",
                   hidden = c(), optimizer = "lbfgs"), "disagree")
})

test_that("residuals of a poisson fit with an offset and weights are glm's", {
  skip_if_no_python()
  ins <- MASS::Insurance
  ins$Group <- factor(ins$Group, ordered = FALSE)
  w <- rep(c(1, 2), length.out = nrow(ins))
  fit <- dnn(Claims ~ Group + offset(log(Holders)), data = ins, family = "poisson",
             weights = w, hidden = c(), optimizer = "lbfgs")
  ref <- glm(Claims ~ Group + offset(log(Holders)), data = ins, family = poisson,
             weights = w, control = ctl)
  for (type in c("deviance", "pearson", "working", "response")) {
    expect_equal(unname(residuals(fit, type = type)), unname(residuals(ref, type = type)),
                 tolerance = 1e-5, info = type)
  }
})
