"""runs: atomic writes, and a run directory read as untrusted input."""

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
from lstmkit.runs import atomic_write, read_run_config, write_json


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


# ---- a run directory is untrusted input (issue 20, item 3 and part of 5) --------------------

SAVED = pathlib.Path(__file__).parent / "data" / "saved-before-the-config-tree"


def fresh_run(tmp_path):
    """A small forecast run saved by this version, copied so that a test may damage it."""
    from helpers import synthetic
    from lstmkit import Forecaster

    folder = tmp_path / "run"
    Forecaster(epochs=1, hidden_size=4).fit(
        synthetic(), time="when", target="temp", series="site", quiet=True
    ).save(folder)
    return folder


def load_error(folder) -> str:
    from lstmkit import Forecaster

    with pytest.raises(LstmkitError) as err:
        Forecaster.load(folder)
    message = str(err.value)
    assert "\n" not in message and message.startswith("--run: ")
    return message


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory):
    return fresh_run(tmp_path_factory.mktemp("saved"))


def damaged(saved_run, tmp_path):
    import shutil

    folder = tmp_path / "damaged"
    shutil.copytree(saved_run, folder)
    return folder


def test_a_fifo_in_place_of_a_run_file_is_refused_not_waited_on(saved_run, tmp_path):
    for name in ("config.json", "state.json", "model.safetensors"):
        folder = damaged(saved_run, tmp_path / name)
        (folder / name).unlink()
        os.mkfifo(folder / name)
        if name == "config.json":  # read_run_config asks is_file() first: "not a run directory"
            with pytest.raises(LstmkitError, match="not a run directory"):
                read_run_config(folder)
            continue
        assert "not a regular file" in load_error(folder)


def test_truncated_or_foreign_weights_are_one_line_errors(saved_run, tmp_path):
    from safetensors.torch import save_file

    folder = damaged(saved_run, tmp_path / "cut")
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(data[: len(data) // 2])
    assert "not a readable safetensors file" in load_error(folder)

    folder = damaged(saved_run, tmp_path / "shape")
    save_file({"huge": torch.zeros(2, 2)}, folder / "model.safetensors")
    message = load_error(folder)
    assert "missing" in message and "unexpected huge" in message

    folder = damaged(saved_run, tmp_path / "nan")
    from safetensors.torch import load_file

    tensors = load_file(folder / "model.safetensors")
    first = next(k for k, v in tensors.items() if v.is_floating_point())
    tensors[first] = torch.full_like(tensors[first], float("nan"))
    save_file(tensors, folder / "model.safetensors")
    assert "NaN or infinite" in load_error(folder)


def test_a_header_that_disagrees_with_the_config_is_refused_before_reading(saved_run, tmp_path):
    folder = damaged(saved_run, tmp_path / "wide")
    config = json.loads((folder / "config.json").read_text())
    config["config"]["model"]["hidden_size"] = 5  # the weights hold hidden_size 4
    (folder / "config.json").write_text(json.dumps(config))
    message = load_error(folder)
    assert "has shape" in message and "the config calls for" in message


def test_non_json_and_oversized_json_are_one_line_errors(saved_run, tmp_path, monkeypatch):
    folder = damaged(saved_run, tmp_path / "text")
    (folder / "state.json").write_text("{not json")
    assert "not valid JSON" in load_error(folder)
    from lstmkit import runs

    folder = damaged(saved_run, tmp_path / "big")
    monkeypatch.setattr(runs, "MAX_JSON_BYTES", 100)
    assert "MB; refused" in load_error(folder)


@pytest.mark.parametrize(
    "section, name, value, said",
    [
        ("model", "hidden_size", 10**9, "less than or equal to 4096"),
        ("train", "threads", 10**6, "less than or equal to 256"),
        ("model", "horizon", 10**12, "less than or equal to 10000"),
        ("train", "lr", 1e300, "less than or equal to 10"),
    ],
)
def test_sizes_in_a_config_are_bounded(saved_run, tmp_path, section, name, value, said):
    folder = damaged(saved_run, tmp_path / name)
    config = json.loads((folder / "config.json").read_text())
    config["config"][section][name] = value
    (folder / "config.json").write_text(json.dumps(config))
    from lstmkit import Forecaster

    with pytest.raises(LstmkitError, match=f"{name}: .*{said}"):
        Forecaster.load(folder)


@pytest.mark.parametrize("name", ["n_features", "design_size", "season", "ar_order"])
def test_sizes_in_a_state_are_refused_before_anything_is_allocated(saved_run, tmp_path, name):
    """n_features = 10^9 used to build a 144 GB network before the weights were read; the model is
    now built on the meta device and checked against the file's header, and counts are bounded."""
    import resource

    folder = damaged(saved_run, tmp_path / name)
    state = json.loads((folder / "state.json").read_text())
    for value, said in ((10**12, "expected 0 to 1000000"), (-3, "expected 0 to")):
        state[name] = value
        (folder / "state.json").write_text(json.dumps(state))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        assert said in load_error(folder)
        assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # < 200 MB
    state[name] = 10**6 if name in ("n_features", "design_size") else state[name]
    (folder / "state.json").write_text(json.dumps(state))
    if name in ("n_features", "design_size"):  # within the bound, yet not what the file holds
        assert "has shape" in load_error(folder)


def test_a_classifier_state_with_a_million_members_is_refused(tmp_path):
    from helpers import waves
    from lstmkit import SequenceClassifier

    folder = tmp_path / "clf"
    SequenceClassifier(label_col="kind", epochs=1, hidden_size=4, linear_weight=0).fit(
        waves(60), quiet=True
    ).save(folder)
    state = json.loads((folder / "state.json").read_text())
    state["selection"]["members"] = 10**6
    (folder / "state.json").write_text(json.dumps(state))
    with pytest.raises(LstmkitError, match="1000000 network members; at most 6400"):
        SequenceClassifier.load(folder)


def test_a_symlink_out_of_the_run_directory_is_refused(saved_run, tmp_path):
    folder = damaged(saved_run, tmp_path / "link")
    outside = tmp_path / "elsewhere.safetensors"
    (folder / "model.safetensors").rename(outside)
    (folder / "model.safetensors").symlink_to(outside)
    assert "leads out of the run directory" in load_error(folder)


@pytest.mark.parametrize("value", [None, "NaN", 0.0, "x"])
def test_a_nan_or_zero_scale_in_a_run_is_refused_at_load(saved_run, tmp_path, value):
    """It gave blank predictions and exit 0."""
    folder = damaged(saved_run, tmp_path / "scale")
    state = json.loads((folder / "state.json").read_text())
    state["scaler_y"]["std"] = [value]
    (folder / "state.json").write_text(json.dumps(state).replace('"NaN"', "NaN"))
    message = load_error(folder)
    assert "scaler_y" in message and "refused" in message
