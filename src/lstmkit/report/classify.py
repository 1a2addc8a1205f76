"""The classifier report: confusion matrix, ROC curves, example sequences, training curves."""

from __future__ import annotations

import html
import pathlib

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .render import save_figure, write_report

CLASSIFY_COLUMNS = ("accuracy", "balanced_accuracy", "macro_f1", "roc_auc", "pr_auc")


def _confusion_plot(cm, classes, path) -> str:
    cm = np.asarray(cm)
    share = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(1.2 * len(classes) + 2.5, 1.0 * len(classes) + 2))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for (r, c), v in np.ndenumerate(cm):
        ax.text(
            c,
            r,
            f"{v}\n{share[r, c]:.0%}",
            ha="center",
            va="center",
            fontsize=8,
            color="white" if share[r, c] > 0.6 else "black",
        )
    ax.set_xticks(range(len(classes)), classes)
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("actual class")
    ax.set_title("test confusion matrix (count, share of the actual class)", fontsize=9)
    return save_figure(fig, path)


def _roc_plot(roc: dict, path) -> str:
    """roc: class -> (false-positive rates, true-positive rates, AUC), as evaluate.roc_by_class."""
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    for c, (fpr, tpr, auc) in roc.items():
        ax.plot(fpr, tpr, lw=1.3, label=f"{c} (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], color="gray", ls="--", lw=0.8, label="chance")
    ax.set_xlabel("false-positive rate")
    ax.set_ylabel("true-positive rate")
    ax.set_title("ROC on test, one class against the rest", fontsize=9)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def _examples_plot(examples: list[dict], classes, path) -> str:
    per_class = {c: [e for e in examples if e["class"] == c] for c in classes}
    cols = max(len(v) for v in per_class.values())
    fig, axes = plt.subplots(
        len(classes), cols, figsize=(3.2 * cols, 1.9 * len(classes)), squeeze=False
    )
    for r, c in enumerate(classes):
        for k in range(cols):
            ax = axes[r][k]
            ax.set_xticks([])
            if k >= len(per_class[c]):
                ax.axis("off")
                continue
            e = per_class[c][k]
            ax.plot(e["values"], lw=1.0, color="black")
            top = int(np.argmax(e["proba"]))
            ok = classes[top] == c
            ax.set_title(
                f"actual {c} | P({c}) {e['proba'][classes.index(c)]:.2f}"
                + ("" if ok else f" | predicted {classes[top]}"),
                fontsize=8,
                color="black" if ok else "tab:red",
            )
    fig.tight_layout()
    return save_figure(fig, path)


def method_label(name: str, selection: dict | None = None) -> str:
    """A row's name for people; "model" says what was chosen (the network, a path, their fusion);
    the linear paths' names come with the run (metrics.json: selection.labels)."""
    labels = (selection or {}).get("labels", {})
    if name == "model" and selection:
        path = labels.get(selection["linear"], selection["linear"])
        w = selection["weight"]
        return "model: " + (
            path if w == 1 else "the network" if w == 0 else f"network + {path}, w = {w:g}"
        )
    return "network alone" if name == "network" else labels.get(name, name)


CRITERIA = {
    "loss": "log loss",
    "roc_auc": "minus ROC-AUC",
    "accuracy": "minus accuracy",
    "balanced_accuracy": "minus balanced accuracy",
}


def _selection_section(selection: dict) -> str:
    """How the model was chosen: every candidate's out-of-sample score, what won, what was
    dropped."""
    cols = ("criterion", "accuracy", "balanced_accuracy", "rows")
    rows = "".join(
        f"<tr><td>{html.escape(method_label(name, selection))}</td>"
        + "".join(
            f"<td>{v[k]:.4f}</td>" if isinstance(v.get(k), float) else f"<td>{v.get(k, '')}</td>"
            for k in cols
        )
        + "</tr>"
        for name, v in selection["judged"].items()
    )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in selection["notes"])
    criterion = html.escape(CRITERIA.get(selection["criterion"], selection["criterion"]))
    return f"""<h2>How the model was chosen</h2>
<p>Chosen: <b>{html.escape(selection["chosen"])}</b>, by {html.escape(selection["how"])}. Every
candidate below was scored on rows it had not been fitted on (lower criterion is better:
{criterion}; the linear paths on every row, the network and its fusions on
the rows it held out). The network enters only where it beats the best linear path beyond chance
(one-sided at 1%: a paired t test of the rows' log losses, or a paired bootstrap of another
criterion).</p>
<table><tr><th>candidate</th>{"".join(f"<th>{c}</th>" for c in cols)}</tr>{rows}</table>
{f"<ul>{notes}</ul>" if notes else ""}"""


def classify_report(folder, metrics: dict, examples: list, roc: dict, config: dict, title: str):
    """report.html of a classifier run. examples: classify/examples.py's pick; roc: the test ROC
    curves, class -> (false-positive rates, true-positive rates, AUC) (evaluate.roc_by_class)."""
    folder = pathlib.Path(folder)
    plots = folder / "plots"
    classes = metrics["classes"]
    test = metrics["test"]
    images = []
    if not metrics.get("multilabel"):
        images.append(
            (
                "Confusion matrix",
                _confusion_plot(
                    test["model"]["confusion_matrix"], classes, plots / "confusion.png"
                ),
            )
        )
        images.append(("ROC curves", _roc_plot(roc, plots / "roc.png")))
        if examples and "values" in examples[0]:
            images.append(
                (
                    "Example test sequences of each class, with the model's probability",
                    _examples_plot(examples, classes, plots / "examples.png"),
                )
            )
    hist = metrics.get("history") or {}
    if hist.get("val_loss"):
        fig, ax = plt.subplots(figsize=(7, 3.2))
        ax.plot(range(1, len(hist["train_loss"]) + 1), hist["train_loss"], label="train loss")
        ax.plot(
            range(len(hist["val_loss"])),
            hist["val_loss"],
            label=f"validation ({metrics.get('monitor')})",
        )
        best = metrics.get("best_epoch")
        ax.axvline(
            best[0] if isinstance(best, list) else best, color="gray", ls="--", lw=0.8, label="kept"
        )
        ax.set_xlabel("epoch")
        ax.legend(fontsize=8)
        ax.set_title("training curves (the first network)", fontsize=9)
        images.append(("Training", save_figure(fig, plots / "training.png")))
    selection = metrics.get("selection")
    rows = "".join(
        f"<tr><td>{html.escape(method_label(name, selection))}</td>"
        + "".join(
            f"<td>{m[k]:.4f}</td>" if m.get(k) is not None else "<td></td>"
            for k in CLASSIFY_COLUMNS
        )
        + "</tr>"
        for name, m in test.items()
    )
    smiles_rows = ""
    if examples and "smiles" in examples[0]:
        smiles_rows = (
            "<h2>Example test molecules</h2>"
            "<table><tr><th>actual</th><th>P(each class)</th><th>SMILES</th></tr>"
        )
        for e in examples:
            proba = ", ".join(f"{p:.2f}" for p in e["proba"])
            smiles_rows += f"<tr><td>{html.escape(e['class'])}</td><td>{proba}</td>"
            smiles_rows += f"<td><code>{html.escape(e['smiles'])}</code></td></tr>"
        smiles_rows += "</table>"
    split = metrics.get("split", {})
    facts = {
        "classes": ", ".join(classes),
        "rows (train / validation / test)": f"{split.get('train')} / {split.get('val')} / "
        f"{split.get('test')}"
        + (
            " (test: the given test file)"
            if split.get("given_test_file")
            else " (stratified, seeded)"
        ),
        "network training": f"{metrics.get('train_seconds', 0):.1f} s, epochs "
        f"{metrics.get('epochs')}, "
        f"kept {metrics.get('best_epoch')}",
        "criterion (early stopping, penalties, the choice)": metrics.get("monitor"),
    }
    for name, path in (metrics.get("paths") or {}).items():
        how = "per row, by leave-one-out" if path["classifier"] == "ridge" else "L2, by k-fold"
        facts[
            f"{method_label(name, selection)}: {path['classifier']} on {path['reads']}, penalty "
            f"({how})"
        ] = f"{path['penalty']:.3g}"
    if split.get("groups") is not None:
        what = (
            f"groups of {config['group_col']}"
            if config.get("group_col")
            else "Bemis-Murcko scaffolds"
            if config.get("split_by") == "scaffold"
            else "molecules"
        )
        facts["kept together in the split"] = f"{split['groups']} {what}"
    if selection and 0 < selection["weight"] < 1:
        w = selection["weight"]
        facts["fusion"] = (
            f"logits = {1 - w:g} x the network's log-probabilities + {w:g} x the "
            f"{method_label(selection['linear'], selection)}'s logits"
        )
    if metrics.get("vocabulary"):
        facts["SMILES vocabulary"] = (
            f"{metrics['vocabulary']} tokens; unknown in validation + test: "
            f"{metrics['unknown_tokens']}"
        )
    fact_rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in facts.items()
    )
    figs = "".join(
        f"<h3>{html.escape(t)}</h3><img src='{src}' alt='{html.escape(t)}'>" for t, src in images
    )
    columns = "".join(f"<th>{c}</th>" for c in CLASSIFY_COLUMNS)
    metrics_table = f"""<p>Test metrics of the model, the network alone and the baselines on the
same rows: the majority class (it predicts the training class frequencies), a logistic regression
on the raw values (sequences) or on character 1-4-gram counts (SMILES) and, for numeric sequences,
ridge classifiers on MiniRocket's random-convolution features (of the values, and of the values and
their first differences). Higher is better. Balanced accuracy is the mean recall over classes:
where classes are rare it, not accuracy, shows whether they are found.</p>
<table><tr><th>method</th>{columns}</tr>{rows}</table>"""
    settings = f"<h2>Settings</h2><pre>{html.escape(pd.Series(config).to_string())}</pre>"
    sections = [
        ("metrics", metrics_table),
        ("selection", _selection_section(selection) if selection else ""),
        ("run", f"<h2>Run</h2><table>{fact_rows}</table>"),
        ("plots", f"<h2>Plots</h2>{figs}{smiles_rows}"),
        ("settings", settings),
    ]
    return write_report(folder, title, sections)
