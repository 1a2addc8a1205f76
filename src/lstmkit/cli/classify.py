"""`lstmkit classify`."""

from __future__ import annotations

import math

import click
from rich.table import Table

from .app import _csv_list, _one_line_errors, _set_threads, console, main


class _Weight(click.ParamType):
    """--linear-weight: auto, or a number in [0, 1]."""

    name = "auto|W"

    def convert(self, value, param, ctx):
        if isinstance(value, float) or value == "auto":
            return value
        try:
            w = float(value)
        except ValueError:
            self.fail(f"expected auto or a number in [0, 1], got {value!r}", param, ctx)
        if not 0 <= w <= 1:
            self.fail(f"expected auto or a number in [0, 1], got {value!r}", param, ctx)
        return w


@main.command()
@click.option("--data", required=True, help="An embedded data set (ecg5000, clintox) or a CSV / Parquet / UCR .tsv / "
              "UCR-UEA .ts file (multivariate, variable length; needs the ts extra: aeon).")  # fmt: skip
@click.option("--test", "test_file", help="A separate test file (e.g. UCR's _TEST.tsv); else a stratified split.")
@click.option("--label-col", help="Label column; several, comma-separated: multi-label (blank = missing). "
              "UCR .tsv files: 'label'.")  # fmt: skip
@click.option("--smiles-col", help="Column of SMILES strings: canonicalised (RDKit), tokenised, embedded.")
@click.option("--id-col", help="Long tables: the sequence id column (one row per time step).")
@click.option("--time-col", help="Long tables: the column that orders the steps of a sequence.")
@click.option("--value-cols", help="Comma-separated value columns (default: every other numeric column).")
@click.option("--ragged", is_flag=True, help="Wide tables: trailing blanks end a shorter sequence (masked).")
@click.option("--cell", default="lstm", show_default=True, help="Any cell of `lstmkit cells`.")
@click.option("--hidden-size", type=int, default=64, show_default=True)
@click.option("--num-layers", type=int, default=1, show_default=True)
@click.option("--unidirectional", is_flag=True, help="One direction only (default: bidirectional).")
@click.option("--pooling", type=click.Choice(["last", "mean", "max", "mean+max", "attention"]), default="attention",
              show_default=True, help="How the steps' hidden states become one vector.")  # fmt: skip
@click.option("--conv-channels", type=int, default=0, show_default=True,
              help="> 0: a causal Conv1d front end with this many channels (CNN-LSTM).")  # fmt: skip
@click.option("--conv-kernel", type=int, default=7, show_default=True)
@click.option("--conv-layers", type=int, default=2, show_default=True)
@click.option("--fcn-channels", type=int, default=0, show_default=True,
              help="> 0: an FCN branch beside the LSTM (LSTM-FCN), channels c, 2c, c.")  # fmt: skip
@click.option("--embed-dim", type=int, default=64, show_default=True, help="SMILES: token embedding size.")
@click.option("--conv-stride", type=int, default=1, show_default=True, help="Stride of the first conv layer.")
@click.option("--dropout", type=float, default=0.2, show_default=True)
@click.option("--class-weights", type=click.Choice(["none", "sqrt", "balanced"]), default="sqrt", show_default=True,
              help="Weight the loss by inverse class frequency (balanced) or its square root.")  # fmt: skip
@click.option("--augment", type=int, default=0, show_default=True,
              help="SMILES: randomised variants per training molecule (Arus-Pous et al. 2019).")  # fmt: skip
@click.option(
    "--tta", type=int, default=0, show_default=True, help="SMILES: randomised variants averaged at prediction."
)
@click.option("--no-canonical", is_flag=True, help="SMILES: use the strings as written (not recommended).")
@click.option("--ensemble", type=int, default=1, show_default=True, help="Members from consecutive seeds, averaged.")
@click.option("--linear-weight", type=_Weight(), default="auto", show_default=True,
              help="The linear path's share of the model's logits: auto (chosen on the training data: the linear "
                   "path alone, fused with the network at 0.75/0.5/0.25, or the network alone, the network only "
                   "where it wins beyond chance), or a number in [0, 1] (0: the network alone, 1: the path "
                   "alone, no network trained).")  # fmt: skip
@click.option("--linear-features", type=click.Choice(["auto", "raw", "minirocket", "minirocket+diff"]),
              default="auto", show_default=True,
              help="The linear paths: auto (numeric: the values' logistic regression and ridge classifiers on "
                   "MiniRocket's 10,000 random-convolution features, and on those plus 10,000 of the first "
                   "differences, the best by cross-validation; SMILES: n-grams), or name one to use it.")  # fmt: skip
@click.option("--linear-model", type=click.Choice(["auto", "logistic", "ridge"]), default="auto", show_default=True,
              help="The named path's classifier (auto: ridge on MiniRocket's features, logistic otherwise): a "
                   "logistic regression (penalty by k-fold), or a ridge classifier (penalty and calibration by "
                   "leave-one-out: MiniRocket's protocol). The logistic baseline row stays.")  # fmt: skip
@click.option("--cv-folds", type=click.IntRange(2), default=5, show_default=True,
              help="Folds of the training rows: the linear paths' penalties and, on small data, the networks.")
@click.option("--cv-max-rows", type=click.IntRange(0), default=300, show_default=True,
              help="Small data: up to this many training sequences train one network per fold (an ensemble) "
                   "instead of setting a validation part apart (--val-fraction; 0: never).")  # fmt: skip
@click.option("--epochs", type=int, default=40, show_default=True, help="At most; early stopping decides.")
@click.option("--patience", type=int, default=10, show_default=True)
@click.option("--batch-size", type=int, default=32, show_default=True)
@click.option("--lr", type=float, default=3e-3, show_default=True)
@click.option("--weight-decay", type=float, default=0.01, show_default=True, help="AdamW's decoupled weight decay.")
@click.option("--cosine/--no-cosine", default=True, show_default=True,
              help="Cosine decay of the learning rate over --epochs, or a constant rate.")  # fmt: skip
@click.option("--label-smoothing", type=float, default=0.0, show_default=True,
              help="Share of each target spread over the other classes (single-label).")  # fmt: skip
@click.option("--monitor", type=click.Choice(["loss", "roc_auc", "balanced_accuracy", "accuracy"]), default="loss",
              show_default=True, help="The criterion out of sample: early stopping, the penalties, the choice of "
              "the model.")  # fmt: skip
@click.option("--group-col", help="Sequences sharing this column's value (a patient, a recording) stay in one "
              "part of the split. SMILES: identical canonical molecules always do.")  # fmt: skip
@click.option("--split-by", type=click.Choice(["molecule", "scaffold"]), default="molecule", show_default=True,
              help="SMILES: keep identical molecules, or all molecules of one Bemis-Murcko scaffold, in one part "
                   "(scaffold: test on chemotypes unseen in training).")  # fmt: skip
@click.option("--val-fraction", type=float, default=0.1, show_default=True)
@click.option("--test-fraction", type=float, default=0.2, show_default=True, help="Used when no --test file.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--threads", type=int, default=1, show_default=True)
@click.option("--out", type=click.Path(file_okay=False), help="Run directory. [default: runs/<data name>]")
@click.option("--resume", is_flag=True, help="Continue from <out>/checkpoint/ if a run was interrupted.")
@click.option("--quiet", is_flag=True, help="No progress bar; print only the result table.")
@_one_line_errors
def classify(data, test_file, label_col, smiles_col, id_col, time_col, value_cols, ragged, cell, hidden_size,
             num_layers, unidirectional, pooling, conv_channels, conv_kernel, conv_layers, fcn_channels, embed_dim,
             conv_stride, dropout, class_weights, augment, tta, no_canonical, ensemble, linear_weight, linear_features,
             linear_model, cv_folds, cv_max_rows, epochs, patience, batch_size, lr, weight_decay, cosine,
             label_smoothing, monitor, group_col, split_by, val_fraction, test_fraction, seed, threads, out, resume,
             quiet):  # fmt: skip
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

    from ..classify.estimator import SequenceClassifier

    settings = dict(
        label_col=_csv_list(label_col) or None, smiles_col=smiles_col, id_col=id_col, time_col=time_col,
        value_cols=_csv_list(value_cols) or None, ragged=ragged, cell=cell, hidden_size=hidden_size,
        num_layers=num_layers, bidirectional=not unidirectional, pooling=pooling, conv_channels=conv_channels,
        conv_kernel=conv_kernel, conv_layers=conv_layers, fcn_channels=fcn_channels, embed_dim=embed_dim,
        conv_stride=conv_stride, dropout=dropout, class_weights=class_weights, weight_decay=weight_decay,
        augment=augment, tta=tta, canonical=not no_canonical, ensemble=ensemble, linear_weight=linear_weight,
        linear_features=linear_features, linear_model=linear_model, cv_folds=cv_folds, cv_max_rows=cv_max_rows,
        epochs=epochs, patience=patience,
        batch_size=batch_size, lr=lr, cosine=cosine, label_smoothing=label_smoothing, monitor=monitor,
        group_col=group_col, split_by=split_by, val=val_fraction,
        test=test_fraction, seed=seed, threads=threads,
    )  # fmt: skip
    # Pass on only what the user set: an embedded data set's measured settings fill the rest.
    ctx = click.get_current_context()
    renamed = {"bidirectional": "unidirectional", "canonical": "no_canonical", "val": "val_fraction",
               "test": "test_fraction"}  # fmt: skip
    settings = {
        k: v
        for k, v in settings.items()
        if ctx.get_parameter_source(renamed.get(k, k)) != click.core.ParameterSource.DEFAULT
    }
    name = pathlib.Path(data).name.split(".")[0] if pathlib.Path(data).suffix else data
    folder = pathlib.Path(out or f"runs/{name}")
    clf = SequenceClassifier(**settings)  # first: its checks refuse a bad --threads in one line
    _set_threads(threads)
    if not quiet:
        console.print(f"lstmkit classify: {data}, {threads} thread(s), run directory {folder}")
    clf.fit(data, test=test_file, quiet=quiet, checkpoint_dir=folder / "checkpoint", resume=resume)
    clf.save(folder)
    _print_classify(clf.metrics)
    console.print(f"report: {folder / 'report.html'}", soft_wrap=True)
    console.print(f"what it relies on and how long it remembers: lstmkit explain --run {folder}", soft_wrap=True)


def _print_classify(metrics):
    from ..report.classify import method_label

    test = metrics["test"]
    table = Table(title=f"test: {test['model']['n']} sequences, classes {', '.join(metrics['classes'])}")
    cols = ("accuracy", "balanced_accuracy", "macro_f1", "roc_auc", "pr_auc")
    table.add_column("method")
    for col in cols:
        table.add_column(col.replace("_", " "), justify="right")
    for name, m in test.items():
        cells = (f"{m[c]:.4f}" if m.get(c) is not None and math.isfinite(m[c]) else "" for c in cols)
        table.add_row(method_label(name, metrics.get("selection")), *cells)
    console.print(table)
    chosen = metrics["selection"]
    console.print(f"model: {chosen['chosen']}, chosen by {chosen['how']}", soft_wrap=True)
    for note in chosen["notes"]:
        console.print(f"  {note}", soft_wrap=True)
    seconds, epochs, kept = metrics["train_seconds"], metrics["epochs"], metrics["best_epoch"]
    if chosen["members"]:
        console.print(f"network: {chosen['members']} member(s), {seconds:.1f} s, epochs {epochs} (kept {kept})")
