"""lstmkit.optim.AdamW against torch.optim.AdamW: the same parameters after many steps, exactly,
with and without weight decay, and its state_dict loads into torch's and back."""

from __future__ import annotations

import copy

import pytest
import torch

from lstmkit.optim import AdamW


def _model(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    net[0].bias.requires_grad_(False)  # a frozen parameter gets no gradient and no state
    return net


def _train(net, opt, steps: int, seed: int = 1):
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x = torch.randn(16, 4, generator=gen)
        opt.zero_grad(set_to_none=True)
        (net(x) ** 2).mean().backward()
        opt.step()


@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
def test_the_same_parameters_as_torchs_adamw_exactly(weight_decay):
    ours, theirs = _model(0), _model(0)
    _train(ours, AdamW(ours.parameters(), lr=3e-3, weight_decay=weight_decay), 50)
    _train(theirs, torch.optim.AdamW(theirs.parameters(), lr=3e-3, weight_decay=weight_decay), 50)
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert torch.equal(a, b)


def test_its_state_dict_moves_to_torchs_and_back():
    ours, theirs = _model(0), _model(0)
    opt = AdamW(ours.parameters(), lr=1e-2, weight_decay=0.0)
    _train(ours, opt, 10)
    theirs.load_state_dict(ours.state_dict())
    torch_opt = torch.optim.AdamW(theirs.parameters(), lr=1e-2, weight_decay=0.0)
    # ours -> torch's (not sharing the moments)
    torch_opt.load_state_dict(copy.deepcopy(opt.state_dict()))
    _train(ours, opt, 10, seed=2)
    _train(theirs, torch_opt, 10, seed=2)
    assert all(
        torch.equal(a, b) for a, b in zip(ours.parameters(), theirs.parameters(), strict=True)
    )
    back = AdamW(_model(5).parameters())
    back.load_state_dict(copy.deepcopy(torch_opt.state_dict()))  # torch's -> ours
    assert set(back.state) == set(opt.state) and back.param_groups[0]["lr"] == 1e-2
    with pytest.raises(ValueError, match="another set of parameters"):
        AdamW(torch.nn.Linear(2, 2).parameters()).load_state_dict(torch_opt.state_dict())
