"""One model-agnostic training loop: batches, clip, early stopping, exact resume, progress.

Nothing here knows about forecasting or classification: a task hands in
    batches()        an iterable of whatever loss_fn takes (a new one each epoch),
    loss_fn(net, b)  the training loss of one batch, a scalar tensor, computed by calling `net`
                     (the model, or its DistributedDataParallel wrapper),
    validate()       the validation loss (lower is better), computed without gradients.
Several processes (distributed.py) train one model: the model is wrapped in DistributedDataParallel,
which averages the gradients, so a task's loss on its share of a batch is scaled to make that
average the gradient of the whole batch's loss (forecast/schemes.py); each process runs the same
number of batches, and every decision (stop, diverged) is taken on values summed over all of
them, so none waits for a peer that has stopped. Process 0 alone writes the checkpoint.
Early stopping keeps the weights of the best validation epoch, and epoch 0 (the untrained
model) is a candidate too: a model that starts at a sensible baseline can only improve on it.
A loss that stops being finite ends training there: the best weights so far are kept (epoch 0's at
worst, which for the forecaster is its AR) and the history says so (`diverged`).
A resume restores everything the next epoch reads (checkpoint.py), so a run killed and resumed
ends with the weights of the uninterrupted run, bit for bit.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from . import checkpoint, distributed
from .optim import AdamW

__all__ = ["History", "Schedule", "events_said", "fit", "member_events", "training_events"]


@dataclass
class History:
    train_loss: list[float] = field(default_factory=list)  # one per epoch
    val_loss: list[float] = field(default_factory=list)  # index 0: before training
    best_epoch: int = 0
    epochs: int = 0
    seconds: float = 0.0
    stopped_early: bool = False
    resumed_from: int | None = None
    resume_changed: dict = field(default_factory=dict)  # settings a resume changed: [then, now]
    diverged: int | None = None  # the epoch whose loss was not finite; training ended there
    diverged_loss: str | None = None  # "train nan", "val inf"


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
    generator: torch.Generator | None = None,
    identity: dict | None = None,
) -> History:
    """Train `model` under `schedule` (a Schedule, or a task's TrainConfig: epochs, patience, lr,
    weight_decay, cosine); returns the history, the model holding its best validation weights.
    generator: the one batches() draws the data order from (checkpointed with torch's own);
    identity: {"settings": ..., "data": checkpoint.fingerprint(...)}, checked on resume."""
    epochs, patience, lr = schedule.epochs, schedule.patience, schedule.lr
    weight_decay, cosine = schedule.weight_decay, schedule.cosine
    # AdamW with weight_decay=0 is Adam exactly; with it, the decay is decoupled (Loshchilov &
    # Hutter).
    # torch's arithmetic (optim.py)
    optimizer = AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    history, start = History(), 1
    best_state = _snapshot(model)
    generators = {"torch": torch.default_generator}
    if generator is not None:
        generators["data"] = generator
    identity = identity or {}
    restored = (
        checkpoint.load(checkpoint_dir, model, optimizer, generators, identity)
        if (resume and checkpoint_dir)
        else None
    )
    if restored:
        progress, best_state, changed = restored
        history = History(
            **{k: v for k, v in progress.items() if k in History.__dataclass_fields__}
        )
        history.resumed_from, history.resume_changed = progress["epochs"], changed
        start = history.epochs + 1
        if history.diverged is not None or history.epochs - history.best_epoch >= patience:
            start = epochs + 1  # it had ended (early stopping or divergence): nothing to train
    else:
        with torch.no_grad():
            history.val_loss.append(float(validate()))  # epoch 0: where training starts
        if not math.isfinite(history.val_loss[0]):
            raise FloatingPointError(
                f"the validation loss of the untrained model is {history.val_loss[0]}: the "
                "validation data hold values too large for float32"
            )
    clock = time.perf_counter() - history.seconds
    net, share = model, 1.0
    if distributed.active():
        from torch.nn.parallel import DistributedDataParallel

        net, share = DistributedDataParallel(model), 1.0 / distributed.world()
    writer = checkpoint_dir and distributed.rank() == 0

    def save(progress):
        # the best weights are the loop's current ones, read at call time
        checkpoint.save(
            checkpoint_dir, model, optimizer, progress, best_state, generators, identity
        )

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
                loss = loss_fn(net, batch)  # forward
                # the batch's loss over every process (each one's share sums to it)
                value = distributed.total(loss.item()) * share
                if not math.isfinite(value):
                    history.diverged, history.diverged_loss = epoch, f"train {value}"
                    break
                loss.backward()  # backward (and, over processes, the gradients' average)
                if clip:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
                optimizer.step()
                total, count = total + value, count + 1
            if history.diverged is None:
                model.eval()
                with torch.no_grad():
                    val = float(validate())
                if not math.isfinite(val):
                    history.diverged, history.diverged_loss = epoch, f"val {val}"
            if history.diverged is None:
                history.train_loss.append(total / max(count, 1))
                history.val_loss.append(val)
                history.epochs = epoch
                if val < history.val_loss[history.best_epoch]:
                    history.best_epoch, best_state = epoch, _snapshot(model)
            history.seconds = time.perf_counter() - clock
            if writer:
                save(vars(history))
            if history.diverged is not None:
                break  # the weights are no longer usable; the best so far are (epoch 0's at worst)
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


def training_events(history: History) -> dict:
    """What metrics.json records of a divergence and of a resume (absent where neither)."""
    events = {}
    if history.diverged is not None:
        events["diverged"] = {
            "epoch": history.diverged,
            "loss": history.diverged_loss,
            "kept_epoch": history.best_epoch,
        }
    if history.resumed_from is not None:
        events["resumed"] = {"from_epoch": history.resumed_from, "changed": history.resume_changed}
    return events


def member_events(histories: list[History]) -> dict:
    """training_events() of an ensemble: per event, a list over the members it happened to."""
    merged: dict[str, list] = {}
    for member, history in enumerate(histories):
        for name, event in training_events(history).items():
            merged.setdefault(name, []).append({"member": member, **event})
    return merged


def events_said(metrics: dict) -> list[str]:
    """The lines the command line prints for training_events(), from metrics.json."""
    lines = []
    for d in _each(metrics.get("diverged")):
        lines.append(
            f"training diverged at epoch {d['epoch']} ({d['loss']}); kept the weights of epoch "
            f"{d['kept_epoch']}" + " (before training)" * (d["kept_epoch"] == 0)
        )
    for r in _each(metrics.get("resumed")):
        changed = ", ".join(f"{k} {a} -> {b}" for k, (a, b) in r["changed"].items())
        lines.append(
            f"resumed from epoch {r['from_epoch']}" + (f"; changed {changed}" if changed else "")
        )
    return lines


def _each(value) -> list:
    return value if isinstance(value, list) else [value] if value else []
