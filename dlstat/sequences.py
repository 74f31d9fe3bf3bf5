"""Biological sequences as arrays: one-hot letters for a convolution, k-mer codes for an embedding.

>>> import dlstat as dl
>>> dl.onehot(["ACGT", "RN"]).shape
(2, 4, 4)
>>> dl.onehot(["R"])[0, 0].tolist()         # R = A or G: equal weights
[0.5, 0.0, 0.5, 0.0]
>>> dl.kmer_codes(["ACGTA"], k=3).tolist()  # ACG, CGT, GTA in base 4, first letter highest
[[6, 27, 44]]

Alphabets
---------
``"ACGT"`` (DNA) and ``"ACGU"`` (RNA) accept the IUPAC ambiguity codes R Y S W K M B D H V N,
each spread with equal weights over the bases it stands for (N = 1/4 each).  ``U`` is *not*
read as ``T`` under ``"ACGT"`` (nor ``T`` as ``U`` under ``"ACGU"``): a U in DNA is more often a
mistake than a choice, so it is an error that names the RNA alphabet.  ``"protein"`` is the 20
amino acids ``ACDEFGHIKLMNPQRSTVWY`` with X (any, 1/20 each), B (D or N), Z (E or Q) and J (I or
L).  Any other string is its own alphabet of distinct characters, with no ambiguity codes.  Lower
case is read as upper case, except under a custom alphabet that has lower-case letters of its
own (then letters are matched exactly).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import DataError, OptionError, OptionTypeError

# IUPAC nucleotide codes; "T" is swapped for "U" under the RNA alphabet.
_IUPAC_DNA = {"R": "AG", "Y": "CT", "S": "CG", "W": "AT", "K": "GT", "M": "AC",
              "B": "CGT", "D": "AGT", "H": "ACT", "V": "ACG", "N": "ACGT"}
_AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"
_IUPAC_PROTEIN = {"X": _AMINO_ACIDS, "B": "DN", "Z": "EQ", "J": "IL"}
_NAMED = {
    "ACGT": ("ACGT", _IUPAC_DNA),
    "ACGU": ("ACGU", {c: s.replace("T", "U") for c, s in _IUPAC_DNA.items()}),
    "protein": (_AMINO_ACIDS, _IUPAC_PROTEIN),
}
_PADS = ("right", "left")
# An encoded array larger than this many numbers is refused before it is allocated.
MAX_ELEMENTS = 2**31


@dataclass(frozen=True)
class Alphabet:
    """A lookup table over ASCII: ``row[c]`` is the weight-table row of character code ``c`` (0 = not a
    letter of the alphabet), ``weights[row]`` its equal weights, ``exact[row]`` its letter index
    (-1 for an ambiguity code or padding)."""

    letters: str
    row: np.ndarray       # [128] int16
    weights: np.ndarray   # [m, k] float32; row 0 is all zeros (padding, unknown)
    exact: np.ndarray     # [m] int64


@functools.lru_cache(maxsize=16)
def alphabet_table(alphabet: str) -> Alphabet:
    """The lookup table of `alphabet` (``"ACGT"``, ``"ACGU"``, ``"protein"`` or any string)."""
    if not isinstance(alphabet, str):
        raise OptionTypeError(f"alphabet must be a string such as 'ACGT', 'ACGU' or 'protein'; "
                              f"got {type(alphabet).__name__} {alphabet!r}")
    letters, codes = _NAMED.get(alphabet, (alphabet, {}))
    if not letters or not letters.isascii() or len(set(letters)) != len(letters):
        raise OptionError(f"alphabet {alphabet!r} must be 'ACGT', 'ACGU', 'protein' or a "
                          "non-empty string of distinct ASCII characters (e.g. 'ACGT')")
    symbols = {c: c for c in letters} | codes
    fold = not any(c.islower() for c in letters)
    row = np.zeros(128, dtype=np.int16)
    weights = np.zeros((len(symbols) + 1, len(letters)), dtype=np.float32)
    exact = np.full(len(symbols) + 1, -1, dtype=np.int64)
    for r, (symbol, meaning) in enumerate(symbols.items(), start=1):
        weights[r, [letters.index(c) for c in meaning]] = 1.0 / len(meaning)
        if len(meaning) == 1:
            exact[r] = letters.index(meaning)
        row[ord(symbol)] = r
        if fold and symbol.isalpha():
            row[ord(symbol.lower())] = r
    return Alphabet(letters, row, weights, exact)


def _as_strings(seqs: Any) -> list[str]:
    if isinstance(seqs, (str, bytes)):
        seqs = [seqs]
    if not isinstance(seqs, Iterable):
        raise DataError(f"seqs must be a list (or array, Series) of strings; got "
                        f"{type(seqs).__name__}. Wrap one sequence as [seq].")
    out = []
    for i, s in enumerate(seqs):
        if isinstance(s, bytes):
            s = s.decode("ascii", errors="replace")
        if not isinstance(s, str):
            raise DataError(f"sequence {i + 1} (counting from 1) is {type(s).__name__} "
                            f"{s!r}, not a string; drop or fill missing sequences first")
        out.append(s)
    return out


def _check_length(length: Any, longest: int) -> int:
    if length is None:
        return longest
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 0:
        raise OptionError(f"length must be a whole number >= 0 or None (the longest "
                          f"sequence); got {length!r}")
    return int(length)


def letter_rows(seqs: Any, alphabet: str = "ACGT", length: int | None = None,
                pad: str = "right", unknown: str = "error") -> tuple[Alphabet, np.ndarray]:
    """Every position's row in the alphabet's weight table: ``[n, L]`` int16 (0 = padding)."""
    table = alphabet_table(alphabet)
    if pad not in _PADS:
        raise OptionError(f"pad must be 'right' (pad or trim the end) or 'left' (the start); "
                          f"got {pad!r}")
    if unknown not in ("error", "zero"):
        raise OptionError(f"unknown must be 'error' or 'zero' (an all-zero row); got {unknown!r}")
    strings = _as_strings(seqs)
    lens = np.fromiter((len(s) for s in strings), dtype=np.int64, count=len(strings))
    L = _check_length(length, int(lens.max(initial=0)))
    if len(strings) * L * len(table.letters) > MAX_ELEMENTS:
        raise DataError(f"{len(strings)} sequences x {L} positions x {len(table.letters)} "
                        f"letters is more than {MAX_ELEMENTS} numbers; pass a smaller length= "
                        "or encode the sequences in batches")
    joined = "".join(strings)
    points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)  # one per character
    rows = np.where(points < 128, table.row[points & 127], 0)
    seq_of = np.repeat(np.arange(len(strings)), lens)
    pos = np.arange(len(points)) - np.repeat(np.cumsum(lens) - lens, lens)
    bad = rows == 0
    if unknown == "error" and bad.any():
        first = int(np.argmax(bad))
        i, p = int(seq_of[first]), int(pos[first])
        hint = (" (U is RNA: use alphabet='ACGU')" if alphabet == "ACGT" and joined[first] in "uU"
                else " (T is DNA: use alphabet='ACGT')" if alphabet == "ACGU"
                and joined[first] in "tT" else "")
        raise DataError(
            f"sequence {i + 1}, position {p + 1} (counting from 1) holds {joined[first]!r}, "
            f"not a letter of alphabet {alphabet!r}{hint}; {int(bad.sum())} such character(s) "
            "in all. Clean the sequences or pass unknown='zero' to encode them as all-zero rows")
    col = pos if pad == "right" else pos + (L - lens)[seq_of]
    keep = (col >= 0) & (col < L)
    out = np.zeros((len(strings), L), dtype=np.int16)
    out[seq_of[keep], col[keep]] = rows[keep]
    return table, out


def onehot(seqs: Any, alphabet: str = "ACGT", length: int | None = None, pad: str = "right",
           unknown: str = "error") -> np.ndarray:
    """One-hot encode sequences as ``[n, L, k]`` float32, ready for ``dl.conv1d``.

    Parameters
    ----------
    seqs : str or sequence of str
        The sequences (a list, NumPy array or pandas Series of strings; one string is one
        sequence).  Lower case is accepted.
    alphabet : str, default "ACGT"
        ``"ACGT"``, ``"ACGU"``, ``"protein"`` or any string of distinct characters (the
        channels, in order).  Ambiguity codes get equal weights over the letters they stand
        for (see the module notes).
    length : int, optional
        The number of positions ``L``; shorter sequences are padded with all-zero rows, longer
        ones trimmed.  Default: the longest sequence.
    pad : {"right", "left"}
        Where padding goes and what trimming cuts: the end (``"right"``) or the start.
    unknown : {"error", "zero"}
        A character outside the alphabet raises :class:`DataError` naming the sequence and
        position, or (``"zero"``) becomes an all-zero row.

    Returns
    -------
    numpy.ndarray
        ``[n, L, k]`` float32; each position's row sums to 1 (0 for padding and, with
        ``unknown="zero"``, for unknown characters).

    Examples
    --------
    >>> X = dlstat.onehot(["ACGTN", "acg"], length=4)
    >>> X.shape
    (2, 4, 4)
    >>> X[1].tolist()  # padded at the end
    [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    """
    table, rows = letter_rows(seqs, alphabet, length, pad, unknown)
    return table.weights[rows]


def kmer_codes(seqs: Any, k: int = 3, alphabet: str = "ACGT", length: int | None = None,
               pad: str = "right", incomplete: str = "error") -> np.ndarray:
    """Overlapping k-mers as integer codes ``[n, L - k + 1]`` for ``dl.embedding(4**k, dim)``.

    The k-mer ``x_1 ... x_k`` gets the code ``sum_j index(x_j) * s**(k - j)`` with ``s`` the
    alphabet size and letters indexed in alphabet order (under "ACGT": AAA = 0, AAC = 1, ...,
    TTT = 63).

    Parameters
    ----------
    seqs, alphabet, length, pad
        As in :func:`onehot`.
    k : int, default 3
        The k-mer length (``1 <= k <= L``).
    incomplete : {"error", "extra"}
        A k-mer touching an ambiguity code, an unknown character or padding raises
        :class:`DataError`, or (``"extra"``) gets the extra code ``s**k``: then use
        ``dl.embedding(s**k + 1, dim)``.

    Returns
    -------
    numpy.ndarray
        ``[n, L - k + 1]`` int32 codes.

    Examples
    --------
    >>> dlstat.kmer_codes(["ACGTA", "TTTTT"], k=3).tolist()
    [[6, 27, 44], [63, 63, 63]]
    """
    if incomplete not in ("error", "extra"):
        raise OptionError(f"incomplete must be 'error' or 'extra' (code size**k for k-mers "
                          f"with ambiguity codes or padding); got {incomplete!r}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise OptionError(f"k must be a whole number >= 1; got {k!r}")
    table, rows = letter_rows(seqs, alphabet, length, pad,
                              "zero" if incomplete == "extra" else "error")
    size = len(table.letters)
    if size ** int(k) >= 2**31 - 1:
        raise OptionError(f"{size}**{k} k-mers do not fit 32-bit codes; use a smaller k")
    if rows.shape[1] < k:
        raise DataError(f"the sequences have {rows.shape[1]} positions, fewer than k={k}; "
                        "use a smaller k or a larger length=")
    index = table.exact[rows]
    windows = np.lib.stride_tricks.sliding_window_view(index, int(k), axis=1)
    codes = windows @ (size ** np.arange(int(k) - 1, -1, -1, dtype=np.int64))
    broken = (windows < 0).any(axis=2)
    if broken.any() and incomplete == "error":
        i, j = (int(v[0]) for v in np.nonzero(broken))
        raise DataError(f"sequence {i + 1}, k-mer at position {j + 1} (counting from 1) holds "
                        "an ambiguity code or padding and has no k-mer code; pass "
                        "incomplete='extra' to give such k-mers the code "
                        f"{size}**{k} = {size ** int(k)} (then dl.embedding({size ** int(k)} + 1, dim))")
    codes[broken] = size ** int(k)
    return codes.astype(np.int32)


__all__ = ["MAX_ELEMENTS", "alphabet_table", "kmer_codes", "letter_rows", "onehot"]
