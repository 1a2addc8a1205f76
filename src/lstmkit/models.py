"""nn.Modules only: the forecasting network and the sequence classifier.

ForecastNet = a linear autoregression (the "skip" path, after LSTNet's highway) plus an LSTM
that learns what the linear model misses:

    forecast[t] = W_skip · design[t]  +  head(LSTM(x)[t])           (N, L, H, Q)

The skip is initialised to the least-squares AR fitted on the training split and the head to
zero, so training starts exactly at the linear baseline and early stopping on validation can
only keep what the LSTM adds. Measured on the hourly temperature series: a plain LSTM(50) with a
24-step window loses to AR(24); the sum does not.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .layers import LSTM

__all__ = ["ClassifierNet", "ForecastNet", "MaskedEncoder", "flip_within_length", "mean_proba"]


class ForecastNet(nn.Module):
    """model: the forecast's ModelConfig (forecast/config.py): the LSTM's layer, the horizon and
    the quantile levels. n_features: the LSTM's inputs per step; design_size: the skip path's."""

    def __init__(self, model, n_features: int, design_size: int):
        super().__init__()
        self.horizon, self.n_quantiles = model.horizon, max(1, len(model.levels))
        self.lstm = LSTM.from_config(model.layer(n_features))
        self.head = nn.Linear(model.hidden_size, self.horizon * self.n_quantiles)
        # the design carries the constant
        self.skip = nn.Linear(design_size, self.horizon, bias=False)
        nn.init.zeros_(self.head.weight)  # start at the linear model exactly
        nn.init.zeros_(self.head.bias)

    def init_skip(self, coefficients: np.ndarray, trainable: bool = False) -> None:
        """Load least-squares AR coefficients (D, H) into the skip path.

        Frozen by default: measured on the NYC hourly data, letting Adam move the 300-odd
        coefficients away from their least-squares optimum cost 15% test RMSE (1.52 vs 1.32 °F)
        for a 2% gain on validation. Frozen, the LSTM learns only what the AR leaves over.
        """
        with torch.no_grad():
            self.skip.weight.copy_(torch.as_tensor(coefficients.T, dtype=self.skip.weight.dtype))
        self.skip.weight.requires_grad_(trainable)

    def skip_coefficients(self) -> np.ndarray:
        """The skip path's coefficients (D, H), float64: the base the LSTM corrects."""
        return self.skip.weight.detach().double().numpy().T

    def forward(self, x: Tensor, design: Tensor, state=None):
        """x (N, L, F), design (N, L, D) -> forecasts (N, L, H, Q) and the LSTM state."""
        h, state = self.lstm(x, state)  # (N, L, hidden)
        N, L, _ = h.shape
        out = self.head(h).view(N, L, self.horizon, self.n_quantiles)
        return out + self.skip(design).unsqueeze(-1), state

    def point_forecast(
        self, x: Tensor, design: Tensor, state=None, quantile: int = 0, last: bool = False
    ) -> Tensor:
        """The forecasts of one quantile head (the median: the point forecast), (N, L, H); with
        last=True only at the last step, (N, 1, H), whose design may then be (N, 1, D). Explain
        differentiates this."""
        h, _ = self.lstm(x, state)
        if last:
            h = h[:, -1:]
        N, L, _ = h.shape
        out = self.head(h).view(N, L, self.horizon, self.n_quantiles)[..., quantile]
        return out + self.skip(design)

    def without_correction(self, steps: list[int], quantile: int) -> None:
        """Drop the LSTM's correction of `quantile` at the horizon `steps` (0-based): that head's
        rows become zero, so there the forecast is the base's exactly, as the untrained model's.
        The correction test (forecast/correction.py) calls this where the LSTM did not help."""
        with torch.no_grad():
            rows = torch.as_tensor(
                [h * self.n_quantiles + quantile for h in steps], dtype=torch.long
            )
            self.head.weight[rows] = 0.0
            self.head.bias[rows] = 0.0


# ---- sequence classification ------------------------------------------------------------------
#
# Batches are right-padded: sequence n has lengths[n] valid steps, then padding. Nothing below lets
# a padded step reach a valid one: the forward direction is causal and reads each sequence at its
# own last step; the backward direction runs on each sequence reversed *within its length* (so its
# valid steps come first and padding last), and the convolutions pad on the left only. A sequence
# padded into a batch therefore gives the same output as the sequence alone (tests/test_models.py).


def flip_within_length(x: Tensor, lengths: Tensor) -> Tensor:
    """Reverse x (N, L, ...) along time within each sequence's length; padding stays where it is."""
    L = x.shape[1]
    t = torch.arange(L, device=x.device)[None]  # (1, L)
    idx = torch.where(t < lengths[:, None], lengths[:, None] - 1 - t, t)  # (N, L)
    return x.gather(1, idx.view(*idx.shape, *([1] * (x.dim() - 2))).expand_as(x))


def valid_mask(lengths: Tensor, L: int) -> Tensor:
    """(N, L) True on the valid steps."""
    return torch.arange(L, device=lengths.device)[None] < lengths[:, None]


class MaskedBatchNorm(nn.BatchNorm1d):
    """BatchNorm1d whose batch statistics come from the valid steps only, so how much padding a
    batch holds never shifts the normalisation. At evaluation it uses the running statistics,
    as BatchNorm1d does."""

    def forward(self, z: Tensor, mask: Tensor) -> Tensor:
        """z (N, C, L), mask (N, L) -> (N, C, L)."""
        if self.training:
            m = mask[:, None].to(z.dtype)
            n = m.sum()
            mean = (z * m).sum((0, 2)) / n
            var = ((z - mean[None, :, None]) ** 2 * m).sum((0, 2)) / n
            with torch.no_grad():
                self.running_mean.lerp_(mean, self.momentum)
                self.running_var.lerp_(var * n / (n - 1).clamp(min=1), self.momentum)
        else:
            mean, var = self.running_mean, self.running_var
        z = (z - mean[None, :, None]) * torch.rsqrt(var[None, :, None] + self.eps)
        return z * self.weight[None, :, None] + self.bias[None, :, None]


class CausalConv(nn.Module):
    """Conv1d -> masked BatchNorm -> ReLU layers, padded on the left only, so step t sees steps
    t-k+1 .. t and never padding that follows the sequence. The CNN front end of a CNN-LSTM: it
    turns raw samples into local shape features (slopes, peaks) the LSTM then reads in order.
    Measured on ECG5000 the batch normalisation is worth 1-2 points of accuracy."""

    def __init__(self, in_channels: int, channels: int, kernel: int, layers: int, stride: int = 1):
        super().__init__()
        self.kernel, self.stride = kernel, stride
        self.convs = nn.ModuleList(
            nn.Conv1d(
                in_channels if k == 0 else channels,
                channels,
                kernel,
                stride=stride if k == 0 else 1,
            )
            for k in range(layers)
        )
        self.norms = nn.ModuleList(MaskedBatchNorm(channels) for _ in range(layers))

    def lengths(self, lengths: Tensor) -> Tensor:
        """Valid output steps: output t of a stride-s layer reads inputs up to t*s."""
        return (lengths - 1) // self.stride + 1

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        """x (N, L, C) -> (N, ceil(L / stride), channels)."""
        z = x.transpose(1, 2)
        for k, (conv, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
            z = conv(F.pad(z, (self.kernel - 1, 0)))
            if k == 0:
                lengths = self.lengths(lengths)
            z = F.relu(norm(z, valid_mask(lengths, z.shape[2])))
        return z.transpose(1, 2)


class FCNBranch(nn.Module):
    """The fully convolutional branch of LSTM-FCN (Karim et al. 2017; Wang et al. 2017's FCN):
    Conv1d(k=8, c) -> Conv1d(k=5, 2c) -> Conv1d(k=3, c), each with masked BatchNorm and ReLU,
    then the average over valid steps. Centred ('same') convolutions; padded steps are zeroed
    after every layer, so they hold exactly the zeros a lone sequence's own padding would."""

    def __init__(self, in_channels: int, channels: int):
        super().__init__()
        sizes = [
            (in_channels, channels, 8),
            (channels, 2 * channels, 5),
            (2 * channels, channels, 3),
        ]
        self.convs = nn.ModuleList(nn.Conv1d(a, b, k) for a, b, k in sizes)
        self.norms = nn.ModuleList(MaskedBatchNorm(b) for _, b, _ in sizes)
        self.out_size = channels

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        """x (N, L, C) -> (N, channels)."""
        mask = valid_mask(lengths, x.shape[1])
        z = x.transpose(1, 2) * mask[:, None]
        for conv, norm in zip(self.convs, self.norms, strict=True):
            k = conv.kernel_size[0]
            z = conv(F.pad(z, ((k - 1) // 2, k // 2)))
            z = F.relu(norm(z, mask)) * mask[:, None]
        return z.sum(2) / lengths[:, None].to(z.dtype)


class MaskedEncoder(nn.Module):
    """A stack of (bi)directional layers over right-padded batches; one lstmkit.LSTM per layer and
    direction, so each direction can be fed its own time order."""

    def __init__(self, layer):
        """layer: a LayerConfig; each layer and direction gets an lstmkit.LSTM of one layer, and the
        config's dropout falls between layers."""
        super().__init__()
        self.num_directions = 2 if layer.bidirectional else 1
        self.hidden_size, self.dropout = layer.hidden_size, layer.dropout
        self.layers = nn.ModuleList(
            nn.ModuleList(
                LSTM(
                    layer.input_size if k == 0 else layer.hidden_size * self.num_directions,
                    layer.hidden_size,
                    batch_first=True,
                    cell=layer.cell,
                )
                for _ in range(self.num_directions)
            )
            for k in range(layer.num_layers)
        )

    def forward(self, x: Tensor, lengths: Tensor, return_gates: bool = False):
        """x (N, L, F) -> h (N, L, D*H) [, traces: name -> (num_layers*D, N, L, H), in input time
        order]."""
        traces: dict[str, list[Tensor]] = {}
        for k, layer in enumerate(self.layers):
            if k and self.dropout:
                x = F.dropout(x, self.dropout, self.training)
            outs = []
            for d, lstm in enumerate(layer):
                inp = flip_within_length(x, lengths) if d else x
                result = lstm(inp, return_gates=return_gates)
                h = flip_within_length(result[0], lengths) if d else result[0]
                outs.append(h)
                if return_gates:
                    for name, value in result[2].items():  # (1, N, L, H)
                        value = flip_within_length(value[0], lengths) if d else value[0]
                        traces.setdefault(name, []).append(value)
            x = torch.cat(outs, -1)
        if return_gates:
            return x, {name: torch.stack(values) for name, values in traces.items()}
        return x


class ClassifierNet(nn.Module):
    """[embedding | causal conv] -> masked (bi)LSTM stack -> pooling -> dropout -> linear logits,
    optionally with an FCN branch beside the LSTM whose pooled features join the LSTM's (LSTM-FCN).

    pooling: "last"  the forward direction at each sequence's last step (and the backward
                     direction at its first step, where it has read the whole sequence);
             "mean"  the average over valid steps; "max" the largest value of each unit over valid
                     steps; "mean+max" both, concatenated;
             "attention" a learned softmax over valid steps, weights = softmax(v . tanh(W h_t)).
    """

    def __init__(self, model, n_outputs: int, input_size: int = 1, vocab_size: int | None = None):
        """model: the classifier's ModelConfig (classify/config.py); input_size: channels per step
        (values) or, with vocab_size, tokens embedded in model.embed_dim."""
        super().__init__()
        self.pooling = pooling = model.pooling
        embed_dim = model.embed_dim
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=0) if vocab_size else None
        size = embed_dim if vocab_size else input_size
        conv_channels = model.conv_channels
        self.conv = (
            CausalConv(size, conv_channels, model.conv_kernel, model.conv_layers, model.conv_stride)
            if conv_channels
            else None
        )
        size = conv_channels or size
        self.encoder = MaskedEncoder(model.layer(size))
        out = model.hidden_size * self.encoder.num_directions
        pooled = 2 * out if pooling == "mean+max" else out
        # LSTM-FCN: a convolutional branch beside the recurrent one, read from the same input
        fcn_channels = model.fcn_channels
        self.fcn = (
            FCNBranch(embed_dim if vocab_size else input_size, fcn_channels)
            if fcn_channels
            else None
        )
        pooled += fcn_channels
        if pooling == "attention":
            self.score = nn.Sequential(
                nn.Linear(out, out), nn.Tanh(), nn.Linear(out, 1, bias=False)
            )
        self.drop = nn.Dropout(model.dropout)
        self.head = nn.Linear(pooled, n_outputs)

    def pool(self, h: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """h (N, L, D*H) -> pooled (N, D*H or 2*D*H) and the weight each step got (N, L); for max
        pooling the weight is the share of units whose maximum lies at that step."""
        N, L, _ = h.shape
        mask = valid_mask(lengths, L)
        if "max" in self.pooling:
            masked = h.masked_fill(~mask[..., None], float("-inf"))
            peak, where = masked.max(1)
            weights = F.one_hot(where, L).to(h.dtype).mean(1)
            if self.pooling == "max":
                return peak, weights
            mean = (h * mask[..., None]).sum(1) / lengths[:, None].to(h.dtype)
            return torch.cat([mean, peak], 1), weights
        if self.pooling == "last":
            weights = F.one_hot(lengths - 1, L).to(h.dtype)
            pooled = h[torch.arange(N), lengths - 1]
            if self.encoder.num_directions == 2:  # the backward direction has read all at step 0
                H = self.encoder.hidden_size
                pooled = torch.cat([pooled[:, :H], h[:, 0, H:]], 1)
            return pooled, weights
        if self.pooling == "mean":
            weights = mask.to(h.dtype) / lengths[:, None].to(h.dtype)
        else:
            scores = self.score(h).squeeze(-1).masked_fill(~mask, float("-inf"))
            weights = torch.softmax(scores, 1)
        return torch.einsum("nl,nlh->nh", weights, h), weights

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        """x (N, L) token ids or (N, L, C) values, lengths (N,) -> logits (N, n_outputs)."""
        return self.from_embedded(self.embed(x) if self.embed is not None else x, lengths)

    def from_embedded(self, z: Tensor, lengths: Tensor) -> Tensor:
        """The network after the embedding, from vectors (N, L, E): attributions over tokens
        differentiate with respect to these (one-hot tokens times the embedding matrix)."""
        wide = self.fcn(z, lengths) if self.fcn is not None else None
        if self.conv is not None:
            z, lengths = self.conv(z, lengths), self.conv.lengths(lengths)
        h = self.encoder(z, lengths)
        pooled, _ = self.pool(h, lengths)
        if wide is not None:
            pooled = torch.cat([pooled, wide], 1)
        return self.head(self.drop(pooled))


@torch.no_grad()
def mean_proba(
    members: list[ClassifierNet], xs: np.ndarray, ns: np.ndarray, multilabel: bool
) -> np.ndarray:
    """The probabilities averaged over ensemble members and input variants: xs (V, N, L[, C]) and
    ns (V, N) hold V variants of the same N sequences (SMILES: the canonical string and randomised
    ones). Sigmoid per label (multi-label) or softmax over classes; 512 rows at a time so that long
    test sets need bounded memory. Each member's train/eval mode is restored afterwards."""
    was = [m.training for m in members]
    runs = []
    for m in members:
        m.eval()
        for xv, nv in zip(xs, ns, strict=True):
            chunks = []
            for k in range(0, len(nv), 512):
                nb = torch.as_tensor(nv[k : k + 512])
                logits = m(torch.as_tensor(xv[k : k + 512, : int(nb.max())]), nb)
                chunks.append(
                    (torch.sigmoid(logits) if multilabel else torch.softmax(logits, 1)).double()
                )
            runs.append(torch.cat(chunks).numpy())
    for m, w in zip(members, was, strict=True):
        m.train(w)
    return np.mean(runs, 0)
