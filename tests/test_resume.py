"""Exact resume: `lstmkit forecast|classify` killed with SIGKILL at random moments and resumed
end with the weights of the uninterrupted run, bit for bit (issue 20, item 2).

Each run is a real process (`python -m lstmkit`), killed by the kernel while it trains: nothing
in lstmkit can run on the way out, as after a power cut or the OOM killer.
"""

from __future__ import annotations

import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from safetensors import safe_open
from safetensors.torch import load_file

from helpers import waves

pytestmark = pytest.mark.slow

FORECAST = ["--time-col", "when", "--target", "temp", "--epochs", "40", "--patience", "50"]
FORECAST += ["--hidden-size", "8", "--statistical", "off", "--dropout", "0"]
CLASSIFY = ["--label-col", "kind", "--epochs", "40", "--patience", "50", "--hidden-size", "8"]
CLASSIFY += ["--cv-max-rows", "0", "--linear-weight", "0", "--dropout", "0.2"]


def series_csv(path: pathlib.Path) -> pathlib.Path:
    n = 1500
    t = pd.date_range("2024-01-01", periods=n, freq="h")
    rng = np.random.default_rng(3)
    y = 10 + np.sin(np.arange(n) / 4.0) + rng.normal(0, 0.3, n)
    pd.DataFrame({"when": t.astype(str), "temp": y}).to_csv(path, index=False)
    return path


def lstmkit(task, data, out, options, *extra) -> subprocess.Popen:
    args = [sys.executable, "-m", "lstmkit", task, "--data", str(data), *options, "--out", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [*args, "--quiet", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )


def finished(proc: subprocess.Popen) -> str:
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err.decode()
    return out.decode()


def epoch_of(stage: pathlib.Path) -> int:
    """The last epoch checkpointed in a run's stage (0 where there is none yet)."""
    files = list((stage / "checkpoint").rglob("checkpoint.safetensors"))
    done = 0
    for path in files:
        try:
            with safe_open(str(path), framework="pt") as f:
                done = max(done, json.loads(f.metadata()["progress"])["epochs"])
        except Exception:
            pass
    return done


def kill_during_training(task, data, out, options, at_epoch: int, *extra) -> None:
    """Start a run and SIGKILL it once its checkpoint has reached `at_epoch` (0: at once, maybe
    before any checkpoint), plus a random few milliseconds, so the kill lands mid-epoch, mid-
    validation or mid-write."""
    stage = out.parent / f".{out.name}.partial"
    proc = lstmkit(task, data, out, options, *extra)
    deadline = time.monotonic() + 300
    while epoch_of(stage) < at_epoch and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(random.uniform(0, 0.05))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists(), "the run finished before it could be killed"


def same_weights(a: pathlib.Path, b: pathlib.Path) -> None:
    wa, wb = load_file(a / "model.safetensors"), load_file(b / "model.safetensors")
    assert wa.keys() == wb.keys()
    for k in wa:
        assert wa[k].dtype == wb[k].dtype and bool((wa[k] == wb[k]).all()), k  # bit for bit


@pytest.mark.parametrize("task", ["forecast", "classify"])
def test_a_run_killed_at_random_moments_resumes_to_the_same_weights_bit_for_bit(tmp_path, task):
    if task == "forecast":
        data, options = series_csv(tmp_path / "series.csv"), FORECAST
    else:
        data, options = tmp_path / "waves.csv", CLASSIFY
        waves(150).to_csv(data, index=False)
    clean = tmp_path / "clean"
    finished(lstmkit(task, data, clean, options))
    # three kills in a row: early (maybe before the first checkpoint), mid-run, late; each run
    # after the first resumes the one before
    rng = random.Random(20 + len(task))
    out = tmp_path / "killed"
    for at in (rng.randint(0, 2), rng.randint(5, 15), rng.randint(18, 30)):
        kill_during_training(task, data, out, options, at, *(["--resume"] * (at > 2)))
    said = finished(lstmkit(task, data, out, options, "--resume"))
    same_weights(clean, out)
    metrics = json.loads((out / "metrics.json").read_text())
    clean_metrics = json.loads((clean / "metrics.json").read_text())
    assert metrics["epochs"] == clean_metrics["epochs"]
    assert metrics["history"] == clean_metrics["history"]  # no epoch trained twice
    assert "resumed from epoch" in said
    left = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("."))
    assert left == [], left  # no stage, no lock, no .tmp left behind


def test_resume_refuses_other_settings_by_name_and_records_a_longer_run(tmp_path):
    from cli_support import run

    data = series_csv(tmp_path / "series.csv")
    out = tmp_path / "run"
    short = [o if o != "40" else "3" for o in FORECAST]  # --epochs 3
    finished(lstmkit("forecast", data, out, short))
    r = run(
        "forecast",
        "--data",
        str(data),
        *short,
        "--out",
        str(out),
        "--quiet",
        "--resume",
        "--lr",
        "0.5",
    )
    assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1, r.output
    assert r.stderr.startswith("error: --lr: the checkpoint in ") and "0.001" in r.stderr
    assert "0.5" in r.stderr and "epochs, nproc, patience, threads" in r.stderr
    longer = [o if o != "40" else "5" for o in FORECAST]
    said = finished(lstmkit("forecast", data, out, longer, "--resume"))
    assert "resumed from epoch 3; changed epochs 3 -> 5" in said
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["train"]["epochs"] == 5
    assert json.loads((out / "metrics.json").read_text())["resumed"]["changed"] == {
        "epochs": [3, 5]
    }


def test_resume_on_other_data_or_a_damaged_checkpoint_is_one_line(tmp_path):
    from cli_support import run

    data = series_csv(tmp_path / "series.csv")
    out = tmp_path / "run"
    kill_during_training("forecast", data, out, FORECAST, 2)
    other = tmp_path / "other.csv"
    df = pd.read_csv(data)
    df.assign(temp=df.temp + 1).to_csv(other, index=False)
    r = run("forecast", "--data", str(other), *FORECAST, "--out", str(out), "--quiet", "--resume")
    assert r.exit_code == 2 and "trained on other data" in r.stderr, r.output
    stage = tmp_path / ".run.partial" / "checkpoint" / "checkpoint.safetensors"
    stage.write_bytes(stage.read_bytes()[:100])
    r = run("forecast", "--data", str(data), *FORECAST, "--out", str(out), "--quiet", "--resume")
    assert r.exit_code == 2 and "not a readable checkpoint" in r.stderr, r.output
    assert len(r.stderr.strip().splitlines()) == 1
