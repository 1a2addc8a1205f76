"""data/shards.py: which process reads which series, and that it reads exactly their rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstmkit.config import SettingError
from lstmkit.data import shards
from lstmkit.data.shards import assign, read_shard, series_counts


def _table(lengths: dict[str, int]) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    parts = []
    for name, n in lengths.items():
        t = pd.date_range("2024-01-01", periods=n, freq="h")
        parts.append(pd.DataFrame({"when": t.astype(str), "id": name, "y": rng.normal(size=n)}))
    return pd.concat(parts, ignore_index=True)


LENGTHS = {"a": 50, "b": 45, "c": 12, "d": 11, "e": 3}


def test_assign_gives_the_longest_series_first_to_the_lightest_share():
    # by hand: a->0 (50), b->1 (45), c->1 (57), d->0 (61), e->1 (60)
    assert assign(LENGTHS, 2) == {"a": 0, "b": 1, "c": 1, "d": 0, "e": 1}
    # every process computes the same from the same counts, whatever their order
    assert assign(dict(reversed(LENGTHS.items())), 2) == assign(LENGTHS, 2)


@pytest.mark.parametrize("parts", [1, 2, 3])
def test_the_shares_of_a_csv_are_the_table_split_by_series(tmp_path, monkeypatch, parts):
    monkeypatch.setattr(shards, "CSV_BLOCK", 7)  # many blocks: the filter runs per block
    df = _table(LENGTHS)
    path = tmp_path / "long.csv"
    df.to_csv(path, index=False)
    assert series_counts(path, "id") == LENGTHS
    seen = []
    for part in range(parts):
        share, owners = read_shard(path, "id", part, parts)
        mine = {k for k, v in owners.items() if v == part}
        assert set(share["id"]) == mine
        expected = df[df["id"].isin(mine)].reset_index(drop=True)
        pd.testing.assert_frame_equal(share.reset_index(drop=True), expected)
        seen.append(share)
    assert sum(len(s) for s in seen) == len(df)


def test_a_parquet_file_and_a_dataset_partitioned_by_series_are_read_by_filter(tmp_path):
    df = _table(LENGTHS)
    df.to_parquet(tmp_path / "long.parquet")
    df.to_parquet(tmp_path / "by_series", partition_cols=["id"])
    for source in (tmp_path / "long.parquet", tmp_path / "by_series"):
        share, owners = read_shard(source, "id", 1, 2)
        mine = sorted(k for k, v in owners.items() if v == 1)
        got = share.assign(id=share["id"].astype(str)).sort_values(["id", "when"])
        want = df[df["id"].isin(mine)].sort_values(["id", "when"])
        assert list(got["id"]) == list(want["id"])
        np.testing.assert_array_equal(got["y"].to_numpy(), want["y"].to_numpy())


def test_a_dataframe_is_shared_out_in_memory():
    df = _table(LENGTHS)
    share, owners = read_shard(df, "id", 0, 2)
    assert set(share["id"]) == {k for k, v in owners.items() if v == 0} == {"a", "d"}


@pytest.mark.parametrize(
    ("series", "parts", "field", "words"),
    [
        (None, 2, "series", "name the series column"),
        ("nope", 2, "series", "no column 'nope'"),
        ("id", 6, "nproc", "6 processes but the data hold 5 series"),
    ],
)
def test_what_cannot_be_shared_out_is_refused_in_one_line(tmp_path, series, parts, field, words):
    path = tmp_path / "long.csv"
    _table(LENGTHS).to_csv(path, index=False)
    with pytest.raises(SettingError) as err:
        read_shard(path, series, 0, parts)
    assert err.value.field == field and words in str(err.value) and "\n" not in str(err.value)
