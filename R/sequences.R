#' One-hot encode biological sequences
#'
#' Turns DNA, RNA or protein sequences into an `n` x `L` x `k` array of
#' numbers, one channel per letter of the alphabet, ready for a [conv1d()]
#' first layer. IUPAC ambiguity codes get equal weights over the letters they
#' stand for (`"R"` = A or G is 0.5, 0, 0.5, 0; `"N"` is 0.25 each); shorter
#' sequences are padded with rows of zeros, longer ones trimmed. The same
#' function as Python's `dlstat.onehot()`.
#'
#' Alphabets: `"ACGT"` (DNA, with R Y S W K M B D H V N), `"ACGU"` (RNA, the
#' same codes with U for T; U is not read as T under `"ACGT"`, nor T as U under
#' `"ACGU"`), `"protein"` (the 20 amino acids `ACDEFGHIKLMNPQRSTVWY`, with X
#' any, B = D or N, Z = E or Q, J = I or L), or any string of distinct
#' characters. Lower case is read as upper case unless a custom alphabet has
#' lower-case letters of its own.
#'
#' @param seqs A character vector, or a Biostrings `DNAStringSet`,
#'   `RNAStringSet` or `AAStringSet` (any `XStringSet`).
#' @param alphabet `"ACGT"`, `"ACGU"`, `"protein"` or a string of distinct
#'   characters (the channels, in order).
#' @param length The number of positions (`NULL`: the longest sequence).
#' @param pad `"right"` pads or trims the end of each sequence, `"left"` the
#'   start.
#' @param unknown `"error"`: a character outside the alphabet is an error that
#'   names the sequence and position; `"zero"`: it becomes a row of zeros.
#' @return A numeric array `n` x `L` x `k`; `x[i, , ]` is sequence `i`, one row
#'   per position, each summing to 1 (0 for padding).
#' @seealso [kmer_codes()] for integer k-mer codes and an [embedding()] layer.
#' @examplesIf dlstat_available()
#' x <- onehot(c("ACGTN", "acg"), length = 4)
#' dim(x)
#' x[2, , ]
#' @export
onehot <- function(seqs, alphabet = "ACGT", length = NULL, pad = "right", unknown = "error") {
  call <- sys.call()
  res <- .rcall("onehot", .encode_column(.sequence_strings(seqs, call), "seqs"), alphabet,
                length, pad, unknown, call = call)
  .decode_array(res)
}

#' Integer codes of overlapping k-mers
#'
#' Codes every run of `k` letters (the k-mer starting at each position) as an
#' integer, for an [embedding()] first layer: with `s` letters in the alphabet
#' the k-mer \eqn{x_1 \dots x_k} gets \eqn{\sum_j \mathrm{index}(x_j)\,
#' s^{k-j}}{sum_j index(x_j) * s^(k - j)}, letters indexed from 0 in alphabet
#' order (under `"ACGT"`: AAA = 0, AAC = 1, ..., TTT = 63), so
#' `embedding(4^k, dim)` takes them. The same function as Python's
#' `dlstat.kmer_codes()`.
#'
#' @inheritParams onehot
#' @param k The k-mer length.
#' @param incomplete `"error"`: a k-mer touching an ambiguity code, an unknown
#'   character or padding is an error; `"extra"`: it gets the code `s^k` (then
#'   use `embedding(s^k + 1, dim)`).
#' @return An integer matrix, `n` rows and `L - k + 1` columns.
#' @examplesIf dlstat_available()
#' kmer_codes(c("ACGTA", "TTTTT"), k = 3)
#' @export
kmer_codes <- function(seqs, k = 3L, alphabet = "ACGT", length = NULL, pad = "right",
                       incomplete = "error") {
  call <- sys.call()
  res <- .rcall("kmer_codes", .encode_column(.sequence_strings(seqs, call), "seqs"), k,
                alphabet, length, pad, incomplete, call = call)
  .decode_array(res)
}

# Sequences as a character vector: Biostrings' XStringSet classes convert with as.character()
# (their package is loaded whenever such an object exists).
.sequence_strings <- function(seqs, call) {
  if (methods::is(seqs, "XStringSet")) seqs <- as.character(seqs)
  if (is.factor(seqs)) seqs <- as.character(seqs)
  if (!is.character(seqs) || !is.null(dim(seqs))) {
    .abort("seqs must be a character vector or a Biostrings DNAStringSet, RNAStringSet or AAStringSet; got an object of class %s.",
           paste(class(seqs), collapse = "/"), call = call)
  }
  unname(seqs)
}
