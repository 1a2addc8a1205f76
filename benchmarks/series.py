"""Any series a user brings: the default forecaster against its three baselines on series of many
kinds, so that "beats naive baselines and a linear AR" is checked beyond the temperatures it was
tuned on.

    python benchmarks/series.py                  # -> benchmarks/results/series.json
    python benchmarks/series.py --quick          # the synthetic kinds only

Eight synthetic kinds, each drawn with its own seed (a trending seasonal monthly series like the
airline passengers, daily minimum temperatures, a sunspot-like cycle, a drifting random walk,
half-hourly load with daily and weekly cycles, white noise, an hourly series with a downward trend,
a short weekly series), then the embedded series other than the default, at horizons 1 and 12
(24 for hourly data). Each row: test RMSE of the model over the best baseline, over the linear AR
and over persistence; the AR's order and form; its weight where it is averaged with seasonal naive
(too few validation origins to choose on); whether the LSTM's correction was kept; and the same
with `correction_test="off"` (the model as early stopping left it). One intra-op thread.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np
import pandas as pd
import torch
from rich.console import Console
from rich.table import Table

from lstmkit.bench import write_results
from lstmkit.forecast.estimator import Forecaster

HERE = os.path.dirname(os.path.abspath(__file__))


def _ar1(rng, n: int, phi: float, sd: float) -> np.ndarray:
    e, x = rng.normal(0, sd, n), np.zeros(n)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + e[t]
    return x


def synthetic_kinds() -> dict[str, tuple[str, np.ndarray]]:
    """name -> (pandas frequency, values); each kind from its own seed."""
    out = {}
    rng = np.random.default_rng(1)
    t = np.arange(144)
    out["trend x season, monthly (144)"] = (
        "MS",
        100 * np.exp(0.01 * t) * (1 + 0.2 * np.sin(2 * np.pi * t / 12)) + rng.normal(0, 3, 144),
    )
    rng, t = np.random.default_rng(2), np.arange(3650)
    out["daily temperature (10 y)"] = (
        "D",
        11 + 4 * np.cos(2 * np.pi * (t - 20) / 365.25) + _ar1(rng, 3650, 0.6, 2.5),
    )
    rng, t = np.random.default_rng(3), np.arange(2800)
    cycle = 80 * np.sin(2 * np.pi * t / 132) ** 2 * (1 + 0.3 * np.sin(t / 500))
    out["sunspot-like cycle, monthly"] = ("MS", np.maximum(0, cycle + _ar1(rng, 2800, 0.8, 12)))
    out["random walk with drift, daily"] = (
        "D",
        np.cumsum(np.random.default_rng(0).normal(0.1, 1, 2000)) + 50,
    )
    rng, t = np.random.default_rng(5), np.arange(48 * 7 * 16)
    out["load, half-hourly (16 weeks)"] = (
        "30min",
        1000
        + 200 * np.sin(2 * np.pi * t / 48)
        + 100 * (t % 336 < 240)
        + _ar1(rng, len(t), 0.9, 20),
    )
    out["white noise, hourly"] = ("h", np.random.default_rng(6).normal(5, 1, 1500))
    rng, t = np.random.default_rng(7), np.arange(5000)
    out["downward trend + daily cycle, hourly"] = (
        "h",
        -0.002 * t + 3 * np.sin(2 * np.pi * t / 24) + _ar1(rng, 5000, 0.95, 0.5),
    )
    rng, t = np.random.default_rng(8), np.arange(400)
    out["short weekly (400)"] = ("W", 20 + 5 * np.sin(2 * np.pi * t / 52) + _ar1(rng, 400, 0.7, 1))
    return out


EMBEDDED = [
    ("seattle-temps", 24),
    ("seattle-weather", 12),
    ("glucose-cgm", 12),
    ("uk-lung-deaths", 6),
]
REAL_DIR = os.path.join(HERE, "data", "series")  # twelve real series (data/series/PROVENANCE.md)
# (file, horizons, settings): the issue-21 runs; heart rate at 0.5 s has no natural season
REAL = [
    ("electricity-half-hourly", (1, 48), {}),
    ("co2-weekly", (1, 52), {}),
    ("wine-sales-monthly", (1, 12), {}),
    ("wool-quarterly", (1, 4), {}),
    ("airline-passengers-monthly", (1, 12), {}),
    ("heart-rate-500ms", (1,), {"season": 1}),
    ("nile-annual", (1,), {}),
    ("lynx-annual", (1,), {}),
    ("solar-half-hourly", (1,), {}),
    ("msft-close-daily", (1,), {}),
    ("sunspots-annual", (1,), {}),
]
USER_ARIMA_MAX_SEASON = (
    24  # AutoARIMA past a season of 24 took 9-24 s on 400-1,000 values, hours on thousands
)


def score(
    data, horizon: int, gate_off: bool = False, quantiles=(), **columns
) -> tuple[dict, Forecaster]:
    start = time.perf_counter()
    row = {}
    for gate in ("test", "off") if gate_off else ("test",):
        settings = {k: columns.pop(k) for k in ("season",) if k in columns}
        fc = Forecaster(
            horizon=horizon, correction_test=gate, quantiles=list(quantiles), **settings
        )
        fc.fit(data, quiet=True, **columns)
        columns.update(settings)
        rmse = {k: v["rmse"] for k, v in fc.metrics["test"].items()}
        best = min(v for k, v in rmse.items() if k != "model")
        row[gate] = {
            "rmse": rmse,
            "vs_best": rmse["model"] / best,
            "vs_ar": rmse["model"] / rmse["linear_ar"],
            "vs_persistence": rmse["model"] / rmse["persistence"],
            "lstm": fc.metrics["lstm"],
        }
    m = fc.metrics
    row.update(
        ar_order=m["ar_order"],
        ar_form=m["ar_form"],
        unit_root=m["unit_root"],
        base=m.get("base"),
        classical=m.get("classical"),
        interval=m.get("interval"),
        ar_combination=m["ar_combination"],
        seconds=time.perf_counter() - start,
    )
    return row, fc


def user_statsforecast(fc: Forecaster, df: pd.DataFrame, seasons=()) -> dict:
    """statsforecast as its user would run it: each model fitted on the whole training +
    validation period (no window), then rolled with those parameters through lstmkit's own test
    origins (lstmkit.statistical.roll). RMSE in the target's units, and seconds, per model."""
    from lstmkit import statistical
    from lstmkit.data.io import prepare

    seg = max(
        prepare(df, "time", "y", None, None, fc.state.freq).segments, key=lambda s: len(s.times)
    )
    y, times = seg.target, seg.times
    n_fit = int((times < fc.state.splits.test_start).sum())
    pred = fc.predictions
    step = pd.tseries.frequencies.to_offset(fc.state.freq)
    origin = pd.DatetimeIndex(pred["time"]) - np.asarray(pred["step"]) * step
    pos = times.get_indexer(origin)
    models = ["auto_ets", "auto_theta"] + (
        ["auto_arima"] if fc.state.season <= USER_ARIMA_MAX_SEASON else []
    )
    models += ["mstl"] if seasons else []
    out = {}
    for name in models:
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                params = statistical.fit(name, y[:n_fit], fc.state.season, seasons)
        except Exception as e:
            out[name] = {"error": f"{type(e).__name__}: {e}"[:120]}
            continue
        f = statistical.roll(name, params, y, fc.config.model.horizon)
        got = f[pos, np.asarray(pred["step"]) - 1]
        out[name] = {
            "rmse": float(np.sqrt(np.mean((got - pred["actual"].to_numpy()) ** 2))),
            "seconds": time.perf_counter() - t0,
        }
    return out


def real_rows(quantiles=()) -> list[dict]:
    rows = []
    for name, horizons, settings in REAL:
        df = pd.read_csv(os.path.join(REAL_DIR, f"{name}.csv"))
        for h in horizons:
            row, fc = score(df, h, quantiles=quantiles, time="time", target="y", **settings)
            seasons = statistical_seasons(fc)
            user = user_statsforecast(fc, df, seasons)
            ok = {k: v["rmse"] for k, v in user.items() if "rmse" in v}
            best = min(ok, key=ok.get) if ok else None
            row.update(
                series=name,
                horizon=h,
                user_statsforecast=user,
                best_statistical=best,
                vs_statistical=row["test"]["rmse"]["model"] / ok[best] if best else None,
            )
            rows.append(row)
            print(
                f"{name} h={h}: model {row['test']['rmse']['model']:.4g}, best statistical {best} "
                f"{ok.get(best, float('nan')):.4g}, ratio "
                f"{row['vs_statistical'] or float('nan'):.3f}, "
                f"{row['seconds']:.1f} s",
                flush=True,
            )
    return rows


def statistical_seasons(fc: Forecaster) -> tuple[int, ...]:
    """MSTL's periods for this run, by the forecaster's own rule
    (lstmkit.statistical.seasons_of)."""
    from lstmkit.statistical import seasons_of

    try:
        step = pd.Timedelta(pd.tseries.frequencies.to_offset(fc.state.freq)) / pd.Timedelta("1D")
    except ValueError:  # months, quarters, years
        step = None
    return seasons_of(fc.state.season, step)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="The synthetic kinds only, horizon 1.")
    parser.add_argument("--real-only", action="store_true", help="The twelve real series only.")
    parser.add_argument(
        "--gate-off", action="store_true", help="Each run again with --lstm-gate off."
    )
    parser.add_argument(
        "--intervals",
        action="store_true",
        help="Runs with --quantiles 0.1,0.5,0.9: the conformal interval's coverage (80%%).",
    )
    parser.add_argument("--json", default=os.path.join(HERE, "results", "series.json"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    quantiles = (0.1, 0.5, 0.9) if args.intervals else ()
    rows = []
    if not args.real_only:
        for name, (freq, y) in synthetic_kinds().items():
            df = pd.DataFrame(
                {"time": pd.date_range("2000-01-01", periods=len(y), freq=freq), "y": y}
            )
            for h in (1,) if args.quick else (1, 12):
                row, _ = score(df, h, args.gate_off, quantiles, time="time", target="y")
                rows.append({"series": name, "horizon": h, **row})
        if not args.quick:
            for name, h in EMBEDDED:
                for horizon in (1, h):
                    row, _ = score(name, horizon, args.gate_off, quantiles)
                    rows.append({"series": name, "horizon": horizon, **row})
    if not args.quick:
        rows += real_rows(quantiles)
    table = Table(title="test RMSE ratios of the default model")
    for col in (
        "series",
        "h",
        "base",
        "LSTM kept",
        "/ best own baseline",
        "/ linear AR",
        "/ persistence",
        "/ best statsforecast (user)",
        "coverage 80%",
        "s",
    ):
        table.add_column(col, justify="left" if col == "series" else "right")
    for r in rows:
        on = r["test"]
        kept = on["lstm"].get("kept_steps", [on["lstm"]["kept"]])
        table.add_row(
            r["series"],
            str(r["horizon"]),
            (r["base"] or {}).get("name", "AR"),
            f"{sum(kept)}/{len(kept)}",
            f"{on['vs_best']:.3f}",
            f"{on['vs_ar']:.3f}",
            f"{on['vs_persistence']:.3f}",
            f"{r['vs_statistical']:.3f} ({r['best_statistical']})"
            if r.get("vs_statistical")
            else "-",
            f"{r['interval']['coverage']:.3f}" if r.get("interval") else "-",
            f"{r['seconds']:.0f}",
        )
    Console(width=170).print(table)
    worst = max(r["test"]["vs_best"] for r in rows)
    summary = {"worst_vs_best": worst}
    ratios = [r["vs_statistical"] for r in rows if r.get("vs_statistical")]
    if ratios:
        summary["geomean_vs_statistical"] = float(np.exp(np.mean(np.log(ratios))))
        summary["worst_vs_statistical"] = max(ratios)
        print(
            "lstmkit / best statsforecast model (user-style): geometric mean "
            f"{summary['geomean_vs_statistical']:.3f}"
            f" over {len(ratios)} runs, worst {max(ratios):.3f} (targets: <= 0.95, none above 1.02)"
        )
    cover = [r["interval"]["coverage"] for r in rows if r.get("interval")]
    if cover:
        summary["coverage"] = {
            "mean": float(np.mean(cover)),
            "worst_gap": float(max(abs(c - 0.8) for c in cover)),
        }
        gap = summary["coverage"]["worst_gap"]
        print(f"80% interval coverage: mean {np.mean(cover):.3f}, worst |coverage - 0.8| {gap:.3f}")
    print(f"worst model / best own baseline: {worst:.3f} over {len(rows)} series x horizons")
    write_results(args.json, {"rows": rows, **summary})
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
