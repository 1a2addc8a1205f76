"""One model-agnostic training loop: batches, clip, early stopping, checkpoint/resume, progress.

Nothing here knows about forecasting or classification: a task hands in
    batches()      an iterable of whatever loss_fn takes (a new one each epoch),
    loss_fn(b)     the training loss of one batch, a scalar tensor,
    validate()     the validation loss (lower is better), computed without gradients.
Early stopping keeps the weights of the best validation epoch, and epoch 0 (the untrained
model) is a candidate too: a model that starts at a sensible baseline can only improve on it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .optim import AdamW
from .runs import load_checkpoint, save_checkpoint

__all__ = ["History", "Schedule", "fit"]


@dataclass
class History:
    train_loss: list[float] = field(default_factory=list)  # one per epoch
    val_loss: list[float] = field(default_factory=list)  # index 0: before training
    best_epoch: int = 0
    epochs: int = 0
    seconds: float = 0.0
    stopped_early: bool = False
    resumed_from: int | None = None


def _snapshot(model) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@dataclass(frozen=True)
class Schedule:
    """What the loop reads from a task's TrainConfig (forecast/config.py, classify/config.py have
    these fields and more); for a loop run by hand."""

    epochs: int = 100  # at most
    patience: int = 10  # epochs without a better validation loss, then stop
    lr: float = 1e-3
    weight_decay: float = 0.0  # AdamW's, decoupled
    cosine: bool = False  # cosine decay of the learning rate over `epochs`


def fit(
    model: torch.nn.Module,
    batches,
    loss_fn,
    validate,
    schedule,
    checkpoint_dir=None,
    resume: bool = False,
    quiet: bool = False,
    clip: float = 1.0,
) -> History:
    """Train `model` under `schedule` (a Schedule, or a task's TrainConfig: epochs, patience, lr,
    weight_decay, cosine); returns the history, the model holding its best validation weights."""
    epochs, patience, lr = schedule.epochs, schedule.patience, schedule.lr
    weight_decay, cosine = schedule.weight_decay, schedule.cosine
    # AdamW with weight_decay=0 is Adam exactly; with it, the decay is decoupled (Loshchilov &
    # Hutter).
    # torch's arithmetic (optim.py)
    optimizer = AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    history, start = History(), 1
    best_state = _snapshot(model)
    restored = (
        load_checkpoint(checkpoint_dir, model, optimizer) if (resume and checkpoint_dir) else None
    )
    if restored:
        progress, best_state = restored
        history = History(
            **{k: v for k, v in progress.items() if k in History.__dataclass_fields__}
        )
        history.resumed_from = progress["epochs"]
        start = history.epochs + 1
    else:
        with torch.no_grad():
            history.val_loss.append(float(validate()))  # epoch 0: where training starts
    clock = time.perf_counter() - history.seconds
    bar = Progress(
        TextColumn("[bold]epoch"),
        MofNCompleteColumn(),
        BarColumn(),
        TextColumn("{task.fields[losses]}"),
        TimeElapsedColumn(),
        disable=quiet,
        transient=False,
    )
    with bar:
        task = bar.add_task("train", total=epochs, completed=start - 1, losses="")
        for epoch in range(start, epochs + 1):
            if cosine:  # a function of the epoch alone, so resuming needs no scheduler state
                for group in optimizer.param_groups:
                    group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * (epoch - 1) / epochs))
            model.train()
            total, count = 0.0, 0
            for batch in batches():
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(batch)  # forward
                if not torch.isfinite(loss):
                    raise FloatingPointError(
                        f"training loss became {loss.item()} at epoch {epoch}; lower --lr"
                    )
                loss.backward()  # backward
                if clip:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
                optimizer.step()
                total, count = total + loss.item(), count + 1
            model.eval()
            with torch.no_grad():
                val = float(validate())
            history.train_loss.append(total / max(count, 1))
            history.val_loss.append(val)
            history.epochs = epoch
            if val < history.val_loss[history.best_epoch]:
                history.best_epoch, best_state = epoch, _snapshot(model)
            history.seconds = time.perf_counter() - clock
            if checkpoint_dir:
                save_checkpoint(checkpoint_dir, model, optimizer, vars(history), best_state)
            bar.update(
                task,
                advance=1,
                losses=f"train {history.train_loss[-1]:.4f}  val {val:.4f}  "
                f"best@{history.best_epoch}",
            )
            if epoch - history.best_epoch >= patience:
                history.stopped_early = True
                break
    model.load_state_dict(best_state)
    model.eval()
    history.seconds = time.perf_counter() - clock
    return history
