"""Property-based tests (hypothesis): whatever a table, a run directory or a command line holds,
lstmkit answers with a result or a one-line LstmkitError, never another exception (issue 20).

Each property names the promise it holds; hypothesis shrinks a counterexample to the smallest
input that breaks it. The example counts are modest so the suite stays quick; raise them with
HYPOTHESIS_PROFILE=long when hunting.
"""

from __future__ import annotations

import json
import os
import shutil
import string

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli_support import run
from lstmkit import LstmkitError

settings.register_profile(
    "suite", max_examples=40, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.register_profile(
    "long", max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))

# ---- the table readers -------------------------------------------------------------------------

CELL = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**20), 10**20),
    st.text(string.printable, max_size=8),
    st.sampled_from(["", "NaN", "2024-01-01", "2024-01-01T00:00:00+01:00", "1e300", "-0"]),
    st.none(),
)
NAMES = st.lists(
    st.text(string.ascii_letters + " _.,;\"'\n", min_size=1, max_size=6),
    min_size=1,
    max_size=5,
    unique=True,
)


@st.composite
def tables(draw):
    """A small table whose columns may hold anything a CSV can, beside a time column that is
    mostly right (so that the reader goes past the first check)."""
    names = draw(NAMES)
    rows = draw(st.integers(0, 40))
    start = draw(st.sampled_from(["2024-01-01", "1970-01-01", "2200-01-01"]))
    freq = draw(st.sampled_from(["h", "D", "500ms", "MS"]))
    data = {"when": pd.date_range(start, periods=rows, freq=freq).astype(str).tolist()}
    for name in names:
        data[name] = draw(st.lists(CELL, min_size=rows, max_size=rows))
    if rows and draw(st.booleans()):  # a damaged time column
        data["when"][draw(st.integers(0, rows - 1))] = draw(CELL)
    return pd.DataFrame(data)


@given(df=tables(), time_unit=st.sampled_from(["auto", "s", "ms"]))
def test_the_forecast_reader_answers_any_table_in_one_line(tmp_path_factory, df, time_unit):
    from lstmkit.data.io import prepare, read_table

    path = tmp_path_factory.mktemp("t") / "data.csv"
    df.to_csv(path, index=False)
    target = str(df.columns[1])
    try:
        table = read_table(path)
        prepare(table, "when", target, None, "auto", None, "interpolate", None, "error", time_unit)
    except LstmkitError as err:
        assert "\n" not in str(err) and len(str(err)) < 2000


@given(df=tables())
def test_the_classifier_reader_answers_any_table_in_one_line(df):
    from lstmkit.data.sequences import sequences_from_table

    df = df.assign(label=["a", "b"] * (len(df) // 2) + ["a"] * (len(df) % 2))
    try:
        sequences_from_table(df, ["label"], None, None, None, None, True, "--data", True, [])
    except LstmkitError as err:
        assert "\n" not in str(err)


@given(raw=st.binary(max_size=400))
def test_any_bytes_as_a_csv_are_read_or_refused_in_one_line(tmp_path_factory, raw):
    from lstmkit.data.io import read_table

    path = tmp_path_factory.mktemp("b") / "data.csv"
    path.write_bytes(raw)
    try:
        read_table(path)
    except LstmkitError as err:
        assert "\n" not in str(err)


# ---- the run-directory loader ------------------------------------------------------------------

JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**15), 10**15),
        st.floats(allow_nan=False),
        st.text(max_size=6),
    ),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value, prefix=()):
    """Every place in a JSON document a mutation may replace."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for k, v in enumerate(value):
            yield from _paths(v, (*prefix, k))


def _replace(doc, path, new):
    if not path:
        return new
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    return doc


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    from helpers import synthetic
    from lstmkit import Forecaster

    folder = tmp_path_factory.mktemp("fuzz") / "run"
    Forecaster(epochs=1, hidden_size=4, statistical="off").fit(
        synthetic(), time="when", target="temp", series="site", quiet=True
    ).save(folder)
    return folder


@given(
    name=st.sampled_from(["config.json", "state.json"]),
    pick=st.integers(0, 10**6),
    value=JSON,
)
def test_a_mutated_run_loads_and_predicts_or_is_refused_in_one_line(
    saved, tmp_path_factory, name, pick, value
):
    """Any JSON value put anywhere in config.json or state.json: `Forecaster.load` loads or
    raises LstmkitError, and `lstmkit predict` forecasts or refuses in one line (exit 2)."""
    from helpers import synthetic
    from lstmkit import Forecaster

    folder = tmp_path_factory.mktemp("m") / "run"
    shutil.copytree(saved, folder)
    doc = json.loads((folder / name).read_text())
    places = list(_paths(doc))
    place = places[pick % len(places)]
    (folder / name).write_text(json.dumps(_replace(doc, place, value)))
    try:  # the library: loads, or refuses with LstmkitError
        Forecaster.load(folder)
    except LstmkitError as err:
        assert "\n" not in str(err)
    data = folder.parent / "data.csv"
    synthetic().to_csv(data, index=False)
    r = run("predict", "--run", str(folder), "--data", str(data))  # the command: exit 0 or 2
    assert r.exit_code in (0, 2), r.output
    if r.exit_code == 2:
        assert len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith("error: --")


@given(cut=st.integers(0, 10**6), flip=st.integers(0, 10**6), byte=st.integers(0, 255))
def test_damaged_weights_are_refused_in_one_line(saved, tmp_path_factory, cut, flip, byte):
    from lstmkit import Forecaster

    folder = tmp_path_factory.mktemp("w") / "run"
    shutil.copytree(saved, folder)
    raw = bytearray((folder / "model.safetensors").read_bytes())
    raw[flip % len(raw)] = byte
    (folder / "model.safetensors").write_bytes(bytes(raw[: max(1, len(raw) - cut % len(raw))]))
    try:
        Forecaster.load(folder)
    except LstmkitError as err:
        assert "\n" not in str(err)


# ---- the command line --------------------------------------------------------------------------

OPTIONS = [
    "--hidden-size", "--epochs", "--lr", "--horizon", "--window", "--quantiles", "--season",
    "--max-gap", "--threads", "--cell", "--dropout", "--val-fraction", "--time-unit",
    "--batch-size", "--max-lag", "--seed",
]  # fmt: skip
VALUES = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(string.printable, max_size=10),
    st.sampled_from(["0", "-1", "1e300", "nan", "inf", "", "0.1,0.9", "lstm", "s"]),
)


@given(args=st.lists(st.tuples(st.sampled_from(OPTIONS), VALUES), max_size=4))
def test_any_forecast_option_values_are_parsed_or_refused_in_one_line(tmp_path_factory, args):
    """--out names a file: every value that parses ends at the --out check, before any import
    of torch or any data is read, so each example takes milliseconds."""
    blocker = tmp_path_factory.mktemp("cli") / "a-file"
    blocker.write_text("")
    flat = [x for pair in args for x in pair]
    r = run("forecast", "--data", "nowhere.csv", *flat, "--out", str(blocker), "--quiet")
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in r.output
    if not any(o in lines[0] for o, _ in args):  # every value parsed: --out refuses the file
        assert f"'--out': Directory '{blocker}' is a file" in lines[0]
