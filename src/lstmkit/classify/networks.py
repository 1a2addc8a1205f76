"""Training the classifier's network (models.ClassifierNet) on encoded sequences: the loss (class or
positive weights, masked missing labels, label smoothing), length-bucketed batches, one SMILES
spelling per molecule per batch, early stopping on the validation criterion (train.fit).

Encoded sequences are (x, n): values (N, L, C) and lengths (N,), or SMILES token ids (V, N, L) and
(V, N) holding the canonical spelling first and V - 1 randomised ones after."""

from __future__ import annotations

import math

import numpy as np
import rich
import torch
import torch.nn.functional as F

from .. import distributed
from ..checkpoint import fingerprint
from ..models import mean_proba
from ..train import History, fit

__all__ = [
    "MIN_BATCHES",
    "loss_weights",
    "passes_per_epoch",
    "proba",
    "rows_of",
    "train",
    "train_folds",
    "train_members",
]

MIN_BATCHES = 10  # per epoch: smaller data sets are passed over several times


def passes_per_epoch(rows: int, batch_size: int) -> int:
    """An epoch is at least MIN_BATCHES batches: a small training set is passed over several times
    per epoch, so that the default epochs and patience mean enough optimizer steps on 30 rows too
    (on a 30-beat UCR-style set one batch per epoch left the network at 0.58 accuracy after 40
    steps; docs/classify.md)."""
    return math.ceil(MIN_BATCHES / math.ceil(rows / batch_size))


def rows_of(x: np.ndarray, n: np.ndarray, rows, tokens: bool, spellings: bool = True):
    """The encoded sequences of `rows` (SMILES: every spelling, or the canonical one alone)."""
    if not tokens:
        return x[rows], n[rows]
    v = slice(None) if spellings else slice(0, 1)
    return x[v, rows], n[v, rows]


def proba(members, x: np.ndarray, n: np.ndarray, tokens: bool, multilabel: bool) -> np.ndarray:
    """Mean probabilities over ensemble members and (SMILES) the spellings given."""
    xs, ns = (x, n) if tokens else (x[None], n[None])  # values: one variant
    return mean_proba(list(members), xs, ns, multilabel)


def loss_weights(y: np.ndarray, mode: str, n_classes: int) -> torch.Tensor | None:
    """Class weights (single-label) or positive weights (multi-label) from training counts:
    inverse frequency (balanced) or its square root (sqrt)."""
    if mode == "none":
        return None
    power = 0.5 if mode == "sqrt" else 1.0
    if y.ndim == 2:
        pos = np.nansum(y, 0)
        neg = (~np.isnan(y)).sum(0) - pos
        return torch.tensor((neg / np.maximum(pos, 1)) ** power, dtype=torch.float32)
    counts = np.bincount(y, minlength=n_classes)
    w = len(y) / (n_classes * np.maximum(counts, 1))
    return torch.tensor(w**power, dtype=torch.float32)


def _loss(logits, y, weights=None, smoothing=0.0):
    if y.dtype.is_floating_point:  # multi-label: missing labels leave the loss (Tox21 style)
        known = ~torch.isnan(y)
        loss = F.binary_cross_entropy_with_logits(
            logits, torch.nan_to_num(y), pos_weight=weights, reduction="none"
        )
        return loss[known].mean()
    return F.cross_entropy(logits, y, weight=weights, label_smoothing=smoothing)


def _share_of_loss(model, xb, nb, yb, weights, smoothing):
    """Over several processes, each holding every sequence: this process's rows of the batch
    (rank, rank + world, ...), their loss summed and divided by the whole batch's normaliser
    (its known labels, or its rows' class weights: what _loss's mean divides by), times the
    number of processes, so that DistributedDataParallel's average of the gradients is the whole
    batch's. A process with no row of a (last, short) batch runs one row at weight 0."""
    rank, world = distributed.rank(), distributed.world()
    mine = torch.arange(rank, len(yb), world)
    scale = float(world)
    if not len(mine):
        mine, scale = torch.zeros(1, dtype=torch.long), 0.0
    logits, y = model(xb[mine], nb[mine]), yb[mine]
    if y.dtype.is_floating_point:  # multi-label: the mean over the batch's known labels
        loss = F.binary_cross_entropy_with_logits(
            logits, torch.nan_to_num(y), pos_weight=weights, reduction="none"
        )
        return loss[~torch.isnan(y)].sum() / (~torch.isnan(yb)).sum().clamp_min(1) * scale
    total = F.cross_entropy(logits, y, weight=weights, label_smoothing=smoothing, reduction="sum")
    norm = weights[yb].sum() if weights is not None else torch.tensor(float(len(yb)))
    return total / norm * scale


def train_folds(
    train_members, fit_rows, folds, per_fold: int, tokens: bool, network, screen, quiet
) -> list[str]:
    """One network (or `per_fold`) per fold: train_members(train part, held-out part, first member)
    on the other folds, early-stopped on the fold, whose rows' probabilities go into `network`
    (N_fit, K). screen(network) after the first fold -> (worth going on, why not), or None: never
    stop. -> the notes (why the other folds were not trained)."""
    x, n, y = fit_rows
    k, multilabel = int(folds.max()) + 1, y.ndim == 2
    for f in range(k):
        out = folds == f
        if not quiet:
            said = (
                f"network {f + 1} of {k}: {int((~out).sum())} sequences, {int(out.sum())} held out"
            )
            rich.get_console().print(said)
        held = rows_of(x, n, out, tokens, spellings=False)
        members = train_members(
            (*rows_of(x, n, ~out, tokens), y[~out]), (*held, y[out]), f * per_fold
        )
        network[out] = proba(members, *held, tokens, multilabel)
        if f == 0 and k > 1 and screen is not None:
            worth, why = screen(network)
            if not worth:
                return [f"{why}; the network was not trained on the other {k - 1} folds"]
    return []


def train_members(
    build,
    cfg,
    train_part,
    val_part,
    first: int,
    n_classes: int,
    tokens: bool,
    score,
    quiet,
    checkpoint_dir,
    resume,
) -> tuple[list, list[History]]:
    """`cfg.train.ensemble` networks made by build(), from seeds cfg.train.seed + first, ..., each
    trained by
    train() (checkpoints in checkpoint_dir/member<k>). -> (networks, histories)."""
    import pathlib

    members, histories = [], []
    for member in range(first, first + cfg.train.ensemble):
        torch.manual_seed(cfg.train.seed + member)
        net = build()
        folder = pathlib.Path(checkpoint_dir) / f"member{member}" if checkpoint_dir else None
        histories.append(
            train(net, cfg, train_part, val_part, n_classes, tokens, score, quiet, folder, resume)
        )
        members.append(net)
    return members, histories


def train(
    net, cfg, train_part, val_part, n_classes: int, tokens: bool, score, quiet, folder, resume
) -> History:
    """train_part, val_part: (x, n, y); score(y, proba): the criterion early stopping reads."""
    x, n, y = train_part
    xt, nt, yt = (torch.as_tensor(a) for a in (x, n, y))
    weights = loss_weights(y, cfg.train.class_weights, n_classes)
    gen = torch.Generator().manual_seed(cfg.train.seed)
    multilabel = y.ndim == 2

    # Length buckets: sort each stretch of 32 batches by length, then shuffle the batches. A
    # batch pads only to its own longest sequence, so similar lengths cost less: on ClinTox
    # (9 to 250 tokens) an epoch took about 2.5x less time in one before/after run.
    lengths = nt.reshape(-1, len(y)).max(0).values  # per row, its longest variant
    bucket = bool((lengths.min() < lengths.max()).item())
    passes = passes_per_epoch(len(y), cfg.train.batch_size)

    def batches():
        order = torch.cat([torch.randperm(len(y), generator=gen) for _ in range(passes)])
        if bucket:
            stretch = 32 * cfg.train.batch_size
            order = torch.cat([part[lengths[part].argsort()] for part in order.split(stretch)])
            cuts = list(order.split(cfg.train.batch_size))
            order = torch.cat([cuts[k] for k in torch.randperm(len(cuts), generator=gen)])
        for k in range(0, len(order), cfg.train.batch_size):
            rows = order[k : k + cfg.train.batch_size]
            if tokens:  # one variant per molecule per batch: canonical or a randomised one
                pick = (
                    torch.randint(0, xt.shape[0], (len(rows),), generator=gen)
                    if cfg.smiles.augment
                    else 0
                )
                xb, nb = xt[pick, rows], nt[pick, rows]
            else:
                xb, nb = xt[rows], nt[rows]
            L = int(nb.max())
            yield xb[:, :L], nb, yt[rows]

    def loss_fn(model, batch):  # model: net, or its wrapper over several processes
        xb, nb, yb = batch
        if distributed.active():
            return _share_of_loss(model, xb, nb, yb, weights, cfg.train.label_smoothing)
        return _loss(model(xb, nb), yb, weights, cfg.train.label_smoothing)

    xv, nv, yv = val_part

    def validate():
        return score(yv, proba([net], xv, nv, tokens, multilabel))

    identity = {"settings": cfg.flat(), "data": fingerprint(x, n, y, *val_part)}
    return fit(
        net,
        batches,
        loss_fn,
        validate,
        cfg.train,
        folder,
        resume,
        quiet,
        generator=gen,
        identity=identity,
    )
