"""classify/examples.py: which test sequences the report shows as examples."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from lstmkit.classify.examples import pick_examples


def test_the_first_sequences_of_each_class_with_their_probabilities():
    actual = np.array([1, 0, 1, 1, 0, 1])
    proba = np.eye(2)[[1, 0, 0, 1, 0, 1]] * 0.8 + 0.1
    values = [np.full((3, 2), k, float) for k in range(6)]  # the first channel is drawn
    seqs = SimpleNamespace(smiles=None, values=values)
    out = pick_examples(
        ["N", "V"], actual, [f"r{k}" for k in range(6)], proba, seqs, False, per_class=2
    )
    assert [(e["class"], e["id"]) for e in out] == [
        ("N", "r1"),
        ("N", "r4"),
        ("V", "r0"),
        ("V", "r2"),
    ]
    assert out[3]["proba"] == [0.9, 0.1] and out[0]["values"] == [1.0, 1.0, 1.0]
    molecules = SimpleNamespace(smiles=[f"C{k}" for k in range(6)], values=None)
    out = pick_examples(["N", "V"], actual, list(range(6)), proba, molecules, False, per_class=1)
    assert [(e["id"], e["smiles"]) for e in out] == [
        ("1", "C1"),
        ("0", "C0"),
    ] and "values" not in out[0]


def test_a_multilabel_task_has_no_examples():
    seqs = SimpleNamespace(smiles=None, values=[np.zeros((2, 1))])
    assert (
        pick_examples(["a", "b"], np.array([[1, 0]]), ["r"], np.array([[0.7, 0.2]]), seqs, True)
        == []
    )
