"""The two ways to train a forecaster on the same arrays, to score it on validation, and to run it.

windows     the article's recipe: every training origin becomes a sample of the last `window`
            steps; the LSTM starts from zero state in each window; shuffled mini-batches.
every-step  the series are cut into long contiguous pieces run side by side; the LSTM walks
            each piece in chunks of `chunk` steps carrying its state (truncated BPTT), with
            a loss at every step after a short burn-in. Evaluation runs each series once from
            its start, statefully, so every forecast sees the whole history.
Both feed the same ForecastNet: x (N, L, F) into the LSTM, design (N, L, D) into the skip.
"""

from __future__ import annotations

import numpy as np
import torch

from .. import distributed
from ..data.windows import TRAIN, VAL, order_key

__all__ = ["SCHEMES", "EveryStep", "Scheme", "Windows", "loss_of", "scheme_of"]


def loss_of(
    out: torch.Tensor,
    y: torch.Tensor,
    mask: torch.Tensor,
    quantiles: list[float],
    count: float | None = None,
) -> torch.Tensor:
    """out (..., H, Q), y (..., H), mask (...) -> mean squared error, or mean pinball loss.
    count: the origins the mean is over, where these are a share of them (the batch's origins
    over every process); default: mask's."""
    m = mask.unsqueeze(-1).to(out.dtype)  # (..., 1)
    n = (m.sum() if count is None else torch.tensor(float(count))).clamp_min(1.0) * y.shape[-1]
    y = torch.nan_to_num(y)
    if not quantiles:
        return (((out[..., 0] - y) ** 2) * m).sum() / n
    total = 0.0
    for k, q in enumerate(quantiles):
        diff = y - out[..., k]
        total = total + (torch.maximum(q * diff, (q - 1) * diff) * m).sum() / n
    return total / len(quantiles)


VALIDATION_SPAN = 4096  # steps per forward pass of the every-step validation
# steps per forward pass of an every-step forecast: under cuDNN's 65,535 (pytorch #133751)
FORECAST_SPAN = 16_384


def _tensor(a, dtype=torch.float32) -> torch.Tensor:
    return torch.as_tensor(np.nan_to_num(a), dtype=dtype)


def _numpy_dtype(model) -> type:
    """What a forecast feeds the model, as NumPy names it: its weights' type (float32, or
    float64 where a caller converted it to check a result to 1e-12)."""
    return np.float64 if model.skip.weight.dtype == torch.float64 else np.float32


class _WindowBatches:
    """Every training origin as one sample of its last `window` steps; shuffled mini-batches.

    Over several processes (each holding whole series) the samples are numbered as one process
    numbers them, the shuffle is of all of them (the same generator everywhere), and each
    process takes, of every batch, the samples it holds: the same batches, the same number of
    steps on every process however uneven the shares."""

    def __init__(self, arrays, designs, window, batch_size, quantiles, generator):
        self.batch_size, self.quantiles, self.generator = batch_size, quantiles, generator
        xs, ds, ys, counts = [], [], [], []
        for a, d in zip(arrays, designs, strict=True):
            idx = np.flatnonzero((a.split == TRAIN) & _has_window(d, window))
            steps = idx[:, None] + np.arange(-window + 1, 1)[None, :]  # (n, W)
            xs.append(a.x[steps])
            ds.append(d[idx])
            ys.append(a.y[idx])
            counts.append(len(idx))
        # Every training sample at once: (n, W, F), (n, 1, D), (n, H).
        self.train = (
            _tensor(np.concatenate(xs)),
            _tensor(np.concatenate(ds))[:, None, :],
            _tensor(np.concatenate(ys)),
        )
        # each local sample's number in the one-process order (a series' samples are together)
        keys = [order_key(a) for a in arrays]
        every = distributed.gathered(list(zip(keys, counts, strict=True)), keys)
        start = dict(
            zip((k for k, _ in every), np.cumsum([0] + [n for _, n in every]), strict=False)
        )
        self.numbers = torch.as_tensor(
            np.concatenate([start[k] + np.arange(n) for k, n in zip(keys, counts, strict=True)])
        )
        self.size = sum(n for _, n in every)

    def batches(self):
        x, d, y = self.train
        order = torch.randperm(self.size, generator=self.generator)
        for k in range(0, self.size, self.batch_size):
            chosen = order[k : k + self.batch_size]
            if len(x) == self.size:  # one process
                yield x[chosen], d[chosen], y[chosen], len(chosen)
                continue
            # the batch's samples this process holds (none, where it holds no training sample)
            at = torch.searchsorted(self.numbers, chosen).clamp_max(max(len(x) - 1, 0))
            i = at[self.numbers[at] == chosen] if len(x) else at[:0]
            yield x[i], d[i], y[i], len(chosen)

    def loss(self, model, batch):
        x, d, y, count = batch
        mask = torch.ones(len(y), dtype=torch.bool)
        if not len(y):  # none of this batch here: one blank sample, so the weights' graph exists
            x, d, y = (torch.zeros((1, *v.shape[1:])) for v in self.train)
            mask = torch.zeros(1, dtype=torch.bool)
        out, _ = model(x, d)
        return loss_of(out[:, -1], y, mask, self.quantiles, count) * distributed.world()


class _ChunkBatches:
    """Contiguous pieces side by side, walked in chunks with the state carried (truncated BPTT)."""

    def __init__(self, arrays, designs, window, batch_size, chunk, quantiles, generator):
        self.arrays, self.designs = arrays, designs
        self.burn_in, self.chunk, self.quantiles, self.generator = (
            window,
            chunk,
            quantiles,
            generator,
        )
        # every process's series: the pieces are as long as in one process, so each process
        # runs the same number of chunks (piece / chunk) however uneven the shares
        train_steps = distributed.total(float(sum(int((a.split == TRAIN).sum()) for a in arrays)))
        # As many parallel pieces as the batch size asks for, each a whole number of chunks.
        self.piece = max(2 * chunk, int(np.ceil(train_steps / batch_size / chunk)) * chunk)

    def batches(self):
        pieces = []  # (series, design, start, stop, loss mask) of each parallel piece
        offset = int(torch.randint(0, self.chunk, (1,), generator=self.generator))
        for a, d in zip(self.arrays, self.designs, strict=True):
            train = np.flatnonzero(a.split == TRAIN)
            if len(train) == 0:
                continue
            end = train[-1] + 1
            mask = (a.split == TRAIN) & ~np.isnan(d).any(1)
            for start in range(offset, end, self.piece):
                stop = min(start + self.piece, end)
                m = mask[start:stop].copy()
                m[: self.burn_in] = False  # the state starts at zero: no loss until it has context
                pieces.append((a, d, start, stop, m))
        if not pieces:  # no training step here: one blank piece keeps the weights' graph
            a, d = self.arrays[0], self.designs[0]
            pieces.append((a, d, 0, 0, np.zeros(0, bool)))
        # over several processes each chunk's loss is a mean over the origins of every process's
        # pieces at that chunk, counted once per epoch; one process: its own mask's (None)
        counts = None
        if distributed.active():
            at = np.zeros(self.piece)  # origins with a loss, per step of a piece (a whole
            for *_, m in pieces:  # number of chunks)
                at[: len(m)] += m
            counts = distributed.total(at.reshape(-1, self.chunk).sum(1))
        # Each chunk is filled when it is reached, in float32 (what the model reads), zeros after
        # a piece's end. Padding, stacking and converting float64 copies of the whole epoch once
        # held three copies of every training design at once (about 3 GB by their shapes for 20
        # series of 5 years hourly: benchmarks/scale.py --series 20); the values are the same.
        a0, d0, chunk = self.arrays[0], self.designs[0], self.chunk
        for k in range(0, self.piece, chunk):
            x = np.zeros((len(pieces), chunk, a0.x.shape[1]), np.float32)
            dd = np.zeros((len(pieces), chunk, d0.shape[1]), np.float32)
            y = np.zeros((len(pieces), chunk, a0.y.shape[1]), np.float32)
            mask = np.zeros((len(pieces), chunk), bool)
            for j, (a, d, start, stop, m) in enumerate(pieces):
                lo, hi = start + k, min(start + k + chunk, stop)
                if hi > lo:
                    x[j, : hi - lo] = np.nan_to_num(a.x[lo:hi])
                    dd[j, : hi - lo] = np.nan_to_num(d[lo:hi])
                    y[j, : hi - lo] = np.nan_to_num(a.y[lo:hi])
                    mask[j, : hi - lo] = m[k : k + hi - lo]
            count = None if counts is None else counts[k // chunk]
            yield (k == 0, *(torch.from_numpy(v) for v in (x, dd, y, mask)), count)

    def loss(self, model, batch):
        first, x, d, y, m, count = batch
        if first:
            self.state = None
        out, state = model(x, d, self.state)
        # Carry the state to the next chunk but cut the graph there: truncated BPTT.
        self.state = (
            tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
        )
        return loss_of(out, y, m, self.quantiles, count) * distributed.world()


class Scheme:
    """A way to train and run a ForecastNet on the forecaster's arrays: its batches and loss, its
    forecasts at every origin, its validation loss, and the span of steps an explanation shows.
    `train` is the forecast's TrainConfig (forecast/config.py)."""

    name = ""
    stateful = False  # True: every origin sees the whole history through the carried state

    def __init__(self, train):
        self.window, self.batch_size, self.chunk = train.window, train.batch_size, train.chunk

    def batches(self, arrays, designs, quantiles, generator):
        """An object with .batches() (one epoch) and .loss(model, batch): what train.fit runs."""
        raise NotImplementedError

    def forecast(self, model, a, d) -> np.ndarray:
        """Forecasts (T, H, Q) at every origin of one series; NaN where there is too little
        history."""
        raise NotImplementedError

    def forecast_all(self, model, arrays, designs) -> list[np.ndarray]:
        """`forecast` for many series."""
        return [self.forecast(model, a, d) for a, d in zip(arrays, designs, strict=True)]

    def validation_loss(self, model, arrays, designs, quantiles):
        """The validation loss, as a function of the current weights."""
        raise NotImplementedError

    def explain_span(self, season: int) -> int:
        """Steps before an origin an explanation attributes over: what the model reads."""
        return self.window


class Windows(Scheme):
    """The article's recipe: each origin is a sample of its last `window` steps, read from a zero
    state; shuffled mini-batches."""

    name = "windows"

    def batches(self, arrays, designs, quantiles, generator):
        return _WindowBatches(arrays, designs, self.window, self.batch_size, quantiles, generator)

    def forecast(self, model, a, d) -> np.ndarray:
        """Each origin sees its last `window` steps from a zero state."""
        window = self.window
        T = len(a.times)
        model.eval()
        out = np.full((T, model.horizon, model.n_quantiles), np.nan)
        idx = np.flatnonzero(_has_window(d, window))
        dtype = model.skip.weight.dtype
        for k in range(0, len(idx), 4096):
            part = idx[k : k + 4096]
            steps = part[:, None] + np.arange(-window + 1, 1)[None, :]
            with torch.no_grad():
                pred, _ = model(_tensor(a.x[steps], dtype), _tensor(d[part], dtype)[:, None, :])
            out[part] = pred[:, -1].numpy()
        return out

    def validation_loss(self, model, arrays, designs, quantiles):
        parts = _validation_parts(arrays, designs)

        def validate_windows():
            preds = self.forecast_all(model, [a for a, *_ in parts], [d for _, d, *_ in parts])
            p = torch.as_tensor(
                np.concatenate(
                    [pred[m] for pred, (_, _, m, _) in zip(preds, parts, strict=True)]
                    or [np.zeros((0, model.horizon, model.n_quantiles))]
                )
            )
            y = torch.as_tensor(
                np.concatenate([a.y[m] for a, _, m, _ in parts] or [np.zeros((0, model.horizon))]),
                dtype=p.dtype,
            )
            ok = ~torch.isnan(p[..., 0, 0])
            loss = float(loss_of(p, y, ok, quantiles))
            if not distributed.active():
                return loss
            # the mean over every process's validation origins
            n = int(ok.sum())
            total, count = distributed.total(np.array([loss * n, n], float))
            return float(total / max(count, 1))

        return validate_windows


class EveryStep(Scheme):
    """Contiguous pieces side by side, a loss at every step after a burn-in of `window` steps,
    the state carried from chunk to chunk (truncated BPTT); each series runs once from its start
    at evaluation, statefully, so every forecast sees the whole history."""

    name = "every-step"
    stateful = True

    def batches(self, arrays, designs, quantiles, generator):
        return _ChunkBatches(
            arrays, designs, self.window, self.batch_size, self.chunk, quantiles, generator
        )

    def forecast(self, model, a, d) -> np.ndarray:
        """The series runs once from its start: every origin sees the whole history."""
        return self.forecast_all(model, [a], [d])[0]

    def forecast_all(
        self, model, arrays, designs, group: int = 64, budget: int = 256 * 2**20
    ) -> list[np.ndarray]:
        """Up to `group` series as one padded batch: the LSTM is causal and the padding sits after
        each series' end, so nothing changes but the speed (one call over N series costs about
        what one series does, the steps being latency-bound). The time axis runs in spans of at
        most FORECAST_SPAN steps with the state carried, each span's inputs built in float32
        (what the model reads) when it is reached: memory stays that of one span however long
        the series (a whole series of 10^7 steps at once would be 2 GB of hidden states alone
        by their shapes), and no single call passes cuDNN's 65,535 steps."""
        model.eval()
        shape = (model.horizon, model.n_quantiles)
        dtype = _numpy_dtype(model)
        out = [np.full((len(a.times), *shape), np.nan, dtype) for a in arrays]
        width = arrays[0].x.shape[1] + designs[0].shape[1] if arrays else 1
        span = int(max(1, min(FORECAST_SPAN, budget // (4 * width * max(1, group)))))
        for k in range(0, len(arrays), group):
            part = list(
                zip(arrays[k : k + group], designs[k : k + group], out[k : k + group], strict=True)
            )
            state = None
            for t in range(0, max(len(a.times) for a, _, _ in part), span):
                steps = min(span, max(len(a.times) for a, _, _ in part) - t)
                x = np.zeros((len(part), steps, part[0][0].x.shape[1]), dtype)
                dd = np.zeros((len(part), steps, part[0][1].shape[1]), dtype)
                for j, (a, d, _) in enumerate(part):
                    hi = min(len(a.times), t + steps)
                    if hi > t:
                        x[j, : hi - t] = np.nan_to_num(a.x[t:hi])
                        dd[j, : hi - t] = np.nan_to_num(d[t:hi])
                with torch.no_grad():
                    pred, state = model(torch.from_numpy(x), torch.from_numpy(dd), state)
                for j, (a, _, o) in enumerate(part):
                    hi = min(len(a.times), t + steps)
                    if hi > t:
                        o[t:hi] = pred[j, : hi - t].numpy()
        for d, o in zip(designs, out, strict=True):
            o[np.isnan(d).any(1)] = np.nan
        return out

    def validation_loss(self, model, arrays, designs, quantiles):
        """Up to 64 series side by side, cut after their last validation origin; the model runs
        over the time axis in spans of VALIDATION_SPAN steps with the state carried, each span
        filled in float32 when it is reached. Padded copies of all series kept for the whole
        training come to about 0.5 GB by their shapes, and one pass over the whole axis to 1 GB
        of activations, for 20 series of 5 years hourly; the values are the same."""
        parts = _validation_parts(arrays, designs)
        groups = [parts[k : k + 64] for k in range(0, len(parts), 64)]

        def span_of(group, t: int):
            steps = min(VALIDATION_SPAN, max(end for *_, end in group) - t)
            a0, d0 = group[0][0], group[0][1]
            x = np.zeros((len(group), steps, a0.x.shape[1]), np.float32)
            dd = np.zeros((len(group), steps, d0.shape[1]), np.float32)
            mask = np.zeros((len(group), steps), bool)
            y = np.zeros((len(group), steps, a0.y.shape[1]), np.float32)
            for j, (a, d, m, end) in enumerate(group):
                hi = min(end, t + steps)
                if hi > t:
                    x[j, : hi - t], dd[j, : hi - t] = (
                        np.nan_to_num(a.x[t:hi]),
                        np.nan_to_num(d[t:hi]),
                    )
                    mask[j, : hi - t], y[j, : hi - t] = m[t:hi], np.nan_to_num(a.y[t:hi])
            return (torch.from_numpy(v) for v in (x, dd, mask, y))

        def validate():
            # the LSTM is causal: padding after a series changes nothing
            total, count = 0.0, 0
            for group in groups:
                state = None
                for t in range(0, max(end for *_, end in group), VALIDATION_SPAN):
                    x, dd, m, y = span_of(group, t)
                    pred, state = model(x, dd, state)
                    n = int(m.sum())
                    if n:
                        ones = torch.ones(n, dtype=torch.bool)
                        total += float(loss_of(pred[m], y[m], ones, quantiles)) * n
                        count += n
            total, count = distributed.total(np.array([total, count], float))  # every process's
            return float(total / max(count, 1))

        return validate

    def explain_span(self, season: int) -> int:
        """The burn-in, or up to three seasons (at most a week of hours): the state carries more,
        but attributions are shown over what a reader can see."""
        return max(self.window, min(3 * season, 168))


SCHEMES: dict[str, type[Scheme]] = {cls.name: cls for cls in (Windows, EveryStep)}


def scheme_of(train) -> Scheme:
    """The scheme a TrainConfig names."""
    return SCHEMES[train.scheme](train)


def _has_window(d: np.ndarray, window: int) -> np.ndarray:
    """Origins with a full lag design and a full window of history before them."""
    ok = ~np.isnan(d).any(1)
    ok[: window - 1] = False
    return ok


def _validation_parts(arrays, designs) -> list[tuple]:
    """(arrays, design, validation mask, end) of each series with a validation origin; end: one
    after its last."""
    parts = []
    for a, d in zip(arrays, designs, strict=True):
        m = (a.split == VAL) & ~np.isnan(d).any(1)
        if m.any():
            end = int(np.flatnonzero(m)[-1]) + 1
            parts.append((a, d, m, end))
    return parts
