test_that("every column type arrives in pandas with the right dtype, levels and NA", {
  skip_if_no_python()
  d <- all_types()
  info <- .rcall("dtypes", .encode_frame(d))
  cols <- info$columns
  expect_equal(cols$num$dtype, "float64")
  expect_equal(cols$int$dtype, "Int64")      # int64 without NA
  expect_equal(cols$lgl$dtype, "boolean")    # bool without NA
  expect_true(cols$chr$dtype %in% c("str", "string", "object"))
  expect_equal(cols$fac$dtype, "category")
  expect_equal(cols$fac$levels, c("z", "a", "m"))
  expect_false(cols$fac$ordered)
  expect_equal(cols$ord$levels, c("lo", "mid", "hi"))
  expect_true(cols$ord$ordered)
  expect_match(cols$date$dtype, "^datetime64")
  for (name in names(d)) expect_equal(cols[[name]]$n_na, 1L, label = name)
  expect_equal(info$index, c("r1", "r2", "r3", "r4"))

  complete <- .rcall("dtypes", .encode_frame(data.frame(i = 1:2, l = c(TRUE, FALSE))))
  expect_equal(complete$columns$i$dtype, "int64")
  expect_equal(complete$columns$l$dtype, "bool")
  expect_equal(complete$index_type, "RangeIndex")
})

test_that("data frames survive R -> pandas -> R unchanged (NA both ways)", {
  skip_if_no_python()
  d <- all_types()
  d$time <- as.POSIXct(c("2020-01-01 10:00:00", NA, "2021-06-01 00:00:01", "1999-12-31 23:59:59"),
                       tz = "Europe/Paris")
  back <- .decode_frame(.rcall("roundtrip", .encode_frame(d)))
  expect_identical(back, d)
  plain <- data.frame(x = c(3, 1, 2))
  expect_identical(.decode_frame(.rcall("roundtrip", .encode_frame(plain))), plain)
  subset <- iris[c(10, 3, 7), ]
  expect_identical(rownames(.decode_frame(.rcall("roundtrip", .encode_frame(subset)))), c("10", "3", "7"))
  empty_levels <- data.frame(f = factor(c(NA, NA), levels = character()))
  expect_identical(.decode_frame(.rcall("roundtrip", .encode_frame(empty_levels))), empty_levels)
})

test_that("a 1e6 x 10 data frame crosses in a few seconds", {
  skip_if_no_python()
  skip_on_cran()
  n <- 1e6
  big <- as.data.frame(matrix(stats::runif(n * 10), n, 10))
  elapsed <- system.time(info <- .rcall("dtypes", .encode_frame(big)))[["elapsed"]]
  expect_equal(info$nrow, n)
  expect_lt(elapsed, 10)
})

test_that("columns dlstat cannot use are refused with the column's name", {
  d <- data.frame(x = 1:2)
  d$m <- matrix(1:4, 2)
  expect_error(.encode_frame(d), "column \"m\".*matrix", class = "dlstat_error")
  d <- data.frame(x = 1:2)
  d$l <- list(1, "a")
  expect_error(.encode_frame(d), "column \"l\"", class = "dlstat_error")
  expect_error(.encode_frame(data.frame(z = complex(real = 1:2, imaginary = 0))), "complex",
               class = "dlstat_error")
  expect_error(.encode_frame(list(a = 1)), "data must be a data frame", class = "dlstat_error")
})

test_that("formulas are deparsed and options converted", {
  expect_equal(.formula_text(mpg ~ wt + hp + factor(cyl)), "mpg ~ wt + hp + factor(cyl)")
  expect_equal(.formula_text("y ~ ."), "y ~ .")
  long <- stats::as.formula(paste("y ~", paste0("x", 1:200, collapse = " + ")))
  expect_match(.formula_text(long), "x1 \\+ x2 .* \\+ x200$")
  expect_error(.formula_text(42), "formula must be a formula", class = "dlstat_error")
  o <- .options_dict(list(hidden = c(32, 16), foldid = c(1L, 2L, 3L), seed = 1,
                            penalties = 0.5, validation = data.frame(x = 1)))
  expect_equal(o$hidden, list(32, 16))
  expect_equal(readBin(o$foldid$data, "integer", n = 3), 1:3)  # Python shifts to 0-based
  expect_equal(o$penalties, list(0.5))
  expect_equal(o$validation$`__dlstat__`, "frame")
  expect_error(.options_dict(list(seed = NA)), "seed is NA", class = "dlstat_error")
  expect_error(.options_dict(list(models = list(list(hidden = 2)))), "named list",
               class = "dlstat_error")
})
