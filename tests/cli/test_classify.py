"""`lstmkit classify` and `predict` on a classifier run: end to end, one-line errors."""

from __future__ import annotations

import json

import pytest

from cli_support import run, small_classify, wide_csv


@pytest.mark.parametrize(
    "extra",
    [
        [],
        ["--linear-weight", "0.5", "--linear-features", "minirocket"],
        [
            "--linear-weight",
            "0.5",
            "--linear-features",
            "minirocket+diff",
            "--linear-model",
            "ridge",
        ],
    ],
)
def test_classify_and_predict_end_to_end(tmp_path, extra):
    data, out = wide_csv(tmp_path / "beats.csv"), tmp_path / "run"
    r = small_classify(data, out, *extra, epochs=2, hidden_size=8)
    assert "logistic" in r.output and "majority" in r.output and "report:" in r.output
    assert (
        "network alone" in r.output
        and "model: " in r.output
        and "chosen by 5-fold cross-validation" in r.output
    )
    if extra:  # the fused model as set, and the named path's row
        assert (
            "model: the network fused with the MiniRocket" in r.output
            and "path (w = 0.5)" in r.output
        )
    metrics = json.loads((out / "metrics.json").read_text())
    named = extra[extra.index("--linear-features") + 1] if extra else None
    assert set(metrics["paths"]) == (
        {"logistic", named} if extra else {"logistic", "minirocket", "minirocket+diff"}
    )
    assert all(
        p["classifier"] == ("logistic" if n == "logistic" else "ridge")
        for n, p in metrics["paths"].items()
    )
    assert {"accuracy", "balanced_accuracy", "macro_f1", "roc_auc"} <= set(metrics["test"]["model"])
    assert "train_seconds" in metrics and (out / "plots" / "confusion.png").is_file()
    r = run("predict", "--run", str(out), "--data", str(data), "--out", str(tmp_path / "p.csv"))
    assert r.exit_code == 0, r.output
    assert (tmp_path / "p.csv").read_text().startswith("id,actual,predicted,p_a,p_b")


def test_classify_training_options_reach_the_config(tmp_path):
    data, out = wide_csv(tmp_path / "beats.csv"), tmp_path / "run"
    small_classify(data, out, "--no-cosine", "--label-smoothing", "0.1", epochs=2, hidden_size=8)
    cfg = json.loads((out / "config.json").read_text())["config"]["train"]
    assert cfg["cosine"] is False and cfg["label_smoothing"] == 0.1


BAD_CLASSIFY = [
    (["--data", "nope.csv"], "error: --data: file not found: nope.csv"),
    (["--label-col", "diagnosis"], "error: --label-col: no column 'diagnosis'"),
    (["ONECLASS"], "error: --data: column 'label' has a single class 'a'"),
    (["SHORTROW"], "error: --data: rows 2 are shorter than the header's 12 values"),
    (["TEXT"], "error: --data: column 't4' is not numeric (row 1: 'high')"),
    (["--pooling", "sum"], "error: Invalid value for '--pooling'"),
    (["--cell", "lsmt"], "error: --cell: unknown cell 'lsmt'"),
    (
        ["--linear-weight", "1.5"],
        "error: --linear-weight: expected auto or a number in [0, 1], got 1.5",
    ),
    (["--cv-folds", "1"], "error: --cv-folds: input should be greater than or equal to 2, got 1"),
    (["--linear-features", "fft"], "error: Invalid value for '--linear-features'"),
    (["--linear-model", "svm"], "error: Invalid value for '--linear-model'"),
    (["--group-col", "ward"], "error: --group-col: no column 'ward' in"),
    # once from inside torch.optim
    (
        ["--lr", "-1"],
        "error: --lr: input should be greater than 0, got -1.0",
    ),
    (
        ["--weight-decay", "-1"],
        "error: --weight-decay: input should be greater than or equal to 0, got -1.0",
    ),
    # once torch's RuntimeError
    (
        ["--threads", "0"],
        "error: --threads: input should be greater than 0, got 0",
    ),
    (["--label-smoothing", "1"], "error: --label-smoothing: input should be less than 1, got 1.0"),
    (["INF"], "error: --data: column 't4' holds an infinite value (row 1); values must be finite"),
]


@pytest.mark.parametrize("args, message", BAD_CLASSIFY, ids=[m[:40] for _, m in BAD_CLASSIFY])
def test_bad_classify_input_is_one_line(tmp_path, args, message):
    edits = {
        "ONECLASS": None,
        "SHORTROW": {2: "a,1,2,3"},
        "TEXT": {1: "b,1,2,3,4,high,6,7,8,9,10,11,12"},
        "INF": {1: "b,1,2,3,4,inf,6,7,8,9,10,11,12"},
    }
    path = tmp_path / "d.csv"
    if "ONECLASS" in args:
        path.write_text("label,t0,t1\na,1,2\na,3,4\n")
    else:
        wide_csv(path, next((edits[a] for a in args if a in edits), None))
    args = [a for a in args if a not in edits]
    base = [] if "--data" in args else ["--data", str(path)]
    r = run("classify", *base, *args, "--epochs", "1", "--quiet", "--out", str(tmp_path / "run"))
    assert r.exit_code == 2, r.output
    assert r.output.strip().startswith(message) and "Traceback" not in r.output, r.output
    assert len(r.output.strip().splitlines()) == 1, r.output


def test_predict_with_unseen_classes_or_empty_smiles_is_one_line(tmp_path):
    data, out = wide_csv(tmp_path / "d.csv"), tmp_path / "run"
    small_classify(data, out)
    new = wide_csv(tmp_path / "new.csv", {0: "zz," + ",".join(["0.1"] * 12)})
    r = run("predict", "--run", str(out), "--data", str(new))
    assert r.exit_code == 2 and r.output.startswith(
        "error: --data: column 'label' has classes zz not seen"
    ), r.output
    smiles = tmp_path / "s.csv"
    smiles.write_text("smiles,y\nCCO,1\n,0\nCCN,0\n")
    r = run(
        "classify",
        "--data",
        str(smiles),
        "--smiles-col",
        "smiles",
        "--label-col",
        "y",
        "--quiet",
        "--invalid",
        "error",
    )
    assert r.exit_code == 2 and "row 1: an empty SMILES" in r.output, r.output


# a SMILES from a 7,800-row set that RDKit refuses (a carbon with a charge it cannot hold)
UNPARSABLE = "C[N+]1(C)CCC[C@H](OC(=O)[C+](O)(c2ccccc2)c2ccccc2)C1"


def test_smiles_rdkit_cannot_parse_are_skipped_counted_and_listed(tmp_path):
    """One such SMILES made `lstmkit classify` refuse the whole file."""
    import json

    from helpers import smiles_table

    df = smiles_table()
    df.loc[3, "smiles"] = UNPARSABLE
    df.loc[7, "smiles"] = ""
    data = tmp_path / "tox.csv"
    df.to_csv(data, index=False)
    options = ("--smiles-col", "smiles", "--label-col", "acid", "--embed-dim", "4")
    r = small_classify(data, tmp_path / "run", *options)
    assert f"skipped 2 SMILES RDKit cannot parse in --data: 3 ({UNPARSABLE[:77]}" in r.output
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert [row["id"] for row in metrics["invalid_smiles"]["data"]] == ["3", "7"]
    assert sum(metrics["split"][k] for k in ("train", "val", "test")) == len(df) - 2
    r = run(
        "classify",
        "--data",
        str(data),
        *options,
        "--invalid",
        "error",
        "--quiet",
        "--out",
        str(tmp_path / "strict"),
    )
    assert r.exit_code == 2 and r.stderr.strip() == (
        f"error: --data: column 'smiles' row 3: RDKit cannot parse SMILES {UNPARSABLE!r}"
    ), r.output
