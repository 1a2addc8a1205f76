"""Labelled sequences from wide, long, UCR and SMILES tables; labels; stratified splits."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from lstmkit import LstmkitError
from lstmkit import datasets as data
from lstmkit.data.sequences import (
    encode_labels,
    pad,
    read_labelled_table,
    sequences_from_table,
    stratified_split,
)


def wide(n=6, L=5):
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(n, L)), columns=[f"t{k}" for k in range(L)])
    df.insert(0, "label", ["a", "b"] * (n // 2))
    return df


def test_wide_table():
    lab = sequences_from_table(wide(), ["label"])
    assert len(lab.sequences) == 6 and lab.sequences.values[0].shape == (5, 1)
    assert lab.labels["label"].tolist() == ["a", "b"] * 3


def test_ucr_tsv_without_header(tmp_path):
    path = tmp_path / "X_TRAIN.tsv"
    path.write_text("1\t0.5\t0.25\t-1\n2\t1.5\t2.5\t3\n")
    df = read_labelled_table(path)
    assert list(df.columns) == ["label", "t000", "t001", "t002"]
    lab = sequences_from_table(df, ["label"])
    np.testing.assert_allclose(lab.sequences.values[1][:, 0], [1.5, 2.5, 3])


def test_rows_of_unequal_length_are_named_or_masked_with_ragged(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("label,a,b,c\nx,1,2,3\ny,1,2,\nx,1,,\ny,4,5,6\n")
    df = read_labelled_table(path)
    with pytest.raises(
        LstmkitError, match=r"rows 1, 2 are shorter than the header's 3 values.*--ragged"
    ):
        sequences_from_table(df, ["label"])
    lab = sequences_from_table(df, ["label"], ragged=True)
    assert lab.sequences.lengths.tolist() == [3, 2, 1, 3]


def test_holes_in_a_row_are_refused():
    df = wide()
    df.loc[2, "t1"] = np.nan
    with pytest.raises(LstmkitError, match="rows 2 have blanks between values"):
        sequences_from_table(df, ["label"], ragged=True)


def test_non_numeric_values_name_column_and_row():
    df = wide()
    df["t3"] = df["t3"].astype(object)
    df.loc[4, "t3"] = "n/a"
    with pytest.raises(LstmkitError, match=r"column 't3' is not numeric \(row 4: 'n/a'\)"):
        sequences_from_table(df, ["label"])


def test_missing_label_column_lists_the_available_ones():
    with pytest.raises(
        LstmkitError, match=r"label_col: no column 'diagnosis'.*available: label, t0"
    ):
        sequences_from_table(wide(), ["diagnosis"])


def test_long_table_groups_by_id_in_time_order():
    df = pd.DataFrame(
        {
            "pid": [1, 1, 1, 2, 2],
            "t": [2, 0, 1, 0, 1],
            "hr": [3.0, 1, 2, 5, 6],
            "spo2": [9.0, 7, 8, 1, 2],
            "dx": ["x", "x", "x", "y", "y"],
        }
    )
    lab = sequences_from_table(df, ["dx"], id_col="pid", time_col="t")
    assert lab.sequences.channels == ["hr", "spo2"] and lab.sequences.ids.tolist() == [1, 2]
    np.testing.assert_array_equal(lab.sequences.values[0], [[1, 7], [2, 8], [3, 9]])
    assert lab.labels["dx"].tolist() == ["x", "y"]
    df.loc[1, "dx"] = "y"
    with pytest.raises(LstmkitError, match="label changes within id 1"):
        sequences_from_table(df, ["dx"], id_col="pid", time_col="t")


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda df: df.assign(t=[2, 0, 0, 0, 1]),
            "--data: id 1 has time 0 twice; one row per id and time step",
        ),
        # rows dropped, once
        (
            lambda df: df.assign(pid=[1, None, 1, 2, 2]),
            "--data: column 'pid' is empty in row 1",
        ),
        # sorted last, once
        (
            lambda df: df.assign(t=[2, 0, None, 0, 1]),
            "--data: column 't' is empty in row 2",
        ),
    ],
)
def test_long_table_refuses_a_step_twice_or_a_blank_id_or_time(edit, message):
    df = pd.DataFrame(
        {"pid": [1, 1, 1, 2, 2], "t": [2, 0, 1, 0, 1], "hr": [3.0, 1, 2, 5, 6], "dx": list("xxxyy")}
    )
    with pytest.raises(LstmkitError, match=f"^{re.escape(message)}$"):
        sequences_from_table(edit(df), ["dx"], id_col="pid", time_col="t")


def test_empty_and_unparsable_smiles_are_found_and_refused_by_row():
    from lstmkit.data.smiles import refuse_unparsable, unparsable

    df = pd.DataFrame({"smiles": ["CCO", None, "CCN", "C1CC"], "y": [0, 1, 0, 1]})
    smiles = sequences_from_table(df, ["y"], smiles_col="smiles").sequences.smiles
    assert smiles[1] == ""  # read as empty; skipped or refused by --invalid
    assert unparsable(smiles) == [1, 3]  # C1CC: a ring never closed
    with pytest.raises(LstmkitError, match=r"^--data: column 'smiles' row 1: an empty SMILES$"):
        refuse_unparsable(smiles, "smiles", "--data")
    with pytest.raises(LstmkitError, match="row 1: RDKit cannot parse SMILES 'C1CC'"):
        refuse_unparsable(smiles[2:], "smiles", "--data")


def test_labels_single_class_unseen_and_multilabel():
    y, classes = encode_labels(pd.DataFrame({"c": ["b", "a", "b"]}), None)
    assert classes == ["a", "b"] and y.tolist() == [1, 0, 1]
    with pytest.raises(LstmkitError, match="single class 'a'"):
        encode_labels(pd.DataFrame({"c": ["a", "a"]}), None)
    with pytest.raises(LstmkitError, match="classes z not seen in training"):
        encode_labels(pd.DataFrame({"c": ["a", "z"]}), ["a", "b"])
    y, names = encode_labels(pd.DataFrame({"t1": [0, 1, None], "t2": [1.0, None, 0]}), None)
    assert names == ["t1", "t2"] and np.isnan(y[2, 0]) and np.isnan(y[1, 1]) and y[1, 0] == 1
    with pytest.raises(LstmkitError, match="'t2' row 0: expected 0, 1 or blank"):
        encode_labels(pd.DataFrame({"t1": [0, 1], "t2": [2, 0]}), None)


def test_stratified_split_keeps_class_shares_and_every_row_once():
    y = np.array([0] * 90 + [1] * 10)
    val, test, train = stratified_split(y, (0.1, 0.2), seed=3)
    assert sorted(np.concatenate([val, test, train]).tolist()) == list(range(100))
    assert y[test].sum() == 2 and y[val].sum() == 1 and len(test) == 20
    again = stratified_split(y, (0.1, 0.2), seed=3)
    assert all((a == b).all() for a, b in zip(again, (val, test, train), strict=True))


def test_a_grouped_split_keeps_each_group_in_one_part():
    rng = np.random.default_rng(0)
    y = np.array([0] * 160 + [1] * 40)
    # patients of 4 recordings, one class each
    groups = np.array([f"p{k // 4}" for k in range(200)])
    val, test, train = stratified_split(y, (0.1, 0.2), seed=1, groups=groups)
    assert sorted(np.concatenate([val, test, train]).tolist()) == list(range(200))
    for a, b in ((val, test), (val, train), (test, train)):
        assert not set(groups[a]) & set(groups[b])
    assert len(test) == 40 and len(val) == 20 and y[test].sum() == 8  # whole groups, shares kept
    # every row its own group: the same draw as no groups at all
    plain, single = (
        stratified_split(y, (0.1, 0.2), 5),
        stratified_split(y, (0.1, 0.2), 5, np.arange(200)),
    )
    assert all((a == b).all() for a, b in zip(plain, single, strict=True))
    uneven = rng.integers(0, 30, 200)  # groups of uneven size still land whole
    parts = stratified_split(y, (0.1, 0.2), seed=2, groups=uneven)
    assert all(not set(uneven[a]) & set(uneven[b]) for a in parts for b in parts if a is not b)


def test_a_group_column_is_read_per_sequence_and_never_a_value():
    df = wide()
    df["patient"] = ["x", "x", "y", "y", "z", "z"]
    lab = sequences_from_table(df, ["label"], group_col="patient")
    assert lab.groups.tolist() == ["x", "x", "y", "y", "z", "z"] and lab.sequences.values[
        0
    ].shape == (5, 1)
    df.loc[3, "patient"] = None
    with pytest.raises(LstmkitError, match="column 'patient' has blanks"):
        sequences_from_table(df, ["label"], group_col="patient")
    with pytest.raises(LstmkitError, match="group_col: no column 'ward'"):
        sequences_from_table(df, ["label"], group_col="ward")
    long = pd.DataFrame(
        {
            "id": [1, 1, 2, 2],
            "t": [0, 1, 0, 1],
            "v": [0.1, 0.2, 0.3, 0.4],
            "label": [0, 0, 1, 1],
            "patient": ["a", "a", "a", "b"],
        }
    )
    with pytest.raises(LstmkitError, match="column 'patient' changes within id 2"):
        sequences_from_table(long, ["label"], id_col="id", time_col="t", group_col="patient")
    long.loc[3, "patient"] = "a"
    lab = sequences_from_table(long, ["label"], id_col="id", time_col="t", group_col="patient")
    assert lab.groups.tolist() == ["a", "a"] and lab.sequences.channels == ["v"]


def test_pad_right_pads_with_zeros():
    x, n = pad([np.ones((2, 1)), np.ones((4, 1))])
    assert x.shape == (2, 4, 1) and n.tolist() == [2, 4] and x[0, 2:].sum() == 0


@pytest.mark.parametrize("name", ["ecg5000", "clintox"])
def test_embedded_classification_datasets_ship_with_provenance(name):
    info = data.get(name)
    df = data.load(name)
    assert info.task == "classify" and info.label in df.columns
    assert info.provenance.is_file() and "licen" in info.provenance.read_text().lower()
    if name == "ecg5000":
        assert df.shape == (500, 141) and info.test_path.is_file()
    else:  # original and canonical SMILES side by side
        assert {"smiles", "canonical_smiles"} <= set(df.columns) and len(df) == 1478


def test_a_table_without_any_label_column_says_which_option_to_give():
    df = wide().rename(columns={"label": "kind"})
    with pytest.raises(LstmkitError, match="label_col: name the column"):
        sequences_from_table(df, [])
