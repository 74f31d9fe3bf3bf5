# onehot() and kmer_codes(): character vectors and Biostrings' XStringSet objects (issue 23).

test_that("onehot() encodes character vectors with IUPAC weights, padding and trimming", {
  skip_if_no_python()
  x <- onehot(c("ACGT", "rn"))
  expect_equal(dim(x), c(2L, 4L, 4L))
  expect_equal(x[1, , ], diag(4))
  expect_equal(x[2, 1, ], c(0.5, 0, 0.5, 0))           # R = A or G
  expect_equal(x[2, 2, ], rep(0.25, 4))                # N = any base
  expect_equal(x[2, 3, ], rep(0, 4))                   # padding
  left <- onehot(c("ACGTA", "C"), length = 3, pad = "left")
  expect_equal(left[1, , ], diag(4)[c(3, 4, 1), ])     # the last three bases: G T A
  expect_equal(left[2, 3, ], c(0, 1, 0, 0))
  p <- onehot("MB", alphabet = "protein")
  expect_equal(dim(p), c(1L, 2L, 20L))
  expect_equal(which(p[1, 2, ] > 0), c(3L, 12L))       # B = D or N
})

test_that("a character outside the alphabet is an error naming sequence and position", {
  skip_if_no_python()
  expect_error(onehot(c("ACGT", "ACXT")), "sequence 2, position 3")
  expect_error(onehot("ACGU"), 'alphabet = "ACGU"')
  expect_equal(onehot("AXT", unknown = "zero")[1, 2, ], rep(0, 4))
  expect_error(onehot(1:3), "character vector")
  expect_error(onehot(c("AC", NA)), "sequence 2")
})

test_that("kmer_codes() matches a hand computation", {
  skip_if_no_python()
  codes <- kmer_codes(c("ACGTA", "TTTTT"), k = 3)
  expect_equal(codes, matrix(c(6L, 63L, 27L, 63L, 44L, 63L), nrow = 2))
  expect_error(kmer_codes("ACNT", k = 2), 'incomplete = "extra"')
  expect_equal(kmer_codes("ACNT", k = 2, incomplete = "extra")[1, ], c(1L, 16L, 16L))
})

test_that("onehot() takes Biostrings' DNAStringSet and AAStringSet", {
  # Outside CI a missing Biostrings skips; in CI (CI set) it is a failure.
  if (!nzchar(Sys.getenv("CI"))) skip_if_not_installed("Biostrings")
  skip_if_no_python()
  dna <- Biostrings::DNAStringSet(c(a = "ACGT", b = "ARN"))
  expect_equal(onehot(dna), onehot(c("ACGT", "ARN")))
  aa <- Biostrings::AAStringSet(c("MKV", "WY"))
  expect_equal(onehot(aa, alphabet = "protein"), onehot(c("MKV", "WY"), alphabet = "protein"))
  expect_equal(kmer_codes(dna[1], k = 2), kmer_codes("ACGT", k = 2))
})
