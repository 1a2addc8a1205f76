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
with `lstm_gate="off"` (the model as early stopping left it). One intra-op thread.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import pandas as pd
import torch
from rich.console import Console
from rich.table import Table

from lstmkit.bench import write_results
from lstmkit.tasks.forecast import Forecaster

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
    out["trend x season, monthly (144)"] = ("MS", 100 * np.exp(0.01 * t) * (1 + 0.2 * np.sin(2 * np.pi * t / 12))
                                           + rng.normal(0, 3, 144))  # fmt: skip
    rng, t = np.random.default_rng(2), np.arange(3650)
    out["daily temperature (10 y)"] = ("D", 11 + 4 * np.cos(2 * np.pi * (t - 20) / 365.25) + _ar1(rng, 3650, 0.6, 2.5))
    rng, t = np.random.default_rng(3), np.arange(2800)
    cycle = 80 * np.sin(2 * np.pi * t / 132) ** 2 * (1 + 0.3 * np.sin(t / 500))
    out["sunspot-like cycle, monthly"] = ("MS", np.maximum(0, cycle + _ar1(rng, 2800, 0.8, 12)))
    out["random walk with drift, daily"] = ("D", np.cumsum(np.random.default_rng(0).normal(0.1, 1, 2000)) + 50)
    rng, t = np.random.default_rng(5), np.arange(48 * 7 * 16)
    out["load, half-hourly (16 weeks)"] = ("30min", 1000 + 200 * np.sin(2 * np.pi * t / 48) + 100 * (t % 336 < 240)
                                          + _ar1(rng, len(t), 0.9, 20))  # fmt: skip
    out["white noise, hourly"] = ("h", np.random.default_rng(6).normal(5, 1, 1500))
    rng, t = np.random.default_rng(7), np.arange(5000)
    out["downward trend + daily cycle, hourly"] = ("h", -0.002 * t + 3 * np.sin(2 * np.pi * t / 24)
                                                  + _ar1(rng, 5000, 0.95, 0.5))  # fmt: skip
    rng, t = np.random.default_rng(8), np.arange(400)
    out["short weekly (400)"] = ("W", 20 + 5 * np.sin(2 * np.pi * t / 52) + _ar1(rng, 400, 0.7, 1))
    return out


EMBEDDED = [("seattle-temps", 24), ("seattle-weather", 12), ("glucose-cgm", 12), ("uk-lung-deaths", 6)]


def score(data, horizon: int, **columns) -> dict:
    start = time.perf_counter()
    row = {}
    for gate in ("test", "off"):
        fc = Forecaster(horizon=horizon, lstm_gate=gate).fit(data, quiet=True, **columns)
        rmse = {k: v["rmse"] for k, v in fc.metrics["test"].items()}
        best = min(v for k, v in rmse.items() if k != "model")
        row[gate] = {"rmse": rmse, "vs_best": rmse["model"] / best, "vs_ar": rmse["model"] / rmse["linear_ar"],
                     "vs_persistence": rmse["model"] / rmse["persistence"], "lstm": fc.metrics["lstm"]}  # fmt: skip
    m = fc.metrics
    row.update(ar_order=m["ar_order"], ar_form=m["ar_form"], unit_root=m["unit_root"],
               ar_combination=m["ar_combination"], seconds=time.perf_counter() - start)  # fmt: skip
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="The synthetic kinds only, horizon 1.")
    parser.add_argument("--json", default=os.path.join(HERE, "results", "series.json"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    for name, (freq, y) in synthetic_kinds().items():
        df = pd.DataFrame({"time": pd.date_range("2000-01-01", periods=len(y), freq=freq), "y": y})
        for h in (1,) if args.quick else (1, 12):
            rows.append({"series": name, "horizon": h, **score(df, h, time="time", target="y")})
    if not args.quick:
        for name, h in EMBEDDED:
            for horizon in (1, h):
                rows.append({"series": name, "horizon": horizon, **score(name, horizon)})
    table = Table(title="test RMSE ratios of the default model (lstm_gate test | off)")
    for col in ("series", "h", "AR", "unit root", "AR weight", "LSTM", "/ best baseline", "/ linear AR",
                "/ persistence", "/ best, gate off"):  # fmt: skip
        table.add_column(col, justify="left" if col == "series" else "right")
    for r in rows:
        on, off = r["test"], r["off"]
        table.add_row(r["series"], str(r["horizon"]), f"{r['ar_order']} {r['ar_form']}",
                      "yes" if r["unit_root"]["integrated"] else "no",
                      f"{r['ar_combination']['weight']:.2f}" if r["ar_combination"] else "-",
                      "kept" if on["lstm"]["kept"] else "dropped",
                      f"{on['vs_best']:.3f}", f"{on['vs_ar']:.3f}", f"{on['vs_persistence']:.3f}",
                      f"{off['vs_best']:.3f}")  # fmt: skip
    Console(width=160).print(table)
    worst = max(r["test"]["vs_best"] for r in rows)
    worst_off = max(r["off"]["vs_best"] for r in rows)
    print(f"worst model / best baseline: {worst:.3f} (gate off: {worst_off:.3f}) over {len(rows)} series x horizons")
    write_results(args.json, {"rows": rows, "worst_vs_best": worst, "worst_vs_best_gate_off": worst_off})
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
