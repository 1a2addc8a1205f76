"""AdamW, step for step torch.optim.AdamW's single-tensor arithmetic (the CPU default), without
its one-time cost: torch.optim.Optimizer's methods import torch._dynamo on first call (1.5 s
here, a fifth of a default forecast's wall time; docs/forecasting.md, "Speed"). The state_dict
has torch's layout, so checkpoints move between the two; tests/test_optim.py holds the
parameters to torch.optim.AdamW's after many steps, exactly."""

from __future__ import annotations

import torch

__all__ = ["AdamW"]


class AdamW:
    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas=(0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ):
        params = list(params)
        if not params:
            raise ValueError("AdamW: got an empty parameter list")
        self.params = params
        self.param_groups = [
            {
                "lr": lr,
                "betas": tuple(betas),
                "eps": eps,
                "weight_decay": weight_decay,
                "amsgrad": False,
                "maximize": False,
                "foreach": None,
                "capturable": False,
                "differentiable": False,
                "fused": None,
                "decoupled_weight_decay": True,
                "params": list(range(len(params))),
            }
        ]
        self.state: dict[int, dict] = {}

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        group = self.param_groups[0]
        lr, (beta1, beta2), eps, wd = (
            group["lr"],
            group["betas"],
            group["eps"],
            group["weight_decay"],
        )
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            state = self.state.get(i)
            if state is None:
                state = self.state[i] = {
                    "step": torch.tensor(0.0),
                    "exp_avg": torch.zeros_like(p),
                    "exp_avg_sq": torch.zeros_like(p),
                }
            state["step"] += 1
            step = state["step"].item()
            p.mul_(1 - lr * wd)  # decoupled decay (Loshchilov & Hutter)
            state["exp_avg"].lerp_(p.grad, 1 - beta1)
            state["exp_avg_sq"].mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
            bias_correction1 = 1 - beta1**step
            bias_correction2_sqrt = (1 - beta2**step) ** 0.5
            denom = (state["exp_avg_sq"].sqrt() / bias_correction2_sqrt).add_(eps)
            p.addcdiv_(state["exp_avg"], denom, value=-lr / bias_correction1)

    def state_dict(self) -> dict:
        return {
            "state": {i: dict(s) for i, s in self.state.items()},
            "param_groups": [dict(g) for g in self.param_groups],
        }

    def load_state_dict(self, state_dict: dict) -> None:
        groups = state_dict["param_groups"]
        if len(groups) != 1 or len(groups[0]["params"]) != len(self.params):
            raise ValueError(
                "AdamW.load_state_dict: the saved state is for another set of parameters"
            )
        self.param_groups[0].update(
            {k: (tuple(v) if k == "betas" else v) for k, v in groups[0].items()}
        )
        self.param_groups[0]["params"] = list(range(len(self.params)))
        self.state = {}
        for i, s in state_dict["state"].items():
            p = self.params[int(i)]
            self.state[int(i)] = {
                "step": torch.as_tensor(s["step"], dtype=torch.float32).clone(),
                "exp_avg": s["exp_avg"].to(p).clone(),
                "exp_avg_sq": s["exp_avg_sq"].to(p).clone(),
            }
