"""Any hourly CSV of a few years trains in under two minutes by default (the forecasting issue's
target).

    python benchmarks/scale.py                    # 3 years, 5 covariates -> results/scale.json
    python benchmarks/scale.py --years 5 --covariates 8

Writes a synthetic hourly weather-like CSV (annual and daily cycles, weather that persists for days,
covariates that move with it, 0.1% of the hours missing so that the gap filling runs), then times
`lstmkit forecast --data FILE --time-col time --target temp --quiet` in a fresh process with default
settings: wall time, the child's peak memory, and the test RMSE against the baselines it computes.
Synthetic, because the embedded hourly records hold one year; the path through lstmkit is the one
any user's CSV takes. One intra-op thread (lstmkit's default).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from lstmkit.bench import write_results

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET_SECONDS = 120


def synthetic(
    hours: int, covariates: int = 5, seed: int = 0, missing: float = 0.001
) -> pd.DataFrame:
    """An hourly temperature-like series with `covariates` related columns; `missing` of the rows
    dropped."""
    rng = np.random.default_rng(seed)
    t = np.arange(hours)
    weather = np.zeros(hours)  # an AR(1) with a memory of about two days: fronts passing
    shocks = rng.normal(0, 0.6, hours)
    for k in range(1, hours):
        weather[k] = 0.98 * weather[k - 1] + shocks[k]
    annual = -12 * np.cos(2 * np.pi * t / (365.25 * 24))
    daily = -4 * np.cos(2 * np.pi * (t % 24) / 24)
    temp = 55 + annual + daily * (1 + 0.02 * annual) + 3 * weather + rng.normal(0, 0.5, hours)
    df = pd.DataFrame(
        {"time": pd.date_range("2020-01-01", periods=hours, freq="h"), "temp": temp.round(2)}
    )
    for c in range(covariates):  # each reads the weather with its own lag and noise
        lag = 1 + 3 * c
        df[f"cov{c}"] = (np.roll(weather, lag) * (1 + c % 3) + rng.normal(0, 1, hours)).round(3)
    keep = rng.random(hours) >= missing
    keep[[0, -1]] = True
    return df[keep].reset_index(drop=True)


def run(years: float, covariates: int, seed: int) -> dict:
    hours = int(years * 365.25 * 24)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "hourly.csv")
        data = synthetic(hours, covariates, seed)
        data.to_csv(path, index=False)
        command = [
            sys.executable,
            "-m",
            "lstmkit.cli",
            "forecast",
            "--data",
            path,
            "--time-col",
            "time",
            "--target",
            "temp",
            "--quiet",
            "--out",
            os.path.join(tmp, "run"),
        ]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"lstmkit forecast failed:\n{done.stdout}\n{done.stderr}")
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
        with open(os.path.join(tmp, "run", "metrics.json")) as f:
            metrics = json.load(f)
    test = metrics["test"]
    return {
        "years": years,
        "rows": len(data),
        "missing_hours": hours - len(data),
        "covariates": covariates,
        "wall_seconds": wall,
        "train_seconds": metrics["train_seconds"],
        "epochs": metrics["epochs"],
        "peak_memory_mb": peak_mb,
        "rmse": {
            name: test[name]["rmse"]
            for name in ("model", "persistence", "seasonal_naive", "linear_ar")
        },
        "meets_target": wall < TARGET_SECONDS,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--covariates", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=os.path.join(HERE, "results", "scale.json"))
    args = parser.parse_args(argv)
    r = run(args.years, args.covariates, args.seed)
    table = Table(
        title=f"lstmkit forecast, default settings, {r['rows']:,} hourly rows (fresh process)"
    )
    for col in (
        "years",
        "covariates",
        "wall s",
        "train s",
        "epochs",
        "peak MB",
        "RMSE model",
        "RMSE AR",
        "RMSE persistence",
        f"< {TARGET_SECONDS} s",
    ):
        table.add_column(col, justify="right")
    table.add_row(
        f"{r['years']:g}",
        str(r["covariates"]),
        f"{r['wall_seconds']:.1f}",
        f"{r['train_seconds']:.1f}",
        str(r["epochs"]),
        f"{r['peak_memory_mb']:.0f}",
        f"{r['rmse']['model']:.3f}",
        f"{r['rmse']['linear_ar']:.3f}",
        f"{r['rmse']['persistence']:.3f}",
        "PASS" if r["meets_target"] else "FAIL",
    )
    Console(width=160).print(table)
    write_results(args.json, {"result": r})
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
