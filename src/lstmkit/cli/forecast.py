"""`lstmkit forecast` and `lstmkit predict`."""

from __future__ import annotations

import click
from rich.table import Table

from ..config import LstmkitError
from ..forecast.config import ForecastConfig
from .app import _one_line_errors, console, main, refused_if_inconsistent
from .options import options_of, settings_given


@main.command()
@click.option(
    "--data",
    default="weather-nyc-hourly",
    show_default=True,
    help="An embedded data set (see `lstmkit datasets`) or a CSV / Parquet file.",
)
@options_of(ForecastConfig)
@click.option(
    "--lstm-gate",
    type=click.Choice(["test", "off"]),
    hidden=True,
    help="Deprecated: --correction-test.",
)
@click.option(
    "--backtest",
    type=click.IntRange(0),
    default=0,
    help="K > 0: rolling-origin evaluation over K folds as well.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="Run directory, written whole at the end. [default: runs/<data file name without "
    "its suffixes>]",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Continue an interrupted run (or a finished one, with more --epochs) from its "
    "checkpoint, exactly; other settings must be the same.",
)
@click.option("--overwrite", is_flag=True, help="Replace the run already in --out.")
@click.option("--quiet", is_flag=True, help="No progress bar; print only the result table.")
@_one_line_errors
def forecast(data, lstm_gate, backtest, out, resume, overwrite, quiet, **values):
    """Train and evaluate a forecaster against persistence, seasonal naive, a linear AR and
    statsforecast's models.

    The split is chronological (70/10/20 of the time span by default); scalers are fitted on the
    training part only.
    Writes a run directory with config.json, model.safetensors, state.json, metrics.json,
    predictions.csv and report.html.
    """
    settings = settings_given(click.get_current_context(), ForecastConfig, values)
    if lstm_gate is not None:
        click.echo("note: --lstm-gate is deprecated; it is now --correction-test", err=True)
        settings.setdefault("correction_test", lstm_gate)
    # before any import: a bad value is quick
    config = ForecastConfig.from_settings(settings, "lstmkit forecast")
    from .. import distributed
    from .launch import in_processes, processes_said, run_directory

    in_processes(config.train)  # --nproc N: this command again, in N processes
    import pathlib

    from ..rundir import run_name

    folder = pathlib.Path(out or f"runs/{run_name(data)}")
    with run_directory(folder, overwrite, resume) as (stage, lead):
        quiet = quiet or not lead  # the lead (process 0) writes the run and prints
        # the statsforecast worker's imports overlap torch's, below
        if config.base.statistical != "off" and not distributed.active():
            from ..statistical import warm_up

            warm_up()
        from ..forecast.estimator import Forecaster

        fc = Forecaster(config)
        if not quiet:
            threads, scheme, many = config.train.threads, config.train.scheme, processes_said()
            console.print(
                f"lstmkit forecast: {data}, {threads} thread(s){many}, scheme {scheme}, run "
                f"directory {folder}"
            )
        fc.fit(data, quiet=quiet, checkpoint_dir=stage / "checkpoint", resume=resume)
        if lead:
            fc.write(stage)
            _print_forecast(fc.metrics, fc.config.data.target)
        if backtest:
            folds = Forecaster(config).backtest(data, folds=backtest)
            if lead:
                from ..runs import write_json

                write_json(stage / "backtest.json", folds)
                _print_backtest(folds)
    if not lead:
        return
    console.print(f"report: {folder / 'report.html'}", soft_wrap=True)
    console.print(
        f"what it relies on and how long it remembers: lstmkit explain --run {folder}",
        soft_wrap=True,
    )


def _print_forecast(metrics, target):
    from ..report.forecast import ratio  # here: the report module loads matplotlib
    from ..train import events_said

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
    seconds, epochs, best = metrics["train_seconds"], metrics["epochs"], metrics["best_epoch"]
    extra = f"trained {seconds:.1f} s, {epochs} epochs (best {best})"
    if "interval" in metrics:
        iv = metrics["interval"]
        extra += f"; interval coverage {iv['coverage']:.3f} (nominal {iv['nominal']:.2f})"
        if iv.get("heads"):
            extra += f", the quantile heads' own {iv['heads']['coverage']:.3f}"
    console.print(extra)
    console.print(_what_was_kept(metrics))
    for line in events_said(metrics):
        console.print(line)
    empty = metrics.get("data", {}).get("series_without_target")
    if empty:
        console.print(f"left out, no target value at all: series {', '.join(empty)}")
    for line in data_notes(metrics.get("data", {})):
        console.print(line, soft_wrap=True)


def data_notes(report: dict) -> list[str]:
    """What reading the data decided for the user, one line each (metrics.json's data)."""
    units = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
    notes = []
    if report.get("time_unit"):
        notes.append(f"time column read as Unix-epoch {units[report['time_unit']]} (--time-unit)")
    if report.get("times_converted_to_utc"):
        notes.append("times carried several UTC offsets (a daylight-saving change): read as UTC")
    capped = report.get("season_capped")
    if capped:
        notes.append(
            f"season: the frequency's {capped['natural']} steps need two cycles in training, "
            f"the longest series has {capped['training_steps']}; forecast without a season"
        )
    return notes


def _what_was_kept(metrics) -> str:
    """One line: the AR's order and form, and whether the LSTM's correction was kept."""
    # here: the report loads matplotlib
    from ..report.forecast import (
        base_words,
        combination_words,
        lstm_verdict,
    )

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
            *(
                f"{f['test'][k]['rmse']:.4f}"
                for k in ("model", "persistence", "seasonal_naive", "linear_ar")
            ),
        )
    table.add_row(
        "mean",
        "",
        *(
            f"{folds['mean_rmse'][k]:.4f}"
            for k in ("model", "persistence", "seasonal_naive", "linear_ar")
        ),
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
@click.option(
    "--data",
    help="New data (CSV / Parquet) with the columns the run was trained on. With --state: the "
    "new rows only, or, where STATE does not exist yet, the whole history it starts from.",
)
@click.option(
    "--state",
    type=click.Path(dir_okay=False),
    help="A forecast's state file: the forecast from it after advancing it by --data's rows (it "
    "is rewritten atomically; a bad row leaves it as it was). A new STATE starts from --data's "
    "history, or without --data from where the run's data ended.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    help="Write the result here as CSV (default: print it).",
)
@_one_line_errors
def predict(run_dir, data, state, out):
    """Forecast past the end of new data, or give class probabilities for new sequences.

    \b
    lstmkit predict --run runs/nyc --data history.csv              # reads the whole history
    lstmkit predict --run runs/nyc --state nyc.state               # from where the run ended
    lstmkit predict --run runs/nyc --state nyc.state --data new.csv   # only the new rows
    """
    import pathlib

    from ..runs import read_run_config

    with refused_if_inconsistent(run_dir):
        if read_run_config(pathlib.Path(run_dir))["task"] == "classify":
            if state:
                raise LstmkitError("--state: a classifier keeps no state; it is for forecasts")
            if not data:
                raise LstmkitError("--data: name the sequences to classify")
            from ..classify.estimator import SequenceClassifier

            result, what = (
                SequenceClassifier.load(run_dir).predict_proba(data),
                "rows of class probabilities",
            )
        elif state:
            result, what = _from_state(run_dir, data, state), "forecasts"
        else:
            if not data:
                raise LstmkitError("--data: name the data to forecast from (or give --state)")
            from ..forecast.estimator import Forecaster

            fc = Forecaster.load(run_dir)
            result, what = fc.predict(data), "forecasts"
            _said_filled(fc.predict_report, fc.state.freq)
    if out:
        from ..runs import atomic_write

        atomic_write(out, lambda tmp: result.to_csv(tmp, index=False))
        console.print(f"wrote {len(result)} {what} to {out}")
    else:
        click.echo(result.to_csv(index=False), nl=False)


def _said_filled(said: dict, freq: str) -> None:
    if said.get("filled"):  # to stderr: without --out, stdout is the CSV
        click.echo(
            f"note: {said['filled']} of {said['steps']} target values were missing on the "
            f"model's time grid (frequency {freq!r}) and interpolated",
            err=True,
        )


def _from_state(run_dir, data, state):
    """predict --state: start STATE or advance it, write it, return its forecasts."""
    import pathlib

    from ..data.io import read_table
    from ..forecast.estimator import Forecaster
    from ..forecast.stream import Stream

    fc = Forecaster.load(run_dir)
    path = pathlib.Path(state)
    if path.exists():
        fc.stream = Stream.load(path, fc)
        if data:
            fc.update(read_table(data))
            said = fc.stream.report
            _said_filled(said, fc.state.freq)
            for name in said["restarted"]:
                click.echo(
                    f"note: series {name!r} had a gap longer than max_gap and starts afresh",
                    err=True,
                )
    elif data:
        fc.start_stream(data)
    elif fc.stream is None:
        raise LstmkitError(f"--state: {path} does not exist and {fc.stream_refused}")
    waiting = fc.stream.waiting()
    if waiting:
        need = fc.stream.graphs.step.need
        shown = ", ".join(f"{k!r} ({v})" for k, v in list(waiting.items())[:5])
        click.echo(
            f"note: {len(waiting)} series have fewer than the {need} steps a forecast needs: "
            f"{shown}",
            err=True,
        )
    if data or not path.exists():
        fc.stream.save(path, fc)
    return fc.stream.frame(fc)
