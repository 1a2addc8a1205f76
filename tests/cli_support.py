"""What the command-line tests (tests/cli/) share: a runner and small input files."""

from __future__ import annotations

from click.testing import CliRunner

from lstmkit.cli import main


def run(*args):
    return CliRunner().invoke(main, list(args))


def small_csv(path, n=400, **edits):
    import numpy as np
    import pandas as pd

    t = pd.date_range("2024-01-01", periods=n, freq="h")
    df = pd.DataFrame(
        {
            "when": t.astype(str),
            "temp": 10 + np.sin(np.arange(n) / 4.0),
            "wind": np.cos(np.arange(n)),
        }
    )
    for _key, value in edits.items():
        df = value(df) if callable(value) else df
    df.to_csv(path, index=False)
    return path


def forecast_on(data, *options):
    """`lstmkit forecast` on small_csv's columns (when, temp), quiet; the result, as it is."""
    return run(
        "forecast", "--data", str(data), "--time-col", "when", "--target", "temp", *options,
        "--quiet",
    )  # fmt: skip


def small_forecast(data, out, *options):
    """`lstmkit forecast` on small_csv's columns, small and quiet; asserts that it ran."""
    r = forecast_on(data, "--epochs", "2", "--hidden-size", "8", *options, "--out", str(out))
    assert r.exit_code == 0, r.output
    return r


def wide_csv(path, rows=None, n=60, L=12):
    import numpy as np

    rng = np.random.default_rng(0)
    lines = ["label," + ",".join(f"t{k}" for k in range(L))]
    for r in range(n):
        cls = r % 2
        values = np.sin(np.arange(L) * (1 + cls)) + rng.normal(0, 0.2, L)
        lines.append(f"{'ab'[cls]}," + ",".join(f"{v:.4f}" for v in values))
    for r, text in (rows or {}).items():
        lines[r + 1] = text
    path.write_text("\n".join(lines) + "\n")
    return path


def small_classify(data, out, *options, epochs: int = 1, hidden_size: int = 4):
    """`lstmkit classify` on wide_csv's table, small and quiet, into `out`; asserts that it ran."""
    size = ("--epochs", str(epochs), "--hidden-size", str(hidden_size))
    r = run("classify", "--data", str(data), *size, "--out", str(out), "--quiet", *options)
    assert r.exit_code == 0, r.output
    return r
