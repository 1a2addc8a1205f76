"""The command line: thin, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import typing

import click
import pytest
from click.testing import CliRunner

from lstmkit import CELLS
from lstmkit.classify.config import ClassifyConfig
from lstmkit.cli import main
from lstmkit.forecast.config import ForecastConfig


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_bench_writes_table_and_json(tmp_path):
    path = tmp_path / "bench.json"
    result = run(
        "bench", "--sizes", "8x2x3", "--cells", "lstm,cifg", "--repeats", "1", "--json", str(path)
    )
    assert result.exit_code == 0, result.output
    assert (
        "cifg" in result.output
        and "script loop" in result.output
        and "1 thread(s)" in result.output
    )
    rows = json.loads(path.read_text())["results"]
    assert [r["cell"] for r in rows] == ["lstm", "cifg"]


def test_bad_sizes_is_one_line_exit_2():
    result = run("bench", "--sizes", "5x5")
    assert result.exit_code == 2
    assert result.output.strip() == "error: --sizes: expected HxNxL items like 50x32x24, got '5x5'"


def test_unknown_cell_is_one_line_exit_2():
    result = run("bench", "--sizes", "4x2x2", "--cells", "lstm,lsmt", "--repeats", "1")
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: --cells: unknown ['lsmt']")
    assert len(result.output.strip().splitlines()) == 1


def test_cells_lists_the_registry():
    result = run("cells")
    assert result.exit_code == 0
    for name in CELLS:
        assert name in result.output
    assert "[i, f, o]" in result.output  # docstrings are printed verbatim, not as Rich markup


def test_help_answers_the_question():
    result = run("bench", "--help")
    assert result.exit_code == 0
    for word in ("--sizes", "--cells", "--threads", "--json", "torch.nn.LSTM", "kernel"):
        assert word in result.output


# ---- forecast / predict / datasets ----------------------------------------------------------


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


def small_forecast(data, out, *options):
    """`lstmkit forecast` on small_csv's columns, small and quiet; asserts that it ran."""
    r = run(
        "forecast",
        "--data",
        str(data),
        "--time-col",
        "when",
        "--target",
        "temp",
        "--epochs",
        "2",
        "--hidden-size",
        "8",
        *options,
        "--out",
        str(out),
        "--quiet",
    )
    assert r.exit_code == 0, r.output
    return r


def test_forecast_and_predict_end_to_end(tmp_path):
    data = small_csv(tmp_path / "d.csv")
    out = tmp_path / "run"
    r = small_forecast(data, out)
    assert "linear_ar" in r.output and "report:" in r.output
    metrics = json.loads((out / "metrics.json").read_text())
    said = "LSTM correction kept" if metrics["lstm"]["kept"] else "LSTM correction dropped"
    assert (
        f"linear AR: {metrics['ar_order']} lags, {metrics['ar_form']}" in r.output
        and said in r.output
    )
    fitted = set(metrics["classical"]["models"])  # statsforecast's, beside the three baselines
    assert {"auto_ets", "auto_theta"} <= fitted and set(metrics["test"]) == {
        "model",
        "persistence",
        "seasonal_naive",
        "linear_ar",
    } | fitted
    assert (out / "checkpoint" / "progress.json").is_file()
    r = run("predict", "--run", str(out), "--data", str(data), "--out", str(tmp_path / "f.csv"))
    assert r.exit_code == 0, r.output
    assert (tmp_path / "f.csv").read_text().startswith("series,origin,time,step,predicted")


def test_predict_says_what_it_interpolated_on_stderr(tmp_path):
    data = small_csv(tmp_path / "d.csv")
    out = tmp_path / "run"
    small_forecast(data, out)
    # 200 of 400 hours
    every_other = small_csv(tmp_path / "two_hourly.csv", EVEN=lambda df: df.iloc[::2])
    r = run("predict", "--run", str(out), "--data", str(every_other))
    assert r.exit_code == 0, r.output
    assert r.stderr.strip() == (
        "note: 199 of 399 target values were missing on the model's time grid (frequency 'h') and "
        "interpolated"
    )
    assert r.stdout.startswith("series,origin,time,step,predicted") and "note" not in r.stdout
    r = run("predict", "--run", str(out), "--data", str(data))
    assert r.exit_code == 0 and r.stderr == ""


def test_every_forecast_setting_is_an_option(tmp_path):
    import pandas as pd

    data = small_csv(
        tmp_path / "d.csv", DUP=lambda df: pd.concat([df, df.iloc[[3]].assign(temp=99.0)])
    )
    out = tmp_path / "run"
    small_forecast(
        data,
        out,
        "--num-layers",
        "2",
        "--dropout",
        "0.1",
        "--patience",
        "1",
        "--chunk",
        "8",
        "--max-lag",
        "12",
        "--duplicates",
        "mean",
        "--val-fraction",
        "0.2",
        "--test-fraction",
        "0.3",
    )
    cfg = json.loads((out / "config.json").read_text())["config"]
    got = (
        cfg["model"]["dropout"],
        cfg["train"]["patience"],
        cfg["train"]["chunk"],
        cfg["base"]["max_lag"],
    )
    assert got == (0.1, 1, 8, 12) and cfg["data"]["duplicates"] == "mean"
    assert (cfg["split"]["val"], cfg["split"]["test"]) == (0.2, 0.3)
    metrics = json.loads((out / "metrics.json").read_text())
    start = pd.Timestamp("2024-01-01")  # 400 hours, 399 between the first and the last
    # ceil(0.5 * 399)
    assert pd.Timestamp(metrics["split"]["val_start"]) == start + pd.Timedelta(hours=200)
    # ceil(0.7 * 399)
    assert pd.Timestamp(metrics["split"]["test_start"]) == start + pd.Timedelta(hours=280)
    assert metrics["data"]["duplicates_averaged"] == 1 and metrics["ar_order"] <= 12
    assert metrics["epochs"] <= 2


def test_datasets_lists_provenance():
    r = run("datasets")
    assert r.exit_code == 0 and "weather-nyc-hourly" in r.output and "CC0" in r.output


BAD_FORECASTS = [
    (
        ["--data", "missing.csv", "--time-col", "when", "--target", "temp"],
        "error: --data: file not found",
    ),
    (["--target", "tmp"], "error: --target: no column 'tmp'; available: when, temp, wind"),
    (["--target", "when", "--time-col", "when"], "error: --target: column 'when' must be numeric"),
    (["--fill", "none", "DROP"], "error: --fill: none, but series 'series' has 1 missing step(s)"),
    (
        ["DUP"],
        "error: --time-col: duplicate timestamp 2024-01-01 03:00:00; each time must appear once "
        "per series "
        "(duplicates 'mean' averages the rows)",
    ),
    (
        ["--val-fraction", "0.5", "--test-fraction", "0.6"],
        "error: --val-fraction, --test-fraction: val=0.5 and test=0.6 leave no training period; "
        "keep their sum below 1",
    ),
    (["--chunk", "0"], "error: --chunk: input should be greater than 0, got 0"),
    (["--patience", "0"], "error: --patience: input should be greater than 0, got 0"),
    (["--max-lag", "0"], "error: --max-lag: input should be greater than 0, got 0"),
    (
        ["--dropout", "-0.5"],
        "error: --dropout: input should be greater than or equal to 0, got -0.5",
    ),
    (["SHORT"], "error: --data: every series is shorter than window + horizon + 1"),
    (["--horizon", "0"], "error: --horizon: input should be greater than 0, got 0"),
    (["--window", "0"], "error: --window: input should be greater than 0, got 0"),
    (["--cell", "lsmt"], "error: --cell: unknown cell 'lsmt'"),
    (
        ["--lstm-gate", "maybe"],
        "error: Invalid value for '--lstm-gate': 'maybe' is not one of 'test', 'off'.",
    ),
    (
        ["--scheme", "bogus"],
        "error: Invalid value for '--scheme': 'bogus' is not one of 'every-step', 'windows'.",
    ),
    (["--no-such-option"], "error: No such option '--no-such-option'."),
    # once from inside torch.optim
    (
        ["--lr", "-1"],
        "error: --lr: input should be greater than 0, got -1.0",
    ),
    (["--lr", "0"], "error: --lr: input should be greater than 0, got 0.0"),
    (["--season", "0"], "error: --season: input should be greater than 0, got 0"),
    # once a NumPy traceback
    (
        ["--season", "-2"],
        "error: --season: input should be greater than 0, got -2",
    ),
    (
        ["--quantiles", "0.1,0.9,0.1"],
        "error: --quantiles: each at most once, got 0.1 more than once",
    ),
    (["--threads", "0"], "error: --threads: input should be greater than 0, got 0"),
    # before the fit
    (
        ["--backtest", "-1"],
        "error: Invalid value for '--backtest': -1 is not in the range x>=0.",
    ),
    # was "loss became nan; lower --lr"
    (
        ["INF"],
        "error: --target: column 'temp' must be finite; row 5 holds inf",
    ),
]


@pytest.mark.parametrize(
    "args, message",
    BAD_FORECASTS,
    ids=[m.split(":")[1].strip() + str(k) for k, (_, m) in enumerate(BAD_FORECASTS)],
)
def test_bad_forecast_input_is_one_line_exit_2(tmp_path, args, message):
    import pandas as pd

    edits = {
        "DROP": lambda df: df.drop(index=[5]),
        "DUP": lambda df: pd.concat([df, df.iloc[[3]]]),
        "SHORT": lambda df: df.iloc[:20],
        "INF": lambda df: df.assign(temp=df.temp.mask(df.index == 5, float("inf"))),
    }
    chosen = {k: v for k, v in edits.items() if k in args}
    data = small_csv(tmp_path / "d.csv", **chosen)
    args = [a for a in args if a not in edits]
    base = [] if "--data" in args else ["--data", str(data)]
    base += [] if "--time-col" in args else ["--time-col", "when"]
    base += [] if "--target" in args else ["--target", "temp"]
    r = run("forecast", *base, *args, "--epochs", "1", "--quiet", "--out", str(tmp_path / "run"))
    assert r.exit_code == 2, r.output
    assert r.output.strip().startswith(message), r.output
    assert len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output
    assert not (
        tmp_path / "run" / "config.json"
    ).exists()  # refused before anything was fitted or saved


# ---- classify -------------------------------------------------------------------------------


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


@pytest.mark.parametrize(
    "extra",
    [
        [],
        ["--linear-weight", "0.5", "--linear-features", "minirocket"],
        [
            "--linear-weight",
            "0.5",
            "--linear-features",
            "minirocket+diff",
            "--linear-model",
            "ridge",
        ],
    ],
)
def test_classify_and_predict_end_to_end(tmp_path, extra):
    data, out = wide_csv(tmp_path / "beats.csv"), tmp_path / "run"
    r = run(
        "classify",
        "--data",
        str(data),
        "--epochs",
        "2",
        "--hidden-size",
        "8",
        "--out",
        str(out),
        "--quiet",
        *extra,
    )
    assert r.exit_code == 0, r.output
    assert "logistic" in r.output and "majority" in r.output and "report:" in r.output
    assert (
        "network alone" in r.output
        and "model: " in r.output
        and "chosen by 5-fold cross-validation" in r.output
    )
    if extra:  # the fused model as set, and the named path's row
        assert (
            "model: the network fused with the MiniRocket" in r.output
            and "path (w = 0.5)" in r.output
        )
    metrics = json.loads((out / "metrics.json").read_text())
    named = extra[extra.index("--linear-features") + 1] if extra else None
    assert set(metrics["paths"]) == (
        {"logistic", named} if extra else {"logistic", "minirocket", "minirocket+diff"}
    )
    assert all(
        p["classifier"] == ("logistic" if n == "logistic" else "ridge")
        for n, p in metrics["paths"].items()
    )
    assert {"accuracy", "balanced_accuracy", "macro_f1", "roc_auc"} <= set(metrics["test"]["model"])
    assert "train_seconds" in metrics and (out / "plots" / "confusion.png").is_file()
    r = run("predict", "--run", str(out), "--data", str(data), "--out", str(tmp_path / "p.csv"))
    assert r.exit_code == 0, r.output
    assert (tmp_path / "p.csv").read_text().startswith("id,actual,predicted,p_a,p_b")


def test_classify_training_options_reach_the_config(tmp_path):
    data, out = wide_csv(tmp_path / "beats.csv"), tmp_path / "run"
    r = run(
        "classify",
        "--data",
        str(data),
        "--epochs",
        "2",
        "--hidden-size",
        "8",
        "--no-cosine",
        "--label-smoothing",
        "0.1",
        "--out",
        str(out),
        "--quiet",
    )
    assert r.exit_code == 0, r.output
    cfg = json.loads((out / "config.json").read_text())["config"]["train"]
    assert cfg["cosine"] is False and cfg["label_smoothing"] == 0.1


BAD_CLASSIFY = [
    (["--data", "nope.csv"], "error: --data: file not found: nope.csv"),
    (["--label-col", "diagnosis"], "error: --label-col: no column 'diagnosis'"),
    (["ONECLASS"], "error: --data: column 'label' has a single class 'a'"),
    (["SHORTROW"], "error: --data: rows 2 are shorter than the header's 12 values"),
    (["TEXT"], "error: --data: column 't4' is not numeric (row 1: 'high')"),
    (["--pooling", "sum"], "error: Invalid value for '--pooling'"),
    (["--cell", "lsmt"], "error: --cell: unknown cell 'lsmt'"),
    (
        ["--linear-weight", "1.5"],
        "error: --linear-weight: expected auto or a number in [0, 1], got 1.5",
    ),
    (["--cv-folds", "1"], "error: --cv-folds: input should be greater than or equal to 2, got 1"),
    (["--linear-features", "fft"], "error: Invalid value for '--linear-features'"),
    (["--linear-model", "svm"], "error: Invalid value for '--linear-model'"),
    (["--group-col", "ward"], "error: --group-col: no column 'ward' in"),
    # once from inside torch.optim
    (
        ["--lr", "-1"],
        "error: --lr: input should be greater than 0, got -1.0",
    ),
    (
        ["--weight-decay", "-1"],
        "error: --weight-decay: input should be greater than or equal to 0, got -1.0",
    ),
    # once torch's RuntimeError
    (
        ["--threads", "0"],
        "error: --threads: input should be greater than 0, got 0",
    ),
    (["--label-smoothing", "1"], "error: --label-smoothing: input should be less than 1, got 1.0"),
    (["INF"], "error: --data: column 't4' holds an infinite value (row 1); values must be finite"),
]


@pytest.mark.parametrize("args, message", BAD_CLASSIFY, ids=[m[:40] for _, m in BAD_CLASSIFY])
def test_bad_classify_input_is_one_line(tmp_path, args, message):
    edits = {
        "ONECLASS": None,
        "SHORTROW": {2: "a,1,2,3"},
        "TEXT": {1: "b,1,2,3,4,high,6,7,8,9,10,11,12"},
        "INF": {1: "b,1,2,3,4,inf,6,7,8,9,10,11,12"},
    }
    path = tmp_path / "d.csv"
    if "ONECLASS" in args:
        path.write_text("label,t0,t1\na,1,2\na,3,4\n")
    else:
        wide_csv(path, next((edits[a] for a in args if a in edits), None))
    args = [a for a in args if a not in edits]
    base = [] if "--data" in args else ["--data", str(path)]
    r = run("classify", *base, *args, "--epochs", "1", "--quiet", "--out", str(tmp_path / "run"))
    assert r.exit_code == 2, r.output
    assert r.output.strip().startswith(message) and "Traceback" not in r.output, r.output
    assert len(r.output.strip().splitlines()) == 1, r.output


def test_predict_with_unseen_classes_or_empty_smiles_is_one_line(tmp_path):
    data, out = wide_csv(tmp_path / "d.csv"), tmp_path / "run"
    assert (
        run(
            "classify",
            "--data",
            str(data),
            "--epochs",
            "1",
            "--hidden-size",
            "4",
            "--out",
            str(out),
            "--quiet",
        ).exit_code
        == 0
    )
    new = wide_csv(tmp_path / "new.csv", {0: "zz," + ",".join(["0.1"] * 12)})
    r = run("predict", "--run", str(out), "--data", str(new))
    assert r.exit_code == 2 and r.output.startswith(
        "error: --data: column 'label' has classes zz not seen"
    ), r.output
    smiles = tmp_path / "s.csv"
    smiles.write_text("smiles,y\nCCO,1\n,0\nCCN,0\n")
    r = run(
        "classify", "--data", str(smiles), "--smiles-col", "smiles", "--label-col", "y", "--quiet"
    )
    assert r.exit_code == 2 and "row 1 has an empty SMILES string" in r.output, r.output


def test_explain_prints_what_it_found_and_refuses_bad_rows(tmp_path):
    data, out = wide_csv(tmp_path / "d.csv"), tmp_path / "run"
    assert (
        run(
            "classify",
            "--data",
            str(data),
            "--epochs",
            "1",
            "--hidden-size",
            "4",
            "--out",
            str(out),
            "--quiet",
        ).exit_code
        == 0
    )
    r = run("explain", "--run", str(out), "--index", "3")
    assert r.exit_code == 0, r.output
    assert (
        "Explained: test row 3" in r.output
        and "half of what it holds" in r.output
        and "#explain" in r.output
    )
    assert json.loads((out / "explain.json").read_text())["example"]["row"] == 3
    r = run("explain", "--run", str(out), "--index", "99")
    assert r.exit_code == 2 and r.output.startswith("error: --index: expected 0 to"), r.output
    r = run("explain", "--run", str(tmp_path / "nothing"))
    assert r.exit_code == 2 and "not a run directory" in r.output, r.output
    r = run("explain", "--run", str(out), "--threads", "0")  # once torch's RuntimeError
    assert (
        r.exit_code == 2
        and "Invalid value for '--threads'" in r.output
        and len(r.output.splitlines()) == 1
    )
    r = run("explain", "--run", str(out), "--steps", "0")  # once a loop that never ended
    assert (
        r.exit_code == 2 and r.output == "error: --steps: expected a positive integer, got 0\n"
    ), r.output


@pytest.mark.parametrize(
    "lstm, said",
    [
        (
            dict(kept=True, gate="test", dm_t=-2.57, val_mse_ratio=0.972),
            "kept (validation MSE 0.972x the base's, Diebold-Mariano t -2.57)",
        ),
        (
            dict(kept=True, gate="off", dm_t=-1.0, val_mse_ratio=0.99),
            "kept (validation MSE 0.990x the base's, --correction-test off)",
        ),
        (
            dict(
                kept=False,
                gate="test",
                dm_t=-1.12,
                val_mse_ratio=0.972,
                val_origins=2550,
                enough_origins=True,
            ),
            "dropped: validation MSE 0.972x the base's, within chance (t -1.12, 2550 origins), so "
            "the model is the "
            "base",
        ),
        (
            dict(
                kept=False,
                gate="test",
                dm_t=-16.5,
                val_mse_ratio=0.84,
                val_origins=3,
                enough_origins=False,
            ),
            "dropped: 3 validation origins are too few to tell, so the model is the base",
        ),
        (
            dict(
                kept=False,
                gate="test",
                dm_t=0.0,
                val_mse_ratio=None,
                val_origins=30,
                enough_origins=True,
            ),
            "dropped: validation MSE n/a the base's, within chance",
        ),
        (
            dict(
                kept=True,
                gate="test",
                dm_t=None,
                val_mse_ratio=0.9,
                val_origins=300,
                enough_origins=True,
                groups=[
                    dict(steps=[1, 2], kept=True, dm_t=-3.0, val_mse_ratio=0.8),
                    dict(steps=[3, 3], kept=False, dm_t=-0.5, val_mse_ratio=0.99),
                ],
            ),
            "judged per step group on validation: steps 1-2 kept (0.800x, t -3.00); step 3 "
            "dropped (0.990x, t -0.50)",
        ),
        (None, None),  # a run saved before the gate: the AR line alone
    ],
)
def test_the_forecast_says_what_it_kept(lstm, said):
    from lstmkit.cli.forecast import _what_was_kept

    metrics = {
        "ar_order": 24,
        "ar_form": "differences",
        "unit_root": {"adf": -1.0, "integrated": True},
    }
    if lstm is not None:
        metrics["lstm"] = lstm
    line = _what_was_kept(metrics)
    assert line.startswith(
        "linear AR: 24 lags, differences (a unit root: the ADF test did not reject one)"
    )
    assert (said in line) if said else (";" not in line)


def test_the_forecast_says_when_the_ar_is_averaged_with_seasonal_naive():
    from lstmkit.cli.forecast import _what_was_kept

    metrics = {
        "ar_order": 6,
        "ar_form": "levels",
        "ar_combination": {"weight": 0.585, "val_origins": 7},
    }
    assert _what_was_kept(metrics) == (
        "linear AR: 6 lags, levels; averaged with seasonal naive, weights 0.58 / 0.42 "
        "from their validation errors (7 validation origins are too few to choose on)"
    )


@pytest.mark.parametrize("args", [["--lr", "-1"], ["--scale", "0"]])
def test_experiment_refuses_a_non_positive_rate_or_scale_in_one_line(args):
    r = run("experiment", "temporal", *args)
    assert (
        r.exit_code == 2
        and "is not in the range x>0" in r.output
        and len(r.output.strip().splitlines()) == 1
    )


def test_forecast_says_which_series_had_no_target_value(tmp_path):
    import numpy as np
    import pandas as pd

    t = pd.date_range("2024-01-01", periods=300, freq="h").astype(str)
    a = pd.DataFrame({"when": t, "site": "a", "temp": 10 + np.sin(np.arange(300) / 4.0)})
    b = pd.DataFrame({"when": t, "site": "b", "temp": np.nan})
    pd.concat([a, b]).to_csv(tmp_path / "d.csv", index=False)
    r = run(
        "forecast",
        "--data",
        str(tmp_path / "d.csv"),
        "--time-col",
        "when",
        "--target",
        "temp",
        "--series-col",
        "site",
        "--epochs",
        "1",
        "--out",
        str(tmp_path / "run"),
    )
    assert r.exit_code == 0, r.output
    assert "left out, no target value at all: series b" in r.output


@pytest.mark.parametrize(
    "command, tree", [("forecast", ForecastConfig), ("classify", ClassifyConfig)]
)
def test_every_setting_has_an_option_and_every_option_a_setting(command, tree):
    """The options are generated from the config's fields: name, help, default and choices."""
    cmd = main.commands[command]
    options = {p.name: p for p in cmd.params if isinstance(p, click.Option)}
    fields = {name: info for _, name, info in tree.leaves()}
    own = {  # the command's own options: what to read and where to write, not settings of the model
        "forecast": {"data", "lstm_gate", "backtest", "out", "resume", "quiet"},
        "classify": {"data", "test_file", "out", "resume", "quiet"},
    }
    assert set(fields) <= set(options) and set(options) - set(fields) == own[command]
    for name, info in fields.items():
        option = options[name]
        assert option.help.startswith(info.description), name
        choices = (
            typing.get_args(info.annotation)
            if typing.get_origin(info.annotation) is typing.Literal
            else None
        )
        if choices:
            assert list(option.type.choices) == list(choices), name
        if info.annotation is bool:
            assert option.default == info.default, name


def test_the_old_lstm_gate_option_still_works_and_says_it_is_deprecated(tmp_path):
    data, out = small_csv(tmp_path / "d.csv"), tmp_path / "run"
    r = small_forecast(data, out, "--lstm-gate", "off")
    assert "--lstm-gate is deprecated; it is now --correction-test" in r.output
    assert (
        json.loads((out / "config.json").read_text())["config"]["base"]["correction_test"] == "off"
    )
