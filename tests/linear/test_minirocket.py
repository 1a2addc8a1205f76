"""MiniRocket features, held to a direct loop over the paper's definition."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit.linear.minirocket import GOLDEN, N_KERNELS, WEIGHTS, MiniRocket


def series(n, L, C=1, seed=0):
    rng = np.random.default_rng(seed)
    return [np.cumsum(rng.normal(size=(L, C)), 0).astype(np.float32) for _ in range(n)]


def direct_ppv(model: MiniRocket, x: np.ndarray) -> np.ndarray:
    """The features of one sequence (L, C), written out step by step: C_t = sum_j w_j x_{t+(j-4)d}
    (zeros outside the sequence) over the chosen channels; PPV over every step with padding, over
    the steps where the kernel lies inside the sequence without it."""
    L = len(x)
    out = []
    for i, d in enumerate(model.dilations):
        padded = np.concatenate([np.zeros((4 * d, x.shape[1])), x, np.zeros((4 * d, x.shape[1]))])
        for k in range(N_KERNELS):
            ch = np.flatnonzero(model.channels[i][k])
            conv = np.array(
                [
                    sum(WEIGHTS[k, j] * padded[t + j * d, ch].sum() for j in range(9))
                    for t in range(L)
                ]
            )
            if (k + i) % 2 == 1 and L - 8 * d > 0:
                conv = conv[4 * d : L - 4 * d]
            out += [(conv > b).mean() for b in model.biases[i][k]]
    return np.array(out)


def test_feature_count_and_dilations_follow_the_paper():
    model, train = MiniRocket.fit_transform(series(20, 140), n_features=10_000)
    assert model.n_features == 84 * (10_000 // 84) == train.shape[1]
    assert model.dilations[0] == 1 and 8 * model.dilations[-1] <= 139 < 8 * 2 * model.dilations[-1]
    np.testing.assert_allclose(train.mean(0), 0, atol=1e-9)  # standardised by its own statistics


@pytest.mark.parametrize("channels", [1, 3])
def test_features_equal_the_definition_written_out(channels):
    train = series(8, 40, channels)
    model, _ = MiniRocket.fit_transform(train, n_features=168, seed=1)
    new = series(3, 40, channels, seed=5)
    got = model.transform(new, standardise=False)
    for r, x in enumerate(new):
        np.testing.assert_allclose(got[r], direct_ppv(model, x.astype(np.float64)), atol=1e-6)


def test_sequences_of_other_lengths_never_read_the_padding():
    model, _ = MiniRocket.fit_transform(series(8, 60), n_features=336)
    short, long_ = series(1, 23, seed=3)[0], series(1, 60, seed=4)[0]
    alone = model.transform([short], standardise=False)[0]
    in_batch = model.transform([long_, short], standardise=False)[1]
    np.testing.assert_array_equal(alone, in_batch)
    np.testing.assert_allclose(alone, direct_ppv(model, short.astype(np.float64)), atol=1e-6)


def test_biases_are_quantiles_of_the_training_outputs():
    """With one training sequence every kernel's biases come from it, so on that sequence the
    feature for quantile q is the proportion above it: 1 - q to within a step."""
    x = series(1, 100)
    model, _ = MiniRocket.fit_transform(x, n_features=840)
    ppv = model.transform(x, standardise=False)[0]
    q = (np.arange(1, model.n_features + 1) * GOLDEN) % 1
    steps = np.concatenate(
        [
            np.full(b.size, 100 if (k + i) % 2 == 0 else 100 - 8 * d)
            for i, d in enumerate(model.dilations)
            for k, b in enumerate(model.biases[i])
        ]
    )
    assert np.all(np.abs(ppv - (1 - q)) <= 1.0 / steps + 1e-9)


def test_seeded_and_round_trips_through_tensors():
    train = series(10, 50)
    a, fa = MiniRocket.fit_transform(train, n_features=420, seed=0)
    _, fb = MiniRocket.fit_transform(train, n_features=420, seed=0)
    _, fc = MiniRocket.fit_transform(train, n_features=420, seed=1)
    np.testing.assert_array_equal(fa, fb)
    assert not np.allclose(fa, fc)
    tensors = {k: np.asarray(v) for k, v in a.tensors().items()}
    back = MiniRocket.from_tensors(tensors, a.dilations)
    new = series(4, 50, seed=9)
    np.testing.assert_array_equal(back.transform(new), a.transform(new))
    with pytest.raises(ValueError, match="fit_transform"):
        MiniRocket.fit(train, n_features=84).transform(new)


def test_chunking_changes_nothing(monkeypatch):
    """Long or many-channel sequences are convolved a few at a time (memory); the features and the
    biases must not depend on how many."""
    import lstmkit.linear.minirocket as mr

    train, new = series(12, 45, 2), series(7, 45, 2, seed=3)
    model, features = MiniRocket.fit_transform(train, n_features=252, seed=2)
    monkeypatch.setattr(mr, "_rows_per_chunk", lambda length, n_channels: 5)
    small, small_features = MiniRocket.fit_transform(train, n_features=252, seed=2)
    for a, b in zip(model.biases, small.biases, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(features, small_features)
    np.testing.assert_array_equal(model.transform(new), small.transform(new))
