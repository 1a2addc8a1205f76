"""`lstmkit bench`, `cells`, `datasets`, `experiment` and `--help`."""

from __future__ import annotations

import json

import pytest

from cli_support import run
from lstmkit import CELLS


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


def test_datasets_lists_provenance():
    r = run("datasets")
    assert r.exit_code == 0 and "weather-nyc-hourly" in r.output and "CC0" in r.output


@pytest.mark.parametrize("args", [["--lr", "-1"], ["--scale", "0"]])
def test_experiment_refuses_a_non_positive_rate_or_scale_in_one_line(args):
    r = run("experiment", "temporal", *args)
    assert (
        r.exit_code == 2
        and "is not in the range x>0" in r.output
        and len(r.output.strip().splitlines()) == 1
    )
