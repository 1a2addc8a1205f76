"""linear/paths.py: the logistic regression every classifier run fits, and its fusion with the
network."""

from __future__ import annotations

import numpy as np

from lstmkit.classify.baselines import criterion
from lstmkit.evaluate import fit_logistic, logistic_proba
from lstmkit.linear.paths import L2_GRID, LinearModel, differences, fuse


def log_loss(y, p):
    return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None))))


def folds(n, k=5):
    return np.arange(n) % k


def test_the_penalty_is_the_one_best_out_of_fold_and_the_model_is_refitted_on_every_row():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(150, 30))
    y = (X[:, :3] @ np.array([1.5, -1.0, 0.5]) + rng.normal(0, 1, 150) > 0).astype(int)
    f = folds(150)
    model, oof = LinearModel.fit(X, y, 2, log_loss, f)

    def out_of_fold(l2):  # each fold's logits from the fit on the other four, written out here
        z = np.empty((150, 2))
        for k in range(5):
            W, b = fit_logistic(X[f != k], y[f != k], 2, l2)
            z[f == k] = X[f == k] @ W + b
        return z

    chosen = out_of_fold(model.l2)
    # warm starts along the path: the same optimum
    np.testing.assert_allclose(oof, chosen, atol=2e-4)
    p = lambda z: np.exp(z) / np.exp(z).sum(1, keepdims=True)  # noqa: E731
    for l2 in L2_GRID:  # no other penalty of the grid does better out of fold
        assert log_loss(y, p(chosen)) <= log_loss(y, p(out_of_fold(l2))) + 1e-4
    # and the model is the fit on all 150 rows at that penalty
    W, b = fit_logistic(X, y, 2, model.l2)
    np.testing.assert_allclose(model.logits(X), X @ W + b, atol=2e-4)
    np.testing.assert_allclose(model.proba(X), logistic_proba(X, model.W, model.b, False))
    again = LinearModel.from_tensors(model.tensors(), model.l2, False)
    np.testing.assert_array_equal(again.logits(X), model.logits(X))


def test_more_features_than_rows_is_solved_in_the_rows_span_with_the_same_optimum():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(50, 400))
    y = rng.integers(0, 3, 50)
    model, _ = LinearModel.fit(X, y, 3, log_loss, folds(50))
    W, b = fit_logistic(X, y, 3, model.l2, max_iter=3000)  # directly, in all 400 dimensions
    np.testing.assert_allclose(model.W, W, atol=1e-5)
    np.testing.assert_allclose(model.b, b, atol=1e-5)


def test_the_ridge_learns_from_every_row_and_its_out_of_sample_logits_are_leave_one_out():
    from lstmkit.evaluate import fit_ridge_classifier

    rng = np.random.default_rng(6)
    X = rng.normal(size=(120, 300))
    y = (X[:, :2] @ np.array([1.0, -1.0]) > 0).astype(int)
    # folds: not its business
    model, oof = LinearModel.fit(X, y, 2, log_loss, folds(120), model="ridge")
    # all 120 rows: no row is held out from the ridge
    W, b, alpha, loo = fit_ridge_classifier(X, y, 2)
    np.testing.assert_allclose(model.W, W)
    np.testing.assert_allclose(model.b, b)
    np.testing.assert_allclose(oof, loo)
    assert model.l2 == alpha
    again = LinearModel.from_tensors(model.tensors(), model.l2, False)
    np.testing.assert_array_equal(again.proba(X), model.proba(X))


def test_linear_models_take_labels_with_missing_values():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(100, 40))
    y = np.stack([X[:, 0] > 0, X[:, 1] > 0], 1).astype(float)
    y[::4, 1] = np.nan  # a missing label leaves only that label's fit
    for kind in ("ridge", "logistic"):
        model, oof = LinearModel.fit(
            X, y, 2, lambda t, p: criterion(t, p, "loss", True), folds(100), model=kind
        )
        assert model.multilabel and model.W.shape == (40, 2) and oof.shape == (100, 2)
        assert np.isfinite(oof[:, 0]).all()
        p = model.proba(X)
        assert p.shape == (100, 2) and ((p > 0) & (p < 1)).all()
        assert ((p[:, 0] > 0.5) == (X[:, 0] > 0)).mean() > 0.85


def test_fuse_weighs_the_two_paths_logits():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(3), 5)
    z = rng.normal(size=(5, 3))
    np.testing.assert_allclose(fuse(p, z, 0.0, False), p, atol=1e-12)
    softmax = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    np.testing.assert_allclose(fuse(p, z, 1.0, False), softmax, atol=1e-12)
    geometric = p**0.5 * softmax**0.5  # w = 0.5: the normalised geometric mean of the two
    np.testing.assert_allclose(
        fuse(p, z, 0.5, False), geometric / geometric.sum(1, keepdims=True), atol=1e-12
    )
    q = rng.uniform(0.05, 0.95, (5, 2))  # labels: log-odds are blended
    expected = 1 / (1 + np.exp(-(0.7 * np.log(q / (1 - q)) + 0.3 * z[:, :2])))
    np.testing.assert_allclose(fuse(q, z[:, :2], 0.3, True), expected, atol=1e-12)


def test_differences_are_per_channel_steps_and_a_one_step_sequence_keeps_one_zero_step():
    a = np.array([[1.0, 10.0], [3.0, 7.0], [6.0, 7.5]])
    one = np.array([[2.0, -1.0]])
    d_a, d_one = differences([a, one])
    np.testing.assert_array_equal(d_a, [[2.0, -3.0], [3.0, 0.5]])
    np.testing.assert_array_equal(d_one, [[0.0, 0.0]])
