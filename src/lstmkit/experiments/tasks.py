"""The long-time-lag tasks, each exactly as its paper defines it, with its metric and baseline.

Every generator takes (n, length, rng) and returns a `Problem`: inputs x (L, N, I), targets and
where they are read. Lengths vary within a batch only in the 1997 tasks; there, sequences are
right-padded and read at their own last step (the LSTM is causal, so padding after the end
changes nothing before it).

  adding        Le et al. 2015; Arjovsky et al. 2016: x ~ U[0,1], one marker in each half,
                target the sum of the two marked values, MSE. Predicting 1 scores 1/6 ≈ 0.167.
  adding1997    Hochreiter & Schmidhuber 1997, Exp. 4: pairs (value ∈ [-1,1], marker ∈ {-1,0,1}),
                length in [T, T + T/10], X1 among the first ten pairs, X2 among the first T/2 - 1,
                target 0.5 + (X1 + X2)/4; a sequence is correct when |error| < 0.04.
  temporal      1997, Exp. 6a: 8 one-hot symbols {a,b,c,d,B,E,X,Y}, length 100-110, X or Y at
                t1 ∈ [10,20] and t2 ∈ [50,60], 4 classes (XX, XY, YX, YY). `scale=0.5`:
                length 50-55, t1 ∈ [5,10], t2 ∈ [25,30].
  copy          Arjovsky et al. 2016: 10 symbols from 8, T blanks, a delimiter, 10 blanks; recall
                the 10 symbols. Cross-entropy per step; memoryless baseline 10 ln 8 / (T + 20).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["TASKS", "Problem", "adding", "adding1997", "copy_memory", "temporal_order"]


@dataclass
class Problem:
    x: np.ndarray  # (L, N, I) inputs, float32
    y: np.ndarray  # targets: (N,) values or classes, or (L, N) classes for copy
    last: np.ndarray  # (N,) index of each sequence's last step (where the target is read)
    # "regression" (MSE at the last step), "class" (at the last step), "sequence" (every step)
    kind: str
    n_outputs: int


def adding(n: int, length: int, rng: np.random.Generator) -> Problem:
    values = rng.uniform(0, 1, (length, n))
    markers = np.zeros((length, n))
    half = length // 2
    first, second = rng.integers(0, half, n), rng.integers(half, length, n)
    markers[first, np.arange(n)] = 1.0
    markers[second, np.arange(n)] = 1.0
    y = values[first, np.arange(n)] + values[second, np.arange(n)]
    x = np.stack([values, markers], -1).astype(np.float32)
    return Problem(x, y.astype(np.float32), np.full(n, length - 1), "regression", 1)


def adding1997(n: int, length: int, rng: np.random.Generator) -> Problem:
    lengths = rng.integers(length, length + length // 10 + 1, n)
    L = int(lengths.max())
    x = np.zeros((L, n, 2), np.float32)
    y = np.zeros(n, np.float32)
    for j, T in enumerate(lengths):
        x[:T, j, 0] = rng.uniform(-1, 1, T)
        x[0, j, 1] = x[T - 1, j, 1] = -1.0  # first and last pair: marker -1
        a = int(rng.integers(0, 10))  # X1 among the first ten pairs
        # X2: first T/2 - 1 unmarked
        b = int(rng.choice([k for k in range(length // 2 - 1) if k != a]))
        x[a, j, 1] = x[b, j, 1] = 1.0
        if a == 0:
            x[0, j, 0] = 0.0  # "in the rare case where the first pair is marked, X1 = 0"
        y[j] = 0.5 + (x[a, j, 0] + x[b, j, 0]) / 4.0
    return Problem(x, y, lengths - 1, "regression", 1)


SYMBOLS = "abcdBEXY"  # one-hot order


def temporal_order(n: int, length: int, rng: np.random.Generator) -> Problem:
    """`length` is the paper's 100 scaled: 100 is Exp. 6a exactly, 50 its half-scale version."""
    scale = length / 100
    lo, hi = round(100 * scale), round(110 * scale)
    t1 = (round(10 * scale), round(20 * scale))
    t2 = (round(50 * scale), round(60 * scale))
    lengths = rng.integers(lo, hi + 1, n)
    L = int(lengths.max())
    x = np.zeros((L, n, 8), np.float32)
    y = np.zeros(n, np.int64)
    for j, T in enumerate(lengths):
        sym = rng.integers(0, 4, T)  # noise a, b, c, d
        sym[0], sym[T - 1] = 5, 4  # E first, B last
        p, q = int(rng.integers(t1[0], t1[1] + 1)), int(rng.integers(t2[0], t2[1] + 1))
        u, v = rng.integers(0, 2, 2)  # 0: X, 1: Y
        sym[p], sym[q] = 6 + u, 6 + v
        x[np.arange(T), j, sym] = 1.0
        y[j] = 2 * u + v  # XX, XY, YX, YY
    return Problem(x, y, lengths - 1, "class", 4)


def copy_memory(n: int, length: int, rng: np.random.Generator) -> Problem:
    """Symbols 1..8 to remember, 0 blank, 9 delimiter; one-hot over 10."""
    L = length + 20
    seq = np.zeros((L, n), np.int64)
    seq[:10] = rng.integers(1, 9, (10, n))
    seq[length + 9] = 9  # the delimiter: recall starts now
    y = np.zeros((L, n), np.int64)
    y[-10:] = seq[:10]
    x = np.eye(10, dtype=np.float32)[seq]
    return Problem(x, y, np.full(n, L - 1), "sequence", 9)


@dataclass(frozen=True)
class TaskSpec:
    make: Callable[[int, int, np.random.Generator], Problem]
    metric: str  # what is reported: lower is better for mse / wrong / xent, higher for accuracy
    higher_is_better: bool
    solved: float  # the papers' success level: a run may stop once it holds there
    baseline: Callable[[int], float]  # the trivial score at a length, computed exactly

    def is_solved(self, value: float) -> bool:
        return value >= self.solved if self.higher_is_better else value <= self.solved


# Always predicting 0.5 on the 1997 adding task is right only when |X1 + X2| < 0.16; X1 + X2 is
# triangular on [-2, 2], so P(right) = 2 * (0.16 * 2 - 0.16**2 / 2) / 4 = 0.1536.
TASKS: dict[str, TaskSpec] = {
    # Var(U1 + U2) = 2/12: the MSE of predicting the mean, 1. Solved: the bar (~1e-3 in
    # Arjovsky).
    "adding": TaskSpec(adding, "mse", False, 0.01, lambda length: 1 / 6),
    # 1997: at most 25 wrong of 2560.
    "adding1997": TaskSpec(adding1997, "wrong", False, 25 / 2560, lambda length: 1 - 0.1536),
    # chance: 1 of 4
    "temporal": TaskSpec(temporal_order, "accuracy", True, 0.99, lambda length: 0.25),
    # Memoryless: blank where the answer is blank, uniform over the 8 symbols in the 10 recall
    # steps.
    "copy": TaskSpec(
        copy_memory, "xent", False, 0.01, lambda length: 10 * math.log(8) / (length + 20)
    ),
}
