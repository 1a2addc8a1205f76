"""`lstmkit classify`."""

from __future__ import annotations

import math

import click
from rich.table import Table

from ..classify.config import ClassifyConfig
from .app import _one_line_errors, _set_threads, console, main
from .options import options_of, settings_given


@main.command()
@click.option(
    "--data",
    required=True,
    help="An embedded data set (ecg5000, clintox) or a CSV / Parquet / UCR .tsv / UCR-UEA .ts file "
    "(multivariate, variable length; needs the ts extra: aeon).",
)
@click.option(
    "--test",
    "test_file",
    help="A separate test file (e.g. UCR's _TEST.tsv); else a stratified split.",
)
@options_of(ClassifyConfig)
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
def classify(data, test_file, out, resume, overwrite, quiet, **values):
    """Train and evaluate a sequence classifier against the majority class and its linear paths.

    What the model is (the network, a linear path on MiniRocket's features or the values, or their
    fusion) is chosen on the training data alone: 5-fold cross-validation for up to --cv-max-rows
    training sequences, the validation part beyond (docs/classify.md, "How the model decides").
    On an embedded data set (ecg5000, clintox) the settings measured best there (the network's,
    and a fixed fusion the rule was measured to miss) replace the defaults below unless you give
    them; `lstmkit datasets` lists them.

    \b
    lstmkit classify --data ecg5000                 # its measured settings
    lstmkit classify --data clintox --ensemble 3    # ... and one of your own
    lstmkit classify --data TRAIN.tsv --test TEST.tsv --label-col label
    lstmkit classify --data X_TRAIN.ts --test X_TEST.ts      # UEA: multivariate, variable length
    lstmkit classify --data tox.csv --smiles-col smiles --label-col NR-AR,NR-AhR,SR-p53
    """
    import pathlib

    # Only what the user set: an embedded data set's measured settings fill the rest.
    config = ClassifyConfig.from_settings(
        settings_given(click.get_current_context(), ClassifyConfig, values), ""
    )
    from .launch import in_processes, processes_said, run_directory

    in_processes(config.train)  # --nproc N: this command again, in N processes
    from ..classify.estimator import SequenceClassifier
    from ..rundir import run_name

    folder = pathlib.Path(out or f"runs/{run_name(data)}")
    clf = SequenceClassifier(config)
    _set_threads(config.train.threads)
    with run_directory(folder, overwrite, resume) as (stage, lead):
        quiet = quiet or not lead  # the lead (process 0) writes the run and prints
        if not quiet:
            console.print(
                f"lstmkit classify: {data}, {config.train.threads} thread(s){processes_said()}, "
                f"run directory {folder}"
            )
        clf.fit(
            data, test=test_file, quiet=quiet, checkpoint_dir=stage / "checkpoint", resume=resume
        )
        if lead:
            clf.write(stage)
    if not lead:
        return
    _print_classify(clf.metrics)
    console.print(f"report: {folder / 'report.html'}", soft_wrap=True)
    console.print(
        f"what it relies on and how long it remembers: lstmkit explain --run {folder}",
        soft_wrap=True,
    )


def _print_classify(metrics):
    from ..report.classify import method_label
    from ..train import events_said

    test = metrics["test"]
    table = Table(
        title=f"test: {test['model']['n']} sequences, classes {', '.join(metrics['classes'])}"
    )
    cols = ("accuracy", "balanced_accuracy", "macro_f1", "roc_auc", "pr_auc")
    table.add_column("method")
    for col in cols:
        table.add_column(col.replace("_", " "), justify="right")
    for name, m in test.items():
        cells = (
            f"{m[c]:.4f}" if m.get(c) is not None and math.isfinite(m[c]) else "" for c in cols
        )
        table.add_row(method_label(name, metrics.get("selection")), *cells)
    console.print(table)
    chosen = metrics["selection"]
    console.print(f"model: {chosen['chosen']}, chosen by {chosen['how']}", soft_wrap=True)
    for note in chosen["notes"]:
        console.print(f"  {note}", soft_wrap=True)
    seconds, epochs, kept = metrics["train_seconds"], metrics["epochs"], metrics["best_epoch"]
    if chosen["members"]:
        console.print(
            f"network: {chosen['members']} member(s), {seconds:.1f} s, epochs {epochs} (kept "
            f"{kept})"
        )
    for where, rows in metrics.get("invalid_smiles", {}).items():
        shown = ", ".join(f"{r['id']} ({r['smiles']})" for r in rows[:3])
        more = f" and {len(rows) - 3} more" if len(rows) > 3 else ""
        console.print(
            f"skipped {len(rows)} SMILES RDKit cannot parse in --{where}: {shown}{more} "
            "(--invalid error refuses them instead)",
            soft_wrap=True,
        )
    for line in events_said(metrics):
        console.print(line)
