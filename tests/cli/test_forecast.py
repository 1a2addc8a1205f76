"""`lstmkit forecast` and `predict` on a forecast run: end to end, one-line errors,
what it prints."""

from __future__ import annotations

import json

import pytest

from cli_support import forecast_on, run, small_csv, small_forecast


def test_forecast_and_predict_end_to_end(tmp_path):
    data = small_csv(tmp_path / "d.csv")
    out = tmp_path / "run"
    r = small_forecast(data, out)
    assert "linear_ar" in r.output and "report:" in r.output
    metrics = json.loads((out / "metrics.json").read_text())
    said = "LSTM correction kept" if metrics["lstm"]["kept"] else "LSTM correction dropped"
    assert (
        f"linear AR: {metrics['ar_order']} lags, {metrics['ar_form']}" in r.output
        and said in r.output
    )
    fitted = set(metrics["classical"]["models"])  # statsforecast's, beside the three baselines
    assert {"auto_ets", "auto_theta"} <= fitted and set(metrics["test"]) == {
        "model",
        "persistence",
        "seasonal_naive",
        "linear_ar",
    } | fitted
    assert (out / "checkpoint" / "checkpoint.safetensors").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv", "run"]  # no stage, no lock
    r = run("predict", "--run", str(out), "--data", str(data), "--out", str(tmp_path / "f.csv"))
    assert r.exit_code == 0, r.output
    assert (tmp_path / "f.csv").read_text().startswith("series,origin,time,step,predicted")


def test_predict_says_what_it_interpolated_on_stderr(tmp_path):
    data = small_csv(tmp_path / "d.csv")
    out = tmp_path / "run"
    small_forecast(data, out)
    # 200 of 400 hours
    every_other = small_csv(tmp_path / "two_hourly.csv", EVEN=lambda df: df.iloc[::2])
    r = run("predict", "--run", str(out), "--data", str(every_other))
    assert r.exit_code == 0, r.output
    assert r.stderr.strip() == (
        "note: 199 of 399 target values were missing on the model's time grid (frequency 'h') and "
        "interpolated"
    )
    assert r.stdout.startswith("series,origin,time,step,predicted") and "note" not in r.stdout
    r = run("predict", "--run", str(out), "--data", str(data))
    assert r.exit_code == 0 and r.stderr == ""


def test_every_forecast_setting_is_an_option(tmp_path):
    import pandas as pd

    data = small_csv(
        tmp_path / "d.csv", DUP=lambda df: pd.concat([df, df.iloc[[3]].assign(temp=99.0)])
    )
    out = tmp_path / "run"
    small_forecast(
        data,
        out,
        "--num-layers",
        "2",
        "--dropout",
        "0.1",
        "--patience",
        "1",
        "--chunk",
        "8",
        "--max-lag",
        "12",
        "--duplicates",
        "mean",
        "--val-fraction",
        "0.2",
        "--test-fraction",
        "0.3",
    )
    cfg = json.loads((out / "config.json").read_text())["config"]
    got = (
        cfg["model"]["dropout"],
        cfg["train"]["patience"],
        cfg["train"]["chunk"],
        cfg["base"]["max_lag"],
    )
    assert got == (0.1, 1, 8, 12) and cfg["data"]["duplicates"] == "mean"
    assert (cfg["split"]["val"], cfg["split"]["test"]) == (0.2, 0.3)
    metrics = json.loads((out / "metrics.json").read_text())
    start = pd.Timestamp("2024-01-01")  # 400 hours, 399 between the first and the last
    # ceil(0.5 * 399)
    assert pd.Timestamp(metrics["split"]["val_start"]) == start + pd.Timedelta(hours=200)
    # ceil(0.7 * 399)
    assert pd.Timestamp(metrics["split"]["test_start"]) == start + pd.Timedelta(hours=280)
    assert metrics["data"]["duplicates_averaged"] == 1 and metrics["ar_order"] <= 12
    assert metrics["epochs"] <= 2


BAD_FORECASTS = [
    (
        ["--data", "missing.csv", "--time-col", "when", "--target", "temp"],
        "error: --data: file not found",
    ),
    (["--target", "tmp"], "error: --target: no column 'tmp'; available: when, temp, wind"),
    (["--target", "when", "--time-col", "when"], "error: --target: column 'when' must be numeric"),
    (["--fill", "none", "DROP"], "error: --fill: none, but series 'series' has 1 missing step(s)"),
    (
        ["DUP"],
        "error: --time-col: duplicate timestamp 2024-01-01 03:00:00; each time must appear once "
        "per series "
        "(duplicates 'mean' averages the rows)",
    ),
    (
        ["--val-fraction", "0.5", "--test-fraction", "0.6"],
        "error: --val-fraction, --test-fraction: val=0.5 and test=0.6 leave no training period; "
        "keep their sum below 1",
    ),
    (["--chunk", "0"], "error: --chunk: input should be greater than 0, got 0"),
    (["--patience", "0"], "error: --patience: input should be greater than 0, got 0"),
    (["--max-lag", "0"], "error: --max-lag: input should be greater than 0, got 0"),
    (
        ["--dropout", "-0.5"],
        "error: --dropout: input should be greater than or equal to 0, got -0.5",
    ),
    (["SHORT"], "error: --data: every series is shorter than window + horizon + 1"),
    (["--horizon", "0"], "error: --horizon: input should be greater than 0, got 0"),
    (["--window", "0"], "error: --window: input should be greater than 0, got 0"),
    (["--cell", "lsmt"], "error: --cell: unknown cell 'lsmt'"),
    (
        ["--lstm-gate", "maybe"],
        "error: Invalid value for '--lstm-gate': 'maybe' is not one of 'test', 'off'.",
    ),
    (
        ["--scheme", "bogus"],
        "error: Invalid value for '--scheme': 'bogus' is not one of 'every-step', 'windows'.",
    ),
    (["--no-such-option"], "error: No such option '--no-such-option'."),
    # once from inside torch.optim
    (
        ["--lr", "-1"],
        "error: --lr: input should be greater than 0, got -1.0",
    ),
    (["--lr", "0"], "error: --lr: input should be greater than 0, got 0.0"),
    (["--season", "0"], "error: --season: input should be greater than 0, got 0"),
    # once a NumPy traceback
    (
        ["--season", "-2"],
        "error: --season: input should be greater than 0, got -2",
    ),
    (
        ["--quantiles", "0.1,0.9,0.1"],
        "error: --quantiles: each at most once, got 0.1 more than once",
    ),
    (["--threads", "0"], "error: --threads: input should be greater than 0, got 0"),
    # before the fit
    (
        ["--backtest", "-1"],
        "error: Invalid value for '--backtest': -1 is not in the range x>=0.",
    ),
    # was "loss became nan; lower --lr"
    (
        ["INF"],
        "error: --target: column 'temp' must be finite; row 5 holds inf",
    ),
    # issue 20, item 6: was blamed on --lr; in validation, a NaN loss and an empty predictions.csv
    (["HUGE"], "error: --target: column 'temp' row 0 holds 1e+200; values beyond +-1e+18"),
    (["VALBIG"], "error: --target: column 'temp' row 300 holds 1e+300; values beyond +-1e+18"),
    (["--lr", "1e300"], "error: --lr: input should be less than or equal to 10, got 1e+300"),
    (["--hidden-size", "1000000000"], "error: --hidden-size: input should be less than or equal"),
    # issue 20, items 5 and 7: "Aborted!", "file not found", a 50 MB column name echoed
    (["GZCUT"], "error: --data: could not read"),
    (["--data", "/dev/null"], "error: --data: /dev/null is not a regular file; expected a data"),
    (["--data", "."], "error: --data: . is a directory; expected a data file"),
    (["LONGNAME", "--target", "nope"], "error: --target: no column 'nope'; available: when, "),
]


@pytest.mark.parametrize(
    "args, message",
    BAD_FORECASTS,
    ids=[m.split(":")[1].strip() + str(k) for k, (_, m) in enumerate(BAD_FORECASTS)],
)
def test_bad_forecast_input_is_one_line_exit_2(tmp_path, args, message):
    import pandas as pd

    edits = {
        "DROP": lambda df: df.drop(index=[5]),
        "DUP": lambda df: pd.concat([df, df.iloc[[3]]]),
        "SHORT": lambda df: df.iloc[:20],
        "INF": lambda df: df.assign(temp=df.temp.mask(df.index == 5, float("inf"))),
        "HUGE": lambda df: df.assign(temp=1e200 + 0 * df.temp),
        "VALBIG": lambda df: df.assign(temp=df.temp.mask(df.index == 300, 1e300)),
        "LONGNAME": lambda df: df.assign(**{"x" * 100_000: 1.0}),
    }
    chosen = {k: v for k, v in edits.items() if k in args}
    data = small_csv(tmp_path / "d.csv", **chosen)
    if "GZCUT" in args:  # a .csv.gz cut short in transfer
        import gzip

        whole = gzip.compress(data.read_bytes())
        data = tmp_path / "d.csv.gz"
        data.write_bytes(whole[: len(whole) // 2])
    args = [a for a in args if a not in (*edits, "GZCUT")]
    base = [] if "--data" in args else ["--data", str(data)]
    base += [] if "--time-col" in args else ["--time-col", "when"]
    base += [] if "--target" in args else ["--target", "temp"]
    r = run("forecast", *base, *args, "--epochs", "1", "--quiet", "--out", str(tmp_path / "run"))
    assert r.exit_code == 2, r.output
    assert r.output.strip().startswith(message), r.output
    assert len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output
    assert len(r.output) < 1200  # a long name or value is cut
    assert not (
        tmp_path / "run" / "config.json"
    ).exists()  # refused before anything was fitted or saved


@pytest.mark.parametrize(
    "lstm, said",
    [
        (
            dict(kept=True, gate="test", dm_t=-2.57, val_mse_ratio=0.972),
            "kept (validation MSE 0.972x the base's, Diebold-Mariano t -2.57)",
        ),
        (
            dict(kept=True, gate="off", dm_t=-1.0, val_mse_ratio=0.99),
            "kept (validation MSE 0.990x the base's, --correction-test off)",
        ),
        (
            dict(
                kept=False,
                gate="test",
                dm_t=-1.12,
                val_mse_ratio=0.972,
                val_origins=2550,
                enough_origins=True,
            ),
            "dropped: validation MSE 0.972x the base's, within chance (t -1.12, 2550 origins), so "
            "the model is the "
            "base",
        ),
        (
            dict(
                kept=False,
                gate="test",
                dm_t=-16.5,
                val_mse_ratio=0.84,
                val_origins=3,
                enough_origins=False,
            ),
            "dropped: 3 validation origins are too few to tell, so the model is the base",
        ),
        (
            dict(
                kept=False,
                gate="test",
                dm_t=0.0,
                val_mse_ratio=None,
                val_origins=30,
                enough_origins=True,
            ),
            "dropped: validation MSE n/a the base's, within chance",
        ),
        (
            dict(
                kept=True,
                gate="test",
                dm_t=None,
                val_mse_ratio=0.9,
                val_origins=300,
                enough_origins=True,
                groups=[
                    dict(steps=[1, 2], kept=True, dm_t=-3.0, val_mse_ratio=0.8),
                    dict(steps=[3, 3], kept=False, dm_t=-0.5, val_mse_ratio=0.99),
                ],
            ),
            "judged per step group on validation: steps 1-2 kept (0.800x, t -3.00); step 3 "
            "dropped (0.990x, t -0.50)",
        ),
        (None, None),  # a run saved before the gate: the AR line alone
    ],
)
def test_the_forecast_says_what_it_kept(lstm, said):
    from lstmkit.cli.forecast import _what_was_kept

    metrics = {
        "ar_order": 24,
        "ar_form": "differences",
        "unit_root": {"adf": -1.0, "integrated": True},
    }
    if lstm is not None:
        metrics["lstm"] = lstm
    line = _what_was_kept(metrics)
    assert line.startswith(
        "linear AR: 24 lags, differences (a unit root: the ADF test did not reject one)"
    )
    assert (said in line) if said else (";" not in line)


def test_the_forecast_says_when_the_ar_is_averaged_with_seasonal_naive():
    from lstmkit.cli.forecast import _what_was_kept

    metrics = {
        "ar_order": 6,
        "ar_form": "levels",
        "ar_combination": {"weight": 0.585, "val_origins": 7},
    }
    assert _what_was_kept(metrics) == (
        "linear AR: 6 lags, levels; averaged with seasonal naive, weights 0.58 / 0.42 "
        "from their validation errors (7 validation origins are too few to choose on)"
    )


def test_forecast_says_which_series_had_no_target_value(tmp_path):
    import numpy as np
    import pandas as pd

    t = pd.date_range("2024-01-01", periods=300, freq="h").astype(str)
    a = pd.DataFrame({"when": t, "site": "a", "temp": 10 + np.sin(np.arange(300) / 4.0)})
    b = pd.DataFrame({"when": t, "site": "b", "temp": np.nan})
    pd.concat([a, b]).to_csv(tmp_path / "d.csv", index=False)
    r = run(
        "forecast",
        "--data",
        str(tmp_path / "d.csv"),
        "--time-col",
        "when",
        "--target",
        "temp",
        "--series-col",
        "site",
        "--epochs",
        "1",
        "--out",
        str(tmp_path / "run"),
    )
    assert r.exit_code == 0, r.output
    assert "left out, no target value at all: series b" in r.output


def test_the_old_lstm_gate_option_still_works_and_says_it_is_deprecated(tmp_path):
    data, out = small_csv(tmp_path / "d.csv"), tmp_path / "run"
    r = small_forecast(data, out, "--lstm-gate", "off")
    assert "--lstm-gate is deprecated; it is now --correction-test" in r.output
    assert (
        json.loads((out / "config.json").read_text())["config"]["base"]["correction_test"] == "off"
    )


# ---- the run directory as a transaction (issue 20, item 1) -----------------------------------


def test_a_second_run_into_one_out_is_refused_and_overwrite_replaces_it_whole(tmp_path):
    data = small_csv(tmp_path / "d.csv")
    out = tmp_path / "run"
    small_forecast(data, out)
    (out / "explain.json").write_text("{}")  # written later by `lstmkit explain`
    before = (out / "model.safetensors").read_bytes()
    args = ["--data", str(data), "--time-col", "when", "--target", "temp", "--epochs", "2"]
    r = run("forecast", *args, "--hidden-size", "6", "--out", str(out), "--quiet")
    assert r.exit_code == 2 and r.stderr.strip() == (
        f"error: --out: {out} holds a run already; pass --overwrite to replace it, or --resume "
        "to continue its training"
    )
    assert (out / "model.safetensors").read_bytes() == before  # untouched
    small_forecast(data, out, "--hidden-size", "6", "--overwrite")
    assert not (out / "explain.json").exists()  # no stale file of the old run beside the new
    assert json.loads((out / "config.json").read_text())["config"]["model"]["hidden_size"] == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv", "run"]


def test_the_default_out_keeps_distinct_files_apart(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for year in ("2023", "2024"):
        data = small_csv(tmp_path / f"sales.{year}.csv")
        r = forecast_on(data, "--epochs", "1", "--hidden-size", "4", "--statistical", "off")
        assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["sales.2023", "sales.2024"]


def test_two_runs_started_into_one_out_one_is_refused_naming_the_other(tmp_path):
    import subprocess
    import sys

    data = small_csv(tmp_path / "d.csv", n=3000)
    out = tmp_path / "run"
    args = [
        sys.executable,
        "-m",
        "lstmkit",
        "forecast",
        "--data",
        str(data),
        "--time-col",
        "when",
        "--target",
        "temp",
        "--statistical",
        "off",
        "--quiet",
        "--out",
        str(out),
    ]
    first = subprocess.Popen(
        [*args, "--epochs", "30", "--patience", "30"],
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    lock = tmp_path / ".run.lock"
    import time

    deadline = time.monotonic() + 120
    while not (lock.exists() and lock.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.01)
    second = subprocess.run([*args, "--epochs", "1"], text=True, capture_output=True)
    _, first_err = first.communicate(timeout=600)
    assert first.returncode == 0, first_err
    assert second.returncode == 2 and second.stderr.strip() == (
        f"error: --out: {out} is being written by another lstmkit run (pid {first.pid}); wait "
        "for it to end or choose another --out"
    )
    assert json.loads((out / "config.json").read_text())["config"]["train"]["epochs"] == 30


# ---- real-world times and short series (issue 20, item 7) ------------------------------------


def epoch_times(unit: str):
    def edit(df):
        stamps = pd.to_datetime(df["when"]).astype("datetime64[ns]").astype("int64")
        return df.assign(when=stamps // {"s": 10**9, "ms": 10**6}[unit])

    return edit


def dst_offsets(df):
    """Local times of Europe/Berlin across the March change: +01:00, then +02:00."""
    utc = pd.date_range("2024-03-25", periods=len(df), freq="h", tz="UTC")
    local = utc.tz_convert("Europe/Berlin")
    return df.assign(when=[t.isoformat() for t in local])


import pandas as pd  # noqa: E402  (the edits above need it at call time only)


@pytest.mark.parametrize(
    "edit, said, start",
    [
        (epoch_times("s"), "time column read as Unix-epoch seconds", "2024-01-12 16:00"),
        (epoch_times("ms"), "time column read as Unix-epoch milliseconds", "2024-01-12 16:00"),
        (
            dst_offsets,
            "several UTC offsets (a daylight-saving change): read as UTC",
            "2024-04-05 16:00",
        ),
    ],
    ids=["epoch-seconds", "epoch-milliseconds", "daylight-saving"],
)
def test_real_world_time_columns_are_read_and_said(tmp_path, edit, said, start):
    """Epoch seconds were read as nanoseconds (a 3600ns grid, then an IndexError); a daylight-
    saving change was refused with pandas' advice to pass utc=True, which no option could do."""
    data = small_csv(tmp_path / "d.csv", EDIT=edit)
    r = small_forecast(data, tmp_path / "run", "--statistical", "off")
    assert said in r.output
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["split"]["val_start"].startswith(start)
    r = run("predict", "--run", str(tmp_path / "run"), "--data", str(data))
    assert r.exit_code == 0 and r.stdout.startswith("series,origin,time"), r.output


def test_a_short_sub_second_series_forecasts_without_the_days_season(tmp_path):
    """pmdarima's heartrate: 150 values every 500 ms. Its season was taken to be a day (172,800
    steps) and the run crashed with an IndexError."""
    import numpy as np

    t = pd.date_range("2024-01-01", periods=150, freq="500ms")
    y = 80 + 5 * np.sin(np.arange(150) / 5) + np.random.default_rng(0).normal(0, 1, 150)
    data = tmp_path / "heartrate.csv"
    pd.DataFrame({"when": t.astype(str), "temp": y}).to_csv(data, index=False)
    r = small_forecast(data, tmp_path / "run", "--statistical", "off")
    assert "season: the frequency's 172800 steps need two cycles in training" in r.output
    assert json.loads((tmp_path / "run" / "state.json").read_text())["season"] == 1
    r = forecast_on(data, "--season", "100", "--out", str(tmp_path / "run2"))
    assert r.exit_code == 2 and r.stderr.strip() == (
        "error: --season: 100 steps needs two cycles in training, 200 steps; the longest series "
        "has 105 (lower --season)"
    )
