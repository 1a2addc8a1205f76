"""What a trained recurrent model did and which inputs mattered: the machinery of `lstmkit explain`.

    integrated_gradients   Sundararajan et al. 2017: attribution a_j = (x_j - b_j) * mean over
                           alpha of df/dx_j at b + alpha (x - b); complete: sum_j a_j = f(x) - f(b)
    occlusion              Zeiler & Fergus 2014: f(x) - f(x with a group of steps set to baseline)
    unit_statistics        per unit over many steps: mean retention (forget) gate and the memory
                           half-life it implies, ln 0.5 / ln f, saturation, units that never change
    loop_kernels           run every lstmkit.LSTM inside a model through its traced loop
    unit_layers, memory_summary, share, steps_mask
                           what both explanations (forecast/explain.py, classify/explain.py)
                           build their results from: units by layer and direction, memory in
                           words, an attribution's share on a part of the input, occlusion's groups

Gradients always flow through the loop kernel: the fused kernel's gates are hidden, and cuDNN
refuses a backward pass outside training mode, so a model trained on either kernel is explained
on the loop, which the tests hold to the fused kernel to float tolerance.

Everything here is model-agnostic: a task hands in f, a function from a list of input tensors,
each with a leading batch dimension, to one number per batch row.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import torch

from .layers import LSTM

__all__ = [
    "RETENTION",
    "half_life",
    "integrated_gradients",
    "loop_kernels",
    "memory_summary",
    "occlusion",
    "share",
    "steps_mask",
    "unit_layers",
    "unit_statistics",
]

# The gate that decides how much of the old state a unit keeps: c' = f*c + ... (LSTM family),
# h' = (1 - z)*n + z*h (GRU). Cells without one keep everything (nfg) or nothing explicit (rnn).
RETENTION = {"gru": "z", "rnn": None, "nfg": None}


@contextlib.contextmanager
def loop_kernels(model: torch.nn.Module):
    """Within the block every lstmkit.LSTM in `model` runs its traced TorchScript loop."""
    layers = [m for m in model.modules() if isinstance(m, LSTM)]
    saved = [m.kernel for m in layers]
    try:
        for m in layers:
            m.kernel = "loop"
        yield model
    finally:
        for m, kernel in zip(layers, saved, strict=True):
            m.kernel = kernel


def _expand(t: torch.Tensor, n: int) -> torch.Tensor:
    return t.unsqueeze(0).expand(n, *t.shape)


def integrated_gradients(
    f,
    inputs: list[torch.Tensor],
    baselines: list[torch.Tensor],
    steps: int = 64,
    batch: int = 64,
    tolerance: float = 0.01,
    max_steps: int = 1024,
):
    """Attributions for one example. inputs and baselines: unbatched tensors (any shapes); f maps
    a list of batched tensors (n, *shape) to (n,). Returns (attributions, f(x), f(b), relative
    completeness error, gradients taken).

    The path integral is the midpoint rule on `steps` equal segments of the path, then refined
    where it is wrong: f is known exactly at every segment's ends, so each segment has its own
    completeness error |sum_j (x_j - b_j) g_j * length - (f(end) - f(start))|, and the total error
    is at most their sum. The worst segments are halved, `batch` gradients at a time, until the
    attributions add up to f(x) - f(b) within `tolerance` or `max_steps` gradients are taken. Why
    not more equal steps: a trained classifier's log-probability can swing by 4 within 0.3% of
    the path (a ReLU conv front end switching class; ECG5000), which 512 equal steps missed by
    8-25% (refined: within 1% in 192-832 gradients). On a smooth path no segment is refined and
    this is the plain midpoint rule."""
    inputs = [x.detach().double() for x in inputs]
    baselines = [b.detach().double() for b in baselines]
    deltas = [x - b for x, b in zip(inputs, baselines, strict=True)]

    def at(alphas: torch.Tensor, grad: bool):
        """f at b + alpha (x - b) for each alpha, and (grad) df/dx there, per input: (n, *shape)."""
        values, grads = [], [[] for _ in inputs]
        for start in range(0, len(alphas), batch):
            a = alphas[start : start + batch]
            path = []
            for b, d in zip(baselines, deltas, strict=True):
                point = _expand(b, len(a)) + a.view((len(a),) + (1,) * b.dim()) * _expand(d, len(a))
                path.append(point.requires_grad_(grad))
            with torch.enable_grad() if grad else torch.no_grad():
                out = f(path)
                if grad:
                    for g, d in zip(grads, torch.autograd.grad(out.sum(), path), strict=True):
                        g.append(d)
            values.append(out.detach())
        return torch.cat(values), [torch.cat(g) for g in grads] if grad else None

    ends, _ = at(
        torch.linspace(0, 1, steps + 1, dtype=torch.float64, device=inputs[0].device), grad=False
    )
    fb, fx = float(ends[0]), float(ends[-1])
    lo = torch.linspace(0, 1, steps + 1, dtype=torch.float64)[:-1].tolist()
    width = [1.0 / steps] * steps
    f_lo, f_hi = ends[:-1].tolist(), ends[1:].tolist()
    parts, f_mid = _segments(at, deltas, lo, width)
    taken = steps
    while True:
        estimate = [sum(float(p.sum()) for p in ps) for ps in parts]
        error = abs(sum(estimate) - (fx - fb)) / max(abs(fx - fb), 1e-12)
        room = (
            max_steps - taken
        ) // 2  # halving a segment takes two gradients (its old midpoint's is dropped)
        if error <= tolerance or room <= 0:
            attributions = [sum(ps[i] for ps in parts) for i in range(len(inputs))]
            return attributions, fx, fb, error, taken
        local = [abs(e - (h - l)) for e, h, l in zip(estimate, f_hi, f_lo, strict=True)]
        worst = sorted(np.argsort(local)[::-1][: min(max(batch // 2, 1), room)].tolist())
        halves_lo, halves_w = [], []
        for s in worst:
            halves_lo += [lo[s], lo[s] + width[s] / 2]
            halves_w += [width[s] / 2] * 2
        new_parts, new_mid = _segments(at, deltas, halves_lo, halves_w)
        taken += len(halves_lo)
        for j, s in reversed(list(enumerate(worst))):  # from the back, so indices stay valid
            mid = f_mid[s]  # the old midpoint is where the two halves meet
            lo[s : s + 1], width[s : s + 1] = (
                halves_lo[2 * j : 2 * j + 2],
                halves_w[2 * j : 2 * j + 2],
            )
            f_lo[s : s + 1], f_hi[s : s + 1] = [f_lo[s], mid], [mid, f_hi[s]]
            parts[s : s + 1], f_mid[s : s + 1] = (
                new_parts[2 * j : 2 * j + 2],
                new_mid[2 * j : 2 * j + 2],
            )


def _segments(at, deltas, lo: list[float], width: list[float]):
    """Each segment's midpoint-rule share of the attributions, (x - b) * df/dx(mid) * width, per
    input, and f at its midpoint."""
    device = deltas[0].device
    mids = torch.tensor(
        [a + w / 2 for a, w in zip(lo, width, strict=True)], dtype=torch.float64, device=device
    )
    values, grads = at(mids, grad=True)
    parts = [
        [d * g[k] * w for d, g in zip(deltas, grads, strict=True)] for k, w in enumerate(width)
    ]
    return parts, values.tolist()


@torch.no_grad()
def occlusion(
    f,
    inputs: list[torch.Tensor],
    baselines: list[torch.Tensor],
    groups: list[list[torch.Tensor]],
    batch: int = 64,
) -> np.ndarray:
    """groups[k][j]: a boolean mask over inputs[j] (same shape); occluding group k sets those
    elements to the baseline. Returns f(x) - f(x occluded by group k) for each k."""
    inputs = [x.double() for x in inputs]
    baselines = [b.double() for b in baselines]
    fx = float(f([x[None] for x in inputs])[0])
    out = []
    for start in range(0, len(groups), batch):
        chunk = groups[start : start + batch]
        batched = []
        for j, (x, b) in enumerate(zip(inputs, baselines, strict=True)):
            masks = torch.stack([g[j] for g in chunk])
            batched.append(torch.where(masks, _expand(b, len(chunk)), _expand(x, len(chunk))))
        out.append(fx - f(batched).double().cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0)


def half_life(retention: float) -> float:
    """Steps until a unit keeps half of what it holds, if its retention gate stayed at its mean:
    f^n = 1/2  ->  n = ln 0.5 / ln f. Infinite at f = 1, zero at f = 0."""
    if retention >= 1.0:
        return math.inf
    if retention <= 0.0:
        return 0.0
    return math.log(0.5) / math.log(retention)


def unit_statistics(
    traces: dict[str, np.ndarray],
    cell: str,
    low: float = 0.05,
    high: float = 0.95,
    still: float = 1e-3,
) -> list[dict]:
    """traces: name -> (S, H) values of one layer and direction over S valid steps (many
    sequences, padding removed). Per unit: the retention gate's mean and the half-life it implies,
    the share of steps each gate spends below `low` or above `high` (saturated), and whether the
    hidden state never moves (standard deviation below `still`)."""
    gate = RETENTION.get(cell, "f")
    gates = [g for g in ("i", "f", "o", "r", "z") if g in traces]
    H = traces["h"].shape[1]
    units = []
    for u in range(H):
        unit = {"unit": u}
        if gate and gate in traces:
            mean = float(traces[gate][:, u].mean())
            unit["forget_mean"], unit["half_life"] = mean, half_life(mean)
        else:  # no retention gate: nfg keeps its cell (f = 1), a plain RNN has no cell
            unit["forget_mean"], unit["half_life"] = (
                (1.0, math.inf) if cell == "nfg" else (None, None)
            )
        unit["saturation"] = {
            g: {
                "low": float((traces[g][:, u] < low).mean()),
                "high": float((traces[g][:, u] > high).mean()),
            }
            for g in gates
        }
        unit["h_std"] = float(traces["h"][:, u].std())
        unit["constant"] = unit["h_std"] < still
        units.append(unit)
    return units


# ---- shared by the forecaster's and the classifier's explanations ----------------------------


def unit_layers(stats_per_direction: list[list[dict]], num_directions: int) -> list[dict]:
    return [
        {"layer": k // num_directions, "direction": k % num_directions, "units": units}
        for k, units in enumerate(stats_per_direction)
    ]


def memory_summary(layers: list[dict]) -> str:
    first = layers[0]["units"]
    lives = [u["half_life"] for u in first if u["half_life"] is not None]
    if not lives:
        return (
            "This cell has no gate that decides what to keep, so no memory half-life can be read "
            "from it."
        )
    f = np.array([u["forget_mean"] for u in first])
    lives = np.array(lives)
    long = int((lives > 20).sum())
    still = sum(u["constant"] for u in first)
    finite = lives[np.isfinite(lives)]
    longest = f"{finite.max():.0f}" if len(finite) else "inf"
    return (
        f"Memory (layer 1, forward direction, {len(first)} units): the median unit keeps "
        f"{np.median(f):.2f} of its "
        f"cell each step, so half of what it holds is gone after about {np.median(lives):.1f} "
        f"steps; {long} "
        f"unit(s) hold on for more than 20 steps (longest {longest}); {still} unit(s) never change."
    )


def share(values: np.ndarray, mask: np.ndarray) -> float:
    total = np.abs(values).sum()
    return float(np.abs(values[mask]).sum() / total) if total > 0 else 0.0


def steps_mask(steps, shape) -> torch.Tensor:
    """A boolean mask of `shape` that selects the given time steps (the first axis): an occlusion
    group."""
    mask = torch.zeros(shape, dtype=torch.bool)
    mask[list(steps)] = True
    return mask
