"""SequenceClassifier: diagnosis from physiological sequences, toxicity from SMILES strings.

    clf = SequenceClassifier().fit("ecg5000")      # embedded; official 500/4500 split
    clf.metrics["test"]                             # the model beside the network and baselines
    clf.metrics["selection"]                        # what it chose to be, judged on which rows
    clf.save("runs/ecg"); SequenceClassifier.load("runs/ecg").predict_proba(new_df)

fit(): read (data.sequences) -> split (the given test file, else a stratified split with a seed;
small data: k folds of the training rows, large data: a validation part) -> scale channels on
train only, or canonicalise + tokenise SMILES with a vocabulary from train -> the linear paths
(logistic regression on the raw values or n-grams, ridge on MiniRocket's features), each judged
out of sample (baselines.py, linear/paths.py) -> ClassifierNet, one per fold or one early-stopped
on validation (networks.py) -> the choice among the linear paths, the network and their fusion on
those out-of-sample predictions (select.py) -> metrics of the model, the network alone and every
baseline on the same test rows. Its settings: config.py; what it resolved: state.py.
"""

from __future__ import annotations

import contextlib
import functools
import pathlib
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import rich
import torch

from .. import data as datasets
from ..config import LstmkitError, cut, document_signature
from ..data.scaling import Standardizer
from ..data.sequences import (
    TS_COLUMNS,
    Labelled,
    Sequences,
    encode_labels,
    read_labelled_table,
    sequences_from_table,
    stratified_split,
)
from ..data.smiles import (
    Vocabulary,
    canonicalize,
    randomize,
    refuse_unparsable,
    scaffolds,
    tokenize,
    unparsable,
)
from ..evaluate import classification_metrics, proba_of_logits, roc_by_class
from ..linear.paths import LinearPath, fuse
from ..train import member_events
from . import networks
from .baselines import criterion, fit_baselines, named_path
from .config import MAX_MEMBERS, ClassifyConfig, legacy
from .examples import pick_examples
from .inputs import encode, network_of
from .select import Choice, choose, folds_of, how_chosen, promising
from .state import ClassifyState, legacy_state

__all__ = ["ClassifyConfig", "SequenceClassifier"]


@dataclass(frozen=True)
class TestRows:
    """The test rows of the last fit: what predictions.csv and the report show."""

    sequences: Sequences
    actual: np.ndarray
    proba: np.ndarray


def without_unparsable(lab: Labelled) -> tuple[Labelled, list[dict]]:
    """`lab` without its rows whose SMILES is no molecule, and those rows ({id, smiles})."""
    bad = unparsable(lab.sequences.smiles)
    if not bad:
        return lab, []
    keep = np.setdiff1d(np.arange(len(lab.sequences)), bad)
    if len(keep) == 0:
        raise LstmkitError("--smiles-col: no row holds a SMILES that RDKit can parse")
    skipped = [
        {"id": str(lab.sequences.ids[k]), "smiles": cut(lab.sequences.smiles[k])} for k in bad
    ]
    return (
        Labelled(
            lab.sequences.subset(keep),
            lab.labels.iloc[keep].reset_index(drop=True),
            None if lab.groups is None else lab.groups[keep],
            lab.value_cols,
        ),
        skipped,
    )


class SequenceClassifier:
    def __init__(self, config: ClassifyConfig | None = None, /, **settings):
        if config is not None and settings:
            raise LstmkitError(
                "SequenceClassifier: give a ClassifyConfig or keyword settings, not both"
            )
        self.config = (
            config
            if config is not None
            else ClassifyConfig.from_settings(settings, "SequenceClassifier")
        )
        self.model: torch.nn.ModuleList | None = (
            None  # the network's members (none: the linear path alone)
        )
        self.state: ClassifyState | None = None  # what fit resolved (state.py)
        self.choice: Choice | None = None  # the linear path, its weight, how each candidate scored
        self.linear: LinearPath | None = None  # the chosen linear path (None: the network alone)
        self.metrics: dict | None = None
        self.histories: list = []  # one per trained network member
        self.test: TestRows | None = None

    # ---- data ------------------------------------------------------------------------------

    def _tables(self, data, test):
        """(train table, test table or None, the embedded data set's name or None); the config
        resolved with an embedded data set's settings (data/registry.py) or a .ts file's columns."""
        info = datasets.embedded(data, "classify")
        if info is not None:
            self.config = self.config.merged(info.defaults())
            if test is None and info.test_file:
                with info.test_path.open("rb") as f:
                    gz = "gzip" if info.test_file.endswith(".gz") else None
                    test = pd.read_csv(f, compression=gz, float_precision="round_trip")
            return datasets.load(info.name), test, info.name
        train = read_labelled_table(data, "--data")
        if str(data).lower().endswith(".ts"):  # read as a long table
            self.config = self.config.merged(
                dict(zip(("id_col", "time_col"), TS_COLUMNS, strict=True))
            )
        return train, (None if test is None else read_labelled_table(test, "--test")), None

    def sequences(self, df, where: str = "--data", labels_required: bool = True):
        """The labelled sequences of a table, read with the columns the model was fitted on (before
        a fit: as the config names them)."""
        if self.state is not None:
            return self._read(
                df, where, labels_required, self.state.label_col, self.state.value_cols
            )
        return self._read(
            df,
            where,
            labels_required,
            self.config.data.label_col or [],
            self.config.data.value_cols,
        )

    def _read(self, df, where: str, labels_required: bool, label_col, value_cols):
        d = self.config.data
        args = (
            d.smiles_col,
            d.id_col,
            d.time_col,
            value_cols,
            d.ragged,
            where,
            labels_required,
            d.group_col,
        )
        return sequences_from_table(df, label_col, *args)

    def encode(self, seqs, variants: int = 0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Sequences -> (padded array, lengths), as the fitted model reads them. SMILES: token ids
        (V+1, N, L) holding the canonical string first and `variants` randomised ones after;
        values: (N, L, C) scaled."""
        return encode(seqs, variants, seed, self.state.vocab, self.state.scaler)

    # ---- fit -------------------------------------------------------------------------------

    def split(self, data, test=None, classes=None) -> dict:
        """Read and split as fit() does: the same rows in the same parts for the same data and
        seed (explain() re-derives a saved run's test rows this way). Returns the sequences and
        targets of train, val and test (SMILES canonicalised), the columns as resolved and, for
        small data, the fold of each training row (val then empty: select.py). Rows of one group
        (--group-col; for SMILES without it, one canonical molecule) never straddle two parts."""
        train_df, test_df, dataset = self._tables(data, test)
        cfg = self.config
        labelled = self.sequences(train_df, "--data")
        # the labels as resolved ("label" when not named), and a wide table's steps by name: a test
        # or predict file whose columns come in another order is read in the training order
        columns = {
            "label_col": list(labelled.labels.columns),
            "value_cols": labelled.value_cols or cfg.data.value_cols,
        }
        y_all, found = encode_labels(labelled.labels, classes, "--data")
        test_lab = None
        if test_df is not None:
            test_lab = self._read(
                test_df, "--test", True, columns["label_col"], columns["value_cols"]
            )
        smiles_col = cfg.data.smiles_col
        invalid = {}
        if smiles_col and cfg.smiles.invalid == "skip":  # "error": canonicalize() refuses them
            labelled, invalid["data"] = without_unparsable(labelled)
            if test_lab is not None:
                test_lab, invalid["test"] = without_unparsable(test_lab)
            y_all, found = encode_labels(labelled.labels, classes, "--data")
        elif smiles_col:
            refuse_unparsable(labelled.sequences.smiles, smiles_col, "--data")
            if test_lab is not None:
                refuse_unparsable(test_lab.sequences.smiles, smiles_col, "--test")
        # before splitting: one molecule, one string, one part
        if smiles_col and cfg.smiles.canonical:
            for lab in filter(None, (labelled, test_lab)):
                lab.sequences.smiles = canonicalize(lab.sequences.smiles)
        groups = labelled.groups
        if groups is None and smiles_col:
            smiles = labelled.sequences.smiles
            groups = np.asarray(scaffolds(smiles) if cfg.smiles.split_by == "scaffold" else smiles)
        n_groups = len(np.unique(groups.astype(str))) if groups is not None else None
        split, seed = cfg.split, cfg.train.seed
        n_fit = len(y_all) - (0 if test_lab is not None else round(split.test * len(y_all)))
        small = n_fit <= split.cv_max_rows  # k-fold instead of a validation part
        val_fraction = () if small else (split.val,)
        if test_lab is not None:
            y_test, _ = encode_labels(test_lab.labels, found, "--test")
            *val_rows, train_rows = stratified_split(y_all, val_fraction, seed, groups)
            test_seqs = test_lab.sequences
        else:
            *val_rows, test_rows, train_rows = stratified_split(
                y_all, (*val_fraction, split.test), seed, groups
            )
            test_seqs, y_test = labelled.sequences.subset(test_rows), y_all[test_rows]
        val_rows = val_rows[0] if val_rows else np.zeros(0, np.int64)
        if len(test_seqs) == 0:
            raise LstmkitError("--test: no test rows; use a larger data set or --test-fraction")
        parts = {
            "train": (labelled.sequences.subset(train_rows), y_all[train_rows]),
            "val": (labelled.sequences.subset(val_rows), y_all[val_rows]),
            "test": (test_seqs, y_test),
        }
        # the linear paths' rows, in fit()'s order
        fit_rows = np.concatenate([train_rows, val_rows])
        folds = folds_of(
            y_all[fit_rows], split.cv_folds, seed, None if groups is None else groups[fit_rows]
        )
        return {
            "parts": parts,
            "classes": found,
            "given_test_file": test_df is not None,
            "groups": n_groups,
            "folds": folds,
            "small": small,
            "columns": columns,
            "dataset": dataset,
            "invalid": {k: v for k, v in invalid.items() if v},
        }

    def fit(self, data, test=None, quiet: bool = False, checkpoint_dir=None, resume: bool = False):
        torch.set_num_threads(self.config.train.threads)
        split = self.split(data, test)
        cfg = self.config  # resolved: the data set's settings merged
        classes = split["classes"]
        (train_seqs, y_train), (val_seqs, y_val), (test_seqs, y_test) = split["parts"].values()
        folds, small = split["folds"], split["small"]
        multilabel = y_train.ndim == 2
        sizes = {
            "train": len(train_seqs),
            "val": len(val_seqs),
            "test": len(test_seqs),
            "given_test_file": split["given_test_file"],
            "groups": split["groups"],
            "folds": int(folds.max()) + 1,
        }
        seed, smiles = cfg.train.seed, cfg.smiles
        if cfg.data.smiles_col:
            extra = randomize(train_seqs.smiles, smiles.augment, seed) if smiles.augment else []
            tokens = [tokenize(s) for s in train_seqs.smiles] + [
                tokenize(s) for v in extra for s in v
            ]
            vocab, scaler = Vocabulary.build(tokens), None
        else:
            vocab = None
            scaler = Standardizer.fit(np.concatenate(train_seqs.values), train_seqs.channels)
        x_train, n_train = encode(train_seqs, smiles.augment, seed, vocab, scaler)
        if vocab:  # count what validation and test hold that training did not
            vocab.unknown_seen = 0
        x_val, n_val = encode(val_seqs, 0, 0, vocab, scaler) if len(val_seqs) else (None, None)
        x_test, n_test = encode(test_seqs, smiles.tta, seed + 1, vocab, scaler)
        max_length = int(n_train.max())
        score = functools.partial(criterion, monitor=cfg.train.monitor, multilabel=multilabel)

        # the linear paths, fitted on training and validation rows, judged out of sample on each
        fit_seqs = train_seqs.concat(val_seqs)
        y_fit = np.concatenate([y_train, y_val])
        val_part = np.r_[np.zeros(len(train_seqs), bool), np.ones(len(val_seqs), bool)]
        with (
            contextlib.nullcontext()
            if quiet
            else rich.get_console().status("baselines: the linear paths")
        ):
            rows = (fit_seqs, y_fit, folds, test_seqs)
            base = fit_baselines(
                cfg.linear, seed, rows, len(classes), vocab is not None, scaler, max_length, score
            )
        named = None if cfg.linear.linear_features == "auto" else named_path(base)

        # the network: one per fold (small data) or one on the training rows, and its out-of-sample
        # probabilities of the fit rows
        self.model, self.histories = torch.nn.ModuleList(), []
        shape = {"classes": len(classes), "channels": len(train_seqs.channels), "vocab": vocab}
        linear_weight, monitor = cfg.linear.linear_weight, cfg.train.monitor
        network = None if linear_weight == 1 else np.full((len(y_fit), len(classes)), np.nan)
        start, notes = time.perf_counter(), []

        def train_members(part, held, first):
            return self._train_members(
                part, held, first, shape, score, quiet, checkpoint_dir, resume
            )

        if network is not None and not small:
            members = train_members((x_train, n_train, y_train), (x_val, n_val, y_val), 0)
            network[val_part] = networks.proba(members, x_val, n_val, vocab is not None, multilabel)
        # one network per fold; the first fold may show it is not worth the rest
        elif network is not None:
            screen = None
            if linear_weight == "auto":
                screen = lambda net: promising(y_train, base.oof, net, score, named, monitor)  # noqa: E731
            fit_rows = (x_train, n_train, y_train)
            ensemble = cfg.train.ensemble
            notes = networks.train_folds(
                train_members, fit_rows, folds, ensemble, vocab is not None, network, screen, quiet
            )
        seconds = time.perf_counter() - start
        self.choice = choose(
            y_fit, base.oof, network, score, linear_weight, named, monitor, screened=notes
        )
        self.linear = base.paths[self.choice.linear]
        self.state = ClassifyState(
            dataset=split["dataset"],
            source={"data": datasets.source_of(data), "test": datasets.source_of(test)},
            label_col=split["columns"]["label_col"],
            value_cols=split["columns"]["value_cols"],
            classes=classes,
            multilabel=multilabel,
            channels=train_seqs.channels,
            max_length=max_length,
            split=sizes,
            vocab=vocab,
            scaler=scaler,
            selection={
                "linear": self.choice.linear,
                "kind": self.linear.kind,
                "weight": self.choice.weight,
                "members": len(self.model),
            },
        )

        net_proba = self.network_proba(x_test, n_test) if len(self.model) else None
        proba = self.fused_proba(net_proba, test_seqs, base.test_logits[self.choice.linear])
        self.test = TestRows(test_seqs, y_test, proba)
        tests = {"model": classification_metrics(y_test, proba)}
        # the network alone, so that what the linear path adds is on record
        if net_proba is not None:
            tests["network"] = classification_metrics(y_test, net_proba)
        for name, p in base.test_proba.items():
            tests[name] = classification_metrics(y_test, p)
        first = self.histories[0] if self.histories else None
        many = len(self.histories) > 1
        how = how_chosen(small, folds, len(y_fit), sizes["val"])
        self.metrics = {
            "test": tests,
            "selection": self.choice.record(how, monitor, len(self.model)),
            "train_seconds": seconds,
            "epochs": [h.epochs for h in self.histories]
            if many
            else (first.epochs if first else 0),
            "best_epoch": [h.best_epoch for h in self.histories]
            if many
            else (first.best_epoch if first else 0),
            "history": {"train_loss": first.train_loss, "val_loss": first.val_loss}
            if first
            else None,
            **member_events(self.histories),
            "monitor": monitor,
            "passes_per_epoch": networks.passes_per_epoch(len(train_seqs), cfg.train.batch_size),
            "classes": [str(c) for c in classes],
            "multilabel": multilabel,
            "split": sizes,
            "logistic_l2": base.logistic_l2,
            # what each linear path reads, its classifier and penalty (the ridge's: per row)
            "paths": {
                name: {
                    "reads": path.kind,
                    "classifier": base.classifiers[name],
                    "penalty": path.model.l2,
                }
                for name, path in base.paths.items()
            },
            "unknown_tokens": vocab.unknown_seen if vocab else None,  # in validation + test
            "vocabulary": len(vocab) if vocab else None,
            "dataset": split["dataset"],
        }
        if split["invalid"]:  # SMILES skipped: how many, and which, per file
            self.metrics["invalid_smiles"] = split["invalid"]
        return self

    def _train_members(
        self, train, val, first: int, shape, score, quiet, checkpoint_dir, resume
    ) -> list:
        """`ensemble` networks from seeds seed + first, ... on `train`, each early-stopped on `val`
        (checkpoints in checkpoint_dir/member<k>); appended to the model and returned."""
        build = functools.partial(network_of, self.config, shape)
        tokens = shape["vocab"] is not None
        members, histories = networks.train_members(
            build,
            self.config,
            train,
            val,
            first,
            shape["classes"],
            tokens,
            score,
            quiet,
            checkpoint_dir,
            resume,
        )
        self.histories += histories
        self.model.extend(members)
        return members

    def network_proba(self, x: np.ndarray, n: np.ndarray, members=None) -> np.ndarray:
        """The network's mean probabilities over ensemble members and (SMILES) test-time variants,
        for encoded sequences (encode())."""
        members = list(self.model) if members is None else members
        return networks.proba(members, x, n, self.state.vocab is not None, self.state.multilabel)

    def fused_proba(
        self, proba: np.ndarray | None, seqs, linear_logits: np.ndarray | None = None
    ) -> np.ndarray:
        """The model's probabilities: the network's (proba), fused with the linear path's as chosen
        (linear_logits: the path's logits of `seqs`, when already computed)."""
        w = self.choice.weight
        if w == 0:
            return proba
        if linear_logits is None:
            linear_logits = self.linear.model.logits(self.linear.features(seqs))
        if w == 1:
            return proba_of_logits(linear_logits, self.state.multilabel)
        return fuse(proba, linear_logits, w, self.state.multilabel)

    # ---- results, save, load, predict ------------------------------------------------------

    def evaluate(self) -> pd.DataFrame:
        """Test metrics of the model and the baselines, one row each."""
        if not self.metrics:
            raise LstmkitError("SequenceClassifier.evaluate: fit() it first")
        keys = ("accuracy", "balanced_accuracy", "macro_f1", "roc_auc", "pr_auc")
        return pd.DataFrame(
            {name: {k: m.get(k) for k in keys} for name, m in self.metrics["test"].items()}
        ).T

    def _frame(self, ids, proba, actual=None) -> pd.DataFrame:
        classes, multilabel = self.state.classes, self.state.multilabel
        frame = pd.DataFrame({"id": ids})
        if actual is not None:
            frame["actual"] = (
                [classes[k] for k in actual] if not multilabel else list(map(list, actual))
            )
        if not multilabel:
            frame["predicted"] = [classes[k] for k in proba.argmax(1)]
        for k, name in enumerate(str(c) for c in classes):
            frame[f"p_{name}"] = proba[:, k]
        return frame

    @property
    def predictions(self) -> pd.DataFrame:
        """The test rows: id, actual, predicted and one probability column per class."""
        return self._frame(self.test.sequences.ids, self.test.proba, self.test.actual)

    def save(self, folder, overwrite: bool = True) -> None:
        """Write the run directory `folder` as one transaction (rundir.py): a reader sees the old
        run or this one, never a mix. overwrite=False refuses a folder that holds a run already.
        """
        from ..rundir import transaction

        with transaction(folder, overwrite=overwrite) as stage:
            self.write(stage)

    def write(self, folder) -> None:
        """config.json (the settings) + state.json (what fit resolved) + model.safetensors
        (+ linear.*) + metrics.json + predictions.csv + report.html."""
        from ..runs import atomic_write, save_tensors, write_json, write_run

        if self.model is None or self.state is None:
            raise LstmkitError("SequenceClassifier.save: fit() it first")
        folder = pathlib.Path(folder)
        write_run(folder, "classify", self.config, self.state)
        save_tensors(folder / "model.safetensors", self.model.state_dict())
        if self.choice.weight > 0:
            self.linear.save(folder)
        write_json(folder / "metrics.json", self.metrics)
        atomic_write(
            folder / "predictions.csv", lambda tmp: self.predictions.to_csv(tmp, index=False)
        )
        from ..report import classify_report

        s, t = self.state, self.test
        title = f"lstmkit classify: {', '.join(s.label_col)} ({s.dataset or 'your data'})"
        examples = pick_examples(
            s.classes, t.actual, t.sequences.ids, t.proba, t.sequences, s.multilabel
        )
        roc = {}
        if not s.multilabel:  # binary: one curve, the positive class
            shown = s.classes[1:] if len(s.classes) == 2 else s.classes
            actual = np.asarray([str(s.classes[k]) for k in t.actual])
            roc = roc_by_class(actual, {str(c): t.proba[:, s.classes.index(c)] for c in shown})
        classify_report(folder, self.metrics, examples, roc, self.config.flat(), title)

    @classmethod
    def load(cls, folder) -> SequenceClassifier:
        """A saved run: its settings, fitted state, networks and linear path (runs saved before the
        config tree load too)."""
        from ..runs import load_module, read_json, read_run

        folder = pathlib.Path(folder)
        legacy_run = (legacy, legacy_state)
        config, s = read_run(folder, "classify", ClassifyConfig, ClassifyState, legacy_run)
        clf = cls(config)
        clf.state = s
        clf.choice, chosen = Choice.saved({"selection": s.selection})
        shape = {"classes": len(s.classes), "channels": len(s.channels), "vocab": s.vocab}
        members = int(chosen["members"])
        if not 0 <= members <= MAX_MEMBERS:
            raise LstmkitError(
                f"--run: {folder / 'state.json'}: {members} network members; at most "
                f"{MAX_MEMBERS} (the --ensemble bound)"
            )
        clf.model = load_module(
            folder / "model.safetensors",
            lambda: torch.nn.ModuleList(network_of(clf.config, shape) for _ in range(members)),
        )
        if clf.choice.weight > 0:
            clf.linear = LinearPath.load(
                folder, s.multilabel, s.scaler, s.max_length, chosen["kind"]
            )
        clf.model.eval()
        clf.metrics = (
            read_json(folder / "metrics.json") if (folder / "metrics.json").exists() else {}
        )
        return clf

    def predict_proba(self, data) -> pd.DataFrame:
        """Class probabilities for every sequence in `data` (a DataFrame, CSV, Parquet or UCR
        .tsv with the columns the model was trained on; a label column, if present, is checked
        against the training classes and returned as `actual`)."""
        if self.model is None:
            raise LstmkitError("SequenceClassifier.predict_proba: fit() or load() it first")
        cfg, s = self.config, self.state
        torch.set_num_threads(cfg.train.threads)
        df = read_labelled_table(data, "--data")
        labelled = self.sequences(df, "--data", labels_required=False)
        seqs = labelled.sequences
        if len(seqs) == 0:
            raise LstmkitError("--data: no rows to classify")
        if s.vocab is not None:
            refuse_unparsable(seqs.smiles, cfg.data.smiles_col, "--data")
        if s.vocab is not None and cfg.smiles.canonical:
            seqs.smiles = canonicalize(seqs.smiles)
        if s.vocab is None and list(seqs.channels) != list(s.channels):
            raise LstmkitError(
                f"--data: channels {seqs.channels}; the model was trained on {s.channels}"
            )
        actual = None
        if labelled.labels.shape[1] == len(s.label_col) and labelled.labels.shape[1]:
            actual, _ = encode_labels(labelled.labels, s.classes, "--data")
        x, n = self.encode(seqs, cfg.smiles.tta, cfg.train.seed + 1)
        network = self.network_proba(x, n) if len(self.model) else None
        return self._frame(seqs.ids, self.fused_proba(network, seqs), actual)

    def predict(self, data) -> np.ndarray:
        """The most probable class of each sequence (single-label), or 0/1 per label at 0.5."""
        frame = self.predict_proba(data)
        if self.state.multilabel:
            return (frame[[f"p_{c}" for c in self.state.classes]].to_numpy() >= 0.5).astype(int)
        return frame["predicted"].to_numpy()


document_signature(
    SequenceClassifier,
    ClassifyConfig,
    "SequenceClassifier(config=None, /, **settings): diagnosis from physiological sequences, "
    "toxicity from SMILES;"
    "\nthe network, a linear path or their fusion, chosen on the training data alone.",
)
