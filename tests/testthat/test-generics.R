# The modelling generics of a fit, compared with R's glm() on the same data.

glm_pair <- function(formula, data, family, ...) {
  fit <- dnn(formula, data = data, family = family, hidden = c(), optimizer = "lbfgs", ...)
  ref <- glm(formula, data = data, family = get(family, mode = "function"), ...)
  list(fit = fit, ref = ref)
}

cases <- list(
  gaussian = list(mpg ~ wt + hp + factor(cyl), mtcars, "gaussian"),
  binomial = list(am ~ wt + hp, mtcars, "binomial"),
  poisson = list(breaks ~ wool + tension, warpbreaks, "poisson"),
  insects = list(count ~ spray, InsectSprays, "poisson")
)

test_that("coef, vcov, confint, fitted, residuals, logLik, AIC, BIC and nobs are glm's", {
  skip_if_no_python()
  for (name in names(cases)) {
    case <- cases[[name]]
    p <- glm_pair(case[[1]], case[[2]], case[[3]])
    fit <- p$fit
    ref <- p$ref
    expect_equal(unname(coef(fit)), unname(coef(ref)), tolerance = 1e-6, info = name)
    expect_equal(unname(vcov(fit)), unname(vcov(ref)), tolerance = 1e-4, info = name)
    expect_equal(rownames(vcov(fit)), names(coef(fit)), info = name)
    wald <- if (case[[3]] == "gaussian") confint.lm(ref) else confint.default(ref)
    expect_equal(unname(confint(fit)), unname(wald), tolerance = 1e-4, info = name)
    expect_equal(colnames(confint(fit)), c("2.5 %", "97.5 %"), info = name)
    expect_equal(fitted(fit), fitted(ref), tolerance = 1e-6, info = name)
    for (type in c("deviance", "pearson", "working", "response")) {
      expect_equal(residuals(fit, type = type), residuals(ref, type = type), tolerance = 1e-5,
                   info = paste(name, type))
    }
    expect_equal(residuals(fit), residuals(ref), tolerance = 1e-5, info = name)
    ll <- logLik(fit)
    expect_s3_class(ll, "logLik")
    expect_equal(as.numeric(ll), as.numeric(logLik(ref)), tolerance = 1e-6, info = name)
    expect_equal(attr(ll, "df"), attr(logLik(ref), "df"), info = name)
    expect_equal(attr(ll, "nobs"), attr(logLik(ref), "nobs"), info = name)
    expect_equal(AIC(fit), AIC(ref), tolerance = 1e-6, info = name)
    expect_equal(BIC(fit), BIC(ref), tolerance = 1e-6, info = name)
    expect_equal(AIC(fit, k = 3), AIC(ref, k = 3), tolerance = 1e-6, info = name)
    expect_equal(nobs(fit), nobs(ref), info = name)
    # each number is Python's
    expect_equal(AIC(fit), reticulate::py_to_r(fit$py$aic()))
  }
})

test_that("every coefficient-labelled table names coefficients as glm() does", {
  skip_if_no_python()
  fit <- dnn(mpg ~ wt + factor(cyl), data = mtcars, hidden = c(), optimizer = "lbfgs",
             verbose = 0)
  expect_equal(names(coef(fit)), names(coef(glm(mpg ~ wt + factor(cyl), data = mtcars))))
  pairs <- list(
    glm_pair(mpg ~ wt + factor(cyl) + I(hp^2) + I(disp/100), mtcars, "gaussian"),
    glm_pair(breaks ~ wool * tension, warpbreaks, "poisson"),
    glm_pair(carb ~ poly(wt, 2) + factor(vs), mtcars, "poisson")
  )
  for (p in pairs) {
    expected <- names(coef(p$ref))
    expect_equal(names(coef(p$fit)), expected)
    expect_equal(rownames(vcov(p$fit)), expected)
    expect_equal(colnames(vcov(p$fit)), expected)
    expect_equal(rownames(confint(p$fit)), expected)
    expect_equal(tidy(p$fit)$term, expected)
    expect_equal(rownames(summary(p$fit)$tables$coefficients), expected)
    expect_equal(colnames(model.matrix(p$fit)), colnames(model.matrix(p$ref)))
  }
})

test_that("confint() takes parm and level as confint.default does", {
  skip_if_no_python()
  p <- glm_pair(am ~ wt + hp, mtcars, "binomial")
  expect_equal(unname(confint(p$fit, "wt", level = 0.9)),
               unname(confint.default(p$ref, "wt", level = 0.9)), tolerance = 1e-4)
  expect_equal(rownames(confint(p$fit, 2:3)), c("wt", "hp"))
  expect_error(confint(p$fit, "qsec"), "parm names.*qsec", class = "dlstat_error")
  expect_error(confint(p$fit, level = 95), "between 0 and 1", class = "dlstat_error")
})

test_that("AIC() and BIC() of several fits give the table AIC.default gives", {
  skip_if_no_python()
  small <- dnn(am ~ wt, data = mtcars, hidden = c(), optimizer = "lbfgs")
  big <- dnn(am ~ wt + hp, data = mtcars, hidden = c(), optimizer = "lbfgs")
  g_small <- glm(am ~ wt, data = mtcars, family = binomial)
  g_big <- glm(am ~ wt + hp, data = mtcars, family = binomial)
  mine <- AIC(small, big)
  theirs <- AIC(g_small, g_big)
  expect_equal(mine$df, theirs$df)
  expect_equal(mine$AIC, theirs$AIC, tolerance = 1e-6)
  expect_equal(rownames(mine), c("small", "big"))
  expect_equal(BIC(small, big)$BIC, BIC(g_small, g_big)$BIC, tolerance = 1e-6)
})

test_that("anova(fit0, fit1, test = 'Chisq') is anova.glm's table, from Python", {
  skip_if_no_python()
  for (case in list(list(am ~ wt, am ~ wt + hp, "binomial", mtcars),
                    list(breaks ~ wool, breaks ~ wool + tension, "poisson", warpbreaks),
                    list(mpg ~ wt, mpg ~ wt + hp + factor(cyl), "gaussian", mtcars))) {
    small <- glm_pair(case[[1]], case[[4]], case[[3]])
    big <- glm_pair(case[[2]], case[[4]], case[[3]])
    a <- anova(small$fit, big$fit, test = "Chisq")
    ref <- anova(small$ref, big$ref, test = "Chisq")
    expect_s3_class(a, "anova")
    expect_equal(names(a), names(ref))
    expect_equal(as.matrix(a), as.matrix(ref), tolerance = 1e-5, ignore_attr = TRUE)
    expect_equal(attr(a, "heading"), attr(ref, "heading"))
    py <- dl_py()$anova(small$fit$py, big$fit$py, test = "Chisq")
    p_value <- reticulate::import_builtins(convert = FALSE)$float(
      py$table$iloc[1L]$`__getitem__`("Pr(>Chi)"))
    expect_identical(a[["Pr(>Chi)"]][2], reticulate::py_to_r(p_value))
    out <- capture.output(print(a))
    expect_true(any(grepl("^Model 2: ", out)))
    expect_true(any(grepl("Signif. codes", out)))
  }
  g <- glm_pair(mpg ~ wt, mtcars, "gaussian")
  G <- glm_pair(mpg ~ wt + hp, mtcars, "gaussian")
  expect_equal(as.matrix(anova(g$fit, G$fit, test = "F")),
               as.matrix(anova(g$ref, G$ref, test = "F")), tolerance = 1e-5,
               ignore_attr = TRUE)
  expect_error(anova(G$fit, g$fit), "smaller model first", class = "dlstat_error")
  expect_error(anova(g$fit, "x"), "fits from dnn", class = "dlstat_error")
})

test_that("model.matrix() is R's, with factors, interactions and transforms", {
  skip_if_no_python()
  for (case in list(list(mpg ~ wt * factor(cyl) + log(hp), mtcars),
                    list(mpg ~ poly(disp, 2) + I(wt^2) + wt:hp, mtcars),
                    list(mpg ~ 0 + factor(cyl) + sqrt(qsec), mtcars),
                    list(breaks ~ wool * tension, warpbreaks))) {
    fit <- dnn(case[[1]], data = case[[2]], hidden = c(), optimizer = "lbfgs")
    mine <- model.matrix(fit)
    ref <- model.matrix(case[[1]], data = case[[2]])
    expect_equal(mine, ref, tolerance = 1e-10, ignore_attr = "contrasts",
                 info = deparse(case[[1]]))
  }
  fit <- dnn(mpg ~ wt + factor(cyl), data = mtcars, hidden = c(), optimizer = "lbfgs")
  new <- model.matrix(fit, data = mtcars[1:3, ])
  expect_equal(new, model.matrix(~ wt + factor(cyl), mtcars)[1:3, ], ignore_attr = TRUE)
  expect_equal(dimnames(new), list(rownames(mtcars)[1:3],
                                   c("(Intercept)", "wt", "factor(cyl)6", "factor(cyl)8")))
  expect_equal(terms(fit), terms(mpg ~ wt + factor(cyl)), ignore_attr = ".Environment")
})

test_that("update() refits through the stored call, as update.default does", {
  skip_if_no_python()
  fit <- dnn(am ~ wt + hp, data = mtcars, hidden = c(), optimizer = "lbfgs")
  small <- update(fit, . ~ . - hp)
  expect_equal(formula(small), am ~ wt)
  expect_equal(unname(coef(small)), unname(coef(glm(am ~ wt, data = mtcars, family = binomial))),
               tolerance = 1e-6)
  expect_equal(small$call$optimizer, "lbfgs")
  fewer <- suppressWarnings(update(fit, subset = cyl != 4))  # separable: a warning
  expect_equal(nobs(fewer), sum(mtcars$cyl != 4))
})

test_that("subset is evaluated in data as glm() does, logical or positions", {
  skip_if_no_python()
  fit <- dnn(breaks ~ wool + tension, data = warpbreaks, family = "poisson", hidden = c(),
             optimizer = "lbfgs", subset = tension != "H")
  ref <- glm(breaks ~ wool + tension, data = warpbreaks, family = poisson, subset = tension != "H")
  expect_equal(nobs(fit), nobs(ref))
  expect_equal(unname(coef(fit)), unname(coef(ref)), tolerance = 1e-6)
  expect_equal(residuals(fit), residuals(ref), tolerance = 1e-6)  # names too
  expect_equal(model.matrix(fit), model.matrix(ref), ignore_attr = "contrasts")
  fit <- dnn(mpg ~ wt, data = mtcars, hidden = c(), optimizer = "lbfgs", subset = c(1:10, 20:30))
  ref <- glm(mpg ~ wt, data = mtcars, subset = c(1:10, 20:30))
  expect_equal(fitted(fit), fitted(ref), tolerance = 1e-6)
  negative <- dnn(mpg ~ wt, data = mtcars, hidden = c(), optimizer = "lbfgs", subset = -(1:5))
  expect_equal(nobs(negative), 27L)
  keep <- mtcars$hp > 100
  outside <- dnn(mpg ~ wt, data = mtcars, hidden = c(), optimizer = "lbfgs", subset = keep)
  expect_equal(nobs(outside), sum(keep))
  expect_error(dnn(mpg ~ wt, data = mtcars, hidden = c(), subset = c(TRUE, FALSE)),
               "one value per row of data \\(32\\)", class = "dlstat_error")
  expect_error(dnn(mpg ~ wt, data = mtcars, hidden = c(), subset = c(-1, 2)),
               "all positive or all negative", class = "dlstat_error")
  expect_error(dnn(mpg ~ wt, data = mtcars, hidden = c(), subset = nosuch > 1),
               "could not be evaluated in data.*nosuch", class = "dlstat_error")
  expect_error(dnn(mpg ~ wt, data = mtcars, hidden = c(), subset = "wt"),
               "subset must be", class = "dlstat_error")
  cv <- cv_dnn(mpg ~ wt, data = mtcars, folds = 3, hidden = c(), optimizer = "lbfgs",
               subset = cyl != 6)
  expect_equal(length(cv$fold_ids), sum(mtcars$cyl != 6))
  path <- dnn_path(mpg ~ wt + hp, data = mtcars, n_penalties = 3, folds = 2, hidden = c(),
                   optimizer = "lbfgs", seed = 1, subset = 1:20)
  same_path <- dnn_path(mpg ~ wt + hp, data = mtcars[1:20, ], n_penalties = 3, folds = 2,
                        hidden = c(), optimizer = "lbfgs", seed = 1)
  expect_equal(path$table, same_path$table)
  cmp <- compare(mpg ~ wt, data = mtcars, folds = 2, hidden = c(), epochs = 2, verbose = 0,
                 seed = 1, subset = am == 1)
  same_cmp <- compare(mpg ~ wt, data = mtcars[mtcars$am == 1, ], folds = 2, hidden = c(),
                      epochs = 2, verbose = 0, seed = 1)
  expect_equal(cmp$folds, same_cmp$folds)
})

test_that("na.action is glm's: na.omit, na.exclude pads fitted and residuals, na.fail", {
  skip_if_no_python()
  aq <- airquality
  ex <- list(fit = suppressWarnings(dnn(Ozone ~ Temp + Wind, data = aq, hidden = c(),
                                        optimizer = "lbfgs", na.action = na.exclude)),
             ref = glm(Ozone ~ Temp + Wind, data = aq, na.action = na.exclude))
  expect_equal(length(residuals(ex$fit)), nrow(aq))
  expect_equal(residuals(ex$fit), residuals(ex$ref), tolerance = 1e-6)
  expect_equal(fitted(ex$fit), fitted(ex$ref), tolerance = 1e-6)
  expect_equal(residuals(ex$fit, "pearson"), residuals(ex$ref, "pearson"), tolerance = 1e-6)
  om <- list(fit = suppressWarnings(dnn(Ozone ~ Temp + Wind, data = aq, hidden = c(),
                                        optimizer = "lbfgs", na.action = "na.omit")),
             ref = glm(Ozone ~ Temp + Wind, data = aq, na.action = "na.omit"))
  expect_equal(residuals(om$fit), residuals(om$ref), tolerance = 1e-6)
  expect_equal(length(fitted(om$fit)), 116L)
  expect_error(dnn(Ozone ~ Temp, data = aq, hidden = c(), na.action = na.fail),
               "missing values", class = "dlstat_error")
  expect_error(dnn(Ozone ~ Temp, data = aq, hidden = c(), na.action = na.pass),
               "na.omit, na.exclude or na.fail.*another function", class = "dlstat_error")
  expect_error(dnn(Ozone ~ Temp, data = aq, hidden = c(), na.action = "drop"),
               "\"drop\"", class = "dlstat_error")
  expect_error(dnn(Ozone ~ Temp, data = aq, hidden = c(), na.action = na.fail, na_action = "omit"),
               "not both", class = "dlstat_error")
  cv <- suppressWarnings(cv_dnn(Ozone ~ Temp, data = aq, folds = 3, hidden = c(),
                                optimizer = "lbfgs", na.action = na.exclude))
  expect_s3_class(cv, "dlstat_cv")
  expect_error(cv_dnn(Ozone ~ Temp, data = aq, folds = 3, hidden = c(), na.action = na.fail),
               "missing values", class = "dlstat_error")
})

test_that("predict(se.fit = TRUE, interval = 'confidence') is predict.glm's / predict.lm's", {
  skip_if_no_python()
  p <- glm_pair(am ~ wt + hp, mtcars, "binomial")
  new <- mtcars[c(1, 5, 9), ]
  for (type in c("link", "response")) {
    mine <- predict(p$fit, newdata = new, type = type, se.fit = TRUE)
    ref <- predict(p$ref, newdata = new, type = type, se.fit = TRUE)
    expect_equal(mine$fit, ref$fit, tolerance = 1e-6)
    expect_equal(mine$se.fit, ref$se.fit, tolerance = 1e-5)
    expect_equal(mine$residual.scale, ref$residual.scale)
  }
  g <- glm_pair(mpg ~ wt + hp, mtcars, "gaussian")
  lm_ref <- predict(lm(mpg ~ wt + hp, mtcars), newdata = new, interval = "confidence", level = 0.9)
  mine <- predict(g$fit, newdata = new, interval = "confidence", level = 0.9)
  expect_equal(mine, lm_ref, tolerance = 1e-6)
  both <- predict(g$fit, newdata = new, interval = "confidence", se.fit = TRUE)
  expect_equal(both$residual.scale, sqrt(summary(g$ref)$dispersion), tolerance = 1e-6)
  expect_equal(colnames(both$fit), c("fit", "lwr", "upr"))
  net <- dnn(mpg ~ wt, data = mtcars, hidden = c(2), epochs = 2, verbose = 0)
  expect_error(predict(net, new, se.fit = TRUE), "hidden layer", class = "dlstat_error")
})

test_that("a network answers fitted, residuals and logLik, and refuses the rest clearly", {
  skip_if_no_python()
  net <- dnn(mpg ~ wt + hp, data = mtcars, hidden = c(3), epochs = 5, seed = 1, verbose = 0)
  expect_equal(residuals(net, "response"), mtcars$mpg - fitted(net), ignore_attr = TRUE)
  expect_equal(names(residuals(net)), rownames(mtcars))
  ll <- logLik(net)
  expect_true(is.na(attr(ll, "df")))
  expect_equal(attr(ll, "nobs"), 32L)
  for (f in list(vcov, confint, AIC, BIC)) {
    expect_error(f(net), "hidden layer.*not identified", class = "dlstat_error")
  }
  expect_error(anova(net, net), "hidden layer", class = "dlstat_error")
  expect_error(model.matrix(net), NA)
  m <- dnn(Species ~ Sepal.Length, data = iris, hidden = c(), epochs = 3, verbose = 0)
  expect_equal(dim(residuals(m, "response")), c(150L, 3L))
  expect_error(residuals(m), "one-parameter families", class = "dlstat_error")
})

test_that("summary() of a GLM prints Python's coefficient table, codes, dispersion and AIC", {
  skip_if_no_python()
  fit <- dnn(count ~ spray, data = InsectSprays, family = "poisson", hidden = c(),
             optimizer = "lbfgs")
  s <- summary(fit)
  expect_true(all(c("coefficients", "tests") %in% names(s$tables)))
  ref <- summary(glm(count ~ spray, data = InsectSprays, family = poisson))$coefficients
  expect_equal(unname(as.matrix(s$tables$coefficients[, 1:4])), unname(ref), tolerance = 1e-4)
  stars <- symnum(ref[, 4], corr = FALSE, na = FALSE, cutpoints = c(0, 0.001, 0.01, 0.05, 0.1, 1),
                  symbols = c("***", "**", "*", ".", " "))
  expect_equal(trimws(s$tables$coefficients[[5]]), trimws(as.character(stars)))
  expect_equal(s$tables$tests$value[2], "1 (poisson family, taken to be 1)")
  printed <- capture.output(print(s))
  r_call <- paste(deparse(fit$call), collapse = "\n")
  expected <- strsplit(reticulate::py_to_r(fit$py$summary()$text(call = r_call)), "\n")[[1]]
  expect_equal(printed, expected)
  expect_true(any(grepl("^Coefficients:", printed)))
  expect_true(any(grepl("^\\(Intercept\\) .*\\*\\*\\*$", printed)))
  expect_true(any(grepl("^Signif. codes:", printed)))
  expect_true(any(grepl("^Dispersion parameter: *1 \\(poisson family", printed)))
  expect_true(any(grepl("^AIC: *376\\.59", printed)))
  expect_true(any(grepl("Null deviance: 409\\.0.* on 71", printed)))
})

test_that("an aliased column is NA in coef() where glm() has NA, and counts no df", {
  skip_if_no_python()
  d <- mtcars
  d$g <- factor(d$cyl)
  d$g2 <- factor(d$cyl, labels = c("x", "y", "z"))  # a relabelled copy of g
  d$wt2 <- 2 * d$wt + 1
  for (f in list(mpg ~ wt + g + g2, mpg ~ wt + wt2)) {
    p <- glm_pair(f, d, "gaussian")
    info <- deparse(f)
    expect_equal(unname(is.na(coef(p$fit))), unname(is.na(coef(p$ref))), info = info)
    expect_true(any(is.na(coef(p$ref))), info = info)
    defined <- !is.na(coef(p$ref))
    expect_equal(unname(coef(p$fit)[defined]), unname(coef(p$ref)[defined]), tolerance = 1e-6,
                 info = info)
    expect_equal(AIC(p$fit), AIC(p$ref), tolerance = 1e-6, info = info)
    expect_equal(BIC(p$fit), BIC(p$ref), tolerance = 1e-6, info = info)
    expect_equal(attr(logLik(p$fit), "df"), attr(logLik(p$ref), "df"), info = info)
    expect_equal(unname(is.na(vcov(p$fit))), unname(is.na(vcov(p$ref, complete = TRUE))),
                 info = info)
    k <- sum(is.na(coef(p$ref)))
    expect_output(print(summary(p$fit)),
                  sprintf("Coefficients: (%d not defined because of singularities)", k),
                  fixed = TRUE)
  }
})

test_that("BIC() of a glm with zero prior weights counts every row, as R's", {
  skip_if_no_python()
  w <- rep(1, 32)
  w[c(3, 7, 11)] <- 0
  d <- transform(mtcars, w = w)
  fit <- dnn(am ~ wt, data = d, family = "binomial", weights = "w", hidden = c(),
             optimizer = "lbfgs")
  ref <- glm(am ~ wt, data = d, family = binomial, weights = w)
  expect_equal(BIC(fit), BIC(ref), tolerance = 1e-6)
  expect_equal(attr(logLik(fit), "nobs"), attr(logLik(ref), "nobs"))
  expect_equal(nobs(fit), nobs(ref))
})
