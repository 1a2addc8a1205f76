"""`lstmkit explain`."""

from __future__ import annotations

import click

from .app import _one_line_errors, _set_threads, console, main, refused_if_inconsistent


@main.command()
@click.option(
    "--run",
    "run_dir",
    required=True,
    type=click.Path(),
    help="A run directory (forecast or classify).",
)
@click.option(
    "--index",
    type=int,
    help="Classifier: the test row to explain. Forecaster: the k-th test origin.",
)
@click.option(
    "--time", "time_at", help="Forecaster: the forecast origin to explain, e.g. '2013-11-02 14:00'."
)
@click.option(
    "--data",
    help="Explain rows of this file. For a run fitted on a file (not an embedded data set), that "
    "file: a run directory never makes lstmkit read a file it names. Given the run's own file, "
    "a classifier explains its test rows.",
)
@click.option(
    "--steps",
    type=int,
    default=64,
    show_default=True,
    help="Integrated gradients: equal segments of "
    "the path to start from; the steep ones are halved until the attributions add up to within 1% "
    "(at most 1,024 gradients).",
)
@click.option("--threads", type=click.IntRange(1), default=1, show_default=True)
@_one_line_errors
def explain(run_dir, index, time_at, data, steps, threads):
    """Show what the gates and the cell state did, and which inputs mattered.

    Writes explain.json, plots/explain_*.png and an Explain section into the run's report.html:
    heat maps of every gate and state over time for one input, integrated-gradients and occlusion
    attributions over its time steps and features, and per unit over the test data the mean
    forget gate and the memory half-life it implies.
    """
    from ..explanation import explain as run_explain

    _set_threads(threads)
    with refused_if_inconsistent(run_dir):
        result = run_explain(run_dir, index=index, time_at=time_at, data=data, steps=steps)
    for line in result["summary"]:
        console.print(line, soft_wrap=True)
    att = result["attribution"]
    console.print(
        f"integrated gradients: {att['steps']} steps, completeness error "
        f"{att['completeness_error']:.2%}; "
        f"{result['seconds']:.1f} s"
    )
    console.print(f"report: {run_dir}/report.html#explain", soft_wrap=True)
