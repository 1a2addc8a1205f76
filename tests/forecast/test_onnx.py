"""`lstmkit export` of forecasters: the graphs against predict and update in onnxruntime, the
calendar the graphs compute against pandas', the cells ONNX cannot hold, the docs' snippet."""

from __future__ import annotations

import json
import pathlib
import re

import numpy as np
import pandas as pd
import pytest
import torch

from cli_support import run
from helpers import synthetic
from lstmkit import LstmkitError
from lstmkit.data.windows import calendar_features
from lstmkit.forecast.estimator import Forecaster
from lstmkit.forecast.graphs import calendar_of, next_time, step_rule

ort = pytest.importorskip("onnxruntime")

FAST = dict(epochs=1, hidden_size=8, statistical="off")
COLUMNS = dict(time="when", target="temp", series="site")
DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs" / "deploy.md"


@pytest.mark.parametrize(
    "freq, start",
    [
        ("h", "1985-03-01"),
        ("15min", "2020-02-28 23:00"),
        ("500ms", "2024-12-31 23:58"),
        ("D", "1960-01-01"),
        ("B", "2023-12-29"),
        ("W-SUN", "1999-01-03"),
        ("MS", "1700-01-01"),
        ("ME", "1850-01-31"),
        ("QS", "1800-01-01"),
        ("YS", "1700-01-01"),
    ],
)
def test_the_graphs_calendar_is_pandas(freq, start):
    """The sin/cos of the next step's hour, weekday, day of year or month, from int64 ms,
    across leap years, month ends and times before 1970."""
    times = pd.date_range(start, periods=300 if freq[0] in "QY" else 3000, freq=freq)
    want = calendar_features(times + pd.tseries.frequencies.to_offset(freq), freq)
    ms = torch.as_tensor(times.as_unit("ms").asi8.copy())
    got = calendar_of(next_time(ms, step_rule(freq)), freq, torch.float64).numpy()
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_a_step_the_graph_cannot_follow_is_one_line():
    with pytest.raises(LstmkitError, match="whole number of milliseconds"):
        step_rule("10us")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Runs with both schemes, covariates and quantiles, saved and exported by the command."""
    folder = tmp_path_factory.mktemp("export")
    df = synthetic(n=500, series=("a", "b", "c"))
    df.to_csv(folder / "data.csv", index=False)
    out = {}
    for scheme in ("every-step", "windows"):
        fc = Forecaster(
            **FAST, horizon=6, quantiles=[0.1, 0.9], scheme=scheme, window=12,
            past_covariates=["wind"],
        ).fit(str(folder / "data.csv"), **COLUMNS, quiet=True)  # fmt: skip
        fc.save(folder / scheme)
        result = run("export", "--run", str(folder / scheme))
        assert result.exit_code == 0, result.output
        out[scheme] = (folder / scheme, df)
    return out


@pytest.mark.parametrize("scheme", ["every-step", "windows"])
def test_export_writes_both_graphs_checked_within_1e5(exported, scheme):
    folder, _ = exported[scheme]
    card = json.loads((folder / "forecaster.json").read_text())
    for name in ("forecaster.onnx", "step.onnx"):
        assert (folder / name).is_file()
        assert card["graphs"][name]["max_abs_diff"] <= 1e-5
        assert card["graphs"][name]["exporter"] == "torchscript"
    assert card["quantiles"] == [0.1, 0.5, 0.9] and card["past_covariates"] == ["wind"]


@pytest.mark.parametrize("scheme", ["every-step", "windows"])
def test_the_graphs_give_predict_and_update(exported, scheme):
    """The docs' snippet, as printed, on each series: forecaster.onnx after the history equals
    predict on it, and step.onnx after each new row equals Forecaster.update (float32, target
    units, within 1e-4)."""
    folder, df = exported[scheme]
    fc = Forecaster.load(folder)
    code = DOCS.read_text().split("<!-- snippet: onnx -->\n```python\n")[1].split("```")[0]
    space: dict = {}
    exec(compile(code, str(DOCS), "exec"), space)
    history_end = np.sort(df.when.unique())[-5]
    history, new = df[df.when < history_end], df[df.when >= history_end]
    want = [fc.predict(history)]
    fc.start_stream(history)
    for t in np.sort(new.when.unique()):
        want.append(fc.update(new[new.when == t]))
    for name in ("a", "b", "c"):
        got = space["onnx_forecast"](
            str(folder), history[history.site == name], new[new.site == name], "when", "temp", name
        )
        for g, w in zip(got, want, strict=True):
            mine = w[w.series == name]
            np.testing.assert_allclose(g[:, 1], mine.predicted, rtol=0, atol=1e-4)
            np.testing.assert_allclose(g[:, 0], mine["q0.1"], rtol=0, atol=1e-4)
            np.testing.assert_allclose(g[:, 2], mine["q0.9"], rtol=0, atol=1e-4)


def test_the_snippet_is_short():
    code = DOCS.read_text().split("<!-- snippet: onnx -->\n```python\n")[1].split("```")[0]
    lines = [
        line for line in code.splitlines() if line.strip() and not line.strip().startswith('"""')
    ]
    assert len(lines) <= 18


def test_a_variant_cell_gets_step_onnx_and_a_reason(tmp_path):
    df = synthetic(n=300, series=("a",))
    fc = Forecaster(**FAST, cell="cifg").fit(df, **COLUMNS, quiet=True)
    from lstmkit.forecast.onnx import export_forecaster

    prepared = fc._prepare(df, fc.state.past_covariates, fc.state.freq)
    card = export_forecaster(fc, tmp_path, prepared.segments)
    assert card["graphs"]["step.onnx"]["max_abs_diff"] <= 1e-5
    assert not card["graphs"]["forecaster.onnx"]["written"]
    assert re.search(
        "no ONNX op over a dynamic time axis", card["graphs"]["forecaster.onnx"]["why"]
    )
    assert not (tmp_path / "forecaster.onnx").exists() and (tmp_path / "step.onnx").is_file()


def test_export_of_a_statistical_base_is_one_line(tmp_path):
    import dataclasses

    from lstmkit.forecast.onnx import export_forecaster

    df = synthetic(n=300, series=("a",))
    fc = Forecaster(**FAST).fit(df, **COLUMNS, quiet=True)
    fc.state = dataclasses.replace(fc.state, design_size=fc.state.n_lag_columns + 1)
    with pytest.raises(LstmkitError, match="statistical off") as err:
        export_forecaster(fc, tmp_path, [])
    assert "\n" not in str(err.value)
