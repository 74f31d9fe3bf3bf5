test_that("dnn() fits and the methods print, summarise, tidy and plot", {
  skip_if_no_python()
  fit <- dnn(mpg ~ wt + hp + factor(cyl), data = mtcars, hidden = c(4), epochs = 10,
             validation = 0.25, seed = 1)
  expect_s3_class(fit, "dlstat_fit")
  expect_equal(fit$family, "gaussian")
  expect_equal(fit$hidden, 4L)
  expect_equal(fit$n_obs, 24L)
  expect_equal(fit$n_validation, 8L)
  expect_equal(nobs(fit), 24L)
  expect_equal(deviance(fit), fit$deviance)
  expect_equal(formula(fit), mpg ~ wt + hp + factor(cyl))
  expect_equal(nrow(fit$history), 10L)
  expect_true(all(c("epoch", "loss", "val_loss") %in% names(fit$history)))
  out <- capture.output(print(fit))
  expect_true(any(grepl("dnn\\(formula = mpg ~ wt", out)))
  expect_true(any(grepl("dense\\(4, relu\\)", out)))

  s <- summary(fit)
  expect_s3_class(s, "summary.dlstat_fit")
  expect_named(s$tables, c("model", "architecture", "training", "fit", "deviance"))
  expect_tables_match(s$tables, py_result(fit, "summary")$tables)
  expect_tables_match(list(tidy = tidy(fit), glance = glance(fit)),
                      reticulate::dict(tidy = py_result(fit, "tidy"), glance = py_result(fit, "glance")))
  expect_true(all(c("train", "validation") %in% rownames(s$tables$fit)))
  expect_equal(s$tables$architecture$units, c(4L, 4L, 1L))
  printed <- capture.output(print(s))
  expect_true(any(grepl("^Architecture:", printed)))
  expect_true(any(grepl("Residual deviance", printed)))
  expect_true(any(grepl("^\\[1\\] family chosen", printed)))

  t <- tidy(fit)
  expect_equal(t$column, c("wt", "hp", "factor(cyl)6", "factor(cyl)8"))
  g <- glance(fit)
  expect_equal(nrow(g), 1L)
  expect_equal(g$nobs, 24L)
  a <- augment(fit)
  expect_equal(dim(a), c(32L, 13L))
  expect_equal(rownames(a), rownames(mtcars))
  expect_equal(a$.resid, mtcars$mpg - a$.fitted)
  a2 <- augment(fit, newdata = mtcars[1:3, ])
  expect_equal(a2$.fitted, unname(predict(fit, mtcars[1:3, ])))

  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off(), add = TRUE)
  expect_identical(plot(fit), fit)
  expect_error(coef(fit), "without hidden layers", class = "dlstat_error")
})

test_that("a network without hidden layers is the GLM: coef() matches glm()", {
  skip_if_no_python()
  for (hidden in list(c(), NULL, integer(0))) {
    fit <- dnn(mpg ~ wt + hp + factor(cyl), data = mtcars, hidden = hidden, optimizer = "lbfgs")
    expect_true(fit$glm)
    ref <- stats::coef(stats::glm(mpg ~ wt + hp + factor(cyl), data = mtcars))
    expect_equal(unname(coef(fit)), unname(ref), tolerance = 1e-6)
  }
  expect_equal(names(coef(fit))[1:3], c("(Intercept)", "wt", "hp"))
  b <- glm_fit(am ~ wt, family = "binomial")
  ref <- stats::coef(stats::glm(am ~ wt, data = mtcars, family = binomial))
  expect_equal(unname(coef(b)), unname(ref), tolerance = 1e-5)
  # setosa is separable on these two measurements: like glm(), dlstat warns
  expect_warning(m <- glm_fit(Species ~ Sepal.Length + Sepal.Width, data = iris),
                 "separable")
  cm <- coef(m)
  expect_true(is.matrix(cm))
  expect_equal(colnames(cm), levels(iris$Species))
  expect_equal(rownames(cm), c("(Intercept)", "Sepal.Length", "Sepal.Width"))
  expect_equal(tidy(glm_fit())$term, c("(Intercept)", "wt", "hp"))
})

test_that("predict() returns vectors, factors with the original levels and probability frames", {
  skip_if_no_python()
  fit <- dnn(Species ~ ., data = iris, hidden = c(4), epochs = 5, seed = 1)
  rows <- iris[c(101, 1, 51), ]
  cls <- predict(fit, rows, type = "class")
  expect_s3_class(cls, "factor")
  expect_equal(levels(cls), levels(iris$Species))
  expect_equal(names(cls), c("101", "1", "51"))
  prob <- predict(fit, rows, type = "prob")
  expect_s3_class(prob, "data.frame")
  expect_equal(names(prob), levels(iris$Species))
  expect_equal(rownames(prob), c("101", "1", "51"))
  expect_equal(unname(rowSums(prob)), rep(1, 3), tolerance = 1e-12)
  expect_equal(predict(fit, rows), prob)  # multinomial response = probabilities
  link <- predict(fit, rows, type = "link")
  expect_equal(dim(link), c(3L, 3L))
  expect_equal(as.character(cls), levels(iris$Species)[max.col(as.matrix(prob))])

  d <- mtcars
  d$am <- factor(ifelse(d$am == 1, "manual", "auto"), levels = c("manual", "auto"))
  b <- dnn(am ~ wt + hp, data = d, hidden = c(), optimizer = "lbfgs")
  expect_equal(b$family, "binomial")
  p <- predict(b, d)
  expect_true(is.numeric(p))
  expect_equal(names(p), rownames(d))
  expect_equal(levels(predict(b, d, type = "class")), c("manual", "auto"))
  pr <- predict(b, d, type = "prob")
  expect_equal(names(pr), c("manual", "auto"))
  expect_equal(pr$auto, unname(p))
  expect_error(predict(glm_fit(), mtcars, type = "class"), "classification family",
               class = "dlstat_error")
  expect_error(predict(b, d, type = "nope"), "should be one of")
})

test_that("predict() keeps the names and order of newdata and gives NA for incomplete rows", {
  skip_if_no_python()
  fit <- glm_fit()
  all <- predict(fit, mtcars)
  expect_equal(names(all), rownames(mtcars))
  shuffled <- mtcars[c(5, 1, 3), ]
  expect_equal(predict(fit, shuffled), all[c(5, 1, 3)])
  holes <- mtcars[1:4, ]
  holes$wt[2] <- NA
  p <- predict(fit, holes)
  expect_equal(names(p), rownames(holes))
  expect_true(is.na(p[[2]]))
  expect_equal(p[-2], all[c(1, 3, 4)])
  plain <- data.frame(wt = c(2, 3), hp = c(100, 150))
  expect_equal(names(predict(fit, plain)), c("1", "2"))
  expect_equal(unname(fitted(fit)), unname(all))
  expect_warning(na <- glm_fit(data = holes), class = "dlstat_warning")
  expect_equal(na$n_dropped, 1L)
})

test_that("every column type can be used in a formula", {
  skip_if_no_python()
  set.seed(1)
  n <- 60
  d <- data.frame(y = stats::rnorm(n), num = stats::rnorm(n), int = sample(1:5, n, TRUE),
                  lgl = stats::runif(n) > 0.5, chr = sample(c("a", "b"), n, TRUE),
                  fac = factor(sample(c("u", "v", "w"), n, TRUE)),
                  ord = factor(sample(c("lo", "hi"), n, TRUE), levels = c("lo", "hi"), ordered = TRUE),
                  date = as.Date("2020-01-01") + 1:n, stringsAsFactors = FALSE)
  fit <- dnn(y ~ ., data = d, hidden = c(), optimizer = "lbfgs")
  expect_equal(fit$n_obs, n)
  expect_length(predict(fit, d), n)
})

test_that("Python errors arrive as dlstat_error conditions with dlstat's message", {
  skip_if_no_python()
  err <- tryCatch(dnn(mpg ~ wt, data = mtcars, hidden = "a"), error = identity)
  expect_s3_class(err, "dlstat_error")
  expect_identical(class(err), c("dlstat_error", "error", "condition"))
  expect_match(conditionMessage(err), "^hidden must be")
  expect_false(grepl("Traceback|File \"", conditionMessage(err)))
  expect_identical(err$python_type, "OptionTypeError")
  main <- reticulate::py_run_string(paste(
    "import dlstat",
    "try:",
    "    dlstat.dnn('mpg ~ wt', dlstat.datasets.mtcars(), hidden='a')",
    "except Exception as e:",
    "    message = str(e)", sep = "\n"))
  notation <- reticulate::import("dlstat.fronts.rnotation")
  expect_identical(conditionMessage(err), notation$r_notation(main$message))
  expect_match(conditionMessage(err), "such as c(32, 16), or c() for none; got \"a\".", fixed = TRUE)
  expect_error(dnn(mpg ~ nope, data = mtcars), "\"nope\", which is not a column", class = "dlstat_error")
  expect_error(dnn(mpg ~ wt, data = mtcars, hiden = 4), "did you mean \"hidden\"", class = "dlstat_error")
  expect_error(dnn(mpg ~ wt, data = mtcars, epochs = 2.5), "epochs must be a whole number",
               class = "dlstat_error")
  expect_error(dnn(mpg ~ wt, data = "mtcars"), "data must be a data frame", class = "dlstat_error")
})

test_that("the same seed and data give the same predictions in R and in Python", {
  skip_if_no_python()
  fit <- dnn(mpg ~ wt + hp, data = mtcars, hidden = c(4), epochs = 15, seed = 1)
  dl <- dl_py()
  py_fit <- dl$dnn("mpg ~ wt + hp", data = dl$datasets$mtcars(), hidden = reticulate::tuple(4L),
                   epochs = 15L, seed = 1L)
  py_pred <- .decode_result(.rcall("predict", py_fit, .encode_frame(mtcars), "response", NULL))
  expect_equal(predict(fit, mtcars), py_pred, tolerance = 1e-12)
  again <- dnn(mpg ~ wt + hp, data = mtcars, hidden = c(4), epochs = 15, seed = 1)
  expect_identical(predict(again, mtcars), predict(fit, mtcars))

  ir <- dnn(Species ~ ., data = iris, hidden = c(3), epochs = 5, seed = 2)
  py_ir <- dl$dnn("Species ~ .", data = dl$datasets$iris(), hidden = reticulate::tuple(3L),
                  epochs = 5L, seed = 2L)
  py_prob <- .decode_result(.rcall("predict", py_ir, .encode_frame(iris), "prob", NULL),
                            names = rownames(iris))
  expect_equal(predict(ir, iris, type = "prob"), py_prob, tolerance = 1e-12)
})

test_that("save_dnn()/load_dnn() share model files with Python, both ways", {
  skip_if_no_python()
  dir <- tempfile("models")
  dir.create(dir)
  fit <- dnn(Species ~ ., data = iris, hidden = c(3), epochs = 5, seed = 3)
  r_file <- file.path(dir, "from-r.dlstat")
  expect_identical(save_dnn(fit, r_file), r_file)
  same <- load_dnn(r_file)
  expect_s3_class(same, "dlstat_fit")
  expect_equal(predict(same, iris, type = "prob"), predict(fit, iris, type = "prob"))
  expect_error(predict(same), "pass newdata", class = "dlstat_error")
  expect_error(augment(same), "pass data", class = "dlstat_error")
  expect_equal(nrow(augment(same, data = iris[1:5, ])), 5L)
  # R -> Python
  dl <- dl_py()
  in_python <- dl$load(r_file)
  from_py <- .decode_result(.rcall("predict", in_python, .encode_frame(iris), "prob", NULL),
                            names = rownames(iris))
  expect_equal(from_py, predict(fit, iris, type = "prob"), tolerance = 1e-12)
  # Python -> R
  py_fit <- dl$dnn("mpg ~ wt + hp", data = dl$datasets$mtcars(), hidden = reticulate::tuple(),
                   optimizer = "lbfgs")
  py_file <- file.path(dir, "from-python.dlstat")
  py_fit$save(py_file)
  loaded <- load_dnn(py_file)
  expect_equal(coef(loaded), coef(glm_fit()), tolerance = 1e-8)
  expect_match(capture.output(print(loaded))[4], "^dnn\\('mpg ~ wt \\+ hp'")
  expect_error(load_dnn(file.path(dir, "none.dlstat")), "no model file", class = "dlstat_error")
  writeLines("not a model", file.path(dir, "bad.dlstat"))
  expect_error(load_dnn(file.path(dir, "bad.dlstat")), "not a dlstat model file", class = "dlstat_error")
  expect_error(save_dnn(list(), r_file), "fit must be a model", class = "dlstat_error")
})

test_that("a fit whose Python object is gone says how to keep models", {
  fit <- structure(list(py = NULL), class = "dlstat_fit")
  expect_error(predict(fit, mtcars), "save_dnn\\(\\) and load_dnn\\(\\)", class = "dlstat_error")
})
