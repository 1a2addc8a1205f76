"""train.fit: early stopping keeps the best epoch (epoch 0 included), and resume continues."""

from __future__ import annotations

import torch

from lstmkit.train import Schedule, fit


def problem():
    torch.manual_seed(0)
    x = torch.randn(64, 3)
    y = x @ torch.tensor([1.0, -2.0, 0.5]) + 0.1 * torch.randn(64)
    model = torch.nn.Linear(3, 1)
    return model, (lambda: [(x, y)]), (lambda b: ((model(b[0])[:, 0] - b[1]) ** 2).mean()), x, y


def test_learns_and_keeps_the_best_epoch():
    model, batches, loss, x, y = problem()
    validate = lambda: float(((model(x)[:, 0] - y) ** 2).mean().detach())  # noqa: E731
    start = validate()
    h = fit(model, batches, loss, validate, Schedule(epochs=30, patience=5, lr=0.1), quiet=True)
    assert validate() < start / 5
    assert validate() == min(h.val_loss) and h.val_loss[h.best_epoch] == min(h.val_loss)


def test_epoch_zero_wins_when_training_only_hurts():
    model, batches, loss, _x, _y = problem()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    calls = iter(range(100))
    h = fit(
        model,
        batches,
        loss,
        lambda: float(next(calls)),
        Schedule(epochs=10, patience=3),
        quiet=True,
    )
    assert h.best_epoch == 0 and h.stopped_early and h.epochs == 3
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, before[k])


def test_resume_continues_from_the_checkpoint(tmp_path):
    model, batches, loss, x, y = problem()
    validate = lambda: float(((model(x)[:, 0] - y) ** 2).mean().detach())  # noqa: E731
    fit(
        model,
        batches,
        loss,
        validate,
        Schedule(epochs=3, patience=50, lr=0.1),
        tmp_path,
        quiet=True,
    )
    model2, batches2, loss2, _, _ = problem()
    validate2 = lambda: float(((model2(x)[:, 0] - y) ** 2).mean().detach())  # noqa: E731
    h = fit(
        model2,
        batches2,
        loss2,
        validate2,
        Schedule(epochs=6, patience=50, lr=0.1),
        tmp_path,
        True,
        True,
    )
    assert h.resumed_from == 3 and h.epochs == 6 and len(h.train_loss) == 6 and len(h.val_loss) == 7
