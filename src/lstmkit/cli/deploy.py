"""`lstmkit export` (ONNX graphs of a run) and `lstmkit serve` (runs behind HTTP)."""

from __future__ import annotations

import pathlib

import click

from ..config import LstmkitError
from .app import _one_line_errors, _set_threads, console, main, refused_if_inconsistent


@main.command()
@click.option(
    "--run", "run_dir", required=True, type=click.Path(), help="A run directory to export."
)
@click.option(
    "--data",
    help="The data the run was fitted on, where it is not where it was (the checks run on it).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="Where the graphs go. [default: the run directory]",
)
@_one_line_errors
def export(run_dir, data, out):
    """ONNX graphs of a saved run, each checked against PyTorch in onnxruntime on the run's own
    data before it is kept (max abs difference 1e-5; the command fails otherwise).

    \b
    forecast runs: forecaster.onnx  raw history in, forecast (with intervals) and state out
                   step.onnx        one observation and the state in, forecast and state out
                   forecaster.json  what the inputs mean: series rows, step, quantiles, state
    classify runs: classifier.onnx  sequences in, class probabilities out; classifier.json
    (docs/deploy.md runs them without lstmkit.)
    """
    from ..runs import read_run_config

    _set_threads(1)
    folder = pathlib.Path(out or run_dir)
    with refused_if_inconsistent(run_dir):
        task = read_run_config(pathlib.Path(run_dir))["task"]
        if task == "classify":
            from ..classify.estimator import SequenceClassifier
            from ..classify.onnx import export_classifier

            card = export_classifier(SequenceClassifier.load(run_dir), folder, data)
        else:
            from ..forecast.estimator import Forecaster
            from ..forecast.onnx import export_forecaster

            fc = Forecaster.load(run_dir)
            s = fc.state
            prepared = fc._prepare(fc._table(data), s.past_covariates, s.freq)
            card = export_forecaster(fc, folder, prepared.segments)
    for name, got in card["graphs"].items():
        if got.get("written", True):
            console.print(
                f"wrote {folder / name}: {got['exporter']} exporter, max |onnxruntime - PyTorch| "
                f"{got['max_abs_diff']:.2g} over {got['checks']} checks"
            )
        else:
            console.print(f"not written: {name}: {got['why']}")


@main.command()
@click.option(
    "--run",
    "runs",
    required=True,
    multiple=True,
    type=click.Path(),
    help="A forecast run directory; repeat to serve several (routes /<its folder name>/...).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--state-dir",
    default="lstmkit-state",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where each run's live state is kept (<run name>.safetensors), rewritten atomically "
    "after every update; a run without one starts where its data ended.",
)
@_one_line_errors
def serve(runs, host, port, state_dir):
    """Serve forecast runs over HTTP: POST /predict, POST /update, GET /model, GET /health,
    OpenAPI at /docs. Needs `pip install 'lstmkit[serve]'`.

    \b
    lstmkit serve --run runs/weather-nyc-hourly
    curl -s localhost:8000/predict -H 'content-type: application/json' -d '{}'
    """
    try:
        import uvicorn

        from ..serve import Served, app_of
    except ImportError as err:
        raise LstmkitError(
            f"serve: {err.name} is not installed; pip install 'lstmkit[serve]'"
        ) from None
    _set_threads(1)
    served = []
    for run in runs:
        with refused_if_inconsistent(run):
            served.append(Served(run, state_dir))
    names = [s.name for s in served]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise LstmkitError(f"--run: two runs named {twice[0]!r}; serve each under its own name")
    pathlib.Path(state_dir).mkdir(parents=True, exist_ok=True)
    console.print(f"serving {', '.join(names)} on http://{host}:{port} (OpenAPI: /docs)")
    uvicorn.run(app_of(served), host=host, port=port, log_level="warning", workers=1)
