"""What a trained recurrent model did and which inputs mattered: the machinery of `lstmkit explain`.

    integrated_gradients   Sundararajan et al. 2017: attribution a_j = (x_j - b_j) * mean over
                           alpha of df/dx_j at b + alpha (x - b); complete: sum_j a_j = f(x) - f(b)
    occlusion              Zeiler & Fergus 2014: f(x) - f(x with a group of steps set to baseline)
    unit_statistics        per unit over many steps: mean retention (forget) gate and the memory
                           half-life it implies, ln 0.5 / ln f, saturation, units that never change
    loop_kernels           run every lstmkit.LSTM inside a model through its traced loop

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

__all__ = ["RETENTION", "half_life", "integrated_gradients", "loop_kernels", "occlusion", "unit_statistics"]

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
    max_steps: int = 512,
):
    """Attributions for one example. inputs and baselines: unbatched tensors (any shapes); f maps
    a list of batched tensors (n, *shape) to (n,). The path integral uses the midpoint rule; the
    number of steps doubles until the attributions add up to f(x) - f(b) within `tolerance` (or
    max_steps is reached). Returns (attributions, f(x), f(b), relative completeness error, steps)."""
    inputs = [x.detach().double() for x in inputs]
    baselines = [b.detach().double() for b in baselines]
    with torch.no_grad():
        fx = float(f([x[None] for x in inputs])[0])
        fb = float(f([b[None] for b in baselines])[0])
    while True:
        grads = [torch.zeros_like(x) for x in inputs]
        alphas = (torch.arange(steps, dtype=torch.float64, device=inputs[0].device) + 0.5) / steps
        for start in range(0, steps, batch):
            a = alphas[start : start + batch]
            path = []
            for x, b in zip(inputs, baselines, strict=True):
                shape = (len(a),) + (1,) * x.dim()
                point = _expand(b, len(a)) + a.view(shape) * _expand(x - b, len(a))
                path.append(point.requires_grad_(True))
            out = f(path).sum()
            for g, d in zip(grads, torch.autograd.grad(out, path), strict=True):
                g += d.sum(0)
        attributions = [(x - b) * g / steps for x, b, g in zip(inputs, baselines, grads, strict=True)]
        total = sum(float(a.sum()) for a in attributions)
        error = abs(total - (fx - fb)) / max(abs(fx - fb), 1e-12)
        if error <= tolerance or steps >= max_steps:
            return attributions, fx, fb, error, steps
        steps *= 2


@torch.no_grad()
def occlusion(
    f, inputs: list[torch.Tensor], baselines: list[torch.Tensor], groups: list[list[torch.Tensor]], batch: int = 64
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
    traces: dict[str, np.ndarray], cell: str, low: float = 0.05, high: float = 0.95, still: float = 1e-3
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
            unit["forget_mean"], unit["half_life"] = (1.0, math.inf) if cell == "nfg" else (None, None)
        unit["saturation"] = {
            g: {"low": float((traces[g][:, u] < low).mean()), "high": float((traces[g][:, u] > high).mean())}
            for g in gates
        }
        unit["h_std"] = float(traces["h"][:, u].std())
        unit["constant"] = unit["h_std"] < still
        units.append(unit)
    return units
