"""Tests for the validation layer: partition(), fold assignments, dnn(validation=, test=),
cv_dnn() and compare().

Everything trains for real (TensorFlow engine) and the GLM baselines are checked against
statsmodels.  To keep the file quick on 2 cores every network has the same architecture
(``hidden=(32,)``, relu, adam), so the engine traces one training graph per family (gaussian,
binomial, multinomial, poisson) plus one for the ``hidden=(8,)`` model of the ``models=`` test;
data sets are small and expensive runs are shared through module-scoped fixtures.
"""

from __future__ import annotations

import contextlib
import warnings
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from scipy.special import xlogy  # noqa: E402

import dlstat as dl  # noqa: E402
from dlstat.errors import DataError, OptionError, OptionTypeError  # noqa: E402
from dlstat.validation import foldid_folds  # noqa: E402

# One architecture for every network in this file (one trace per family).
NET = dict(hidden=(32,), learning_rate=0.01, verbose=0)


# -- helpers -----------------------------------------------------------------------------------
@contextlib.contextmanager
def engine_calls():
    """Count calls of the engine's ``train_stack`` (and the stack size of each)."""
    import dlstat.fitting.blocks as blocks

    sizes: list[int] = []
    real = blocks.train_stack

    def counting(job):
        sizes.append(job.size)
        return real(job)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(blocks, "train_stack", counting)
        yield sizes


@contextlib.contextmanager
def no_training():
    """Fail if anything reaches the engine (bad input must be refused before training)."""
    import dlstat.fitting.blocks as blocks

    def refuse(job):
        raise AssertionError("bad input reached the engine")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(blocks, "train_stack", refuse)
        yield


def frame_for_partition(n: int = 100, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cls = np.array(["a"] * 50 + ["b"] * 30 + ["c"] * 20)
    return pd.DataFrame(
        {"x": rng.normal(size=n), "cls": rng.permutation(cls),
         "grp": np.repeat([f"g{i:02d}" for i in range(25)], 4)},
        index=pd.Index(np.arange(1000, 1000 + n) * 3, name="id"),  # not 0..n-1
    )


def simulated(kind: str, n: int = 500, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"x1": rng.uniform(-2, 2, n), "x2": rng.uniform(-2, 2, n)})
    if kind == "linear":
        df["y"] = 1 + 2 * df.x1 - df.x2 + rng.normal(scale=1.0, size=n)
    else:
        df["y"] = 2 * np.sin(2 * df.x1) + df.x2**2 + rng.normal(scale=0.5, size=n)
    return df


def small_regression(n: int = 150, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n)})
    df["y"] = np.sin(df.x1) + 0.5 * df.x2 + rng.normal(scale=0.5, size=n)
    return df


def hand_mean_deviance(family: str, y: pd.Series, mu) -> float:
    """Mean unit deviance, written out independently of dlstat.families."""
    if family == "gaussian":
        return float(((y.to_numpy(float) - np.asarray(mu, float)) ** 2).mean())
    if family == "poisson":
        yv, m = y.to_numpy(float), np.asarray(mu, float)
        return float((2 * (xlogy(yv, yv) - yv * np.log(m) - (yv - m))).mean())
    if family == "binomial":
        yv, p = y.to_numpy(float), np.asarray(mu, float)
        return float((-2 * (yv * np.log(p) + (1 - yv) * np.log1p(-p))).mean())
    probs = mu.to_numpy(float)
    codes = [list(mu.columns).index(str(v)) for v in y]
    return float((-2 * np.log(probs[np.arange(len(codes)), codes])).mean())


# =============================================================================================
# partition()
# =============================================================================================
def test_partition_sizes_index_disjoint_complete():
    df = frame_for_partition()
    parts = dl.partition(df, validation=0.2, test=0.2, seed=1)
    train, val, test = parts  # a Partition unpacks into three frames
    assert (len(train), len(val), len(test)) == (60, 20, 20)
    for part in (train, val, test):
        assert isinstance(part, pd.DataFrame)
        assert list(part.columns) == list(df.columns)
        assert part.index.isin(df.index).all()  # original index labels kept
        pd.testing.assert_frame_equal(part, df.loc[part.index])  # rows unchanged
    idx = [set(p.index) for p in parts]
    assert not (idx[0] & idx[1]) and not (idx[0] & idx[2]) and not (idx[1] & idx[2])
    assert idx[0] | idx[1] | idx[2] == set(df.index)
    assert "train 60" in repr(parts) and "validation 20" in repr(parts) and "test 20" in repr(parts)


def test_partition_zero_validation():
    df = frame_for_partition()
    train, val, test = dl.partition(df, validation=0, test=0.3, seed=1)
    assert (len(train), len(val), len(test)) == (70, 0, 30)


def test_partition_stratified_keeps_class_proportions():
    df = frame_for_partition()
    train, val, test = dl.partition(df, validation=0.2, test=0.2, stratify="cls", seed=3)
    totals = df["cls"].value_counts()
    for part, frac in ((train, 0.6), (val, 0.2), (test, 0.2)):
        counts = part["cls"].value_counts().reindex(totals.index, fill_value=0)
        for c in totals.index:
            assert abs(counts[c] - frac * totals[c]) <= 1, (c, counts[c], frac * totals[c])


def test_partition_stratified_many_small_classes_keeps_overall_fractions():
    # 10 classes of 5 rows, 10 % test: 5 test rows are expected overall, at most one per
    # class.  Rounding each class separately (round(0.5) == 0) leaves the test part empty.
    df = pd.DataFrame({"x": np.arange(50.0), "cls": np.repeat(list("abcdefghij"), 5)})
    train, val, test = dl.partition(df, validation=0.1, test=0.1, stratify="cls", seed=1)
    assert abs(len(test) - 5) <= 1, len(test)
    assert abs(len(val) - 5) <= 1, len(val)
    assert test["cls"].value_counts().max() <= 1


def test_partition_groups_never_split():
    df = frame_for_partition()
    parts = dl.partition(df, validation=0.2, test=0.2, groups="grp", seed=4)
    seen = [set(p["grp"]) for p in parts]
    assert not (seen[0] & seen[1]) and not (seen[0] & seen[2]) and not (seen[1] & seen[2])
    assert sum(len(p) for p in parts) == len(df)
    # 25 groups of 4 rows: the parts hold whole groups close to the asked fractions.
    assert len(parts.test) == 20 and len(parts.validation) == 20


def test_partition_groups_fill_every_part_when_possible():
    # One group of 40 rows and 60 singletons: 60/20/20 is reachable exactly (the big group
    # in training).  Assigning groups by a cumulative sum in random order leaves the
    # validation part (nearly) empty whenever the big group comes up early.
    df = pd.DataFrame({"x": np.arange(100.0),
                       "g": ["big"] * 40 + [f"s{i}" for i in range(60)]})
    for seed in range(5):
        parts = dl.partition(df, validation=0.2, test=0.2, groups="g", seed=seed)
        sizes = (len(parts.train), len(parts.validation), len(parts.test))
        target = (60, 20, 20)
        assert all(abs(a - b) <= 5 for a, b in zip(sizes, target, strict=True)), (seed, sizes)


def test_partition_seed_reproducible():
    df = frame_for_partition()
    a = dl.partition(df, 0.2, 0.2, seed=7)
    b = dl.partition(df, 0.2, 0.2, seed=7)
    c = dl.partition(df, 0.2, 0.2, seed=8)
    for x, y in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(x, y)
    assert set(a.test.index) != set(c.test.index)
    # also with stratification and groups
    s1 = dl.partition(df, 0.2, 0.2, stratify="cls", seed=7)
    s2 = dl.partition(df, 0.2, 0.2, stratify="cls", seed=7)
    assert s1.test.index.equals(s2.test.index)
    g1 = dl.partition(df, 0.2, 0.2, groups="grp", seed=7)
    g2 = dl.partition(df, 0.2, 0.2, groups="grp", seed=8)
    assert set(g1.test.index) != set(g2.test.index)


@pytest.mark.parametrize("kwargs, error, fragments", [
    (dict(validation=0.5, test=0.5), OptionError, ["validation + test", "1"]),
    (dict(validation=0.7, test=0.4), OptionError, ["validation + test", "1.1"]),
    (dict(validation=-0.1), OptionError, ["validation", "-0.1"]),
    (dict(test=1.5), OptionError, ["test", "1.5"]),
    (dict(stratify="nope"), DataError, ["stratify", "'nope'"]),
    (dict(groups="nogroup"), DataError, ["groups", "'nogroup'"]),
])
def test_partition_errors(kwargs, error, fragments):
    df = frame_for_partition()
    with pytest.raises(error) as info:
        dl.partition(df, **kwargs)
    assert isinstance(info.value, dl.DlstatError)
    for f in fragments:
        assert f in str(info.value), (f, str(info.value))


def test_partition_refuses_non_frame():
    with pytest.raises(DataError):
        dl.partition(np.zeros((10, 2)))
    with pytest.raises(DataError):
        dl.partition(pd.DataFrame({"x": []}))


# =============================================================================================
# Fold assignments
# =============================================================================================
def _check_cover(splits, n):
    tests = [te for _, te in splits]
    for tr, te in splits:
        assert len(np.intersect1d(tr, te)) == 0
        assert np.array_equal(np.sort(np.concatenate([tr, te])), np.arange(n))
    allt = np.concatenate(tests)
    assert np.array_equal(np.sort(allt), np.arange(n))  # disjoint and covering


def test_kfold_sizes_and_splitter():
    folds = dl.kfold(5, seed=1)
    ids = folds.assign(23)
    assert ids.shape == (1, 23)
    assert sorted(np.bincount(ids[0])) == [4, 4, 5, 5, 5]
    X = np.zeros((23, 2))
    splits = list(folds.split(X))
    assert len(splits) == folds.get_n_splits() == 5
    _check_cover(splits, 23)


def test_kfold_seeds():
    a = dl.kfold(5, seed=1).assign(40)
    assert np.array_equal(a, dl.kfold(5, seed=1).assign(40))
    assert not np.array_equal(a, dl.kfold(5, seed=2).assign(40))


def test_stratified_kfold_balances_every_class():
    y = np.array(["a"] * 31 + ["b"] * 19 + ["c"] * 10)
    y = np.random.default_rng(0).permutation(y)
    ids = dl.stratified_kfold(5, y, seed=1).assign(len(y))[0]
    sizes = np.bincount(ids)
    assert sizes.max() - sizes.min() <= 1
    for c in "abc":
        per_fold = np.bincount(ids[y == c], minlength=5)
        assert per_fold.max() - per_fold.min() <= 1, (c, per_fold)
    _check_cover(list(dl.stratified_kfold(5, y, seed=1).split(y)), len(y))


def test_group_kfold_never_splits_a_group():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(17), rng.integers(1, 8, 17))
    ids = dl.group_kfold(4, groups, seed=1).assign(len(groups))[0]
    for g in np.unique(groups):
        assert len(np.unique(ids[groups == g])) == 1
    assert set(ids) == {0, 1, 2, 3}
    _check_cover(list(dl.group_kfold(4, groups, seed=1).split(groups)), len(groups))


def test_repeated_kfold():
    folds = dl.repeated_kfold(4, 3, seed=1)
    ids = folds.assign(30)
    assert ids.shape == (3, 30)
    assert not np.array_equal(ids[0], ids[1]) and not np.array_equal(ids[1], ids[2])
    splits = list(folds.split(np.zeros(30)))
    assert len(splits) == folds.get_n_splits() == 12
    for r in range(3):
        _check_cover(splits[4 * r: 4 * r + 4], 30)


def test_foldid():
    labels = np.array(["b", "a", "c", "a", "b", "c", "c", "a"])
    for folds in (foldid_folds(labels), dl.Folds(foldid=labels)):
        assert folds.get_n_splits() == 3
        ids = folds.assign(8)[0]
        assert np.array_equal(ids, pd.factorize(labels, sort=True)[0])
        splits = list(folds.split(np.zeros(8)))
        assert [list(te) for _, te in splits] == [[1, 3, 7], [0, 4], [2, 5, 6]]
    with pytest.raises(OptionError, match="at least 2"):
        foldid_folds(["a"] * 5).assign(5)
    with pytest.raises(DataError, match="one fold per row"):
        foldid_folds([0, 1, 0]).assign(5)


def test_folds_with_sklearn_cross_val_score():
    from sklearn.datasets import make_classification, make_regression
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.model_selection import check_cv, cross_val_score

    X, y = make_regression(n_samples=60, n_features=3, noise=5.0, random_state=0)
    cv = dl.kfold(5, seed=1)
    assert check_cv(cv) is cv
    scores = cross_val_score(LinearRegression(), X, y, cv=cv)
    assert len(scores) == 5
    manual = [LinearRegression().fit(X[tr], y[tr]).score(X[te], y[te])
              for tr, te in dl.kfold(5, seed=1).split(X)]
    np.testing.assert_allclose(scores, manual)

    Xc, yc = make_classification(n_samples=80, n_features=4, random_state=0)
    acc = cross_val_score(LogisticRegression(), Xc, yc, cv=dl.stratified_kfold(4, yc, seed=1))
    assert len(acc) == 4 and np.all((acc >= 0) & (acc <= 1))

    # groups given the scikit-learn way (cross_val_score(groups=...)) are honoured
    groups = np.repeat(np.arange(12), 5)
    assert len(cross_val_score(LinearRegression(), X, y, groups=groups,
                               cv=dl.Folds(3, seed=0))) == 3
    for tr, te in dl.Folds(3, seed=0).split(X, y, groups):
        assert not set(groups[tr]) & set(groups[te])


@pytest.mark.parametrize("folds, n, error, fragments", [
    (dl.kfold(1), 10, OptionError, ["at least 2", "1"]),
    (dl.kfold(0), 10, OptionError, ["at least 2", "0"]),
    (dl.kfold(11), 10, OptionError, ["11", "10"]),
    (dl.kfold(2.5), 10, OptionTypeError, ["2.5"]),
    (dl.repeated_kfold(3, 0), 10, OptionError, ["repeats", "0"]),
    (dl.stratified_kfold(5, ["a"] * 10 + ["b"] * 3), 13, OptionError, ["5", "3"]),
    (dl.group_kfold(5, [1, 1, 2, 2, 3, 3, 3]), 7, OptionError, ["5", "3"]),
    (dl.stratified_kfold(2, ["a", None, "b", "b"]), 4, DataError, ["missing"]),
    (dl.stratified_kfold(2, ["a", "b"]), 4, DataError, ["one label per row"]),
])
def test_fold_errors(folds, n, error, fragments):
    with pytest.raises(error) as info:
        folds.assign(n)
    assert isinstance(info.value, dl.DlstatError)
    for f in fragments:
        assert f in str(info.value), (f, str(info.value))


def test_stratified_error_names_the_class_label():
    # The user's class is called 'rare'; the message should say so, not an internal code.
    labels = ["common"] * 10 + ["rare"] * 3
    with pytest.raises(OptionError) as info:
        dl.stratified_kfold(5, labels).assign(13)
    assert "rare" in str(info.value), str(info.value)


# =============================================================================================
# dnn(validation=, test=): the test part is only evaluated
# =============================================================================================
@pytest.fixture(scope="module")
def split_fits():
    df = small_regression()
    train, val, test = dl.partition(df, 0.2, 0.2, seed=1)
    common = dict(NET, epochs=100, validation=val, early_stopping=5, seed=1)
    plain = dl.dnn("y ~ x1 + x2", train, **common)
    with_test = dl.dnn("y ~ x1 + x2", train, test=test, **common)
    poisoned = test.copy()
    poisoned["y"] = poisoned["y"] * -50 + 1e4  # a test response that would wreck any stopping
    with_poison = dl.dnn("y ~ x1 + x2", train, test=poisoned, **common)
    return SimpleNamespace(train=train, val=val, test=test, plain=plain, with_test=with_test,
                           with_poison=with_poison)


def test_dnn_test_frame_changes_nothing(split_fits):
    s = split_fits
    for other in (s.with_test, s.with_poison):
        assert set(other.params) == set(s.plain.params)
        for k in s.plain.params:
            assert np.array_equal(other.params[k], s.plain.params[k]), k  # bit-identical
        pd.testing.assert_series_equal(other.predict(s.test), s.plain.predict(s.test),
                                       check_exact=True)
        pd.testing.assert_frame_equal(other.history, s.plain.history, check_exact=True)
        assert other.record.best_epoch == s.plain.record.best_epoch
        assert other.record.epochs_run == s.plain.record.epochs_run
    assert s.plain.record.best_epoch > 0  # early stopping watched the validation frame
    assert s.with_test.record.n_obs == len(s.train)
    assert s.with_test.record.n_validation == len(s.val)


def test_dnn_summary_fit_table_has_train_validation_test(split_fits):
    s = split_fits
    table = s.with_test.summary().tables["fit"]
    assert list(table.index) == ["train", "validation", "test"]
    assert list(s.plain.summary().tables["fit"].index) == ["train", "validation"]
    # the test row is the test frame's held-out deviance, computed by hand
    mu = s.with_test.predict(s.test)
    assert table.loc["test", "mean_deviance"] == pytest.approx(
        hand_mean_deviance("gaussian", s.test["y"], mu), rel=1e-9)
    assert table.loc["validation", "mean_deviance"] == pytest.approx(
        hand_mean_deviance("gaussian", s.val["y"], s.with_test.predict(s.val)), rel=1e-9)
    assert "test" in str(s.with_test.summary())
    glance = s.with_test.glance()
    assert glance.loc[0, "test_rmse"] == pytest.approx(table.loc["test", "rmse"])


def test_dnn_validation_fraction_with_test_frame(split_fits):
    s = split_fits
    train_val = pd.concat([s.train, s.val])
    fit = dl.dnn("y ~ x1 + x2", train_val, **NET, epochs=20, validation=0.25, test=s.test,
                 seed=1)
    assert list(fit.summary().tables["fit"].index) == ["train", "validation", "test"]
    assert fit.record.n_validation == round(0.25 * len(train_val))
    assert fit.record.n_obs == len(train_val) - fit.record.n_validation


# =============================================================================================
# cv_dnn(): every family
# =============================================================================================
CASES = {
    "gaussian": ("mpg ~ wt + hp", "mtcars", dict(folds=4)),
    "binomial": ("am ~ wt + hp", "mtcars", dict(folds=4, stratify="am", family="binomial")),
    "multinomial": ("Species ~ .", "iris", dict(folds=5, stratify="Species")),
    "poisson": ("count ~ spray", "InsectSprays", dict(folds=4, stratify="spray",
                                                      family="poisson")),
}


@pytest.fixture(scope="module", params=list(CASES))
def cv_case(request):
    family = request.param
    formula, name, kw = CASES[family]
    data = dl.datasets.load(name)
    with engine_calls() as sizes:
        cv = dl.cv_dnn(formula, data, seed=1, epochs=30, **NET, **kw)
    response = formula.split("~")[0].strip()
    return SimpleNamespace(family=family, formula=formula, data=data, cv=cv, kw=kw,
                           folds=kw["folds"], sizes=list(sizes), response=response)


def test_cv_family_and_metrics_table(cv_case):
    c, cv = cv_case, cv_case.cv
    assert isinstance(cv, dl.CVResult)
    assert cv.family.name == c.family
    m = cv.metrics
    assert len(m) == c.folds  # one row per fold
    assert list(m["fold"]) == list(range(1, c.folds + 1))
    assert (m["repeat"] == 1).all()
    assert m["n_test"].sum() == len(c.data)
    assert ((m["n_train"] + m["n_test"]) == len(c.data)).all()
    assert (m["n_unpredicted"] == 0).all()
    assert {"deviance", "mean_deviance"} <= set(m.columns)
    expected = {"accuracy", "auc", "log_loss", "brier"} if c.family in (
        "binomial", "multinomial") else {"rmse", "mae", "r_squared"}
    assert expected <= set(m.columns)
    assert len(cv.fits) == c.folds


def test_cv_summary_table_mean_sd_se(cv_case):
    cv, k = cv_case.cv, cv_case.folds
    s = cv.summary_table
    assert list(s.columns) == ["mean", "sd", "se"]
    assert "mean_deviance" in s.index
    assert not {"repeat", "fold", "n_train", "n_test", "n_unpredicted"} & set(s.index)
    for metric in s.index:
        values = cv.metrics[metric]
        assert s.loc[metric, "mean"] == pytest.approx(values.mean())
        assert s.loc[metric, "sd"] == pytest.approx(values.std(ddof=1))
        assert s.loc[metric, "se"] == pytest.approx(values.std(ddof=1) / np.sqrt(k))


def test_cv_predictions_and_fold_ids_aligned(cv_case):
    c, cv = cv_case, cv_case.cv
    data = c.data
    assert cv.predictions.index.equals(data.index)
    assert cv.fold_ids.index.equals(data.index)
    assert cv.fold_ids.notna().all()
    assert set(cv.fold_ids.astype(int)) == set(range(c.folds))
    assert np.array_equal(np.bincount(cv.fold_ids.astype(int)), cv.metrics["n_test"])
    preds = cv.predictions
    assert not np.isnan(np.asarray(preds, float)).any()
    if c.family == "multinomial":
        assert list(preds.columns) == ["setosa", "versicolor", "virginica"]
        np.testing.assert_allclose(preds.sum(axis=1), 1.0)
    elif c.family == "binomial":
        assert ((preds > 0) & (preds < 1)).all()
    elif c.family == "poisson":
        assert (preds > 0).all()
    for k in range(c.folds):
        rows = cv.fold_ids.index[cv.fold_ids == k]
        held = data.loc[rows]
        fit = cv.fits[k]
        # the held-out rows were predicted by the fold's own fit
        np.testing.assert_allclose(np.asarray(preds.loc[rows], float),
                                   np.asarray(fit.predict(held), float), rtol=1e-10)
        # ... and the fold's metrics are those predictions' held-out deviance
        assert cv.metrics.loc[k, "mean_deviance"] == pytest.approx(
            hand_mean_deviance(c.family, held[c.response], preds.loc[rows]), rel=1e-8)
        # the fit never saw its held-out rows
        assert not set(fit.fitted().index) & set(rows)
        assert fit.record.n_obs == cv.metrics.loc[k, "n_train"]


def test_cv_all_folds_trained_in_one_engine_call(cv_case):
    assert cv_case.sizes == [cv_case.folds]


def test_cv_folds_balanced(cv_case):
    c = cv_case
    ids = c.cv.fold_ids.astype(int)
    sizes = np.bincount(ids)
    assert sizes.max() - sizes.min() <= 1
    if "stratify" in c.kw:  # every class spread evenly over the folds
        col = c.data[c.kw["stratify"]]
        for level in col.unique():
            per_fold = np.bincount(ids[col == level], minlength=c.folds)
            assert per_fold.max() - per_fold.min() <= 1, (level, per_fold)


@pytest.mark.parametrize("family", ["gaussian", "multinomial"])
def test_cv_reproducible_with_seed(family):
    formula, name, kw = CASES[family]
    data = dl.datasets.load(name)
    runs = [dl.cv_dnn(formula, data, seed=s, epochs=15, **NET, **kw) for s in (1, 1, 2)]
    a, b, other = runs
    pd.testing.assert_frame_equal(a.metrics, b.metrics, check_exact=True)
    pd.testing.assert_series_equal(a.fold_ids, b.fold_ids)
    if isinstance(a.predictions, pd.DataFrame):
        pd.testing.assert_frame_equal(a.predictions, b.predictions, check_exact=True)
    else:
        pd.testing.assert_series_equal(a.predictions, b.predictions, check_exact=True)
    assert not other.fold_ids.equals(a.fold_ids)
    assert not np.allclose(other.metrics["mean_deviance"], a.metrics["mean_deviance"])


def test_cv_repr_and_plot(cv_case):
    c, cv = cv_case, cv_case.cv
    text = repr(cv)
    assert f"{c.folds}-fold cross-validation" in text
    assert c.family in text
    assert "cv_dnn(" in text and c.formula in text
    s = cv.summary_table
    for stat in ("mean", "sd", "se"):
        assert f"{s.loc['mean_deviance', stat]:.4g}" in text
    fig = cv.plot()
    assert isinstance(fig, Figure)
    plt.close(fig)
    main = "accuracy" if c.family in ("binomial", "multinomial") else "rmse"
    fig = cv.plot(main)
    assert isinstance(fig, Figure)
    plt.close(fig)


def test_cv_missing_values_give_na_predictions():
    aq = dl.datasets.load("airquality")
    incomplete = aq[["Ozone", "Solar.R", "Wind", "Temp"]].isna().any(axis=1)
    assert incomplete.sum() == 42
    with pytest.warns(UserWarning, match="missing"):
        cv = dl.cv_dnn("Ozone ~ Solar.R + Wind + Temp", aq, folds=5, seed=1, epochs=20, **NET)
    assert cv.predictions.index.equals(aq.index)
    assert cv.fold_ids.index.equals(aq.index)
    assert np.array_equal(cv.predictions.isna().to_numpy(), incomplete.to_numpy())
    assert np.array_equal(cv.fold_ids.isna().to_numpy(), incomplete.to_numpy())
    assert cv.metrics["n_test"].sum() == (~incomplete).sum() == 111
    assert any("42" in n and "missing" in n for n in cv.notes)
    assert "42" in repr(cv)


def test_cv_repeats_one_engine_call_and_averaged_predictions():
    mt = dl.datasets.load("mtcars")
    with engine_calls() as sizes:
        cv = dl.cv_dnn("mpg ~ wt + hp", mt, folds=3, repeats=2, seed=1, epochs=20, **NET)
    assert sizes == [6]
    assert len(cv.metrics) == 6
    assert list(cv.metrics["repeat"]) == [1, 1, 1, 2, 2, 2]
    assert "2 repeats" in repr(cv)
    # each row's prediction is the mean of its two out-of-fold predictions
    car = mt.index[0]
    from_fits = []
    for fit in cv.fits:
        if car not in set(fit.fitted().index):
            from_fits.append(float(fit.predict(mt.loc[[car]]).iloc[0]))
    assert len(from_fits) == 2
    assert cv.predictions[car] == pytest.approx(np.mean(from_fits), rel=1e-10)


def test_cv_groups_and_foldid():
    mt = dl.datasets.load("mtcars")
    cv = dl.cv_dnn("mpg ~ wt + hp", mt, folds=3, groups="cyl", seed=1, epochs=10, **NET)
    for _, ids in cv.fold_ids.groupby(mt["cyl"]):
        assert ids.nunique() == 1  # a group never spans folds
    labels = np.where(mt["gear"] == 3, "three", np.where(mt["gear"] == 4, "four", "five"))
    with pytest.warns(UserWarning, match="unbalanced"):  # 15, 12 and 5 cars
        cv = dl.cv_dnn("mpg ~ wt + hp", mt, foldid=labels, seed=1, epochs=10, **NET)
    assert len(cv.metrics) == 3
    assert list(cv.metrics["n_test"]) == [5, 12, 15]  # five, four, three (sorted labels)
    expected = pd.factorize(pd.Series(labels), sort=True)[0]
    assert np.array_equal(cv.fold_ids.to_numpy(dtype=int), expected)


# =============================================================================================
# Leakage: every fold's design is learned on its training rows only
# =============================================================================================
@pytest.fixture(scope="module")
def leaky_data():
    rng = np.random.default_rng(3)
    n = 60
    df = pd.DataFrame({"x": rng.normal(size=n),
                       "g": pd.Categorical(rng.choice(list("abc"), n),
                                           categories=list("abcz"))})
    df["y"] = df["x"] + rng.normal(size=n)
    foldid = np.arange(n) % 3  # fold 0: rows 0, 3, 6, ...
    df.loc[0, "x"] = 1e4  # an extreme predictor value, held out in fold 0
    df.loc[9, "y"] = 1e4  # an extreme response value, held out in fold 0
    df.loc[[3, 6], "g"] = "z"  # a level that exists only in fold 0
    return df, foldid


def test_cv_unseen_level_only_in_held_out_fold(leaky_data):
    df, foldid = leaky_data
    cv = dl.cv_dnn("y ~ x + g", df, foldid=foldid, seed=1, epochs=10, **NET)
    assert "z" not in cv.fits[0].spec.levels["g"]
    assert cv.fits[0].spec.levels["g"] == ["a", "b", "c"]
    assert "z" in cv.fits[1].spec.levels["g"]  # the folds that trained on those rows know it
    assert cv.predictions.loc[[3, 6]].isna().all()
    held = np.flatnonzero(foldid == 0)
    others = [i for i in held if i not in (3, 6)]
    assert cv.predictions.loc[others].notna().all()
    row = cv.metrics.iloc[0]
    assert row["n_unpredicted"] == 2 and row["n_test"] == len(held) - 2
    assert (cv.metrics["n_unpredicted"].iloc[1:] == 0).all()
    note = [n for n in cv.notes if "not predicted" in n]
    assert note and "2 held-out row(s)" in note[0]
    assert "not predicted" in repr(cv)


def test_cv_extreme_values_do_not_change_training_standardisation(leaky_data):
    df, foldid = leaky_data
    cv = dl.cv_dnn("y ~ x", df, foldid=foldid, seed=1, epochs=10, **NET)
    for k, fit in enumerate(cv.fits):
        train = df[foldid != k]
        assert fit.spec.columns == ["x"]
        np.testing.assert_allclose(fit.spec.center, [train["x"].mean()], rtol=1e-12)
        np.testing.assert_allclose(fit.spec.scale, [train["x"].std(ddof=0)], rtol=1e-12)
        np.testing.assert_allclose(fit.family.y_center, [train["y"].mean()], rtol=1e-12)
        np.testing.assert_allclose(fit.family.y_scale, [train["y"].std(ddof=0)], rtol=1e-12)
    # fold 0 held out both extremes: its standardisation is that of ordinary values
    assert abs(cv.fits[0].spec.center[0]) < 1 and cv.fits[0].spec.scale[0] < 5
    assert abs(cv.fits[0].family.y_center[0]) < 1 and cv.fits[0].family.y_scale[0] < 5
    assert cv.fits[1].spec.scale[0] > 100  # ...while the other folds trained on them


def test_cv_spline_knots_learned_on_training_rows(leaky_data):
    df, foldid = leaky_data
    cv = dl.cv_dnn("y ~ bs(x, df=4)", df, foldid=foldid, seed=1, epochs=5, **NET)
    for k, fit in enumerate(cv.fits):
        train = df[foldid != k]
        (state,) = fit.spec.transform_state.values()
        assert state["lower_bound"] == pytest.approx(train["x"].min())
        assert state["upper_bound"] == pytest.approx(train["x"].max())
    assert cv.fits[0].spec.transform_state != cv.fits[1].spec.transform_state


def test_cv_early_stopping_uses_inner_validation_rows_only():
    df = small_regression()
    foldid = np.arange(len(df)) % 3
    opts = dict(NET, epochs=100, validation=0.2, early_stopping=5, family="gaussian")
    a = dl.cv_dnn("y ~ x1 + x2", df, foldid=foldid, seed=1, **opts)
    poisoned = df.copy()
    poisoned.loc[foldid == 0, "y"] += 1000.0  # the held-out fold 0's response
    b = dl.cv_dnn("y ~ x1 + x2", poisoned, foldid=foldid, seed=1, **opts)
    fa, fb = a.fits[0], b.fits[0]
    assert fa.record.best_epoch > 0
    assert fa.record.best_epoch == fb.record.best_epoch
    assert fa.record.epochs_run == fb.record.epochs_run
    for key in fa.params:
        assert np.array_equal(fa.params[key], fb.params[key]), key
    pd.testing.assert_frame_equal(fa.history, fb.history, check_exact=True)
    # the inner validation rows come out of the training fold (100 rows: 80 train + 20 val)
    assert fa.record.n_validation == 20 and fa.record.n_obs == 80
    assert a.metrics.loc[0, "n_train"] == 80
    assert not set(fa.fitted().index) & set(np.flatnonzero(foldid == 0))
    # the poisoned fold's held-out deviance is (of course) much worse
    assert b.metrics.loc[0, "mean_deviance"] > 1000 * a.metrics.loc[0, "mean_deviance"]


# =============================================================================================
# Bad input to cv_dnn() and compare()
# =============================================================================================
@pytest.mark.parametrize("kwargs, error, fragments", [
    (dict(folds=1), OptionError, ["at least 2", "1"]),
    (dict(folds=40), OptionError, ["40", "32"]),
    (dict(folds=2.5), OptionTypeError, ["2.5"]),
    (dict(folds=4, stratify="nope"), DataError, ["stratify", "'nope'"]),
    (dict(folds=4, groups="nope"), DataError, ["groups", "'nope'"]),
    (dict(folds=4, stratify="carb"), OptionError, ["4"]),  # carb 6 and 8: one car each
    (dict(folds=4, groups="cyl"), OptionError, ["4", "3"]),  # 3 cylinder groups
    (dict(foldid=[0, 1, 2]), DataError, ["foldid", "32"]),
])
def test_cv_bad_input(kwargs, error, fragments):
    mt = dl.datasets.load("mtcars")
    with no_training(), pytest.raises(error) as info:
        dl.cv_dnn("mpg ~ wt + hp", mt, seed=1, **NET, **kwargs)
    assert isinstance(info.value, dl.DlstatError)
    for f in fragments:
        assert f in str(info.value), (f, str(info.value))


def test_cv_more_folds_than_complete_rows():
    aq = dl.datasets.load("airquality")  # 153 rows, 111 complete
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with no_training(), pytest.raises(OptionError, match="111"):
            dl.cv_dnn("Ozone ~ Solar.R + Wind", aq, folds=120, **NET)


@pytest.mark.parametrize("kwargs, error", [
    (dict(folds=1), OptionError),
    (dict(folds=40), OptionError),
    (dict(folds=4, stratify="nope"), DataError),
    (dict(folds=4, models=[{"hidden": (8,)}]), OptionTypeError),
])
def test_compare_bad_input(kwargs, error):
    mt = dl.datasets.load("mtcars")
    with no_training(), pytest.raises(error) as info:
        dl.compare("mpg ~ wt + hp", mt, seed=1, **NET, **kwargs)
    assert isinstance(info.value, dl.DlstatError)


# =============================================================================================
# compare()
# =============================================================================================
COMPARE = dict(NET, epochs=200)


@pytest.fixture(scope="module")
def linear_comparison():
    with engine_calls() as sizes:
        comp = dl.compare("y ~ x1 + x2", simulated("linear"), folds=5, seed=1, **COMPARE)
    return comp, list(sizes)


@pytest.fixture(scope="module")
def nonlinear_comparison():
    return dl.compare("y ~ x1 + x2", simulated("nonlinear"), folds=5, seed=1, **COMPARE)


def _dnn_difference(comp, model="dnn", metric="mean_deviance"):
    d = comp.differences
    return d[(d["model"] == model) & (d["metric"] == metric)].iloc[0]


def test_compare_linear_problem_glm_wins_or_ties(linear_comparison):
    comp, sizes = linear_comparison
    assert isinstance(comp, dl.Comparison)
    assert sizes == [5]  # the network's 5 folds in one engine call
    assert list(comp.table.index) == ["null", "glm", "dnn"]
    row = _dnn_difference(comp)
    assert row["t"] > -2, row  # the network is not significantly better than the true model
    assert comp.winner() in ("glm", "dnn")
    # the GLM (the true model) beats the null model by far
    null = _dnn_difference(comp, "null")
    assert null["difference"] > 0 and null["t"] > 2


def test_compare_nonlinear_problem_network_wins(nonlinear_comparison):
    comp = nonlinear_comparison
    assert comp.winner() == "dnn"
    row = _dnn_difference(comp)
    assert row["difference"] < 0 and row["t"] < -2, row
    assert comp.winner("r_squared") == "dnn"


def test_compare_tables(nonlinear_comparison):
    comp = nonlinear_comparison
    f = comp.folds
    assert len(f) == 3 * 5
    assert list(f["model"].unique()) == ["null", "glm", "dnn"]
    assert (f.groupby("model")["n_test"].sum() == 500).all()
    t = comp.table
    assert list(t.index) == ["null", "glm", "dnn"]
    assert ("mean_deviance", "mean") in t.columns and ("mean_deviance", "se") in t.columns
    assert "deviance" not in t.columns.get_level_values(0)
    for model in t.index:
        values = f.loc[f["model"] == model, "mean_deviance"]
        assert t.loc[model, ("mean_deviance", "mean")] == pytest.approx(values.mean())
        assert t.loc[model, ("mean_deviance", "se")] == pytest.approx(
            values.std(ddof=1) / np.sqrt(5))
    # paired differences, by hand
    wide = f.pivot(index="fold", columns="model", values="mean_deviance")
    d = wide["dnn"] - wide["glm"]
    row = _dnn_difference(comp)
    assert row["difference"] == pytest.approx(d.mean())
    assert row["se"] == pytest.approx(d.std(ddof=1) / np.sqrt(5))
    assert row["t"] == pytest.approx(d.mean() / (d.std(ddof=1) / np.sqrt(5)))


def test_compare_repr_and_plot(nonlinear_comparison):
    comp = nonlinear_comparison
    text = repr(comp)
    assert "5 folds" in text and "compare(" in text and "gaussian" in text
    for model in ("null", "glm", "dnn"):
        assert model in text
        assert f"{comp.table.loc[model, ('mean_deviance', 'mean')]:.4g}" in text
    assert f"{_dnn_difference(comp)['t']:.4g}" in text
    assert "Best mean held-out deviance: dnn" in text
    fig = comp.plot()
    assert isinstance(fig, Figure)
    plt.close(fig)
    fig = comp.plot("rmse")
    assert isinstance(fig, Figure)
    plt.close(fig)


def test_compare_named_models():
    data = simulated("nonlinear")
    with engine_calls() as sizes:
        comp = dl.compare("y ~ x1 + x2", data, folds=5, seed=1,
                          models={"small": {"hidden": (8,)}, "big": {"hidden": (32,)}},
                          **COMPARE)
    assert sizes == [5, 5]  # one engine call per model, all folds at once
    assert list(comp.table.index) == ["null", "glm", "small", "big"]
    assert set(comp.differences["model"]) == {"null", "small", "big"}
    assert comp.winner() in ("small", "big")
    for name in ("small", "big"):
        assert _dnn_difference(comp, name)["t"] < -2
    assert "small" in repr(comp) and "big" in repr(comp)


def test_compare_glm_and_null_match_statsmodels():
    import statsmodels.formula.api as smf

    data = simulated("linear", n=200, seed=5)
    foldid = np.random.default_rng(0).permutation(np.arange(200) % 5)
    comp = dl.compare("y ~ x1 + x2", data, foldid=foldid, seed=1, **dict(NET, epochs=5))
    f = comp.folds.set_index(["model", "fold"])
    for k in range(5):
        train, test = data[foldid != k], data[foldid == k]
        mu = smf.ols("y ~ x1 + x2", train).fit().predict(test)
        glm = f.loc[("glm", k + 1)]
        assert glm["n_test"] == len(test)
        assert glm["mean_deviance"] == pytest.approx(
            hand_mean_deviance("gaussian", test["y"], mu), rel=1e-8)
        assert glm["mae"] == pytest.approx(np.abs(test["y"] - mu).mean(), rel=1e-8)
        null = f.loc[("null", k + 1)]
        assert null["mean_deviance"] == pytest.approx(
            ((test["y"] - train["y"].mean()) ** 2).mean(), rel=1e-10)


def test_compare_networks_match_cv_dnn_on_the_same_folds():
    mt = dl.datasets.load("mtcars")
    comp = dl.compare("mpg ~ wt + hp", mt, folds=4, seed=1, **dict(NET, epochs=20))
    cv = dl.cv_dnn("mpg ~ wt + hp", mt, folds=4, seed=1, **dict(NET, epochs=20))
    dnn = comp.folds[comp.folds["model"] == "dnn"].reset_index(drop=True)
    np.testing.assert_allclose(dnn["mean_deviance"], cv.metrics["mean_deviance"], rtol=1e-10)
    assert list(dnn["n_test"]) == list(cv.metrics["n_test"])


def test_compare_other_families_include_baselines():
    iris = dl.datasets.load("iris")
    comp = dl.compare("Species ~ Sepal.Length + Sepal.Width", iris, folds=3,
                      stratify="Species", seed=1, **dict(NET, epochs=20))
    assert list(comp.table.index) == ["null", "glm", "dnn"]
    null_acc = comp.folds.loc[comp.folds["model"] == "null", "accuracy"]
    assert (null_acc <= 0.4).all()  # three balanced classes
    assert "accuracy" in repr(comp)
    ins = dl.datasets.load("InsectSprays")
    comp = dl.compare("count ~ spray", ins, folds=3, stratify="spray", family="poisson",
                      seed=1, **dict(NET, epochs=20))
    # the GLM with the six spray means beats the null model
    assert _dnn_difference(comp, "null")["t"] > 2


def test_compare_baselines_use_the_whole_training_fold_with_validation():
    # validation=0.2 / early_stopping are the network's business: the GLM and the null model
    # should still be fitted on every training row of the fold (as without those options).
    import statsmodels.formula.api as smf

    data = simulated("linear", n=200, seed=5)
    foldid = np.random.default_rng(0).permutation(np.arange(200) % 5)
    comp = dl.compare("y ~ x1 + x2", data, foldid=foldid, seed=1, validation=0.2,
                      early_stopping=3, **dict(NET, epochs=20))
    f = comp.folds.set_index(["model", "fold"])
    for k in range(5):
        train, test = data[foldid != k], data[foldid == k]
        mu = smf.ols("y ~ x1 + x2", train).fit().predict(test)
        assert f.loc[("glm", k + 1), "mean_deviance"] == pytest.approx(
            hand_mean_deviance("gaussian", test["y"], mu), rel=1e-8), k
        assert f.loc[("null", k + 1), "mean_deviance"] == pytest.approx(
            ((test["y"] - train["y"].mean()) ** 2).mean(), rel=1e-10), k


def test_compare_multinomial_glm_failure_is_not_silent():
    # iris: setosa is perfectly separable, so an unpenalised multinomial GLM diverges on some
    # folds.  A fold whose GLM gives no finite predictions must not be scored as if it had
    # (argmax of NaN probabilities = "setosa") nor silently left out of the means and the
    # winner: either the GLM fits every fold, or the failure is visible.
    iris = dl.datasets.load("iris")
    comp = dl.compare("Species ~ .", iris, folds=5, stratify="Species", seed=1,
                      **dict(NET, epochs=20))
    glm = comp.folds[comp.folds["model"] == "glm"]
    failed = glm["mean_deviance"].isna() | ~np.isfinite(glm["mean_deviance"])
    if failed.any():
        assert glm.loc[failed, "accuracy"].isna().all(), glm[["fold", "accuracy",
                                                             "mean_deviance"]]
        assert any("glm" in n.lower() for n in comp.notes), comp.notes
