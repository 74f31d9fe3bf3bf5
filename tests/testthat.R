library(testthat)
library(dlstat)

test_check("dlstat")
