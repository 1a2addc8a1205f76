"""How a classifier decides what it is: the network, a linear path, or their fusion — on the
training data alone, from out-of-sample predictions of the training rows.

    linear paths   every training (and validation) row: the ridge's leave-one-out logits, the
                   logistic regression's out of k folds (linear/paths.py). In PATH_ORDER, a later
                   path replacing the incumbent only beyond chance (best_path), the one left is
                   what the network is weighed against, unless --linear-features names one.
    the network    small data (at most cv_max_rows training sequences): k networks, each trained
                   on all folds but one and early-stopped on that one, which it then predicts;
                   together they are the model's network, an ensemble of members that saw
                   (k - 1) / k of the data each, and no rows are set apart for validation alone.
                   Large data: one network, early-stopped on the validation rows, judged there.

Then, on the rows the network was judged on: the linear path alone, the network fused with it at
w = 0.75, 0.5, 0.25 (linear/paths.fuse), the network alone. The network enters only if the best of
these beats the linear path alone by the criterion and beyond chance, one-sided at 1% (log loss: a
paired t test of the rows' log losses, as the forecaster's correction test; ROC-AUC and the other
metrics: a paired bootstrap of the rows; 1%, not 5%, because those rows also chose the network's
early-stopping epoch: LEVEL). The criterion is log loss unless --monitor says otherwise. Where the
model is a linear path alone the report says why. A network at chance on its rows (collapsed to
the majority class) is dropped and reported; with folds, one that does not pass the test on the
first fold is not trained on the others (measured costs in promising()).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..evaluate import classification_metrics, paired_t, proba_of_logits, row_log_loss
from ..linear.paths import fuse

__all__ = [
    "FUSION_WEIGHTS",
    "PATH_LABELS",
    "PATH_ORDER",
    "Choice",
    "best_path",
    "choose",
    "collapsed",
    "folds_of",
    "label_of",
    "promising",
]

PATH_LABELS = {  # the linear paths' names for people (classify/baselines.linear_candidates)
    "logistic": "logistic regression",  # on the values, or n-grams of SMILES
    "minirocket": "MiniRocket",  # ridge on its features (or the classifier named)
    "minirocket+diff": "MiniRocket + differences",
    "ridge": "ridge classifier",  # on the logistic baseline's features
}
# The linear paths in the order a path must be beaten in: MiniRocket on the values and their
# differences (MultiRocket's two representations, Tan et al. 2022: above MiniRocket on the UCR
# archive), then MiniRocket alone, the ridge on the values, the logistic regression; a later one
# replaces the incumbent only beyond chance. Measured against choosing the lowest out-of-sample
# log loss (docs/classify.md, "How the model decides"): 0.9447 against 0.9420 mean accuracy over 8
# UCR/UEA sets x 10 resamples, the choice chasing noise.
PATH_ORDER = ("minirocket+diff", "minirocket", "ridge", "logistic")
FUSION_WEIGHTS = (0.75, 0.5, 0.25)  # the linear path's share, tried in this order after it alone
CHANCE_MARGIN = (
    0.05  # balanced accuracy within this of 1 / classes (ROC-AUC of 0.5 for labels): collapsed
)


def label_of(name: str) -> str:
    """A candidate's name for people: "network + minirocket (w = 0.5)" -> "network + MiniRocket (w
    = 0.5)"."""
    fused = name.startswith("network + ")
    # "minirocket (on the network's rows)"
    path, sep, rest = name.removeprefix("network + ").partition(" (")
    return ("network + " if fused else "") + PATH_LABELS.get(path, path) + sep + rest


@dataclass
class Choice:
    linear: str | None  # the linear path's name (classify/baselines.linear_candidates); None: none
    weight: float  # its share of the fused logits: 1 the linear path alone, 0 the network alone
    # candidate -> {criterion, accuracy, balanced_accuracy, rows}
    judged: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what was dropped or fallen back to, and why

    @property
    def network(self) -> bool:
        return self.weight < 1

    @classmethod
    def saved(cls, run_config: dict) -> tuple[Choice, dict]:
        """From a run's config.json: the choice, and `selection` (linear, kind, weight, members). A
        run saved before the model chose used the path its settings named."""
        chosen = run_config.get("selection")
        if chosen is None:
            config = run_config["config"]
            kind = {"raw": "values", None: "values"}.get(
                config.get("linear_features"), config.get("linear_features")
            )
            chosen = {
                "linear": kind,
                "kind": kind,
                "weight": config.get("linear_weight") or 0.0,
                "members": config.get("ensemble", 1),
            }
        return cls(chosen["linear"], float(chosen["weight"])), chosen

    def record(self, how: str, criterion: str, members: int) -> dict:
        """metrics.json's `selection`: what was chosen, how, every candidate's score, the notes."""
        return {
            "how": how,
            "criterion": criterion,
            "chosen": self.label(),
            "linear": self.linear,
            "weight": self.weight,
            "members": members,
            "judged": self.judged,
            "notes": self.notes,
            "labels": {name: label_of(name) for name in (*self.judged, *PATH_LABELS)},
        }

    def label(self) -> str:
        path = label_of(self.linear)
        if self.weight == 1:
            return f"the {path} path alone"
        if self.weight == 0:
            return "the network alone"
        return f"the network fused with the {path} path (w = {self.weight:g})"


def folds_of(y: np.ndarray, k: int, seed: int, groups=None) -> np.ndarray:
    """A fold number per row, 0 .. k-1 (k capped by the rows): per class (a multi-label task's first
    label), the rows — or whole groups of rows sharing a `groups` value, a patient's beats — in a
    seeded random order, each to the fold that holds the fewest of that class so far (ties: the
    fewest rows in all). So every fold gets its share of every class, and a group one fold."""
    k = max(2, min(k, len(y)))
    strata = y[:, 0] if y.ndim == 2 else y
    strata = np.where(np.isnan(strata), -1, strata) if strata.dtype.kind == "f" else strata
    unit = (
        np.arange(len(y))
        if groups is None
        else pd.factorize(pd.Series(groups).astype(str), sort=False)[0]
    )
    sizes, first = np.bincount(unit), np.unique(unit, return_index=True)[1]
    rng, load, fold = np.random.default_rng(seed), np.zeros(k), np.empty(len(first), np.int64)
    for cls in np.unique(strata[first]):
        held = np.zeros(k)
        for u in rng.permutation(np.flatnonzero(strata[first] == cls)):
            f = int(np.lexsort((load, held))[0])  # fewest of this class, then fewest in all
            fold[u], held[f], load[f] = f, held[f] + sizes[u], load[f] + sizes[u]
    return fold[unit]


def collapsed(y: np.ndarray, proba: np.ndarray) -> bool:
    """Whether predictions are no better than chance: balanced accuracy within CHANCE_MARGIN of
    1 / classes (single-label), or mean ROC-AUC within it of 0.5 (multi-label)."""
    m = classification_metrics(y, proba)
    if y.ndim == 2:
        return not np.isfinite(m["roc_auc"]) or m["roc_auc"] <= 0.5 + CHANCE_MARGIN
    return m["balanced_accuracy"] <= 1 / proba.shape[1] + CHANCE_MARGIN


BOOTSTRAP = (
    1000  # resamples of the rows for a criterion that is not a mean over rows (ROC-AUC, ...)
)
# One-sided 1%, not the forecaster's 5%: the rows a network is judged on also chose its early-
# stopping
# epoch, so its score there is the best of its epochs, optimistic. Measured at 5% on ECG5000's
# resamples 0-14 (benchmarks/ucr.py): 2 of 15 kept the fusion, -0.0011 and -0.0104 on test against
# the MiniRocket path alone.
LEVEL, CRITICAL = 0.01, 2.326


def beyond_chance(
    y, candidate: np.ndarray, alone: np.ndarray, score, monitor: str
) -> tuple[bool, str]:
    """Is `candidate` better than `alone` on these rows beyond chance, one-sided at LEVEL? -> (yes,
    the statistic in words). Log loss is a mean over rows: a paired t test of the rows' log losses
    (evaluate.paired_t below -CRITICAL, as the forecaster's gate). Another criterion (ROC-AUC,
    accuracy, balanced accuracy) is judged by itself: the share of BOOTSTRAP paired resamples of
    the rows (seeded) in which the candidate is not better, below LEVEL."""
    if monitor == "loss":
        t = paired_t(row_log_loss(y, candidate) - row_log_loss(y, alone))
        return t < -CRITICAL, f"t = {t:.2f}"
    rows = np.random.default_rng(0).integers(len(y), size=(BOOTSTRAP, len(y)))
    worse = np.mean([score(y[r], candidate[r]) >= score(y[r], alone[r]) for r in rows])
    return worse < LEVEL, f"bootstrap p = {worse:.3f}"


def network_candidates(
    linear: str, linear_logits, network, multilabel: bool, weights=FUSION_WEIGHTS
) -> dict:
    """name -> (weight, probabilities): the fusions at `weights` in their order, then the network
    alone."""
    out = {
        f"network + {linear} (w = {w:g})": (w, fuse(network, linear_logits, w, multilabel))
        for w in weights
        if 0 < w < 1
    }
    return out | {"network": (0.0, network)}


def best_path(y, oof: dict, score, monitor="loss") -> tuple[str, list[str]]:
    """The linear path the network is weighed against: the first of PATH_ORDER that the model
    fitted, replaced by a later one only where that one is better by the criterion and beyond
    chance over every row (beyond_chance). -> (its name, a note per path that scored better, used
    or not: the report says why the model is not the path with the best score)."""
    multilabel = y.ndim == 2
    order = [n for n in PATH_ORDER if n in oof] + [n for n in oof if n not in PATH_ORDER]
    proba = {n: proba_of_logits(oof[n], multilabel) for n in order}
    best, notes = order[0], []
    for name in order[1:]:
        mine, theirs = score(y, proba[name]), score(y, proba[best])
        if mine < theirs:
            better, stat = beyond_chance(y, proba[name], proba[best], score, monitor)
            if better:
                notes.append(
                    f"the {label_of(name)} path replaced the {label_of(best)} path ({stat})"
                )
                best = name
            else:
                notes.append(
                    f"the {label_of(name)} path scored better than the {label_of(best)} path out "
                    "of "
                    f"sample ({mine:.4f} against {theirs:.4f}) but not beyond chance ({stat}): "
                    "not used"
                )
    return best, notes


def choose(
    y,
    oof: dict,
    network: np.ndarray | None,
    score,
    weight="auto",
    named=None,
    monitor="loss",
    screened=(),
) -> Choice:
    """y: the fit rows' targets; oof: linear path name -> out-of-sample logits of every fit row;
    network: its out-of-sample probabilities of the fit rows (NaN rows where it has none: the
    validation split's training rows, or folds not trained); score(y, proba): the criterion, lower
    is better. weight: "auto", or the fused weight the user set; named: the linear path the user
    named (else best_path()); screened: why the network was not trained past the first fold (said
    instead of what this would say about it).

    The network enters (weight < 1) when its best candidate beats the linear path alone on the
    network's rows by the criterion and beyond chance (beyond_chance: the criterion `monitor`)."""
    multilabel = y.ndim == 2
    judged: dict = {}

    def judge(name, proba, where):
        record = {
            "criterion": score(y[where], proba[where]),
            "rows": int(where.sum()),
            **{
                k: classification_metrics(y[where], proba[where])[k]
                for k in ("accuracy", "balanced_accuracy", "roc_auc")
            },
        }
        judged.setdefault(name, record)  # a linear path keeps its score over every row
        return record["criterion"]

    every = np.ones(len(y), bool)
    for name, logits in oof.items():
        judge(name, proba_of_logits(logits, multilabel), every)
    linear, replaced = (named, []) if named else best_path(y, oof, score, monitor)
    choice, said = Choice(linear, 1.0 if weight == "auto" else float(weight), judged, replaced), []
    if network is None:
        if choice.weight < 1:
            said.append("no network was trained")
        choice.notes += list(screened) or said
        return choice
    seen = ~np.isnan(network).any(1)
    alone = proba_of_logits(oof[linear], multilabel)
    chance = collapsed(y[seen], network[seen])
    if chance:
        bacc = classification_metrics(y[seen], network[seen])["balanced_accuracy"]
        said.append(
            f"the network collapsed to chance on its {int(seen.sum())} held-out rows (balanced "
            f"accuracy {bacc:.3f})" + (": dropped" if weight == "auto" else "")
        )
    base = judge(linear if seen.all() else f"{linear} (on the network's rows)", alone, seen)
    best, weights = None, FUSION_WEIGHTS if weight == "auto" else (choice.weight,)
    for name, (w, proba) in network_candidates(
        linear, oof[linear], network, multilabel, weights
    ).items():
        value = judge(name, proba, seen)
        if weight == "auto" and (best is None or value < best[0]):
            best = (value, w, proba)
    if weight == "auto" and not chance and best[0] < base:
        better, stat = beyond_chance(y[seen], best[2][seen], alone[seen], score, monitor)
        if better:
            choice.weight = best[1]
        else:
            said.append(
                f"the network's best (w = {best[1]:g}) beat the {label_of(linear)} path alone on "
                f"{int(seen.sum())} rows but not beyond chance ({stat}): not kept"
            )
    choice.notes += list(screened) or said
    return choice


def promising(
    y, oof: dict, network: np.ndarray, score, named=None, monitor="loss"
) -> tuple[bool, str]:
    """After the first fold: is the network worth training on the others? Only if its best
    candidate already beats the linear path alone on that fold as choose() requires over every
    row (the criterion, and beyond chance by beyond_chance()), and it did not collapse. -> (worth
    it, why not). On a fold of 6-14 rows that is a strong requirement:
    measured on Pickup (50 sequences) a network at t = -1.24 on the first fold cost four more
    trainings (74 s in all, against 12 s) and was not kept over the 50 rows (t = -1.19)."""
    seen = ~np.isnan(network).any(1)
    multilabel = y.ndim == 2
    linear = named or best_path(y, oof, score, monitor)[0]
    alone = proba_of_logits(oof[linear], multilabel)[seen]
    rows = f"on the first fold ({int(seen.sum())} sequences)"
    if collapsed(y[seen], network[seen]):
        return False, f"the network collapsed to chance {rows}"
    base = score(y[seen], alone)
    values = {
        n: (score(y[seen], p[seen]), p[seen])
        for n, (_, p) in network_candidates(linear, oof[linear], network, multilabel).items()
    }
    name, (value, proba) = min(values.items(), key=lambda kv: kv[1][0])
    better, stat = beyond_chance(y[seen], proba, alone, score, monitor)
    if value < base and better:
        return True, ""
    return (
        False,
        f"{rows} {label_of(name)} did not beat the {label_of(linear)} path alone beyond chance "
        f"({stat})",
    )


def how_chosen(small: bool, folds, rows: int, val_rows: int) -> str:
    """metrics.json's `how` of the selection: on which rows the candidates were judged."""
    if small:
        return f"{int(folds.max()) + 1}-fold cross-validation on the {rows} training sequences"
    return (
        f"the linear paths out of fold on the {rows} training and validation sequences, the "
        "network on "
        f"the {val_rows} validation sequences"
    )
