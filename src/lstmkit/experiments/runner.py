"""Train each cell on fresh batches of a long-time-lag task; score it on a fixed test set.

One run = (task, cell, length, seed): LSTM(cell) -> Linear, Adam with gradient-norm clipping,
a new random batch at every step (the generator is seeded by `seed`), and every `eval_every`
steps the task's metric on a test set drawn once from a separate seed (the same test set for
every cell and seed). Runs are independent processes with one intra-op thread each.
"""

from __future__ import annotations

import multiprocessing as mp
import statistics
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from ..layers import LSTM
from .tasks import TASKS

__all__ = ["RunSpec", "run_many", "run_one", "summarise"]

TEST_SEED = 1_000_003  # the test set's generator: never one of the training seeds
TEST_SIZE = 2560  # the 1997 paper's test set size, used for every task


@dataclass(frozen=True)
class RunSpec:
    task: str
    cell: str
    length: int
    seed: int
    steps: int = 2000
    hidden_size: int = 64
    batch_size: int = 64
    lr: float = 1e-2
    clip: float = 1.0
    forget_bias: float | None = 1.0
    eval_every: int = 100
    stop_when_solved: bool = False  # stop once two evaluations in a row hold the solved level


class TaskNet(nn.Module):
    def __init__(self, n_inputs: int, n_outputs: int, spec: RunSpec):
        super().__init__()
        self.rnn = LSTM(n_inputs, spec.hidden_size, cell=spec.cell, forget_bias=spec.forget_bias)
        self.head = nn.Linear(spec.hidden_size, n_outputs)

    def forward(self, x):
        h, _ = self.rnn(x)  # (L, N, H)
        return self.head(h)  # (L, N, n_outputs)


def _read(out: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
    """The output at each sequence's own last step: (L, N, K) -> (N, K)."""
    return out[last, torch.arange(out.shape[1])]


def _loss(out, problem, last, y):
    if problem.kind == "regression":
        return ((_read(out, last)[:, 0] - y) ** 2).mean()
    if problem.kind == "class":
        return nn.functional.cross_entropy(_read(out, last), y)
    return nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))


def _score(task: str, model, test) -> float:
    """The task's own metric on the fixed test set, in chunks to bound memory."""
    vals = []
    with torch.no_grad():
        for k in range(0, test.x.shape[1], 512):
            x = torch.as_tensor(test.x[:, k : k + 512])
            out = model(x)
            last = torch.as_tensor(test.last[k : k + 512])
            y = torch.as_tensor(test.y[..., k : k + 512])
            if task == "adding":
                vals.append(((_read(out, last)[:, 0] - y) ** 2).numpy())
            elif task == "adding1997":
                vals.append((torch.abs(_read(out, last)[:, 0] - y) >= 0.04).float().numpy())
            elif task == "temporal":
                vals.append((_read(out, last).argmax(1) == y).float().numpy())
            else:  # copy: cross-entropy per step, averaged over all steps
                ce = nn.functional.cross_entropy(
                    out.reshape(-1, out.shape[-1]), y.reshape(-1), reduction="none"
                )
                vals.append(ce.reshape(out.shape[0], -1).mean(0).numpy())
    return float(np.mean(np.concatenate(vals)))


def _beats_clearly(value: float, baseline: float, higher_is_better: bool) -> bool:
    """Closed at least half the gap from the trivial baseline to a perfect score."""
    return value >= (baseline + 1) / 2 if higher_is_better else value <= baseline / 2


def run_one(spec: RunSpec) -> dict:
    torch.set_num_threads(1)
    task = TASKS[spec.task]
    torch.manual_seed(spec.seed)
    rng = np.random.default_rng(spec.seed)
    test = task.make(TEST_SIZE, spec.length, np.random.default_rng(TEST_SEED))
    model = TaskNet(test.x.shape[-1], test.n_outputs, spec)
    opt = torch.optim.Adam(model.parameters(), lr=spec.lr)
    baseline = task.baseline(spec.length)
    curve, beat, start = [], None, time.perf_counter()
    for step in range(1, spec.steps + 1):
        p = task.make(spec.batch_size, spec.length, rng)
        y = torch.as_tensor(p.y)
        opt.zero_grad(set_to_none=True)
        loss = _loss(model(torch.as_tensor(p.x)), p, torch.as_tensor(p.last), y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), spec.clip)
        opt.step()
        if step % spec.eval_every == 0 or step == spec.steps:
            value = _score(spec.task, model, test)
            curve.append((step, value))
            if beat is None and _beats_clearly(value, baseline, task.higher_is_better):
                beat = step
            held = len(curve) >= 2 and all(task.is_solved(v) for _, v in curve[-2:])
            if spec.stop_when_solved and held:
                break
    return {
        **{k: v for k, v in asdict(spec).items() if k in ("task", "cell", "length", "seed")},
        "steps": curve[-1][0],  # steps actually taken
        "solved": task.is_solved(curve[-1][1]),
        "metric": task.metric,
        "value": curve[-1][1],
        "baseline": baseline,
        "seconds": time.perf_counter() - start,
        "beat_step": beat,
        "forget_bias": spec.forget_bias,
        "hidden_size": spec.hidden_size,
        "lr": spec.lr,
        "curve": curve,
    }


def run_many(specs: list[RunSpec], jobs: int = 1, on_result=None) -> list[dict]:
    """Run specs in `jobs` processes (spawned: no forked torch state), results in spec order."""
    if jobs <= 1:
        results = []
        for spec in specs:
            results.append(run_one(spec))
            if on_result:
                on_result(results[-1])
        return results
    with mp.get_context("spawn").Pool(jobs) as pool:
        results = []
        for r in pool.imap(run_one, specs):
            results.append(r)
            if on_result:
                on_result(r)
        return results


def summarise(results: list[dict]) -> list[dict]:
    """One row per (task, cell, length): mean ± sd over seeds, the median step it beat the
    baseline clearly (None if some seed never did), mean seconds."""
    rows = {}
    for r in results:
        rows.setdefault((r["task"], r["cell"], r["length"]), []).append(r)
    out = []
    for (task, cell, length), rs in rows.items():
        values = [r["value"] for r in rs]
        beats = [r["beat_step"] for r in rs]
        out.append(
            {
                "task": task,
                "cell": cell,
                "length": length,
                "metric": rs[0]["metric"],
                "seeds": len(rs),
                "mean": statistics.fmean(values),
                "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
                "baseline": rs[0]["baseline"],
                "beat_step": None if None in beats else statistics.median(beats),
                "beaten_by": sum(b is not None for b in beats),
                "seconds": statistics.fmean(r["seconds"] for r in rs),
            }
        )
    return out
