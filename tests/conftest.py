"""Shared harness: thread settings, the configuration space, and the layer contract."""

from __future__ import annotations

import dataclasses
import itertools
import json

import numpy as np
import pytest
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from lstmkit import LSTM, LayerConfig

# One intra-op thread: small models are fastest so, and pytest -n 2 already uses both cores.
torch.set_num_threads(1)

# (num_layers, bidirectional, batch_first, bias): the product torch's own module tests walk.
LAYER_SPACE = list(itertools.product([1, 2], [False, True], [False, True], [True, False]))


def space_id(params) -> str:
    num_layers, bidirectional, batch_first, bias = params
    direction = "bi" if bidirectional else "uni"
    return f"L{num_layers}-{direction}-{'bf' if batch_first else 'sf'}-{'b' if bias else 'nob'}"


def numpy_params(layer: LSTM, k: int = 0, direction: int = 0) -> dict[str, np.ndarray]:
    """Layer k's parameters for one direction, under the names reference.py uses."""
    names = layer._names[k][direction]
    return {
        base: getattr(layer, name).detach().double().numpy().copy() for base, name in names.items()
    }


def numpy_grads(layer: LSTM, k: int = 0, direction: int = 0) -> dict[str, np.ndarray]:
    names = layer._names[k][direction]
    return {base: getattr(layer, name).grad.double().numpy() for base, name in names.items()}


def check_layer(layer: LSTM, x: torch.Tensor, expected_output_shape, expected_num_params: int):
    """The contract every layer configuration meets (after Keras' run_layer_test)."""
    out = layer(x)
    output, state = out[0], out[1]
    assert tuple(output.shape) == tuple(expected_output_shape)
    states = [state] if isinstance(state, torch.Tensor) else list(state)
    L_D = layer.num_layers * layer.num_directions
    batch = x.size(0 if layer.batch_first else 1)
    for t, size in zip(states, layer.cell_type.state_sizes(layer.hidden_size), strict=True):
        assert tuple(t.shape) == (L_D, batch, size)
    assert sum(p.numel() for p in layer.parameters()) == expected_num_params

    # state_dict -> safetensors bytes -> a fresh layer: identical outputs.
    restored = LSTM.from_config(layer.config, dtype=x.dtype)
    restored.load_state_dict(st_load(st_save(layer.state_dict())))
    torch.testing.assert_close(restored(x)[0], output, rtol=0, atol=0)

    # config -> JSON -> config.
    data = json.loads(json.dumps(dataclasses.asdict(layer.config)))
    assert LayerConfig(**data) == layer.config

    # One optimizer step on a fixed batch lowers the loss, with no NaN anywhere.
    target = torch.randn_like(output)
    opt = torch.optim.SGD(layer.parameters(), lr=0.05)
    loss0 = torch.nn.functional.mse_loss(layer(x)[0], target)
    loss0.backward()
    assert all(torch.isfinite(p.grad).all() for p in layer.parameters())
    opt.step()
    loss1 = torch.nn.functional.mse_loss(layer(x)[0], target)
    assert torch.isfinite(loss1) and loss1 < loss0


@pytest.fixture
def rng():
    return np.random.default_rng(0)
