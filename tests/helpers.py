"""What the tests of several modules share: small synthetic data sets (forecast, classify, explain)
and networks built from keyword settings."""

from __future__ import annotations

import numpy as np
import pandas as pd


def synthetic(n=600, series=("a", "b"), seed=0):
    rng = np.random.default_rng(seed)
    frames = []
    for k, s in enumerate(series):
        t = pd.date_range("2024-01-01", periods=n, freq="h")
        u = np.cumsum(rng.normal(0, 0.3, n))
        y = 10 + 3 * np.sin(2 * np.pi * np.arange(n) / 24) + u + k + rng.normal(0, 0.2, n)
        frames.append(pd.DataFrame({"when": t, "site": s, "temp": y, "wind": rng.normal(size=n)}))
    return pd.concat(frames, ignore_index=True)


def waves(n=120, L=24, seed=0):
    """Three classes told apart by shape: a sine, a square wave, a ramp; random phase and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(L)
    rows, labels = [], []
    for k in range(n):
        cls = k % 3
        phase = rng.uniform(0, 2 * np.pi)
        base = [np.sin(t / 3 + phase), np.sign(np.sin(t / 3 + phase)), (t % 8) / 4 - 1][cls]
        rows.append(base + rng.normal(0, 0.3, L))
        labels.append(["sine", "square", "ramp"][cls])
    df = pd.DataFrame(rows, columns=[f"v{k}" for k in range(L)])
    df.insert(0, "kind", labels)
    return df


def smiles_table():
    acids = [
        "CC(=O)O",
        "OC(=O)c1ccccc1",
        "CCC(=O)O",
        "OC(=O)CCl",
        "CCCCC(=O)O",
        "OC(=O)C=C",
        "CC(C)C(=O)O",
        "OC(=O)c1ccccc1O",
        "CCCC(=O)O",
        "OC(=O)CBr",
    ]
    amines = [
        "CCN",
        "NCc1ccccc1",
        "CCCN",
        "NCCCl",
        "CCCCCN",
        "NCC=C",
        "CC(C)N",
        "Nc1ccccc1O",
        "CCCCN",
        "NCCBr",
    ]
    df = pd.DataFrame({"smiles": acids * 3 + amines * 3, "acid": [1] * 30 + [0] * 30})
    df["ring"] = [1.0 if "c1" in s else 0.0 for s in df["smiles"]]
    df.loc[::5, "ring"] = np.nan  # missing labels: masked out of the loss
    return df


def classifier_net(n_outputs: int, input_size: int = 1, vocab_size: int | None = None, **model):
    """A ClassifierNet from the classifier's model settings given as keywords."""
    from lstmkit.classify.config import ModelConfig
    from lstmkit.models import ClassifierNet

    return ClassifierNet(ModelConfig(**model), n_outputs, input_size, vocab_size)


def forecast_net(n_features: int, design_size: int, horizon: int = 1, quantiles=(), **model):
    """A ForecastNet from the forecaster's model settings given as keywords."""
    from lstmkit.forecast.config import ModelConfig
    from lstmkit.models import ForecastNet

    return ForecastNet(
        ModelConfig(horizon=horizon, quantiles=list(quantiles), **model), n_features, design_size
    )
