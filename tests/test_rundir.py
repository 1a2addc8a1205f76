"""rundir: a run directory written as one transaction, guarded against overwrites and against a
second writer (issue 20, item 1)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from lstmkit import LstmkitError
from lstmkit.rundir import MAX_NAME, run_name, transaction
from lstmkit.runs import write_json


def a_run(folder, **files):
    """A run directory by hand: config.json and the files given."""
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / "config.json", {"task": "forecast", "config": {}})
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def listing(folder) -> dict:
    return {p.name: p.read_text() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.parametrize(
    "data, name",
    [
        ("sales.2023.csv", "sales.2023"),
        ("sales.2024.csv", "sales.2024"),
        ("/a/b/meters.csv.gz", "meters"),
        ("ECG5000_TRAIN.tsv", "ECG5000_TRAIN"),
        ("x.parquet", "x"),
        ("weather-nyc-hourly", "weather-nyc-hourly"),
        (".csv", ".csv"),
    ],
)
def test_the_default_run_name_keeps_everything_but_the_data_suffixes(data, name):
    assert run_name(data) == name


def test_a_new_run_appears_whole_and_leaves_nothing_beside_it(tmp_path):
    out = tmp_path / "run"
    with transaction(out) as stage:
        assert stage.name == ".run.partial" and not out.exists()
        a_run(stage, **{"model.txt": "new"})
        assert not out.exists()  # nothing visible before the commit
    assert listing(out) == {"config.json": listing(out)["config.json"], "model.txt": "new"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_an_existing_run_is_refused_unless_overwrite_and_then_replaced_whole(tmp_path):
    out = a_run(tmp_path / "run", **{"model.txt": "old", "explain.json": "stale"})
    with pytest.raises(LstmkitError, match="holds a run already; pass --overwrite"):
        with transaction(out):
            pass
    with transaction(out, overwrite=True) as stage:
        a_run(stage, **{"model.txt": "new"})
    assert "explain.json" not in listing(out) and listing(out)["model.txt"] == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_a_failure_mid_write_leaves_the_old_run_whole(tmp_path):
    out = a_run(tmp_path / "run", **{"model.txt": "old", "scaler.json": "old"})
    before = listing(out)
    with pytest.raises(RuntimeError, match="killed"):
        with transaction(out, overwrite=True) as stage:
            a_run(stage, **{"scaler.json": "new"})
            raise RuntimeError("killed between two files")
    assert listing(out) == before  # never a new scaler.json beside the old model
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no checkpoint: no stage kept


def test_an_interrupted_run_with_a_checkpoint_is_kept_for_resume(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        with transaction(out) as stage:
            (stage / "checkpoint").mkdir()
            (stage / "checkpoint" / "checkpoint.safetensors").write_text("epoch 3")
            (stage / "checkpoint" / ".checkpoint.safetensors.x1.tmp").write_text("half")
            raise KeyboardInterrupt
    with pytest.raises(LstmkitError, match=r"has an interrupted run .*pass --resume"):
        with transaction(out):
            pass
    with transaction(out, resume=True) as stage:
        kept = sorted(p.name for p in (stage / "checkpoint").iterdir())
        assert kept == ["checkpoint.safetensors"]  # the cut-short write cleaned up
        a_run(stage)
    assert (out / "checkpoint" / "checkpoint.safetensors").read_text() == "epoch 3"


def test_a_folder_that_is_not_a_run_is_never_replaced(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    for flags in ({}, {"overwrite": True}, {"resume": True}):
        with pytest.raises(LstmkitError, match="is not a run directory; refused to replace it"):
            with transaction(mine, **flags):
                pass
    assert (mine / "thesis.tex").read_text() == "years of work"
    (tmp_path / "file").write_text("x")
    with pytest.raises(LstmkitError, match="exists and is not a directory"):
        with transaction(tmp_path / "file"):
            pass
    (tmp_path / "empty").mkdir()  # an empty folder is fine to write into
    with transaction(tmp_path / "empty") as stage:
        a_run(stage)
    assert (tmp_path / "empty" / "config.json").is_file()


def test_a_second_writer_is_refused_naming_the_holders_pid(tmp_path):
    out = tmp_path / "run"
    with transaction(out) as stage:
        holder = rf"being written by another lstmkit run \(pid {os.getpid()}\)"
        with pytest.raises(LstmkitError, match=holder):
            with transaction(out, overwrite=True):
                pass
        a_run(stage)
    with transaction(out, overwrite=True) as stage:  # the lock went with the first writer
        a_run(stage)


def test_a_killed_writer_leaves_no_lock(tmp_path):
    out = tmp_path / "run"
    holder = textwrap.dedent(
        f"""
        import os, sys, time
        from lstmkit.rundir import transaction
        with transaction({str(out)!r}) as stage:
            print("in", flush=True)
            time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "in"
        with pytest.raises(LstmkitError, match=rf"pid {proc.pid}\)"):
            with transaction(out):
                pass
    finally:
        proc.kill()
        proc.wait()
    with transaction(out) as stage:  # the kernel dropped the dead holder's lock
        a_run(stage)


def test_names_too_long_and_unwritable_places_are_one_line_errors(tmp_path):
    with pytest.raises(LstmkitError, match=f"bytes; at most {MAX_NAME}"):
        with transaction(tmp_path / ("x" * 250)):
            pass
    with transaction(tmp_path / ("y" * MAX_NAME)) as stage:  # the longest name that fits
        a_run(stage)
    (tmp_path / "a-file").write_text("")
    with pytest.raises(LstmkitError, match=r"--out: cannot create .*a-file \(File exists\)"):
        with transaction(tmp_path / "a-file" / "run"):
            pass
    if os.geteuid() != 0:  # root writes anywhere: a read-only folder cannot be made for it
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o555)
        with pytest.raises(LstmkitError, match="cannot"):
            with transaction(ro / "run"):
                pass
