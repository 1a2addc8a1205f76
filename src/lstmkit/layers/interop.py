"""Handing lstmkit layers to tools that know only torch.nn's classes.

torch.ao.quantization.quantize_dynamic swaps modules by exact class (`type(m) in mapping`), so
it leaves any other class, lstmkit's included, in float without a word. `to_torch(model)`
first replaces every lstmkit layer of a standard cell (lstm, gru, rnn) with the torch.nn module
holding the same weights; then quantize_dynamic, or any tool that matches torch's classes,
sees torch's modules:

    quantized = torch.ao.quantization.quantize_dynamic(lstmkit.layers.to_torch(model))
"""

from __future__ import annotations

import copy

from torch import nn

from .recurrent import RNNBase

__all__ = ["to_torch"]


def to_torch(model: nn.Module, inplace: bool = False) -> nn.Module:
    """`model` (or a copy) with each lstmkit layer of a standard cell swapped for torch's own
    module with the same weights; variants stay lstmkit's (torch has no module for them)."""
    if isinstance(model, RNNBase):
        return model.to_torch() if model.has_torch_twin else model
    model = model if inplace else copy.deepcopy(model)
    for name, child in list(model.named_children()):
        setattr(model, name, to_torch(child, inplace=True))
    return model
