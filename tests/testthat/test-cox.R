skip_if_no_dlstat <- function() testthat::skip_if_not(dlstat_available(), "dlstat Python not available")

test_that("dnn(Surv(time, status) ~ ...) equals survival::coxph with both ties", {
  skip_if_no_dlstat()
  skip_if_not_installed("survival")
  lung <- survival::lung
  for (ties in c("efron", "breslow")) {
    fit <- suppressWarnings(dnn(survival::Surv(time, status) ~ age + sex + ph.ecog, data = lung, hidden = c(),
               optimizer = "lbfgs", ties = ties, verbose = 0))
    ref <- survival::coxph(survival::Surv(time, status) ~ age + sex + ph.ecog, data = lung,
                           ties = ties)
    expect_equal(unname(coef(fit)), unname(coef(ref)), tolerance = 1e-6)
    expect_equal(unname(sqrt(diag(vcov(fit)))), unname(sqrt(diag(vcov(ref)))), tolerance = 1e-5)
    expect_equal(as.numeric(logLik(fit)), ref$loglik[2], tolerance = 1e-9)
    expect_equal(AIC(fit), AIC(ref), tolerance = 1e-9)
    expect_equal(unname(residuals(fit, type = "martingale")),
                 unname(residuals(ref, type = "martingale")), tolerance = 1e-6)
    keep <- head(stats::na.omit(lung[c("time", "status", "age", "sex", "ph.ecog")]), 3)
    surv <- predict(fit, keep, type = "survival", times = c(100, 300))
    expected <- t(summary(survival::survfit(ref, newdata = keep), times = c(100, 300))$surv)
    expect_equal(unname(as.matrix(surv)), unname(expected), tolerance = 1e-6)
    expect_equal(unname(predict(fit, keep, type = "risk")),
                 unname(predict(ref, keep, type = "risk")), tolerance = 1e-6)
  }
})

test_that("Surv() without survival attached and a plain Surv(time, status) give the same fit", {
  skip_if_no_dlstat()
  ovarian <- survival::ovarian
  a <- dnn(Surv(futime, fustat) ~ age + resid.ds, data = ovarian, hidden = c(),
           optimizer = "lbfgs", verbose = 0)
  ref <- survival::coxph(survival::Surv(futime, fustat) ~ age + resid.ds, data = ovarian)
  expect_equal(unname(coef(a)), unname(coef(ref)), tolerance = 1e-6)
  expect_error(dnn(mpg ~ wt, data = mtcars, family = "cox", hidden = c(), verbose = 0),
               "Surv")
})
