"""Layer throughput: every cell beside torch.nn.LSTM, measured in the same run.

For each size (H hidden, N batch, L length; H_in = H) and cell it times one forward + backward
pass of lstmkit.LSTM, untraced and with gate traces, and of torch.nn.LSTM. The contenders take
turns within every repeat, so a noisy neighbour slows all of them alike; the median of the
repeats is reported. Throughput is time steps x batch per second.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from dataclasses import asdict, dataclass
from functools import partial

import torch

from . import runs
from .cells import CELLS
from .config import LstmkitError
from .layers import LSTM

__all__ = ["BenchRow", "check_cells", "kernel_name", "parse_sizes", "run_bench", "write_json"]


@dataclass
class BenchRow:
    cell: str
    kernel: (
        str  # which code ran: fused oneDNN / cuDNN / ATen, script loop (TorchScript), python loop
    )
    hidden_size: int
    batch_size: int
    length: int
    seconds: float  # median forward + backward, untraced
    throughput: float  # length * batch / seconds
    torch_seconds: float  # torch.nn.LSTM, same size, same repeats
    vs_torch: float  # throughput / torch.nn.LSTM throughput (1.0 = as fast)
    traced_seconds: float  # with return_gates=True
    trace_cost: float  # traced_seconds / seconds


def kernel_name(layer: LSTM, device: torch.device, dtype: torch.dtype) -> str:
    if layer.kernel == "python":
        return "python loop"
    if layer.kernel == "loop":
        return "script loop"  # TorchScript
    if device.type == "cuda":
        return "fused cuDNN" if torch.backends.cudnn.is_available() else "fused ATen"
    # On CPU torch routes the float32 LSTM through oneDNN (aten::mkldnn_rnn_layer, forward and
    # backward); GRU, RNN and float64 run ATen's own fused cells.
    if layer.cell == "lstm" and dtype == torch.float32 and torch.backends.mkldnn.is_available():
        return "fused oneDNN"
    return "fused ATen"


def parse_sizes(text: str) -> list[tuple[int, int, int]]:
    """'50x32x24,128x64x256' -> [(H, N, L), ...]."""
    sizes = []
    for item in text.split(","):
        parts = item.strip().lower().split("x")
        if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
            raise LstmkitError(f"--sizes: expected HxNxL items like 50x32x24, got {item.strip()!r}")
        sizes.append(tuple(int(p) for p in parts))
    return sizes


def check_cells(cells: list[str]) -> None:
    unknown = [c for c in cells if c not in CELLS]
    if unknown:
        raise LstmkitError(f"--cells: unknown {unknown}; expected some of: {', '.join(CELLS)}")


def _fwd_bwd(module, x, device, **kwargs) -> float:
    module.zero_grad(set_to_none=True)
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    out = module(x, **kwargs)[0]
    out.sum().backward()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def run_bench(
    sizes: list[tuple[int, int, int]],
    cells: list[str],
    repeats: int = 5,
    warmup: int = 2,
    device: str = "cpu",
    on_row=None,
) -> list[BenchRow]:
    """Measure every (size, cell); `on_row(row)` is called as each result is ready."""
    check_cells(cells)
    dev = torch.device(device)
    rows = []
    for H, N, L in sizes:
        torch.manual_seed(0)
        x = torch.randn(L, N, H, device=dev)
        peer = torch.nn.LSTM(H, H).to(dev)
        for cell in cells:
            ours = LSTM(H, H, cell=cell).to(dev)
            contenders = {
                "torch": partial(_fwd_bwd, peer, x, dev),
                "ours": partial(_fwd_bwd, ours, x, dev),
                "traced": partial(_fwd_bwd, ours, x, dev, return_gates=True),
            }
            for fn in contenders.values():  # the scripted loop profiles its first calls
                for _ in range(warmup):
                    fn()
            times = {name: [] for name in contenders}
            order = list(contenders)
            for r in range(repeats):
                # Rotate who goes first: measured here, the first runner of a round was
                # up to 30% slower, which showed torch's own kernel "losing" to itself.
                for name in order[r % 3 :] + order[: r % 3]:
                    times[name].append(contenders[name]())
            med = {name: statistics.median(t) for name, t in times.items()}
            row = BenchRow(
                cell=cell,
                kernel=kernel_name(ours, dev, x.dtype),
                hidden_size=H,
                batch_size=N,
                length=L,
                seconds=med["ours"],
                throughput=L * N / med["ours"],
                torch_seconds=med["torch"],
                vs_torch=med["torch"] / med["ours"],
                traced_seconds=med["traced"],
                trace_cost=med["traced"] / med["ours"],
            )
            rows.append(row)
            if on_row is not None:
                on_row(row)
    return rows


def environment() -> dict:
    return {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def write_results(path, payload: dict) -> None:
    """A benchmark's JSON: the environment, then `payload`; written atomically (runs.write_json),
    so a reader never sees half a file and a crash keeps the old one."""
    runs.write_json(path, {"environment": environment(), **payload})


def write_json(path: str, rows: list[BenchRow], extra: dict | None = None) -> None:
    write_results(path, {**(extra or {}), "results": [asdict(r) for r in rows]})
