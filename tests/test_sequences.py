"""Sequence encoders (``dl.onehot``, ``dl.kmer_codes``) and the sequence data sets (issue 23)."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

import dlstat as dl
from dlstat.errors import DataError, OptionError, OptionTypeError

A, C, G, T = np.eye(4, dtype=np.float32)
IUPAC = {"R": "AG", "Y": "CT", "S": "GC", "W": "AT", "K": "GT", "M": "AC",
         "B": "CGT", "D": "AGT", "H": "ACT", "V": "ACG", "N": "ACGT"}


def _by_hand(letters: str, alphabet: str = "ACGT") -> np.ndarray:
    out = np.zeros(len(alphabet), dtype=np.float32)
    for c in letters:
        out[alphabet.index(c)] = 1 / len(letters)
    return out


def test_unambiguous_dna_is_one_hot_in_alphabet_order():
    X = dl.onehot(["ACGT", "ttga"])
    assert X.dtype == np.float32 and X.shape == (2, 4, 4)
    np.testing.assert_array_equal(X[0], np.stack([A, C, G, T]))
    np.testing.assert_array_equal(X[1], np.stack([T, T, G, A]))


@pytest.mark.parametrize("code", sorted(IUPAC))
def test_iupac_codes_are_equal_weights_over_their_bases(code):
    for case in (code, code.lower()):
        row = dl.onehot([case])[0, 0]
        np.testing.assert_allclose(row, _by_hand(IUPAC[code]))
        assert row.sum() == pytest.approx(1.0)


def test_rna_and_protein_alphabets():
    np.testing.assert_array_equal(dl.onehot("ACGU", alphabet="ACGU")[0], np.eye(4))
    np.testing.assert_allclose(dl.onehot("Y", alphabet="ACGU")[0, 0], _by_hand("CU", "ACGU"))
    aa = "ACDEFGHIKLMNPQRSTVWY"
    P = dl.onehot([aa, "xbzj"], alphabet="protein")
    assert P.shape == (2, 20, 20)
    np.testing.assert_array_equal(P[0], np.eye(20))
    for row, meaning in zip(P[1], (aa, "DN", "EQ", "IL")):
        np.testing.assert_allclose(row, _by_hand(meaning, aa))
    np.testing.assert_array_equal(dl.onehot(["ba"], alphabet="ab")[0], [[0, 1], [1, 0]])


def test_padding_and_trimming_at_either_end():
    X = dl.onehot(["AC", "GTA"])  # length defaults to the longest
    np.testing.assert_array_equal(X[0], np.stack([A, C, np.zeros(4)]))
    right = dl.onehot(["ACGTA", "C"], length=3)
    np.testing.assert_array_equal(right[0], np.stack([A, C, G]))
    np.testing.assert_array_equal(right[1], np.stack([C, np.zeros(4), np.zeros(4)]))
    left = dl.onehot(["ACGTA", "C"], length=3, pad="left")
    np.testing.assert_array_equal(left[0], np.stack([G, T, A]))
    np.testing.assert_array_equal(left[1], np.stack([np.zeros(4), np.zeros(4), C]))
    assert dl.onehot([], length=5).shape == (0, 5, 4)


def test_input_kinds_and_nothing_is_mutated():
    seqs = ["ACG", "TTT"]
    for given in (seqs, tuple(seqs), np.array(seqs), pd.Series(seqs, index=[7, 9])):
        np.testing.assert_array_equal(dl.onehot(given), dl.onehot(seqs))
    assert seqs == ["ACG", "TTT"]


@pytest.mark.parametrize("seqs, alphabet, shown", [
    (["ACGT", "ACXT"], "ACGT", "sequence 2, position 3 (counting from 1) holds 'X'"),
    (["ACGU"], "ACGT", "use alphabet='ACGU'"),
    (["ACGT"], "ACGU", "use alphabet='ACGT'"),
    (["AC-G"], "ACGT", "position 3"),
    (["ACé"], "ACGT", "holds 'é'"),
    (["AB"], "ab", "holds 'A'"),  # a custom alphabet with lower case letters is exact
    (["AC", None], "ACGT", "sequence 2 (counting from 1) is NoneType"),
    (["AC", np.nan], "ACGT", "is float nan, not a string"),
])
def test_characters_outside_the_alphabet_are_named(seqs, alphabet, shown):
    with pytest.raises(DataError, match=shown.replace("(", r"\(").replace(")", r"\)")):
        dl.onehot(seqs, alphabet=alphabet)


def test_unknown_zero_gives_all_zero_rows():
    X = dl.onehot(["AX-T"], unknown="zero")
    np.testing.assert_array_equal(X[0], np.stack([A, np.zeros(4), np.zeros(4), T]))


@pytest.mark.parametrize("options, error", [
    (dict(alphabet="AAC"), OptionError), (dict(alphabet=""), OptionError),
    (dict(alphabet=4), OptionTypeError), (dict(pad="middle"), OptionError),
    (dict(unknown="skip"), OptionError), (dict(length=-1), OptionError),
    (dict(length=2.5), OptionError),
])
def test_bad_options_are_refused(options, error):
    with pytest.raises(error):
        dl.onehot(["ACGT"], **options)


def test_huge_outputs_are_refused_before_allocation():
    with pytest.raises(DataError, match="length="):
        dl.onehot(["A"] * 1000, length=10**9)


def test_kmer_codes_match_a_hand_computation():
    seq = "ACGTTGCA"
    index = {c: i for i, c in enumerate("ACGT")}
    for k in (1, 2, 3):
        want = [sum(index[c] * 4 ** (k - 1 - j) for j, c in enumerate(seq[s:s + k]))
                for s in range(len(seq) - k + 1)]
        got = dl.kmer_codes([seq, seq.lower()], k=k)
        assert got.dtype == np.int32 and got.shape == (2, len(seq) - k + 1)
        assert got.tolist() == [want, want]
    assert dl.kmer_codes(["AAA", "TTT"], k=3).ravel().tolist() == [0, 63]
    assert dl.kmer_codes(["MKV"], k=2, alphabet="protein").tolist() == [[10 * 20 + 8, 8 * 20 + 17]]


def test_kmers_touching_ambiguity_or_padding_need_the_extra_code():
    with pytest.raises(DataError, match="sequence 1, k-mer at position 2"):
        dl.kmer_codes(["ACNT"], k=2)
    with pytest.raises(DataError, match="incomplete='extra'"):
        dl.kmer_codes(["ACGT", "AC"], k=2)
    got = dl.kmer_codes(["ACNT", "AC"], k=2, incomplete="extra")
    assert got.tolist() == [[1, 16, 16], [1, 16, 16]]
    with pytest.raises(DataError, match="fewer than k=5"):
        dl.kmer_codes(["ACGT"], k=5)
    with pytest.raises(OptionError):
        dl.kmer_codes(["ACGT"], k=0)


# --------------------------------------------------------------------------- data sets


def test_tf_binding_is_reproducible_and_the_motif_marks_the_bound():
    a = dl.datasets.tf_binding(n=300, seed=5)
    b = dl.datasets.tf_binding(n=300, seed=5)
    c = dl.datasets.tf_binding(n=300, seed=6)
    assert a.sequences == b.sequences and (a.labels == b.labels).all()
    assert a.sequences != c.sequences
    assert a.motif == dl.datasets.TF_MOTIF == "CGACCGAACTCC" and a.seed == 5
    assert len(a.sequences) == 300 and {len(s) for s in a.sequences} == {50}
    assert set("".join(a.sequences)) == set("ACGT") and a.labels.sum() == 150
    for s, label, p in zip(a.sequences, a.labels, a.positions):
        assert (a.motif in s) == bool(label)
        assert (p >= 0) == bool(label)
        if label:
            assert s[p:p + 12] == a.motif


def test_tf_binding_refuses_bad_options():
    with pytest.raises(OptionError, match="motif"):
        dl.datasets.tf_binding(motif="ACGN")
    with pytest.raises(OptionError, match="length=10"):
        dl.datasets.tf_binding(length=10)
    with pytest.raises(OptionError, match="bound"):
        dl.datasets.tf_binding(bound=1.5)


def test_a_small_cnn_finds_the_planted_motif():
    data = dl.datasets.tf_binding(n=1200, seed=11)
    X, y = dl.onehot(data.sequences), data.labels
    arch = [dl.conv1d(8, 12), dl.maxpool(39), dl.flatten(), dl.dense(8)]  # max over positions
    clf = dl.DNNClassifier(architecture=arch, epochs=15, learning_rate=0.01, seed=0,
                           verbose=0).fit(X[:900], y[:900])
    assert clf.score(X[900:], y[900:]) >= 0.9  # chance is 0.5


needs_mlbench = pytest.mark.skipif(
    shutil.which("Rscript") is None or subprocess.run(
        ["Rscript", "--vanilla", "-e", "quit(status = !requireNamespace('mlbench', quietly = TRUE))"],
        capture_output=True, timeout=60).returncode != 0,
    reason="R's mlbench is not installed (apt-get install r-cran-mlbench)")


@needs_mlbench
def test_splice_junctions_decode_to_letters_with_the_junction_consensus():
    df = dl.datasets.splice()
    assert df.shape == (3186, 2) and list(df.columns) == ["sequence", "Class"]
    assert list(df["Class"].cat.categories) == ["ei", "ie", "n"]
    assert df["Class"].value_counts().to_dict() == {"n": 1654, "ei": 767, "ie": 765}
    assert set(df["sequence"].str.len()) == {60} and set("".join(df["sequence"])) == set("ACGT")
    # Decoding independently checked by biology: donors (ei) start the intron with GT, acceptors
    # (ie) end it with AG, at the junction between positions 30 and 31.
    ei, ie = df.loc[df.Class == "ei", "sequence"], df.loc[df.Class == "ie", "sequence"]
    assert (ei.str[30:32] == "GT").mean() > 0.95 and (ie.str[28:30] == "AG").mean() > 0.95
    assert (df.loc[df.Class == "n", "sequence"].str[30:32] == "GT").mean() < 0.2
    assert dl.onehot(df["sequence"]).shape == (3186, 60, 4)
    df.loc[0, "sequence"] = "changed"
    assert dl.datasets.splice().loc[0, "sequence"] != "changed"


@needs_mlbench
def test_the_first_2000_splice_rows_have_statlogs_training_class_counts():
    """StatLog trained on 2,000 of the 3,186 sequences and tested on the other 1,186; mlbench
    keeps no split, but its first 2,000 rows have the training set's class counts (ei 464, ie
    485, n 1,051), which vignette 11 and benchmarks/bench_genomics.py rely on."""
    classes = dl.datasets.splice()["Class"]
    assert classes[:2000].value_counts().to_dict() == {"n": 1051, "ie": 485, "ei": 464}
    assert classes[2000:].value_counts().to_dict() == {"n": 603, "ei": 303, "ie": 280}
