"""Plots and the HTML report of a run. Renders what the task computed; computes nothing itself.

Files: <run>/plots/*.png and <run>/report.html (self-contained but for the PNGs beside it).
"""

from __future__ import annotations

import html
import pathlib

import matplotlib

matplotlib.use("Agg")  # no screen: render to files
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .runs import atomic_write

__all__ = ["classify_report", "experiment_plot", "explain_section", "forecast_report"]

BASELINES = ("persistence", "seasonal_naive", "linear_ar")


def _save(fig, path: pathlib.Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png"))
    plt.close(fig)
    return f"plots/{path.name}"


def _forecast_plot(pred: pd.DataFrame, title: str, path, quantiles) -> str:
    fig, ax = plt.subplots(figsize=(11, 3.6))
    ax.plot(pred["time"], pred["actual"], color="black", lw=1.0, label="actual")
    ax.plot(pred["time"], pred["predicted"], color="tab:blue", lw=1.0, label="lstmkit")
    if len(quantiles) >= 2:
        lo, hi = f"q{quantiles[0]:g}", f"q{quantiles[-1]:g}"
        ax.fill_between(
            pred["time"],
            pred[lo],
            pred[hi],
            color="tab:blue",
            alpha=0.2,
            label=f"{quantiles[0]:g}-{quantiles[-1]:g} interval",
        )
    if "linear_ar" in pred:
        ax.plot(pred["time"], pred["linear_ar"], color="tab:orange", lw=0.8, alpha=0.8, label="linear AR")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=8)
    fig.autofmt_xdate()
    return _save(fig, path)


def forecast_report(folder, metrics: dict, predictions: pd.DataFrame, config: dict, title: str) -> pathlib.Path:
    folder = pathlib.Path(folder)
    plots = folder / "plots"
    quantiles = config.get("quantiles") or []
    step1 = predictions[predictions["step"] == 1]
    first = step1[step1["series"] == step1["series"].iloc[0]]
    images = [
        (
            "Test period, one step ahead: " + str(first["series"].iloc[0]),
            _forecast_plot(first, "test period (step 1)", plots / "test_forecast.png", quantiles),
        ),
        (
            "A zoomed week",
            _forecast_plot(
                first.iloc[: 7 * 24] if len(first) > 7 * 24 else first,
                "first week of the test period",
                plots / "test_week.png",
                quantiles,
            ),
        ),
    ]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.2))
    resid = step1["actual"] - step1["predicted"]
    a1.plot(step1["time"], resid, lw=0.6)
    a1.axhline(0, color="black", lw=0.6)
    a1.set_title("residuals over time (actual - predicted)")
    a2.hist(resid, bins=60, color="tab:blue", alpha=0.8)
    a2.set_title("residual distribution")
    fig.autofmt_xdate()
    images.append(("Residuals", _save(fig, plots / "residuals.png")))
    hist = metrics.get("history", {})
    if hist.get("val_loss"):
        fig, ax = plt.subplots(figsize=(7, 3.2))
        ax.plot(range(1, len(hist["train_loss"]) + 1), hist["train_loss"], label="train")
        ax.plot(range(len(hist["val_loss"])), hist["val_loss"], label="validation (epoch 0: the linear AR)")
        ax.axvline(metrics.get("best_epoch", 0), color="gray", ls="--", lw=0.8, label="best epoch (kept)")
        ax.set_xlabel("epoch")
        ax.set_yscale("log")
        ax.legend(fontsize=8)
        ax.set_title("training curves (scaled units)")
        images.append(("Training", _save(fig, plots / "training.png")))
    per_step = metrics.get("test_per_step", [])
    if len(per_step) > 1:
        fig, ax = plt.subplots(figsize=(7, 3.2))
        ax.plot(range(1, len(per_step) + 1), [m["rmse"] for m in per_step], marker="o", ms=3)
        ax.set_xlabel("horizon step")
        ax.set_ylabel("test RMSE")
        ax.set_title("error by horizon step")
        images.append(("By horizon step", _save(fig, plots / "per_step.png")))

    test = metrics["test"]
    pers = test["persistence"]["rmse"]
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td>"
        + "".join(f"<td>{test[name][k]:.4g}</td>" for k in ("rmse", "mae", "mape", "mase"))
        + f"<td>{test[name]['rmse'] / pers:.3f}</td></tr>"
        for name in ("model", *BASELINES)
    )
    data = metrics.get("data", {})
    facts = {
        "training time": f"{metrics.get('train_seconds', 0):.1f} s, {metrics.get('epochs')} epochs, "
        f"best {metrics.get('best_epoch')}",
        "scheme": metrics.get("scheme"),
        "AR lag order (chosen on validation)": metrics.get("ar_order"),
        "season": metrics.get("season"),
        "frequency": data.get("freq"),
        "series": ", ".join(map(str, data.get("series", []))),
        "gaps interpolated (target values)": data.get("filled"),
        "series split at long gaps": data.get("long_gap_splits"),
        "covariates skipped": "; ".join(f"{k}: {v}" for k, v in data.get("covariates_skipped", {}).items()) or "none",
        "validation from": metrics.get("split", {}).get("val_start"),
        "test from": metrics.get("split", {}).get("test_start"),
    }
    if "interval" in metrics:
        iv = metrics["interval"]
        facts["interval coverage on test"] = f"{iv['coverage']:.3f} (nominal {iv['nominal']:.2f})"
    fact_rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in facts.items())
    figs = "".join(f"<h3>{html.escape(t)}</h3><img src='{src}' alt='{html.escape(t)}'>" for t, src in images)
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}
img{{max-width:100%}}</style></head><body>
<h1>{html.escape(title)}</h1>
<p>Test-period metrics in the target's units, on the same forecast origins for every method.
Lower is better; the last column is RMSE relative to persistence (the last value repeated).</p>
<table><tr><th>method</th><th>RMSE</th><th>MAE</th><th>MAPE %</th><th>MASE</th>
<th>RMSE / persistence</th></tr>{rows}</table>
<h2>Run</h2><table>{fact_rows}</table>
<h2>Plots</h2>{figs}
<h2>Settings</h2><pre>{html.escape(pd.Series(config).to_string())}</pre>
</body></html>"""
    path = folder / "report.html"
    atomic_write(path, lambda tmp: pathlib.Path(tmp).write_text(page))
    return path


def experiment_plot(results: list[dict], path) -> str:
    """Learning curves: the test metric against training steps, one panel per (task, length),
    one line per cell (mean over seeds), the trivial baseline dashed."""
    panels = sorted({(r["task"], r["length"]) for r in results})
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4), squeeze=False)
    colors = plt.get_cmap("tab20").colors
    for ax, (task, length) in zip(axes[0], panels, strict=True):
        mine = [r for r in results if (r["task"], r["length"]) == (task, length)]
        for k, cell in enumerate(dict.fromkeys(r["cell"] for r in mine)):
            curves = [r["curve"] for r in mine if r["cell"] == cell]
            steps = sorted({s for c in curves for s, _ in c})
            # A run stopped once solved keeps its last value from then on.
            held = [[dict(c).get(s, c[-1][1]) if s > c[-1][0] else dict(c)[s] for s in steps] for c in curves]
            mean = [sum(v[j] for v in held) / len(held) for j in range(len(steps))]
            ax.plot(steps, mean, label=cell, lw=1.4, color=colors[(2 * k) % 20 if k < 10 else (2 * k + 1) % 20])
        ax.axhline(mine[0]["baseline"], color="black", ls="--", lw=0.8, label="trivial baseline")
        ax.set_title(f"{task}, length {length} (mean of seeds; stopped runs held at their last value)", fontsize=9)
        ax.set_xlabel("training step")
        ax.set_ylabel(mine[0]["metric"])
        if mine[0]["metric"] in ("mse", "xent"):
            ax.set_yscale("log")
        ax.legend(fontsize=7, ncol=2)
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png"))
    plt.close(fig)
    return str(path)


# ---- classification -----------------------------------------------------------------------

CLASSIFY_COLUMNS = ("accuracy", "balanced_accuracy", "macro_f1", "roc_auc", "pr_auc")


def _page(title: str, body: str) -> str:
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}
img{{max-width:100%}} code{{font-size:90%}}</style></head><body>
<h1>{html.escape(title)}</h1>{body}</body></html>"""


def _confusion_plot(cm, classes, path) -> str:
    cm = np.asarray(cm)
    share = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(1.2 * len(classes) + 2.5, 1.0 * len(classes) + 2))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for (r, c), v in np.ndenumerate(cm):
        ax.text(c, r, f"{v}\n{share[r, c]:.0%}", ha="center", va="center", fontsize=8,
                color="white" if share[r, c] > 0.6 else "black")  # fmt: skip
    ax.set_xticks(range(len(classes)), classes)
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("actual class")
    ax.set_title("test confusion matrix (count, share of the actual class)", fontsize=9)
    return _save(fig, path)


def _roc_plot(predictions: pd.DataFrame, classes, path) -> str:
    from .evaluate import roc_auc, roc_curve

    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    actual = predictions["actual"].astype(str).to_numpy()
    shown = classes[1:] if len(classes) == 2 else classes  # binary: one curve, the positive class
    for c in shown:
        y, score = actual == c, predictions[f"p_{c}"].to_numpy()
        if y.any() and (~y).any():
            fpr, tpr = roc_curve(y, score)
            ax.plot(fpr, tpr, lw=1.3, label=f"{c} (AUC {roc_auc(y, score):.3f})")
    ax.plot([0, 1], [0, 1], color="gray", ls="--", lw=0.8, label="chance")
    ax.set_xlabel("false-positive rate")
    ax.set_ylabel("true-positive rate")
    ax.set_title("ROC on test, one class against the rest", fontsize=9)
    ax.legend(fontsize=8)
    return _save(fig, path)


def _examples_plot(examples: list[dict], classes, path) -> str:
    per_class = {c: [e for e in examples if e["class"] == c] for c in classes}
    cols = max(len(v) for v in per_class.values())
    fig, axes = plt.subplots(len(classes), cols, figsize=(3.2 * cols, 1.9 * len(classes)), squeeze=False)
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
            ax.set_title(f"actual {c} | P({c}) {e['proba'][classes.index(c)]:.2f}"
                         + ("" if ok else f" | predicted {classes[top]}"),
                         fontsize=8, color="black" if ok else "tab:red")  # fmt: skip
    fig.tight_layout()
    return _save(fig, path)


def classify_report(folder, metrics: dict, predictions: pd.DataFrame, examples: list, config: dict, title: str):
    folder = pathlib.Path(folder)
    plots = folder / "plots"
    classes = metrics["classes"]
    test = metrics["test"]
    images = []
    if not metrics.get("multilabel"):
        images.append(("Confusion matrix", _confusion_plot(test["model"]["confusion_matrix"], classes,
                                                           plots / "confusion.png")))  # fmt: skip
        images.append(("ROC curves", _roc_plot(predictions, classes, plots / "roc.png")))
        if examples and "values" in examples[0]:
            images.append(("Example test sequences of each class, with the model's probability",
                           _examples_plot(examples, classes, plots / "examples.png")))  # fmt: skip
    hist = metrics.get("history", {})
    if hist.get("val_loss"):
        fig, ax = plt.subplots(figsize=(7, 3.2))
        ax.plot(range(1, len(hist["train_loss"]) + 1), hist["train_loss"], label="train loss")
        ax.plot(range(len(hist["val_loss"])), hist["val_loss"], label=f"validation ({metrics.get('monitor')})")
        best = metrics.get("best_epoch")
        ax.axvline(best[0] if isinstance(best, list) else best, color="gray", ls="--", lw=0.8, label="kept")
        ax.set_xlabel("epoch")
        ax.legend(fontsize=8)
        ax.set_title("training curves (first ensemble member)", fontsize=9)
        images.append(("Training", _save(fig, plots / "training.png")))
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td>"
        + "".join(f"<td>{m[k]:.4f}</td>" if m.get(k) is not None else "<td></td>" for k in CLASSIFY_COLUMNS)
        + "</tr>"
        for name, m in test.items()
    )
    smiles_rows = ""
    if examples and "smiles" in examples[0]:
        smiles_rows = (
            "<h2>Example test molecules</h2><table><tr><th>actual</th><th>P(each class)</th><th>SMILES</th></tr>"
        )
        smiles_rows += (
            "".join(
                f"<tr><td>{html.escape(e['class'])}</td><td>{', '.join(f'{p:.2f}' for p in e['proba'])}</td>"
                f"<td><code>{html.escape(e['smiles'])}</code></td></tr>"
                for e in examples
            )
            + "</table>"
        )
    split = metrics.get("split", {})
    facts = {
        "classes": ", ".join(classes),
        "rows (train / validation / test)": f"{split.get('train')} / {split.get('val')} / {split.get('test')}"
        + (" (test: the given test file)" if split.get("given_test_file") else " (stratified, seeded)"),
        "training time": f"{metrics.get('train_seconds', 0):.1f} s, epochs {metrics.get('epochs')}, "
        f"kept {metrics.get('best_epoch')}",
        "early stopping on": metrics.get("monitor"),
        "logistic L2 (chosen on validation)": metrics.get("logistic_l2"),
    }
    if metrics.get("vocabulary"):
        facts["SMILES vocabulary"] = (
            f"{metrics['vocabulary']} tokens; unknown in validation + test: {metrics['unknown_tokens']}"
        )
    fact_rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in facts.items())
    figs = "".join(f"<h3>{html.escape(t)}</h3><img src='{src}' alt='{html.escape(t)}'>" for t, src in images)
    body = f"""<p>Test metrics of the model and two baselines on the same rows: the majority class (it
predicts the training class frequencies), and a logistic regression on the raw values (sequences) or
on character 1-4-gram counts (SMILES). Higher is better. Balanced accuracy is the mean recall over
classes: where classes are rare it, not accuracy, shows whether they are found.</p>
<table><tr><th>method</th>{"".join(f"<th>{c}</th>" for c in CLASSIFY_COLUMNS)}</tr>{rows}</table>
<h2>Run</h2><table>{fact_rows}</table>
<h2>Plots</h2>{figs}{smiles_rows}
<h2>Settings</h2><pre>{html.escape(pd.Series(config).to_string())}</pre>"""
    path = folder / "report.html"
    atomic_write(path, lambda tmp: pathlib.Path(tmp).write_text(_page(title, body)))
    return path


# ---- explain ------------------------------------------------------------------------------------

GATE_TITLES = {"i": "input gate i", "f": "forget gate f", "g": "candidate g", "o": "output gate o",
               "c": "cell state c", "h": "hidden state h", "r": "reset gate r", "z": "update gate z",
               "n": "candidate n"}  # fmt: skip


def _explain_gates(result: dict, arrays: dict, path) -> str:
    trace = {k: v for k, v in arrays["trace"].items() if k in GATE_TITLES}
    names = [k for k in GATE_TITLES if k in trace]
    units = result["layers"][0]["units"]
    order = np.argsort([-(u["forget_mean"] or 0) for u in units])  # longest memory on top
    stride = arrays.get("stride", 1)
    fig, axes = plt.subplots(len(names) + 1, 1, figsize=(11, 1.2 + 1.55 * len(names)), sharex=True)
    inp = arrays.get("input")
    L = len(result["attribution"]["per_step"])
    ax = axes[0]
    if inp is not None:
        ax.plot(np.arange(L) + 0.5, inp[:, 0], color="black", lw=1.0)
    else:
        ax.set_yticks([])
        for s, tok in enumerate(result["example"].get("tokens") or []):
            ax.text(s + 0.5, 0.5, tok, ha="center", va="center", fontsize=7, rotation=90)
    ax.set_title("input (top), then each gate and state of layer 1, forward direction: units (sorted by mean "
                 "forget gate, longest memory on top) x time", fontsize=9)  # fmt: skip
    for ax, name in zip(axes[1:], names, strict=True):
        v = trace[name][0][:, order].T  # (H, L')
        lo, hi = (0, 1) if name in "ifozr" else (-np.abs(v).max() or 1, np.abs(v).max() or 1)
        cmap = "viridis" if name in "ifozr" else "RdBu_r"
        im = ax.imshow(v, aspect="auto", cmap=cmap, vmin=lo, vmax=hi, extent=(0, v.shape[1] * stride, len(order), 0),
                       interpolation="nearest")  # fmt: skip
        ax.set_ylabel(name, rotation=0, labelpad=12)
        ax.set_yticks([])
        fig.colorbar(im, ax=ax, pad=0.01, fraction=0.02)
    axes[-1].set_xlabel("time step" + (f" (each trace column covers {stride} input steps)" if stride > 1 else ""))
    _time_ticks(axes[-1], arrays.get("times"))
    fig.tight_layout()
    top, below = axes[0].get_position(), axes[1].get_position()
    axes[0].set_position([top.x0, top.y0, below.width, top.height])  # align with the heat maps' colorbar-narrowed width
    return _save(fig, path)


def _time_ticks(ax, times) -> None:
    """Label a few steps with their timestamps (forecasts)."""
    if not times:
        return
    picks = np.linspace(0, len(times) - 1, min(7, len(times))).round().astype(int)
    ax.set_xticks(picks + 0.5, [str(pd.Timestamp(times[k]).strftime("%m-%d %H:%M")) for k in picks], fontsize=8)


def _explain_attribution(result: dict, arrays: dict, path) -> str:
    att = result["attribution"]
    per_step = np.array(att["per_step"])
    L = len(per_step)
    occ = np.array(att["occlusion"]["delta"])
    w = att["occlusion"]["window"]
    tokens = result["example"].get("tokens")
    features = att.get("per_feature") or att.get("per_channel")
    wide = features and len(features) > 1
    fig, axes = plt.subplots(1, 2 if wide else 1, figsize=(13 if wide else 11, 3.6), squeeze=False,
                             gridspec_kw={"width_ratios": [3, 1]} if wide else None)  # fmt: skip
    ax = axes[0][0]
    colors = np.where(per_step >= 0, "tab:red", "tab:blue")
    ax.bar(np.arange(L), per_step, color=colors, width=0.9, label="integrated gradients")
    occ_steps = np.repeat(occ, w)[:L] / w
    ax.step(np.arange(L), occ_steps, where="mid", color="black", lw=0.8, label=f"occlusion (per step, window {w})")
    ax.axhline(0, color="gray", lw=0.5)
    if tokens:
        ax.set_xticks(range(L), tokens, fontsize=7, rotation=90)
    inp = arrays.get("input")
    if inp is not None:
        twin = ax.twinx()
        twin.plot(np.arange(L), inp[:, 0], color="gray", lw=0.8, alpha=0.7)
        twin.set_ylabel("input", color="gray")
    ax.set_title(f"what moved {att['output']}: red raises it, blue lowers it", fontsize=9)
    ax.set_xlabel("time step (oldest left)" if result["kind"] == "forecast" else "step")
    if not tokens:
        _time_ticks(ax, arrays.get("times"))
    ax.legend(fontsize=8, loc="upper left")
    if wide:
        ax2 = axes[0][1]
        items = sorted(features.items(), key=lambda kv: abs(kv[1]))
        ax2.barh([k for k, _ in items], [v for _, v in items], color=["tab:red" if v >= 0 else "tab:blue"
                                                                     for _, v in items])  # fmt: skip
        ax2.set_title("by input", fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def _explain_units(result: dict, path) -> str:
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.2))
    for layer in result["layers"]:
        f = [u["forget_mean"] for u in layer["units"] if u["forget_mean"] is not None]
        if not f:
            continue
        label = f"layer {layer['layer'] + 1}" + (" backward" if layer["direction"] else "")
        a1.plot(sorted(f, reverse=True), marker="o", ms=2.5, lw=0.8, label=label)
        lives = np.array([u["half_life"] if u["half_life"] is not None else np.inf for u in layer["units"]])
        lives = np.clip(lives[np.isfinite(lives)], 0.1, None)
        if len(lives):
            a2.hist(lives, bins=np.logspace(-1, max(1, np.log10(lives.max()) + 0.1), 30), alpha=0.6, label=label)
    a1.set_title("mean forget gate per unit (sorted)", fontsize=9)
    a1.set_xlabel("unit")
    a1.set_ylim(0, 1)
    a2.set_xscale("log")
    a2.set_title("memory half-life ln 0.5 / ln f (steps)", fontsize=9)
    for ax in (a1, a2):
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path)


def explain_section(folder, result: dict, arrays: dict) -> pathlib.Path:
    """Plots of an explanation and an Explain section in the run's report.html (replacing an
    earlier one). Renders explain.json's content; computes nothing."""
    folder = pathlib.Path(folder)
    plots = folder / "plots"
    images = [
        ("What moved the output", _explain_attribution(result, arrays, plots / "explain_attribution.png")),
        ("Gates and states over time", _explain_gates(result, arrays, plots / "explain_gates.png")),
        ("Memory of each unit over the test data", _explain_units(result, plots / "explain_units.png")),
    ]
    att = result["attribution"]
    summary = "".join(f"<p>{html.escape(s)}</p>" for s in result["summary"])
    figs = "".join(f"<h3>{html.escape(t)}</h3><img src='{src}' alt='{html.escape(t)}'>" for t, src in images)
    note = (f"Integrated gradients ({att['steps']} steps) from a baseline of {html.escape(att['baseline'])}: the "
            f"attributions add up to the change of {html.escape(att['output'])} from the baseline "
            f"({att['f_baseline']:.4g}) to the input ({att['f_x']:.4g}) within {att['completeness_error']:.2%}. "
            "Occlusion: how much the output drops when a window of steps is set to the baseline. Gate values run "
            "from 0 (closed) to 1 (open); a forget gate near 1 keeps the cell, and its mean f gives the half-life "
            "ln 0.5 / ln f: the steps until a unit keeps half of what it holds.")  # fmt: skip
    section = (f"<section id='explain'><h2>Explain</h2>{summary}<p><small>{note}</small></p>{figs}"
               f"<p>Data: explain.json (every unit's forget_mean and half_life, the attribution of every step)."
               f"</p></section>")  # fmt: skip
    path = folder / "report.html"
    page = path.read_text() if path.exists() else _page("lstmkit explain", "")
    start, end = page.find("<section id='explain'>"), page.find("</section>")
    if start >= 0 and end > start:
        page = page[:start] + section + page[end + len("</section>") :]
    else:
        cut = page.find("<h2>Settings</h2>")
        cut = cut if cut >= 0 else page.rfind("</body>")
        page = page[:cut] + section + page[cut:]
    atomic_write(path, lambda tmp: pathlib.Path(tmp).write_text(page))
    return path
