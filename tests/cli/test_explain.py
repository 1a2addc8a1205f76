"""`lstmkit explain` on a saved run: what it prints, and bad rows refused in one line."""

from __future__ import annotations

import json

from cli_support import run, small_classify, wide_csv


def test_explain_prints_what_it_found_and_refuses_bad_rows(tmp_path):
    data, out = wide_csv(tmp_path / "d.csv"), tmp_path / "run"
    small_classify(data, out)
    r = run("explain", "--run", str(out), "--index", "3")  # a file the run names is not read
    assert r.exit_code == 2 and "pass that file with --data" in r.output, r.output
    r = run("explain", "--run", str(out), "--index", "3", "--data", str(data))
    assert r.exit_code == 0, r.output
    assert (
        "Explained: test row 3" in r.output
        and "half of what it holds" in r.output
        and "#explain" in r.output
    )
    assert json.loads((out / "explain.json").read_text())["example"]["row"] == 3
    r = run("explain", "--run", str(out), "--index", "99", "--data", str(data))
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
