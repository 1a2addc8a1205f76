"""classify/select.py: the folds, the collapse check, and the choice among the linear paths, the
network and their fusion, each against numbers computed here by hand."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit.classify.baselines import criterion
from lstmkit.classify.select import best_path, choose, collapsed, folds_of, label_of, promising
from lstmkit.linear.paths import fuse


def loss(y, p):
    return criterion(y, p, "loss", y.ndim == 2)


def logits_of(p):
    return np.log(p)  # a softmax of log-probabilities gives them back


def test_folds_spread_every_class_evenly_and_keep_a_group_in_one_fold():
    y = np.repeat([0, 1, 2], [50, 30, 20])
    folds = folds_of(y, 5, seed=0)
    for c, n in ((0, 50), (1, 30), (2, 20)):
        assert np.bincount(folds[y == c], minlength=5).tolist() == [n // 5] * 5  # exactly its share
    assert not np.array_equal(folds, folds_of(y, 5, seed=1))  # seeded
    groups = np.repeat(np.arange(25), 4)  # 25 patients of 4 rows, each of one class
    y = np.repeat(np.arange(25) % 2, 4)
    folds = folds_of(y, 5, seed=0, groups=groups)
    assert all(len(set(folds[groups == g])) == 1 for g in range(25))
    assert np.bincount(folds).tolist() == [20] * 5  # five whole patients each
    # groups of unequal sizes: as even as they allow
    y = np.repeat(np.arange(7) % 2, [2, 8, 4, 4, 6, 2, 4])
    folds = folds_of(y, 3, seed=0, groups=np.repeat(np.arange(7), [2, 8, 4, 4, 6, 2, 4]))
    assert max(np.bincount(folds)) - min(np.bincount(folds)) <= 8
    assert set(folds_of(np.array([0, 1, 0]), 5, 0)) == {0, 1, 2}  # no more folds than rows


def test_collapsed_is_chance_balanced_accuracy_or_chance_ranking():
    y = np.array([0, 0, 0, 1, 1, 2])
    majority = np.tile([0.5, 0.3, 0.2], (6, 1))  # always class 0: balanced accuracy 1/3
    assert collapsed(y, majority)
    assert not collapsed(y, np.eye(3)[y] * 0.8 + 0.2 / 3)
    labels = np.array([[1.0, 0.0], [0.0, np.nan], [1.0, 1.0], [0.0, 1.0]])
    assert collapsed(labels, np.full((4, 2), 0.5))  # ROC-AUC 0.5 per label
    assert not collapsed(labels, np.where(np.isnan(labels), 0.5, labels * 0.8 + 0.1))


def two_paths(y, good: float, poor: float):
    """Out-of-sample logits of two linear paths: the right class gets probability good / poor."""
    K = y.max() + 1

    def probs(right):
        p = np.full((len(y), K), (1 - right) / (K - 1))
        p[np.arange(len(y)), y] = right
        return p

    return {"logistic": logits_of(probs(poor)), "minirocket": logits_of(probs(good))}


def test_the_best_linear_path_alone_when_there_is_no_network():
    y = np.arange(40) % 2
    oof = two_paths(y, good=0.8, poor=0.6)
    choice = choose(y, oof, None, loss)
    assert (choice.linear, choice.weight, choice.notes) == ("minirocket", 1.0, [])
    # every row: log loss
    assert choice.judged["minirocket"]["criterion"] == pytest.approx(-np.log(0.8))
    assert choice.judged["logistic"]["criterion"] == pytest.approx(-np.log(0.6))
    assert (
        choice.judged["minirocket"]["rows"] == 40 and choice.judged["minirocket"]["accuracy"] == 1.0
    )
    named = choose(y, oof, None, loss, named="logistic")  # the path the user named, even if worse
    assert named.linear == "logistic"
    fixed = choose(y, oof, None, loss, weight=0.5)
    assert fixed.weight == 0.5 and fixed.notes == ["no network was trained"]


def test_a_network_that_wins_beyond_chance_enters_at_its_best_weight():
    rng = np.random.default_rng(0)
    y = np.arange(200) % 2
    oof = two_paths(y, good=0.7, poor=0.6)
    right = np.clip(rng.normal(0.95, 0.02, 200), 0.5, 0.999)  # the network is far surer, and right
    network = np.stack([np.where(y == 0, right, 1 - right), np.where(y == 1, right, 1 - right)], 1)
    choice = choose(y, oof, network, loss)
    scores = {w: loss(y, fuse(network, oof["minirocket"], w, False)) for w in (0.75, 0.5, 0.25)}
    scores[0.0] = loss(y, network)
    best = min(scores, key=scores.get)
    assert choice.weight == best and choice.linear == "minirocket" and choice.notes == []
    for w, value in scores.items():  # every candidate's criterion is on record
        name = "network" if w == 0 else f"network + minirocket (w = {w:g})"
        assert (
            choice.judged[name]["criterion"] == pytest.approx(value)
            and choice.judged[name]["rows"] == 200
        )


def test_a_network_better_by_noise_alone_is_not_kept():
    rng = np.random.default_rng(1)
    y = np.arange(30) % 2
    oof = two_paths(y, good=0.7, poor=0.6)
    # a little better on average, very noisy
    noise = np.clip(0.72 + rng.normal(0, 0.25, 30), 0.05, 0.99)
    network = np.stack([np.where(y == 0, noise, 1 - noise), np.where(y == 1, noise, 1 - noise)], 1)
    choice = choose(y, oof, network, loss)
    best = min(choice.judged[n]["criterion"] for n in choice.judged if n.startswith("network"))
    # it does beat the path on these rows ...
    assert best < choice.judged["minirocket"]["criterion"]
    assert choice.weight == 1  # ... but not beyond chance
    (note,) = choice.notes
    assert (
        note.startswith("the network's best (w = ")
        and "beat the MiniRocket path alone on 30 rows" in note
    )
    assert note.endswith(": not kept")


def test_a_collapsed_network_is_dropped_and_said_and_judged_on_its_own_rows():
    y = np.arange(40) % 2
    oof = two_paths(y, good=0.8, poor=0.6)
    network = np.full((40, 2), np.nan)
    network[:10] = [0.55, 0.45]  # the first fold only, every row the same answer
    choice = choose(y, oof, network, loss)
    assert choice.weight == 1 and choice.notes == [
        "the network collapsed to chance on its 10 held-out rows (balanced accuracy 0.500): dropped"
    ]
    assert choice.judged["network"]["rows"] == 10 and choice.judged["minirocket"]["rows"] == 40
    assert choice.judged["minirocket (on the network's rows)"]["rows"] == 10
    # a weight the user set stands, the note says what it is
    kept = choose(y, oof, network, loss, weight=0.5)
    assert kept.weight == 0.5 and kept.notes[0].endswith("(balanced accuracy 0.500)")


def test_the_first_fold_screens_out_a_network_that_is_not_clearly_better():
    y = np.arange(50) % 2
    oof = two_paths(y, good=0.9, poor=0.6)
    network = np.full((50, 2), np.nan)
    rows = np.arange(10)
    network[rows] = np.eye(2)[y[rows]] * 0.5 + 0.25  # right, but less sure than the path
    worth, why = promising(y, oof, network, loss)
    assert not worth and why.startswith(
        "on the first fold (10 sequences) network + MiniRocket (w = 0.75) did not"
    )
    # right and sure: it goes on to the other folds
    network[rows] = np.eye(2)[y[rows]] * 0.998 + 0.001
    assert promising(y, oof, network, loss) == (True, "")
    network[rows] = 0.5
    assert (
        promising(y, oof, network, loss)[1]
        == "the network collapsed to chance on the first fold (10 sequences)"
    )


def test_names_for_people():
    assert label_of("minirocket+diff") == "MiniRocket + differences"
    assert label_of("network + logistic (w = 0.5)") == "network + logistic regression (w = 0.5)"
    assert label_of("minirocket (on the network's rows)") == "MiniRocket (on the network's rows)"
    assert label_of("majority") == "majority"


def test_the_linear_paths_in_order_a_later_one_replacing_only_beyond_chance():
    rng = np.random.default_rng(2)
    y = np.arange(120) % 2

    def path(right):  # probability of the right class per row
        p = np.stack([np.where(y == 0, right, 1 - right), np.where(y == 1, right, 1 - right)], 1)
        return np.log(p)

    base = np.clip(rng.normal(0.7, 0.15, 120), 0.05, 0.99)
    oof = {
        # a hair better: noise
        "logistic": path(np.clip(base + rng.normal(0.01, 0.1, 120), 0.05, 0.99)),
        "minirocket": path(base),
        "minirocket+diff": path(base),
    }
    name, (note,) = best_path(y, oof, loss)
    # the first in PATH_ORDER, not beaten beyond chance, and said so:
    assert name == "minirocket+diff"
    mine, theirs = loss(y, np.exp(oof["logistic"])), loss(y, np.exp(oof["minirocket+diff"]))
    assert mine < theirs and note == (
        "the logistic regression path scored better than the MiniRocket + differences path out of "
        "sample "
        f"({mine:.4f} against {theirs:.4f}) but not beyond chance (t = -0.24): not used"
    )
    oof["minirocket"] = path(np.clip(base + 0.2, 0.05, 0.99))  # clearly better on every row
    name, notes = best_path(y, oof, loss)
    # and the logistic regression no longer scores better
    assert name == "minirocket" and len(notes) == 1
    assert notes[0].startswith(
        "the MiniRocket path replaced the MiniRocket + differences path (t = -"
    )
    choice = choose(y, oof, None, loss)
    assert choice.linear == "minirocket" and choice.notes == notes  # said in the report too
