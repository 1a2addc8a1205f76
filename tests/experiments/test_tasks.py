"""The generators are the papers' tasks: marker positions, target formulas, and the trivial
baselines computed from samples rather than trusted."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lstmkit.experiments.tasks import TASKS, adding, adding1997, copy_memory, temporal_order

rng = lambda seed=0: np.random.default_rng(seed)  # noqa: E731


def test_adding_one_marker_per_half_and_the_sum():
    p = adding(500, 100, rng())
    values, markers = p.x[..., 0], p.x[..., 1]
    assert (markers[:50].sum(0) == 1).all() and (markers[50:].sum(0) == 1).all()
    np.testing.assert_allclose(p.y, (values * markers).sum(0), rtol=1e-6)
    assert (p.last == 99).all() and p.x.shape == (100, 500, 2)


def test_adding_baselines_from_samples():
    p = adding(40_000, 20, rng(1))
    assert np.mean((p.y - 1.0) ** 2) == pytest.approx(1 / 6, abs=0.004)  # predict the mean
    second = (p.x[10:, :, 0] * p.x[10:, :, 1]).sum(0)
    # knows only the 2nd
    assert np.mean((p.y - (second + 0.5)) ** 2) == pytest.approx(1 / 12, abs=0.003)
    assert TASKS["adding"].baseline(100) == pytest.approx(1 / 6)


def test_adding1997_structure():
    T = 100
    p = adding1997(300, T, rng())
    lengths = p.last + 1
    assert lengths.min() >= T and lengths.max() <= T + T // 10
    for j in range(300):
        n = lengths[j]
        marks = p.x[:n, j, 1]
        plus = np.flatnonzero(marks == 1.0)
        assert len(plus) == 2 and plus[0] < 10 and plus[1] < T // 2 - 1
        assert marks[n - 1] == -1.0 and (marks[0] == -1.0 or 0 in plus)
        assert set(np.flatnonzero(marks == 0)) == set(range(n)) - set(plus) - {0, n - 1}
        assert not p.x[n:, j].any()  # padding after the end
        x1, x2 = p.x[plus, j, 0]
        assert p.y[j] == pytest.approx(0.5 + (x1 + x2) / 4)
        assert np.abs(p.x[:n, j, 0]).max() <= 1.0


def test_adding1997_baseline_from_samples():
    p = adding1997(20_000, 20, rng(2))
    wrong = np.mean(np.abs(p.y - 0.5) >= 0.04)
    assert wrong == pytest.approx(TASKS["adding1997"].baseline(20), abs=0.01)


@pytest.mark.parametrize(
    "length, lo, hi, t1, t2", [(100, 100, 110, (10, 20), (50, 60)), (50, 50, 55, (5, 10), (25, 30))]
)
def test_temporal_order_structure(length, lo, hi, t1, t2):
    p = temporal_order(400, length, rng())
    lengths = p.last + 1
    assert lengths.min() >= lo and lengths.max() <= hi
    sym = p.x.argmax(-1)  # a, b, c, d, B, E, X, Y
    for j in range(400):
        n = lengths[j]
        assert sym[0, j] == 5 and sym[n - 1, j] == 4 and p.x[:n, j].sum() == n
        xy = np.flatnonzero(sym[:n, j] >= 6)
        assert len(xy) == 2 and t1[0] <= xy[0] <= t1[1] and t2[0] <= xy[1] <= t2[1]
        assert p.y[j] == 2 * (sym[xy[0], j] - 6) + (sym[xy[1], j] - 6)
    counts = np.bincount(temporal_order(4000, length, rng(5)).y, minlength=4) / 4000
    assert np.all(np.abs(counts - 0.25) < 0.03)  # chance is 1/4 (0.03 is 4.4 standard errors)


def test_copy_memory_and_its_memoryless_baseline():
    T = 30
    p = copy_memory(2000, T, rng())
    seq = p.x.argmax(-1)
    assert (seq[10 : T + 9] == 0).all() and (seq[T + 9] == 9).all()
    np.testing.assert_array_equal(p.y[-10:], seq[:10])
    assert (p.y[:-10] == 0).all()
    # The best memoryless predictor: blank where the answer is blank, uniform over 8 in the recall.
    ce = np.where(np.arange(T + 20)[:, None] >= T + 10, math.log(8), 0.0).mean()
    assert ce == pytest.approx(TASKS["copy"].baseline(T))
