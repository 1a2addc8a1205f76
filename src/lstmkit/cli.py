"""The `lstmkit` command line: parse, call the library, print. No logic of its own.

Bad input ends in one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import functools
import math
import sys

import click
import torch
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import __version__
from .bench import check_cells, parse_sizes, run_bench, write_json
from .cells import CELLS
from .config import LstmkitError

console = Console()
QUICK_SIZES = "50x32x24,64x16x64"
FULL_SIZES = "50x32x24,128x64x256"


def _one_line_errors(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except LstmkitError as err:
            click.echo(f"error: {err}", err=True)
            sys.exit(2)
        except FloatingPointError as err:  # training diverged: say so in one line
            click.echo(f"error: {err}", err=True)
            sys.exit(1)

    return wrapper


def _set_threads(threads: int) -> None:
    # One intra-op thread is fastest for small recurrent models on this 2-core machine, and two
    # threads become 10-100x slower whenever anything else runs (oversubscription).
    torch.set_num_threads(threads)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lstmkit")
def main():
    """lstmkit: LSTM networks, correct to the last equation.

    \b
    lstmkit forecast   train + evaluate a forecaster against naive and linear baselines
    lstmkit predict    forecast past the end of new data with a saved run
    lstmkit datasets   the embedded data sets and their provenance
    lstmkit experiment the long-time-lag tasks (adding, temporal order, copy) per cell
    lstmkit cells      the registered cells and what each changes
    lstmkit bench      throughput of every cell beside torch.nn.LSTM
    """


@main.command()
def cells():
    """List the registered cells: gate blocks, parameters and kernel."""
    table = Table(title="lstmkit cells", caption="params: one layer, H_in = H = 100")
    for col in ("cell", "params", "kernel", "what it is"):
        table.add_column(col, justify="right" if col == "params" else "left")
    for name, cls in CELLS.items():
        count = sum(math.prod(s) for s in cls.parameter_shapes(100, 100).values())
        kernel = "fused" if cls.has_fused_kernel else "script loop"
        doc = (cls.__doc__ or "").strip().splitlines()[0]
        table.add_row(name, f"{count:,}", kernel, escape(doc))
    console.print(table)


@main.command()
@click.option(
    "--sizes", default=FULL_SIZES, show_default=True, help="HxNxL items: hidden size x batch x length (H_in = H)."
)
@click.option("--cells", "cell_names", default="all", show_default=True, help="Comma-separated cell names, or 'all'.")
@click.option("--repeats", default=5, show_default=True, type=click.IntRange(1), help="Timed passes per contender.")
@click.option(
    "--threads", default=1, show_default=True, type=click.IntRange(1), help="Intra-op threads (torch.set_num_threads)."
)
@click.option("--device", default="cpu", show_default=True, type=click.Choice(["cpu", "cuda"]))
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Also write the results here as JSON.")
@click.option("--quick", is_flag=True, help=f"Small sizes ({QUICK_SIZES}), 3 repeats: a one-minute look.")
@_one_line_errors
def bench(sizes, cell_names, repeats, threads, device, json_path, quick):
    """Forward + backward throughput of each cell beside torch.nn.LSTM, in the same run.

    Prints which kernel each cell runs (fused oneDNN/cuDNN, compiled loop, Python loop), its
    throughput (time steps x batch per second), the ratio to torch.nn.LSTM (1.00 = as fast)
    and what gate tracing costs (traced time / untraced time).
    """
    if device == "cuda" and not torch.cuda.is_available():
        raise LstmkitError("--device: cuda requested but torch sees no CUDA device")
    if quick:
        sizes, repeats = QUICK_SIZES, min(repeats, 3)
    parsed = parse_sizes(sizes)
    names = list(CELLS) if cell_names == "all" else [c.strip() for c in cell_names.split(",")]
    check_cells(names)
    _set_threads(threads)
    console.print(f"lstmkit {__version__}, torch {torch.__version__}, {threads} thread(s), device {device}")
    table = Table(title="forward + backward, median of repeats")
    table.caption = "vs torch: throughput / torch.nn.LSTM's (1.00 = as fast); trace: traced / untraced time"
    for col in ("H", "N", "L", "cell", "kernel", "steps*N/s", "vs torch", "trace"):
        table.add_column(col, justify="right" if col not in ("cell", "kernel") else "left")

    def progress(row):
        console.print(f"  measured {row.cell:9s} H={row.hidden_size} N={row.batch_size} L={row.length}", style="dim")

    rows = run_bench(parsed, names, repeats=repeats, device=device, on_row=progress)
    for r in rows:
        table.add_row(
            str(r.hidden_size),
            str(r.batch_size),
            str(r.length),
            r.cell,
            r.kernel,
            f"{r.throughput:,.0f}",
            f"{r.vs_torch:.2f}",
            f"{r.trace_cost:.2f}",
        )
    console.print(table)
    if json_path:
        write_json(json_path, rows, {"command": " ".join(sys.argv)})
        console.print(f"wrote {json_path}")


# ---- forecasting ----------------------------------------------------------------------------


def _csv_list(value, cast=str):
    return [cast(v.strip()) for v in value.split(",") if v.strip()] if value else []


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
@click.option("--window", type=int, help="Input window (windows scheme) or burn-in (every-step). [default: 24]")
@click.option(
    "--horizon", type=int, default=1, show_default=True, help="Steps ahead to forecast (direct multi-output)."
)
@click.option("--hidden-size", type=int, default=50, show_default=True)
@click.option("--num-layers", type=int, default=1, show_default=True)
@click.option("--cell", default="lstm", show_default=True, help="Any cell of `lstmkit cells`.")
@click.option(
    "--scheme",
    type=click.Choice(["every-step", "windows"]),
    default="every-step",
    show_default=True,
    help="every-step: contiguous chunks, a loss at every step, state carried; windows: the article's recipe.",
)
@click.option("--epochs", type=int, default=100, show_default=True, help="At most; early stopping decides.")
@click.option("--batch-size", type=int, default=32, show_default=True)
@click.option("--lr", type=float, default=1e-3, show_default=True)
@click.option("--quantiles", help="e.g. 0.1,0.5,0.9: pinball loss and a prediction interval.")
@click.option(
    "--season", type=int, help="Season of the seasonal-naive baseline and MASE; from the frequency if not given."
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
    window,
    horizon,
    hidden_size,
    num_layers,
    cell,
    scheme,
    epochs,
    batch_size,
    lr,
    quantiles,
    season,
    backtest,
    seed,
    threads,
    out,
    resume,
    quiet,
):
    """Train and evaluate a forecaster against persistence, seasonal-naive and linear-AR baselines.

    The split is chronological (70/10/20 by time); scalers are fitted on the training part only.
    Writes a run directory with config.json, model.safetensors, scaler.json, metrics.json,
    predictions.csv and report.html.
    """
    import pathlib

    from .tasks.forecast import Forecaster

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
        horizon=horizon,
        hidden_size=hidden_size,
        num_layers=num_layers,
        cell=cell,
        scheme=scheme,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        quantiles=q,
        season=season,
        seed=seed,
        threads=threads,
    )
    if window is not None:
        settings["window"] = window
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
        from .runs import write_json

        write_json(folder / "backtest.json", folds)
        _print_backtest(folds)
    console.print(f"report: {folder / 'report.html'}")


def _print_forecast(metrics, target):
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
            f"{m['rmse'] / pers:.3f}",
        )
    console.print(table)
    extra = f"trained {metrics['train_seconds']:.1f} s, {metrics['epochs']} epochs (best {metrics['best_epoch']})"
    if "interval" in metrics:
        iv = metrics["interval"]
        extra += f"; interval coverage {iv['coverage']:.3f} (nominal {iv['nominal']:.2f})"
    console.print(extra)


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
    "--run", "run_dir", required=True, type=click.Path(), help="A run directory written by `lstmkit forecast`."
)
@click.option("--data", required=True, help="New data (CSV / Parquet) with the columns the run was trained on.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write the forecasts here as CSV (default: print them).")
@_one_line_errors
def predict(run_dir, data, out):
    """Forecast past the end of new data with a saved run."""
    from .tasks.forecast import Forecaster

    fc = Forecaster.load(run_dir)
    result = fc.predict(data)
    if out:
        from .runs import atomic_write

        atomic_write(out, lambda tmp: result.to_csv(tmp, index=False))
        console.print(f"wrote {len(result)} forecasts to {out}")
    else:
        click.echo(result.to_csv(index=False), nl=False)


# ---- the long-time-lag experiments ---------------------------------------------------------


@main.command()
@click.argument("task", type=click.Choice(["adding", "adding1997", "temporal", "copy"]))
@click.option("--length", default="100", show_default=True, help="Comma-separated T values (temporal: 100 = Exp. 6a).")
@click.option("--scale", type=float, help="temporal only: the paper's lengths times this (0.5 = length 50).")
@click.option("--cells", "cell_names", default="lstm,rnn", show_default=True, help="Comma-separated cells, or 'all'.")
@click.option("--seeds", default=3, show_default=True, type=click.IntRange(1))
@click.option("--steps", default=2000, show_default=True, type=click.IntRange(1), help="Training steps (batches).")
@click.option("--forget-bias", default=1.0, show_default=True, type=float)
@click.option("--hidden-size", default=64, show_default=True, type=click.IntRange(1))
@click.option("--batch-size", default=64, show_default=True, type=click.IntRange(1))
@click.option("--lr", default=1e-2, show_default=True, type=float, help="Adam; gradients clipped to norm 1.")
@click.option("--eval-every", default=100, show_default=True, type=click.IntRange(1))
@click.option("--stop-when-solved", is_flag=True, help="End a run once two evaluations in a row hold the solved level.")
@click.option(
    "--jobs", default=2, show_default=True, type=click.IntRange(1), help="Parallel processes (1 thread each)."
)
@click.option("--out", type=click.Path(file_okay=False), help="Results folder. [default: runs/experiment-<task>]")
@_one_line_errors
def experiment(
    task,
    length,
    scale,
    cell_names,
    seeds,
    steps,
    forget_bias,
    hidden_size,
    batch_size,
    lr,
    eval_every,
    stop_when_solved,
    jobs,
    out,
):
    """The long-time-lag experiments: which cells learn what a tanh RNN cannot.

    Trains every cell for every length and seed on fresh batches and scores it on one fixed test set
    (separate seed): a table of mean ± sd over seeds, the step it first beat the trivial baseline
    clearly (closed half the gap to perfect), wall time; learning curves (PNG) and results.json.
    """
    import pathlib

    from .experiments.runner import RunSpec, run_many, summarise
    from .report import experiment_plot
    from .runs import write_json

    names = list(CELLS) if cell_names == "all" else _csv_list(cell_names)
    check_cells(names)
    try:
        lengths = _csv_list(length, int)
    except ValueError:
        raise LstmkitError(f"--length: expected integers like 100,200, got {length!r}") from None
    if scale is not None:
        if task != "temporal":
            raise LstmkitError("--scale: only the temporal task has one")
        lengths = [round(100 * scale)]
    if any(n < 4 for n in lengths):
        raise LstmkitError(f"--length: every length must be at least 4, got {lengths}")
    specs = [
        RunSpec(task, c, n, s, steps, hidden_size, batch_size, lr, 1.0, forget_bias, eval_every, stop_when_solved)
        for n in lengths
        for c in names
        for s in range(seeds)
    ]
    folder = pathlib.Path(out or f"runs/experiment-{task}")
    console.print(
        f"{task}: {len(specs)} runs ({len(names)} cells x {len(lengths)} lengths x {seeds} seeds), "
        f"{jobs} process(es), 1 thread each -> {folder}"
    )
    done = []

    def progress(r):
        done.append(r)
        console.print(
            f"  [{len(done)}/{len(specs)}] {r['cell']:9s} T={r['length']} seed {r['seed']}: "
            f"{r['metric']} {r['value']:.4g} after {r['steps']} steps, {r['seconds']:.0f} s",
            style="dim",
        )

    results = run_many(specs, jobs, on_result=progress)
    write_json(folder / "results.json", results)
    rows = summarise(results)
    write_json(folder / "summary.json", rows)
    table = Table(title=f"{task}: test {rows[0]['metric']} (trivial baseline {rows[0]['baseline']:.4g})")
    for col in ("cell", "T", "mean ± sd", "solved", "beat baseline at", "seconds"):
        table.add_column(col, justify="left" if col == "cell" else "right")
    for r in rows:
        solved = sum(x["solved"] for x in results if (x["cell"], x["length"]) == (r["cell"], r["length"]))
        beat = (
            "never"
            if r["beaten_by"] == 0
            else f"{r['beat_step']:.0f}"
            if r["beat_step"]
            else f"{r['beaten_by']}/{r['seeds']} seeds"
        )
        table.add_row(
            r["cell"],
            str(r["length"]),
            f"{r['mean']:.4g} ± {r['sd']:.2g}",
            f"{solved}/{r['seeds']}",
            beat,
            f"{r['seconds']:.0f}",
        )
    console.print(table)
    console.print(f"curves: {experiment_plot(results, folder / 'curves.png')}; records: {folder / 'results.json'}")


@main.command(name="datasets")
def datasets_command():
    """List the embedded data sets with their provenance."""
    from .data import list_datasets

    console.print("[bold]embedded data sets[/bold] (they ship with lstmkit: no network needed)\n")
    for d in list_datasets():
        series = f", series column {d.series}" if d.series else ""
        console.print(
            f"[bold]{d.name}[/bold]  {d.frequency}, target {d.target} ({escape(d.units)}){series}", soft_wrap=True
        )
        console.print(f"  {escape(d.description)}", soft_wrap=True)
        console.print(f"  licence: {escape(d.licence)}", soft_wrap=True)
        console.print(f"  cite: {escape(d.citation)}\n", soft_wrap=True)
    console.print("checksums and conversion notes: PROVENANCE.md beside each file in lstmkit/data/files/")


if __name__ == "__main__":
    main()
