"""SequenceClassifier: diagnosis from physiological sequences, toxicity from SMILES strings.

    clf = SequenceClassifier().fit("ecg5000")      # embedded; official 500/4500 split
    clf.metrics["test"]                             # model beside the network, majority, linear paths
    clf.metrics["selection"]                        # what it chose to be, judged on which rows
    clf.save("runs/ecg"); SequenceClassifier.load("runs/ecg").predict_proba(new_df)

fit(): read (data.sequences) -> split (the given test file, else a stratified split with a seed;
small data: k folds of the training rows, large data: a validation part) -> scale channels on
train only, or canonicalise + tokenise SMILES with a vocabulary from train -> the linear paths
(logistic regression on the raw values or n-grams, ridge on MiniRocket's features), each judged
out of sample (classify/baselines.py, linear/paths.py) -> ClassifierNet, one per fold or one
early-stopped on validation (classify/networks.py) -> the choice among the linear paths, the
network and their fusion on those out-of-sample predictions (classify/select.py) -> metrics
of the model, the network alone and every baseline on the same test rows.
Its settings and their checks: classify/config.py.
"""

from __future__ import annotations

import contextlib
import dataclasses
import pathlib
import time

import numpy as np
import pandas as pd
import rich
import torch

from .. import data as datasets
from ..config import LstmkitError, settings_of
from ..data.scaling import Standardizer
from ..data.sequences import (
    TS_COLUMNS,
    encode_labels,
    pad,
    read_labelled_table,
    sequences_from_table,
    stratified_split,
)
from ..data.smiles import Vocabulary, canonicalize, randomize, scaffolds, tokenize
from ..evaluate import classification_metrics, proba_of_logits
from ..linear.paths import LinearPath, fuse
from ..models import ClassifierNet
from . import networks
from .baselines import criterion, fit_baselines
from .config import ClassifyConfig, check_config
from .select import Choice, choose, folds_of, promising

__all__ = ["ClassifyConfig", "SequenceClassifier"]


class SequenceClassifier:
    def __init__(self, **settings):
        if isinstance(settings.get("label_col"), str):
            settings["label_col"] = [c.strip() for c in settings["label_col"].split(",")]
        self.config = settings_of(ClassifyConfig, settings, "SequenceClassifier")
        self._explicit = set(settings)  # what the user chose; an embedded data set's settings fill the rest
        check_config(self.config)
        self.model: torch.nn.ModuleList | None = None
        self.dataset = None

    # ---- data ------------------------------------------------------------------------------

    def _tables(self, data, test):
        """(train table, test table or None), filling column defaults from an embedded data set."""
        cfg = self.config
        if isinstance(data, str) and data in datasets.DATASETS:
            info = datasets.get(data)
            if info.task != "classify":
                raise LstmkitError(f"--data: {data!r} is a {info.task} data set; use `lstmkit {info.task}`")
            self.dataset = info.name
            for key, value in info.settings.items():
                if key not in getattr(self, "_explicit", ()):
                    setattr(cfg, key, value)
            check_config(cfg)
            cfg.label_col = cfg.label_col or info.label.split(",")
            cfg.smiles_col = cfg.smiles_col or info.smiles
            if test is None and info.test_file:
                with info.test_path.open("rb") as f:
                    gz = "gzip" if info.test_file.endswith(".gz") else None
                    test = pd.read_csv(f, compression=gz, float_precision="round_trip")
            return datasets.load(info.name), test
        train = read_labelled_table(data, "--data")
        if str(data).lower().endswith(".ts") and cfg.id_col is None:  # read as a long table
            cfg.id_col, cfg.time_col = TS_COLUMNS
        return train, (None if test is None else read_labelled_table(test, "--test"))

    def _sequences(self, df, where, labels_required=True):
        cfg = self.config
        return sequences_from_table(
            df, cfg.label_col or [], cfg.smiles_col, cfg.id_col, cfg.time_col, cfg.value_cols, cfg.ragged, where,
            labels_required, cfg.group_col,
        )  # fmt: skip

    def _encode(self, seqs, variants: int = 0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Sequences -> (padded array, lengths). SMILES: token ids (V+1, N, L) holding the
        canonical string first and `variants` randomised ones after; values: (N, L, C) scaled."""
        if self.config.smiles_col:
            strings = [seqs.smiles]
            if variants:
                strings += list(map(list, zip(*randomize(seqs.smiles, variants, seed), strict=True)))
            encoded = [[self.vocab.encode(tokenize(s)) for s in group] for group in strings]
            L = max(len(e) for group in encoded for e in group)
            arrays = [pad(group, L) for group in encoded]
            return np.stack([a for a, _ in arrays]), np.stack([n for _, n in arrays])
        values = [self.scaler.transform(v).astype(np.float32) for v in seqs.values]
        return pad(values)

    # ---- fit -------------------------------------------------------------------------------

    def split(self, data, test=None, classes=None) -> dict:
        """Read and split as fit() does: the same rows in the same parts for the same data and
        seed (explain() re-derives a saved run's test rows this way). Returns the sequences and
        targets of train, val and test (SMILES canonicalised) and, for small data, the fold of
        each training row (val then empty: classify/select.py). Rows of one group
        (--group-col; for SMILES without it, one canonical molecule) never straddle two parts."""
        cfg = self.config
        train_df, test_df = self._tables(data, test)
        labelled = self._sequences(train_df, "--data")
        cfg.label_col = list(labelled.labels.columns)  # as resolved ("label" when not named)
        # a wide table's steps by name, as resolved: a test or predict file whose columns come in
        # another order is read in the training order, and one that lacks a column is refused
        cfg.value_cols = labelled.value_cols or cfg.value_cols
        y_all, found = encode_labels(labelled.labels, classes, "--data")
        test_lab = self._sequences(test_df, "--test") if test_df is not None else None
        if cfg.smiles_col and cfg.canonical:  # before splitting: one molecule, one string, one part
            for lab in filter(None, (labelled, test_lab)):
                lab.sequences.smiles = canonicalize(lab.sequences.smiles)
        groups = labelled.groups
        if groups is None and cfg.smiles_col:
            smiles = labelled.sequences.smiles
            groups = np.asarray(scaffolds(smiles) if cfg.split_by == "scaffold" else smiles)
        n_groups = len(np.unique(groups.astype(str))) if groups is not None else None
        n_fit = len(y_all) - (0 if test_lab is not None else round(cfg.test * len(y_all)))
        small = n_fit <= cfg.cv_max_rows  # k-fold instead of a validation part
        val_fraction = () if small else (cfg.val,)
        if test_lab is not None:
            y_test, _ = encode_labels(test_lab.labels, found, "--test")
            *val_rows, train_rows = stratified_split(y_all, val_fraction, cfg.seed, groups)
            test_seqs = test_lab.sequences
        else:
            *val_rows, test_rows, train_rows = stratified_split(y_all, (*val_fraction, cfg.test), cfg.seed, groups)
            test_seqs, y_test = labelled.sequences.subset(test_rows), y_all[test_rows]
        val_rows = val_rows[0] if val_rows else np.zeros(0, np.int64)
        if len(test_seqs) == 0:
            raise LstmkitError("--test: no test rows; use a larger data set or --test-fraction")
        parts = {
            "train": (labelled.sequences.subset(train_rows), y_all[train_rows]),
            "val": (labelled.sequences.subset(val_rows), y_all[val_rows]),
            "test": (test_seqs, y_test),
        }
        fit_rows = np.concatenate([train_rows, val_rows])  # the linear paths' rows, in fit()'s order
        folds = folds_of(y_all[fit_rows], cfg.cv_folds, cfg.seed, None if groups is None else groups[fit_rows])
        return {"parts": parts, "classes": found, "given_test_file": test_df is not None, "groups": n_groups,
                "folds": folds, "small": small}  # fmt: skip

    def fit(self, data, test=None, quiet: bool = False, checkpoint_dir=None, resume: bool = False):
        cfg = self.config
        torch.set_num_threads(cfg.threads)
        split = self.split(data, test)
        self.source = {"data": datasets.source_of(data), "test": datasets.source_of(test)}
        self.classes = split["classes"]
        (train_seqs, y_train), (val_seqs, y_val), (test_seqs, y_test) = split["parts"].values()
        folds, small = split["folds"], split["small"]
        self.multilabel = y_train.ndim == 2
        self.split_sizes = {"train": len(train_seqs), "val": len(val_seqs), "test": len(test_seqs),
                            "given_test_file": split["given_test_file"], "groups": split["groups"],
                            "folds": int(folds.max()) + 1}  # fmt: skip

        if cfg.smiles_col:
            extra = randomize(train_seqs.smiles, cfg.augment, cfg.seed) if cfg.augment else []
            tokens = [tokenize(s) for s in train_seqs.smiles] + [tokenize(s) for v in extra for s in v]
            self.vocab, self.scaler = Vocabulary.build(tokens), None
        else:
            self.vocab = None
            self.scaler = Standardizer.fit(np.concatenate(train_seqs.values), train_seqs.channels)
        self.channels = train_seqs.channels
        x_train, n_train = self._encode(train_seqs, cfg.augment, cfg.seed)
        if self.vocab:  # count what validation and test hold that training did not
            self.vocab.unknown_seen = 0
        x_val, n_val = self._encode(val_seqs) if len(val_seqs) else (None, None)
        x_test, n_test = self._encode(test_seqs, cfg.tta, cfg.seed + 1)
        self.max_length = int(n_train.max())

        # the linear paths, fitted on training and validation rows, judged out of sample on each
        fit_seqs = train_seqs.concat(val_seqs)
        y_fit = np.concatenate([y_train, y_val])
        val_part = np.r_[np.zeros(len(train_seqs), bool), np.ones(len(val_seqs), bool)]
        with contextlib.nullcontext() if quiet else rich.get_console().status("baselines: the linear paths"):
            base = fit_baselines(cfg, fit_seqs, y_fit, folds, test_seqs, len(self.classes), self.vocab is not None,
                                 self.scaler, self.max_length, self._score_proba)  # fmt: skip
        named = self._named_path(base)

        # the network: one per fold (small data) or one on the training rows, and its out-of-sample
        # probabilities of the fit rows
        self.model, self.histories = torch.nn.ModuleList(), []
        network = None if cfg.linear_weight == 1 else np.full((len(y_fit), len(self.classes)), np.nan)
        start, notes = time.perf_counter(), []
        if network is not None and not small:
            tokens = self.vocab is not None
            members = self._train_members((x_train, n_train, y_train), (x_val, n_val, y_val), 0, quiet,
                                          checkpoint_dir, resume)  # fmt: skip
            network[val_part] = networks.proba(members, x_val, n_val, tokens, self.multilabel)
        elif network is not None:  # one network per fold; the first fold may show it is not worth the rest
            screen = None
            if cfg.linear_weight == "auto":
                screen = lambda net: promising(y_train, base.oof, net, self._score_proba, named, cfg.monitor)  # noqa: E731
            notes = networks.train_folds(
                lambda part, held, first: self._train_members(part, held, first, quiet, checkpoint_dir, resume),
                (x_train, n_train, y_train), folds, cfg.ensemble, self.vocab is not None, network, screen, quiet,
            )  # fmt: skip
        seconds = time.perf_counter() - start
        self.choice = choose(
            y_fit, base.oof, network, self._score_proba, cfg.linear_weight, named, cfg.monitor, screened=notes
        )
        self.linear = base.paths[self.choice.linear]

        net_proba = self._proba(x_test, n_test) if len(self.model) else None
        proba = self._fused(net_proba, test_seqs, base.test_logits[self.choice.linear])
        self.test_ids, self.test_actual, self.test_proba = test_seqs.ids, y_test, proba
        self.test_sequences = test_seqs
        tests = {"model": classification_metrics(y_test, proba)}
        if net_proba is not None:  # the network alone, so that what the linear path adds is on record
            tests["network"] = classification_metrics(y_test, net_proba)
        for name, p in base.test_proba.items():
            tests[name] = classification_metrics(y_test, p)
        first = self.histories[0] if self.histories else None
        many = len(self.histories) > 1
        self.metrics = {
            "test": tests,
            "selection": self.choice.record(self._how(small, folds, len(y_fit)), cfg.monitor, len(self.model)),
            "train_seconds": seconds,
            "epochs": [h.epochs for h in self.histories] if many else (first.epochs if first else 0),
            "best_epoch": [h.best_epoch for h in self.histories] if many else (first.best_epoch if first else 0),
            "history": {"train_loss": first.train_loss, "val_loss": first.val_loss} if first else None,
            "monitor": cfg.monitor,
            "passes_per_epoch": networks.passes_per_epoch(len(train_seqs), cfg.batch_size),
            "classes": [str(c) for c in self.classes],
            "multilabel": self.multilabel,
            "split": self.split_sizes,
            "logistic_l2": base.logistic_l2,
            "paths": {  # what each linear path reads, its classifier and penalty (the ridge's: per row)
                name: {"reads": path.kind, "classifier": base.classifiers[name], "penalty": path.model.l2}
                for name, path in base.paths.items()
            },
            "unknown_tokens": self.vocab.unknown_seen if self.vocab else None,  # in validation + test
            "vocabulary": len(self.vocab) if self.vocab else None,
            "dataset": self.dataset,
        }
        return self

    def _how(self, small: bool, folds, rows: int) -> str:
        if small:
            return f"{int(folds.max()) + 1}-fold cross-validation on the {rows} training sequences"
        return (f"the linear paths out of fold on the {rows} training and validation sequences, the network on "
                f"the {self.split_sizes['val']} validation sequences")  # fmt: skip

    def _named_path(self, base) -> str | None:
        """The linear path the user named with --linear-features (else None: the best is chosen)."""
        if self.config.linear_features == "auto":
            return None
        return next((name for name in base.paths if name != "logistic"), "logistic")

    def _train_members(self, train, val, first: int, quiet, checkpoint_dir, resume) -> list:
        """`ensemble` networks from seeds seed + first, ... on `train`, each early-stopped on `val`
        (checkpoints in checkpoint_dir/member<k>); appended to the model and returned."""
        members, histories = networks.train_members(
            self._build_model, self.config, train, val, first, len(self.classes), self.vocab is not None,
            self._score_proba, quiet, checkpoint_dir, resume,
        )  # fmt: skip
        self.histories += histories
        self.model.extend(members)
        return members

    def _build_model(self) -> ClassifierNet:
        cfg = self.config
        return ClassifierNet(
            len(self.classes),
            input_size=len(self.channels),
            vocab_size=len(self.vocab) if self.vocab else None,
            embed_dim=cfg.embed_dim,
            conv_channels=cfg.conv_channels,
            conv_kernel=cfg.conv_kernel,
            conv_layers=cfg.conv_layers,
            conv_stride=cfg.conv_stride,
            fcn_channels=cfg.fcn_channels,
            hidden_size=cfg.hidden_size,
            num_layers=cfg.num_layers,
            bidirectional=cfg.bidirectional,
            cell=cfg.cell,
            pooling=cfg.pooling,
            dropout=cfg.dropout,
        )

    def _proba(self, x: np.ndarray, n: np.ndarray, members=None) -> np.ndarray:
        """The network's mean probabilities over ensemble members and (SMILES) test-time variants."""
        members = list(self.model) if members is None else members
        return networks.proba(members, x, n, self.vocab is not None, self.multilabel)

    def _fused(self, proba: np.ndarray | None, seqs, linear_logits: np.ndarray | None = None) -> np.ndarray:
        """The model's probabilities: the network's (proba), fused with the linear path's as chosen
        (linear_logits: the path's logits of `seqs`, when already computed)."""
        w = self.choice.weight
        if w == 0:
            return proba
        if linear_logits is None:
            linear_logits = self.linear.model.logits(self.linear.features(seqs))
        if w == 1:
            return proba_of_logits(linear_logits, self.multilabel)
        return fuse(proba, linear_logits, w, self.multilabel)

    def _score_proba(self, y, proba) -> float:
        return criterion(y, proba, self.config.monitor, self.multilabel)

    # ---- results, save, load, predict ------------------------------------------------------

    def evaluate(self) -> pd.DataFrame:
        """Test metrics of the model and the baselines, one row each."""
        if not getattr(self, "metrics", None):
            raise LstmkitError("SequenceClassifier.evaluate: fit() it first")
        keys = ("accuracy", "balanced_accuracy", "macro_f1", "roc_auc", "pr_auc")
        return pd.DataFrame({name: {k: m.get(k) for k in keys} for name, m in self.metrics["test"].items()}).T

    def _frame(self, ids, proba, actual=None) -> pd.DataFrame:
        names = [str(c) for c in self.classes]
        frame = pd.DataFrame({"id": ids})
        if actual is not None:
            frame["actual"] = [self.classes[k] for k in actual] if not self.multilabel else list(map(list, actual))
        if not self.multilabel:
            frame["predicted"] = [self.classes[k] for k in proba.argmax(1)]
        for k, name in enumerate(names):
            frame[f"p_{name}"] = proba[:, k]
        return frame

    @property
    def predictions(self) -> pd.DataFrame:
        """The test rows: id, actual, predicted and one probability column per class."""
        return self._frame(self.test_ids, self.test_proba, self.test_actual)

    def save(self, folder) -> None:
        """config.json + model.safetensors + scaler.json (or vocabulary.json) + metrics.json +
        predictions.csv + report.html."""
        from .._version import __version__
        from ..runs import atomic_write, save_tensors, write_json

        if self.model is None:
            raise LstmkitError("SequenceClassifier.save: fit() it first")
        folder = pathlib.Path(folder)
        write_json(
            folder / "config.json",
            {
                "lstmkit": __version__,
                "task": "classify",
                "config": dataclasses.asdict(self.config),
                "dataset": self.dataset,
                "classes": self.classes,
                "multilabel": self.multilabel,
                "channels": self.channels,
                "max_length": self.max_length,
                "split": self.split_sizes,
                "source": self.source,
                # what fit chose: the linear path, its weight, the network's members (see metrics.json)
                "selection": {
                    "linear": self.choice.linear,
                    "kind": self.linear.kind,
                    "weight": self.choice.weight,
                    "members": len(self.model),
                },
            },
        )
        save_tensors(folder / "model.safetensors", self.model.state_dict())
        if self.choice.weight > 0:
            self.linear.save(folder)
        if self.vocab is not None:
            write_json(folder / "vocabulary.json", self.vocab.to_dict())
        else:
            write_json(folder / "scaler.json", {"channels": self.scaler.to_dict()})
        write_json(folder / "metrics.json", self.metrics)
        atomic_write(folder / "predictions.csv", lambda tmp: self.predictions.to_csv(tmp, index=False))
        from ..report import classify_report
        from ..report.classify import pick_examples

        what = self.dataset or "your data"
        title = f"lstmkit classify: {', '.join(self.config.label_col or [])} ({what})"
        examples = pick_examples(self.classes, self.test_actual, self.test_ids, self.test_proba, self.test_sequences,
                                 self.multilabel)  # fmt: skip
        classify_report(folder, self.metrics, self.predictions, examples, dataclasses.asdict(self.config), title)

    @classmethod
    def load(cls, folder) -> SequenceClassifier:
        from safetensors.torch import load_file

        from ..runs import read_json, read_run_config

        folder = pathlib.Path(folder)
        saved = read_run_config(folder, "classify")
        clf = cls(**saved["config"])
        clf.dataset, clf.classes, clf.multilabel = saved["dataset"], saved["classes"], saved["multilabel"]
        clf.channels, clf.max_length = saved["channels"], saved["max_length"]
        clf.source, clf.split_sizes = saved.get("source", {}), saved.get("split", {})
        if (folder / "vocabulary.json").exists():
            clf.vocab, clf.scaler = Vocabulary.from_dict(read_json(folder / "vocabulary.json")), None
        else:
            clf.vocab = None
            clf.scaler = Standardizer.from_dict(read_json(folder / "scaler.json")["channels"])
        clf.choice, chosen = Choice.saved(saved)
        clf.model = torch.nn.ModuleList(clf._build_model() for _ in range(int(chosen["members"])))
        clf.model.load_state_dict(load_file(folder / "model.safetensors"))
        clf.linear = None
        if clf.choice.weight > 0:
            clf.linear = LinearPath.load(folder, clf.multilabel, clf.scaler, clf.max_length, chosen["kind"])
        clf.model.eval()
        clf.metrics = read_json(folder / "metrics.json") if (folder / "metrics.json").exists() else {}
        return clf

    def predict_proba(self, data) -> pd.DataFrame:
        """Class probabilities for every sequence in `data` (a DataFrame, CSV, Parquet or UCR
        .tsv with the columns the model was trained on; a label column, if present, is checked
        against the training classes and returned as `actual`)."""
        if self.model is None:
            raise LstmkitError("SequenceClassifier.predict_proba: fit() or load() it first")
        cfg = self.config
        torch.set_num_threads(cfg.threads)
        df = read_labelled_table(data, "--data")
        labelled = self._sequences(df, "--data", labels_required=False)
        seqs = labelled.sequences
        if len(seqs) == 0:
            raise LstmkitError("--data: no rows to classify")
        if self.vocab is not None and cfg.canonical:
            seqs.smiles = canonicalize(seqs.smiles)
        if self.vocab is None and list(seqs.channels) != list(self.channels):
            raise LstmkitError(f"--data: channels {seqs.channels}; the model was trained on {self.channels}")
        actual = None
        if labelled.labels.shape[1] == len(cfg.label_col or []) and labelled.labels.shape[1]:
            actual, _ = encode_labels(labelled.labels, self.classes, "--data")
        x, n = self._encode(seqs, cfg.tta, cfg.seed + 1)
        network = self._proba(x, n) if len(self.model) else None
        return self._frame(seqs.ids, self._fused(network, seqs), actual)

    def predict(self, data) -> np.ndarray:
        """The most probable class of each sequence (single-label), or 0/1 per label at 0.5."""
        frame = self.predict_proba(data)
        if self.multilabel:
            return (frame[[f"p_{c}" for c in self.classes]].to_numpy() >= 0.5).astype(int)
        return frame["predicted"].to_numpy()
