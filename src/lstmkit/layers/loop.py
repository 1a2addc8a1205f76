"""The time loop every non-fused layer runs: one cell over a sequence, with state carried.

One `Recurrence` runs one layer in one direction. It takes the input projection and splits it into
time steps itself (`xp.unbind(0)` for a dense batch; `xp.split(batch_sizes)` for a
PackedSequence, whose steps shrink as sequences end; inside the loop, so that torch.jit.trace and
ONNX keep the time axis dynamic), so one loop serves both: where a step holds fewer rows than the
state, only the first rows (the sequences still running, longest first) advance and the others
keep their state. That is how each sequence's final state comes out at its own last step, and
why the reverse direction, which walks the steps backwards, starts each sequence at its own end.
"""

from __future__ import annotations

import warnings
from typing import List, Tuple  # noqa: UP035  TorchScript reads these annotations

import torch
from torch import Tensor, nn

from ..cells import Cell, get_cell

__all__ = ["Recurrence", "recurrence"]


class Recurrence(nn.Module):
    """Runs one cell over xp (L, N, G*H), or over a PackedSequence's projected data
    (sum of lengths, G*H) cut at `sizes`; returns h at every step in the same layout, the last
    state of every sequence and, if asked, every traced quantity stacked over time, each
    (L, N, ·) with zeros where a packed sequence had already ended."""

    def __init__(self, cell: Cell):
        super().__init__()
        self.cell = cell

    def forward(
        self,
        xp: Tensor,
        sizes: List[int],  # noqa: UP006  empty for a dense batch
        state: List[Tensor],  # noqa: UP006
        p: List[Tensor],  # noqa: UP006
        proj: Tensor | None,
        reverse: bool,
        trace: bool,
    ) -> Tuple[Tensor, List[Tensor], List[Tensor]]:  # noqa: UP006
        # unbind, not xp[t]: the backward of an indexed select writes a full-size zero gradient
        # at every step, which made BPTT O(L^2) (17-29x slower than torch.nn.LSTM at L=256).
        steps = xp.unbind(0) if len(sizes) == 0 else xp.split(sizes)
        n = state[0].size(0)
        hs: List[Tensor] = []  # noqa: UP006
        per_step: List[List[Tensor]] = []  # noqa: UP006
        length = len(steps)
        for k in range(length):
            xp_t = steps[length - 1 - k] if reverse else steps[k]
            b = xp_t.size(0)
            if b == n:
                new, values = self.cell(xp_t, state, p)
            else:  # a packed batch: the first b sequences (the longest) are still running
                new, values = self.cell(xp_t, [s[:b] for s in state], p)
            if proj is not None:  # h = W_hr h (LSTM with projections); a new list, since
                # TorchScript's autodiff mis-sizes gradients through a list written in place
                new = [torch.mm(new[0], proj.t())] + new[1:]  # noqa: RUF005  TorchScript
            hs.append(new[0])
            if b == n:
                state = new
            else:
                kept: List[Tensor] = []  # noqa: UP006
                for j in range(len(new)):
                    kept.append(torch.cat([new[j], state[j][b:]], 0))
                state = kept
            if trace:
                if b < n:
                    values = [torch.cat([v, v.new_zeros(n - b, v.size(1))], 0) for v in values]
                per_step.append(values)
        if reverse:
            hs.reverse()
            per_step.reverse()
        traced: List[Tensor] = []  # noqa: UP006
        if trace:
            for j in range(len(per_step[0])):
                traced.append(torch.stack([values[j] for values in per_step]))
        return torch.stack(hs) if len(sizes) == 0 else torch.cat(hs), state, traced


_LOOPS: dict[tuple[str, bool], nn.Module] = {}


def recurrence(cell: str, scripted: bool) -> nn.Module:
    """One loop per (cell, scripted), shared by every layer: cells hold no parameters."""
    key = (cell, scripted)
    if key not in _LOOPS:
        loop = Recurrence(get_cell(cell)())
        if scripted:
            # TorchScript is deprecated in favour of torch.compile, but measured here (torch
            # 2.13, CPU) torch.compile took 236 s to compile a 256-step loop and ran 7x slower;
            # the scripted loop compiles in milliseconds. Revisit when that changes.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "`torch.jit.script` is deprecated")
                loop = torch.jit.script(loop)
        _LOOPS[key] = loop
    return _LOOPS[key]
