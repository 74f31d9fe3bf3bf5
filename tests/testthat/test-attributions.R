test_that("attributions() of a linear model's saliency are its coefficients", {
  skip_if_no_python()
  fit <- dnn(mpg ~ wt + hp, data = mtcars, hidden = c(), optimizer = "lbfgs", verbose = 0)
  a <- attributions(fit, mtcars[1:3, ], method = "saliency")
  expect_equal(dim(a$values), c(3L, 2L))
  ref <- coef(lm(mpg ~ wt + hp, data = mtcars))[c("wt", "hp")]
  expect_equal(unname(a$values[2, ]), unname(ref), tolerance = 1e-4)
  expect_equal(nrow(tidy(a)), 6L)
  expect_error(filters(fit), "convolution")
})
