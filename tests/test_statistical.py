"""statsforecast's models rolled with fixed parameters (lstmkit.statistical): at the end of the fit
the rolled forecast is the library's own forecast; every row uses only the past; a later slice
rolled with its offset agrees with the whole; the worker process round-trips its JSON."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from lstmkit import statistical

warnings.filterwarnings("ignore", module="statsforecast")


def seasonal(n=400, m=12, seed=0, level=20.0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return (
        level
        + 3 * np.sin(2 * np.pi * t / m)
        + np.cumsum(rng.normal(0, 0.1, n))
        + rng.normal(0, 0.5, n)
    )


def library_forecast(name, y, season, h, **kw):
    from statsforecast.models import MSTL, AutoARIMA, AutoETS, AutoTheta

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "mstl":
            return MSTL(season_length=[season, 2 * season]).fit(y).predict(h)["mean"]
        cls = {"auto_ets": AutoETS, "auto_theta": AutoTheta, "auto_arima": AutoARIMA}[name]
        return cls(season_length=season, **kw).fit(y).predict(h)["mean"]


@pytest.mark.parametrize("name, tol", [("auto_ets", 1e-9), ("auto_theta", 1e-9), ("mstl", 1e-3)])
def test_the_last_rolled_forecast_is_the_librarys(name, tol):
    y = seasonal()[:300]
    params = statistical.fit(name, y, 12, (12, 24))
    rolled = statistical.roll(name, params, y, 6)
    np.testing.assert_allclose(rolled[-1], library_forecast(name, y, 12, 6), atol=tol * 20)


@pytest.mark.parametrize(
    "model, damped", [("AAA", False), ("AAA", True), ("MAM", True), ("MMN", True), ("ANA", False)]
)
def test_every_ets_form_rolls_to_statsforecasts_forecast(model, damped):
    """The point forecast from each origin's state (trend N/A/M, damped or not, season N/A/M)."""
    from statsforecast.models import AutoETS

    t = np.arange(300)
    y = (
        50
        + 0.1 * t
        + 5 * np.sin(2 * np.pi * t / 12) * (1 + t / 300)
        + np.random.default_rng(1).normal(0, 0.5, 300)
    )
    fitted = AutoETS(season_length=12, model=model, damped=damped).fit(y[:250])
    rolled = statistical.roll("auto_ets", statistical._ets_params(fitted.model_), y[:250], 15)
    np.testing.assert_allclose(rolled[-1], fitted.predict(15)["mean"], rtol=1e-12)


def test_arima_matches_the_kalman_forecast_once_settled_even_with_a_non_invertible_ma():
    # non-seasonal: the innovations recursion equals the Kalman filter's forecast to 1e-4 relative
    y = np.cumsum(np.random.default_rng(2).normal(0.1, 1, 300)) + 50
    params = statistical.fit("auto_arima", y, 1)
    np.testing.assert_allclose(
        statistical.roll("auto_arima", params, y, 5)[-1],
        library_forecast("auto_arima", y, 1, 5, approximation=True),
        rtol=1e-4,
    )
    # the MA fitted outside the invertible region (ma1 = -1.16 on the Nile's first 72 years): the
    # reciprocal root gives the same forecasts where forward innovations would explode
    params = {
        "phi": [0.2487],
        "theta": [-1.158],
        "delta": [1.0],
        "n": 72,
        "intercept": 0.0,
        "drift": -12.54,
        "arma": [1, 1, 0, 0, 1, 1, 0],
    }
    np.testing.assert_allclose(statistical._invertible(np.array([-1.158])), [-1 / 1.158])
    nile = seasonal(72, m=2, level=900, seed=3) * 10
    rolled = statistical.roll("auto_arima", params, nile, 3)
    # from the first origin with every lag
    assert np.isnan(rolled[:2]).all() and np.isfinite(rolled[2:]).all()


@pytest.mark.parametrize("name", statistical.MODELS)
def test_a_row_uses_only_the_past(name):
    y = seasonal()
    params = statistical.fit(name, y[:300], 12, (12, 24))
    full = statistical.roll(name, params, y, 4)
    changed = y.copy()
    changed[350:] += 100.0  # the future moves; forecasts made before it must not
    np.testing.assert_array_equal(statistical.roll(name, params, changed, 4)[:350], full[:350])


@pytest.mark.parametrize("name", statistical.MODELS)
def test_a_later_slice_with_its_offset_agrees_with_the_whole(name):
    """Seasonal phases and ARIMA's drift count from the fit's first step; the recursions start
    from the fit's initial state, so the slice settles onto the whole series' forecasts."""
    y = seasonal(800)
    params = statistical.fit(name, y[:300], 12, (12, 24))
    full = statistical.roll(name, params, y, 4)
    part = statistical.roll(name, params, y[53:], 4, offset=53)
    np.testing.assert_allclose(part[-100:], full[-100:], atol=1e-2)  # series level 20: 0.05%


def test_seasons_of_gives_a_week_to_sub_daily_data_with_a_daily_season():
    assert statistical.seasons_of(24, 1 / 24) == (24, 168)
    assert statistical.seasons_of(48, 1 / 48) == (48, 336)
    assert statistical.seasons_of(7, 1.0) == () and statistical.seasons_of(12, None) == ()
    # the season is not a day: no weekly period known
    assert statistical.seasons_of(10, 1 / 24) == ()


def test_a_worker_never_sent_anything_exits_when_its_input_closes():
    worker = statistical.Worker()
    worker.proc.stdin.close()  # what happens when the process that started it exits
    assert worker.proc.wait(timeout=120) == 0
    worker.close()


def test_the_worker_round_trips_json_and_reports_a_failure_as_text():
    request = {
        "series": [
            {"name": "a", "y": seasonal(200).tolist(), "start_offset": 7},
            {"name": "b", "y": [1.0, 2.0], "start_offset": 0},
        ],
        "models": ["auto_ets", "mstl"],
        "season": 12,
        "seasons": [12, 24],
    }
    worker = statistical.Worker()
    worker.send(request)
    assert worker.proc.wait(timeout=120) == 0
    (a, took), (b, _) = json.loads((worker.folder / "out.json").read_text())
    worker.close()
    assert not worker.folder.exists()
    assert (
        a["auto_ets"]["start_offset"] == 7
        and took["auto_ets"] > 0
        and a["mstl"]["periods"] == [12, 24]
    )
    # the same numbers as in this process
    assert json.dumps(a) == json.dumps(statistical.fit_many(request)[0][0])
    assert isinstance(b["mstl"], str)  # two values: the library's error, as text, not a crash


@pytest.mark.parametrize("kind", ["STM", "OTM", "DSTM", "DOTM"])
def test_theta_forecasts_every_origin_as_statsforecasts_cpp_does_one_at_a_time(kind):
    from statsforecast._lib import theta as _theta
    from statsforecast.models import AutoTheta

    y = (
        20
        + 0.05 * np.arange(400)
        + np.sin(np.arange(400) / 5)
        + np.random.default_rng(0).normal(0, 0.5, 400)
    )
    m = AutoTheta(season_length=1, model=kind).fit(y).model_
    alpha, theta = m["par"]["alpha"], m["par"]["theta"]
    ours = statistical._theta_ahead(m["states"], 6, alpha, theta, kind.startswith("D"))
    for t in (3, 150, 299, 399):
        ref = np.empty(6)
        _theta.forecast(
            m["states"][: t + 1], t + 1, getattr(_theta.ModelType, kind), ref, alpha, theta
        )
        np.testing.assert_allclose(ours[t], ref, rtol=1e-12)


@pytest.mark.parametrize("kind", ["STM", "OTM", "DSTM", "DOTM"])
def test_theta_states_are_statsforecasts_pegels_resid(kind):
    from statsforecast._lib import theta as _theta

    y = np.random.default_rng(5).normal(20, 1, 300)
    _, _, ref, _ = _theta.pegels_resid(y, getattr(_theta.ModelType, kind), 10.0, 0.4, 2.5, 3)
    static = ref[-1, 2:4].tolist() if not kind.startswith("D") else None
    ours = statistical._theta_states(y, 10.0, 0.4, 2.5, static)
    np.testing.assert_allclose(ours[1:], ref[1:], rtol=1e-10)  # row 0's mu: unused by any forecast
    np.testing.assert_allclose(ours[0, :4], ref[0, :4], rtol=1e-12)
