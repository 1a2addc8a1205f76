"""Whole process against whole process: `lstmkit forecast` with its defaults against the article's
recipe in plain PyTorch, each started fresh (imports, reading, fitting, scoring, writing), on a
daily series of 33,000 values like Clemson's 90 years of temperatures, one thread each.

    python benchmarks/end_to_end.py                     # -> benchmarks/results/end_to_end.json
    python benchmarks/end_to_end.py --days 5000         # a shorter series

The series: a yearly cycle, a slow trend and AR(1) weather noise (seeded). The recipe: target
only, min-max scaled on the training part, windows of 24, LSTM(50) -> Dense(1), batches of 32,
Adam 1e-3, 20 epochs, scored on the last 20% (the same split as lstmkit's, 70/10/20 by time).
lstmkit's profile is read from its run directory (training seconds) and from the wall clock.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def clemson_like(days: int, seed: int = 0):
    import pandas as pd

    rng = np.random.default_rng(seed)
    t = np.arange(days)
    noise = np.zeros(days)
    e = rng.normal(0, 3.0, days)
    for k in range(1, days):
        noise[k] = 0.7 * noise[k - 1] + e[k]
    temp = 62 + 0.00005 * t + 16 * np.cos(2 * np.pi * (t - 200) / 365.25) + noise
    return pd.DataFrame(
        {"date": pd.date_range("1930-01-01", periods=days, freq="D"), "temp": temp.round(1)}
    )


def recipe(path: str, epochs: int = 20, seed: int = 0) -> dict:
    """The article's recipe, everything inside this call (run in a fresh process by main)."""
    import pandas as pd
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    df = pd.read_csv(path, parse_dates=["date"])
    v, times = df["temp"].to_numpy(float), df["date"]
    span = times.iloc[-1] - times.iloc[0]
    val_start, test_start = times.iloc[0] + 0.7 * span, times.iloc[0] + 0.8 * span
    lo, hi = v[(times < val_start).to_numpy()].min(), v[(times < val_start).to_numpy()].max()
    s = (v - lo) / (hi - lo)
    W = 24
    idx = np.arange(W - 1, len(v) - 1)
    windows = s[idx[:, None] + np.arange(-W + 1, 1)[None, :]]
    target_time = times.to_numpy()[idx + 1]
    train, test = target_time < np.datetime64(val_start), target_time >= np.datetime64(test_start)

    class Recipe(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(1, 50, batch_first=True)
            self.dense = torch.nn.Linear(50, 1)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.dense(out[:, -1])

    X = torch.tensor(windows[train], dtype=torch.float32)[..., None]
    Y = torch.tensor(s[idx + 1][train], dtype=torch.float32)[:, None]
    model, loader = Recipe(), DataLoader(TensorDataset(X, Y), batch_size=32, shuffle=True)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(epochs):
        for xb, yb in loader:
            opt.zero_grad()
            torch.nn.functional.mse_loss(model(xb), yb).backward()
            opt.step()
    with torch.no_grad():
        pred = (
            model(torch.tensor(windows[test], dtype=torch.float32)[..., None])[:, 0].numpy()
            * (hi - lo)
            + lo
        )
    return {"rmse": float(np.sqrt(np.mean((pred - v[idx + 1][test]) ** 2))), "n": int(test.sum())}


def timed(cmd: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(
        cmd, capture_output=True, text=True, env={**os.environ, **ONE_THREAD}, check=False
    )
    wall = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    return wall, done.stdout


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=33000)
    parser.add_argument("--epochs", type=int, default=20, help="the recipe's epochs")
    # internal: run the recipe on this CSV, print JSON
    parser.add_argument("--recipe", help=argparse.SUPPRESS)
    parser.add_argument("--json", default=os.path.join(HERE, "results", "end_to_end.json"))
    args = parser.parse_args(argv)
    if args.recipe:
        print(json.dumps(recipe(args.recipe, args.epochs)))
        return 0
    from lstmkit.bench import write_results

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "clemson_like.csv")
        clemson_like(args.days).to_csv(path, index=False)
        run_dir = os.path.join(tmp, "run")
        lk_wall, _ = timed(
            [
                sys.executable,
                "-m",
                "lstmkit.cli",
                "forecast",
                "--data",
                path,
                "--time-col",
                "date",
                "--target",
                "temp",
                "--out",
                run_dir,
                "--quiet",
            ]
        )
        with open(os.path.join(run_dir, "metrics.json")) as f:
            metrics = json.load(f)
        rc_wall, out = timed(
            [
                sys.executable,
                os.path.abspath(__file__),
                "--recipe",
                path,
                "--epochs",
                str(args.epochs),
            ]
        )
        rec = json.loads(out)
    lk = {
        "wall_seconds": lk_wall,
        "train_seconds": metrics["train_seconds"],
        "rmse": metrics["test"]["model"]["rmse"],
        "training_share": metrics["train_seconds"] / lk_wall,
        "base": (metrics.get("base") or {}).get("name"),
        "classical_seconds": (metrics.get("classical") or {}).get("seconds"),
    }
    ratio = rc_wall / lk_wall
    print(f"{args.days} daily values, whole process, 1 thread each")
    print(
        f"lstmkit forecast   {lk_wall:7.1f} s  RMSE {lk['rmse']:.4f}  training "
        f"{lk['train_seconds']:.1f} s "
        f"({lk['training_share']:.0%} of its wall time)"
    )
    print(f"article recipe     {rc_wall:7.1f} s  RMSE {rec['rmse']:.4f}")
    print(
        f"{'PASS' if ratio >= 10 and lk['rmse'] <= rec['rmse'] else 'MISS'}  lstmkit {ratio:.1f}x "
        "faster than "
        f"the recipe (target 10x), RMSE {lk['rmse']:.4f} vs {rec['rmse']:.4f}"
    )
    command = "python benchmarks/end_to_end.py " + " ".join(argv or [])
    write_results(
        args.json,
        {
            "days": args.days,
            "lstmkit": lk,
            "recipe": {"wall_seconds": rc_wall, **rec},
            "ratio": ratio,
            "command": command,
        },
    )
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
