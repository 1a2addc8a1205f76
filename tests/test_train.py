"""train.fit: early stopping keeps the best epoch (epoch 0 included), and resume continues."""

from __future__ import annotations

import torch

from lstmkit.train import Schedule, fit


def problem():
    torch.manual_seed(0)
    x = torch.randn(64, 3)
    y = x @ torch.tensor([1.0, -2.0, 0.5]) + 0.1 * torch.randn(64)
    model = torch.nn.Linear(3, 1)
    return model, (lambda: [(x, y)]), (lambda net, b: ((net(b[0])[:, 0] - b[1]) ** 2).mean()), x, y


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


def test_a_run_that_diverges_keeps_its_last_good_weights_and_says_so(tmp_path):
    """It used to raise and keep nothing, not even epoch 0 (for the forecaster, its AR)."""
    from lstmkit.train import events_said, training_events

    model, batches, loss, x, y = problem()
    validate = lambda: float(((model(x)[:, 0] - y) ** 2).mean().detach())  # noqa: E731
    epoch = iter(range(1, 100))

    def blows_up(net, b):  # finite for 3 epochs (one batch each), then a NaN loss
        return loss(net, b) * (float("nan") if next(epoch) > 3 else 1.0)

    h = fit(
        model,
        batches,
        blows_up,
        validate,
        Schedule(epochs=10, patience=50, lr=0.1),
        tmp_path,
        quiet=True,
    )
    assert h.diverged == 4 and h.diverged_loss == "train nan" and h.epochs == 3
    assert h.best_epoch == 3 and validate() == h.val_loss[3]  # the last good weights
    said = events_said(training_events(h))
    assert said == ["training diverged at epoch 4 (train nan); kept the weights of epoch 3"]
    # a resume of a diverged run does not train on
    model2, batches2, loss2, _, _ = problem()
    h2 = fit(
        model2,
        batches2,
        loss2,
        validate,
        Schedule(epochs=10, patience=50, lr=0.1),
        tmp_path,
        True,
        True,
    )
    assert h2.epochs == 3 and h2.diverged == 4


def test_a_validation_loss_that_stops_being_finite_ends_training_at_the_best_epoch():
    model, batches, loss, _x, _y = problem()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    values = iter([5.0, float("inf")])
    h = fit(model, batches, loss, lambda: next(values), Schedule(epochs=5), quiet=True)
    assert h.diverged == 1 and h.diverged_loss == "val inf" and h.best_epoch == 0
    for k, v in model.state_dict().items():  # epoch 0's weights, untouched
        assert torch.equal(v, before[k])
