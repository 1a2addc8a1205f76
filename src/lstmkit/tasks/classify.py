"""SequenceClassifier: diagnosis from physiological sequences, toxicity from SMILES strings.

    clf = SequenceClassifier(conv_channels=32).fit("ecg5000")   # embedded; official 500/4500 split
    clf.metrics["test"]                                          # model beside majority and logistic
    clf.save("runs/ecg"); SequenceClassifier.load("runs/ecg").predict_proba(new_df)

fit(): read (data.sequences) -> split (the given test file, else a stratified train/val/test split
with a seed) -> scale channels on train only, or canonicalise + tokenise SMILES with a vocabulary
from train -> baselines (majority class; logistic regression on the raw values or on character
n-gram counts, its L2 strength chosen on validation; tasks/classify_baselines.py, tasks/linear.py)
-> ClassifierNet -> train
(train.fit, early stopping on the validation criterion) -> metrics of model and baselines on the
same test rows, the model fused with its linear path when linear_weight > 0 (tasks/linear.py).
Its settings and their checks: tasks/classify_config.py.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import pathlib
import time

import numpy as np
import pandas as pd
import rich
import torch
import torch.nn.functional as F

from .. import data as datasets
from ..config import LstmkitError, settings_of
from ..data.scaling import Standardizer
from ..data.sequences import encode_labels, pad, read_labelled_table, sequences_from_table, stratified_split
from ..data.smiles import Vocabulary, canonicalize, randomize, scaffolds, tokenize
from ..evaluate import classification_metrics
from ..models import ClassifierNet, mean_proba
from ..train import fit
from .classify_baselines import criterion, fit_baselines
from .classify_config import ClassifyConfig, check_config
from .linear import LinearPath, fuse

__all__ = ["ClassifyConfig", "SequenceClassifier"]

MIN_BATCHES = 10  # per epoch (ClassifierNet training): smaller data sets are passed over several times


def passes_per_epoch(rows: int, batch_size: int) -> int:
    """An epoch is at least MIN_BATCHES batches: a small training set is passed over several times
    per epoch, so that the default epochs and patience mean enough optimizer steps on 30 rows too
    (on a 30-beat UCR-style set one batch per epoch left the network at 0.58 accuracy after 40
    steps; docs/classify.md)."""
    return math.ceil(MIN_BATCHES / math.ceil(rows / batch_size))


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
                    test = pd.read_csv(f, compression="gzip" if info.test_file.endswith(".gz") else None, float_precision="round_trip")
            return datasets.load(info.name), test
        train = read_labelled_table(data, "--data")
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
        targets of train, val and test; SMILES canonicalised. Rows of one group (--group-col;
        for SMILES without it, one canonical molecule) never straddle two parts."""
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
        if test_lab is not None:
            y_test, _ = encode_labels(test_lab.labels, found, "--test")
            val_rows, train_rows = stratified_split(y_all, (cfg.val,), cfg.seed, groups)
            test_seqs = test_lab.sequences
        else:
            val_rows, test_rows, train_rows = stratified_split(y_all, (cfg.val, cfg.test), cfg.seed, groups)
            test_seqs, y_test = labelled.sequences.subset(test_rows), y_all[test_rows]
        if len(test_seqs) == 0:
            raise LstmkitError("--test: no test rows; use a larger data set or --test-fraction")
        parts = {
            "train": (labelled.sequences.subset(train_rows), y_all[train_rows]),
            "val": (labelled.sequences.subset(val_rows), y_all[val_rows]),
            "test": (test_seqs, y_test),
        }
        return {"parts": parts, "classes": found, "given_test_file": test_df is not None, "groups": n_groups}

    def fit(self, data, test=None, quiet: bool = False, checkpoint_dir=None, resume: bool = False):
        cfg = self.config
        torch.set_num_threads(cfg.threads)
        split = self.split(data, test)
        self.source = {"data": datasets.source_of(data), "test": datasets.source_of(test)}
        self.classes = split["classes"]
        (train_seqs, y_train), (val_seqs, y_val), (test_seqs, y_test) = split["parts"].values()
        self.multilabel = y_train.ndim == 2
        self.split_sizes = {"train": len(train_seqs), "val": len(val_seqs), "test": len(test_seqs),
                            "given_test_file": split["given_test_file"], "groups": split["groups"]}  # fmt: skip

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
        x_val, n_val = self._encode(val_seqs)
        x_test, n_test = self._encode(test_seqs, cfg.tta, cfg.seed + 1)
        self.max_length = int(n_train.max())

        what = "logistic regression" + (", MiniRocket features" if cfg.linear_features != "raw" else "")
        what += ", ridge classifier" if cfg.linear_model == "ridge" else ""
        with contextlib.nullcontext() if quiet else rich.get_console().status(f"baselines: {what}"):
            base = fit_baselines(cfg, train_seqs, val_seqs, test_seqs, y_train, y_val, len(self.classes),
                                 self.vocab is not None, self.scaler, self.max_length, self._score_proba)  # fmt: skip
        self.linear, self.logistic_l2 = base.linear, base.logistic_l2
        self.model, self.histories = torch.nn.ModuleList(), []
        start = time.perf_counter()
        for member in range(cfg.ensemble):
            torch.manual_seed(cfg.seed + member)
            net = self._build_model()
            folder = pathlib.Path(checkpoint_dir) / f"member{member}" if checkpoint_dir else None
            self.histories.append(
                self._train(net, (x_train, n_train, y_train), (x_val, n_val, y_val), quiet, folder, resume)
            )
            self.model.append(net)
        seconds = time.perf_counter() - start
        ridge = cfg.linear_model == "ridge"

        proba = self._proba(x_test, n_test)
        network = classification_metrics(y_test, proba)
        proba = self._fused(proba, test_seqs, base.test_features)
        self.test_ids, self.test_actual, self.test_proba = test_seqs.ids, y_test, proba
        self.test_sequences = test_seqs
        tests = {"model": classification_metrics(y_test, proba)}
        if cfg.linear_weight:  # the network alone, so that what the linear path adds is on record
            tests["network"] = network
        for name, p in base.test_proba.items():
            tests[name] = classification_metrics(y_test, p)
        self.metrics = {
            "test": tests,
            "train_seconds": seconds,
            "epochs": [h.epochs for h in self.histories] if cfg.ensemble > 1 else self.histories[0].epochs,
            "best_epoch": [h.best_epoch for h in self.histories] if cfg.ensemble > 1 else self.histories[0].best_epoch,
            "history": {"train_loss": self.histories[0].train_loss, "val_loss": self.histories[0].val_loss},
            "monitor": cfg.monitor,
            "passes_per_epoch": passes_per_epoch(len(train_seqs), cfg.batch_size),
            "classes": [str(c) for c in self.classes],
            "multilabel": self.multilabel,
            "split": self.split_sizes,
            "logistic_l2": self.logistic_l2,
            "minirocket_l2": self.linear.model.l2 if self.linear.rocket is not None and not ridge else None,
            "ridge_alpha": self.linear.model.l2 if ridge else None,  # per row, chosen by leave-one-out
            "unknown_tokens": self.vocab.unknown_seen if self.vocab else None,  # in validation + test
            "vocabulary": len(self.vocab) if self.vocab else None,
            "dataset": self.dataset,
        }
        return self

    def _build_model(self) -> ClassifierNet:
        cfg = self.config
        n_out = len(self.classes)
        return ClassifierNet(
            n_out,
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

    def _loss_weights(self, y: np.ndarray) -> torch.Tensor | None:
        """Class weights (single-label) or positive weights (multi-label) from training counts."""
        mode = self.config.class_weights
        if mode == "none":
            return None
        power = 0.5 if mode == "sqrt" else 1.0
        if self.multilabel:
            pos = np.nansum(y, 0)
            neg = (~np.isnan(y)).sum(0) - pos
            return torch.tensor((neg / np.maximum(pos, 1)) ** power, dtype=torch.float32)
        counts = np.bincount(y, minlength=len(self.classes))
        w = len(y) / (len(self.classes) * np.maximum(counts, 1))
        return torch.tensor(w**power, dtype=torch.float32)

    def _loss(self, logits, y, weights=None, smoothing=0.0):
        if self.multilabel:
            known = ~torch.isnan(y)  # missing labels leave the loss (Tox21 style)
            loss = F.binary_cross_entropy_with_logits(logits, torch.nan_to_num(y), pos_weight=weights, reduction="none")
            return loss[known].mean()
        return F.cross_entropy(logits, y, weight=weights, label_smoothing=smoothing)

    def _train(self, net, train, val, quiet, folder, resume):
        cfg = self.config
        x, n, y = train
        xt, nt, yt = (torch.as_tensor(a) for a in (x, n, y))
        weights = self._loss_weights(y)
        gen = torch.Generator().manual_seed(cfg.seed)
        smiles = self.vocab is not None

        # Length buckets: sort each stretch of 32 batches by length, then shuffle the batches. A
        # batch pads only to its own longest sequence, so similar lengths cost less: on ClinTox
        # (9 to 250 tokens) an epoch took about 2.5x less time in one before/after run.
        lengths = nt.reshape(-1, len(y)).max(0).values  # per row, its longest variant
        bucket = bool((lengths.min() < lengths.max()).item())

        passes = passes_per_epoch(len(y), cfg.batch_size)

        def batches():
            order = torch.cat([torch.randperm(len(y), generator=gen) for _ in range(passes)])
            if bucket:
                stretch = 32 * cfg.batch_size
                order = torch.cat([part[lengths[part].argsort()] for part in order.split(stretch)])
                cuts = list(order.split(cfg.batch_size))
                order = torch.cat([cuts[k] for k in torch.randperm(len(cuts), generator=gen)])
            for k in range(0, len(order), cfg.batch_size):
                rows = order[k : k + cfg.batch_size]
                if smiles:  # one variant per molecule per batch: canonical or a randomised one
                    pick = torch.randint(0, xt.shape[0], (len(rows),), generator=gen) if cfg.augment else 0
                    xb, nb = xt[pick, rows], nt[pick, rows]
                else:
                    xb, nb = xt[rows], nt[rows]
                L = int(nb.max())
                yield xb[:, :L], nb, yt[rows]

        def loss_fn(batch):
            xb, nb, yb = batch
            return self._loss(net(xb, nb), yb, weights, cfg.label_smoothing)

        def validate():
            return self._criterion([net], val)

        return fit(net, batches, loss_fn, validate, cfg.epochs, cfg.patience, cfg.lr, cfg.weight_decay, cfg.cosine,
                   checkpoint_dir=folder, resume=resume, quiet=quiet)  # fmt: skip

    def _criterion(self, members, part) -> float:
        x, n, y = part
        return self._score_proba(y, self._proba(x, n, members))

    def _proba(self, x: np.ndarray, n: np.ndarray, members=None) -> np.ndarray:
        """Mean probabilities over ensemble members and (SMILES) test-time variants."""
        xs, ns = (x, n) if self.vocab is not None else (x[None], n[None])  # values: one variant
        return mean_proba(list(self.model) if members is None else members, xs, ns, self.multilabel)

    # ---- fusion and the validation criterion -----------------------------------------------

    def _fused(self, proba: np.ndarray, seqs, features: np.ndarray | None = None) -> np.ndarray:
        """The network's probabilities, fused with the linear path's when linear_weight > 0
        (features: the linear path's, when already computed)."""
        w = self.config.linear_weight
        if not w:
            return proba
        features = self.linear.features(seqs) if features is None else features
        return fuse(proba, self.linear.model.logits(features), w, self.multilabel)

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
        from .. import __version__
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
            },
        )
        save_tensors(folder / "model.safetensors", self.model.state_dict())
        if self.config.linear_weight:
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
        clf.model = torch.nn.ModuleList(clf._build_model() for _ in range(clf.config.ensemble))
        clf.model.load_state_dict(load_file(folder / "model.safetensors"))
        if clf.config.linear_weight:
            features = clf.config.linear_features
            clf.linear = LinearPath.load(folder, clf.multilabel, clf.scaler, clf.max_length, features)
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
        return self._frame(seqs.ids, self._fused(self._proba(x, n), seqs), actual)

    def predict(self, data) -> np.ndarray:
        """The most probable class of each sequence (single-label), or 0/1 per label at 0.5."""
        frame = self.predict_proba(data)
        if self.multilabel:
            return (frame[[f"p_{c}" for c in self.classes]].to_numpy() >= 0.5).astype(int)
        return frame["predicted"].to_numpy()
