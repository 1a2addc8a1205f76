"""SMILES strings -> canonical form -> tokens -> integer ids.

Tokens follow the regular expression of Schwaller et al. (2019, "Molecular Transformer"): a bracket
atom such as [nH+] or [C@@H] is one token, so are the two-letter organic-subset elements Br and Cl,
and a two-digit ring closure %10; every other character is its own token. A character the
expression does not know becomes the unknown token and is counted, never dropped silently.

RDKit is optional (`pip install lstmkit[chem]`). Without it SMILES are used as written and
`canonicalize` warns once: the same molecule written two ways then looks like two molecules, which
on ClinTox is worth 0.08 ROC-AUC of pure formatting (data/files/clintox/PROVENANCE.md).
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ..config import LstmkitError, cut

__all__ = [
    "PAD",
    "TOKEN_PATTERN",
    "UNK",
    "NGrams",
    "Vocabulary",
    "canonicalize",
    "has_rdkit",
    "randomize",
    "scaffolds",
    "tokenize",
]

PAD, UNK = "<pad>", "<unk>"
# one token of the SMILES grammar (export writes its pattern for tokenizers outside lstmkit)
TOKEN_PATTERN = re.compile(
    r"\[[^\]\[]+\]|Br|Cl|%[0-9]{2}|[BCNOSPFI]|[bcnosp]|[()=#\-+\\/:~@?>*$.]|[0-9]"
)


def tokenize(smiles: str) -> list[str]:
    """'C[C@@H](Cl)c1ccccc1%10' -> ['C', '[C@@H]', '(', 'Cl', ')', 'c', '1', ..., '%10'].

    Characters outside the grammar (a lone ']', a letter such as 'X') become UNK, one per character.
    """
    tokens, pos = [], 0
    while pos < len(smiles):
        match = TOKEN_PATTERN.match(smiles, pos)
        if match:
            tokens.append(match.group())
            pos = match.end()
        else:
            tokens.append(UNK)
            pos += 1
    return tokens


def has_rdkit() -> bool:
    try:
        import rdkit  # noqa: F401
    except ImportError:
        return False
    return True


def _mol(smiles: str, where: str):
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")  # RDKit prints parse errors itself; we raise one line instead
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise LstmkitError(f"{where}: RDKit cannot parse SMILES {smiles!r}")
    return mol


def unparsable(smiles: list[str]) -> list[int]:
    """Positions of the strings that are no molecule: empty, or (with RDKit) not parsed by it."""
    bad = [k for k, s in enumerate(smiles) if not isinstance(s, str) or not s.strip()]
    if has_rdkit():
        from rdkit import Chem, RDLogger

        RDLogger.DisableLog("rdApp.*")
        empty = set(bad)
        bad += [k for k, s in enumerate(smiles) if k not in empty and Chem.MolFromSmiles(s) is None]
    return sorted(bad)


def refuse_unparsable(smiles: list[str], column: str, where: str) -> None:
    """A one-line error naming the first SMILES that is no molecule (--invalid error, and
    prediction, which answers for every row it is given)."""
    bad = unparsable(smiles)
    if bad:
        k, text = bad[0], smiles[bad[0]]
        what = f"RDKit cannot parse SMILES {cut(text)!r}" if text.strip() else "an empty SMILES"
        raise LstmkitError(f"{where}: column {cut(column)!r} row {k}: {what}")


def canonicalize(smiles: list[str], where: str = "--smiles-col") -> list[str]:
    """RDKit canonical SMILES, so one molecule has one string; without RDKit, the input
    unchanged."""
    for k, s in enumerate(smiles):
        if not isinstance(s, str) or not s.strip():
            raise LstmkitError(f"{where}: row {k} has an empty SMILES string")
    if not has_rdkit():
        warnings.warn(
            "RDKit is not installed (pip install 'lstmkit[chem]'): SMILES are used as written, not "
            "canonicalised, so one molecule written two ways looks like two",
            stacklevel=2,
        )
        return list(smiles)
    from rdkit import Chem

    return [Chem.MolToSmiles(_mol(s, f"{where} row {k}")) for k, s in enumerate(smiles)]


def scaffolds(smiles: list[str], where: str = "--split-by scaffold") -> list[str]:
    """The Bemis-Murcko scaffold of each molecule (its ring systems and the chains linking them;
    "" for a molecule without rings), for splits that test on chemotypes unseen in training."""
    if not has_rdkit():
        raise LstmkitError(f"{where}: needs RDKit (pip install 'lstmkit[chem]')")
    from rdkit.Chem.Scaffolds import MurckoScaffold

    return [
        MurckoScaffold.MurckoScaffoldSmiles(mol=_mol(s, f"{where} row {k}"))
        for k, s in enumerate(smiles)
    ]


def randomize(smiles: list[str], n: int, seed: int = 0) -> list[list[str]]:
    """n randomised SMILES of each molecule (Arus-Pous et al. 2019): the same graph, walked from
    a random atom in a random order. Training on them teaches the model the molecule, not the
    string. Without RDKit there is nothing to randomise: each list holds the input n times."""
    if not has_rdkit():
        return [[s] * n for s in smiles]
    from rdkit import Chem

    rng = np.random.default_rng(seed)
    out = []
    for s in smiles:
        mol = _mol(s, "randomize")
        variants = []
        for _ in range(n):
            order = rng.permutation(mol.GetNumAtoms()).tolist()
            variants.append(Chem.MolToSmiles(Chem.RenumberAtoms(mol, order), canonical=False))
        out.append(variants)
    return out


@dataclass
class Vocabulary:
    """Token <-> id. Id 0 is padding, 1 the unknown token; the rest are the training tokens."""

    tokens: list[str] = field(default_factory=lambda: [PAD, UNK])
    unknown_seen: int = 0  # tokens mapped to UNK by encode() since this vocabulary was built

    @classmethod
    def build(cls, token_lists: list[list[str]], min_count: int = 1) -> Vocabulary:
        counts = Counter(t for tokens in token_lists for t in tokens if t not in (PAD, UNK))
        return cls([PAD, UNK, *sorted(t for t, c in counts.items() if c >= min_count)])

    def __post_init__(self):
        self.index = {t: i for i, t in enumerate(self.tokens)}

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, tokens: list[str]) -> np.ndarray:
        ids = np.fromiter((self.index.get(t, 1) for t in tokens), np.int64, len(tokens))
        self.unknown_seen += int((ids == 1).sum())
        return ids

    def to_dict(self) -> dict:
        return {"tokens": self.tokens}

    @classmethod
    def from_dict(cls, d: dict) -> Vocabulary:
        return cls(list(d["tokens"]))


@dataclass
class NGrams:
    """Character n-gram counts (n = 1..4 by default): the features of the logistic-regression
    baseline for SMILES, as scikit-learn's CountVectorizer(analyzer="char", ngram_range=(1, 4)).
    The vocabulary is the n-grams seen at least min_count times in the training strings."""

    grams: list[str]
    n_max: int = 4

    @classmethod
    def fit(cls, strings: list[str], n_max: int = 4, min_count: int = 2) -> NGrams:
        counts = Counter(g for s in strings for g in _grams(s, n_max))
        return cls(sorted(g for g, c in counts.items() if c >= min_count), n_max)

    def transform(self, strings: list[str]) -> np.ndarray:
        index = {g: k for k, g in enumerate(self.grams)}
        out = np.zeros((len(strings), len(self.grams)), dtype=np.float32)
        for r, s in enumerate(strings):
            for g in _grams(s, self.n_max):
                k = index.get(g)
                if k is not None:
                    out[r, k] += 1
        return out


def _grams(s: str, n_max: int):
    for n in range(1, n_max + 1):
        for k in range(len(s) - n + 1):
            yield s[k : k + n]
