"""Forecaster.update and the state file: one observation at a time gives what one pass over the
whole history gives (predict), gaps follow the training rules, bad rows change nothing."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from cli_support import run
from helpers import synthetic
from lstmkit import LstmkitError
from lstmkit.forecast.estimator import STREAM_FILE, Forecaster
from lstmkit.forecast.stream import Stream

FAST = dict(epochs=1, hidden_size=8, statistical="off")
COLUMNS = dict(time="when", target="temp", series="site")


def fitted(df, **settings):
    return Forecaster(**FAST, **settings).fit(df, **COLUMNS, quiet=True)


def split(df, last: int):
    times = np.sort(df.when.unique())
    cut = times[-last]
    return df[df.when < cut], df[df.when >= cut]


@pytest.mark.parametrize(
    "horizon, sites, settings",
    [
        (1, ("a",), {}),
        (24, ("a", "b", "c"), {"quantiles": [0.1, 0.9]}),
        (24, ("a",), {"scheme": "windows", "window": 12}),
        (1, ("a", "b"), {"scheme": "windows", "window": 12, "num_layers": 2, "cell": "gru"}),
        (1, ("a",), {"cell": "cifg"}),  # a variant: its step as it is, not traced
    ],
)
def test_one_observation_at_a_time_equals_one_pass(horizon, sites, settings):
    """float64 throughout: each update's forecast against predict on the whole history up to
    that step, for every series and quantile (the covariate 'wind' read as a past covariate)."""
    history, new = split(synthetic(n=500, series=sites), 20)
    fc = fitted(history, horizon=horizon, past_covariates=["wind"], **settings)
    fc.model.double()
    fc.start_stream(history)
    seen = history
    for t in np.sort(new.when.unique()):
        rows = new[new.when == t]
        got = fc.update(rows)
        seen = pd.concat([seen, rows])
        want = fc.predict(seen)
        assert list(got.series) == list(want.series)
        assert (got.origin == want.origin).all() and (got.time == want.time).all()
        for column in [c for c in want.columns if c == "predicted" or c.startswith("q")]:
            np.testing.assert_allclose(got[column], want[column], rtol=0, atol=1e-9)


def test_fit_keeps_the_state_at_the_end_of_its_data_and_save_load_keep_it(tmp_path):
    df = synthetic(n=400)
    fc = fitted(df, quantiles=[0.2, 0.8])
    np.testing.assert_allclose(
        fc.stream.frame(fc).predicted, fc.predict(df).predicted, rtol=0, atol=1e-4
    )
    fc.save(tmp_path / "run")
    assert (tmp_path / "run" / STREAM_FILE).is_file()
    loaded = Forecaster.load(tmp_path / "run")
    pd.testing.assert_frame_equal(loaded.stream.frame(loaded), fc.stream.frame(fc))


def test_gaps_are_filled_up_to_max_gap_and_a_longer_one_starts_afresh():
    df = synthetic(n=700)
    history, new = split(df, 120)
    times = np.sort(new.when.unique())
    short = (new.site == "a") & new.when.isin(times[20:22])  # 2 missing steps: interpolated
    long = (new.site == "b") & new.when.isin(times[30:70])  # 40: the series starts afresh
    new = new[~(short | long)]
    fc = fitted(history, max_gap=5)
    fc.model.double()
    fc.start_stream(history)
    reports, checked = [], 0
    for t in np.sort(new.when.unique()):
        got = fc.update(new[new.when == t])
        reports.append(fc.stream.report)
        seen = pd.concat([history, new[new.when <= t]])
        for name in got.series.unique():  # predict forecasts from the stretch after the gap
            want = fc.predict(seen[seen.site == name])
            mine = got[got.series == name]
            np.testing.assert_allclose(mine.predicted, want.predicted, rtol=0, atol=1e-9)
            checked += 1
    assert sum(r["filled"] for r in reports) == 2
    assert [r["restarted"] for r in reports if r["restarted"]] == [["b"]]
    # 'b' waited for max(window, p) + 1 steps after the gap before forecasting again
    assert checked < 2 * len(np.unique(new.when))


def test_several_steps_in_one_update_equal_one_at_a_time():
    history, new = split(synthetic(n=400), 10)
    one, many = fitted(history), fitted(history)
    for t in np.sort(new.when.unique()):
        a = one.update(new[new.when == t])
    b = many.update(new.sample(frac=1, random_state=0))  # any row order
    np.testing.assert_allclose(a.predicted, b.predicted, rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda r: r.assign(when=r.when - pd.Timedelta("30D")), "is not after its last"),
        (lambda r: r.drop(columns="wind"), "no column 'wind'"),
        (lambda r: r.rename(columns={"temp": "t"}), "no column 'temp'"),
        (lambda r: r.assign(temp=np.where(np.arange(len(r)) == 1, np.nan, r.temp)), "row"),
        (lambda r: r.assign(wind=np.inf), "finite"),
    ],
)
def test_a_bad_update_is_one_line_and_leaves_the_state_and_its_file(tmp_path, edit, message):
    history, new = split(synthetic(n=400), 5)
    fc = fitted(history, past_covariates=["wind"])
    path = tmp_path / "s.safetensors"
    fc.stream.save(path, fc)
    before = path.read_bytes()
    frame = fc.stream.frame(fc)
    with pytest.raises(LstmkitError, match=message) as err:
        fc.update(edit(new))
    assert "\n" not in str(err.value)
    pd.testing.assert_frame_equal(fc.stream.frame(fc), frame)
    assert path.read_bytes() == before
    fc.update(new)  # the good rows still go in afterwards
    assert (fc.stream.frame(fc).origin == new.when.max()).all()


def test_cli_predict_with_a_state_file(tmp_path):
    history, new = split(synthetic(n=400), 6)
    history.to_csv(tmp_path / "history.csv", index=False)
    new.to_csv(tmp_path / "new.csv", index=False)
    pd.concat([history, new]).to_csv(tmp_path / "all.csv", index=False)
    fc = fitted(history)
    fc.save(tmp_path / "run")
    state = tmp_path / "live.state"
    args = ["predict", "--run", str(tmp_path / "run"), "--state", str(state)]
    started = run(*args)  # where the run's data ended
    assert started.exit_code == 0, started.output
    assert state.is_file()
    advanced = run(*args, "--data", str(tmp_path / "new.csv"))
    assert advanced.exit_code == 0, advanced.output
    whole = run("predict", "--run", str(tmp_path / "run"), "--data", str(tmp_path / "all.csv"))
    got = pd.read_csv(pd.io.common.StringIO(advanced.stdout))
    want = pd.read_csv(pd.io.common.StringIO(whole.stdout))
    np.testing.assert_allclose(got.predicted, want.predicted, rtol=0, atol=1e-4)
    before = state.read_bytes()
    again = run(*args, "--data", str(tmp_path / "new.csv"))  # the same rows: older now
    assert again.exit_code == 2
    assert again.output.startswith("error: --time-col: row") and again.output.count("\n") == 1
    assert state.read_bytes() == before


def test_a_state_file_of_another_model_or_damaged_is_refused(tmp_path):
    df = synthetic(n=400)
    a, b = fitted(df), Forecaster(**FAST, seed=1).fit(df, **COLUMNS, quiet=True)
    a.stream.save(tmp_path / "a.state", a)
    with pytest.raises(LstmkitError, match="another model"):
        Stream.load(tmp_path / "a.state", b)
    (tmp_path / "junk.state").write_bytes(b"\x00" * 64)
    with pytest.raises(LstmkitError, match="not a state file"):
        Stream.load(tmp_path / "junk.state", a)


def test_a_statistical_base_cannot_stream_and_says_why():
    """Where statsforecast's models are in the base (their columns beside the AR's lags), there
    is no state to step: update and start_stream say so in one line."""
    df = synthetic(n=400, series=("a",))
    fc = fitted(df)
    fc.state = dataclasses.replace(fc.state, design_size=fc.state.n_lag_columns + 2)
    with pytest.raises(LstmkitError, match="statistical off"):
        fc.start_stream(df)
    with pytest.raises(LstmkitError, match="statistical off"):
        fc.update(df.tail(1))
