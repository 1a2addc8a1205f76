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
    lstmkit cells    the registered cells and what each changes
    lstmkit bench    throughput of every cell beside torch.nn.LSTM
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
@click.option(
    "--repeats", default=5, show_default=True, type=click.IntRange(1), help="Timed passes per contender."
)
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
            str(r.hidden_size), str(r.batch_size), str(r.length), r.cell, r.kernel,
            f"{r.throughput:,.0f}", f"{r.vs_torch:.2f}", f"{r.trace_cost:.2f}",
        )  # fmt: skip
    console.print(table)
    if json_path:
        write_json(json_path, rows, {"command": " ".join(sys.argv)})
        console.print(f"wrote {json_path}")


if __name__ == "__main__":
    main()
