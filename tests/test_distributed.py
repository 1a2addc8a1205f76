"""Several processes training one forecaster (distributed.py, data/shards.py, train.fit under
DistributedDataParallel) give what one process gives: the same scalers and AR to float64
rounding, the same weights to float32 rounding, the same decisions; uneven shares finish; bad input
is one line on every process, and none waits for the others.

Two ways of starting the processes are exercised: the command line's `--nproc 2` (torchrun's
launcher) and plain processes given RANK / WORLD_SIZE / MASTER_* as Ray's TorchTrainer and Spark's
TorchDistributor give them (tests/distributed_worker.py)."""

from __future__ import annotations

import json
import os
import pathlib
import socket
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.numpy import load_file

from lstmkit import distributed
from lstmkit.config import LstmkitError
from lstmkit.forecast.estimator import Forecaster

WORKER = pathlib.Path(__file__).parent / "distributed_worker.py"
TIMEOUT = 240  # seconds: a hang fails the test instead of the suite


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(task: str, args: dict, tmp_path, n: int = 2) -> list[dict]:
    """`task` of distributed_worker.py in n processes; each one's JSON result."""
    out = tmp_path / f"{task}.json"
    port = _free_port()
    procs = []
    for rank in range(n):
        env = {
            **os.environ,
            "RANK": str(rank),
            "LOCAL_RANK": str(rank),
            "WORLD_SIZE": str(n),
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
            "OMP_NUM_THREADS": "1",
        }
        cmd = [sys.executable, str(WORKER), task, json.dumps(args), str(out)]
        procs.append(subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True))
    errors = [p.communicate(timeout=TIMEOUT)[1] for p in procs]
    for p, err in zip(procs, errors, strict=True):
        assert p.returncode == 0, err[-3000:]
    return [json.loads(pathlib.Path(f"{out}.{r}").read_text()) for r in range(n)]


def series_csv(path, lengths=(900, 780, 660, 540), seed=0):
    """Hourly series of different lengths and levels: a daily cycle, a slow walk, noise."""
    rng = np.random.default_rng(seed)
    parts = []
    for k, n in enumerate(lengths):
        t = pd.date_range("2024-01-01", periods=n, freq="h") + pd.Timedelta(hours=7 * k)
        y = (1 + 0.3 * k) * np.sin(2 * np.pi * np.arange(n) / 24) + 0.1 * np.cumsum(
            rng.normal(size=n)
        )
        parts.append(pd.DataFrame({"when": t.astype(str), "meter": f"m{k}", "kwh": y + 2 * k}))
    pd.concat(parts).to_csv(path, index=False)
    return path


SETTINGS = dict(
    time="when", target="kwh", series="meter", epochs=3, patience=10, hidden_size=8,
    statistical="off", batch_size=8, scaling="series",
)  # fmt: skip


def one_process(data, **settings) -> dict:
    sys.path.insert(0, str(WORKER.parent))
    from distributed_worker import summary

    fc = Forecaster(**{**SETTINGS, **settings}).fit(str(data), quiet=True)
    return json.loads(json.dumps(summary(fc, torch)))


def assert_same_fit(one: dict, many: dict, weights_atol: float = 1e-6):
    """Float64 statistics to rounding; float32 weights to `weights_atol`."""
    assert many["ar_order"] == one["ar_order"] and many["ar_form"] == one["ar_form"]
    assert many["unit_root"]["integrated"] == one["unit_root"]["integrated"]
    np.testing.assert_allclose(many["unit_root"]["adf"], one["unit_root"]["adf"], rtol=1e-12)
    for key in ("mean", "std"):
        np.testing.assert_allclose(many["scaler"][key], one["scaler"][key], rtol=1e-12)
    assert many["scaler"]["per_series"] == one["scaler"]["per_series"]  # each fitted in one place
    # the skip path holds the AR's least-squares coefficients (float64 solve, stored in float32)
    np.testing.assert_allclose(many["weights"]["skip.weight"], one["weights"]["skip.weight"])
    for name, w in one["weights"].items():
        np.testing.assert_allclose(many["weights"][name], w, atol=weights_atol, err_msg=name)
    np.testing.assert_allclose(many["history"]["val_loss"], one["history"]["val_loss"], rtol=1e-5)
    assert many["lstm"] == one["lstm"] and many["rows"] == one["rows"]
    for method, m in one["test"].items():
        np.testing.assert_allclose(many["test"][method]["rmse"], m["rmse"], rtol=1e-5)


def test_outside_a_group_every_collective_is_the_identity():
    assert not distributed.active() and distributed.rank() == 0 and distributed.world() == 1
    assert distributed.total(2.5) == 2.5 and distributed.least(3) == 3 and distributed.most(4) == 4
    assert distributed.gathered(["b", "a"], [2, 1]) == ["b", "a"]  # one process: its own order
    assert distributed.everyone(7) == [7] and distributed.broadcast("x") == "x"
    with pytest.raises(LstmkitError, match="nope"):
        distributed.agree(lambda: (_ for _ in ()).throw(LstmkitError("nope")))


def test_the_collectives_across_two_processes(tmp_path):
    r0, r1 = spawn("collectives", {}, tmp_path)
    for r in (r0, r1):
        assert r["world"] == 2 and r["total"] == [2.0, 3.0]
        assert r["least"] == 9 and r["most"] == 10.5
        # ordered by key, whichever process held the item
        assert r["gathered"] == ["r0-0", "r1-0", "r0-1", "r1-1"]
        assert r["everyone"] == [0, 10] and r["broadcast"] == "from 0"
        assert "cannot read the share of rank 1" in r["agree"] and "\n" not in r["agree"]
    assert r0["agree"].endswith("(rank 1)")  # the one that did not fail says who did


@pytest.mark.parametrize("scheme", ["every-step", "windows"])
def test_two_processes_fit_what_one_fits(tmp_path, scheme):
    data = series_csv(tmp_path / "meters.csv")
    one = one_process(data, scheme=scheme)
    many = spawn("fit", {"data": str(data), "settings": {**SETTINGS, "scheme": scheme}}, tmp_path)
    assert many[0]["data"]["series_per_process"] == [2, 2]
    for result in many:  # every process ends with the same model and the same scores
        assert_same_fit(one, result)
    assert one["history"]["train_loss"] != one["history"]["train_loss"][:1] * 3  # it trained


def test_uneven_shares_finish_with_the_same_model(tmp_path):
    """One long series beside two short ones: process 0 holds 85% of the steps, and runs the
    same number of batches as process 1 (the batches are global)."""
    data = series_csv(tmp_path / "uneven.csv", lengths=(3000, 300, 260))
    one = one_process(data)
    many = spawn("fit", {"data": str(data), "settings": SETTINGS}, tmp_path)
    assert many[0]["data"]["series_per_process"] == [1, 2]
    assert_same_fit(one, many[1])


@pytest.mark.parametrize("scheme", ["every-step", "windows"])
def test_a_process_with_no_training_step_still_steps_with_the_others(tmp_path, scheme):
    """Process 1 holds two series that start after validation does: no training sample at all.
    It runs every batch with a blank row at weight 0, and the model is one process's."""
    rng = np.random.default_rng(0)
    parts = []
    for k, (start, n) in enumerate([(0, 3000), (2500, 400), (2600, 300)]):
        t = pd.date_range("2024-01-01", periods=n, freq="h") + pd.Timedelta(hours=start)
        y = np.sin(2 * np.pi * np.arange(n) / 24) + 0.1 * np.cumsum(rng.normal(size=n))
        parts.append(pd.DataFrame({"when": t.astype(str), "meter": f"m{k}", "kwh": y}))
    data = tmp_path / "late.csv"
    pd.concat(parts).to_csv(data, index=False)
    one = one_process(data, scheme=scheme)
    settings = {**SETTINGS, "scheme": scheme}
    many = spawn("fit", {"data": str(data), "settings": settings}, tmp_path)
    assert many[1]["data"]["series_per_process"] == [1, 2]
    assert_same_fit(one, many[1])


def test_a_process_that_cannot_read_its_share_stops_every_process_in_one_line(tmp_path):
    data = series_csv(tmp_path / "meters.csv")
    sources = [str(data), str(tmp_path / "missing-on-this-machine.csv")]
    results = spawn("fit", {"data": sources, "settings": SETTINGS}, tmp_path)
    assert "file not found" in results[1]["error"]
    assert "file not found" in results[0]["error"] and results[0]["error"].endswith("(rank 1)")


def _cli(*args, timeout=TIMEOUT):
    cmd = [sys.executable, "-m", "lstmkit", "forecast", *args, "--quiet"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def _forecast_args(data, out, *more):
    return (
        "--data", str(data), "--time-col", "when", "--target", "kwh", "--series-col", "meter",
        "--epochs", "2", "--patience", "10", "--hidden-size", "8", "--statistical", "off",
        "--out", str(out), *more,
    )  # fmt: skip


def test_nproc_on_the_command_line_and_a_resume_in_another_number_of_processes(tmp_path):
    """`--nproc 2` trains through torchrun's launcher and writes one run (process 0), its
    backtest folds too; resumed
    in one process for two more epochs, it ends where four epochs in one process end."""
    data = series_csv(tmp_path / "meters.csv")
    two = _cli(*_forecast_args(data, tmp_path / "two", "--nproc", "2", "--backtest", "2"))
    assert two.returncode == 0, two.stderr[-3000:]
    metrics = json.loads((tmp_path / "two" / "metrics.json").read_text())
    folds = json.loads((tmp_path / "two" / "backtest.json").read_text())["folds"]
    assert [f["fold"] for f in folds] == [1, 2]  # each fold trained over both processes
    assert metrics["data"]["processes"] == 2 and metrics["epochs"] == 2
    config = json.loads((tmp_path / "two" / "config.json").read_text())
    assert config["config"]["train"]["nproc"] == 2
    assert not list(tmp_path.glob(".two*"))  # no stage or lock left behind
    resumed = _cli(*_forecast_args(data, tmp_path / "two", "--resume", "--epochs", "4"))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    straight = _cli(*_forecast_args(data, tmp_path / "one", "--epochs", "4"))
    assert straight.returncode == 0, straight.stderr[-3000:]
    a = load_file(tmp_path / "two" / "model.safetensors")
    b = load_file(tmp_path / "one" / "model.safetensors")
    for name in b:
        np.testing.assert_allclose(a[name], b[name], atol=1e-6, err_msg=name)


@pytest.mark.parametrize(
    ("more", "words"),
    [
        (("--nproc", "0"), "error: --nproc: input should be greater than 0"),
        (("--nproc", "5"), "error: --nproc: 5 processes but the data hold 4 series"),
    ],
)
def test_bad_process_counts_are_one_line_errors(tmp_path, more, words):
    data = series_csv(tmp_path / "meters.csv")
    r = _cli(*_forecast_args(data, tmp_path / "run", *more), timeout=120)
    assert r.returncode != 0
    lines = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and lines[0].startswith(words), r.stderr[-2000:]  # said once
    assert not (tmp_path / "run").exists()


def test_the_classifier_trains_over_two_processes_as_in_one(tmp_path):
    """Every process holds every sequence and takes its rows of each batch (rank, rank + 2, ...):
    the networks' weights end where one process's do (dropout off: each process draws its own
    masks). The folds, the linear paths and the choice are computed alike on both."""
    sys.path.insert(0, str(WORKER.parent))
    from cli_support import wide_csv

    data = wide_csv(tmp_path / "beats.csv", n=120)
    common = ("--data", str(data), "--label-col", "label", "--epochs", "3", "--dropout", "0")

    def classify(out, *more):
        cmd = [sys.executable, "-m", "lstmkit", "classify", *common, "--out", str(out), *more]
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        done = subprocess.run(
            [*cmd, "--quiet"], capture_output=True, text=True, timeout=TIMEOUT, env=env
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return load_file(out / "model.safetensors"), json.loads((out / "metrics.json").read_text())

    (one, m1), (two, m2) = classify(tmp_path / "one"), classify(tmp_path / "two", "--nproc", "2")
    assert set(one) == set(two)
    for name in one:
        np.testing.assert_allclose(two[name], one[name], atol=1e-5, err_msg=name)
    assert m2["selection"]["chosen"] == m1["selection"]["chosen"]
    np.testing.assert_allclose(m2["test"]["model"]["accuracy"], m1["test"]["model"]["accuracy"])


RAY_LOOP = """
import sys
import ray
from ray.train import RunConfig, ScalingConfig
from ray.train.torch import TorchTrainer

ARGS = sys.argv[1:-1]

def train_loop(config):
    from lstmkit.cli import main
    try:
        main(ARGS, standalone_mode=False)
    except SystemExit as stop:
        if stop.code:
            raise

ray.init(num_cpus=4, include_dashboard=False)  # two workers and the trainer's actor
TorchTrainer(
    train_loop,
    scaling_config=ScalingConfig(num_workers=2, use_gpu=False),
    run_config=RunConfig(storage_path=sys.argv[-1]),
).fit()
"""


def test_a_ray_cluster_runs_the_same_entry_point(tmp_path):
    """Ray's TorchTrainer starts the processes and their group; `lstmkit.cli.main` inside it
    trains over both and writes what one process writes (the optional `ray` extra)."""
    pytest.importorskip("ray.train.torch")
    data = series_csv(tmp_path / "meters.csv")
    args = ["forecast", *_forecast_args(data, tmp_path / "ray"), "--quiet"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-c", RAY_LOOP, *args, str(tmp_path / "ray_results")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads((tmp_path / "ray" / "metrics.json").read_text())["data"]["processes"] == 2
    one = _cli(*_forecast_args(data, tmp_path / "one"))
    assert one.returncode == 0, one.stderr[-3000:]
    a, b = (
        load_file(tmp_path / "ray" / "model.safetensors"),
        load_file(tmp_path / "one" / "model.safetensors"),
    )
    for name in b:
        np.testing.assert_allclose(a[name], b[name], atol=1e-6, err_msg=name)
