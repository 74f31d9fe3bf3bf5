"""Sequence data sets: simulated transcription-factor binding, and the primate splice junctions.

Both are re-exported by :mod:`dlstat.datasets` (``dl.datasets.tf_binding()``,
``dl.datasets.splice()``).
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import DataError, DatasetError, OptionError

#: The motif planted by :func:`tf_binding` by default (the one of Zou et al.'s primer on deep
#: learning in genomics, Nature Genetics 2019, whose tutorial simulates the same task).
TF_MOTIF = "CGACCGAACTCC"
TF_SEED = 2019
SPLICE_CLASSES = ("ei", "ie", "n")
# StatLog's coding of the nucleotides in mlbench's DNA (its help page): A 100, C 010, G 001, T 000.
_STATLOG_CODES = {"100": "A", "010": "C", "001": "G", "000": "T"}
# Fixed R code (no user input reaches it): the 180 indicators of each row as one 0/1 string.
_SPLICE_R = ('suppressMessages(data(DNA, package = "mlbench")); '
             'b <- vapply(DNA[1:180], function(v) as.character(v), character(nrow(DNA))); '
             'writeLines(paste(apply(b, 1, paste, collapse = ""), as.character(DNA$Class)))')


@dataclass(frozen=True)
class TFBinding:
    """A simulated binding data set: ``sequences`` (n strings), ``labels`` (1 = bound),
    ``positions`` (0-based start of the planted motif, -1 in unbound sequences), the ``motif``
    and the ``seed`` that reproduces it."""

    sequences: list[str]
    labels: np.ndarray
    positions: np.ndarray
    motif: str
    seed: int


def _whole(value: object, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise OptionError(f"{name} must be a whole number >= {low}; got {value!r}")
    return int(value)


def tf_binding(n: int = 2000, length: int = 50, motif: str = TF_MOTIF, seed: int = TF_SEED,
               bound: float = 0.5) -> TFBinding:
    """Simulated transcription-factor binding: random DNA, a motif planted in the bound ones.

    Every base is drawn uniformly from A, C, G, T; a `bound` fraction of the sequences (chosen
    at random) gets `motif` at a uniformly random start.  An unbound sequence that contains the
    motif by chance (about 1 in 400,000 at the defaults) is drawn again, so the motif occurs in
    the bound sequences only.

    Parameters
    ----------
    n : int, default 2000
        Number of sequences.
    length : int, default 50
        Bases per sequence (at least the motif's length).
    motif : str, default "CGACCGAACTCC"
        The planted motif, unambiguous ACGT.
    seed : int, default 2019
        Seed of :func:`numpy.random.default_rng`: the same seed gives the same data.
    bound : float, default 0.5
        Fraction of bound sequences, in [0, 1].

    Returns
    -------
    TFBinding
        ``sequences``, ``labels`` (int64, 1 = bound), ``positions`` (the motif's 0-based start,
        -1 if unbound), ``motif`` and ``seed``.

    >>> d = tf_binding(n=4, seed=1)
    >>> [s[p:p + 12] for s, p in zip(d.sequences, d.positions) if p >= 0][0]
    'CGACCGAACTCC'
    """
    n, length = _whole(n, "n", 0), _whole(length, "length", 1)
    seed = _whole(seed, "seed", 0)
    if not isinstance(motif, str) or not motif or set(motif.upper()) - set("ACGT"):
        raise OptionError(f"motif must be a non-empty string of A, C, G, T; got {motif!r}")
    motif = motif.upper()
    if len(motif) > length:
        raise OptionError(f"motif has {len(motif)} bases, more than length={length}; use a "
                          "longer length or a shorter motif")
    if isinstance(bound, bool) or not isinstance(bound, (int, float)) or not 0 <= bound <= 1:
        raise OptionError(f"bound must be a fraction in [0, 1]; got {bound!r}")
    rng = np.random.default_rng(seed)
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)
    bases = letters[rng.integers(0, 4, size=(n, length))]
    labels = np.zeros(n, dtype=np.int64)
    labels[rng.permutation(n)[:int(round(bound * n))]] = 1
    positions = np.where(labels == 1, rng.integers(0, length - len(motif) + 1, size=n), -1)
    planted = np.frombuffer(motif.encode("ascii"), dtype=np.uint8)
    for i in np.flatnonzero(labels == 1):
        bases[i, positions[i]:positions[i] + len(motif)] = planted
    sequences = [row.tobytes().decode("ascii") for row in bases]
    for i in np.flatnonzero(labels == 0):
        while motif in sequences[i]:
            sequences[i] = letters[rng.integers(0, 4, size=length)].tobytes().decode("ascii")
    return TFBinding(sequences, labels, positions, motif, seed)


@functools.cache
def _splice_lines() -> tuple[str, ...]:
    rscript = shutil.which("Rscript")
    if rscript is None:
        raise DatasetError("splice() reads the DNA data of R's mlbench package, but Rscript is "
                           "not on PATH; install R and mlbench (apt-get install r-cran-mlbench)")
    try:
        done = subprocess.run([rscript, "--vanilla", "-e", _SPLICE_R], capture_output=True,
                              text=True, timeout=120, check=False)
    except subprocess.TimeoutExpired:
        raise DatasetError("Rscript took more than 120 s to read mlbench's DNA data; "
                           "check the R installation") from None
    if done.returncode != 0:
        raise DatasetError("R could not load the DNA data of package mlbench "
                           f"({done.stderr.strip()[-300:]!r}); install it with apt-get install "
                           "r-cran-mlbench or install.packages('mlbench')")
    return tuple(done.stdout.splitlines())


def splice() -> pd.DataFrame:
    """Primate splice-junction gene sequences (UCI, as StatLog's ``dna``; R's ``mlbench::DNA``).

    3,186 sequences of 60 bases around a possible splice junction, in three classes:
    ``ei`` (exon-intron boundary, a donor site), ``ie`` (intron-exon, an acceptor site) and
    ``n`` (neither).  The junction lies between positions 30 and 31.  mlbench stores each base
    as three indicators (StatLog's coding A = 100, C = 010, G = 001, T = 000); they are decoded
    back to letters here, so ``dl.onehot(df["sequence"])`` gives ``[3186, 60, 4]``.  StatLog
    published test accuracies of 0.939 (logistic discrimination), 0.912 (back-propagation)
    and 0.959 (RBF network) on its own 2000/1186 split, which mlbench does not record.

    Requires R with the mlbench package (Debian's ``r-cran-mlbench``); read once per session.

    Returns
    -------
    pandas.DataFrame
        Columns ``sequence`` (str) and ``Class`` (categorical, levels ``ei``, ``ie``, ``n``),
        in mlbench's row order.
    """
    lines = _splice_lines()
    pairs = [line.split(" ") for line in lines]
    if len(pairs) != 3186 or any(len(p) != 2 or len(p[0]) != 180 for p in pairs):
        raise DataError(f"mlbench's DNA data has an unexpected form ({len(pairs)} rows; "
                        "expected 3186 rows of 180 indicators); reinstall r-cran-mlbench")
    bits = np.frombuffer("".join(p[0] for p in pairs).encode("ascii"), dtype=np.uint8)
    triples = (bits - ord("0")).reshape(len(pairs), 60, 3)
    if (triples > 1).any() or (triples.sum(axis=2) > 1).any():
        raise DataError("mlbench's DNA data holds indicator triples outside StatLog's coding "
                        "(A 100, C 010, G 001, T 000); reinstall r-cran-mlbench")
    letters = np.frombuffer(b"TGCA", dtype=np.uint8)[triples @ np.array([3, 2, 1])]
    sequences = [row.tobytes().decode("ascii") for row in letters]
    classes = pd.Categorical([p[1] for p in pairs], categories=list(SPLICE_CLASSES))
    if pd.isna(classes).any():
        raise DataError("mlbench's DNA data has classes outside ei, ie, n; reinstall "
                        "r-cran-mlbench")
    return pd.DataFrame({"sequence": sequences, "Class": classes})


__all__ = ["SPLICE_CLASSES", "TFBinding", "TF_MOTIF", "TF_SEED", "splice", "tf_binding"]
