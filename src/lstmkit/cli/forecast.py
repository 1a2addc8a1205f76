"""`lstmkit forecast` and `lstmkit predict`."""

from __future__ import annotations

import click
from rich.table import Table

from ..config import LstmkitError
from .app import _csv_list, _one_line_errors, console, main


@main.command()
@click.option(
    "--data",
    default="weather-nyc-hourly",
    show_default=True,
    help="An embedded data set (see `lstmkit datasets`) or a CSV / Parquet file.",
)
@click.option("--time-col", help="Time column (needed for your own file).")
@click.option("--target", help="Column to forecast (needed for your own file).")
@click.option("--series-col", help="Series id column: many series in long format, one global model.")
@click.option(
    "--past-covariates",
    default="auto",
    show_default=True,
    help="Comma-separated measured columns the model may read up to now; 'auto': numeric columns with "
    "<= 5% missing; 'none'.",
)
@click.option("--freq", help="Pandas frequency alias (h, 5min, D, MS, ...); inferred if not given.")
@click.option(
    "--fill",
    type=click.Choice(["interpolate", "none"]),
    default="interpolate",
    show_default=True,
    help="interpolate short gaps (counted in the report); none: refuse any gap.",
)
@click.option("--max-gap", type=int, help="Longest gap to interpolate, in steps; longer gaps split a series.")
@click.option(
    "--duplicates",
    type=click.Choice(["error", "mean"]),
    help="A time given twice in a series: refuse it (error), or average the rows (mean). [default: error; "
    "the embedded data sets say their own]",
)
@click.option(
    "--val-fraction",
    type=float,
    default=0.1,
    show_default=True,
    help="Share of the time span for validation (early stopping, the AR's order, the LSTM gate).",
)
@click.option(
    "--test-fraction", type=float, default=0.2, show_default=True, help="Share of the time span held out for test."
)
@click.option(
    "--scaling",
    type=click.Choice(["pooled", "series"]),
    default="pooled",
    show_default=True,
    help="Standardise all series by their pooled training statistics, or each by its own.",
)
@click.option("--window", type=int, help="Input window (windows scheme) or burn-in (every-step). [default: 24]")
@click.option(
    "--horizon", type=int, default=1, show_default=True, help="Steps ahead to forecast (direct multi-output)."
)
@click.option("--hidden-size", type=int, default=50, show_default=True)
@click.option("--num-layers", type=int, default=1, show_default=True)
@click.option("--dropout", type=float, default=0.0, show_default=True, help="Between stacked LSTM layers.")
@click.option("--cell", default="lstm", show_default=True, help="Any cell of `lstmkit cells`.")
@click.option(
    "--scheme",
    type=click.Choice(["every-step", "windows"]),
    default="every-step",
    show_default=True,
    help="every-step: contiguous chunks, a loss at every step, state carried; windows: the article's recipe.",
)
@click.option("--epochs", type=int, default=100, show_default=True, help="At most; early stopping decides.")
@click.option(
    "--patience", type=int, default=5, show_default=True, help="Epochs without a better validation loss, then stop."
)
@click.option(
    "--chunk", type=int, default=16, show_default=True, help="every-step: steps per truncated-BPTT chunk (state kept)."
)
@click.option("--batch-size", type=int, default=32, show_default=True)
@click.option("--lr", type=float, default=1e-3, show_default=True)
@click.option("--quantiles", help="e.g. 0.1,0.5,0.9: pinball loss and a prediction interval.")
@click.option(
    "--season", type=int, help="Season of the seasonal-naive baseline and MASE; from the frequency if not given."
)
@click.option(
    "--max-lag",
    type=int,
    help="Largest AR lag tried (the order is chosen on validation). [default: a week of sub-daily steps, a year "
    "of daily ones (260 business days), else three seasons]",
)
@click.option(
    "--statistical",
    type=click.Choice(["auto", "off"]),
    default="auto",
    show_default=True,
    help="auto: fit statsforecast's AutoETS, AutoTheta, AutoARIMA (season <= 12) and MSTL (a second season) on "
    "each series' training part, show them beside the baselines, and let the base the LSTM corrects be one of "
    "them, or their average, where it beats the AR on validation beyond chance (the average where validation is "
    "too short to tell); off: the AR alone (faster).",
)
@click.option(
    "--lstm-gate",
    type=click.Choice(["test", "off"]),
    default="test",
    show_default=True,
    help="test: keep the LSTM's correction of the base only where it beats the base on validation beyond "
    "chance (Diebold-Mariano, 5%), for each group of horizon steps; off: whenever early stopping found it "
    "better at all.",
)
@click.option("--backtest", type=int, default=0, help="K > 0: rolling-origin evaluation over K folds as well.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--threads", type=int, default=1, show_default=True, help="Intra-op threads (1 is fastest for small models)."
)
@click.option("--out", type=click.Path(file_okay=False), help="Run directory. [default: runs/<data name>]")
@click.option("--resume", is_flag=True, help="Continue from <out>/checkpoint/ if a run was interrupted.")
@click.option("--quiet", is_flag=True, help="No progress bar; print only the result table.")
@_one_line_errors
def forecast(
    data,
    time_col,
    target,
    series_col,
    past_covariates,
    freq,
    fill,
    max_gap,
    duplicates,
    val_fraction,
    test_fraction,
    scaling,
    window,
    horizon,
    hidden_size,
    num_layers,
    dropout,
    cell,
    scheme,
    epochs,
    patience,
    chunk,
    batch_size,
    lr,
    quantiles,
    season,
    max_lag,
    lstm_gate,
    statistical,
    backtest,
    seed,
    threads,
    out,
    resume,
    quiet,
):
    """Train and evaluate a forecaster against persistence, seasonal naive, a linear AR and statsforecast's models.

    The split is chronological (70/10/20 of the time span by default); scalers are fitted on the training part
    only.
    Writes a run directory with config.json, model.safetensors, scaler.json, metrics.json,
    predictions.csv and report.html.
    """
    if statistical != "off":  # the statsforecast worker's imports overlap torch's, below
        from ..statistical import warm_up

        warm_up()
    import pathlib

    from ..forecast.estimator import Forecaster

    covs = {"auto": "auto", "none": None}.get(
        past_covariates, None if past_covariates is None else _csv_list(past_covariates)
    )
    try:
        q = _csv_list(quantiles, float)
    except ValueError:
        raise LstmkitError(f"--quantiles: expected numbers like 0.1,0.5,0.9, got {quantiles!r}") from None
    settings = dict(
        past_covariates=covs,
        freq=freq,
        fill=fill,
        max_gap=max_gap,
        train=round(1.0 - val_fraction - test_fraction, 10),  # 1 - 0.1 - 0.2 is 0.7000000000000001
        val=val_fraction,
        scaling=scaling,
        horizon=horizon,
        hidden_size=hidden_size,
        num_layers=num_layers,
        dropout=dropout,
        cell=cell,
        scheme=scheme,
        epochs=epochs,
        patience=patience,
        chunk=chunk,
        batch_size=batch_size,
        lr=lr,
        quantiles=q,
        season=season,
        max_lag=max_lag,
        lstm_gate=lstm_gate,
        statistical=statistical,
        seed=seed,
        threads=threads,
    )
    if window is not None:
        settings["window"] = window
    if duplicates is not None:  # else the embedded data set's own, or "error"
        settings["duplicates"] = duplicates
    if backtest < 0:  # before the fit, not after it
        raise LstmkitError(f"--backtest: expected a positive number of folds, got {backtest}")
    name = pathlib.Path(data).name.split(".")[0] if pathlib.Path(data).suffix else data
    folder = pathlib.Path(out or f"runs/{name}")
    fc = Forecaster(**settings)
    if not quiet:
        console.print(f"lstmkit forecast: {data}, {threads} thread(s), scheme {scheme}, run directory {folder}")
    fc.fit(
        data,
        time=time_col,
        target=target,
        series=series_col,
        quiet=quiet,
        checkpoint_dir=folder / "checkpoint",
        resume=resume,
    )
    fc.save(folder)
    _print_forecast(fc.metrics, fc.config.target)
    if backtest:
        folds = Forecaster(**settings).backtest(data, folds=backtest, time=time_col, target=target, series=series_col)
        from ..runs import write_json

        write_json(folder / "backtest.json", folds)
        _print_backtest(folds)
    console.print(f"report: {folder / 'report.html'}", soft_wrap=True)
    console.print(f"what it relies on and how long it remembers: lstmkit explain --run {folder}", soft_wrap=True)


def _print_forecast(metrics, target):
    from ..report.forecast import ratio  # here: the report module loads matplotlib

    table = Table(title=f"test period: {target}, {metrics['test']['model']['n']} forecasts")
    for col in ("method", "RMSE", "MAE", "MAPE %", "MASE", "RMSE / persistence"):
        table.add_column(col, justify="left" if col == "method" else "right")
    pers = metrics["test"]["persistence"]["rmse"]
    for name, m in metrics["test"].items():
        table.add_row(
            name,
            f"{m['rmse']:.4f}",
            f"{m['mae']:.4f}",
            f"{m['mape']:.2f}",
            f"{m['mase']:.3f}",
            ratio(m["rmse"], pers),
        )
    console.print(table)
    extra = f"trained {metrics['train_seconds']:.1f} s, {metrics['epochs']} epochs (best {metrics['best_epoch']})"
    if "interval" in metrics:
        iv = metrics["interval"]
        extra += f"; interval coverage {iv['coverage']:.3f} (nominal {iv['nominal']:.2f})"
        if iv.get("heads"):
            extra += f", the quantile heads' own {iv['heads']['coverage']:.3f}"
    console.print(extra)
    console.print(_what_was_kept(metrics))
    empty = metrics.get("data", {}).get("series_without_target")
    if empty:
        console.print(f"left out, no target value at all: series {', '.join(empty)}")


def _what_was_kept(metrics) -> str:
    """One line: the AR's order and form, and whether the LSTM's correction was kept."""
    from ..report.forecast import base_words, combination_words, lstm_verdict  # here: the report loads matplotlib

    ar = f"linear AR: {metrics['ar_order']} lags, {metrics.get('ar_form', 'levels')}"
    if metrics.get("unit_root", {}).get("integrated"):
        ar += " (a unit root: the ADF test did not reject one)"
    combined = combination_words(metrics.get("ar_combination"))
    ar += f"; {combined}" if combined else ""
    verdict = lstm_verdict(metrics.get("lstm"))
    line = f"{ar}; LSTM correction {verdict}" if verdict else ar
    base = base_words(metrics.get("base"))
    return f"{base}\n{line}" if base else line


def _print_backtest(folds):
    table = Table(title="rolling-origin backtest: test RMSE per fold")
    for col in ("fold", "test from", "model", "persistence", "seasonal_naive", "linear_ar"):
        table.add_column(col)
    for f in folds["folds"]:
        table.add_row(
            str(f["fold"]),
            f["test_start"],
            *(f"{f['test'][k]['rmse']:.4f}" for k in ("model", "persistence", "seasonal_naive", "linear_ar")),
        )
    table.add_row(
        "mean", "", *(f"{folds['mean_rmse'][k]:.4f}" for k in ("model", "persistence", "seasonal_naive", "linear_ar"))
    )
    console.print(table)


@main.command()
@click.option(
    "--run",
    "run_dir",
    required=True,
    type=click.Path(),
    help="A run directory written by `lstmkit forecast` or `classify`.",
)
@click.option("--data", required=True, help="New data (CSV / Parquet) with the columns the run was trained on.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write the result here as CSV (default: print it).")
@_one_line_errors
def predict(run_dir, data, out):
    """Forecast past the end of new data, or give class probabilities for new sequences."""
    import pathlib

    from ..runs import read_run_config

    if read_run_config(pathlib.Path(run_dir))["task"] == "classify":
        from ..classify.estimator import SequenceClassifier

        result, what = SequenceClassifier.load(run_dir).predict_proba(data), "rows of class probabilities"
    else:
        from ..forecast.estimator import Forecaster

        fc = Forecaster.load(run_dir)
        result, what = fc.predict(data), "forecasts"
        said = fc.predict_report
        if said.get("filled"):  # to stderr: without --out, stdout is the CSV
            click.echo(f"note: {said['filled']} of {said['steps']} target values were missing on the model's time "
                       f"grid (frequency {fc.freq!r}) and interpolated", err=True)  # fmt: skip
    if out:
        from ..runs import atomic_write

        atomic_write(out, lambda tmp: result.to_csv(tmp, index=False))
        console.print(f"wrote {len(result)} {what} to {out}")
    else:
        click.echo(result.to_csv(index=False), nl=False)
