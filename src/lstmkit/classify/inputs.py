"""What the classifier's networks read: sequences encoded as padded arrays (SMILES as token ids,
values scaled), and the network a model config describes."""

from __future__ import annotations

import numpy as np

from ..data.sequences import pad
from ..data.smiles import randomize, tokenize
from ..models import ClassifierNet

__all__ = ["encode", "network_of"]


def encode(seqs, variants: int, seed: int, vocab, scaler) -> tuple[np.ndarray, np.ndarray]:
    """Sequences -> (padded array, lengths). SMILES (vocab given): token ids (V+1, N, L) holding the
    canonical string first and `variants` randomised ones after; values: (N, L, C) scaled."""
    if vocab is not None:
        strings = [seqs.smiles]
        if variants:
            strings += list(map(list, zip(*randomize(seqs.smiles, variants, seed), strict=True)))
        encoded = [[vocab.encode(tokenize(s)) for s in group] for group in strings]
        L = max(len(e) for group in encoded for e in group)
        arrays = [pad(group, L) for group in encoded]
        return np.stack([a for a, _ in arrays]), np.stack([n for _, n in arrays])
    values = [scaler.transform(v).astype(np.float32) for v in seqs.values]
    return pad(values)


def network_of(config, shape: dict) -> ClassifierNet:
    """config: the ClassifyConfig; shape: the number of classes, of channels, and the vocabulary."""
    vocab = shape["vocab"]
    return ClassifierNet(
        config.model,
        shape["classes"],
        input_size=shape["channels"],
        vocab_size=len(vocab) if vocab else None,
    )
