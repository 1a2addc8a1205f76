"""evaluate: metrics on hand-checked numbers, baselines on known series."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit.evaluate import (
    ADF_CRITICAL_5,
    adf_statistic,
    coverage,
    diebold_mariano,
    fit_ar_forms,
    mase_scale,
    metrics,
    persistence,
    rmse_by_step,
    roc_by_class,
    seasonal_naive,
)


def test_metrics_by_hand():
    m = metrics(np.array([1.0, 2.0, 4.0]), np.array([2.0, 2.0, 2.0]), mase_scale=0.5)
    assert m["mae"] == pytest.approx(1.0)
    assert m["rmse"] == pytest.approx(np.sqrt(5 / 3))
    assert m["mape"] == pytest.approx((100 + 0 + 50) / 3)
    assert m["mase"] == pytest.approx(2.0)


def test_naive_baselines():
    y = np.arange(10, dtype=float)
    np.testing.assert_array_equal(persistence(y, 2)[3], [3, 3])
    s = seasonal_naive(y, 3, season=2)
    np.testing.assert_array_equal(s[5], [4, 5, 4])  # y[t+h - 2*ceil(h/2)]: t-1, t, t-1
    assert np.isnan(s[0, 0])
    assert mase_scale([y], 2) == pytest.approx(2.0)


def test_least_squares_recovers_an_ar2():
    rng = np.random.default_rng(0)
    y = np.zeros(3000)
    for t in range(2, len(y)):
        y[t] = 0.6 * y[t - 1] - 0.3 * y[t - 2] + rng.normal(0, 0.1)
    design = np.stack([y[1:-1], y[:-2], np.ones(len(y) - 2)], 1)
    W = fit_ar_forms(design, y[2:, None], 0)["levels"]
    np.testing.assert_allclose(W[:, 0], [0.6, -0.3, 0.0], atol=0.03)


def _lags(y, p):
    """(T, p + 2): y_t .. y_{t-p+1}, a covariate column and a constant; NaN before the start."""
    X = np.full((len(y), p), np.nan)
    for k in range(p):
        X[k:, k] = y[: len(y) - k]
    return np.column_stack([X, np.sin(np.arange(len(y)) / 5), np.ones(len(y))])


def test_the_differences_form_is_the_constrained_least_squares_fit():
    rng = np.random.default_rng(1)
    y = np.cumsum(rng.normal(0.05, 1, 800))
    p, H = 4, 3
    X = _lags(y, p)
    Y = np.column_stack([np.r_[y[h:], [np.nan] * h] for h in range(1, H + 1)])
    forms = fit_ar_forms(X, Y, p, ridge=0.0)
    ok = ~np.isnan(X).any(1) & ~np.isnan(Y).any(1)
    np.testing.assert_allclose(
        forms["levels"], np.linalg.lstsq(X[ok], Y[ok], rcond=None)[0], atol=1e-8
    )
    W = forms["differences"]
    np.testing.assert_allclose(W[:p].sum(0), 1.0, atol=1e-10)  # the lag coefficients sum to one
    # the same fit written out: y_{t+h} - y_t on (y_{t-j} - y_t), the covariate and the constant
    Xd = np.column_stack([X[ok, 1:p] - X[ok, :1], X[ok, p:]])
    direct, *_ = np.linalg.lstsq(Xd, Y[ok] - X[ok, :1], rcond=None)
    np.testing.assert_allclose(W[1:], direct, atol=1e-8)
    np.testing.assert_allclose(W[0], 1 - direct[: p - 1].sum(0), atol=1e-8)
    # on a random walk with drift the constrained fit is persistence plus the drift
    assert fit_ar_forms(X[:, [0, p + 1]], Y[:, :1], 1, ridge=0.0)["differences"][
        0, 0
    ] == pytest.approx(1.0)


def test_adf_rejects_a_unit_root_about_five_percent_of_the_time_on_random_walks():
    rng = np.random.default_rng(0)
    walks = [adf_statistic(np.cumsum(rng.normal(size=250)), lags=2) for _ in range(400)]
    rate = np.mean(np.array(walks) < ADF_CRITICAL_5)
    assert 0.02 < rate < 0.09  # the critical value is the 5% point of the Dickey-Fuller law
    ar = np.zeros(250)
    for t in range(1, 250):
        ar[t] = 0.5 * ar[t - 1] + rng.normal()
    assert adf_statistic(ar) < ADF_CRITICAL_5 - 1  # a stationary AR(1) is rejected with room
    calendar = np.column_stack(
        [np.sin(2 * np.pi * np.arange(250) / 50), np.cos(2 * np.pi * np.arange(250) / 50)]
    )
    # a seasonal swing is no trend
    assert adf_statistic(ar + 5 * calendar[:, 0], exog=calendar) < ADF_CRITICAL_5 - 1
    with pytest.raises(ValueError, match="too few"):
        adf_statistic(np.arange(10.0))


def test_diebold_mariano_sees_a_real_gain_and_not_noise():
    rng = np.random.default_rng(0)
    noise = [diebold_mariano(rng.normal(size=500)) for _ in range(300)]
    assert abs(np.mean(noise)) < 0.2 and 0.8 < np.std(noise) < 1.2  # ~ N(0, 1) under no difference
    assert diebold_mariano(rng.normal(-0.3, 1, 500)) < -4
    # autocorrelated differences (overlapping 12-step errors): the Newey-West variance is larger,
    # so the same mean is less significant than an iid reading would say
    d = np.convolve(rng.normal(size=600), np.ones(12) / 12, mode="valid") - 0.05
    iid_t = d.mean() / (d.std() / np.sqrt(len(d)))
    assert abs(diebold_mariano(d, horizon=12)) < abs(iid_t) / 2
    assert diebold_mariano(np.zeros(50)) == 0.0


def test_coverage():
    assert coverage(np.array([0, 1, 2, 3.0]), np.zeros(4), np.full(4, 1.5)) == 0.5


def test_rmse_by_step_by_hand():
    import pandas as pd

    p = pd.DataFrame({"step": [1, 1, 2, 2], "actual": [0.0, 0, 0, 0], "predicted": [1.0, 3, 2, 2]})
    p["linear_ar"] = [0.0, 0, 4, 0]
    table = rmse_by_step(p, ["predicted", "linear_ar"])
    assert table.loc[1, "predicted"] == pytest.approx(np.sqrt(5)) and table.loc[2, "predicted"] == 2
    assert table.loc[1, "linear_ar"] == 0 and table.loc[2, "linear_ar"] == pytest.approx(np.sqrt(8))


def test_roc_by_class_skips_a_class_without_negatives_and_holds_auc_to_scikit_learn():
    from sklearn.metrics import roc_auc_score

    actual = np.array(["a", "b", "a", "b", "b"])
    score = np.array([0.9, 0.2, 0.6, 0.4, 0.7])
    roc = roc_by_class(actual, {"a": score, "c": score})
    assert set(roc) == {"a"}  # "c" has no positives
    assert roc["a"][2] == pytest.approx(roc_auc_score(actual == "a", score))


# ---- classification, held to scikit-learn ----------------------------------------------------


def _scores(seed=0, n=300, K=4):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, K, n)
    logits = rng.normal(size=(n, K)) + 1.5 * np.eye(K)[y]
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return y, np.round(p, 2)  # rounding makes ties, which ROC-AUC must count one half


def test_classification_metrics_match_scikit_learn():
    skm = pytest.importorskip("sklearn.metrics")
    from lstmkit.evaluate import classification_metrics

    y, p = _scores()
    y[y == 3] = 2  # a class that never occurs: recall undefined, precision 0 where predicted
    ours = classification_metrics(y, p)
    present = np.unique(y)
    assert ours["accuracy"] == pytest.approx(skm.accuracy_score(y, p.argmax(1)))
    assert ours["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, p.argmax(1)))
    labels = np.union1d(present, p.argmax(1))
    assert ours["macro_f1"] == pytest.approx(
        skm.f1_score(y, p.argmax(1), average="macro", labels=labels)
    )
    ovr = np.mean([skm.roc_auc_score(y == k, p[:, k]) for k in present])
    assert ours["roc_auc"] == pytest.approx(ovr, abs=1e-12)
    assert (
        ours["confusion_matrix"] == skm.confusion_matrix(y, p.argmax(1), labels=range(4)).tolist()
    )


def test_binary_auc_and_average_precision_match_scikit_learn_with_ties():
    skm = pytest.importorskip("sklearn.metrics")
    from lstmkit.evaluate import average_precision, roc_auc, roc_curve

    rng = np.random.default_rng(1)
    y = rng.random(500) < 0.1
    s = np.round(rng.random(500) + 0.3 * y, 1)  # heavy ties
    assert roc_auc(y, s) == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)
    assert average_precision(y, s) == pytest.approx(skm.average_precision_score(y, s), abs=1e-12)
    fpr, tpr = roc_curve(y, s)
    ref_fpr, ref_tpr, _ = skm.roc_curve(y, s, drop_intermediate=False)
    np.testing.assert_allclose(fpr, ref_fpr)
    np.testing.assert_allclose(tpr, ref_tpr)
    assert np.isnan(roc_auc(np.zeros(5, bool), s[:5]))


def test_multilabel_metrics_skip_missing_labels():
    from lstmkit.evaluate import classification_metrics, roc_auc

    y = np.array([[1, 0], [0, np.nan], [1, 1], [0, 0], [np.nan, 1]], dtype=float)
    p = np.array([[0.9, 0.2], [0.1, 0.99], [0.6, 0.7], [0.3, 0.1], [0.5, 0.8]])
    m = classification_metrics(y, p)
    assert m["per_label"][1]["n"] == 4  # row 1's missing label left out
    assert m["roc_auc"] == pytest.approx((roc_auc(y[:4, 0] == 1, p[:4, 0]) + 1.0) / 2)


def test_logistic_regression_matches_scikit_learn():
    lm = pytest.importorskip("sklearn.linear_model")
    from lstmkit.evaluate import fit_logistic, logistic_proba

    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 6))
    y = (X[:, 0] + X[:, 1] * 0.5 + rng.normal(0, 0.7, 200) > 0).astype(int) + (X[:, 2] > 1)
    W, b = fit_logistic(X, y, 3, l2=1.0)
    ref = lm.LogisticRegression(C=1.0, tol=1e-10, max_iter=10000).fit(X, y)
    np.testing.assert_allclose(logistic_proba(X, W, b, False), ref.predict_proba(X), atol=2e-4)
    yl = np.stack([y == 1, X[:, 3] > 0], 1).astype(float)
    yl[::7, 1] = np.nan  # missing labels leave the fit
    W, b = fit_logistic(X, yl, 2, l2=1.0)
    known = ~np.isnan(yl[:, 1])
    ref1 = lm.LogisticRegression(C=1.0, tol=1e-10, max_iter=10000).fit(X[known], yl[known, 1])
    np.testing.assert_allclose(
        logistic_proba(X, W, b, True)[:, 1], ref1.predict_proba(X)[:, 1], atol=2e-4
    )


def test_ridge_classifier_matches_scikit_learn_ridge_cv():
    lm = pytest.importorskip("sklearn.linear_model")
    from lstmkit.evaluate import RIDGE_ALPHAS, fit_ridge_classifier

    rng = np.random.default_rng(3)
    for N, D in ((60, 200), (300, 20)):  # more features than rows, and fewer
        X = rng.normal(size=(N, D)) + 3.0  # not centred: the intercept is the fit's job
        y = (X[:, :3] @ [1.0, -1.0, 0.5] - 1.5 + rng.normal(0, 1, N) > 0).astype(int) + (
            X[:, 3] > 4
        )
        W, b, alpha, _ = fit_ridge_classifier(X, y, 3)
        Y = -np.ones((N, 3))
        Y[np.arange(N), y] = 1
        # exact leave-one-out over the same grid
        ref = lm.RidgeCV(alphas=N * RIDGE_ALPHAS).fit(X, Y)
        assert alpha * N == pytest.approx(ref.alpha_)
        # = T * the ridge's scores: one positive temperature, the fit itself unchanged
        scores = X @ W + b
        T = float((scores * ref.predict(X)).sum() / (ref.predict(X) ** 2).sum())
        assert T > 0
        np.testing.assert_allclose(scores, T * ref.predict(X), atol=1e-8)


def test_ridge_leave_one_out_is_the_refit_without_the_row_and_the_temperature_its_best_log_loss():
    from lstmkit.evaluate import fit_ridge_classifier, logistic_proba

    rng = np.random.default_rng(4)
    N, D = 40, 80
    X = rng.normal(size=(N, D))
    y = (X[:, 0] + rng.normal(0, 0.5, N) > 0).astype(int) + (X[:, 1] > 1)
    # one penalty: what is left to check is leave-one-out and the temperature
    grid = np.array([0.1])
    fit = fit_ridge_classifier(X, y, 3, grid)
    W = fit.W
    loo = np.empty((N, 3))
    for i in range(N):  # leave row i out, refit the ridge from scratch (centred, intercept free)
        keep = np.arange(N) != i
        Xk, Yk = X[keep], -np.ones((N - 1, 3))
        Yk[np.arange(N - 1), y[keep]] = 1
        xm, ym = Xk.mean(0), Yk.mean(0)
        Wk = np.linalg.solve((Xk - xm).T @ (Xk - xm) + N * 0.1 * np.eye(D), (Xk - xm).T @ (Yk - ym))
        loo[i] = (X[i] - xm) @ Wk + ym

    def log_loss(T):
        p = logistic_proba(loo, T * np.eye(3), np.zeros(3), False)
        return -np.mean(np.log(p[np.arange(N), y]))

    Y = -np.ones((N, 3))
    Y[np.arange(N), y] = 1
    xm, ym = X.mean(0), Y.mean(0)
    W1 = np.linalg.solve((X - xm).T @ (X - xm) + N * 0.1 * np.eye(D), (X - xm).T @ (Y - ym))
    T = float(np.linalg.norm(W) / np.linalg.norm(W1))  # the temperature the fit folded into W
    np.testing.assert_allclose(W, T * W1, atol=1e-10)
    assert log_loss(T) <= min(log_loss(t) for t in np.linspace(0.5 * T, 2 * T, 41)) + 1e-9
    # the returned out-of-sample logits: each refit's
    np.testing.assert_allclose(fit.loo, T * loo, atol=1e-8)


def test_ridge_classifier_labels_each_on_its_known_rows():
    from lstmkit.evaluate import fit_ridge_classifier, logistic_proba

    rng = np.random.default_rng(5)
    X = rng.normal(size=(150, 10))
    yl = np.stack([X[:, 0] > 0, X[:, 1] + rng.normal(0, 0.5, 150) > 0], 1).astype(float)
    yl[::5, 1] = np.nan
    W, b, _, loo = fit_ridge_classifier(X, yl, 2)
    known = ~np.isnan(yl[:, 1])
    # label 1 alone, as 2 classes
    W1, b1, _, loo1 = fit_ridge_classifier(X[known], yl[known, 1].astype(int), 2)
    # its logit, on its known rows only
    np.testing.assert_allclose(loo[known, 1], loo1[:, 1] - loo1[:, 0])
    assert np.isnan(loo[~known, 1]).all() and not np.isnan(loo[:, 0]).any()
    two = logistic_proba(X, W1, b1, False)[:, 1]
    np.testing.assert_allclose(logistic_proba(X, W, b, True)[:, 1], two, atol=1e-10)
    p = logistic_proba(X, W, b, True)
    assert ((p[:, 0] > 0.5) == (X[:, 0] > 0)).mean() > 0.9  # and it has learnt something


def test_paired_t_and_each_rows_log_loss_by_hand():
    from lstmkit.evaluate import paired_t, row_log_loss

    d = np.array([-0.2, -0.1, 0.0, -0.3])
    mean, sd = -0.15, np.sqrt(((d + 0.15) ** 2).sum() / 3)
    assert paired_t(d) == pytest.approx(mean / (sd / 2))
    assert paired_t(np.array([0.1])) == 0.0 and paired_t(np.zeros(5)) == 0.0
    y = np.array([0, 2])
    p = np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])
    np.testing.assert_allclose(row_log_loss(y, p), [-np.log(0.5), -np.log(0.8)])
    labels = np.array([[1.0, np.nan], [0.0, 1.0], [np.nan, np.nan]])
    q = np.array([[0.9, 0.5], [0.2, 0.6], [0.5, 0.5]])
    out = row_log_loss(labels, q)
    np.testing.assert_allclose(out[:2], [-np.log(0.9), -(np.log(0.8) + np.log(0.6)) / 2])
    assert np.isnan(out[2])  # no known label


def test_the_adf_statistic_of_a_long_series_summed_in_blocks_is_the_direct_one(monkeypatch):
    """Past ADF_DIRECT_CELLS the regression is summed block by block (a long series' memory);
    the statistic is the one the whole regression gives."""
    from lstmkit import evaluate

    rng = np.random.default_rng(3)
    y = np.cumsum(rng.normal(size=3000)) + 0.01 * np.arange(3000)
    calendar = np.column_stack([np.sin(np.arange(3000) / 7), np.cos(np.arange(3000) / 7)])
    direct = [adf_statistic(y), adf_statistic(y, exog=calendar), adf_statistic(y[:400], lags=3)]
    monkeypatch.setattr(evaluate, "ADF_DIRECT_CELLS", 0)
    monkeypatch.setattr(evaluate, "ADF_BLOCK", 256)
    blocks = [adf_statistic(y), adf_statistic(y, exog=calendar), adf_statistic(y[:400], lags=3)]
    np.testing.assert_allclose(blocks, direct, rtol=1e-8)
