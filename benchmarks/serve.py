"""Latency of a one-step forecast at batch 1, four ways, one thread: the default forecaster
(LSTM(50) on the embedded NYC hourly data, --statistical off so that it streams) takes one new
hour and forecasts the next.

    python benchmarks/serve.py            # -> benchmarks/results/serve.json (about 2 minutes)

  Forecaster.update     in PyTorch, in this process (stream.py: the step graph, the state kept)
  step.onnx             onnxruntime alone on the exported step graph, state in and out
  lstmkit predict       `lstmkit predict --run DIR --state S --data one_row.csv`, a new process
  HTTP round trip       POST /update with one row to `lstmkit serve` on 127.0.0.1 (httpx client)

and, as the peers the issue names: torch.nn.LSTM (2 layers, hidden 50) for one step with the
state in and out, in PyTorch and as its ONNX export in onnxruntime; and `Forecaster.predict` on
the whole history (what a forecast cost before the state existed). Targets: step.onnx p50
<= 0.2 ms, HTTP p50 <= 5 ms.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd
import torch
from rich.console import Console
from rich.table import Table

from lstmkit import Forecaster
from lstmkit.bench import write_results
from lstmkit.data import load as load_dataset
from lstmkit.forecast.graphs import series_axis

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = "weather-nyc-hourly"


def percentiles(seconds: list[float]) -> dict:
    ms = np.asarray(seconds) * 1000
    return {
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "n": len(ms),
    }


def timed(call, n: int, warm: int = 20) -> dict:
    for _ in range(warm):
        call()
    out = []
    for _ in range(n):
        began = time.perf_counter()
        call()
        out.append(time.perf_counter() - began)
    return percentiles(out)


def next_rows(fc, n: int, start: int = 1) -> list[pd.DataFrame]:
    """n single-row frames, each the next step after the stream's end (a plausible value)."""
    d = fc.config.data
    frame = fc.stream.frame(fc)
    first = frame.iloc[0]  # one series: batch 1
    origin, level = first.origin, float(first.predicted)
    step = pd.tseries.frequencies.to_offset(fc.state.freq)
    rows = []
    for k in range(start, start + n):
        row = {d.time: [origin + k * step], d.target: [level]}
        row |= {d.series: [first.series]} if d.series else {}
        row |= {c: [0.0] for c in fc.state.past_covariates}
        rows.append(pd.DataFrame(row))
    return rows


def update_latency(fc, n: int) -> dict:
    rows = iter(next_rows(fc, n + 20))
    return timed(lambda: fc.update(next(rows)), n)


def onnx_step_latency(folder, fc, n: int) -> dict:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = ort.InferenceSession(
        os.path.join(folder, "step.onnx"), options, providers=["CPUExecutionProvider"]
    )
    state = {  # the first series' state (axis 1 of h and c, 0 of the rest)
        k: v.narrow(series_axis(k), 0, 1).numpy()
        for k, v in fc.stream.tensors.items()
        if k in fc.stream.graphs.state_names
    }
    P = len(fc.state.past_covariates)
    feed = {
        "target": np.array([60.0], np.float32),
        "past": np.zeros((1, P), np.float32),
        "time": fc.stream.tensors["last_time"].numpy()[:1] + 3_600_000,
        "series": fc.stream.graphs.index(fc.stream.series[:1]).numpy(),
        **state,
    }
    return timed(lambda: session.run(None, feed), n)


def torch_lstm_peers(n: int, folder: str) -> dict:
    """The issue's measurement: nn.LSTM(2 layers, 50) one step at batch 1, state in and out."""
    import onnxruntime as ort

    lstm = torch.nn.LSTM(8, 50, 2, batch_first=True).eval()
    x, h, c = torch.randn(1, 1, 8), torch.zeros(2, 1, 50), torch.zeros(2, 1, 50)
    with torch.no_grad():
        pytorch = timed(lambda: lstm(x, (h, c)), n)
        path = os.path.join(folder, "lstm.onnx")
        torch.onnx.export(
            lstm, (x, (h, c)), path, dynamo=False, input_names=["x", "h", "c"],
        )  # fmt: skip
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    feed = {"x": x.numpy(), "h": h.numpy(), "c": c.numpy()}
    return {"torch.nn.LSTM step": pytorch, "nn.LSTM step in onnxruntime": timed(
        lambda: session.run(None, feed), n
    )}  # fmt: skip


def process_latency(folder, fc, n: int) -> dict:
    state = os.path.join(folder, "bench.state")
    fc.stream.save(state, fc)
    rows = next_rows(fc, n + 1)
    out = []
    for k, row in enumerate(rows):
        path = os.path.join(folder, f"row{k}.csv")
        row.to_csv(path, index=False)
        began = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "lstmkit", "predict", "--run", folder, "--state", state,
             "--data", path], check=True, capture_output=True,
        )  # fmt: skip
        if k:  # the first warms the disk cache
            out.append(time.perf_counter() - began)
    return percentiles(out)


def http_latency(folder, fc, n: int) -> dict:
    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    state_dir = os.path.join(folder, "serve-state")
    proc = subprocess.Popen(
        [sys.executable, "-m", "lstmkit", "serve", "--run", folder, "--port", str(port),
         "--state-dir", state_dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=30) as http:
            for _ in range(600):
                try:
                    if http.get(f"{url}/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            # the bodies built beforehand: the client's own work is not the server's latency
            time_col = fc.config.data.time

            def body(row: pd.DataFrame) -> dict:
                values = {k: v[0] for k, v in row.to_dict("list").items()}
                return {"rows": [values | {time_col: str(values[time_col])}]}

            bodies = iter([body(row) for row in next_rows(fc, n + 50, start=10_000)])

            def one():
                http.post(f"{url}/update", json=next(bodies)).raise_for_status()

            updates = timed(one, n, warm=50)
            current = timed(lambda: http.post(f"{url}/predict", json={}).raise_for_status(), n)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {"HTTP round trip: POST /update (1 row)": updates, "HTTP: POST /predict {}": current}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="timed calls per way")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--out", default=os.path.join(HERE, "results", "serve.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    console = Console()
    with tempfile.TemporaryDirectory() as folder:
        run = os.path.join(folder, "nyc")
        fc = Forecaster(epochs=args.epochs, statistical="off").fit(DATA, quiet=True)
        fc.save(run)
        subprocess.run(
            [sys.executable, "-m", "lstmkit", "export", "--run", run], check=True,
            capture_output=True,
        )  # fmt: skip
        history = load_dataset(DATA)
        results = {
            "Forecaster.update (PyTorch)": update_latency(Forecaster.load(run), args.n),
            "step.onnx (onnxruntime)": onnx_step_latency(run, Forecaster.load(run), args.n),
            "lstmkit predict --state (a process)": process_latency(run, Forecaster.load(run), 10),
            **http_latency(run, Forecaster.load(run), args.n),
            **torch_lstm_peers(args.n, folder),
            "Forecaster.predict (whole history)": timed(lambda: fc.predict(history), 10, warm=2),
        }
    table = Table(title=f"one-step forecast at batch 1, 1 thread ({DATA}, LSTM(50))")
    for col in ("way", "p50 ms", "p99 ms", "n"):
        table.add_column(col, justify="left" if col == "way" else "right")
    for name, r in results.items():
        table.add_row(name, f"{r['p50_ms']:.3f}", f"{r['p99_ms']:.3f}", str(r["n"]))
    console.print(table)
    targets = {
        "step.onnx p50 <= 0.2 ms": results["step.onnx (onnxruntime)"]["p50_ms"] <= 0.2,
        "HTTP p50 <= 5 ms": results["HTTP round trip: POST /update (1 row)"]["p50_ms"] <= 5,
    }
    console.print(targets)
    write_results(args.out, {"command": " ".join(sys.argv), "results": results, "targets": targets})
    console.print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
