"""How long `lstmkit explain` takes on a default run, as a user runs it (a fresh process).

    python benchmarks/explain.py              # -> benchmarks/results/explain.json

Trains the default forecast (`lstmkit forecast`, the embedded NYC hourly data) and an ECG5000
classifier into a temporary folder, then times `lstmkit explain --run DIR` three times on each:
wall time of the whole command (interpreter start, imports, loading the run and its data,
attributions, unit statistics over the test period, plots, report) and the time the explanation
itself reports. Target (issue 6): under 10 s for the default forecasting run on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np
from rich.console import Console
from rich.table import Table

from lstmkit.bench import write_results

HERE = os.path.dirname(os.path.abspath(__file__))
LSTMKIT = [sys.executable, "-m", "lstmkit.cli"]
RUNS = {
    "forecast weather-nyc-hourly (defaults)": ["forecast", "--data", "weather-nyc-hourly"],
    "classify ecg5000": [
        "classify",
        "--data",
        "ecg5000",
        "--conv-channels",
        "32",
        "--conv-stride",
        "2",
        "--epochs",
        "5",
    ],
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", default=os.path.join(HERE, "results", "explain.json"))
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, command in RUNS.items():
            folder = pathlib.Path(tmp) / name.split()[1]
            subprocess.run(
                [*LSTMKIT, *command, "--out", str(folder), "--quiet"],
                check=True,
                capture_output=True,
            )
            walls, inner = [], []
            for _ in range(args.repeats):
                start = time.perf_counter()
                subprocess.run(
                    [*LSTMKIT, "explain", "--run", str(folder)], check=True, capture_output=True
                )
                walls.append(time.perf_counter() - start)
                result = json.loads((folder / "explain.json").read_text())
                inner.append(result["seconds"])
            att = result["attribution"]  # the same every time: how hard the path integral was
            rows.append(
                {
                    "run": name,
                    "command_seconds": walls,
                    "explain_seconds": inner,
                    "median_command_seconds": float(np.median(walls)),
                    "gradients": att["steps"],
                    "completeness_error": att["completeness_error"],
                }
            )
    table = Table(title=f"lstmkit explain, fresh process each time, median of {args.repeats}")
    for col in ("run", "command s", "explanation s", "IG gradients", "completeness", "target"):
        table.add_column(col)
    for r in rows:
        target = "< 10 s" if r["run"].startswith("forecast") else ""
        table.add_row(
            r["run"],
            f"{r['median_command_seconds']:.1f}",
            f"{np.median(r['explain_seconds']):.1f}",
            str(r["gradients"]),
            f"{r['completeness_error']:.2%}",
            target,
        )
    Console().print(table)
    write_results(args.json, {"results": rows})
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
