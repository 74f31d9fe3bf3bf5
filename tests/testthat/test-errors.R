# Python's messages reach R users in R notation (dlstat/fronts/rnotation.py, applied by the bridge).

message_of <- function(expr) tryCatch({
  expr
  NA_character_
}, error = conditionMessage)

python_spelling <- "None|True|False|'|=\\(|\\[\"|hidden=|n=N"

test_that("errors about options read in R notation", {
  skip_if_no_python()
  m <- message_of(dnn(mpg ~ wt, data = mtcars, hidden = "a"))
  expect_match(m, "a vector of layer widths such as c(32, 16), or c() for none; got \"a\".",
               fixed = TRUE)
  m <- message_of(dnn(mpg ~ wt, data = mtcars, activation = "swishy"))
  expect_match(m, "activation must be one of \"relu\", \"sigmoid\"", fixed = TRUE)
  expect_match(m, "got \"swishy\"", fixed = TRUE)
  m2 <- message_of(dnn(mpg ~ wt, data = mtcars, batchnorm = "yes"))
  expect_match(m2, "batchnorm must be TRUE or FALSE; got \"yes\".", fixed = TRUE)
  m3 <- message_of(dnn(mpg ~ wt, data = mtcars, hidden = c(32, -1)))
  expect_match(m3, "Example: hidden = c(32, 16).", fixed = TRUE)
  m4 <- message_of(dnn(mpg ~ wt, data = mtcars, family = "gauss"))
  expect_match(m4, "or NULL (chosen from the response); got \"gauss\"", fixed = TRUE)
  for (text in c(m, m2, m3, m4)) expect_false(grepl(python_spelling, text), info = text)
})

test_that("errors about data and formulas read in R notation", {
  skip_if_no_python()
  m <- message_of(partition(iris, stratify = "nope"))
  expect_match(m, "stratify = \"nope\" is not a column", fixed = TRUE)
  expect_match(m, "c(\"Sepal.Length\", \"Sepal.Width\"", fixed = TRUE)
  m2 <- message_of(dnn(mpg ~ nope, data = mtcars))
  expect_match(m2, "formula \"mpg ~ nope\" uses \"nope\"", fixed = TRUE)
  m3 <- message_of(fashion_mnist("test", n = 20000))
  expect_match(m3, "pass n <= 10000 or n = NULL", fixed = TRUE)
  for (text in c(m, m2, m3)) expect_false(grepl(python_spelling, text), info = text)
})

test_that("a column whose type changed since the fit is refused, never predicted NA", {
  skip_if_no_python()
  cars <- transform(mtcars, am = as.logical(am))
  fit <- dnn(mpg ~ wt + am, data = cars, hidden = c(), optimizer = "lbfgs", verbose = 0)
  expect_equal(unname(predict(fit, newdata = cars)), unname(fitted(fit)), tolerance = 1e-10)
  for (numbers in list(mtcars, transform(mtcars, am = as.integer(am)))) {
    expect_error(predict(fit, newdata = numbers), class = "dlstat_error")
    m <- message_of(predict(fit, newdata = numbers))
    expect_match(m, "column \"am\" of newdata holds numbers", fixed = TRUE)
    expect_match(m, "fitted with true/false values", fixed = TRUE)
    expect_match(m, "as.logical()", fixed = TRUE)
  }
  numeric_fit <- dnn(mpg ~ wt + am, data = mtcars, hidden = c(), optimizer = "lbfgs",
                     verbose = 0)
  expect_error(predict(numeric_fit, newdata = cars), "holds true/false values",
               class = "dlstat_error")
})
