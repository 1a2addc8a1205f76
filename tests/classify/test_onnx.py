"""`lstmkit export` of classifiers: classifier.onnx in onnxruntime, fed as a user without lstmkit
would feed it (raw values; SMILES tokenised with classifier.json's pattern and vocabulary), gives
predict_proba's probabilities; what the graph cannot hold is one line."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest

from cli_support import run
from helpers import smiles_table, waves
from lstmkit import LstmkitError
from lstmkit.classify.estimator import SequenceClassifier
from lstmkit.classify.onnx import export_classifier

ort = pytest.importorskip("onnxruntime")

NETWORK = dict(hidden_size=8, epochs=2, linear_weight=0, cv_max_rows=0)


def session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def test_values_raw_in_probabilities_out(tmp_path):
    """Unequal lengths in one batch, a CNN front end, the FCN branch and mean+max pooling."""
    df = waves(90)
    df.iloc[::3, -6:] = np.nan  # every third sequence 6 steps shorter (a wide table's NaN tail)
    df.to_csv(tmp_path / "waves.csv", index=False)
    clf = SequenceClassifier(
        label_col="kind",
        ragged=True,
        conv_channels=4,
        fcn_channels=4,
        pooling="mean+max",
        **NETWORK,
    ).fit(str(tmp_path / "waves.csv"), quiet=True)
    clf.save(tmp_path / "run")
    result = run("export", "--run", str(tmp_path / "run"))
    assert result.exit_code == 0, result.output
    card = json.loads((tmp_path / "run" / "classifier.json").read_text())
    assert card["graphs"]["classifier.onnx"]["max_abs_diff"] <= 1e-5
    values = df.drop(columns="kind").to_numpy(np.float32)
    lengths = (~np.isnan(values)).sum(1)
    x = np.nan_to_num(values)[:, :, None]
    got = session(tmp_path / "run" / "classifier.onnx").run(None, {"x": x, "lengths": lengths})[0]
    want = clf.predict_proba(df.drop(columns="kind"))
    np.testing.assert_allclose(got, want[[f"p_{c}" for c in card["classes"]]], atol=1e-5)


def test_smiles_tokenised_with_the_cards_vocabulary(tmp_path):
    df = smiles_table()[["smiles", "acid"]]
    df.to_csv(tmp_path / "smiles.csv", index=False)
    clf = SequenceClassifier(
        smiles_col="smiles", label_col="acid", bidirectional=True, pooling="last",
        canonical=False, **NETWORK,
    ).fit(str(tmp_path / "smiles.csv"), quiet=True)  # fmt: skip
    card = export_classifier(clf, tmp_path)
    pattern, vocab = re.compile(card["tokenizer"]["pattern"]), card["vocab"]

    def ids(smiles):  # the tokenizer in plain Python, as docs/deploy.md describes it
        out, pos = [], 0
        while pos < len(smiles):
            m = pattern.match(smiles, pos)
            token = m.group() if m else card["tokenizer"]["unknown"]
            pos = m.end() if m else pos + 1
            out.append(vocab.get(token, vocab[card["tokenizer"]["unknown"]]))
        return out

    encoded = [ids(s) for s in df.smiles]
    L = max(map(len, encoded))
    x = np.array([e + [0] * (L - len(e)) for e in encoded], np.int64)
    lengths = np.array([len(e) for e in encoded], np.int64)
    got = session(tmp_path / "classifier.onnx").run(None, {"x": x, "lengths": lengths})[0]
    want = clf.predict_proba(df[["smiles"]])
    np.testing.assert_allclose(got, want[[f"p_{c}" for c in card["classes"]]], atol=1e-5)


def test_what_the_graph_cannot_hold_is_one_line(tmp_path):
    df = waves(60)
    clf = SequenceClassifier(label_col="kind", **NETWORK).fit(df, quiet=True)
    clf.choice = dataclasses.replace(clf.choice, linear="minirocket", weight=0.4)  # fused
    with pytest.raises(LstmkitError, match="fuses its networks with the linear path") as err:
        export_classifier(clf, tmp_path, df)
    assert "\n" not in str(err.value)
    variant = SequenceClassifier(label_col="kind", cell="peephole", **NETWORK).fit(df, quiet=True)
    with pytest.raises(LstmkitError, match="no ONNX op over a dynamic time axis"):
        export_classifier(variant, tmp_path, df)
    assert not list(tmp_path.glob("*.onnx"))
