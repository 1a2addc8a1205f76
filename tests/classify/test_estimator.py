"""SequenceClassifier: the contract on small synthetic data (fast) and the acceptance runs
(slow)."""

from __future__ import annotations

import json
import pathlib
import re

import numpy as np
import pandas as pd
import pytest

from helpers import smiles_table, waves
from lstmkit import LstmkitError
from lstmkit.classify import networks as classify_network
from lstmkit.classify.estimator import SequenceClassifier
from lstmkit.classify.networks import MIN_BATCHES
from lstmkit.data.smiles import has_rdkit
from lstmkit.linear.paths import fuse

FAST = dict(epochs=4, hidden_size=8, patience=4, label_col="kind")


def test_a_small_training_set_is_passed_over_several_times_per_epoch(monkeypatch):
    """30 training rows make one batch: at least MIN_BATCHES batches per epoch keep the default
    epochs and patience from meaning 40 optimizer steps (the network stopped at 0.58 on a 30-beat
    UCR-style set that way; 0.96 with the passes, docs/classify.md)."""
    train, test = waves(33, seed=1), waves(150, seed=2)
    # one network, alone
    network = dict(label_col="kind", hidden_size=16, linear_weight=0, cv_max_rows=0)
    clf = SequenceClassifier(**network).fit(train, test=test, quiet=True)
    n_train = clf.state.split["train"]
    assert n_train <= 32 and clf.metrics["passes_per_epoch"] == MIN_BATCHES  # one batch per pass
    assert clf.metrics["test"]["model"]["accuracy"] > 0.85  # 0.92
    monkeypatch.setattr(classify_network, "MIN_BATCHES", 1)  # one pass per epoch: 40 steps in all
    once = SequenceClassifier(**network).fit(train, test=test, quiet=True)
    assert once.metrics["test"]["model"]["accuracy"] < 0.75  # 0.67
    monkeypatch.undo()
    # 280 rows: 9 batches, two passes
    big = SequenceClassifier(**FAST, cv_max_rows=0).fit(waves(400), quiet=True)
    assert big.metrics["passes_per_epoch"] == 2


def test_fit_scores_model_and_baselines_on_the_same_rows():
    clf = SequenceClassifier(
        **{**FAST, "epochs": 30, "patience": 30, "hidden_size": 16}, conv_channels=8
    ).fit(waves(), quiet=True)
    test = clf.metrics["test"]
    assert set(test) == {
        "model",
        "network",
        "majority",
        "logistic",
        "minirocket",
        "minirocket+diff",
    }
    assert len({m["n"] for m in test.values()}) == 1
    for m in test.values():
        assert {"accuracy", "balanced_accuracy", "macro_f1", "roc_auc"} <= set(m)
    assert test["model"]["accuracy"] > 0.85  # the shapes are easy; the majority guess gets 1/3
    assert test["majority"]["roc_auc"] == 0.5
    # 96 training sequences: small data, 5 folds, no validation part
    assert clf.state.split == {
        "train": 96,
        "val": 0,
        "test": 24,
        "given_test_file": False,
        "groups": None,
        "folds": 5,
    }
    assert clf.state.classes == ["ramp", "sine", "square"]
    chosen = clf.metrics["selection"]
    assert (
        chosen["how"] == "5-fold cross-validation on the 96 training sequences"
        and chosen["criterion"] == "loss"
    )
    linear = {"logistic", "minirocket", "minirocket+diff"}
    assert all(chosen["judged"][name]["rows"] == 96 for name in linear)  # every row, out of sample


def test_save_load_gives_identical_probabilities(tmp_path):
    clf = SequenceClassifier(**FAST, conv_channels=4, conv_stride=2).fit(waves(), quiet=True)
    clf.save(tmp_path / "run")
    for name in (
        "config.json",
        "state.json",
        "model.safetensors",
        "metrics.json",
        "predictions.csv",
        "report.html",
    ):
        assert (tmp_path / "run" / name).is_file(), name
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert {"model", "majority", "logistic"} <= set(metrics["test"]) and "train_seconds" in metrics
    saved = json.loads((tmp_path / "run" / "state.json").read_text())["selection"]
    assert saved == {
        "linear": clf.choice.linear,
        "kind": clf.linear.kind,
        "weight": clf.choice.weight,
        "members": len(clf.model),
    }
    new = waves(30, seed=5)
    a = clf.predict_proba(new)
    b = SequenceClassifier.load(tmp_path / "run").predict_proba(new)
    pd.testing.assert_frame_equal(a, b)
    assert a["actual"].tolist() == new["kind"].tolist()  # the label column, checked and echoed


def test_a_linear_path_alone_trains_no_network_and_saves_and_loads(tmp_path):
    clf = SequenceClassifier(**FAST, linear_weight=1, linear_features="minirocket").fit(
        waves(), quiet=True
    )
    assert (
        len(clf.model) == 0
        and "network" not in clf.metrics["test"]
        and clf.metrics["history"] is None
    )
    np.testing.assert_allclose(
        clf.test.proba, clf.linear.model.proba(clf.linear.features(clf.test.sequences))
    )
    clf.save(tmp_path / "run")
    assert "model: MiniRocket</td>" in (tmp_path / "run" / "report.html").read_text()
    again = SequenceClassifier.load(tmp_path / "run")
    pd.testing.assert_frame_equal(clf.predict_proba(waves()), again.predict_proba(waves()))


def test_given_test_file_and_ragged_long_and_multichannel(tmp_path):
    train, test = waves(90), waves(30, seed=1)
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    train_csv, test_csv = str(tmp_path / "train.csv"), str(tmp_path / "test.csv")
    clf = SequenceClassifier(**FAST).fit(train_csv, test=test_csv, quiet=True)
    assert clf.state.split["test"] == 30 and clf.state.split["given_test_file"]
    long = []
    for sid in range(40):
        n = 10 + sid % 7  # varying lengths: masked, not padded into the model
        long.append(
            pd.DataFrame(
                {
                    "sid": sid,
                    "step": np.arange(n),
                    "a": np.sin(np.arange(n) * (1 + sid % 2)),
                    "b": np.random.default_rng(sid).normal(size=n),
                    "y": sid % 2,
                }
            )
        )
    clf = SequenceClassifier(**{**FAST, "label_col": "y"}, id_col="sid", time_col="step").fit(
        pd.concat(long), quiet=True
    )
    with pytest.raises(
        LstmkitError, match=r"channels \['a', 'c'\]; the model was trained on \['a', 'b'\]"
    ):
        clf.predict_proba(pd.concat(long).rename(columns={"b": "c"}))
    assert clf.state.channels == ["a", "b"] and clf.metrics["test"]["model"]["n"] == 8
    # ... and MiniRocket's features of ragged two-channel sequences and their differences, fused,
    # saved, loaded
    settings = {
        **FAST,
        "label_col": "y",
        "linear_features": "minirocket+diff",
        "linear_weight": 0.5,
    }
    clf = SequenceClassifier(**settings, id_col="sid", time_col="step").fit(
        pd.concat(long), quiet=True
    )
    assert (
        clf.linear.rocket.channels[0].shape == (84, 2) and "minirocket+diff" in clf.metrics["test"]
    )
    assert clf.linear.rocket_diff.channels[0].shape == (84, 2)
    clf.save(tmp_path / "run")
    pd.testing.assert_frame_equal(
        clf.predict_proba(pd.concat(long)),
        SequenceClassifier.load(tmp_path / "run").predict_proba(pd.concat(long)),
    )
    saved = json.loads((tmp_path / "run" / "linear.json").read_text())
    (tmp_path / "run" / "linear.json").write_text(
        json.dumps({**saved, "minirocket_diff_dilations": None})
    )
    with pytest.raises(LstmkitError, match=r"linear\.json lacks the minirocket_diff dilations"):
        SequenceClassifier.load(tmp_path / "run")


def test_a_wide_tables_steps_are_read_by_name_at_test_and_predict_time():
    df = waves(60)
    clf = SequenceClassifier(**{**FAST, "label_col": "kind"}).fit(df, quiet=True)
    assert clf.state.value_cols == [f"v{k}" for k in range(24)]  # resolved, saved with the run
    # the same beats, columns in another order
    shuffled = df[["kind", *reversed(clf.state.value_cols)]]
    pd.testing.assert_frame_equal(clf.predict_proba(shuffled), clf.predict_proba(df))
    said = (
        r"--data: no value column 'v20' \(4 of the 24 read: v0, v1, v2, \.\.\., v23 "
        r"\(24 columns\)\); "
    )
    with pytest.raises(
        LstmkitError, match=said + r"the file has kind, v0, v1, \.\.\., v19 \(21 columns\)$"
    ):
        clf.predict_proba(df.iloc[:, :21])  # 20 steps where the model read 24: refused, not padded
    with pytest.raises(LstmkitError, match=r"--test: no value column 'v20'"):
        SequenceClassifier(**{**FAST, "label_col": "kind"}).fit(
            df, test=df.iloc[:, :21], quiet=True
        )


def test_ensemble_averages_its_members():
    clf = SequenceClassifier(**FAST, ensemble=2, linear_weight=0, cv_max_rows=0).fit(
        waves(), quiet=True
    )
    assert len(clf.model) == 2 and len(clf.metrics["epochs"]) == 2
    x, n = clf.encode(clf.test.sequences)
    each = [clf.network_proba(x, n, [m]) for m in clf.model]
    np.testing.assert_allclose(clf.test.proba, np.mean(each, 0))


def test_resume_continues_from_the_checkpoint(tmp_path):
    first = SequenceClassifier(**{**FAST, "epochs": 2}).fit(
        waves(), quiet=True, checkpoint_dir=tmp_path
    )
    resumed = SequenceClassifier(**{**FAST, "epochs": 4}).fit(
        waves(), quiet=True, checkpoint_dir=tmp_path, resume=True
    )
    assert resumed.histories[0].resumed_from == 2 and resumed.histories[0].epochs >= 3
    assert first.histories[0].train_loss == resumed.histories[0].train_loss[:2]


@pytest.mark.parametrize("augment", [0, 3])
def test_smiles_single_and_multi_label(augment):
    # Without RDKit randomize() repeats each string, so the augmented path still runs and is
    # checked.
    df = smiles_table()
    clf = SequenceClassifier(
        **{**FAST, "label_col": "acid"}, smiles_col="smiles", augment=augment, tta=augment
    ).fit(df, quiet=True)
    assert clf.state.vocab is not None and clf.metrics["vocabulary"] == len(clf.state.vocab)
    assert np.isfinite(clf.metrics["test"]["logistic"]["roc_auc"])
    multi = SequenceClassifier(**{**FAST, "label_col": ["acid", "ring"]}, smiles_col="smiles").fit(
        df, quiet=True
    )
    assert multi.state.multilabel and len(multi.metrics["test"]["model"]["per_label"]) == 2
    proba = multi.predict_proba(df.head(4))
    assert list(proba.columns[-2:]) == ["p_acid", "p_ring"]


@pytest.mark.parametrize(
    "smiles, features, model",
    [
        (False, "raw", "logistic"),
        (True, "raw", "logistic"),
        (False, "minirocket", "logistic"),
        (False, "raw", "ridge"),
        (False, "minirocket", "ridge"),
        (False, "minirocket+diff", "ridge"),
    ],
)
def test_the_linear_path_is_fused_into_the_prediction_and_saved(tmp_path, smiles, features, model):
    df = smiles_table() if smiles else waves()
    settings = {**FAST, "label_col": "acid", "smiles_col": "smiles"} if smiles else FAST
    clf = SequenceClassifier(
        **settings, linear_weight=0.4, linear_features=features, linear_model=model
    )
    clf.fit(df, quiet=True)
    test = clf.metrics["test"]
    rocket, ridge = features.startswith("minirocket"), model == "ridge"
    # the named path, when not the baseline
    own_row = {features} if rocket else {"ridge"} if ridge else set()
    assert set(test) == {"model", "network", "majority", "logistic"} | own_row
    assert clf.choice.linear == (features if rocket else "ridge" if ridge else "logistic")
    path = clf.metrics["paths"][clf.choice.linear]
    assert path["penalty"] == clf.linear.model.l2 and path["classifier"] == (
        "ridge" if ridge else "logistic"
    )
    # model = the fusion of the network's probabilities (re-derived here) and the linear path's
    # logits
    x, n = clf.encode(clf.test.sequences, clf.config.smiles.tta, clf.config.train.seed + 1)
    network = clf.network_proba(x, n)
    if rocket:  # MiniRocket's features of the scaled values; the raw logistic stays a baseline row
        scaled = [clf.state.scaler.transform(v) for v in clf.test.sequences.values]
        inputs = clf.linear.rocket.transform(scaled)
        if features == "minirocket+diff":  # a second bank on the differences, written out here
            inputs = np.hstack(
                [inputs, clf.linear.rocket_diff.transform([v[1:] - v[:-1] for v in scaled])]
            )
        assert (clf.linear.rocket_diff is not None) == (features == "minirocket+diff")
        width = 9996 * (2 if features == "minirocket+diff" else 1)
        assert inputs.shape[1] == width and clf.linear.model.W.shape == (width, 3)
        assert clf.metrics["logistic_l2"] == clf.metrics["paths"]["logistic"]["penalty"]
    elif smiles:
        inputs = clf.linear.ngrams.transform(clf.test.sequences.smiles)
    else:  # the scaled values, one column per step
        inputs = np.stack([clf.state.scaler.transform(v)[:, 0] for v in clf.test.sequences.values])
    logits = inputs @ clf.linear.model.W + clf.linear.model.b
    np.testing.assert_allclose(clf.test.proba, fuse(network, logits, 0.4, False), atol=1e-12)
    assert not np.allclose(clf.test.proba, network)
    clf.save(tmp_path / "run")
    assert (tmp_path / "run" / "linear.safetensors").is_file()
    page = (tmp_path / "run" / "report.html").read_text()
    label = {"minirocket": "MiniRocket", "minirocket+diff": "MiniRocket + differences"}.get(
        features, ""
    )
    label = label or ("ridge classifier" if ridge else "logistic regression")
    assert f"model: network + {label}, w = 0.4" in page and "network alone" in page
    assert f"0.6 x the network&#x27;s log-probabilities + 0.4 x the {label}&#x27;s logits" in page
    # judged, as set
    assert "How the model was chosen" in page and f"network + {label} (w = 0.4)</td>" in page
    assert (
        "penalty (per row, by leave-one-out)" in page
    ) == ridge and "penalty (L2, by k-fold)" in page
    pd.testing.assert_frame_equal(
        clf.predict_proba(df), SequenceClassifier.load(tmp_path / "run").predict_proba(df)
    )
    (tmp_path / "run" / "linear.safetensors").unlink()
    with pytest.raises(LstmkitError, match=r"no linear\.safetensors"):
        SequenceClassifier.load(tmp_path / "run")


def phase(n=160, seed=0):
    """Two channels, the same sinusoid a quarter period apart: b leads a, or lags it; 20-40 steps.
    Each channel alone (and their sum) is a sinusoid of random phase in both classes, so the values'
    logistic regression and MiniRocket (whose kernels sum channels) are at chance (0.48-0.57 on
    200 test rows): only how the two move together tells the classes apart."""
    rng = np.random.default_rng(seed)
    parts = []
    for k in range(n):
        L, w, p = rng.integers(20, 41), rng.uniform(0.3, 0.6), rng.uniform(0, 2 * np.pi)
        t, lead = np.arange(L), k % 2
        a, b = np.sin(w * t + p), np.sin(w * t + p + (np.pi / 2 if lead else -np.pi / 2))
        parts.append(
            pd.DataFrame(
                {
                    "sid": k,
                    "step": t,
                    "a": a + rng.normal(0, 0.1, L),
                    "b": b + rng.normal(0, 0.1, L),
                    "y": "leads" if lead else "lags",
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


PHASE = dict(label_col="y", id_col="sid", time_col="step", hidden_size=16, epochs=15, patience=5)


def test_the_network_is_chosen_where_only_it_can_tell_the_classes_apart():
    clf = SequenceClassifier(**PHASE).fit(phase(), test=phase(200, seed=1), quiet=True)
    test, chosen = clf.metrics["test"], clf.metrics["selection"]
    # 0.48-0.57
    assert max(test[k]["accuracy"] for k in ("logistic", "minirocket", "minirocket+diff")) < 0.7
    # 1.00: the network, alone or fused
    assert clf.choice.weight < 1 and test["model"]["accuracy"] > 0.95
    # five networks, one per fold, each judged on the fold it did not see: every training row
    assert len(clf.model) == 5 == chosen["members"] and chosen["judged"]["network"]["rows"] == 160
    best = min((v["criterion"], k) for k, v in chosen["judged"].items())[1]
    w = clf.choice.weight
    assert best == ("network" if w == 0 else f"network + {clf.choice.linear} (w = {w:g})")
    np.testing.assert_allclose(clf.test.proba.sum(1), 1.0)


def test_a_network_at_chance_is_dropped_and_the_report_says_so(tmp_path):
    # a learning rate that leaves the network where it started: every row gets about the same answer
    clf = SequenceClassifier(**{**FAST, "epochs": 2}, lr=1e-9).fit(waves(), quiet=True)
    # the first fold's network, not trained further
    assert clf.choice.weight == 1 and len(clf.model) == 1
    (note,) = clf.metrics["selection"]["notes"]
    assert re.fullmatch(
        r"the network collapsed to chance on the first fold \(\d\d sequences\); "
        r"the network was not trained on the other 4 folds",
        note,
    )
    clf.save(tmp_path / "run")
    assert "the network collapsed to chance" in (tmp_path / "run" / "report.html").read_text()
    with_val = SequenceClassifier(**{**FAST, "epochs": 2}, lr=1e-9, cv_max_rows=0).fit(
        waves(), quiet=True
    )
    assert with_val.choice.weight == 1
    assert with_val.metrics["selection"]["notes"][0].startswith(
        "the network collapsed to chance on its 12 held-out"
    )


def test_uea_ts_files_multivariate_of_varying_length(tmp_path):
    """A .ts file (the UCR/UEA archive's format) is read with aeon's loader into a long table."""
    pytest.importorskip("aeon")
    rng = np.random.default_rng(0)

    def write(path, n, seed):
        lines = [
            "@problemName toy",
            "@timeStamps false",
            "@missing false",
            "@univariate false",
            "@dimensions 2",
            "@equalLength false",
            "@classLabel true up down",
            "@data",
        ]
        for k in range(n):
            L = 12 + (k + seed) % 9
            trend = np.linspace(0, 1, L) * (1 if k % 2 else -1)
            a, b = trend + rng.normal(0, 0.2, L), rng.normal(0, 1, L)
            lines.append(
                ",".join(f"{v:.4f}" for v in a)
                + ":"
                + ",".join(f"{v:.4f}" for v in b)
                + (":up" if k % 2 else ":down")
            )
        path.write_text("\n".join(lines) + "\n")

    write(tmp_path / "toy_TRAIN.ts", 40, 0)
    write(tmp_path / "toy_TEST.ts", 20, 3)
    train, test = str(tmp_path / "toy_TRAIN.ts"), str(tmp_path / "toy_TEST.ts")
    clf = SequenceClassifier(**{**FAST, "label_col": None}).fit(train, test=test, quiet=True)
    assert (
        clf.state.channels == ["dim_0", "dim_1"]
        and clf.state.classes == ["down", "up"]
        and clf.state.max_length == 20
    )
    assert (
        clf.metrics["test"]["model"]["n"] == 20 and clf.metrics["test"]["model"]["accuracy"] > 0.85
    )
    lengths = [len(v) for v in clf.test.sequences.values]
    assert min(lengths) == 12 and max(lengths) == 20  # each sequence at its own length
    proba = clf.predict_proba(str(tmp_path / "toy_TEST.ts"))
    np.testing.assert_allclose(proba[["p_down", "p_up"]].to_numpy(), clf.test.proba)


def test_a_ts_file_without_aeon_or_malformed_is_one_line(tmp_path, monkeypatch):
    import sys

    (tmp_path / "bad.ts").write_text("@problemName x\n@data\n1,2,3:nolabel:extra\n")
    pytest.importorskip("aeon")
    with pytest.raises(LstmkitError, match=r"^--data: could not read .*bad\.ts: "):
        SequenceClassifier(**FAST).fit(str(tmp_path / "bad.ts"), quiet=True)
    with pytest.raises(LstmkitError, match=r"^--data: file not found"):
        SequenceClassifier(**FAST).fit(str(tmp_path / "none.ts"), quiet=True)
    monkeypatch.setitem(sys.modules, "aeon.datasets", None)  # as if aeon were not installed
    with pytest.raises(
        LstmkitError, match=r"^--data: \.ts files are read with aeon: pip install 'lstmkit\[ts\]'$"
    ):
        SequenceClassifier(**FAST).fit(str(tmp_path / "bad.ts"), quiet=True)


def test_an_embedded_data_sets_settings_fill_only_what_the_user_left_open():
    clf = SequenceClassifier(conv_channels=8)
    train, test, name = clf._tables("ecg5000", None)
    model = clf.config.model
    assert (
        model.conv_channels == 8
        and model.pooling == "mean+max"
        and clf.config.train.class_weights == "none"
    )
    assert (
        len(train) == 500
        and len(test) == 4500
        and clf.config.data.label_col == ["label"]
        and name == "ecg5000"
    )
    with pytest.raises(LstmkitError, match="is a forecast data set; use `lstmkit forecast`"):
        SequenceClassifier()._tables("weather-nyc-hourly", None)


def test_groups_never_straddle_the_split(tmp_path):
    df = waves(120)
    df.insert(1, "patient", [f"p{k % 30}" for k in range(120)])  # 30 patients, 4 beats each
    clf = SequenceClassifier(**FAST, group_col="patient")
    (train, _), (val, _), (test, _) = clf.split(df)["parts"].values()
    seen = [set(df.patient.iloc[p.ids]) for p in (train, val, test)]
    assert not (seen[0] & seen[1] or seen[0] & seen[2] or seen[1] & seen[2])
    # ... nor the folds of the training rows (small data: no validation part)
    folds = clf.split(df)["folds"]
    patients = df.patient.iloc[train.ids].to_numpy()
    assert all(len(set(folds[patients == p])) == 1 for p in set(patients)) and len(set(folds)) == 5
    clf.fit(df, quiet=True)
    s = clf.state
    assert s.split["groups"] == 30 and s.channels == ["value"] and s.max_length == 24  # not a value
    assert len(clf.predict_proba(df.drop(columns="patient"))) == 120  # not needed to predict
    clf.save(tmp_path / "run")
    assert "30 groups of patient" in (tmp_path / "run" / "report.html").read_text()
    # SMILES: one molecule (canonical string) is one group, written twice or not
    molecules = SequenceClassifier(**{**FAST, "label_col": "acid", "smiles_col": "smiles"})
    parts = molecules.split(smiles_table())["parts"]
    strings = [set(seqs.smiles) for seqs, _ in parts.values()]
    assert not (strings[0] & strings[1] or strings[0] & strings[2] or strings[1] & strings[2])
    if has_rdkit():  # ... or one Bemis-Murcko scaffold is (benzene rings here, and the acyclic "")
        from lstmkit.data.smiles import scaffolds

        by_scaffold = SequenceClassifier(
            **{**FAST, "label_col": "acid", "smiles_col": "smiles"}, split_by="scaffold"
        )
        split = by_scaffold.split(smiles_table())
        kinds = [set(scaffolds(seqs.smiles)) for seqs, _ in split["parts"].values()]
        assert (
            not (kinds[0] & kinds[1] or kinds[0] & kinds[2] or kinds[1] & kinds[2])
            and split["groups"] == 2
        )


def test_minirocket_features_are_for_numeric_sequences():
    with pytest.raises(
        LstmkitError, match="--linear-features minirocket: reads numeric sequences, not SMILES"
    ):
        settings = {
            **FAST,
            "label_col": "acid",
            "smiles_col": "smiles",
            "linear_features": "minirocket",
        }
        SequenceClassifier(**settings).fit(smiles_table(), quiet=True)


def test_unseen_class_at_predict_time_is_refused():
    clf = SequenceClassifier(**FAST).fit(waves(), quiet=True)
    new = waves(6, seed=2)
    new.loc[0, "kind"] = "triangle"
    with pytest.raises(LstmkitError, match="classes triangle not seen in training"):
        clf.predict_proba(new)


# ---- acceptance on the embedded data (slow) ---------------------------------------------------
# The targets are means over seeds (benchmarks/classify.py, docs/classify.md); one seed here.


@pytest.mark.slow
def test_ecg5000_the_embedded_fusion_beats_its_parts_where_the_rare_classes_are():
    clf = SequenceClassifier(seed=0).fit("ecg5000", quiet=True)  # the data set's measured settings
    test, chosen = clf.metrics["test"], clf.metrics["selection"]
    # 500 training beats: large data, one network early-stopped on a validation part
    assert clf.state.split == {
        "train": 449,
        "val": 51,
        "test": 4500,
        "given_test_file": True,
        "groups": None,
        "folds": 5,
    }
    # set, not chosen: docs/classify.md
    assert (clf.choice.linear, clf.choice.weight) == (
        "minirocket+diff",
        0.5,
    )
    assert (
        chosen["judged"]["minirocket+diff"]["rows"] == 500
        and chosen["judged"]["network"]["rows"] == 51
    )
    # each part alone
    assert test["network"]["accuracy"] > 0.935 and test["minirocket+diff"]["accuracy"] > 0.94
    # the fusion: above the network (3 of 3 seeds in the benchmark), and the better ranking of both
    assert (
        test["model"]["accuracy"] > test["network"]["accuracy"]
        and test["model"]["accuracy"] > 0.944
    )
    assert test["model"]["roc_auc"] > max(
        test["network"]["roc_auc"], test["minirocket+diff"]["roc_auc"]
    )
    assert test["model"]["balanced_accuracy"] > test["logistic"]["balanced_accuracy"]


@pytest.mark.slow
@pytest.mark.skipif(not has_rdkit(), reason="canonical SMILES need RDKit")
def test_clintox_on_canonical_smiles():
    clf = SequenceClassifier(seed=1).fit("clintox", quiet=True)
    assert clf.config.data.smiles_col == "canonical_smiles" and clf.config.smiles.augment == 20
    test = clf.metrics["test"]
    assert test["network"]["roc_auc"] > 0.85  # the network alone
    assert test["model"]["roc_auc"] > max(
        test["network"]["roc_auc"] - 0.01, test["logistic"]["roc_auc"] - 0.01
    )


def aeon_split(name):
    aeon = pytest.importorskip("aeon")
    folder = pathlib.Path(aeon.__file__).parent / "datasets" / "data" / name
    return str(folder / f"{name}_TRAIN.ts"), str(folder / f"{name}_TEST.ts")


@pytest.mark.slow
# minirocket: MiniRocket on the official split, its authors' result file (GunPoint, ArrowHead),
# aeon's MiniRocket measured here (BasicMotions)
@pytest.mark.parametrize(
    "name, minirocket",
    [
        ("GunPoint", 0.9933),
        ("ArrowHead", 0.8629),
        ("BasicMotions", 1.0),
    ],
)
def test_defaults_on_small_public_sets_beat_their_baselines_at_minirockets_level(name, minirocket):
    """Data the classifier was never tuned on (UCR/UEA sets shipped inside aeon, official splits):
    the defaults beat the logistic baseline and the majority class by a margin, within 0.01 of
    MiniRocket (benchmarks/ucr.py has every set and the published tables)."""
    train, test = aeon_split(name)
    clf = SequenceClassifier().fit(train, test=test, quiet=True)
    acc = {k: v["accuracy"] for k, v in clf.metrics["test"].items()}
    assert acc["model"] >= acc["logistic"] + 0.05 and acc["model"] >= acc["majority"] + 0.4
    assert acc["model"] >= minirocket - 0.01
    assert clf.metrics["selection"]["how"].startswith("5-fold cross-validation on the")
