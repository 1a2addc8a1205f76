"""Labelled sequences from tables: wide (one row per sequence), long (id, time, channels) or SMILES.

    wide    label, v0, v1, ... v139          UCR style; CSV, Parquet, or the header-less UCR .tsv
    long    id, time, channel..., label      one row per time step; the label is constant per id
    smiles  smiles, label[, label2 ...]      one molecule per row

One label column gives single-label classes; several give multi-label 0/1 targets in which a
blank is a *missing* label (masked out of the loss, Tox21 style), not a negative.

Every problem is reported in one line naming the file, the column or the rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import LstmkitError, SettingError, cut
from .io import MAX_ABS, column_span, data_file, read_table, too_large

__all__ = [
    "TS_COLUMNS",
    "Labelled",
    "Sequences",
    "encode_labels",
    "pad",
    "read_labelled_table",
    "sequences_from_table",
    "stratified_split",
]


@dataclass
class Sequences:
    """What a classifier reads: a list of sequences, each (L_i, C) float32 or (L_i,) token ids."""

    values: list[np.ndarray]
    ids: np.ndarray  # one per sequence: row number (wide, smiles) or the id column's value (long)
    channels: list[str]
    smiles: list[str] | None = None  # the strings as given, when the input is SMILES

    def __len__(self) -> int:
        return len(self.values)

    @property
    def lengths(self) -> np.ndarray:
        return np.array([len(v) for v in self.values], dtype=np.int64)

    def subset(self, rows) -> Sequences:
        rows = np.asarray(rows)
        smiles = [self.smiles[r] for r in rows] if self.smiles is not None else None
        return Sequences([self.values[r] for r in rows], self.ids[rows], self.channels, smiles)

    def concat(self, other: Sequences) -> Sequences:
        """These sequences, then `other`'s (same channels)."""
        smiles = self.smiles + other.smiles if self.smiles is not None else None
        return Sequences(
            self.values + other.values, np.concatenate([self.ids, other.ids]), self.channels, smiles
        )


@dataclass
class Labelled:
    sequences: Sequences
    labels: pd.DataFrame  # the label column(s), raw values, one row per sequence
    groups: np.ndarray | None = (
        None  # the group column's value per sequence (kept together in splits)
    )
    value_cols: list[str] | None = None  # wide tables: the value columns read, in order


TS_COLUMNS = ("id", "step")  # the long table a .ts file becomes: id, step, dim_0, dim_1, ..., label


def read_labelled_table(source, where: str = "--data") -> pd.DataFrame:
    """As data.io.read_table, except that .tsv / .txt files are the UCR archive's: no header,
    the label first, then the values (whitespace-separated in .txt); and .ts files (the UCR/UEA
    archive's own format: multivariate, of varying length) are read by aeon's loader into a long
    table, one row per step (TS_COLUMNS, a column per channel, the label)."""
    name = str(source).lower() if not isinstance(source, pd.DataFrame) else ""
    if name.endswith(".ts"):
        return read_ts(source, where)
    if not name.endswith((".tsv", ".tsv.gz", ".txt", ".txt.gz")):
        return read_table(source, where=where)
    sep = r"\s+" if ".txt" in name else "\t"
    df = read_table(source, read_options={"sep": sep, "header": None}, where=where)
    return df.rename(columns={0: "label", **{k: f"t{k - 1:03d}" for k in df.columns[1:]}})


def read_ts(path, where: str = "--data") -> pd.DataFrame:
    """A .ts file as a long table (see read_labelled_table); labels as written (strings)."""

    try:
        from aeon.datasets import load_from_ts_file
    except ImportError:
        raise LstmkitError(
            f"{where}: .ts files are read with aeon: pip install 'lstmkit[ts]'"
        ) from None
    data_file(path, where)
    try:
        X, y = load_from_ts_file(str(path))
    except Exception as err:  # aeon's own messages name the line; keep the first line of it
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise LstmkitError(f"{where}: could not read {path}: {first}") from None
    frames = []
    for k, x in enumerate(X):
        x = np.asarray(x, np.float64)  # (channels, steps)
        frame = pd.DataFrame(x.T, columns=[f"dim_{c}" for c in range(x.shape[0])])
        frame.insert(0, TS_COLUMNS[1], np.arange(x.shape[1]))
        frame.insert(0, TS_COLUMNS[0], k)
        if y is not None and len(y):
            frame["label"] = y[k]
        frames.append(frame)
    if not frames:
        raise LstmkitError(f"{where}: {path} holds no series")
    return pd.concat(frames, ignore_index=True)


def _need(df: pd.DataFrame, cols: list[str], setting: str, where: str) -> None:
    """The columns a setting names must be in the table `where` names."""
    missing = [c for c in cols if c not in df.columns]
    if missing:
        available = column_span(list(df.columns))
        raise SettingError(
            setting, f"no column {cut(missing[0])!r} in {where}; available: {available}"
        )


def _numeric(df: pd.DataFrame, cols: list, where: str) -> np.ndarray:
    for c in cols:
        if not pd.api.types.is_numeric_dtype(df[c]):
            bad = pd.to_numeric(df[c], errors="coerce").isna() & df[c].notna()
            row = int(np.flatnonzero(bad.to_numpy())[0]) if bad.any() else 0
            raise LstmkitError(
                f"{where}: column {c!r} is not numeric (row {row}: {df[c].iloc[row]!r}); values "
                "must be numbers"
            )
    values = df[cols].to_numpy(np.float64)
    infinite = np.isinf(values)
    if infinite.any():  # would reach training as a NaN loss
        row, col = (int(i[0]) for i in np.nonzero(infinite))
        raise LstmkitError(
            f"{where}: column {cols[col]!r} holds an infinite value (row {row}); values must be "
            "finite"
        )
    huge = np.abs(values) > MAX_ABS  # finite in float64, but inf in float32 or squared
    if huge.any():
        row, col = (int(i[0]) for i in np.nonzero(huge))
        raise LstmkitError(f"{where}: {too_large(cols[col], row, values[row, col])}")
    return values.astype(np.float32)


def _rows(rows: np.ndarray) -> str:
    shown = ", ".join(str(r) for r in rows[:5])
    return shown + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")


def sequences_from_table(
    df: pd.DataFrame,
    label_cols: list[str],
    smiles_col: str | None = None,
    id_col: str | None = None,
    time_col: str | None = None,
    value_cols: list[str] | None = None,
    ragged: bool = False,
    where: str = "--data",
    labels_required: bool = True,
    group_col: str | None = None,
) -> Labelled:
    """Split a table into sequences and their label column(s). See the module doc for the layouts.
    group_col (never a value column): read per sequence when labels are required (training data)."""
    grouped = bool(group_col) and labels_required
    if grouped:
        _need(df, [group_col], "group_col", where)
    labelled = _sequences(
        df,
        label_cols,
        smiles_col,
        id_col,
        time_col,
        value_cols,
        ragged,
        where,
        labels_required,
        [group_col] if group_col else [],
    )
    if grouped:
        labelled.groups = _groups(df, group_col, id_col, labelled.sequences.ids, where)
    return labelled


def _groups(df, group_col, id_col, ids, where) -> np.ndarray:
    """The group column's value per sequence: per row, or per id of a long table (constant
    there)."""
    if id_col:
        per_id = df.groupby(id_col, sort=False)[group_col]
        varying = per_id.nunique(dropna=False)
        if (varying > 1).any():
            raise LstmkitError(
                f"{where}: column {group_col!r} changes within id {varying.index[varying > 1][0]}"
            )
        groups = per_id.first().loc[ids].to_numpy()
    else:
        groups = df[group_col].to_numpy()
    if pd.isna(groups).any():
        raise LstmkitError(
            f"{where}: column {group_col!r} has blanks; every sequence needs its group"
        )
    return groups


def _sequences(
    df, label_cols, smiles_col, id_col, time_col, value_cols, ragged, where, labels_required, other
):
    if not label_cols and "label" in df.columns:  # UCR files and most exports call it that
        label_cols = ["label"]
    if labels_required:
        if not label_cols:
            raise SettingError("label_col", "name the column(s) holding the class")
        _need(df, label_cols, "label_col", where)
    present = [c for c in label_cols if c in df.columns]
    if smiles_col:
        _need(df, [smiles_col], "smiles_col", where)
        # an empty cell is read as "": skipped or refused later (--invalid)
        smiles = [s if isinstance(s, str) else "" for s in df[smiles_col].tolist()]
        seqs = Sequences([np.zeros(0)] * len(smiles), np.arange(len(df)), [smiles_col], smiles)
        return Labelled(seqs, df[present].reset_index(drop=True))
    if id_col:
        return _long(df, label_cols, present, id_col, time_col, value_cols, where, other)
    return _wide(df, label_cols, present, value_cols, ragged, where, other)


def _wide(df, label_cols, present, value_cols, ragged, where, other) -> Labelled:
    cols = value_cols or [c for c in df.columns if c not in label_cols and c not in other]
    absent = [c for c in cols if c not in df.columns]
    if absent:  # named or resolved on the training file: read by name, never by position
        raise LstmkitError(
            f"{where}: no value column {absent[0]!r} ({len(absent)} of the {len(cols)} read: "
            f"{column_span(cols)}); "
            f"the file has {column_span(list(df.columns))}"
        )
    if not cols:
        raise LstmkitError(f"{where}: no value columns besides the label column(s)")
    values = _numeric(df, cols, where)
    missing = np.isnan(values)
    # a sequence may end early (trailing blanks) but may not have holes
    lengths = np.where(missing.any(1), missing.argmax(1), values.shape[1])
    holes = np.flatnonzero(
        [missing[r, lengths[r] :].sum() != values.shape[1] - lengths[r] for r in range(len(df))]
    )
    if len(holes):
        raise LstmkitError(
            f"{where}: rows {_rows(holes)} have blanks between values; fill or drop them"
        )
    short = np.flatnonzero(lengths < values.shape[1])
    if len(short) and not ragged:
        raise LstmkitError(
            f"{where}: rows {_rows(short)} are shorter than the header's {values.shape[1]} values "
            f"(e.g. row {short[0]} has {lengths[short[0]]}); pass --ragged for sequences of "
            "varying length"
        )
    if (lengths == 0).any():
        raise LstmkitError(f"{where}: rows {_rows(np.flatnonzero(lengths == 0))} have no values")
    seqs = [values[r, : lengths[r], None] for r in range(len(df))]
    return Labelled(
        Sequences(seqs, np.arange(len(df)), ["value"]),
        df[present].reset_index(drop=True),
        value_cols=list(cols),
    )


def _long(df, label_cols, present, id_col, time_col, value_cols, where, other) -> Labelled:
    _need(df, [id_col], "id_col", where)
    _need(df, [time_col] if time_col else [], "time_col", where)
    skip = {id_col, time_col, *label_cols, *other}
    cols = value_cols or [
        c for c in df.columns if c not in skip and pd.api.types.is_numeric_dtype(df[c])
    ]
    _need(df, cols, "value_cols", where)
    if not cols:
        raise LstmkitError(f"{where}: no numeric channel columns besides id, time and label")
    for col in [id_col] + ([time_col] if time_col else []):  # a blank id would drop its rows unseen
        if df[col].isna().any():
            row = df.index[df[col].isna().to_numpy().argmax()]
            raise LstmkitError(f"{where}: column {col!r} is empty in row {row}")
    if time_col:
        twice = df.duplicated([id_col, time_col])
        if twice.any():  # two rows for one step would make the sequence one step longer
            first = df[twice].iloc[0]
            raise LstmkitError(
                f"{where}: id {first[id_col]} has time {first[time_col]} twice; one row per id "
                "and time step"
            )
        df = df.sort_values([id_col, time_col], kind="stable")
    values = _numeric(df, cols, where)
    if np.isnan(values).any():
        row = int(np.flatnonzero(np.isnan(values).any(1))[0])
        raise LstmkitError(f"{where}: blank value in id {df[id_col].iloc[row]}; fill or drop it")
    groups = df.groupby(id_col, sort=False).indices
    ids = np.array(list(groups))
    seqs = [values[idx] for idx in groups.values()]
    if present:
        per_id = df.groupby(id_col, sort=False)[present].nunique(dropna=False)
        varying = per_id.index[(per_id > 1).any(axis=1)]
        if len(varying):
            raise LstmkitError(
                f"{where}: the label changes within id {varying[0]}; one label per sequence"
            )
        labels = df.groupby(id_col, sort=False)[present].first().reset_index(drop=True)
    else:
        labels = pd.DataFrame(index=range(len(ids)))
    return Labelled(Sequences(seqs, ids, list(cols)), labels)


def encode_labels(labels: pd.DataFrame, classes: list | None, where: str = "--data"):
    """Raw label column(s) -> targets.

    One column: (N,) int64 class indices, classes sorted (or the given ones; unseen -> error).
    Several: (N, K) float32 of 0/1 with NaN where a label is missing.
    Returns (targets, classes).
    """
    if labels.shape[1] == 1:
        col = labels.columns[0]
        raw = labels[col]
        if raw.isna().any():
            raise LstmkitError(
                f"{where}: column {col!r} has blank labels in rows "
                f"{_rows(np.flatnonzero(raw.isna()))}"
            )
        if classes is None:
            classes = sorted(raw.unique().tolist(), key=lambda v: (str(type(v)), v))
            if len(classes) < 2:
                raise LstmkitError(
                    f"{where}: column {col!r} has a single class {classes[0]!r}; need at least two"
                )
        index = {c: k for k, c in enumerate(classes)}
        unseen = sorted({str(v) for v in raw if v not in index})
        if unseen:
            raise LstmkitError(
                f"{where}: column {col!r} has classes {', '.join(unseen)} not seen in training "
                f"(known: {', '.join(map(str, classes))})"
            )
        return np.array([index[v] for v in raw], dtype=np.int64), list(classes)
    y = labels.apply(pd.to_numeric, errors="coerce").to_numpy(np.float32)
    bad = ~np.isnan(y) & (y != 0) & (y != 1)
    bad |= np.isnan(y) & labels.notna().to_numpy()
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise LstmkitError(
            f"{where}: multi-label column {labels.columns[c]!r} row {r}: expected 0, 1 or blank"
        )
    for k, col in enumerate(labels.columns):
        seen = y[~np.isnan(y[:, k]), k]
        if classes is None and len(np.unique(seen)) < 2:
            raise LstmkitError(f"{where}: label column {col!r} has a single class; need 0s and 1s")
    return y, list(labels.columns)


def pad(values: list[np.ndarray], length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad sequences (L_i, ...) with zeros to (N, L, ...); returns the array and the lengths.
    Padding is never read as data: the classifier masks it (models.ClassifierNet)."""
    lengths = np.array([len(v) for v in values], dtype=np.int64)
    L = int(length or lengths.max())
    out = np.zeros((len(values), L, *values[0].shape[1:]), dtype=values[0].dtype)
    for k, v in enumerate(values):
        out[k, : min(len(v), L)] = v[:L]
    return out, np.minimum(lengths, L)


def stratified_split(
    y: np.ndarray, fractions: tuple[float, ...], seed: int, groups: np.ndarray | None = None
) -> list[np.ndarray]:
    """Row indices for each fraction (e.g. (0.1, 0.2) -> validation, test), the rest last (train),
    drawn per class so each part keeps the class balance; every class with at least as many rows
    as parts puts one row in each. Multi-label y (N, K) is stratified on its first label.

    groups: one value per row; rows sharing a value go to the same part (a patient's recordings,
    one molecule written twice), so nothing is learned from a row whose twin is scored. Whole
    groups are drawn, stratified by their first row's class, until each part has its share of
    rows. Without groups every row is its own group: the same draw as row by row."""
    strata = y[:, 0] if y.ndim == 2 else y
    strata = np.where(np.isnan(strata), -1, strata) if strata.dtype.kind == "f" else strata
    if groups is None:
        unit, first = np.arange(len(strata)), np.arange(len(strata))
    else:
        # numbered by first appearance
        unit = pd.factorize(pd.Series(groups).astype(str), sort=False)[0]
        first = np.unique(unit, return_index=True)[1]
    # rows per group
    members = np.split(np.argsort(unit, kind="stable"), np.cumsum(np.bincount(unit))[:-1])
    sizes = np.array([len(m) for m in members])
    rng = np.random.default_rng(seed)
    parts: list[list[int]] = [[] for _ in range(len(fractions) + 1)]
    for cls in np.unique(strata[first]):
        units = rng.permutation(np.flatnonzero(strata[first] == cls))
        rows_in_class, start = sizes[units].sum(), 0
        for k, frac in enumerate(fractions):
            take = round(frac * rows_in_class)
            if len(units) > len(fractions):
                take = max(take, 1)
            # the fewest whole groups that hold `take` rows (with single rows: exactly `take` of
            # them)
            count = int(np.searchsorted(np.cumsum(sizes[units[start:]]), take)) + 1 if take else 0
            count = min(count, len(units) - start)
            for u in units[start : start + count]:
                parts[k].extend(members[u])
            start += count
        for u in units[start:]:
            parts[-1].extend(members[u])
    return [np.sort(np.array(p, dtype=np.int64)) for p in parts]
