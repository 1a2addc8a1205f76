"""The forecast report: test forecasts against actuals, residuals, training curves."""

from __future__ import annotations

import html
import pathlib

import matplotlib.pyplot as plt
import pandas as pd

from .render import save_figure, write_report

BASELINES = ("persistence", "seasonal_naive", "linear_ar")
CLASSICAL = ("auto_ets", "auto_theta", "auto_arima", "mstl")  # statistical.MODELS, where fitted
NAMES = {
    "persistence": "persistence",
    "seasonal_naive": "seasonal naive",
    "linear_ar": "linear AR",
    "auto_ets": "AutoETS",
    "auto_theta": "AutoTheta",
    "auto_arima": "AutoARIMA",
    "mstl": "MSTL",
    "combination": "combination",
}


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
        ax.plot(
            pred["time"],
            pred["linear_ar"],
            color="tab:orange",
            lw=0.8,
            alpha=0.8,
            label="linear AR",
        )
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=8)
    fig.autofmt_xdate()
    return save_figure(fig, path)


def forecast_paths(
    rows: pd.DataFrame, freq: str | None, span: int = 7 * 24, most: int = 8
) -> list[pd.DataFrame]:
    """One series' test forecasts, regrouped by origin: the whole H-step forecast made at each of
    the first origins spaced H steps apart (so that the paths tile the time axis), at most `most`
    of them and within `span` steps of the first. rows: predictions.csv's rows of one series."""
    horizon = int(rows["step"].max())
    if horizon < 2 or freq is None:
        return []
    offset = pd.tseries.frequencies.to_offset(freq)
    times = pd.to_datetime(rows["time"])
    origin = pd.Series(pd.NaT, index=rows.index, dtype=times.dtype)
    for h, idx in rows.groupby("step").groups.items():
        origin[idx] = times[idx] - int(h) * offset
    starts = sorted(origin[rows["step"] == 1].unique())[:span:horizon][:most]
    paths = [rows[origin == o].sort_values("step") for o in starts]
    # an origin whose later steps left the test period: none
    return [p for p in paths if len(p) == horizon]


def _paths_plot(rows: pd.DataFrame, paths: list[pd.DataFrame], quantiles, plots) -> str:
    fig, ax = plt.subplots(figsize=(11, 3.6))
    start, end = paths[0]["time"].min(), max(p["time"].max() for p in paths)
    # one actual per time, whichever step saw it
    seen = rows.drop_duplicates("time").sort_values("time")
    seen = seen[(seen["time"] >= start) & (seen["time"] <= end)]
    ax.plot(seen["time"], seen["actual"], color="black", lw=1.0, label="actual")
    for k, p in enumerate(paths):
        first = k == 0
        ax.plot(
            p["time"], p["predicted"], color="tab:blue", lw=1.2, label="lstmkit" if first else None
        )
        ax.plot(
            p["time"],
            p["linear_ar"],
            color="tab:orange",
            lw=0.8,
            label="linear AR" if first else None,
        )
        if len(quantiles) >= 2:
            lo, hi = f"q{quantiles[0]:g}", f"q{quantiles[-1]:g}"
            ax.fill_between(
                p["time"],
                p[lo],
                p[hi],
                color="tab:blue",
                alpha=0.2,
                label=f"{quantiles[0]:g}-{quantiles[-1]:g} interval" if first else None,
            )
        ax.axvline(p["time"].iloc[0], color="gray", lw=0.5, ls=":")
    ax.set_title(
        f"{len(paths)} forecasts of {len(paths[0])} steps each (dotted: each one's first step)"
    )
    ax.legend(loc="upper right", fontsize=8)
    fig.autofmt_xdate()
    return save_figure(fig, plots / "paths.png")


def forecast_report(
    folder, metrics: dict, predictions: pd.DataFrame, config: dict, title: str, by_step=None
) -> pathlib.Path:
    """report.html of a forecast run. by_step: test RMSE per horizon step (rows) of the model
    ("predicted") and each baseline (columns), as evaluate.rmse_by_step computes it."""
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
    images.append(("Residuals", save_figure(fig, plots / "residuals.png")))
    hist = metrics.get("history", {})
    if hist.get("val_loss"):
        fig, ax = plt.subplots(figsize=(7, 3.2))
        ax.plot(range(1, len(hist["train_loss"]) + 1), hist["train_loss"], label="train")
        ax.plot(
            range(len(hist["val_loss"])),
            hist["val_loss"],
            label="validation (epoch 0: the linear AR)",
        )
        ax.axvline(
            metrics.get("best_epoch", 0), color="gray", ls="--", lw=0.8, label="best epoch (kept)"
        )
        ax.set_xlabel("epoch")
        # a constant series trains to a loss of exactly 0
        if min(hist["train_loss"] + hist["val_loss"]) > 0:
            ax.set_yscale("log")
        ax.legend(fontsize=8)
        ax.set_title("training curves (scaled units)")
        images.append(("Training", save_figure(fig, plots / "training.png")))
    if by_step is not None and len(by_step) > 1:
        table = by_step
        fig, ax = plt.subplots(figsize=(7, 3.4))
        ax.plot(
            table.index, table["predicted"], color="tab:blue", marker="o", ms=3, label="lstmkit"
        )
        for name, color in zip(BASELINES, ("gray", "tab:green", "tab:orange"), strict=True):
            ax.plot(table.index, table[name], color=color, lw=1.0, label=NAMES[name])
        for name, color in zip(
            CLASSICAL, ("tab:red", "tab:purple", "tab:brown", "tab:pink"), strict=True
        ):
            if name in table:
                ax.plot(table.index, table[name], color=color, lw=0.8, ls="--", label=NAMES[name])
        ax.set_xlabel("horizon step")
        ax.set_ylabel("test RMSE")
        ax.set_title("error by horizon step, model and baselines")
        ax.legend(fontsize=8)
        images.append(("By horizon step", save_figure(fig, plots / "per_step.png")))
        # every step, the first series
        one = predictions[predictions["series"] == first["series"].iloc[0]]
        paths = forecast_paths(one, metrics.get("data", {}).get("freq"))
        if paths:
            images.append(
                ("Whole forecasts from a few origins", _paths_plot(one, paths, quantiles, plots))
            )

    test = metrics["test"]
    pers = test["persistence"]["rmse"]
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td>"
        + "".join(f"<td>{test[name][k]:.4g}</td>" for k in ("rmse", "mae", "mape", "mase"))
        + f"<td>{ratio(test[name]['rmse'], pers)}</td></tr>"
        for name in test
    )
    data = metrics.get("data", {})
    facts = {
        "training time": f"{metrics.get('train_seconds', 0):.1f} s, {metrics.get('epochs')} "
        "epochs, "
        f"best {metrics.get('best_epoch')}",
        "scheme": metrics.get("scheme"),
        "AR lag order and form (chosen on validation)": f"{metrics.get('ar_order')}, "
        f"{metrics.get('ar_form', 'levels')}",
        "unit root (ADF with the calendar, median t over series)": _unit_root(
            metrics.get("unit_root")
        ),
        "the AR in the model": combination_words(metrics.get("ar_combination")) or "as fitted",
        "the base the LSTM corrects": base_words(metrics.get("base")) or "the AR",
        "statistical models": classical_words(metrics.get("classical")),
        "LSTM correction of the base": lstm_verdict(metrics.get("lstm")) or "kept",
        "season": metrics.get("season"),
        "frequency": data.get("freq"),
        "series": ", ".join(map(str, data.get("series", []))),
        "gaps interpolated (target values)": data.get("filled"),
        "series split at long gaps": data.get("long_gap_splits"),
        "series left out (no target value at all)": ", ".join(data.get("series_without_target", []))
        or "none",
        "covariates skipped": "; ".join(
            f"{k}: {v}" for k, v in data.get("covariates_skipped", {}).items()
        )
        or "none",
        "validation from": metrics.get("split", {}).get("val_start"),
        "test from": metrics.get("split", {}).get("test_start"),
    }
    if "interval" in metrics:
        iv = metrics["interval"]
        how = (
            "conformal, adaptive"
            if iv.get("conformal", {}).get("calibrated")
            else "the quantile heads"
        )
        width, winkler = iv.get("width", float("nan")), iv.get("winkler", float("nan"))
        facts[f"interval on test ({how})"] = (
            f"coverage {iv['coverage']:.3f} (nominal {iv['nominal']:.2f}), "
            f"mean width {width:.4g}, Winkler {winkler:.4g}"
        )
        if iv.get("heads"):
            facts["the quantile heads' own interval"] = f"coverage {iv['heads']['coverage']:.3f}"
        if len(iv.get("per_step", [])) > 1:
            facts["coverage by horizon step"] = ", ".join(
                f"{s['coverage']:.2f}" for s in iv["per_step"]
            )
    fact_rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in facts.items()
    )
    figs = "".join(
        f"<h3>{html.escape(t)}</h3><img src='{src}' alt='{html.escape(t)}'>" for t, src in images
    )
    metrics_table = f"""<p>Test-period metrics in the target's units, on the same forecast origins
for every method. Lower is better; the last column is RMSE relative to persistence (the last value
repeated).</p>
<table><tr><th>method</th><th>RMSE</th><th>MAE</th><th>MAPE %</th><th>MASE</th>
<th>RMSE / persistence</th></tr>{rows}</table>"""
    settings = f"<h2>Settings</h2><pre>{html.escape(pd.Series(config).to_string())}</pre>"
    sections = [
        ("metrics", metrics_table),
        ("run", f"<h2>Run</h2><table>{fact_rows}</table>"),
        ("plots", f"<h2>Plots</h2>{figs}"),
        ("settings", settings),
    ]
    return write_report(folder, title, sections)


def classical_words(classical: dict | None) -> str:
    """The statistical models fitted (and their fitting time), and those left out with why."""
    if not classical:
        return "not fitted (--statistical off)"
    fitted = ", ".join(
        f"{NAMES[m]} ({classical['seconds'].get(m, 0):.1f} s)" for m in classical["models"]
    )
    skipped = "; ".join(
        f"{NAMES.get(m, m)} left out: {why}" for m, why in classical.get("skipped", {}).items()
    )
    return "; ".join(
        part
        for part in (fitted and f"fitted on each series' training part: {fitted}", skipped)
        if part
    )


def _unit_root(u) -> str:
    if not u or u.get("adf") is None:
        return "not tested (series too short)"
    verdict = "not rejected: the AR prefers differences" if u["integrated"] else "rejected"
    return f"t = {u['adf']:.2f}, {verdict}"


def ratio(value: float, reference: float) -> str:
    """value / reference to 3 decimals; "-" where the reference is 0 (a constant test period, which
    persistence forecasts exactly)."""
    return f"{value / reference:.3f}" if reference else "-"


def combination_words(combination: dict | None) -> str | None:
    """The AR averaged with seasonal naive (linear/autoregression.combine_seasonal), in words."""
    if not combination:
        return None
    w = round(combination["weight"], 2)  # so that the two shown add to 1
    return (
        f"averaged with seasonal naive, weights {w:.2f} / {1 - w:.2f} from their validation errors "
        f"({combination['val_origins']} validation origins are too few to choose on)"
    )


def lstm_verdict(lstm: dict | None) -> str | None:
    """What the correction test decided, in words (the command's line and the report say the same);
    None for a run saved before the gate existed."""
    if not lstm:
        return None
    groups = lstm.get("groups")
    if not lstm.get("enough_origins", True) and lstm["gate"] == "test":
        n = lstm["val_origins"]
        return f"dropped: {n} validation origins are too few to tell, so the model is the base"
    if groups and len(groups) > 1:  # judged per group of horizon steps
        parts = []
        for g in groups:
            lo, hi = g["steps"]
            steps = f"steps {lo}-{hi}" if hi > lo else f"step {lo}"
            ratio = "n/a" if g["val_mse_ratio"] is None else f"{g['val_mse_ratio']:.3f}x"
            parts.append(
                f"{steps} {'kept' if g['kept'] else 'dropped'} ({ratio}, t {g['dm_t']:.2f})"
            )
        return "judged per step group on validation: " + "; ".join(parts)
    t = (
        lstm["dm_t"]
        if lstm.get("dm_t") is not None
        else (groups[0]["dm_t"] if groups else float("nan"))
    )
    ratio = "n/a" if lstm["val_mse_ratio"] is None else f"{lstm['val_mse_ratio']:.3f}x"
    if lstm["kept"]:
        how = f"Diebold-Mariano t {t:.2f}" if lstm["gate"] == "test" else "--correction-test off"
        return f"kept (validation MSE {ratio} the base's, {how})"
    if not lstm.get("enough_origins", True):
        why = f"but {lstm['val_origins']} validation origins are too few to tell"
    else:
        why = f"within chance (t {t:.2f}, {lstm['val_origins']} origins)"
    return f"dropped: validation MSE {ratio} the base's, {why}, so the model is the base"


def base_words(base: dict | None) -> str | None:
    """Which base the LSTM corrects and why, in words; None without statistical models."""
    if not base:
        return None
    label = lambda n: NAMES.get(n, n)  # noqa: E731
    if base["name"] == "combination":
        parts = ", ".join(
            f"{label(n)} {w:.2f}" for n, w in sorted(base["weights"].items(), key=lambda kv: -kv[1])
        )
        what = f"the combination ({parts})"
    else:
        what = label(base["name"])
    why = base.get("rule", "")
    if base.get("dm_t") is not None:
        why += f" (Diebold-Mariano t {base['dm_t']:.2f}"
        why += f", best challenger {label(base['challenger'])})" if base.get("challenger") else ")"
    mse = ", ".join(
        f"{label(n)} {v:.4g}" for n, v in sorted(base["val_mse"].items(), key=lambda kv: kv[1])
    )
    origins = base.get("val_origins")
    return f"base: {what}: {why}; validation MSE {mse} (scaled units, {origins} origins)"
