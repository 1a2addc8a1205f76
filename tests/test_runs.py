"""runs: atomic writes and pickle-free checkpoints that restore the optimizer exactly."""

from __future__ import annotations

import json
import math
import os
import pathlib

import numpy as np
import pandas as pd
import pytest
import torch

from lstmkit import LstmkitError
from lstmkit.runs import atomic_write, load_checkpoint, read_run_config, save_checkpoint, write_json


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")

    def boom(tmp):
        open(tmp, "w").write("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(path, boom)
    assert path.read_text() == "old" and list(tmp_path.iterdir()) == [path]


def test_json_has_no_nan_tokens(tmp_path):
    write_json(tmp_path / "m.json", {"a": math.nan, "b": [1.0, math.inf]})
    assert json.loads((tmp_path / "m.json").read_text()) == {"a": None, "b": [1.0, None]}


def test_checkpoint_round_trip(tmp_path):
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(3):
        opt.zero_grad()
        model(torch.randn(4, 3)).sum().backward()
        opt.step()
    save_checkpoint(
        tmp_path, model, opt, {"epochs": 3}, {k: v.clone() for k, v in model.state_dict().items()}
    )
    assert not any(p.suffix == ".pkl" or p.suffix == ".pt" for p in tmp_path.iterdir())
    model2 = torch.nn.Linear(3, 2)
    opt2 = torch.optim.Adam(model2.parameters(), lr=0.5)
    progress, _best = load_checkpoint(tmp_path, model2, opt2)
    assert progress["epochs"] == 3 and opt2.param_groups[0]["lr"] == 0.01
    for a, b in zip(model.parameters(), model2.parameters(), strict=True):
        torch.testing.assert_close(a, b)
        sa, sb = opt.state[a], opt2.state[b]
        torch.testing.assert_close(sa["exp_avg"], sb["exp_avg"])
        torch.testing.assert_close(sa["exp_avg_sq"], sb["exp_avg_sq"])
    assert load_checkpoint(tmp_path / "none", model2, opt2) is None


def test_read_run_config_names_a_missing_run_and_a_run_of_another_task(tmp_path):
    with pytest.raises(LstmkitError, match=r"is not a run directory \(no config.json\)"):
        read_run_config(tmp_path / "nope")
    write_json(tmp_path / "config.json", {"task": "classify", "config": {}})
    assert read_run_config(tmp_path, "classify")["task"] == "classify"
    with pytest.raises(LstmkitError, match="is a classify run, not a forecast run"):
        read_run_config(tmp_path, "forecast")
    write_json(tmp_path / "config.json", {"config": {}})  # saved before runs named their task
    assert read_run_config(tmp_path)["task"] == "forecast"


def test_atomic_write_gives_the_permissions_open_would_and_keeps_an_existing_files(tmp_path):
    old = os.umask(0o022)
    try:
        write_json(tmp_path / "metrics.json", {"a": 1})
        assert (
            tmp_path / "metrics.json"
        ).stat().st_mode & 0o777 == 0o644  # not mkstemp's private 0600
        os.chmod(tmp_path / "metrics.json", 0o640)
        write_json(tmp_path / "metrics.json", {"a": 2})
        assert (tmp_path / "metrics.json").stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(old)


# ---- run directories saved before the config tree keep loading -------------------------------

OLD_RUNS = pathlib.Path(__file__).parent / "data" / "saved-before-the-config-tree"
OLD_RUNS_RECIPE = """(with lstmkit at 0e7e94e on the path)
fc = Forecaster(horizon=2, quantiles=[0.1, 0.9], epochs=2, hidden_size=4).fit(synthetic(600),
time="when",
                                                                              target="temp", "
                                                                                     "series="site")
SequenceClassifier(label_col="kind", hidden_size=4, epochs=2, linear_weight=0.5,
linear_features="raw").fit(waves(60))
SequenceClassifier(label_col="acid", smiles_col="smiles", hidden_size=4, epochs=2,
embed_dim=4).fit(smiles_table())
each saved, then load(...).predict(...) written to expected.csv"""


def test_a_forecast_run_saved_before_the_config_tree_loads_and_predicts_as_it_did():
    from helpers import synthetic
    from lstmkit import Forecaster

    fc = Forecaster.load(OLD_RUNS / "forecast")
    assert fc.config.split.train == 0.7 and fc.config.model.levels == [0.1, 0.5, 0.9]
    assert fc.state.classical is not None and fc.state.conformal is not None
    df = synthetic(600)
    expected = pd.read_csv(OLD_RUNS / "forecast" / "expected.csv")
    got = fc.predict(df[df["when"] < "2024-01-20"])
    np.testing.assert_allclose(
        got[["predicted", "q0.1", "q0.5", "q0.9"]], expected[["predicted", "q0.1", "q0.5", "q0.9"]]
    )
    assert list(got["series"]) == list(expected["series"])


@pytest.mark.parametrize("name", ["classify", "smiles"])
def test_a_classifier_run_saved_before_the_config_tree_loads_and_predicts_as_it_did(name):
    from helpers import smiles_table, waves
    from lstmkit import SequenceClassifier

    clf = SequenceClassifier.load(OLD_RUNS / name)
    data = waves(10, seed=3) if name == "classify" else smiles_table().head(8)
    expected = pd.read_csv(OLD_RUNS / name / "expected.csv")
    got = clf.predict_proba(data)
    p = [c for c in expected.columns if c.startswith("p_")]
    np.testing.assert_allclose(got[p].to_numpy(), expected[p].to_numpy(), rtol=0, atol=1e-12)
