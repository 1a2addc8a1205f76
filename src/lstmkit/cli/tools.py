"""`lstmkit cells`, `bench`, `experiment` and `datasets`."""

from __future__ import annotations

import math
import sys

import click
from rich.markup import escape
from rich.table import Table

from .._version import __version__
from ..config import LstmkitError, csv_list
from .app import _one_line_errors, _set_threads, console, main

QUICK_SIZES = "50x32x24,64x16x64"
FULL_SIZES = "50x32x24,128x64x256"


@main.command()
def cells():
    """List the registered cells: gate blocks, parameters and kernel."""
    # torch: imported by the commands that need it, not by `lstmkit --help`
    from ..cells import (
        CELLS,
    )

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
    "--sizes",
    default=FULL_SIZES,
    show_default=True,
    help="HxNxL items: hidden size x batch x length (H_in = H).",
)
@click.option(
    "--cells",
    "cell_names",
    default="all",
    show_default=True,
    help="Comma-separated cell names, or 'all'.",
)
@click.option(
    "--repeats",
    default=5,
    show_default=True,
    type=click.IntRange(1),
    help="Timed passes per contender.",
)
@click.option(
    "--threads",
    default=1,
    show_default=True,
    type=click.IntRange(1),
    help="Intra-op threads (torch.set_num_threads).",
)
@click.option("--device", default="cpu", show_default=True, type=click.Choice(["cpu", "cuda"]))
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False),
    help="Also write the results here as JSON.",
)
@click.option(
    "--quick", is_flag=True, help=f"Small sizes ({QUICK_SIZES}), 3 repeats: a one-minute look."
)
@_one_line_errors
def bench(sizes, cell_names, repeats, threads, device, json_path, quick):
    """Forward + backward throughput of each cell beside torch.nn.LSTM, in the same run.

    Prints which kernel each cell runs (fused oneDNN/cuDNN, compiled loop, Python loop), its
    throughput (time steps x batch per second), the ratio to torch.nn.LSTM (1.00 = as fast)
    and what gate tracing costs (traced time / untraced time).
    """
    import torch

    from ..bench import check_cells, parse_sizes, run_bench, write_json
    from ..cells import CELLS

    if device == "cuda" and not torch.cuda.is_available():
        raise LstmkitError("--device: cuda requested but torch sees no CUDA device")
    if quick:
        sizes, repeats = QUICK_SIZES, min(repeats, 3)
    parsed = parse_sizes(sizes)
    names = list(CELLS) if cell_names == "all" else [c.strip() for c in cell_names.split(",")]
    check_cells(names)
    _set_threads(threads)
    console.print(
        f"lstmkit {__version__}, torch {torch.__version__}, {threads} thread(s), device {device}"
    )
    table = Table(title="forward + backward, median of repeats")
    table.caption = (
        "vs torch: throughput / torch.nn.LSTM's (1.00 = as fast); trace: traced / untraced time"
    )
    for col in ("H", "N", "L", "cell", "kernel", "steps*N/s", "vs torch", "trace"):
        table.add_column(col, justify="right" if col not in ("cell", "kernel") else "left")

    def progress(row):
        console.print(
            f"  measured {row.cell:9s} H={row.hidden_size} N={row.batch_size} L={row.length}",
            style="dim",
        )

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


# ---- the long-time-lag experiments ---------------------------------------------------------


@main.command()
@click.argument("task", type=click.Choice(["adding", "adding1997", "temporal", "copy"]))
@click.option(
    "--length",
    default="100",
    show_default=True,
    help="Comma-separated T values (temporal: 100 = Exp. 6a).",
)
@click.option(
    "--scale",
    type=click.FloatRange(0, min_open=True),
    help="temporal only: the paper's lengths times this (0.5 = length 50).",
)
@click.option(
    "--cells",
    "cell_names",
    default="lstm,rnn",
    show_default=True,
    help="Comma-separated cells, or 'all'.",
)
@click.option("--seeds", default=3, show_default=True, type=click.IntRange(1))
@click.option(
    "--steps",
    default=2000,
    show_default=True,
    type=click.IntRange(1),
    help="Training steps (batches).",
)
@click.option("--forget-bias", default=1.0, show_default=True, type=float)
@click.option("--hidden-size", default=64, show_default=True, type=click.IntRange(1))
@click.option("--batch-size", default=64, show_default=True, type=click.IntRange(1))
@click.option(
    "--lr",
    default=1e-2,
    show_default=True,
    type=click.FloatRange(0, min_open=True),
    help="Adam; gradients clipped to norm 1.",
)
@click.option("--eval-every", default=100, show_default=True, type=click.IntRange(1))
@click.option(
    "--stop-when-solved",
    is_flag=True,
    help="End a run once two evaluations in a row hold the solved level.",
)
@click.option(
    "--jobs",
    default=2,
    show_default=True,
    type=click.IntRange(1),
    help="Parallel processes (1 thread each).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="Results folder. [default: runs/experiment-<task>]",
)
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

    from ..bench import check_cells
    from ..cells import CELLS
    from ..experiments.runner import RunSpec, run_many, summarise
    from ..report import experiment_plot
    from ..runs import write_json

    names = list(CELLS) if cell_names == "all" else csv_list(cell_names)
    check_cells(names)
    try:
        lengths = csv_list(length, int)
    except ValueError:
        raise LstmkitError(f"--length: expected integers like 100,200, got {length!r}") from None
    if scale is not None:
        if task != "temporal":
            raise LstmkitError("--scale: only the temporal task has one")
        lengths = [round(100 * scale)]
    if any(n < 4 for n in lengths):
        raise LstmkitError(f"--length: every length must be at least 4, got {lengths}")
    specs = [
        RunSpec(
            task,
            c,
            n,
            s,
            steps,
            hidden_size,
            batch_size,
            lr,
            1.0,
            forget_bias,
            eval_every,
            stop_when_solved,
        )
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
    table = Table(
        title=f"{task}: test {rows[0]['metric']} (trivial baseline {rows[0]['baseline']:.4g})"
    )
    for col in ("cell", "T", "mean ± sd", "solved", "beat baseline at", "seconds"):
        table.add_column(col, justify="left" if col == "cell" else "right")
    for r in rows:
        solved = sum(
            x["solved"] for x in results if (x["cell"], x["length"]) == (r["cell"], r["length"])
        )
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
    console.print(
        f"curves: {experiment_plot(results, folder / 'curves.png')}; records: "
        f"{folder / 'results.json'}"
    )


@main.command(name="datasets")
def datasets_command():
    """List the embedded data sets with their provenance."""
    from ..data import list_datasets

    console.print("[bold]embedded data sets[/bold] (they ship with lstmkit: no network needed)\n")
    for d in list_datasets():
        if d.task == "classify":
            what = f"classify: label {d.label}" + (
                f", SMILES column {d.smiles}" if d.smiles else ""
            )
            what += ", official test split" if d.test_file else ", no official split"
            if d.settings:
                what += "; settings: " + " ".join(
                    f"--{k.replace('_', '-')} {v}" for k, v in d.settings.items()
                )
        else:
            series = f", series column {d.series}" if d.series else ""
            what = f"forecast: {d.frequency}, target {d.target} ({escape(d.units)}){series}"
        console.print(f"[bold]{d.name}[/bold]  {what}", soft_wrap=True)
        console.print(f"  {escape(d.description)}", soft_wrap=True)
        console.print(f"  licence: {escape(d.licence)}", soft_wrap=True)
        console.print(f"  cite: {escape(d.citation)}\n", soft_wrap=True)
    console.print(
        "checksums and conversion notes: PROVENANCE.md beside each file in lstmkit/data/files/"
    )
