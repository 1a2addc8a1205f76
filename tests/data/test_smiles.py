"""SMILES: tokenizer, canonical form, randomised variants, vocabulary, n-gram features."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit import LstmkitError
from lstmkit.data.smiles import (
    UNK,
    NGrams,
    Vocabulary,
    canonicalize,
    has_rdkit,
    randomize,
    scaffolds,
    tokenize,
)

needs_rdkit = pytest.mark.skipif(not has_rdkit(), reason="the chem extra (RDKit) is not installed")


@pytest.mark.parametrize(
    "smiles, tokens",
    [
        ("CCO", ["C", "C", "O"]),
        ("ClCBr", ["Cl", "C", "Br"]),  # two-letter elements are one token
        (
            "C[C@@H](N)c1ccccc1",
            ["C", "[C@@H]", "(", "N", ")", "c", "1", "c", "c", "c", "c", "c", "1"],
        ),
        ("[nH+]1cc[O-]1", ["[nH+]", "1", "c", "c", "[O-]", "1"]),  # bracket atoms keep charge and H
        ("C%10CC%10", ["C", "%10", "C", "C", "%10"]),  # two-digit ring closure
        ("C/C=C\\C", ["C", "/", "C", "=", "C", "\\", "C"]),
        ("[Na+].[Cl-]", ["[Na+]", ".", "[Cl-]"]),
        ("CXC", ["C", UNK, "C"]),  # outside the grammar: one unknown token per character
    ],
)
def test_tokenize(smiles, tokens):
    assert tokenize(smiles) == tokens
    if UNK not in tokens:
        assert "".join(tokens) == smiles  # nothing dropped


def test_vocabulary_counts_unknown_tokens_and_round_trips():
    vocab = Vocabulary.build([tokenize("CCO"), tokenize("CCN")])
    assert vocab.tokens[:2] == ["<pad>", "<unk>"] and len(vocab) == 5
    ids = vocab.encode(tokenize("CCCl"))
    assert ids.tolist() == [vocab.index["C"], vocab.index["C"], 1] and vocab.unknown_seen == 1
    again = Vocabulary.from_dict(vocab.to_dict())
    assert (
        again.tokens == vocab.tokens
        and (again.encode(tokenize("OCN")) == vocab.encode(tokenize("OCN"))).all()
    )


def test_ngrams_match_scikit_learn_count_vectorizer():
    sk = pytest.importorskip("sklearn.feature_extraction.text")
    strings = ["CCO", "c1ccccc1O", "CC(=O)O", "CCN(CC)CC", "C1CCCCC1"]
    ours = NGrams.fit(strings, n_max=4, min_count=1)
    cv = sk.CountVectorizer(analyzer="char", ngram_range=(1, 4), lowercase=False).fit(strings)
    ref = cv.transform([*strings, "CCCl"]).toarray()
    order = [cv.vocabulary_[g] for g in ours.grams]
    assert sorted(ours.grams) == sorted(cv.vocabulary_)
    np.testing.assert_array_equal(ours.transform([*strings, "CCCl"]), ref[:, order])


@needs_rdkit
def test_canonicalize_gives_one_string_per_molecule():
    kekule, aromatic = "C1=CC=CC=C1O", "Oc1ccccc1"
    a, b = canonicalize([kekule, aromatic])
    assert a == b


@needs_rdkit
def test_canonicalize_rejects_empty_and_unparsable_smiles_in_one_line():
    with pytest.raises(LstmkitError, match="row 1 has an empty SMILES"):
        canonicalize(["CCO", "  "])
    with pytest.raises(LstmkitError, match="cannot parse SMILES 'C1CC'"):
        canonicalize(["C1CC"])


@needs_rdkit
def test_randomized_smiles_are_the_same_molecule_written_differently():
    s = canonicalize(["CC(=O)Oc1ccccc1C(=O)O"])[0]  # aspirin
    variants = randomize([s], 8, seed=0)[0]
    assert len(set(variants)) > 3  # different strings ...
    assert set(canonicalize(variants)) == {s}  # ... of one molecule
    assert randomize([s], 8, seed=0)[0] == variants  # seeded


@needs_rdkit
def test_scaffolds_are_the_ring_systems_with_their_linkers():
    aspirin, salicylic, ethanol, biphenyl = (
        "CC(=O)Oc1ccccc1C(=O)O",
        "OC(=O)c1ccccc1O",
        "CCO",
        "c1ccc(-c2ccccc2)cc1C",
    )
    got = scaffolds([aspirin, salicylic, ethanol, biphenyl])
    assert got[0] == got[1] == "c1ccccc1" and got[2] == "" and got[3] == "c1ccc(-c2ccccc2)cc1"
    with pytest.raises(LstmkitError, match="cannot parse SMILES 'C1CC'"):
        scaffolds(["C1CC"])


def test_scaffolds_without_rdkit_say_what_to_install(monkeypatch):
    import lstmkit.data.smiles as smiles

    monkeypatch.setattr(smiles, "has_rdkit", lambda: False)
    with pytest.raises(
        LstmkitError, match=r"--split-by scaffold: needs RDKit \(pip install 'lstmkit\[chem\]'\)"
    ):
        smiles.scaffolds(["CCO"])
