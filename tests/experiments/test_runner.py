"""One real training run per claim, on the issue's budget: the LSTM learns the long-lag tasks,
the tanh RNN does not. Slow tier (minutes); `make test` runs it."""

from __future__ import annotations

import pytest

from lstmkit.experiments.runner import RunSpec, run_one, summarise


def test_records_have_the_documented_fields():
    r = run_one(
        RunSpec("adding", "cifg", 20, 0, steps=4, batch_size=8, hidden_size=8, eval_every=2)
    )
    assert {
        "task",
        "cell",
        "length",
        "seed",
        "metric",
        "value",
        "baseline",
        "steps",
        "seconds",
    } <= set(r)
    assert r["steps"] == 4 and len(r["curve"]) == 2 and r["metric"] == "mse"
    rows = summarise([r, {**r, "seed": 1, "value": r["value"] + 1}])
    assert rows[0]["seeds"] == 2 and rows[0]["mean"] == pytest.approx(r["value"] + 0.5)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lstm_solves_adding_100(seed):
    # T=100, H=64, B=64, Adam 1e-2, clip 1, forget bias 1, at most 2000 steps.
    r = run_one(
        RunSpec("adding", "lstm", 100, seed, steps=2000, forget_bias=1.0, stop_when_solved=True)
    )
    assert r["value"] < 0.01, r["curve"]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tanh_rnn_does_not(seed):
    r = run_one(RunSpec("adding", "rnn", 100, seed, steps=2000, eval_every=500))
    assert r["value"] > 0.05, r["curve"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "cell, check", [("lstm", lambda v: v >= 0.99), ("rnn", lambda v: v < 0.40)]
)
def test_temporal_order_half_scale(cell, check):
    r = run_one(
        RunSpec(
            "temporal",
            cell,
            50,
            0,
            steps=1500,
            forget_bias=3.0,
            stop_when_solved=True,
            eval_every=250,
        )
    )
    assert check(r["value"]), r["curve"]
