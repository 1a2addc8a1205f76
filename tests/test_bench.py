"""lstmkit.bench: the measurement is wired right (not how fast anything is: that lives in
benchmarks/, never in unit tests)."""

from __future__ import annotations

import json

import pytest
import torch

from lstmkit import LSTM, LstmkitError
from lstmkit.bench import kernel_name, parse_sizes, run_bench, write_json


def test_rows_are_consistent_and_name_the_kernel():
    rows = run_bench([(8, 2, 3)], ["lstm", "cifg", "gru"], repeats=2, warmup=1)
    assert [r.cell for r in rows] == ["lstm", "cifg", "gru"]
    kernels = {r.cell: r.kernel for r in rows}
    assert kernels == {
        "lstm": "fused oneDNN" if torch.backends.mkldnn.is_available() else "fused ATen",
        "cifg": "script loop",
        "gru": "fused ATen",
    }
    for r in rows:
        assert r.seconds > 0 and r.torch_seconds > 0 and r.traced_seconds > 0
        assert r.throughput == pytest.approx(3 * 2 / r.seconds)
        assert r.vs_torch == pytest.approx(r.torch_seconds / r.seconds)
        assert r.trace_cost == pytest.approx(r.traced_seconds / r.seconds)


def test_kernel_names():
    cpu = torch.device("cpu")
    assert kernel_name(LSTM(2, 3, kernel="python"), cpu, torch.float32) == "python loop"
    assert kernel_name(LSTM(2, 3, kernel="loop"), cpu, torch.float32) == "script loop"
    assert kernel_name(LSTM(2, 3, cell="rnn"), cpu, torch.float32) == "fused ATen"
    assert kernel_name(LSTM(2, 3), cpu, torch.float64) == "fused ATen"  # oneDNN is float32 only


def test_parse_sizes():
    assert parse_sizes("50x32x24, 128X64X256") == [(50, 32, 24), (128, 64, 256)]
    for bad in ("50x32", "0x1x1", "axbxc"):
        with pytest.raises(LstmkitError, match="--sizes"):
            parse_sizes(bad)


def test_unknown_cell_is_rejected():
    with pytest.raises(LstmkitError, match="--cells: unknown"):
        run_bench([(4, 2, 2)], ["lstm", "nope"])


def test_write_json_is_complete(tmp_path):
    rows = run_bench([(4, 2, 2)], ["lstm"], repeats=1, warmup=0)
    path = tmp_path / "sub" / "out.json"
    write_json(str(path), rows, {"command": "test"})
    data = json.loads(path.read_text())
    assert data["command"] == "test" and data["environment"]["torch"] == torch.__version__
    assert data["results"][0]["cell"] == "lstm"
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind
