"""lstmkit.explain on saved runs: every file it promises, complete attributions, every cell."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from helpers import smiles_table, synthetic, waves
from lstmkit import LstmkitError, explain
from lstmkit.classify.estimator import SequenceClassifier
from lstmkit.forecast.estimator import Forecaster


@pytest.fixture(scope="module")
def forecast_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fc") / "run"
    data = folder.parent / "d.csv"
    synthetic().to_csv(data, index=False)
    fc = Forecaster(epochs=2, hidden_size=8).fit(
        str(data), time="when", target="temp", series="site", quiet=True
    )
    fc.save(folder)
    return folder


def own(run) -> str:
    """The file a run was fitted on: a run directory is untrusted, so explain reads it only when
    named (explanation.data_to_read)."""
    return str(run.parent / "d.csv")


def test_forecast_explain_writes_json_plots_and_report_section(forecast_run):
    result = explain(forecast_run, data=own(forecast_run), index=5)
    saved = json.loads((forecast_run / "explain.json").read_text())
    att = saved["attribution"]
    assert saved["kind"] == "forecast" and len(att["per_step"]) == saved["example"]["span"]
    total = sum(att["per_feature"].values())
    assert total == pytest.approx(att["f_x"] - att["f_baseline"], rel=0.01, abs=1e-6)  # complete
    assert att["linear_ar"] + att["lstm"] == pytest.approx(total, rel=1e-6, abs=1e-9)
    layer = saved["layers"][0]
    assert (layer["layer"], layer["direction"]) == (0, 0) and len(layer["units"]) == 8
    for unit in layer["units"]:
        assert 0 < unit["forget_mean"] < 1 and unit["half_life"] > 0
    for name in ("explain_attribution.png", "explain_gates.png", "explain_units.png"):
        assert (forecast_run / "plots" / name).is_file()
    page = (forecast_run / "report.html").read_text()
    assert page.count("<section id='explain'>") == 1 and "half-life" in page
    explain(forecast_run, data=own(forecast_run), index=6)  # again: replaced, not added
    assert (forecast_run / "report.html").read_text().count("<section id='explain'>") == 1
    assert any("linear AR" in line for line in result["summary"])
    kept = json.loads((forecast_run / "metrics.json").read_text())["lstm"]["kept"]
    line = next(line for line in result["summary"] if "linear AR path" in line)
    assert ("dropped by the correction test" in line) is not kept
    if not kept:  # the gate zeroed the median head: the LSTM moves the point forecast by nothing
        assert att["lstm"] == pytest.approx(0.0, abs=1e-9)


def test_forecast_explain_by_time_and_bad_choices(forecast_run):
    # not another test's file
    first = explain(forecast_run, data=own(forecast_run), index=3, write=False)
    origin = first["example"]["origin"]
    result = explain(forecast_run, data=own(forecast_run), time_at=origin)
    assert result["example"]["origin"] == origin
    with pytest.raises(LstmkitError, match="--index: expected 0 to"):
        explain(forecast_run, data=own(forecast_run), index=10**6)
    with pytest.raises(LstmkitError, match="--time: 1999-01-01 is not a time step"):
        explain(forecast_run, data=own(forecast_run), time_at="1999-01-01")
    with pytest.raises(
        LstmkitError, match="--time: expected a time like 2013-12-01 06:00, got 'noon'"
    ):
        # once pandas' DateParseError, a traceback
        explain(forecast_run, data=own(forecast_run), time_at="noon")


@pytest.mark.parametrize("cell", ["lstm", "gru", "nfg", "rnn", "cifg"])
def test_classifier_explain_for_every_kind_of_cell(tmp_path, cell):
    data = tmp_path / "w.csv"
    waves(60).to_csv(data, index=False)
    clf = SequenceClassifier(
        label_col="kind", epochs=2, hidden_size=6, cell=cell, conv_channels=4, conv_stride=2
    )
    clf.fit(str(data), quiet=True).save(tmp_path / "run")
    result = explain(tmp_path / "run", index=2, data=str(data))  # its own file: its test rows
    att = result["attribution"]
    assert len(att["per_step"]) == 24 and att["completeness_error"] <= 0.01
    assert sum(att["per_step"]) == pytest.approx(att["f_x"] - att["f_baseline"], rel=0.01, abs=1e-6)
    assert len(result["layers"]) == 2  # bidirectional: one entry per direction
    unit = result["layers"][0]["units"][0]
    if cell == "rnn":
        assert unit["forget_mean"] is None
    elif cell == "nfg":
        assert math.isinf(unit["half_life"])
    else:
        assert 0 < unit["forget_mean"] < 1


def test_smiles_explain_attributes_tokens(tmp_path):
    clf = SequenceClassifier(label_col="acid", smiles_col="smiles", epochs=2, hidden_size=6)
    clf.fit(smiles_table(), quiet=True).save(tmp_path / "run")
    with pytest.raises(LstmkitError, match="fitted on a DataFrame; pass that file with --data"):
        explain(tmp_path / "run")  # fitted on a DataFrame: nothing to re-read
    new = tmp_path / "new.csv"
    smiles_table().to_csv(new, index=False)
    result = explain(tmp_path / "run", index=1, data=str(new))
    tokens = result["example"]["tokens"]
    assert (
        len(tokens)
        == len(result["attribution"]["per_step"])
        == len(result["attribution"]["occlusion"]["delta"])
    )
    assert result["attribution"]["completeness_error"] <= 0.01


@pytest.mark.parametrize("features", ["n-grams", "minirocket"])
def test_a_linear_path_is_named_and_its_fused_probability_given(tmp_path, features):
    if features == "minirocket":  # MiniRocket's features of the values
        table, settings = waves(60), dict(label_col="kind", linear_features="minirocket")
    else:
        table, settings = smiles_table(), dict(label_col="acid", smiles_col="smiles")
    clf = SequenceClassifier(**settings, epochs=2, hidden_size=6, linear_weight=0.5)
    clf.fit(table, quiet=True).save(tmp_path / "run")
    new = tmp_path / "new.csv"
    table.to_csv(new, index=False)
    first = explain(tmp_path / "run", index=2, data=str(new))["summary"][0]
    fused = SequenceClassifier.load(tmp_path / "run").predict_proba(table).iloc[2]
    path = "MiniRocket" if features == "minirocket" else "logistic regression"
    said = f"The model (the network fused with the {path} path (w = 0.5)) gives "
    assert (
        "the network gives" in first
        and said in first
        and first.endswith("what follows explains the network.")
    )
    probability = float(first.split(said)[1].split(";")[0])  # of the class the network picks
    assert probability in {
        round(float(fused[c]), 3) for c in fused.index if str(c).startswith("p_")
    }


def test_explain_runs_the_fused_model_through_the_loop(tmp_path):
    clf = SequenceClassifier(label_col="kind", epochs=1, hidden_size=4).fit(waves(30), quiet=True)
    assert all(
        m.kernel == "fused" for net in clf.model for m in net.modules() if hasattr(m, "kernel")
    )
    data = tmp_path / "w.csv"
    waves(30).to_csv(data, index=False)
    result = explain(clf, index=0, data=str(data))
    assert np.isfinite(result["attribution"]["f_x"])
    assert all(
        m.kernel == "fused" for net in clf.model for m in net.modules() if hasattr(m, "kernel")
    )


def test_the_season_before_the_forecast_is_counted_season_minus_one_steps_back(tmp_path):
    """Lung deaths, one step ahead: the model's linear path averages the AR with seasonal naive,
    which reads y[t + 1 - 12], 11 steps back from the origin; the summary must credit that step."""
    fc = Forecaster().fit("uk-lung-deaths", quiet=True)
    # lag 11: seasonal naive's only
    assert fc.metrics["ar_combination"] is not None and fc.baseline_ar[0] < 11
    fc.save(tmp_path / "run")
    result = explain(tmp_path / "run")
    line = next(line for line in result["summary"] if "a season before the forecast" in line)
    share = line.split("a season before the forecast's (11 back) ")[1].split("%")[0]
    assert int(share) > 0, line


@pytest.mark.parametrize("field", ["source", "dataset"])
def test_a_run_directory_never_makes_explain_read_a_file_it_names(forecast_run, tmp_path, field):
    """A crafted config.json / state.json naming a file outside the run (absolute or ../..) is
    refused in one line; nothing of that file reaches explain.json or the message."""
    import shutil

    secret = tmp_path / "secret.csv"
    secret.write_text("when,temp,site\n2020-01-01,123456789,s\n")
    run = tmp_path / "run"
    shutil.copytree(forecast_run, run)
    (run / "explain.json").unlink(missing_ok=True)  # other tests explained the fixture's run
    for name in (str(secret), "../" * 8 + str(secret).lstrip("/")):
        state = json.loads((run / "state.json").read_text())
        state[field] = name
        (run / "state.json").write_text(json.dumps(state))
        with pytest.raises(LstmkitError) as err:
            explain(run)
        message = str(err.value)
        assert "\n" not in message and "123456789" not in message and "site" not in message
        assert message.startswith("--run:" if field == "dataset" else "--data:")
        assert not (run / "explain.json").exists()
    # named by the user, the file is read: the same explanation as from the run's own file
    state = json.loads((forecast_run / "state.json").read_text())
    (run / "state.json").write_text(json.dumps(state | {"source": str(secret)}))
    assert (
        explain(run, index=1, data=own(forecast_run), write=False)["summary"]
        == explain(forecast_run, index=1, data=own(forecast_run), write=False)["summary"]
    )
